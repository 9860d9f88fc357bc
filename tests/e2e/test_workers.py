"""The local stack runs like Lambda: each function's batches run at once, each in a worker
process of its own that cold-starts on its first batch."""

from __future__ import annotations

import itertools
import uuid

from newsflow_cli import intake
from newsflow_cli.lambda_runtime import Invocation
from newsflow_cli.poller import BatchOutcome
from newsflow_cli.targets import Target


def test_two_batches_of_a_function_run_at_once_in_workers_of_their_own(target: Target) -> None:
    # GIVEN two full fetch batches (20 URLs of private addresses: each fails fast, blocked_url,
    # no connection) and a poller with no warm container yet
    run = uuid.uuid4().hex[:8]
    urls = [f"http://10.20.{i // 100}.{i % 100 + 1}/{run}/story" for i in range(20)]
    outcomes: list[BatchOutcome] = []
    poller = target.poller(on_batch=outcomes.append)
    intake.push(target.client("sqs"), target.output("IngestQueueUrl"), urls)
    # WHEN the mappings run until the queues are empty
    try:
        assert poller.run_until_drained(timeout=120).drained
    finally:
        poller.close()
    fetches: list[Invocation] = [o.invocation for o in outcomes if o.function == "FetchFunction"]
    assert sum(o.received for o in outcomes if o.function == "FetchFunction") >= 20
    # THEN the batches ran in at least two worker processes, not in this one
    pids = {invocation.pid for invocation in fetches}
    assert len(pids) >= 2 and None not in pids
    # AND each worker cold-started on its own first batch, and only then
    for pid in pids:
        own = sorted((i for i in fetches if i.pid == pid), key=lambda i: i.started)
        assert own[0].cold_start
        assert not any(i.cold_start for i in own[1:])
    # AND two batches were running at the same time
    assert any(
        a.pid != b.pid and a.started < b.finished and b.started < a.finished
        for a, b in itertools.combinations(fetches, 2)
    )
