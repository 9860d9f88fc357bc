"""5. Package size of each function after ``sam build``: code plus layers, unzipped.

Read from the build folder with the infrastructure's own measuring script
(``infra/scripts/lambda_sizes.py``, loaded from its file), so the benchmark and ``make sizes``
agree. Without a build the section says to run ``make build`` first; ``--sam-build`` runs it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MB = 1024 * 1024


def _sizes_module(root: Path) -> Any:
    path = root / "infra" / "scripts" / "lambda_sizes.py"
    spec = importlib.util.spec_from_file_location("newsflow_bench_lambda_sizes", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run(root: Path, build: bool = False) -> dict[str, Any]:
    if build:
        subprocess.run(["make", "build"], cwd=root, check=True)  # noqa: S607 - the project's make
    build_dir = root / ".aws-sam" / "build"
    module = _sizes_module(root)
    limit = int(module.LAMBDA_UNZIPPED_LIMIT_MB * MB)
    if not (build_dir / "template.yaml").is_file():
        return {"available": False, "note": "run make build first", "limit_mb": limit / MB}
    try:
        measured = module.measure(build_dir)
    except module.BuildError as exc:
        return {"available": False, "note": f"run make build first ({exc})", "limit_mb": limit / MB}
    functions = {}
    for size in measured:
        functions[size.name] = {
            "code_mb": round(size.code_bytes / MB, 1),
            "layers_mb": round(sum(size.layers.values()) / MB, 1),
            "total_mb": round(size.total_bytes / MB, 1),
            "within_limit": size.total_bytes <= limit,
        }
    built = datetime.fromtimestamp((build_dir / "template.yaml").stat().st_mtime, UTC)
    return {
        "available": True,
        "limit_mb": limit / MB,
        "built_at_utc": built.strftime("%Y-%m-%d %H:%M"),
        "functions": functions,
    }
