"""``--from-build``: the functions run from the ``sam build`` output with the runtime's python,
so a package missing from a function's build fails locally as it would on AWS.

CI runs ``make build`` before the tests; without a build these tests are skipped.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsflow_cli import intake
from newsflow_cli.lambda_runtime import BuildLocation, FunctionContainer, Invocation
from newsflow_cli.page_server import PageServer
from newsflow_cli.poller import build_sqs_event
from newsflow_cli.targets import Target

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = ROOT / ".aws-sam" / "build"
MISSING = "trafilatura"

pytestmark = pytest.mark.skipif(
    not (BUILD_DIR / "FetchFunction").is_dir(), reason="no sam build output: run `make build`"
)


def _linked_build(root: Path, leave_out: str | None) -> Path:
    """A build folder of links to the real one: FetchFunction (without ``leave_out``) and the
    shared layer. Links, not copies: the layer alone is over a hundred megabytes."""
    build = root / "build"
    function = build / "FetchFunction"
    function.mkdir(parents=True)
    for entry in (BUILD_DIR / "FetchFunction").iterdir():
        if leave_out is not None and entry.name.split("-", 1)[0] == leave_out:
            continue
        (function / entry.name).symlink_to(entry)
    (build / "SharedLayer").symlink_to(BUILD_DIR / "SharedLayer")
    return build


@pytest.fixture
def fresh_page(sample_site: PageServer) -> str:
    """A sample page under a URL no other test used (so it is fetched and parsed here)."""
    return sample_site.sample_urls()[0] + f"?build-test={uuid.uuid4().hex[:8]}"


def _run_from(build: Path, target: Target, url: str) -> Iterator[Invocation]:
    spec = target.description.function("fetch")
    container = FunctionContainer(
        spec,
        runtime_env=target.runtime_env(),
        overrides=target.overrides,
        build=BuildLocation(build_dir=build, layer_ids={spec.logical_id: ("SharedLayer",)}),
    )
    sqs = target.client("sqs")
    source = spec.event_sources[0]
    [line] = intake.push(sqs, source.queue_url, [url])
    assert line.accepted
    messages = sqs.receive_message(
        QueueUrl=source.queue_url,
        MaxNumberOfMessages=1,
        AttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )["Messages"]
    event = build_sqs_event(messages, queue_arn=source.queue_arn, region=target.region)
    try:
        yield container.invoke(event)
    finally:
        container.stop()
        sqs.delete_message(QueueUrl=source.queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])


def test_a_package_missing_from_the_build_fails_naming_the_module(
    target: Target, fresh_page: str, tmp_path: Path
) -> None:
    # GIVEN the fetch function's build without trafilatura (its dist-info kept or not alike)
    build = _linked_build(tmp_path, leave_out=MISSING)
    # WHEN it runs from that build
    [invocation] = list(_run_from(build, target, fresh_page))
    # THEN it fails as Lambda fails an import (at import, or at first use if imported lazily),
    # and the failure names the missing module
    said = f"{invocation.error_message or ''}\n{invocation.logs}\n{json.dumps(invocation.result)}"
    assert f"No module named '{MISSING}'" in said
    if invocation.error_type is not None:
        assert invocation.error_type == "Runtime.ImportModuleError"
    else:
        assert invocation.result["batchItemFailures"]


def test_the_intact_build_runs_the_same_record(
    target: Target, fresh_page: str, tmp_path: Path
) -> None:
    # GIVEN the whole fetch build
    build = _linked_build(tmp_path, leave_out=None)
    # WHEN it runs from that build, in the runtime's python without site-packages
    [invocation] = list(_run_from(build, target, fresh_page))
    # THEN the record succeeds
    assert invocation.ok, invocation.logs
    assert invocation.cold_start
    assert not (invocation.result or {}).get("batchItemFailures"), invocation.logs
