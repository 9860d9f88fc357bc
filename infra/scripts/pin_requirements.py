"""Pin the Lambda runtime dependencies from pyproject.toml into the files `sam build` installs.

pyproject.toml is the single source: ``[project].dependencies`` and the extras
(``[project.optional-dependencies]``, e.g. ``nlp`` for the enrich function's spaCy) hold the
version ranges, and ``[tool.newsflow.lambda]`` says where each dependency ships (``layer``,
``fetch``, ``enrich``) or that it is only used locally (``local``). Every entry of
``[project].dependencies`` must be in a group; an extra's entry only when a function ships it
(test tools and the local stack stay out). This script resolves all shipped groups together for
the Lambda platform (python3.12, manylinux x86_64), so a package has one version everywhere, then
writes one hashed requirements file per group:

- ``shared/requirements.txt``           the layer (BuildMethod python3.12)
- ``functions/fetch/requirements.txt``  fetch's own packages, without what the layer provides
- ``functions/enrich/requirements.txt`` enrich's own packages, without what the layer provides
- ``functions/poll/requirements.txt``   poll's own packages (feeds, sitemaps), likewise

The function files are installed with ``pip install --no-deps`` (functions/*/Makefile), so a
package is shipped once. Each file starts with the SHA-256 of the inputs it came from;
``--verify`` (offline, used by the tests) recomputes it and fails when pyproject.toml changed
without re-pinning. ``--check`` resolves again (needs the package index) and fails on any
difference, e.g. after a new release inside a range.

Usage: pin_requirements.py [--root DIR] [--verify | --check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PYTHON_VERSION = "3.12"
PYTHON_PLATFORM = "x86_64-manylinux_2_28"
SHIPPED_GROUPS = ("layer", "fetch", "enrich", "poll")
ALL_GROUPS = (*SHIPPED_GROUPS, "local")
OUTPUTS = {
    "layer": Path("shared/requirements.txt"),
    "fetch": Path("functions/fetch/requirements.txt"),
    "enrich": Path("functions/enrich/requirements.txt"),
    "poll": Path("functions/poll/requirements.txt"),
}
INPUTS_MARKER = "# inputs-sha256: "
# Bump when the way files are produced changes, so old files count as stale.
FORMAT_VERSION = 1


class PinError(Exception):
    """pyproject.toml and the pinned files disagree, or resolution failed."""


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    block: str  # the requirement line(s) with their hashes, as written


def load_groups(root: Path) -> dict[str, list[Requirement]]:
    """The dependencies of each group, with their ranges from ``[project].dependencies``."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    required = {canonicalize_name(Requirement(line).name) for line in project["dependencies"]}
    by_name = _requirements_by_name(project)
    table = data.get("tool", {}).get("newsflow", {}).get("lambda")
    if not isinstance(table, dict):
        raise PinError("pyproject.toml has no [tool.newsflow.lambda] table")
    unknown_groups = set(table) - set(ALL_GROUPS)
    if unknown_groups:
        raise PinError(f"unknown group(s) in [tool.newsflow.lambda]: {sorted(unknown_groups)}")
    groups: dict[str, list[Requirement]] = {}
    placed: dict[str, str] = {}
    for group in ALL_GROUPS:
        groups[group] = []
        for raw_name in table.get(group, []):
            name = canonicalize_name(raw_name)
            if name not in by_name:
                raise PinError(
                    f"[tool.newsflow.lambda].{group} names {raw_name!r}, "
                    "which is not in [project].dependencies nor in an extra"
                )
            if name in placed:
                raise PinError(f"{raw_name!r} is in both {placed[name]!r} and {group!r}")
            placed[name] = group
            groups[group].append(by_name[name])
    unplaced = sorted(required - set(placed))
    if unplaced:
        raise PinError(
            "every dependency must say where it ships; add these to a group of "
            f"[tool.newsflow.lambda] (layer, fetch, enrich, poll or local): {unplaced}"
        )
    return groups


def _requirements_by_name(project: dict[str, Any]) -> dict[str, Requirement]:
    """Each dependency by name, from ``dependencies`` and every extra; one range per name."""
    lines: list[tuple[str, str]] = [("dependencies", line) for line in project["dependencies"]]
    for extra, extra_lines in project.get("optional-dependencies", {}).items():
        lines += [(f"optional-dependencies.{extra}", line) for line in extra_lines]
    by_name: dict[str, Requirement] = {}
    where: dict[str, str] = {}
    for origin, line in lines:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        if name in by_name and by_name[name].specifier != req.specifier:
            raise PinError(
                f"{req.name!r} has two ranges: {by_name[name]} in {where[name]} "
                f"and {req} in {origin}; keep one"
            )
        by_name.setdefault(name, req)
        where.setdefault(name, origin)
    return by_name


