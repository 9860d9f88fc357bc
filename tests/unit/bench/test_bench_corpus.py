"""Reading a corpus folder: which files are pages, and which pages carry annotations."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from types import ModuleType

PAGE = b"<html><body><p>text</p></body></html>"


def _corpus_folder(root: Path) -> Path:
    folder = root / "pages"
    (folder / "html").mkdir(parents=True)
    (folder / "html" / "a.html.gz").write_bytes(gzip.compress(PAGE))
    (folder / "html" / "b.html").write_bytes(PAGE)
    (folder / "html" / "notes.txt").write_text("not a page")
    evaldata = {"https://example.org/a": {"file": "a.html", "with": ["text"], "without": ["x"]}}
    (folder / "evaldata.json").write_text(json.dumps(evaldata))
    return folder


def test_gzipped_and_plain_pages_are_read_and_other_files_skipped(
    corpus: ModuleType, tmp_path: Path
) -> None:
    # GIVEN a folder with a gzipped page, a plain page and a text file
    folder = _corpus_folder(tmp_path)
    # WHEN read
    loaded = corpus.load_corpus(folder)
    # THEN both pages are there, decompressed, and the text file is not
    assert sorted(page.name for page in loaded.pages) == ["a.html", "b.html"]
    assert all(page.html == PAGE for page in loaded.pages)


def test_annotations_attach_to_the_file_they_name(corpus: ModuleType, tmp_path: Path) -> None:
    # GIVEN evaldata naming a.html (stored as a.html.gz) and nothing for b.html
    folder = _corpus_folder(tmp_path)
    # WHEN read
    pages = {page.name: page for page in corpus.load_corpus(folder).pages}
    # THEN a.html carries its URL and snippets, b.html is measured but not scored
    assert pages["a.html"].url == "https://example.org/a"
    assert (pages["a.html"].expected, pages["a.html"].unwanted) == (["text"], ["x"])
    assert not pages["b.html"].annotated


def test_a_copy_without_the_html_ending_is_measured_not_scored(
    corpus: ModuleType, tmp_path: Path
) -> None:
    # GIVEN a second copy of an annotated page whose name lacks ".html"
    folder = _corpus_folder(tmp_path)
    (folder / "html" / "a.gz").write_bytes(gzip.compress(PAGE))
    # WHEN read
    pages = {page.name: page for page in corpus.load_corpus(folder).pages}
    # THEN it is a page of the corpus, and the annotation stays with the file it names
    assert "a" in pages and not pages["a"].annotated
    assert pages["a.html"].annotated


def test_label_is_the_folder_name_never_its_path(corpus: ModuleType, tmp_path: Path) -> None:
    # GIVEN a corpus deep in some folder WHEN read THEN its label is only the folder's name
    assert corpus.load_corpus(_corpus_folder(tmp_path)).label == "pages"
