"""Measure what each built function deploys: its code plus its layers, unzipped.

Lambda refuses a function whose code and layers together exceed 250 MB unzipped
(262,144,000 bytes); `sam deploy` only finds out after uploading. Run after `sam build`:

    python infra/scripts/lambda_sizes.py [--build-dir .aws-sam/build] [--limit-mb 250] [--json]

Exit status 1 when a function is over the limit, 2 when the build is missing or unreadable.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from newsflow_cli.sam_template import TemplateError, load_template

MB = 1024 * 1024
LAMBDA_UNZIPPED_LIMIT_MB = 250


class BuildError(Exception):
    """The build directory does not hold a readable built template."""


@dataclass
class FunctionSize:
    name: str
    code_bytes: int
    layers: dict[str, int] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return self.code_bytes + sum(self.layers.values())


def tree_bytes(root: Path) -> int:
    """Sum of file sizes under ``root`` (what Lambda counts), symlinks not followed."""
    return sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def measure(build_dir: Path) -> list[FunctionSize]:
    template_path = build_dir / "template.yaml"
    try:
        template = load_template(template_path)
    except TemplateError as exc:
        raise BuildError(f"{exc} (run `make build` first)") from exc
    resources: dict[str, Any] = template.get("Resources") or {}
    global_layers = ((template.get("Globals") or {}).get("Function") or {}).get("Layers") or []
    layer_dirs = {
        logical_id: build_dir / str(res["Properties"]["ContentUri"])
        for logical_id, res in resources.items()
        if res.get("Type") == "AWS::Serverless::LayerVersion"
    }
    sizes: list[FunctionSize] = []
    for logical_id, res in resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res.get("Properties") or {}
        code_dir = build_dir / str(props.get("CodeUri", logical_id))
        if not code_dir.is_dir():
            raise BuildError(f"{logical_id}: no built code at {code_dir}")
        size = FunctionSize(logical_id, tree_bytes(code_dir))
        for ref in [*global_layers, *(props.get("Layers") or [])]:
            target = ref.get("Ref") if isinstance(ref, dict) else None
            if isinstance(target, str) and target in layer_dirs:
                size.layers[target] = tree_bytes(layer_dirs[target])
        sizes.append(size)
    if not sizes:
        raise BuildError(f"{template_path} declares no functions")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=Path(".aws-sam/build"))
    parser.add_argument("--limit-mb", type=float, default=LAMBDA_UNZIPPED_LIMIT_MB)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    limit_bytes = int(args.limit_mb * MB)
    try:
        sizes = measure(args.build_dir)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    over = [s for s in sizes if s.total_bytes > limit_bytes]
    if args.json:
        report = [{**asdict(s), "total_bytes": s.total_bytes} for s in sizes]
        print(json.dumps({"limit_bytes": limit_bytes, "functions": report}, indent=2))
    else:
        header = f"{'function':<20} {'code MB':>9} {'layers MB':>10} {'total MB':>9}"
        print(f"{header}  (limit {args.limit_mb:g} MB)")
        for s in sizes:
            layers = sum(s.layers.values())
            flag = "  OVER THE LIMIT" if s in over else ""
            print(
                f"{s.name:<20} {s.code_bytes / MB:>9.1f} {layers / MB:>10.1f} "
                f"{s.total_bytes / MB:>9.1f}{flag}"
            )
    for s in over:
        print(
            f"error: {s.name} is {s.total_bytes / MB:.1f} MB unzipped with its layers; "
            f"Lambda allows {args.limit_mb:g} MB",
            file=sys.stderr,
        )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
