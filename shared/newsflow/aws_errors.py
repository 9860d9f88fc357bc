"""Which AWS errors are worth a retry: the one classification every adapter uses.

Failure semantics (see docs): throttling, service faults (5xx) and network trouble are
*transient* - SQS redelivers the message and, after ``maxReceiveCount``, dead-letters it. An
error that will repeat identically for the same input (a validation error, an unsupported
language) is *permanent*: the article is recorded FAILED. Anything else (access denied, expired
credentials, an unknown code) is not the article's fault, so it is transient too: the messages
wait in a DLQ for a redrive instead of every article being marked FAILED by a misconfiguration.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from botocore.exceptions import BotoCoreError, ClientError

from newsflow.errors import PermanentError, PipelineError, Reason, Stage, TransientError

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "SlowDown",
        "RequestThrottled",
        "RequestThrottledException",
    }
)
SERVICE_FAULT_CODES = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ResourceUnavailableException",
    }
)
INVALID_REQUEST_CODES = frozenset(
    {
        "InvalidRequestException",
        "TextSizeLimitExceededException",
        "BatchSizeLimitExceededException",
        "ValidationException",
        "SerializationException",
    }
)
UNSUPPORTED_LANGUAGE_CODE = "UnsupportedLanguageException"
MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class AwsErrorKind(StrEnum):
    THROTTLED = "throttled"
    SERVICE_FAULT = "service_fault"
    UNSUPPORTED_LANGUAGE = "unsupported_language"
    INVALID_REQUEST = "invalid_request"
    OTHER = "other"


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def http_status_of(exc: ClientError) -> int | None:
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return status or None


def kind_of(code: str, http_status: int | None = None) -> AwsErrorKind:
    """Classify an error code (and HTTP status, when there is one)."""
    if code in THROTTLING_CODES or http_status == 429:
        return AwsErrorKind.THROTTLED
    if code in SERVICE_FAULT_CODES or (http_status or 0) >= 500:
        return AwsErrorKind.SERVICE_FAULT
    if code == UNSUPPORTED_LANGUAGE_CODE:
        return AwsErrorKind.UNSUPPORTED_LANGUAGE
    if code in INVALID_REQUEST_CODES:
        return AwsErrorKind.INVALID_REQUEST
    return AwsErrorKind.OTHER


def is_retryable_code(code: str) -> bool:
    """For per-item error codes without an HTTP status (e.g. a batch call's ``ErrorList``)."""
    if code.isdigit():
        return int(code) >= 500 or int(code) == 429
    upper = code.upper()
    if kind_of(code) in (AwsErrorKind.THROTTLED, AwsErrorKind.SERVICE_FAULT):
        return True
    return any(word in upper for word in ("INTERNAL", "THROTTL", "UNAVAILABLE", "TOO_MANY"))


def pipeline_error(exc: ClientError, action: str, *, stage: Stage) -> PipelineError:
    """A ``ClientError`` as a transient or permanent pipeline failure with a readable detail."""
    error = exc.response.get("Error", {})
    code = error_code(exc)
    status = http_status_of(exc)
    detail = f"{action} failed: {code or 'error'} {error.get('Message', '')}".strip()
    kind = kind_of(code, status)
    if kind is AwsErrorKind.THROTTLED:
        return TransientError(Reason.THROTTLED, detail, stage=stage, http_status=status)
    if kind is AwsErrorKind.UNSUPPORTED_LANGUAGE:
        return PermanentError(Reason.UNSUPPORTED_LANGUAGE, detail, stage=stage, http_status=status)
    if kind is AwsErrorKind.INVALID_REQUEST:
        return PermanentError(Reason.INVALID_DOCUMENT, detail, stage=stage, http_status=status)
    return TransientError(Reason.AWS_ERROR, detail, stage=stage, http_status=status)


def network_error(exc: BotoCoreError, action: str, *, stage: Stage) -> TransientError:
    """No answer from AWS at all (connection, timeout, credentials lookup): retry."""
    return TransientError(Reason.AWS_ERROR, f"{action} failed: {exc}", stage=stage)


@contextmanager
def translated(action: str, *, stage: Stage = Stage.STORE) -> Iterator[None]:
    """Run AWS calls so that every boto error leaves as a :class:`PipelineError`."""
    try:
        yield
    except ClientError as exc:
        raise pipeline_error(exc, action, stage=stage) from exc
    except BotoCoreError as exc:
        raise network_error(exc, action, stage=stage) from exc
