"""IngestQueue bodies: a bare URL or a JSON object; anything else is rejected once."""

from __future__ import annotations

import json

import pytest

from newsflow.errors import PermanentError, Reason, Stage
from newsflow.models import EnrichMessage, parse_ingest_body
from newsflow.urls import parse_url


def test_bare_url_body() -> None:
    message = parse_ingest_body("https://example.com/a\n")
    assert message.url == "https://example.com/a"
    assert message.force is False
    assert message.source is None
    assert message.metadata == {}


def test_json_body_with_every_field() -> None:
    body = json.dumps(
        {"url": "https://example.com/a", "source": "rss", "force": True, "metadata": {"k": "v"}}
    )
    message = parse_ingest_body(body)
    assert (message.url, message.source, message.force, message.metadata) == (
        "https://example.com/a",
        "rss",
        True,
        {"k": "v"},
    )


def test_json_string_body_is_a_url() -> None:
    assert parse_ingest_body('"https://example.com/a"').url == "https://example.com/a"


def test_prose_is_kept_as_a_url_for_the_url_rules_to_refuse() -> None:
    # GIVEN a body of prose WHEN parsed THEN it is a message whose url the URL rules will refuse
    assert parse_ingest_body("please fetch the news").url == "please fetch the news"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("http://2130706433/", "unusual spelling"),
        ('{"url": "http://0x7f.1/"}', "unusual spelling"),
        ('"http://[fe80::1%25eth0]/"', "zone identifiers"),
        ("http://user:pw@example.com/", "credentials"),
        ('{"url": "http://example.com:99999/", "source": "feed"}', "out of range"),
    ],
)
def test_a_url_the_fetcher_would_refuse_is_refused_at_intake(body: str, says: str) -> None:
    # GIVEN a well-formed message whose URL the fetcher would refuse by its form
    message = parse_ingest_body(body)
    # WHEN the URL rule judges it (as the fetch stage does before any fetch)
    with pytest.raises(PermanentError) as caught:
        parse_url(message.url)
    # THEN it is an intake failure (a FAILED article, not a rejected message), saying why
    assert caught.value.reason is Reason.INVALID_URL
    assert caught.value.stage is Stage.INTAKE
    assert says in caught.value.detail


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        (None, "empty"),
        ('{"url": ', "not valid JSON"),
        ("[1, 2]", "must be an object"),
        ("{}", "url"),
        ('{"link": "https://example.com"}', "url"),
        ('{"url": ""}', "url"),
        ('{"url": 42}', "url"),
        ('{"url": "https://example.com", "force": "maybe"}', "force"),
        ('{"url": "https://example.com", "metadata": {"k": 1}}', "metadata"),
        ('{"url": "https://example.com", "extra": 1}', "extra"),
    ],
)
def test_bodies_without_a_usable_url_are_rejected(body: str | None, says: str) -> None:
    # GIVEN a body that holds no usable URL WHEN parsed
    with pytest.raises(PermanentError) as caught:
        parse_ingest_body(body)
    # THEN it is a permanent intake failure naming the problem
    assert caught.value.reason is Reason.INVALID_MESSAGE
    assert caught.value.stage is Stage.INTAKE
    assert says in caught.value.detail


def test_oversized_metadata_is_rejected() -> None:
    body = json.dumps({"url": "https://example.com", "metadata": {"k": "v" * 5000}})
    with pytest.raises(PermanentError):
        parse_ingest_body(body)


def test_megabyte_of_unicode_junk_is_a_url_for_the_url_rules() -> None:
    # GIVEN a 1 MB body of junk WHEN parsed THEN parsing stays cheap and keeps it as the url
    junk = "\u2603\u0000\ud7ff" * 350_000
    assert parse_ingest_body(junk).url.startswith("\u2603")


def test_enrich_message_requires_hex_article_id() -> None:
    with pytest.raises(ValueError):
        EnrichMessage(article_id="../../etc", bucket="b", key="k")


# --------------------------------------------------------------------------- envelopes

TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:newsflow-articles"


def _sns_body(message: str, **changes: object) -> str:
    """An SQS body as an SNS subscription with raw message delivery off writes it."""
    notification: dict[str, object] = {
        "Type": "Notification",
        "MessageId": "b3a7c6a4-6d4e-5e0c-9f4e-0c6a6f1d2e3f",
        "TopicArn": TOPIC_ARN,
        "Subject": None,
        "Message": message,
        "Timestamp": "2026-11-30T12:00:00.123Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQ==",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0a1b2c.pem",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
        f"{TOPIC_ARN}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
        "MessageAttributes": {"producer": {"Type": "String", "Value": "cms"}},
    }
    notification.update(changes)
    return json.dumps({k: v for k, v in notification.items() if v is not ...})


