"""How the fetcher reads what a (misbehaving) server sends back."""

from __future__ import annotations

import socket
from urllib.parse import quote

import pytest

from newsflow.errors import PermanentError, Reason, Stage, TransientError
from newsflow.fetching import ACCEPT, ACCEPT_ENCODING, FetchedPage, SafeFetcher
from newsflow.settings import FetchPolicy


def _fetcher(**overrides: object) -> SafeFetcher:
    policy = FetchPolicy.model_validate(
        {"allow_loopback": True, "timeout_seconds": 3.0, **overrides}
    )
    return SafeFetcher(policy)


def _fetch(server, path: str, **overrides: object) -> FetchedPage:
    return _fetcher(**overrides).fetch(server.url(path))


def test_good_page_is_returned_with_its_metadata(hostile_server) -> None:
    # GIVEN a server with an ordinary HTML page
    url = hostile_server.url("/page")
    # WHEN fetched
    page = _fetcher().fetch(url)
    # THEN the body, status, media type and charset come back, with no redirects
    assert page.body == hostile_server.page_html
    assert page.status == 200
    assert page.content_type == "text/html"
    assert page.charset == "utf-8"
    assert page.requested_url == url
    assert page.final_url == url
    assert page.redirects == ()


def test_request_carries_honest_headers(hostile_server) -> None:
    # GIVEN a policy with its own user agent
    fetcher = _fetcher(user_agent="newsflow-test/1.0 (+contact)")
    # WHEN a page is fetched
    fetcher.fetch(hostile_server.url("/page"))
    # THEN the server saw that user agent, HTML-only Accept and only decodable encodings
    headers = hostile_server.requests[0].headers
    assert headers["user-agent"] == "newsflow-test/1.0 (+contact)"
    assert headers["accept"] == ACCEPT
    assert headers["accept-encoding"] == ACCEPT_ENCODING == "gzip, deflate"
    assert headers["host"] == f"127.0.0.1:{hostile_server.port}"


def test_gzip_body_is_decoded(hostile_server) -> None:
    # GIVEN a page served gzip-encoded WHEN fetched THEN the body is the decoded HTML
    assert _fetch(hostile_server, "/gzip-page").body == hostile_server.page_html


def test_non_ascii_path_is_percent_encoded(hostile_server) -> None:
    # GIVEN a URL with non-ASCII characters in its path and query
    # WHEN fetched (404 here: the route does not exist)
    with pytest.raises(PermanentError):
        _fetch(hostile_server, "/caf\u00e9?q=cr\u00e8me")
    # THEN the request line carried them percent-encoded as UTF-8
    assert hostile_server.paths() == ["/caf%C3%A9?q=cr%C3%A8me"]


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("text/html; charset=no-such-charset", None),
        ("text/html", None),
        ('text/html; charset="ISO-8859-1"', "iso-8859-1"),
        ("TEXT/HTML;CHARSET=Windows-1252", "windows-1252"),
    ],
)
def test_charset_is_reported_only_when_known(
    hostile_server, content_type: str, charset: str | None
) -> None:
    # GIVEN a page whose Content-Type has a valid, a missing or an unknown charset
    # WHEN fetched
    page = _fetch(hostile_server, f"/content-type?ct={quote(content_type)}")
    # THEN a known charset is reported lower-cased and an unknown one is dropped, so the
    # parser sniffs the document instead of failing on a bogus codec name
    assert page.content_type == "text/html"
    assert page.charset == charset


def test_xhtml_is_accepted(hostile_server) -> None:
    # GIVEN a page served as application/xhtml+xml WHEN fetched THEN it is accepted
    page = _fetch(hostile_server, "/content-type?ct=" + quote("application/xhtml+xml"))
    assert page.content_type == "application/xhtml+xml"


@pytest.mark.parametrize(
    "content_type", ["application/pdf", "image/png", "application/json", "text/plain"]
)
def test_non_html_content_types_are_refused(hostile_server, content_type: str) -> None:
    # GIVEN a response declared as something other than HTML WHEN fetched
    with pytest.raises(PermanentError) as caught:
        _fetch(hostile_server, f"/content-type?ct={quote(content_type)}")
    # THEN it fails permanently as not HTML, naming the type
    assert caught.value.reason is Reason.NOT_HTML
    assert caught.value.detail == f"content type {content_type} is not HTML"


def test_missing_content_type_with_html_body_is_sniffed_as_html(hostile_server) -> None:
    # GIVEN an HTML document served without a Content-Type
    # WHEN fetched THEN it is recognised as text/html
    page = _fetch(hostile_server, "/no-content-type")
    assert page.content_type == "text/html"
    assert page.body == hostile_server.page_html


