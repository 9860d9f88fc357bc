"""A queue the pipeline sends to (EnrichQueue from the fetch stage)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from pydantic import BaseModel

from newsflow.aws_errors import translated

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class MessageQueue:
    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client: SQSClient = client or boto3.client("sqs")

    def send(self, message: BaseModel | str, *, delay_seconds: int = 0) -> str:
        """Send one message; ``delay_seconds`` (0-900) keeps it invisible that long."""
        body = message if isinstance(message, str) else message.model_dump_json()
        with translated(f"sending to {self.queue_url}"):
            response = self._client.send_message(
                QueueUrl=self.queue_url, MessageBody=body, DelaySeconds=delay_seconds
            )
        return response["MessageId"]
