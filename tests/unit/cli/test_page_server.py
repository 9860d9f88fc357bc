"""The sample page server: pages, and the routes that make the demo's failure cases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3

from newsflow_cli.page_server import PageServer


@pytest.fixture
def site(tmp_path: Path) -> Iterator[PageServer]:
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "story.html").write_text("<html><p>story</p></html>", encoding="utf-8")
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4 tiny")
    (tmp_path.parent / "secret.txt").write_text("outside the root", encoding="utf-8")
    server = PageServer(root=tmp_path)
    server.redirects = {"/old": "/news/story.html"}
    server.unavailable = {"/busy"}
    with server:
        yield server


def _get(url: str) -> urllib3.BaseHTTPResponse:
    return urllib3.request("GET", url, redirect=False, retries=False, timeout=5)


def test_a_page_is_served_as_html(site: PageServer) -> None:
    # GIVEN a page file / WHEN it is requested
    response = _get(site.url("/news/story.html"))
    # THEN it comes back as HTML with its bytes
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.data == b"<html><p>story</p></html>"


def test_an_old_address_redirects_permanently(site: PageServer) -> None:
    # GIVEN a redirect route / WHEN it is requested
    response = _get(site.url("/old"))
    # THEN it answers 301 to the new address
    assert (response.status, response.headers["Location"]) == (301, "/news/story.html")


def test_a_pdf_is_served_as_pdf(site: PageServer) -> None:
    # GIVEN a PDF file / WHEN it is requested
    response = _get(site.url("/report.pdf"))
    # THEN its content type says so (the fetcher must refuse it as not HTML)
    assert response.headers["Content-Type"] == "application/pdf"


def test_an_unknown_path_is_404(site: PageServer) -> None:
    # GIVEN no such file / WHEN it is requested / THEN 404
    assert _get(site.url("/news/gone.html")).status == 404


def test_an_unavailable_path_answers_503_until_it_recovers(site: PageServer) -> None:
    # GIVEN a path marked unavailable
    first = _get(site.url("/busy?x=1"))
    # WHEN it is made available again (and has no file behind it)
    site.unavailable.discard("/busy")
    second = _get(site.url("/busy?x=1"))
    # THEN it answered 503 first, then the normal route, and both requests were counted
    assert (first.status, second.status) == (503, 404)
    assert site.hits["/busy?x=1"] == 2


def test_paths_cannot_escape_the_page_folder(site: PageServer) -> None:
    # GIVEN a file next to (not inside) the page folder
    # WHEN a request climbs out with ..
    response = _get(site.url("/../secret.txt"))
    # THEN it is not served
    assert response.status == 404


def test_the_bundled_sample_list_points_at_this_server() -> None:
    # GIVEN the bundled sample pages
    with PageServer() as server:
        urls = server.sample_urls()
        statuses = [_get(url).status for url in urls]
    # THEN every sample URL is on this server and the list mixes pages and failure cases
    assert all(url.startswith(server.base_url) for url in urls)
    assert statuses.count(200) >= 6
    assert {301, 404, 503} <= set(statuses)
