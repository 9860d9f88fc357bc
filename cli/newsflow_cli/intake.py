"""Turning user input into IngestQueue messages, and finding articles again by URL or id.

A line that is not a usable URL by its form (per ``newsflow.urls.parse_url``, the rule the
fetcher applies too) never reaches the queue: it is reported as rejected at intake, with the same
reason and detail the pipeline would record for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from newsflow.errors import PermanentError
from newsflow.urls import article_id_for, fallback_article_id, parse_url

_ARTICLE_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class IntakeLine:
    """One input line and what became of it before the queue."""

    line: str
    canonical_url: str | None = None
    article_id: str | None = None
    reason: str | None = None
    detail: str | None = None
    message_id: str | None = None

    @property
    def accepted(self) -> bool:
        return self.reason is None


def read_lines(lines: Iterable[str]) -> list[str]:
    """Input lines without their line endings; blank lines skipped."""
    return [line.rstrip("\r\n") for line in lines if line.strip()]


def check_line(line: str) -> IntakeLine:
    """Judge one line by the URL rule; a refusal keeps an identity so it can be reported."""
    try:
        canonical = parse_url(line).canonical()
    except PermanentError as error:
        return IntakeLine(
            line=line,
            article_id=fallback_article_id(line),
            reason=error.reason.value,
            detail=error.detail,
        )
    return IntakeLine(line=line, canonical_url=canonical, article_id=article_id_for(canonical))


def push(sqs: Any, queue_url: str, lines: Iterable[str]) -> list[IntakeLine]:
    """Check each line, send the URLs (as bare URL bodies) in batches of ten."""
    checked = [check_line(line) for line in lines]
    accepted = [item for item in checked if item.accepted]
    for start in range(0, len(accepted), 10):
        chunk = accepted[start : start + 10]
        response = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "MessageBody": item.line.strip()} for i, item in enumerate(chunk)
            ],
        )
        for sent in response.get("Successful", []):
            chunk[int(sent["Id"])].message_id = sent["MessageId"]
        for failed in response.get("Failed", []):
            item = chunk[int(failed["Id"])]
            item.reason = "queue_refused"
            item.detail = str(failed.get("Message") or failed.get("Code"))
    return checked


def article_id_of(reference: str) -> str:
    """An article id as given, or the id of a URL's canonical form."""
    text = reference.strip()
    if _ARTICLE_ID.match(text):
        return text
    return article_id_for(parse_url(text).canonical())
