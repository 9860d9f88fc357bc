"""One local stack for the whole e2e run: moto server + template + page server + poller.

Starting it costs several seconds (moto's CloudFormation import, spaCy in each enrich worker),
so it is shared; each test that changes state uses URLs of its own. The poller's worker
processes are stopped at the end of the test run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from newsflow.storage import ArticleQueries, ArticleTable
from newsflow_cli.demo import DemoResult, run_demo
from newsflow_cli.local_stack import LocalStack
from newsflow_cli.page_server import PageServer
from newsflow_cli.poller import Poller
from newsflow_cli.targets import Target, local_target, write_state

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
EVENTS_DIR = ROOT / "events"
NOT_A_URL = "this line is not a URL"


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    with LocalStack.start(TEMPLATE_PATH) as stack:
        yield stack


@pytest.fixture(scope="session")
def sample_site() -> Iterator[PageServer]:
    with PageServer() as server:
        yield server


@pytest.fixture(scope="session")
def target(local_stack: LocalStack) -> Target:
    return local_target(local_stack, overrides={"NEWSFLOW_ALLOW_LOOPBACK": "true"})


@pytest.fixture(scope="session")
def poller(target: Target) -> Iterator[Poller]:
    poller = target.poller()
    yield poller
    poller.close()


@pytest.fixture(scope="session")
def not_a_url() -> str:
    return NOT_A_URL


@pytest.fixture(scope="session")
def demo_run(
    target: Target, sample_site: PageServer, poller: Poller
) -> tuple[DemoResult, dict[str, int]]:
    """The demo's own run on the sample pages plus one line that is not a URL, and the page
    server's request counts at the moment the queues had drained."""
    lines = [*sample_site.sample_urls(), NOT_A_URL]
    result = run_demo(target, lines, poller=poller, timeout=120)
    assert result.drain.drained, "the queues did not drain"
    return result, dict(sample_site.hits)


@pytest.fixture(scope="session")
def demo_result(demo_run: tuple[DemoResult, dict[str, int]]) -> DemoResult:
    return demo_run[0]


@pytest.fixture(scope="session")
def demo_hits(demo_run: tuple[DemoResult, dict[str, int]]) -> dict[str, int]:
    return demo_run[1]


@pytest.fixture
def table(target: Target) -> ArticleTable:
    return ArticleTable(target.output("ArticlesTableName"), target.client("dynamodb"))


@pytest.fixture
def queries(target: Target) -> ArticleQueries:
    return ArticleQueries(target.output("ArticlesTableName"), target.client("dynamodb"))


@pytest.fixture
def cli_workdir(target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder where the CLI finds this session's local stack, as `newsflow local up` leaves it."""
    monkeypatch.chdir(tmp_path)
    write_state(target, tmp_path / ".newsflow")
    return tmp_path
