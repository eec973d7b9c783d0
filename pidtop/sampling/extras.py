"""Optional per-process fields and their parsers: read only while a column needs them.

The sampler reads ``/proc/PID/stat`` (and ``statm`` when it changed) for every process; the
files here cost one more read each per process and are read only when the table asks for the
*field* (``ProcessTable.fields``: the visible columns plus the sort column), so a hidden column
costs nothing. Names of the fields (``ProcSampler.sample(fields=...)``):

``io``      ``/proc/PID/io`` ``read_bytes``/``write_bytes`` (storage I/O, as htop and iotop);
            a process pidtop may not inspect (another user's, without root) reads ``IO_DENIED``.
``cgroup``  ``/proc/PID/cgroup``: the cgroup v2 path (``0::``), else the ``name=systemd``
            hierarchy, else the first controller path that is not ``/``.
``oom``     ``/proc/PID/oom_score``.
``ctxsw``   ``voluntary_ctxt_switches``/``nonvoluntary_ctxt_switches`` of ``/proc/PID/status``.

Also here: the TTY name of a ``tty_nr`` (as ``ps`` names it) and the systemd unit or container of
a cgroup path. No Textual, no UI.
"""

from __future__ import annotations

import functools
import os
import stat as stat_mod

from pidtop.sampling.fmt import sanitize

__all__ = [
    "FIELD_CGROUP",
    "FIELD_CTXSW",
    "FIELD_IO",
    "FIELD_OOM",
    "IO_DENIED",
    "OPTIONAL_FIELDS",
    "cgroup_owner",
    "cgroup_unit",
    "parse_cgroup",
    "parse_ctxsw",
    "parse_io",
    "tty_name",
]

FIELD_IO = "io"
FIELD_CGROUP = "cgroup"
FIELD_OOM = "oom"
FIELD_CTXSW = "ctxsw"
OPTIONAL_FIELDS = frozenset({FIELD_IO, FIELD_CGROUP, FIELD_OOM, FIELD_CTXSW})

#: ``ProcInfo.io_read``/``io_write`` of a process whose ``/proc/PID/io`` is not readable (EACCES)
IO_DENIED = -1


def parse_io(data: bytes) -> tuple[int, int]:
    """``(read_bytes, write_bytes)`` of a ``/proc/PID/io`` text; ValueError if absent."""
    read = write = -1
    for line in data.split(b"\n"):
        if line.startswith(b"read_bytes:"):
            read = int(line[11:])
        elif line.startswith(b"write_bytes:"):
            write = int(line[12:])
    if read < 0 or write < 0:
        raise ValueError("no read_bytes/write_bytes")
    return read, write


def parse_ctxsw(data: bytes) -> tuple[int, int]:
    """``(voluntary, involuntary)`` context switches from a ``/proc/PID/status`` text."""
    vol = invol = -1
    tail = data[data.rfind(b"\nvoluntary_ctxt_switches:") :]  # the last lines of the file
    for line in tail.split(b"\n"):
        if line.startswith(b"voluntary_ctxt_switches:"):
            vol = int(line[24:])
        elif line.startswith(b"nonvoluntary_ctxt_switches:"):
            invol = int(line[27:])
    if vol < 0 or invol < 0:
        raise ValueError("no ctxt_switches")
    return vol, invol


def parse_cgroup(data: bytes) -> str:
    """The one path that says where a process lives (see the module docstring)."""
    v2 = systemd = other = ""
    for line in data.decode("utf-8", "replace").splitlines():
        hid, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hid == "0" and not controllers:
            v2 = path
        elif controllers == "name=systemd":
            systemd = path
        elif not other and path not in ("", "/"):
            other = path
    for path in (v2, systemd, other):
        if path and path != "/":
            return sanitize(path)
    return sanitize(v2 or systemd or "/")


def cgroup_owner(path: str) -> tuple[str | None, str | None]:
    """(systemd unit, container) derived from a cgroup v2 path; None where there is none."""
    parts = [p for p in path.split("/") if p]
    unit = None
    for p in reversed(parts):
        if p.endswith((".service", ".scope", ".socket", ".mount", ".swap")):
            unit = p
            break
    container = None
    for i, p in enumerate(parts):
        for prefix, kind in (
            ("docker-", "docker"),
            ("libpod-", "podman"),
            ("cri-containerd-", "containerd"),
        ):
            if p.startswith(prefix) and p.endswith(".scope"):
                container = f"{kind} {p[len(prefix) : -len('.scope')][:12]}"
        if p in ("docker", "lxc") and i + 1 < len(parts):
            ident = parts[i + 1]
            container = f"{p} {ident[:12] if p == 'docker' else ident}"
        if p.startswith("lxc.payload."):
            container = f"lxc {p[len('lxc.payload.') :]}"
        if p.startswith("kubepods"):
            pod = next((q for q in parts[i:] if q.startswith(("pod", "kubepods-pod"))), None)
            if pod is not None:
                container = f"kubernetes {pod.removesuffix('.slice')}"
    return unit, container


@functools.lru_cache(maxsize=4096)
def cgroup_unit(path: str | None) -> str:
    """What the UNIT column shows for a cgroup path: the container (``docker 1a2b3c4d5e6f``)
    if any, else the systemd unit (``ssh.service``, ``session-3.scope``), else ``""``."""
    if not path:
        return ""
    unit, container = cgroup_owner(path)
    return container or unit or ""


_tty_cache: dict[int, str] = {}
_dev_names: dict[int, str] | None = None


def _scan_dev() -> dict[int, str]:
    """rdev -> name of the character devices directly in /dev (once, lazily)."""
    names: dict[int, str] = {}
    try:
        with os.scandir("/dev") as it:
            for entry in it:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat_mod.S_ISCHR(st.st_mode):
                    names.setdefault(st.st_rdev, entry.name)
    except OSError:
        pass
    return names


def tty_name(tty_nr: int) -> str:
    """The controlling terminal's name like ``ps``: ``pts/3``, ``tty1``, ``ttyS0``; ``?`` for
    none; ``major:minor`` when no device node names it."""
    if tty_nr == 0:
        return "?"
    name = _tty_cache.get(tty_nr)
    if name is not None:
        return name
    major = (tty_nr >> 8) & 0xFFF
    minor = (tty_nr & 0xFF) | ((tty_nr >> 12) & 0xFFF00)
    if 136 <= major <= 143:  # Unix98 pty slaves
        name = f"pts/{(major - 136) * 256 + minor}"
    elif major == 4 and minor < 64:
        name = f"tty{minor}"
    elif major == 4:
        name = f"ttyS{minor - 64}"
    else:
        global _dev_names
        if _dev_names is None:
            _dev_names = _scan_dev()
        name = _dev_names.get(os.makedev(major, minor), f"{major}:{minor}")
    _tty_cache[tty_nr] = name
    return name
