"""Comprehend backend against botocore's Stubber and an in-process service double.

moto does not implement the batch Comprehend calls, so responses are either queued on a
``Stubber`` (fixed sequences, exact request checks) or computed from the request by
:class:`ComprehendDouble` (for long texts whose chunking the test should not re-derive).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from newsflow.enrichment.comprehend import ComprehendEnricher
from newsflow.errors import PermanentError, Reason, Stage, TransientError

POSITIVE = {"Positive": 0.91, "Negative": 0.02, "Neutral": 0.06, "Mixed": 0.01}
NEGATIVE = {"Positive": 0.03, "Negative": 0.88, "Neutral": 0.08, "Mixed": 0.01}
NEUTRAL = {"Positive": 0.04, "Negative": 0.03, "Neutral": 0.92, "Mixed": 0.01}


class ComprehendDouble:
    """Answers BatchDetectEntities/BatchDetectSentiment from the TextList actually sent.

    Entities: every occurrence of a known name, offsets in code points (as documented) or, with
    ``utf16_offsets``, in UTF-16 units. Sentiment: POSITIVE if a document contains "great",
    NEGATIVE if it contains "terrible", NEUTRAL otherwise.
    """

    def __init__(self, client: Any, names: dict[str, str], *, utf16_offsets: bool = False) -> None:
        self.names = names
        self.utf16_offsets = utf16_offsets
        self.calls: list[tuple[str, list[str], str]] = []
        self.fail_with: Exception | None = None
        client.meta.events.register("before-parameter-build.comprehend.*", self._record)
        client.meta.events.register_first("before-call.comprehend.*", self._answer)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, list(params["TextList"]), params["LanguageCode"]))

    def _answer(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        if self.fail_with is not None:
            raise self.fail_with
        operation, texts, _language = self.calls[-1]
        build: Callable[[str], dict[str, Any]] = (
            self._entities if operation == "BatchDetectEntities" else self._sentiment
        )
        results = [{"Index": i, **build(doc)} for i, doc in enumerate(texts)]
        return AWSResponse("", 200, HTTPHeaders(), None), {"ResultList": results, "ErrorList": []}

    def _offset(self, doc: str, index: int) -> int:
        if self.utf16_offsets:
            return len(doc[:index].encode("utf-16-le")) // 2
        return index

    def _entities(self, doc: str) -> dict[str, Any]:
        found = []
        for name, kind in self.names.items():
            start = doc.find(name)
            while start != -1:
                found.append(
                    {
                        "Score": 0.99,
                        "Type": kind,
                        "Text": name,
                        "BeginOffset": self._offset(doc, start),
                        "EndOffset": self._offset(doc, start + len(name)),
                    }
                )
                start = doc.find(name, start + 1)
        return {"Entities": found}

    def _sentiment(self, doc: str) -> dict[str, Any]:
        if "great" in doc:
            return {"Sentiment": "POSITIVE", "SentimentScore": POSITIVE}
        if "terrible" in doc:
            return {"Sentiment": "NEGATIVE", "SentimentScore": NEGATIVE}
        return {"Sentiment": "NEUTRAL", "SentimentScore": NEUTRAL}


def entity(text: str, kind: str, begin: int) -> dict[str, Any]:
    return {
        "Score": 0.98,
        "Type": kind,
        "Text": text,
        "BeginOffset": begin,
        "EndOffset": begin + len(text),
    }


MULTIBYTE_TEXT = " ".join(
    [
        "Jürgen Müller 😀 met Acme in 東京 and said it was great.",
        "Die Straßenbahn in Köln 🚋 fuhr pünktlich, sagte Jürgen Müller.",
        "東京の駅で Acme の新製品が発表された。",
        "Fans 🎉🎉 thought the terrible delay at Acme was 😡 unacceptable.",
    ]
    * 90
)
NAMES = {"Jürgen Müller": "PERSON", "Acme": "ORGANIZATION", "東京": "LOCATION", "Köln": "LOCATION"}


def test_multibyte_text_is_chunked_within_limits_and_every_mention_maps_back(client: Any) -> None:
    # GIVEN a ~20 KB text mixing umlauts, CJK and emoji, and a service double
    double = ComprehendDouble(client, NAMES)
    assert len(MULTIBYTE_TEXT.encode("utf-8")) > 4 * 4999
    # WHEN enriched
    result = ComprehendEnricher(client).enrich(MULTIBYTE_TEXT, language="en")
    # THEN every call holds at most 25 documents of at most 4,999 bytes
    assert {name for name, _, _ in double.calls} == {"BatchDetectEntities", "BatchDetectSentiment"}
    for _name, texts, language in double.calls:
        assert language == "en"
        assert 1 <= len(texts) <= 25
        assert all(1 <= len(t.encode("utf-8")) <= 4999 for t in texts)
    # AND every mention points exactly at its text in the original, none lost or doubled
    by_name = {e.text: e for e in result.entities}
    for name in NAMES:
        assert by_name[name].count == MULTIBYTE_TEXT.count(name)
        for m in by_name[name].mentions:
            assert MULTIBYTE_TEXT[m.start : m.end] == m.text == name


def sentiment_response(count: int) -> dict[str, Any]:
    return {
        "ResultList": [
            {"Index": i, "Sentiment": "NEUTRAL", "SentimentScore": NEUTRAL} for i in range(count)
        ],
        "ErrorList": [],
    }


@pytest.mark.parametrize(
    ("tail", "expected_documents"),
    [("a.", 1), ("ab.", 2)],
    ids=["exactly-4999-bytes", "one-byte-over"],
)
def test_chunk_is_split_only_when_it_passes_the_4999_byte_limit(
    client: Any, stubber: Stubber, tail: str, expected_documents: int
) -> None:
    # GIVEN two sentences of umlauts and of CJK + emoji whose join is 4,999 or 5,000 bytes
    first = "Ü" * 1249 + "."  # 2 bytes each: 2,499 bytes
    second = "東" * 831 + "😀" + tail  # 3 bytes each, 4 for the emoji: 2,499 or 2,500 bytes
    text = f"{first} {second}"
    assert len(text.encode("utf-8")) == 4997 + len(tail)
    documents = [text] if expected_documents == 1 else [first, second]
    stubber.add_response(
        "batch_detect_entities",
        {
            "ResultList": [{"Index": i, "Entities": []} for i in range(len(documents))],
            "ErrorList": [],
        },
        {"TextList": documents, "LanguageCode": "en"},
    )
    stubber.add_response(
        "batch_detect_sentiment",
        sentiment_response(len(documents)),
        {"TextList": documents, "LanguageCode": "en"},
    )
    # WHEN enriched with sentiment chunks as large as entity chunks
    ComprehendEnricher(client, sentiment_chunk_chars=5000).enrich(text, language="en")
    # THEN the text went out whole at 4,999 bytes and as two sentences at 5,000
    # (the stubber checks the exact TextList of each call)


def test_offsets_counted_in_utf16_units_are_still_mapped_to_the_right_characters(
    client: Any,
) -> None:
    # GIVEN a service double that counts emoji as two units (UTF-16) before each name
    ComprehendDouble(client, NAMES, utf16_offsets=True)
    text = "😀😀😀 Acme opened in 東京. 🎉 Jürgen Müller was there 🎉🎉 with Acme."
    # WHEN enriched
    result = ComprehendEnricher(client).enrich(text, language="en")
    # THEN the mentions are still exact
    mentions = [m for e in result.entities for m in e.mentions]
    assert sorted(m.text for m in mentions) == ["Acme", "Acme", "Jürgen Müller", "東京"]
    assert all(text[m.start : m.end] == m.text for m in mentions)


def test_more_than_25_chunks_go_out_in_batches_of_25(client: Any, stubber: Stubber) -> None:
    # GIVEN 30 sentences of 400 characters: 30 sentiment chunks (500-char limit) and
    # 3 entity chunks of 12, 12 and 6 sentences (4,999-byte limit)
    sentences = [f"Sentence {i:02d} " + "x" * 387 + "." for i in range(30)]
    assert all(len(s) == 400 for s in sentences)
    text = " ".join(sentences)
    entity_docs = [" ".join(sentences[0:12]), " ".join(sentences[12:24]), " ".join(sentences[24:])]
    stubber.add_response(
        "batch_detect_entities",
        {"ResultList": [{"Index": i, "Entities": []} for i in range(3)], "ErrorList": []},
        {"TextList": entity_docs, "LanguageCode": "en"},
    )
    for batch in (sentences[:25], sentences[25:]):
        stubber.add_response(
            "batch_detect_sentiment",
            {
                "ResultList": [
                    {"Index": i, "Sentiment": "POSITIVE", "SentimentScore": POSITIVE}
                    for i in range(len(batch))
                ],
                "ErrorList": [],
            },
            {"TextList": batch, "LanguageCode": "en"},
        )
    # WHEN enriched
    result = ComprehendEnricher(client).enrich(text, language="en")
    # THEN the stubbed calls were made in that order and the document is positive
    assert result.sentiment is not None
    assert result.sentiment.label == "POSITIVE"
    assert result.sentiment.score == pytest.approx(0.89)


def test_entity_types_are_mapped_and_dates_and_quantities_dropped(
    client: Any, stubber: Stubber
) -> None:
    # GIVEN a response with every Comprehend entity type
    text = "Acme sold the Widget Pro on Monday, 3 units, at the Summit; Dune was read in Paris."
    kinds = [
        ("Acme", "ORGANIZATION"),
        ("Widget Pro", "COMMERCIAL_ITEM"),
        ("Monday", "DATE"),
        ("3 units", "QUANTITY"),
        ("Summit", "EVENT"),
        ("Dune", "TITLE"),
        ("Paris", "LOCATION"),
    ]
    ents = [entity(surface, kind, text.index(surface)) for surface, kind in kinds]
    stubber.add_response(
        "batch_detect_entities", {"ResultList": [{"Index": 0, "Entities": ents}], "ErrorList": []}
    )
    stubber.add_response(
        "batch_detect_sentiment",
        {
            "ResultList": [{"Index": 0, "Sentiment": "NEUTRAL", "SentimentScore": NEUTRAL}],
            "ErrorList": [],
        },
    )
    # WHEN enriched
    result = ComprehendEnricher(client).enrich(text, language="en")
    # THEN types use the newsflow vocabulary and DATE/QUANTITY are gone
    assert sorted((e.text, e.type) for e in result.entities) == [
        ("Acme", "ORGANIZATION"),
        ("Dune", "WORK"),
        ("Paris", "LOCATION"),
        ("Summit", "EVENT"),
        ("Widget Pro", "PRODUCT"),
    ]


@pytest.mark.parametrize("code", ["ThrottlingException", "TooManyRequestsException"])
def test_throttling_is_transient(client: Any, stubber: Stubber, code: str) -> None:
    # GIVEN the service throttles the first call
    stubber.add_client_error("batch_detect_entities", service_error_code=code, http_status_code=400)
    # WHEN enriched / THEN a transient "throttled" error for the enrich stage is raised
    with pytest.raises(TransientError) as caught:
        ComprehendEnricher(client).enrich("Acme opened a new plant in Ohio.", language="en")
    assert caught.value.reason is Reason.THROTTLED
    assert caught.value.stage is Stage.ENRICH


@pytest.mark.parametrize(
    ("code", "status"), [("InternalServerException", 500), ("ServiceUnavailable", 503)]
)
def test_service_faults_are_transient(
    client: Any, stubber: Stubber, code: str, status: int
) -> None:
    # GIVEN the service fails with a server error
    stubber.add_client_error(
        "batch_detect_entities", service_error_code=code, http_status_code=status
    )
    # WHEN enriched / THEN a transient AWS error is raised
    with pytest.raises(TransientError) as caught:
        ComprehendEnricher(client).enrich("Acme opened a new plant in Ohio.", language="en")
    assert caught.value.reason is Reason.AWS_ERROR


def test_unreachable_endpoint_is_transient(client: Any) -> None:
    # GIVEN the endpoint cannot be reached
    double = ComprehendDouble(client, NAMES)
    double.fail_with = EndpointConnectionError(endpoint_url="https://comprehend.invalid")
    # WHEN enriched / THEN a transient AWS error is raised
    with pytest.raises(TransientError) as caught:
        ComprehendEnricher(client).enrich("Acme opened a new plant in Ohio.", language="en")
    assert caught.value.reason is Reason.AWS_ERROR


@pytest.mark.parametrize("code", ["InvalidRequestException", "TextSizeLimitExceededException"])
def test_invalid_requests_are_permanent(client: Any, stubber: Stubber, code: str) -> None:
    # GIVEN the service rejects the request itself
    stubber.add_client_error("batch_detect_entities", service_error_code=code, http_status_code=400)
    # WHEN enriched / THEN a permanent error is raised
    with pytest.raises(PermanentError) as caught:
        ComprehendEnricher(client).enrich("Acme opened a new plant in Ohio.", language="en")
    assert caught.value.reason is Reason.INVALID_DOCUMENT
    assert caught.value.stage is Stage.ENRICH


def test_a_rejected_chunk_is_skipped_and_the_rest_is_used(client: Any, stubber: Stubber) -> None:
    # GIVEN two entity chunks (small limit) of which the service rejects the second
    first, second = "Acme is great.", "Globex was terrible."
    text = f"{first} {second}"
    stubber.add_response(
        "batch_detect_entities",
        {
            "ResultList": [{"Index": 0, "Entities": [entity("Acme", "ORGANIZATION", 0)]}],
            "ErrorList": [
                {"Index": 1, "ErrorCode": "TEXT_SIZE_LIMIT_EXCEEDED", "ErrorMessage": "too big"}
            ],
        },
        {"TextList": [first, second], "LanguageCode": "en"},
    )
    stubber.add_response(
        "batch_detect_sentiment",
        {
            "ResultList": [
                {"Index": 0, "Sentiment": "POSITIVE", "SentimentScore": POSITIVE},
                {"Index": 1, "Sentiment": "NEGATIVE", "SentimentScore": NEGATIVE},
            ],
            "ErrorList": [],
        },
    )
    enricher = ComprehendEnricher(client, max_document_bytes=20, sentiment_chunk_chars=20)
    # WHEN enriched
    result = enricher.enrich(text, language="en")
    # THEN the first chunk's entity is kept with the sentiment of its own chunk
    assert [(e.text, e.mentions[0].start) for e in result.entities] == [("Acme", 0)]
    assert result.entities[0].sentiment is not None
    assert result.entities[0].sentiment.label == "POSITIVE"


def test_a_service_fault_inside_the_error_list_is_transient(client: Any, stubber: Stubber) -> None:
    # GIVEN a batch response that reports an internal error for one document
    stubber.add_response(
        "batch_detect_entities",
        {
            "ResultList": [],
            "ErrorList": [{"Index": 0, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "x"}],
        },
    )
    # WHEN enriched / THEN the record is retried (transient)
    with pytest.raises(TransientError):
        ComprehendEnricher(client).enrich("Acme opened a new plant in Ohio.", language="en")


def test_every_chunk_rejected_is_permanent(client: Any, stubber: Stubber) -> None:
    # GIVEN a batch response that rejects the only document
    stubber.add_response(
        "batch_detect_entities",
        {
            "ResultList": [],
            "ErrorList": [{"Index": 0, "ErrorCode": "INVALID_REQUEST", "ErrorMessage": "bad"}],
        },
    )
    # WHEN enriched / THEN the document fails permanently
    with pytest.raises(PermanentError) as caught:
        ComprehendEnricher(client).enrich("Acme opened a new plant in Ohio.", language="en")
    assert caught.value.reason is Reason.INVALID_DOCUMENT


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Acme opened a new plant in Ohio.", "ru"),
        ("Президент провёл встречу с министрами в Москве и обсудил экономику страны.", None),  # noqa: RUF001
    ],
    ids=["caller-says-russian", "detected-russian"],
)
def test_unsupported_language_returns_an_empty_unsupported_result(
    client: Any, stubber: Stubber, text: str, language: str | None
) -> None:
    # GIVEN Russian (given as a hint, or detected), which Comprehend does not support
    # WHEN enriched (the stubber has no responses: any call would fail the test)
    result = ComprehendEnricher(client).enrich(text, language=language)
    # THEN nothing is returned and the result says the language is unsupported
    assert result.entities == []
    assert result.sentiment is None
    assert result.enrichment.language_supported is False
    assert result.enrichment.backend == "comprehend"


def test_traditional_chinese_is_sent_as_zh_tw(client: Any) -> None:
    # GIVEN a text tagged zh-Hant
    double = ComprehendDouble(client, {"台北": "LOCATION"})
    # WHEN enriched
    result = ComprehendEnricher(client).enrich("我今天在台北參加會議。", language="zh-Hant")
    # THEN Comprehend is asked in zh-TW and the entity is found
    assert {language for _, _, language in double.calls} == {"zh-TW"}
    assert [e.text for e in result.entities] == ["台北"]
    assert result.enrichment.language_supported is True


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_a_permanent_error(client: Any, stubber: Stubber, text: str) -> None:
    # GIVEN no text / WHEN enriched / THEN a permanent "text too short" error, no call made
    with pytest.raises(PermanentError) as caught:
        ComprehendEnricher(client).enrich(text)
    assert caught.value.reason is Reason.TEXT_TOO_SHORT
    assert caught.value.stage is Stage.ENRICH
