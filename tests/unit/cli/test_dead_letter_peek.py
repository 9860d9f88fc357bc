"""Peeking at a dead-letter queue sees every message and takes none."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from newsflow_cli.dead_letters import DeadLetterQueue, peek


@pytest.fixture
def dlq() -> Iterator[tuple[Any, DeadLetterQueue]]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="peek-dlq")["QueueUrl"]
        queue = DeadLetterQueue(
            function="FetchFunction", source_url=url, source_arn="arn:source",
            dlq_url=url, dlq_arn="arn:dlq", max_receive_count=5,
        )  # fmt: skip
        yield sqs, queue


def test_peek_reads_more_than_one_batch_and_leaves_every_message(
    dlq: tuple[Any, DeadLetterQueue],
) -> None:
    # GIVEN 25 dead letters (more than one receive can return)
    sqs, queue = dlq
    for n in range(25):
        sqs.send_message(QueueUrl=queue.dlq_url, MessageBody=f"https://example.com/{n}")

    # WHEN peeked
    report = peek(sqs, queue, limit=100)

    # THEN all 25 distinct messages are listed
    assert sorted(m.body for m in report.messages) == sorted(
        f"https://example.com/{n}" for n in range(25)
    )
    # AND all of them are still on the queue, visible at once
    visible: set[str] = set()
    for _ in range(5):
        for message in sqs.receive_message(
            QueueUrl=queue.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=60
        ).get("Messages", []):
            visible.add(message["Body"])
    assert len(visible) == 25


def test_peek_respects_the_limit(dlq: tuple[Any, DeadLetterQueue]) -> None:
    sqs, queue = dlq
    for n in range(15):
        sqs.send_message(QueueUrl=queue.dlq_url, MessageBody=str(n))
    assert len(peek(sqs, queue, limit=12).messages) == 12
