"""Hostile IngestQueue bodies through the real fetch handler, each between two good batch-mates.

Every body ends as a FAILED article item with a reason a person can read, or as a clean
rejection stored under ``rejected/`` - never a crash, never a record reported for retry (a
permanent problem retried would only travel to the DLQ), never harm to its batch-mates.

The fetcher's own hostile-server tests (tests/unit/fetching/) cover the responses in depth:
gzip bombs, size caps, drips, huge headers, charsets, binary bodies, TLS, resolve-once. Here
the question is the whole handler: does each kind of bad input end cleanly and alone?
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from newsflow.storage import ArticleTable
from newsflow.urls import article_id_for, canonicalize_url

from .support import FakeDns, article_items, expected_article_id

MEGABYTE = 1024 * 1024
PUBLIC_IP = "93.184.216.34"


@dataclass
class Site:
    """The loopback page server and the fake DNS, for cases that need a route or a name."""

    server: Any
    dns: FakeDns

    def redirect(self, path: str, location: str) -> str:
        return str(self.server.add(path, b"", status=302, headers={"Location": location}))


@dataclass(frozen=True)
class Case:
    id: str
    body: Callable[[Site], str]
    reason: str
    says: str  # a fragment of the readable detail
    rejected: bool = False  # no URL at all: stored under rejected/, no article item
    stage: str | None = None  # the failure's stage, where the case is about which one


def _chain_to_metadata(site: Site) -> str:
    site.redirect("/hop-2", "http://169.254.169.254/latest/meta-data/")
    return site.redirect("/hop-1", "/hop-2")


def _private_name(site: Site) -> str:
    site.dns.table["intranet.example"] = ["10.1.2.3"]
    return "http://intranet.example/wiki/"


def _odd_port(site: Site) -> str:
    site.dns.table["news.example"] = [PUBLIC_IP]
    return "http://news.example:22/"


# No URL at all: stored under rejected/ with the reason, no article item.
NOT_A_MESSAGE = [
    Case(
        "truncated JSON",
        lambda s: '{"url": "http://news.example/a", ',
        "invalid_message",
        "JSON",
        True,
    ),
    Case("JSON without url", lambda s: '{"source": "feed-7"}', "invalid_message", "url", True),
    Case(
        "nested JSON",
        lambda s: json.dumps({"url": {"url": s.server.url("/a")}}),
        "invalid_message",
        "url",
        True,
    ),
    Case(
        "a JSON list", lambda s: json.dumps([s.server.url("/a")]), "invalid_message", "list", True
    ),
    Case(
        "unknown field",
        lambda s: json.dumps({"url": s.server.url("/a"), "exec": "rm"}),
        "invalid_message",
        "exec",
        True,
    ),
    Case(
        "lone surrogate escape",
        lambda s: '{"url": "http://news.example/\\ud800"}',
        "invalid_message",
        "url",
        True,
    ),
]

# A body that is taken as a URL and is not a usable one: a FAILED item (stage intake).
NOT_A_URL = [
    Case("a number", lambda s: "42", "invalid_url", "scheme"),
    Case("JSON null", lambda s: "null", "invalid_url", "scheme"),
    Case("1 MB of text", lambda s: "x" * MEGABYTE, "invalid_url", "longer than"),
    Case(
        "1 MB URL in JSON",
        lambda s: json.dumps({"url": "http://a.example/" + "a" * MEGABYTE}),
        "invalid_url",
        "longer than",
    ),
    Case("unicode junk", lambda s: "\u202e\u200b\U0001f4a5n\u0303\ufeff", "invalid_url", "scheme"),
    Case(
        "NUL byte",
        lambda s: json.dumps({"url": "http://news.example/\x00admin"}),
        "invalid_url",
        "control",
    ),
    Case(
        "userinfo",
        lambda s: s.server.url("/a").replace("//", "//admin:hunter2@"),
        "invalid_url",
        "credentials",
    ),
    Case(
        "IPv6 zone id",
        lambda s: "http://[fe80::1%25eth0]/",
        "invalid_url",
        "zone identifiers",
        stage="intake",
    ),
]

# A URL the fetcher must refuse before connecting anywhere: by its form already at intake (the
# same rule), by the address or port policy at fetch.
FORBIDDEN_TARGETS = [
    Case("file scheme", lambda s: "file:///etc/passwd", "invalid_url", "'file'", stage="intake"),
    Case(
        "port out of range",
        lambda s: "http://news.example:99999/",
        "invalid_url",
        "port",
        stage="intake",
    ),
    Case("odd port", _odd_port, "blocked_url", "port 22", stage="fetch"),
    Case(
        "decimal IP",
        lambda s: "http://2130706433/",
        "invalid_url",
        "unusual spelling",
        stage="intake",
    ),
    Case(
        "octal IP",
        lambda s: "http://0177.0.0.1/",
        "invalid_url",
        "unusual spelling",
        stage="intake",
    ),
    Case(
        "hex IP", lambda s: "http://0x7f.0.0.1/", "invalid_url", "unusual spelling", stage="intake"
    ),
    Case(
        "metadata service",
        lambda s: "http://169.254.169.254/latest/meta-data/",
        "blocked_url",
        "169.254.169.254",
    ),
    Case(
        "mapped metadata",
        lambda s: "http://[::ffff:a9fe:a9fe]/latest/",
        "blocked_url",
        "169.254.169.254",
    ),
]

# A URL that leads somewhere forbidden, loops, or to something that is not an article.
LEADS_ASTRAY = [
    Case("name resolving to private", _private_name, "blocked_url", "10.1.2.3"),
    Case(
        "redirect to private",
        lambda s: s.redirect("/go-private", "http://10.0.0.1/admin"),
        "blocked_url",
        "10.0.0.1",
    ),
    Case("redirect chain to metadata", _chain_to_metadata, "blocked_url", "169.254.169.254"),
    Case(
        "redirect to file",
        lambda s: s.redirect("/go-file", "file:///etc/passwd"),
        "invalid_url",
        "'file'",
        stage="fetch",
    ),
    Case(
        "endless redirects",
        lambda s: s.redirect("/loop", "/loop"),
        "too_many_redirects",
        "more than 5",
    ),
    Case(
        "a PDF",
        lambda s: s.server.add("/r.pdf", b"%PDF-1.7\n%\xe2\xe3", content_type="application/pdf"),
        "not_html",
        "application/pdf",
    ),
    Case("empty 200", lambda s: s.server.add("/empty", b""), "nothing_extracted", "empty"),
]

GROUPS = {
    "not a message": NOT_A_MESSAGE,
    "not a URL": NOT_A_URL,
    "forbidden targets": FORBIDDEN_TARGETS,
    "leads astray": LEADS_ASTRAY,
}


@pytest.fixture
def site(page_server: Any, fake_dns: FakeDns) -> Site:
    return Site(server=page_server, dns=fake_dns)


def sqs_event(sample_event: Callable[[str], dict[str, Any]], bodies: list[str]) -> dict[str, Any]:
    """The real-shaped sample record, once per body, each with its own message id."""
    template = sample_event("fetch_single.json")["Records"][0]
    records = []
    for index, body in enumerate(bodies):
        record = json.loads(json.dumps(template))
        record["messageId"] = f"{template['messageId'][:-2]}{index:02d}"
        record["body"] = body
        records.append(record)
    return {"Records": records}


def queue_depth(pipeline: Any, url: str) -> int:
    attributes = pipeline.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@dataclass(frozen=True)
class Outcome:
    rejected: bool
    reason: str
    detail: str
    stage: str | None = None

    def matches(self, case: Case) -> bool:
        return (
            self.rejected == case.rejected
            and self.reason == case.reason
            and case.says in self.detail
            and (case.stage is None or case.stage == self.stage)
        )


def outcome_of(pipeline: Any, record: dict[str, Any], rejected: dict[str, Any]) -> Outcome:
    """How one hostile record ended: its rejection, else its article item."""
    if record["messageId"] in rejected:
        stored = rejected[record["messageId"]]
        assert stored["body"] == record["body"][:262_144]
        return Outcome(True, stored["failure"]["reason"], stored["failure"]["detail"])
    item = ArticleTable(pipeline.table, pipeline.dynamodb).get(expected_article_id(record["body"]))
    if item is None or item.failure is None:
        return Outcome(False, f"no FAILED item ({item.status if item else 'no item'})", "")
    failure = item.failure
    return Outcome(False, failure.reason.value, failure.detail, failure.stage.value)


@pytest.mark.parametrize("cases", GROUPS.values(), ids=GROUPS.keys())
def test_hostile_bodies_end_cleanly_and_alone(
    pipeline: Any,
    fetch_handler: ModuleType,
    site: Site,
    sample_event: Callable[[str], dict[str, Any]],
    lambda_context: Any,
    make_article_page: Callable[..., bytes],
    cases: list[Case],
) -> None:
    # GIVEN a batch of hostile bodies between two good articles (at most ten, as SQS delivers)
    before = site.server.add("/news/before", make_article_page(title="Before"))
    after = site.server.add("/news/after", make_article_page(title="After"))
    event = sqs_event(sample_event, [before, *(case.body(site) for case in cases), after])
    assert len(event["Records"]) <= 10

    # WHEN the fetch handler runs on it
    response = fetch_handler.lambda_handler(event, lambda_context)

    # THEN nothing is reported for retry
    assert response == {"batchItemFailures": []}
    # AND both batch-mates are fetched and handed to enrichment
    articles = article_items(pipeline)
    for url in (before, after):
        assert articles[article_id_for(canonicalize_url(url))]["status"] == "FETCHED"
    assert queue_depth(pipeline, pipeline.enrich_queue_url) == 2
    # AND each hostile body ends as expected: its reason, a readable detail, recorded once
    rejected = {}
    for key in pipeline.keys("rejected/"):
        stored = json.loads(pipeline.s3.get_object(Bucket=pipeline.bucket, Key=key)["Body"].read())
        rejected[stored["message_id"]] = stored
    outcomes = {
        case.id: outcome_of(pipeline, record, rejected)
        for case, record in zip(cases, event["Records"][1:-1], strict=True)
    }
    wrong = {case.id: outcomes[case.id] for case in cases if not outcomes[case.id].matches(case)}
    assert wrong == {}
    assert len(rejected) == sum(case.rejected for case in cases)
    assert len(articles) == 2 + sum(not case.rejected for case in cases)


def test_nothing_blocked_is_ever_requested(
    pipeline: Any,
    fetch_handler: ModuleType,
    site: Site,
    sample_event: Callable[[str], dict[str, Any]],
    lambda_context: Any,
) -> None:
    # GIVEN a redirect to a private address on the loopback server
    url = site.redirect("/go", "http://10.0.0.1/admin")

    # WHEN the handler runs on it
    fetch_handler.lambda_handler(sqs_event(sample_event, [url]), lambda_context)

    # THEN only the site's robots.txt and the redirect itself were requested, and no name was
    # looked up
    assert site.server.hits == {"/robots.txt": 1, "/go": 1}
    assert site.dns.lookups == []
