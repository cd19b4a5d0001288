"""What /proc says about processes: their parent and the CPU time they have used.

Shared by the two halves of the sessions bench, which is why it is a module of its own:
:mod:`blindspot.bench.sessions` finds the app processes the deploy launcher started and stops
them, and :mod:`blindspot.bench.walk` counts the CPU of the servers and of the browsers over a
walk.  Standard library only, like both of them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (field 3, state, is [0])."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children(ppid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _proc_stat(int(stat.parent.name))
        if fields and int(fields[1]) == ppid:
            out.append(int(stat.parent.name))
    return out


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` now (one pass over /proc, then the tree)."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _proc_stat(int(stat.parent.name))
        if fields:
            parent[int(stat.parent.name)] = int(fields[1])
    out: set[int] = set()
    frontier = [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p and c not in out]
        out.update(kids)
        frontier.extend(kids)
    return out


def server_cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds used so far by the processes ``pids`` themselves (their threads
    included, not their children), from /proc/<pid>/stat; a process that is gone counts 0."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = _proc_stat(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime, stime: stat fields 14 and 15
    return total / tick
