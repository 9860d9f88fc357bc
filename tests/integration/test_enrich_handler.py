"""EnrichFunction's handler against moto: enriched JSON, ENRICHED item, entity index."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from newsflow.models import ArticleRecord, ArticleStatus, ExtractorInfo, ParsedArticle
from newsflow.storage import ArticleQueries, ArticleTable, DocumentStore
from newsflow.urls import article_id_for, canonicalize_url, domain_of

TEXT = (
    "Mayor Helen Carter said on Tuesday that the harbour bridge in Portsmouth would be a great "
    "success for the city. The Green Coast Alliance warned that the project could damage the "
    "estuary and called the plan a terrible mistake. Carter said she was delighted by the "
    "support from Atlantic Structures and the residents of Portsmouth. The Environment Agency "
    "will review the plans in March before any work begins on the riverbank."
)


def store_parsed(pipeline: Any, url: str, text: str = TEXT, language: str = "en") -> dict[str, str]:
    """Put a parsed document and its FETCHED item in place, as the fetch stage leaves them."""
    canonical = canonicalize_url(url)
    article_id = article_id_for(canonical)
    now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    document = ParsedArticle(
        url=url,
        final_url=url,
        canonical_url=canonical,
        article_id=article_id,
        domain=domain_of(canonical),
        title="Portsmouth approves new harbour bridge",
        language=language,
        text=text,
        word_count=len(text.split()),
        fetched_at=now,
        extractor=ExtractorInfo(version="test"),
    )
    documents = DocumentStore(pipeline.bucket, pipeline.s3)
    key = documents.put_document("articles", article_id, now, document)
    ArticleTable(pipeline.table, pipeline.dynamodb).save_fetched(
        ArticleRecord(
            article_id=article_id,
            url=url,
            canonical_url=canonical,
            domain=document.domain,
            status=ArticleStatus.FETCHED,
            title=document.title,
            language=language,
            article_key=key,
            created_at=now,
            updated_at=now,
        )
    )
    return {"article_id": article_id, "bucket": pipeline.bucket, "key": key}


def event_for(sample_event: Any, *bodies: dict[str, str] | str) -> dict[str, Any]:
    """The sample enrich event with its record repeated once per body."""
    template_record = sample_event("enrich_single.json")["Records"][0]
    records = []
    for index, body in enumerate(bodies):
        record = dict(template_record)
        record["messageId"] = f"{template_record['messageId'][:-2]}{index:02d}"
        record["body"] = body if isinstance(body, str) else json.dumps(body)
        records.append(record)
    return {"Records": records}


@pytest.fixture
def enrich_handler(pipeline: Any, load_function: Any) -> Any:
    return load_function("EnrichFunction", {**pipeline.enrich_env(), "ENRICH_BACKEND": "local"})


def test_enriches_stores_json_updates_item_and_indexes_entities(
    pipeline: Any, enrich_handler: Any, sample_event: Any, lambda_context: Any
) -> None:
    # GIVEN a parsed article stored by the fetch stage
    message = store_parsed(pipeline, "https://www.example.com/news/harbour-bridge")

    # WHEN the enrich handler runs on its message
    response = enrich_handler.lambda_handler(event_for(sample_event, message), lambda_context)

    # THEN nothing is retried
    assert response == {"batchItemFailures": []}
    # AND the enriched document sits beside the parsed one, with entities and sentiment
    enriched_key = message["key"].replace("articles/", "enriched/")
    assert pipeline.keys("enriched/") == [enriched_key]
    enriched = json.loads(
        pipeline.s3.get_object(Bucket=pipeline.bucket, Key=enriched_key)["Body"].read()
    )
    names = {entity["text"] for entity in enriched["entities"]}
    assert "Helen Carter" in names
    assert "Portsmouth" in names
    carter = next(e for e in enriched["entities"] if e["text"] == "Helen Carter")
    assert carter["type"] == "PERSON"
    assert carter["count"] == 2  # "Helen Carter" and "Carter"
    for mention in carter["mentions"]:
        assert TEXT[mention["start"] : mention["end"]] == mention["text"]
    assert enriched["sentiment"]["label"] in {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}
    assert enriched["enrichment"]["backend"] == "local"
    # AND the item is ENRICHED with sentiment and top entities
    table = ArticleTable(pipeline.table, pipeline.dynamodb)
    record = table.get(message["article_id"])
    assert record is not None
    assert record.status is ArticleStatus.ENRICHED
    assert record.enriched_key == enriched_key
    assert record.sentiment is not None
    assert "Helen Carter" in {entity.text for entity in record.top_entities}
    # AND "articles mentioning Helen Carter" is one query away
    [mention] = ArticleQueries(pipeline.table, pipeline.dynamodb).mentioning("helen carter")
    assert mention.article_id == message["article_id"]
    assert mention.title == "Portsmouth approves new harbour bridge"


def test_reenriching_the_same_article_converges(
    pipeline: Any, enrich_handler: Any, sample_event: Any, lambda_context: Any
) -> None:
    # GIVEN an article enriched once
    message = store_parsed(pipeline, "https://www.example.com/news/harbour-bridge")
    enrich_handler.lambda_handler(event_for(sample_event, message), lambda_context)
    first = pipeline.dynamodb.scan(TableName=pipeline.table)["Count"]

    # WHEN the same message is delivered again
    enrich_handler.lambda_handler(event_for(sample_event, message), lambda_context)

    # THEN there are no duplicate items
    assert pipeline.dynamodb.scan(TableName=pipeline.table)["Count"] == first


def test_missing_document_is_a_permanent_failure(
    pipeline: Any, enrich_handler: Any, sample_event: Any, lambda_context: Any
) -> None:
    # GIVEN an enrich message whose document was never stored (the sample event as it is)
    body = json.loads(sample_event("enrich_single.json")["Records"][0]["body"])
    body["bucket"] = pipeline.bucket

    # WHEN the handler runs
    response = enrich_handler.lambda_handler(event_for(sample_event, body), lambda_context)

    # THEN it is not retried and the article is recorded FAILED with the reason
    assert response == {"batchItemFailures": []}
    record = ArticleTable(pipeline.table, pipeline.dynamodb).get(body["article_id"])
    assert record is not None
    assert record.status is ArticleStatus.FAILED
    assert record.failure is not None
    assert record.failure.reason == "missing_document"
    assert record.failure.stage == "enrich"


def test_non_english_text_is_enriched_unanalysed_without_entities(
    pipeline: Any, enrich_handler: Any, sample_event: Any, lambda_context: Any
) -> None:
    # GIVEN a German article
    text = (
        "Der Stadtrat von Hamburg hat am Dienstag den Bau einer neuen Brücke über die Elbe "
        "beschlossen. Bürgermeisterin Helga Schmidt sprach von einem großen Erfolg für die "
        "Pendler, während Umweltverbände vor Schäden am Ufer warnten und eine Prüfung forderten."
    )
    message = store_parsed(pipeline, "https://www.example.de/hamburg/bruecke", text, "de")

    # WHEN the handler runs with the English-only local backend
    response = enrich_handler.lambda_handler(event_for(sample_event, message), lambda_context)

    # THEN it is consumed and ENRICHED without analysis (never FAILED for its language): the
    # enriched document is stored, marked language_supported false, and no entity items exist
    assert response == {"batchItemFailures": []}
    table = ArticleTable(pipeline.table, pipeline.dynamodb)
    record = table.get(message["article_id"])
    assert record is not None and record.failure is None
    assert record.status == "ENRICHED"
    assert record.language_supported is False and record.sentiment is None
    assert ArticleQueries(pipeline.table, pipeline.dynamodb).mentioning("Helga Schmidt") == []
    assert len(pipeline.keys("enriched/")) == 1


def test_tiny_text_is_a_permanent_failure(
    pipeline: Any, enrich_handler: Any, sample_event: Any, lambda_context: Any
) -> None:
    message = store_parsed(pipeline, "https://www.example.com/short", "Breaking: more soon.")
    response = enrich_handler.lambda_handler(event_for(sample_event, message), lambda_context)
    assert response == {"batchItemFailures": []}
    record = ArticleTable(pipeline.table, pipeline.dynamodb).get(message["article_id"])
    assert record is not None and record.failure is not None
    assert record.failure.reason == "text_too_short"


def test_bad_message_is_rejected_and_batch_mates_succeed(
    pipeline: Any, enrich_handler: Any, sample_event: Any, lambda_context: Any
) -> None:
    # GIVEN a batch with a malformed body next to a good message
    good = store_parsed(pipeline, "https://www.example.com/news/harbour-bridge")
    event = event_for(sample_event, "not json at all", good)

    # WHEN the handler runs
    response = enrich_handler.lambda_handler(event, lambda_context)

    # THEN neither is retried: the bad one is kept under rejected/, the good one enriched
    assert response == {"batchItemFailures": []}
    assert len(pipeline.keys("rejected/")) == 1
    record = ArticleTable(pipeline.table, pipeline.dynamodb).get(good["article_id"])
    assert record is not None and record.status is ArticleStatus.ENRICHED
