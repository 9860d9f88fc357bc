"""Play Lambda's SQS event source for handler tests: received messages as one event."""

from __future__ import annotations

from typing import Any

from newsflow_cli.poller import build_sqs_event

ARN = "arn:aws:sqs:us-east-1:123456789012:test-IngestQueue"


def event_of(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda's poller builds from received messages (the local stack's builder)."""
    return build_sqs_event(messages, queue_arn=ARN, region="us-east-1")


def sqs_event(pipeline: Any, bodies: list[str]) -> dict[str, Any]:
    """Send ``bodies`` to the ingest queue and receive them back as one event."""
    for body in bodies:
        pipeline.sqs.send_message(QueueUrl=pipeline.ingest_queue_url, MessageBody=body)
    messages = pipeline.receive_all(pipeline.ingest_queue_url)
    assert len(messages) == len(bodies)
    return event_of(messages)
