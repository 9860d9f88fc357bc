"""A Powertools Tracer that loads the X-Ray SDK only when tracing is on.

Powertools' ``Tracer()`` imports ``aws_xray_sdk.core`` even when tracing is disabled: about a
fifth of a second of every cold start for a recorder that is never used. :func:`make_tracer`
decides first, with Powertools' own rules: tracing is off when ``POWERTOOLS_TRACE_DISABLED`` is
true, outside Lambda (no ``LAMBDA_TASK_ROOT``) and under SAM local or Chalice. Off, the tracer
runs on :class:`NoTracing`, a provider whose subsegments do nothing, so the decorators cost a
function call and the SDK is never imported. On, it is the ordinary Tracer: the X-Ray SDK is
imported and boto3/botocore are patched at import time, as before.

The template's ``Tracing`` parameter sets both the function's X-Ray mode and
``POWERTOOLS_TRACE_DISABLED``, so the two cannot disagree.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

__all__ = ["NoTracing", "make_tracer", "tracing_enabled"]


def tracing_enabled() -> bool:
    """Whether Powertools would trace here (its rules for ``Tracer(disabled=None)``)."""
    if resolve_truthy_env_var_choice(env=os.getenv("POWERTOOLS_TRACE_DISABLED", "false")):
        return False
    if not os.getenv("LAMBDA_TASK_ROOT"):
        return False
    return not (os.getenv("AWS_SAM_LOCAL") or os.getenv("AWS_CHALICE_CLI_MODE"))


class _NoSegment(BaseSegment):
    """A subsegment that records nothing."""

    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class NoTracing(BaseProvider):
    """The provider of a disabled tracer: every call is a no-op, nothing is imported."""

    @contextlib.contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoSegment()

    @contextlib.asynccontextmanager
    async def in_subsegment_async(
        self, name: Any = None, **kwargs: Any
    ) -> AsyncGenerator[BaseSegment, None]:
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


def make_tracer(service: str) -> Tracer:
    """The service's Tracer: the X-Ray one when tracing is on, else one on :class:`NoTracing`."""
    if tracing_enabled():
        return Tracer(service=service)
    return Tracer(service=service, disabled=True, provider=NoTracing())
