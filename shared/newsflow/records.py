"""One SQS record through one stage: the permanent/transient contract, shared by both functions.

* a body that cannot be a message is rejected: kept under ``rejected/`` and consumed;
* the stage's outcome (stored, skipped or recorded FAILED) consumes the record;
* a :class:`~newsflow.errors.TransientError` leaves a retry note (why a dead letter died),
  is logged and counted, and is raised again so the batch reports the record for a retry.

Nothing here knows Lambda: the handler passes the record's id, body and receive count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from newsflow.errors import PermanentError, PipelineError, TransientError
from newsflow.observability import RecordReporter
from newsflow.pipeline import DocumentStorage, StageResult, reject_message

MessageT = TypeVar("MessageT")
MessageT_contra = TypeVar("MessageT_contra", contravariant=True)


class RecordStage(Protocol[MessageT_contra]):
    """A use case that runs one message (:class:`FetchStage`, :class:`EnrichStage`)."""

    @property
    def documents(self) -> DocumentStorage: ...

    def run(self, message: MessageT_contra) -> StageResult: ...

    def note_retry(
        self,
        message: MessageT_contra,
        error: PipelineError,
        receive_count: int | None = None,
    ) -> None: ...


def process_record(
    *,
    message_id: str,
    body: str,
    receive_count: int,
    parse_body: Callable[[str], MessageT],
    stage: RecordStage[MessageT],
    reporter: RecordReporter,
    describe: Callable[[MessageT], dict[str, Any]] = lambda message: {},
) -> dict[str, Any]:
    """Run one record's message through ``stage``; ``describe`` adds log context."""
    try:
        message = parse_body(body)
    except PermanentError as error:
        return reporter.rejected(
            reject_message(stage.documents, message_id=message_id, body=body, error=error)
        )
    context = {"message_id": message_id, "receive_count": receive_count, **describe(message)}
    try:
        result = stage.run(message)
    except TransientError as error:
        stage.note_retry(message, error, receive_count)
        reporter.retrying(error, **context)
        raise
    return reporter.finished(result, **context)
