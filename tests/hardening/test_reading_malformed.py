"""Reading never crashes: the read commands on malformed items and documents.

A write that failed halfway on the local stack, an older version or a hand edit leaves items
with attributes of the wrong type, entity rows that say nothing usable, and documents in S3
that are not JSON or not a document. Every read command shows what it can, or says in one line
what it cannot - never a traceback.
"""

from __future__ import annotations

from typing import Any

import pytest

from newsflow.storage import ARTICLE_SK, RETRY_SK, article_pk, entity_pk, serialize_item

WRONG_TYPES = f"{7:032x}"
BAD_DOCUMENT = f"{8:032x}"
LIST_DOCUMENT = f"{9:032x}"
MISSING_DOCUMENT = f"{10:032x}"


def put(pipeline: Any, attributes: dict[str, Any]) -> None:
    pipeline.dynamodb.put_item(TableName=pipeline.table, Item=serialize_item(attributes))


@pytest.fixture
def malformed(pipeline: Any) -> None:
    """Items and documents of every wrong shape the read side has to survive."""
    put(
        pipeline,
        {
            "pk": article_pk(WRONG_TYPES),
            "sk": ARTICLE_SK,
            "status": "BOGUS",
            "title": 42,
            "url": ["not", "a", "string"],
            "domain": "news.example.com",
            "domain_sk": f"2026-11-01#{WRONG_TYPES}",
            "created_at": 12345,
            "updated_at": "yesterday",
            "word_count": "many",
            "sentiment": ["POSITIVE"],
            "top_entities": "Bristol",
            "failure": "it broke",
            "failure_reason": "http_error",
            "failed_at": f"2026-11-02T00:00:00+00:00#{WRONG_TYPES}",
            "versions": "v1",
            "article_key": 7,
        },
    )
    put(pipeline, {"pk": article_pk(WRONG_TYPES), "sk": RETRY_SK, "failure": "x", "at": 3})
    for article_id, key, body in (
        (BAD_DOCUMENT, "articles/dt=2026-11-01/bad.json", b"{not json"),
        (LIST_DOCUMENT, "articles/dt=2026-11-01/list.json", b"[1, 2, 3]"),
        (MISSING_DOCUMENT, "articles/dt=2026-11-01/gone.json", None),
    ):
        if body is not None:
            pipeline.s3.put_object(Bucket=pipeline.bucket, Key=key, Body=body)
        put(
            pipeline,
            {
                "pk": article_pk(article_id),
                "sk": ARTICLE_SK,
                "status": "FETCHED",
                "article_key": key,
                "created_at": "2026-11-01T00:00:00+00:00",
            },
        )
    for sk, attributes in (
        (f"2026-11-01#{WRONG_TYPES}#LOCATION", {"count": "many", "salience": "high"}),
        (f"2026-11-01#{BAD_DOCUMENT}#PERSON", {"sentiment": "sad", "published": "not a date"}),
        ("garbage", {"title": ["x"], "url": 5}),
    ):
        put(pipeline, {"pk": entity_pk("Bristol"), "sk": sk, **attributes})


COMMANDS = {
    "get": ("get", WRONG_TYPES),
    "get --json-ish document": ("get", WRONG_TYPES, "--document"),
    "get --versions": ("get", WRONG_TYPES, "--versions"),
    "get a document that is not JSON": ("get", BAD_DOCUMENT, "--document"),
    "get a document that is a list": ("get", LIST_DOCUMENT, "--document"),
    "get a document that is gone": ("get", MISSING_DOCUMENT, "--document"),
    "list": ("list",),
    "list --json": ("list", "--json"),
    "list --status failed": ("list", "--status", "failed"),
    "list --status failed --json": ("list", "--status", "failed", "--json"),
    "list --domain": ("list", "--domain", "news.example.com"),
    "entity": ("entity", "Bristol"),
    "entity --json": ("entity", "Bristol", "--json"),
    "duplicates": ("duplicates", WRONG_TYPES),
    "report": ("report", "--since", "2026-10-30", "--until", "2026-11-03", "--out", "r.html"),
}


@pytest.mark.usefixtures("malformed")
@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_read_commands_never_print_a_traceback(run_cli: Any, command: tuple[str, ...]) -> None:
    result = run_cli(*command)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 1)
    if result.exit_code == 1:
        assert result.stderr.strip(), "a refusal says why"


@pytest.mark.usefixtures("malformed")
def test_what_can_be_read_is_shown(run_cli: Any) -> None:
    # an entity row with attributes of the wrong type still names its article
    mentions = run_cli("entity", "Bristol", "--json").stdout
    assert WRONG_TYPES in mentions and BAD_DOCUMENT in mentions
    # a document key of the wrong type is no document, said in one line
    document = run_cli("get", WRONG_TYPES, "--document")
    assert document.exit_code == 1
    assert "no stored document" in document.stderr
    # a stored document that is not JSON is named as such
    assert "not JSON" in run_cli("get", BAD_DOCUMENT, "--document").stderr


@pytest.mark.usefixtures("malformed")
def test_demo_accounts_for_lines_whose_items_are_malformed(pipeline: Any) -> None:
    # GIVEN demo input lines whose articles left malformed or partial items behind
    from types import SimpleNamespace

    from newsflow_cli import demo
    from newsflow_cli.intake import IntakeLine

    target = SimpleNamespace(
        output={"ArticlesTableName": pipeline.table, "ArticlesBucketName": pipeline.bucket}.get,
        client={"dynamodb": pipeline.dynamodb, "s3": pipeline.s3, "sqs": pipeline.sqs}.get,
        description=SimpleNamespace(stack_name="test-stack", functions=[]),
    )
    lines = [
        IntakeLine(line=f"https://news.example.com/{article_id}", article_id=article_id)
        for article_id in (WRONG_TYPES, BAD_DOCUMENT, MISSING_DOCUMENT, f"{11:032x}")
    ]
    # WHEN the demo reads back what became of each line
    records, _ = demo.account(target, lines)  # type: ignore[arg-type]
    # THEN every line still gets exactly one record with a status, and nothing raised
    assert [record.url for record in records] == [line.line for line in lines]
    assert all(record.status for record in records)
