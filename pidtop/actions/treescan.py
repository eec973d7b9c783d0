"""Finding a tree's processes: children lists and scans of /proc, the descendants a table lists,
and the cgroup v2 a process lives in (with every process of a cgroup).

The readers behind :mod:`pidtop.actions.treefreeze` and the monitor's "whole tree (N processes)"
offer. No Textual here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from pidtop.kernel.stat import StatFields, parse_stat
from pidtop.sampling.snapshot import ProcInfo, ProcKey

# --------------------------------------------------------------------------- /proc


def read_stat(pid: int) -> StatFields | None:
    """``/proc/PID/stat`` of ``pid`` (:func:`~pidtop.kernel.stat.parse_stat`), or None if it is
    not there (or not readable as one)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return parse_stat(f.read())
    except (OSError, ValueError, IndexError):
        return None


def has_children_files() -> bool:
    """Does this kernel have ``/proc/PID/task/TID/children`` (CONFIG_PROC_CHILDREN)?"""
    me = os.getpid()
    return os.path.exists(f"/proc/{me}/task/{me}/children")


def children_of(pid: int, *, threads: bool = True) -> list[int]:
    """Child PIDs of every thread of ``pid`` (empty if it is gone). ``threads=False`` reads the
    main thread's list only (enough for a single-threaded process, and 2-3x cheaper)."""
    if threads:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return []
    else:
        tids = [str(pid)]
    out: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                out.extend(int(p) for p in f.read().split())
        except OSError:
            continue
    return out


def children_by_scan() -> dict[int, list[int]]:
    """One scan of /proc: parent PID -> child PIDs (the fallback without children files)."""
    out: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = read_stat(int(name))
            if stat is not None:
                out.setdefault(stat.ppid, []).append(int(name))
    return out


def listed_descendants(infos: Iterable[ProcInfo], roots: Iterable[ProcKey]) -> list[ProcInfo]:
    """The descendants of ``roots`` among listed processes (a table's rows), roots excluded:
    what the monitor shows as "whole tree (N processes)" before the kill finds the real tree.
    Processes only (not threads); a child started before its parent is a recycled PID."""
    children: dict[int, list[ProcInfo]] = {}
    by_key: dict[ProcKey, ProcInfo] = {}
    for info in infos:
        if not info.is_thread:
            children.setdefault(info.ppid, []).append(info)
            by_key[info.key] = info
    seen = set(roots)
    stack = [by_key[k] for k in seen if k in by_key]
    out: list[ProcInfo] = []
    while stack:
        parent = stack.pop()
        for child in children.get(parent.pid, ()):
            if child.key not in seen and child.starttime >= parent.starttime:
                seen.add(child.key)
                out.append(child)
                stack.append(child)
    return out


# --------------------------------------------------------------------------- cgroup v2


def cgroup2_mount() -> str | None:
    """Where the cgroup v2 hierarchy is mounted (``/sys/fs/cgroup``, or ``.../unified`` on a
    hybrid system), or None."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                parts = left.split()
                if right.split()[:1] == ["cgroup2"] and len(parts) > 4 and parts[3] == "/":
                    return parts[4]
    except OSError:
        pass
    return None


def cgroup_of(pid: int) -> str | None:
    """The cgroup v2 path of ``pid`` (``/system.slice/x.service``), or None."""
    try:
        with open(f"/proc/{pid}/cgroup", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("0::"):
                    return line[3:].rstrip("\n")
    except OSError:
        pass
    return None


def cgroup_procs(directory: str) -> set[int]:
    """Every process in the cgroup at ``directory`` and its descendant cgroups."""
    out: set[int] = set()
    for root, _dirs, files in os.walk(directory):
        if "cgroup.procs" in files:
            try:
                with open(os.path.join(root, "cgroup.procs"), "rb") as f:
                    out.update(int(p) for p in f.read().split())
            except OSError:
                continue
    return out
