"""Failure taxonomy shared by every stage.

The pipeline's failure semantics hinge on one distinction: a *permanent* failure is recorded
(article item ``FAILED``) and its message consumed, a *transient* one is reported back to SQS so
the record is retried and, after ``maxReceiveCount``, dead-lettered. Every error raised by domain
code is one of the two, so handlers never have to guess.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    INTAKE = "intake"
    FETCH = "fetch"
    PARSE = "parse"
    STORE = "store"
    ENRICH = "enrich"


class Reason(StrEnum):
    """Machine-readable failure reasons; metrics and the failures index are keyed on these."""

    INVALID_MESSAGE = "invalid_message"
    INVALID_URL = "invalid_url"
    BLOCKED_URL = "blocked_url"
    HTTP_ERROR = "http_error"
    NOT_HTML = "not_html"
    NOT_A_FEED = "not_a_feed"  # a source answered with something that is no feed or sitemap
    TOO_LARGE = "too_large"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    TLS_ERROR = "tls_error"
    NOTHING_EXTRACTED = "nothing_extracted"
    TOO_COMPLEX = "too_complex"  # past a parse bound (structure or CPU budget); see parse_bounds
    TEXT_TOO_SHORT = "text_too_short"
    UNSUPPORTED_LANGUAGE = "unsupported_language"
    MISSING_DOCUMENT = "missing_document"
    INVALID_DOCUMENT = "invalid_document"
    THROTTLED = "throttled"
    ROBOTS_DISALLOWED = "robots_disallowed"
    HOST_UNAVAILABLE = "host_unavailable"
    AWS_ERROR = "aws_error"


class PipelineError(Exception):
    """Base class: carries the stage, a reason code and a sentence a person can read."""

    retryable: bool = False

    def __init__(
        self,
        reason: Reason,
        detail: str,
        *,
        stage: Stage = Stage.FETCH,
        http_status: int | None = None,
    ) -> None:
        super().__init__(f"{stage}/{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.stage = stage
        self.http_status = http_status


class PermanentError(PipelineError):
    """Retrying cannot help: record the failure and consume the message."""

    retryable = False


class TransientError(PipelineError):
    """Retrying may help: let SQS redeliver (and eventually dead-letter) the message."""

    retryable = True


class HostBusyError(TransientError):
    """The host asked us to slow down (429 or 503); ``retry_after_seconds`` is its
    ``Retry-After``, when it sent one, so the whole host can be backed off."""

    def __init__(
        self,
        reason: Reason,
        detail: str,
        *,
        stage: Stage = Stage.FETCH,
        http_status: int | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(reason, detail, stage=stage, http_status=http_status)
        self.retry_after_seconds = retry_after_seconds
