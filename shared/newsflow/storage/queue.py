"""A queue the pipeline sends to (EnrichQueue from the fetch stage, IngestQueue for deferrals)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel

from newsflow.aws_errors import pipeline_error, translated
from newsflow.errors import PipelineError, Reason, Stage, TransientError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import (
        BatchResultErrorEntryTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )


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

    def send_batch(self, bodies: Sequence[str]) -> list[str | PipelineError]:
        """Send up to ten bodies in one SendMessageBatch; per body, its message id or why it
        was not accepted (classified as a failed SendMessage would be). A failed call raises."""
        action = f"sending to {self.queue_url}"
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(index), "MessageBody": body} for index, body in enumerate(bodies)
        ]
        with translated(action):
            response = self._client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        sent = {entry["Id"]: entry["MessageId"] for entry in response.get("Successful", [])}
        failed = {entry["Id"]: entry for entry in response.get("Failed", [])}
        results: list[str | PipelineError] = []
        for index in range(len(bodies)):
            entry_id = str(index)
            if entry_id in sent:
                results.append(sent[entry_id])
            elif entry_id in failed:
                results.append(_entry_error(failed[entry_id], action))
            else:
                results.append(
                    TransientError(Reason.AWS_ERROR, f"{action}: no answer for this message")
                )
        return results


def _entry_error(entry: BatchResultErrorEntryTypeDef, action: str) -> PipelineError:
    """A ``Failed`` entry as the error a SendMessage of that body alone would have raised."""
    error = ClientError(
        {"Error": {"Code": entry.get("Code", ""), "Message": entry.get("Message", "")}},
        "SendMessageBatch",
    )
    return pipeline_error(error, action, stage=Stage.STORE)
