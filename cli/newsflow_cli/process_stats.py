"""CPU time and memory of a process, read from ``/proc`` (Linux): the local stack's moto
server and its workers are separate processes, and each has its own figures."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessStats:
    pid: int
    cpu_seconds: float  # user + system
    rss_mb: float
    peak_rss_mb: float  # VmHWM: the high-water mark of the resident set


def process_stats(pid: int) -> ProcessStats | None:
    """The process's figures now, or None when it is gone (or this is not Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after its ")" are fixed.
    fields = stat.rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    memory = {}
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            memory[name] = int(value.split()[0]) / 1024
    return ProcessStats(
        pid=pid,
        cpu_seconds=round(cpu, 2),
        rss_mb=round(memory.get("VmRSS", 0.0), 1),
        peak_rss_mb=round(memory.get("VmHWM", 0.0), 1),
    )