def _event_body(detail: object, **changes: object) -> str:
    """An SQS body as an EventBridge rule with an SQS target writes it (no input transformer)."""
    event: dict[str, object] = {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "Article Published",
        "source": "com.example.cms",
        "account": "123456789012",
        "time": "2026-11-30T12:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }
    event.update(changes)
    return json.dumps({k: v for k, v in event.items() if v is not ...})


def test_an_sns_notification_carrying_a_bare_url() -> None:
    # GIVEN an SNS notification (raw delivery off) whose message is a URL
    # WHEN parsed THEN the message inside is the ingest message
    message = parse_ingest_body(_sns_body("https://news.example/a"))
    assert (message.url, message.force, message.source) == ("https://news.example/a", False, None)


def test_an_sns_notification_carrying_a_json_message() -> None:
    # GIVEN an SNS notification whose message is the JSON ingest message
    inner = {"url": "https://news.example/a", "source": "cms", "force": True}
    # WHEN parsed THEN every field of the inner message is kept
    message = parse_ingest_body(_sns_body(json.dumps(inner)))
    assert (message.url, message.source, message.force) == ("https://news.example/a", "cms", True)


def test_an_eventbridge_event_with_the_message_as_detail() -> None:
    # GIVEN an EventBridge event whose detail is the ingest message
    body = _event_body({"url": "https://news.example/b", "metadata": {"section": "world"}})
    # WHEN parsed THEN the detail is the message
    message = parse_ingest_body(body)
    assert (message.url, message.metadata) == ("https://news.example/b", {"section": "world"})


def test_an_eventbridge_event_with_the_url_as_detail() -> None:
    # GIVEN an event whose detail is the URL itself WHEN parsed THEN that is the URL
    assert parse_ingest_body(_event_body("https://news.example/c")).url == "https://news.example/c"


def test_an_eventbridge_event_delivered_through_sns() -> None:
    # GIVEN a rule that targets an SNS topic that feeds the queue: an event inside a notification
    body = _sns_body(_event_body({"url": "https://news.example/d"}))
    # WHEN parsed THEN both envelopes are removed
    assert parse_ingest_body(body).url == "https://news.example/d"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (_sns_body("https://news.example/a", TopicArn=...), "TopicArn"),
        (_sns_body("https://news.example/a", Timestamp="yesterday"), "Timestamp"),
        (_sns_body("https://news.example/a", Message=...), "Message"),
        (_event_body({"url": "https://news.example/b"}, account=...), "account"),
        (_event_body({"url": "https://news.example/b"}, time="not a time"), "time"),
    ],
    ids=[
        "sns-no-topic",
        "sns-bad-timestamp",
        "sns-no-message",
        "event-no-account",
        "event-bad-time",
    ],
)
def test_a_malformed_envelope_is_a_permanent_failure_that_names_it(body: str, says: str) -> None:
    # GIVEN a body that is an SNS notification or an EventBridge event with a field missing or wrong
    # WHEN parsed THEN it is rejected once, at intake, with a reason naming the envelope and field
    with pytest.raises(PermanentError) as caught:
        parse_ingest_body(body)
    error = caught.value
    assert (error.reason, error.stage, error.retryable) == (
        Reason.INVALID_MESSAGE,
        Stage.INTAKE,
        False,
    )
    assert error.detail.startswith("malformed envelope: ")
    assert says in error.detail
    assert ("SNS notification" in error.detail) != ("EventBridge event" in error.detail)


def test_an_envelope_without_a_url_inside_says_where_it_looked() -> None:
    # GIVEN a well-formed notification whose message holds no URL
    with pytest.raises(PermanentError) as caught:
        parse_ingest_body(_sns_body(json.dumps({"link": "https://news.example/a"})))
    # THEN the reason is the inner message's, found inside the notification
    assert caught.value.reason is Reason.INVALID_MESSAGE
    assert "url" in caught.value.detail
    assert caught.value.detail.endswith("(in an SNS notification)")


def test_envelopes_nested_past_any_real_chain_are_refused() -> None:
    # GIVEN three envelopes (no producer chain builds more than two)
    body = _sns_body(_sns_body(_sns_body("https://news.example/a")))
    # WHEN parsed THEN it is refused rather than unwrapped without end
    with pytest.raises(PermanentError) as caught:
        parse_ingest_body(body)
    assert "more than 2 envelopes" in caught.value.detail