def inputs_digest(groups: dict[str, list[Requirement]]) -> str:
    """SHA-256 of everything the pinned files depend on (shipped ranges, platform, format)."""
    payload = {
        "format": FORMAT_VERSION,
        "python": PYTHON_VERSION,
        "platform": PYTHON_PLATFORM,
        "groups": {g: sorted(str(req) for req in groups[g]) for g in SHIPPED_GROUPS},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def parse_pins(text: str) -> dict[str, Pin]:
    """Pins of a hashed requirements file (``name==version \\`` then ``--hash`` lines)."""
    pins: dict[str, Pin] = {}
    block: list[str] = []
    for line in [*text.splitlines(), ""]:
        if block and block[-1].endswith("\\"):
            block.append(line)
            continue
        if block:
            head = block[0].rstrip("\\ ").strip()
            try:
                req = Requirement(head)
            except InvalidRequirement as exc:
                raise PinError(f"cannot read pin {head!r}: {exc}") from exc
            specs = list(req.specifier)
            if len(specs) != 1 or specs[0].operator != "==":
                raise PinError(f"not an exact pin: {head!r}")
            name = canonicalize_name(req.name)
            pins[name] = Pin(name, specs[0].version, "\n".join(block))
            block = []
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            block = [line]
    return pins


def _uv_compile(source: Path, output: Path, constraints: Path | None = None) -> None:
    command = [
        sys.executable,
        "-m",
        "uv",
        "pip",
        "compile",
        str(source),
        "-o",
        str(output),
        "--python-version",
        PYTHON_VERSION,
        "--python-platform",
        PYTHON_PLATFORM,
        "--generate-hashes",
        "--no-annotate",
        "--no-header",
        "--quiet",
    ]
    if constraints is not None:
        command += ["--constraint", str(constraints)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise PinError(f"uv pip compile failed for {source.name}:\n{result.stderr}")


def render(groups: dict[str, list[Requirement]]) -> dict[str, str]:
    """Resolve the shipped groups together and return the text of each output file."""
    digest = inputs_digest(groups)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        everything = work / "all.in"
        everything.write_text(
            "".join(f"{req}\n" for g in SHIPPED_GROUPS for req in groups[g]), encoding="utf-8"
        )
        lock = work / "all.txt"
        _uv_compile(everything, lock)
        pins: dict[str, dict[str, Pin]] = {}
        for group in SHIPPED_GROUPS:
            source = work / f"{group}.in"
            source.write_text("".join(f"{req}\n" for req in groups[group]), encoding="utf-8")
            out = work / f"{group}.txt"
            _uv_compile(source, out, constraints=lock)
            pins[group] = parse_pins(out.read_text(encoding="utf-8"))
    texts: dict[str, str] = {}
    for group in SHIPPED_GROUPS:
        own = pins[group]
        if group != "layer":
            own = {name: pin for name, pin in own.items() if name not in pins["layer"]}
        texts[group] = _header(group, groups, digest) + "".join(
            f"{own[name].block}\n" for name in sorted(own)
        )
    return texts


def _header(group: str, groups: dict[str, list[Requirement]], digest: str) -> str:
    roots = ", ".join(str(req) for req in groups[group])
    lines = [
        "# Generated by infra/scripts/pin_requirements.py from pyproject.toml - do not edit;",
        "# run `make requirements` instead.",
        f"# Group {group!r} for python{PYTHON_VERSION} {PYTHON_PLATFORM}: {roots}",
    ]
    if group != "layer":
        lines.append("# Packages the layer provides are left out: install with --no-deps.")
    lines.append(f"{INPUTS_MARKER}{digest}")
    return "\n".join(lines) + "\n"


def verify(root: Path) -> list[str]:
    """Offline staleness and consistency check of the pinned files; returns the problems."""
    groups = load_groups(root)
    digest = inputs_digest(groups)
    problems: list[str] = []
    files: dict[str, dict[str, Pin]] = {}
    for group, relative in OUTPUTS.items():
        path = root / relative
        if not path.is_file():
            problems.append(f"{relative} is missing: run `make requirements`")
            continue
        text = path.read_text(encoding="utf-8")
        recorded = next(
            (
                ln[len(INPUTS_MARKER) :].strip()
                for ln in text.splitlines()
                if ln.startswith(INPUTS_MARKER)
            ),
            None,
        )
        if recorded != digest:
            problems.append(
                f"{relative} is stale (pyproject.toml changed since it was pinned): "
                "run `make requirements`"
            )
        files[group] = parse_pins(text)
        for name, pin in files[group].items():
            if "--hash=sha256:" not in pin.block:
                problems.append(f"{relative}: {name} has no hash")
    if problems:
        return problems
    for group in SHIPPED_GROUPS[1:]:
        for name in sorted(set(files[group]) & set(files["layer"])):
            problems.append(f"{OUTPUTS[group]}: {name} is already in the layer")
    for group in SHIPPED_GROUPS:
        visible = {**files["layer"], **files[group]}
        for req in groups[group]:
            name = canonicalize_name(req.name)
            pinned = visible.get(name)
            if pinned is None:
                problems.append(f"{OUTPUTS[group]}: {req.name} is not pinned")
            elif not req.specifier.contains(Version(pinned.version), prereleases=True):
                problems.append(f"{OUTPUTS[group]}: {name}=={pinned.version} is outside {req}")
    functions = SHIPPED_GROUPS[1:]
    for i, first in enumerate(functions):
        for second in functions[i + 1 :]:
            for name in set(files[first]) & set(files[second]):
                if files[first][name].version != files[second][name].version:
                    problems.append(f"{name} has different versions in {first} and {second}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--verify", action="store_true", help="offline staleness check")
    mode.add_argument("--check", action="store_true", help="re-resolve and compare (network)")
    args = parser.parse_args(argv)
    root: Path = args.root
    try:
        if args.verify:
            problems = verify(root)
            for problem in problems:
                print(problem, file=sys.stderr)
            return 1 if problems else 0
        texts = render(load_groups(root))
        if args.check:
            stale = [
                str(OUTPUTS[g])
                for g, text in texts.items()
                if not (root / OUTPUTS[g]).is_file()
                or (root / OUTPUTS[g]).read_text(encoding="utf-8") != text
            ]
            for path in stale:
                print(
                    f"{path} differs from a fresh resolution: run `make requirements`",
                    file=sys.stderr,
                )
            return 1 if stale else 0
        for group, text in texts.items():
            (root / OUTPUTS[group]).write_text(text, encoding="utf-8")
            print(f"wrote {OUTPUTS[group]} ({len(parse_pins(text))} packages)")
    except PinError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
