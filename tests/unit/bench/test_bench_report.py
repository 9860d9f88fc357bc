"""What the benchmark writes into the docs: its own section only, and no machine paths."""

from __future__ import annotations

from types import ModuleType


def test_generated_part_replaces_only_the_marked_section(report: ModuleType) -> None:
    # GIVEN a document with prose around an old generated section
    document = f"# Title\nintro\n{report.BEGIN}\nold numbers\n{report.END}\nafterword\n"
    generated = f"{report.BEGIN}\nnew numbers\n{report.END}\n"
    # WHEN the section is replaced
    updated = report.replace_generated(document, generated)
    # THEN the prose stays and only the numbers change
    assert updated == f"# Title\nintro\n{report.BEGIN}\nnew numbers\n{report.END}\nafterword\n"


def test_generated_part_is_appended_to_a_document_without_markers(report: ModuleType) -> None:
    # GIVEN a document without a generated section
    generated = f"{report.BEGIN}\nnumbers\n{report.END}\n"
    # WHEN replaced THEN the section is added at the end
    assert report.replace_generated("# Title\n", generated) == f"# Title\n\n{generated}"


def test_recorded_command_names_the_corpus_folder_not_its_path(runner: ModuleType) -> None:
    # GIVEN a command line with an absolute corpus path and an output folder
    argv = ["--corpus", "/srv/data/corpora/news-set", "--quick", "--out=/tmp/x"]
    # WHEN recorded for the docs
    shown = runner._command(argv)
    # THEN only the folder's name remains
    assert shown == "python -m bench.run --corpus <news-set> --quick --out"
    assert "/srv" not in shown and "/tmp" not in shown