def test_missing_content_type_with_other_body_is_refused(hostile_server) -> None:
    # GIVEN plain words served without a Content-Type WHEN fetched THEN it is not HTML
    with pytest.raises(PermanentError) as caught:
        _fetch(hostile_server, "/no-content-type-text")
    assert caught.value.reason is Reason.NOT_HTML
    assert "does not look like HTML" in caught.value.detail


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/binary-as-html", "NUL bytes"),
        ("/controls-as-html", "control characters"),
        ("/pdf-as-html", "a PDF document"),
    ],
)
def test_binary_served_as_html_is_refused(hostile_server, path: str, words: str) -> None:
    # GIVEN binary data labelled text/html WHEN fetched
    with pytest.raises(PermanentError) as caught:
        _fetch(hostile_server, path)
    # THEN it is refused as not HTML, saying what gave it away
    assert caught.value.reason is Reason.NOT_HTML
    assert words in caught.value.detail


def test_utf16_html_is_not_mistaken_for_binary(hostile_server) -> None:
    # GIVEN an HTML page encoded as UTF-16 (full of NUL bytes, yet text)
    # WHEN fetched THEN it is accepted with its charset
    page = _fetch(hostile_server, "/utf16")
    assert page.charset == "utf-16"
    assert page.body.decode("utf-16") == hostile_server.page_html.decode()


def test_empty_200_is_returned_for_the_parser_to_judge(hostile_server) -> None:
    # GIVEN a 200 text/html response with an empty body
    # WHEN fetched THEN it is returned as is
    page = _fetch(hostile_server, "/empty")
    assert page.status == 200
    assert page.body == b""


@pytest.mark.parametrize("code", [400, 401, 403, 404, 410, 451])
def test_client_errors_are_permanent(hostile_server, code: int) -> None:
    # GIVEN a server answering with a 4xx status (other than 408/429)
    with pytest.raises(PermanentError) as caught:
        _fetch(hostile_server, f"/status?code={code}")
    # THEN the failure is permanent and carries the status
    assert caught.value.reason is Reason.HTTP_ERROR
    assert caught.value.http_status == code
    assert caught.value.stage is Stage.FETCH
    assert caught.value.detail.startswith(f"the server answered {code}")


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504])
def test_server_errors_and_throttling_are_transient(hostile_server, code: int) -> None:
    # GIVEN a server answering 5xx, 408 or 429 WHEN fetched
    with pytest.raises(TransientError) as caught:
        _fetch(hostile_server, f"/status?code={code}")
    # THEN the failure is transient (SQS retries) and carries the status
    assert caught.value.reason is Reason.HTTP_ERROR
    assert caught.value.http_status == code


def test_too_many_response_headers_fail_permanently(hostile_server) -> None:
    # GIVEN a server sending 150 response headers WHEN fetched
    with pytest.raises(PermanentError) as caught:
        _fetch(hostile_server, "/many-headers")
    # THEN it is a permanent HTTP error with a readable reason
    assert caught.value.reason is Reason.HTTP_ERROR
    assert "more than 100 headers" in caught.value.detail


def test_huge_response_header_line_fails_permanently(hostile_server) -> None:
    # GIVEN a server sending a 70,000-byte header line WHEN fetched
    with pytest.raises(PermanentError) as caught:
        _fetch(hostile_server, "/long-header")
    # THEN it is a permanent HTTP error naming the limit
    assert caught.value.reason is Reason.HTTP_ERROR
    assert caught.value.detail == "a response header line exceeds 65,536 bytes"


def test_unrequested_content_encoding_is_refused(hostile_server) -> None:
    # GIVEN a server that answers with brotli although only gzip/deflate were offered
    with pytest.raises(PermanentError) as caught:
        _fetch(hostile_server, "/brotli")
    # THEN the body is not passed on undecoded
    assert caught.value.reason is Reason.HTTP_ERROR
    assert "unsupported Content-Encoding br" in caught.value.detail


def test_corrupt_gzip_fails_permanently(hostile_server) -> None:
    # GIVEN a body that claims gzip but is not WHEN fetched THEN it fails permanently
    with pytest.raises(PermanentError) as caught:
        _fetch(hostile_server, "/bad-gzip")
    assert caught.value.reason is Reason.HTTP_ERROR
    assert "could not be decompressed" in caught.value.detail


def test_connection_refused_is_transient(hostile_server) -> None:
    # GIVEN a loopback port where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # WHEN fetched
    with pytest.raises(TransientError) as caught:
        _fetcher().fetch(f"http://127.0.0.1:{port}/")
    # THEN it is a transient connection error saying the connection was refused
    assert caught.value.reason is Reason.CONNECTION_ERROR
    assert caught.value.detail == (
        f"could not connect to 127.0.0.1: 127.0.0.1:{port} refused the connection"
    )


def test_connection_reset_without_reply_is_transient(hostile_server) -> None:
    # GIVEN a server that resets the connection instead of replying WHEN fetched
    with pytest.raises(TransientError) as caught:
        _fetch(hostile_server, "/reset")
    # THEN it is a transient connection error
    assert caught.value.reason is Reason.CONNECTION_ERROR


def test_body_cut_short_is_transient(hostile_server) -> None:
    # GIVEN a server that promises 5,000 bytes and closes after a few
    with pytest.raises(TransientError) as caught:
        _fetch(hostile_server, "/cut-body")
    # THEN it is a transient connection error, not a truncated page
    assert caught.value.reason is Reason.CONNECTION_ERROR
    assert "broke after" in caught.value.detail
