"""Dead-letter queues of a stack: which they are, what they hold, and sending it back.

The DLQs are not named anywhere: each queue that feeds a function declares its DLQ in its
``RedrivePolicy``, and that is where they are found (locally and on AWS alike).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from newsflow.errors import PermanentError
from newsflow.models import parse_enrich_body, parse_ingest_body
from newsflow.urls import article_id_for, canonicalize_url
from newsflow_cli.stacks import StackDescription

# How long a peeked batch stays hidden while the rest is read (then made visible again).
_PEEK_HIDE_SECONDS = 30


@dataclass(frozen=True)
class DeadLetterQueue:
    function: str
    source_url: str
    source_arn: str
    dlq_url: str
    dlq_arn: str
    max_receive_count: int


@dataclass
class DeadLetter:
    message_id: str
    body: str
    receive_count: int
    sent_timestamp: int


@dataclass
class DeadLetterReport:
    queue: DeadLetterQueue
    approximate_count: int
    messages: list[DeadLetter] = field(default_factory=list)


def dead_letter_queues(sqs: Any, description: StackDescription) -> list[DeadLetterQueue]:
    found: list[DeadLetterQueue] = []
    for spec in description.functions:
        for source in spec.event_sources:
            attributes = sqs.get_queue_attributes(
                QueueUrl=source.queue_url, AttributeNames=["RedrivePolicy"]
            ).get("Attributes", {})
            if "RedrivePolicy" not in attributes:
                continue
            policy = json.loads(attributes["RedrivePolicy"])
            dlq_arn = str(policy["deadLetterTargetArn"])
            _, _, _, _, account, name = dlq_arn.split(":", 5)
            dlq_url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            found.append(
                DeadLetterQueue(
                    function=spec.logical_id,
                    source_url=source.queue_url,
                    source_arn=source.queue_arn,
                    dlq_url=str(dlq_url),
                    dlq_arn=dlq_arn,
                    max_receive_count=int(policy.get("maxReceiveCount", 0)),
                )
            )
    return found


def article_id_of(body: str) -> str | None:
    """The article a dead letter is about: an enrich message names it, an ingest one its URL."""
    try:
        return parse_enrich_body(body).article_id
    except PermanentError:
        pass
    try:
        return article_id_for(canonicalize_url(parse_ingest_body(body).url))
    except PermanentError:
        return None


def peek(sqs: Any, queue: DeadLetterQueue, limit: int = 100) -> DeadLetterReport:
    """Read up to ``limit`` messages without consuming them, de-duplicated by message id.

    Each received batch stays hidden (a short visibility timeout) so the next receive returns
    other messages; at the end every message read is made visible again at once.
    """
    count = int(
        sqs.get_queue_attributes(
            QueueUrl=queue.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
    )
    seen: dict[str, DeadLetter] = {}
    handles: list[str] = []
    try:
        while len(seen) < min(limit, count):
            response = sqs.receive_message(
                QueueUrl=queue.dlq_url,
                MaxNumberOfMessages=min(10, limit - len(seen)),
                VisibilityTimeout=_PEEK_HIDE_SECONDS,
                AttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
            )
            messages = response.get("Messages", [])
            if not messages:
                break
            for message in messages:
                handles.append(message["ReceiptHandle"])
                attributes = message.get("Attributes", {})
                seen.setdefault(
                    message["MessageId"],
                    DeadLetter(
                        message_id=message["MessageId"],
                        body=message.get("Body", ""),
                        receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
                        sent_timestamp=int(attributes.get("SentTimestamp", 0)),
                    ),
                )
    finally:
        for start in range(0, len(handles), 10):
            sqs.change_message_visibility_batch(
                QueueUrl=queue.dlq_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for n, handle in enumerate(handles[start : start + 10])
                ],
            )
    return DeadLetterReport(queue=queue, approximate_count=count, messages=list(seen.values()))


def redrive(sqs: Any, queue: DeadLetterQueue) -> int:
    """Move every message of the DLQ back to its source queue; returns how many moved.

    Each batch is sent before it is deleted, so a crash in between duplicates rather than
    loses a message (the pipeline is idempotent by article id).
    """
    moved = 0
    while True:
        response = sqs.receive_message(
            QueueUrl=queue.dlq_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=30,
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return moved
        entries = []
        for i, message in enumerate(messages):
            entry: dict[str, Any] = {"Id": str(i), "MessageBody": message.get("Body", "")}
            if message.get("MessageAttributes"):
                entry["MessageAttributes"] = message["MessageAttributes"]
            entries.append(entry)
        result = sqs.send_message_batch(QueueUrl=queue.source_url, Entries=entries)
        sent = {entry["Id"] for entry in result.get("Successful", [])}
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if str(i) in sent
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=queue.dlq_url, Entries=done)
        moved += len(done)
        if len(done) < len(messages):
            failed = result.get("Failed", [{}])[0]
            raise RuntimeError(
                f"could not send back to {queue.source_url}: {failed.get('Message', 'refused')}"
            )
