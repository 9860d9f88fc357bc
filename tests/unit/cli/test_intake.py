"""Intake: what the CLI sends to IngestQueue, and what it refuses before the queue."""

from __future__ import annotations

from typing import Any

import pytest

from newsflow.urls import article_id_for, canonicalize_url
from newsflow_cli.intake import article_id_of, check_line, push, read_lines


class FakeSqs:
    """Records batches; refuses bodies listed in ``refuse``."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.sent: list[str] = []
        self.refuse = refuse or set()

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        ok, failed = [], []
        for entry in kwargs["Entries"]:
            if entry["MessageBody"] in self.refuse:
                failed.append({"Id": entry["Id"], "Code": "Refused", "Message": "too big"})
            else:
                self.sent.append(entry["MessageBody"])
                ok.append({"Id": entry["Id"], "MessageId": f"m{len(self.sent)}"})
        return {"Successful": ok, "Failed": failed}


def test_blank_lines_are_skipped_and_others_kept_as_given() -> None:
    # GIVEN file content with blank lines and CRLF endings
    lines = read_lines(["https://a.example/x\r\n", "\n", "   \n", " not a url \n"])
    # THEN only non-blank lines remain, without their line endings
    assert lines == ["https://a.example/x", " not a url "]


def test_a_line_that_is_not_a_url_is_rejected_with_the_pipeline_reason() -> None:
    # GIVEN a line of prose / WHEN it is checked
    checked = check_line("see you at the harbour")
    # THEN it is refused as invalid_url and still has an identity
    assert (checked.accepted, checked.reason) == (False, "invalid_url")
    assert checked.article_id is not None and len(checked.article_id) == 32


def test_only_valid_urls_reach_the_queue() -> None:
    # GIVEN one URL with tracking parameters and one bad line
    sqs = FakeSqs()
    # WHEN they are pushed
    checked = push(sqs, "q", ["https://News.example/a?utm_source=x", "ftp://files.example/b"])
    # THEN only the URL was sent, and its identity is the canonical URL's
    assert sqs.sent == ["https://News.example/a?utm_source=x"]
    assert checked[0].canonical_url == "https://news.example/a"
    assert checked[0].message_id == "m1"
    assert checked[1].reason == "invalid_url"


def test_more_than_ten_urls_go_in_several_batches() -> None:
    # GIVEN 23 URLs
    urls = [f"https://news.example/{i}" for i in range(23)]
    sqs = FakeSqs()
    # WHEN they are pushed
    checked = push(sqs, "q", urls)
    # THEN all were sent and each has its own message id
    assert sqs.sent == urls
    assert len({c.message_id for c in checked}) == 23


def test_a_message_the_queue_refuses_is_reported() -> None:
    # GIVEN a queue that refuses one body
    sqs = FakeSqs(refuse={"https://news.example/big"})
    # WHEN it is pushed
    checked = push(sqs, "q", ["https://news.example/big"])
    # THEN the line is not accepted and says why
    assert (checked[0].accepted, checked[0].reason) == (False, "queue_refused")


@pytest.mark.parametrize(
    "reference",
    ["https://www.example.com/a?utm_medium=mail", "https://WWW.example.com/a#top"],
)
def test_urls_find_the_article_of_their_canonical_form(reference: str) -> None:
    # GIVEN differently spelled URLs of one article / WHEN looked up
    # THEN they give the canonical URL's id
    assert article_id_of(reference) == article_id_for(canonicalize_url("https://www.example.com/a"))


def test_an_article_id_is_taken_as_it_is() -> None:
    # GIVEN a 32-hex-digit id / WHEN looked up / THEN it is unchanged
    assert article_id_of("0123456789abcdef0123456789abcdef") == "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("http://2130706433/", "unusual spelling"),
        ("http://0x7f.1/", "unusual spelling"),
        ("http://[fe80::1%25eth0]/", "zone identifiers"),
        ("http://user:pw@example.com/", "credentials"),
        ("http://example.com:99999/", "out of range"),
    ],
)
def test_urls_the_fetcher_would_refuse_never_reach_the_queue(line: str, says: str) -> None:
    # GIVEN a URL the fetcher would refuse by its form alone
    sqs = FakeSqs()
    # WHEN it is pushed
    [checked] = push(sqs, "q", [line])
    # THEN nothing is queued and it is rejected as invalid_url, saying why
    assert sqs.sent == []
    assert (checked.accepted, checked.reason) == (False, "invalid_url")
    assert checked.detail is not None and says in checked.detail


def test_respellings_of_a_url_are_one_article_at_intake() -> None:
    # GIVEN two spellings differing in percent-case, escaped unreserved characters and dots
    first = check_line("https://news.example/a/%7Eed/story")
    second = check_line("https://news.example/a/./b/../%7eed/st%6Fry")
    # THEN both are accepted as the same canonical URL and article
    assert first.canonical_url == second.canonical_url == "https://news.example/a/~ed/story"
    assert first.article_id == second.article_id
