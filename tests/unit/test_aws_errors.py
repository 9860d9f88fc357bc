"""One classification of AWS errors: transient (retry, then DLQ) or permanent (FAILED)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from newsflow.aws_errors import is_retryable_code, pipeline_error, translated
from newsflow.errors import PermanentError, Reason, Stage, TransientError


def client_error(code: str, status: int = 400, message: str = "nope") -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "AnyOperation")


@pytest.mark.parametrize(
    "code",
    [
        "ThrottlingException",  # Comprehend, most JSON APIs
        "ProvisionedThroughputExceededException",  # DynamoDB
        "SlowDown",  # S3
        "RequestThrottled",  # SQS
        "LimitExceededException",
        "TooManyRequestsException",
    ],
)
def test_throttling_of_any_service_is_transient_throttled(code: str) -> None:
    error = pipeline_error(client_error(code), "writing", stage=Stage.STORE)
    assert isinstance(error, TransientError) and error.reason is Reason.THROTTLED


def test_a_429_without_a_known_code_is_throttling() -> None:
    error = pipeline_error(client_error("Whatever", 429), "writing", stage=Stage.STORE)
    assert isinstance(error, TransientError) and error.reason is Reason.THROTTLED


@pytest.mark.parametrize(("code", "status"), [("InternalError", 500), ("Unknown", 503)])
def test_service_faults_are_transient(code: str, status: int) -> None:
    error = pipeline_error(client_error(code, status), "reading", stage=Stage.ENRICH)
    assert isinstance(error, TransientError) and error.reason is Reason.AWS_ERROR
    assert error.http_status == status and error.stage is Stage.ENRICH


@pytest.mark.parametrize("code", ["ValidationException", "TextSizeLimitExceededException"])
def test_errors_that_repeat_identically_are_permanent(code: str) -> None:
    error = pipeline_error(client_error(code), "BatchDetectEntities", stage=Stage.ENRICH)
    assert isinstance(error, PermanentError) and error.reason is Reason.INVALID_DOCUMENT


def test_an_unsupported_language_is_permanent() -> None:
    error = pipeline_error(client_error("UnsupportedLanguageException"), "x", stage=Stage.ENRICH)
    assert isinstance(error, PermanentError) and error.reason is Reason.UNSUPPORTED_LANGUAGE


def test_access_denied_is_not_the_articles_fault() -> None:
    # A misconfigured role must not mark every article FAILED: retry, then wait in the DLQ.
    error = pipeline_error(client_error("AccessDeniedException", 403), "x", stage=Stage.STORE)
    assert isinstance(error, TransientError) and error.reason is Reason.AWS_ERROR


def test_the_detail_names_the_action_code_and_message() -> None:
    error = pipeline_error(
        client_error("SlowDown", 503, "Reduce your rate"), "storing s3://b/k", stage=Stage.STORE
    )
    assert error.detail == "storing s3://b/k failed: SlowDown Reduce your rate"


def test_translated_turns_network_errors_into_transient_failures() -> None:
    with pytest.raises(TransientError) as raised, translated("sending to q"):
        raise EndpointConnectionError(endpoint_url="https://sqs.example")
    assert raised.value.reason is Reason.AWS_ERROR and raised.value.stage is Stage.STORE
    assert raised.value.detail.startswith("sending to q failed:")


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("INTERNAL_SERVER_ERROR", True),
        ("500", True),
        ("429", True),
        ("ThrottlingException", True),
        ("TEXT_SIZE_LIMIT_EXCEEDED", False),
        ("400", False),
    ],
)
def test_per_item_error_codes_of_a_batch_call(code: str, retryable: bool) -> None:
    assert is_retryable_code(code) is retryable
