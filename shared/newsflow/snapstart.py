"""Lambda SnapStart: the heavy init in the snapshot, fresh state in every restored container.

With SnapStart (template parameter ``SnapStart=PublishedVersions``) Lambda runs a published
version's init once, snapshots the whole environment, and starts new containers by restoring
that snapshot. What the init built is then shared by every container restored from it:

* the module ``random``'s state: each container would draw the same sequence (botocore's retry
  jitter among others), so they would retry in step. Reseeded from ``os.urandom`` on restore.
  (``secrets``, ``uuid.uuid4`` and ``os.urandom`` read the kernel on each call: already safe.)
* network state: connection pools and boto3 clients created at init. The handlers rebuild
  whatever holds them on restore, so no container uses the snapshot's.

Worth doing in that init, because it lands in the snapshot: importing, loading models, building
the stage. :func:`snapshot_init` tells a handler it runs in that init.

The runtime's ``snapshot_restore_py`` module exists only in Lambda's Python runtime (3.12+);
elsewhere :func:`on_restore` registers nothing, and tests inject a stand-in module.
"""

from __future__ import annotations

import importlib
import os
import random
from collections.abc import Callable

SNAPSTART_INITIALIZATION = "snap-start"
"""``AWS_LAMBDA_INITIALIZATION_TYPE`` during the init SnapStart snapshots."""


def snapshot_init() -> bool:
    """Whether this is the init of a SnapStart version (what it builds is in the snapshot)."""
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == SNAPSTART_INITIALIZATION


def reseed_random() -> None:
    """A sequence of ``random`` of this container's own, not the snapshot's."""
    random.seed()


def on_restore(renew: Callable[[], None]) -> bool:
    """After each restore: reseed ``random``, then ``renew`` (rebuild clients and pools).

    Returns whether the hook was registered (False outside Lambda's Python runtime).
    """
    try:
        runtime = importlib.import_module("snapshot_restore_py")
    except ImportError:
        return False

    def after_restore() -> None:
        reseed_random()
        renew()

    runtime.register_after_restore(after_restore)
    return True


def prepare(stage: Callable[[], object], *warm_ups: Callable[[], object]) -> None:
    """A handler's SnapStart wiring: a restored container builds its own ``stage`` (new clients
    and connection pools); the init SnapStart snapshots builds it and runs ``warm_ups`` first.

    ``stage`` is the handler's cached stage builder (``functools.cache``): clearing it drops the
    snapshot's clients, calling it builds new ones (a loaded model cached elsewhere is kept).
    """

    def renew() -> None:
        stage.cache_clear()  # type: ignore[attr-defined]
        stage()

    on_restore(renew)
    if snapshot_init():
        stage()
        for warm_up in warm_ups:
            warm_up()
