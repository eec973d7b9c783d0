"""Batch output (``pidtop snapshot``, ``pidtop -b``): the process table as text, JSON or CSV.

The monitor's own sampler (:class:`ProcSampler`) and table model (:class:`ProcessTable`: CPU%
maths, sort, filters, tree) produce the rows; this module only writes them out. Every row gets
an identity a script can act on later: a pidfd is opened for it (``ProcessHandle.open``, the
same verified open as ``pidtop id``: pidfd, fstat for the pidfs inode, start time re-checked),
the exact name and argv are read while the pidfd is held, and the pidfd is closed again.

Columns come from the table's registry (``COLUMNS``): a column added there appears in every
format. JSON and CSV carry each column's *raw* value (bytes, ticks, percent), never the display
string; see :data:`FIXED_FIELDS` and :func:`column_unit` for names and units.

Process text: the text format prints the sampler's sanitized text (no control characters).
JSON and CSV carry the real text (UTF-8; bytes that are not UTF-8 become U+FFFD, since JSON
and CSV readers expect Unicode) and, byte-exact, ``cmdline_b64``/``comm_b64``: base64 of the
raw ``/proc/PID/cmdline`` and ``comm`` bytes. JSON is written ASCII-only, so control
characters are always ``\\u001b``-style escapes and never reach a terminal raw.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, TextIO

from pidtop.kernel.errors import FdLimit, HandleError, IdentityMismatch, ProcessGone
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.rawtext import RawCommand, argv_join, read_raw_command
from pidtop.sampling.columns import COLUMN_BY_ID, COLUMNS, DEFAULT_COLUMNS, Column, cell_text
from pidtop.sampling.fmt import sanitize
from pidtop.sampling.layout import (
    cell_width,
    cut_cells,
    fit_cell,
    layout_columns,
    pad_cells,
)
from pidtop.sampling.rows import Row
from pidtop.sampling.sampler import ProcSampler
from pidtop.sampling.snapshot import ProcessSource, Snapshot
from pidtop.sampling.table import ProcessTable

__all__ = [
    "FIXED_FIELDS",
    "BatchOptions",
    "Format",
    "IdentityStatus",
    "RowIdentity",
    "column_unit",
    "csv_fields",
    "field_help",
    "identify",
    "json_row",
    "run",
    "text_lines",
]

Format = Literal["text", "json", "csv"]

#: ``exact``: PID:INODE, verified; ``pid-only``: the kernel has no pidfs inodes (Linux < 6.9
#: or no pidfds), only the PID (with the start time to check it); ``zombie``: the exact
#: PID:INODE of a process that has exited and is not yet reaped: nothing can act on it (a
#: signal does nothing; ``pidtop id`` refuses it for that reason), only ``pidtop wait``, which
#: reports its exit at once; ``exited``: the process was gone (or its PID was another
#: process) by the time its pidfd was opened: no identity; ``unknown``: the pidfd could not be
#: opened for another reason (out of fds, not permitted).
IdentityStatus = Literal["exact", "pid-only", "zombie", "exited", "unknown"]

#: The columns written by default: the monitor's default columns (the registry, ``COLUMNS``,
#: has more; each is documented by ``field_help``).
SHOWN: tuple[Column, ...] = tuple(COLUMN_BY_ID[i] for i in DEFAULT_COLUMNS)

#: Per-row fields that are not table columns, in output order, with their units / meaning.
FIXED_FIELDS: Mapping[str, str] = {
    "id": "PID:INODE to give pidtop kill/wait (or util-linux kill/waitpid); just PID "
    "when id_status is pid-only; null when there is no identity",
    "id_status": "exact | pid-only | zombie (exited, not yet reaped: not actionable) | "
    "exited | unknown",
    "inode": "pidfs inode (64-bit, unique per boot), or null",
    "start_ticks": "start time in clock ticks since boot (/proc/PID/stat field 22)",
    "start_time": "start time, seconds since the epoch (UTC)",
    "uid": "owner's uid (the effective one, as USER shows), or null",
    "comm": "kernel name of the process (text)",
    "comm_b64": "the comm bytes exactly, base64; null if unreadable",
    "argv": "JSON only: the argument list (text)",
    "cmdline_b64": "/proc/PID/cmdline exactly, base64 (arguments separated by NUL bytes); "
    "empty for kernel threads and zombies, null if unreadable",
    "kernel_thread": "true for a kernel thread",
    "depth": "depth in the tree (-t), 0 otherwise",
}

#: Raw value and unit of the columns the registry had before it grew its own raw accessor
#: (``Column.raw``/``Column.unit`` win when present, so new columns need nothing here).
_RAW: Mapping[str, tuple[Callable[[Row], object], str]] = {
    "pid": (lambda r: r.info.pid, "process ID"),
    "user": (lambda r: r.info.user, "user name (the uid as text when it has no name)"),
    "pri": (lambda r: r.info.priority, "kernel priority (/proc/PID/stat field 18)"),
    "ni": (lambda r: r.info.nice, "nice value"),
    "virt": (lambda r: r.info.vsize, "bytes"),
    "res": (lambda r: r.info.rss, "bytes"),
    "shr": (lambda r: r.info.shared, "bytes, or null"),
    "s": (lambda r: r.info.state, "state letter (R S D Z T t I X)"),
    "cpu": (lambda r: r.cpu, "percent of one CPU over the interval (may exceed 100)"),
    "mem": (lambda r: r.mem, "percent of MemTotal"),
    "time": (lambda r: r.info.utime + r.info.stime, "clock ticks (utime + stime; see clk_tck)"),
    "command": (lambda r: r.info.command, "command line (text), [comm] for a kernel thread"),
}


_UNIT_TEXT = {"ticks": "clock ticks (1/clk_tck s)", "count": "a count"}


def column_unit(col: Column) -> str:
    """What a column's raw value is: its description and unit (from the registry)."""
    description = str(getattr(col, "description", "") or "")
    unit = str(getattr(col, "unit", "") or "")
    known = _RAW.get(col.id)
    if not description:
        return known[1] if known else unit or "text"
    unit = _UNIT_TEXT.get(unit, unit)
    if col.id == "start":
        unit += " since boot (as start_ticks)"
    return f"{description}; {unit}" if unit else description


def _raw_value(row: Row, col: Column) -> object:
    raw = getattr(col, "raw", None)
    if callable(raw):
        return raw(row)
    known = _RAW.get(col.id)
    if known is not None:
        return known[0](row)
    return cell_text(row, col.id)  # a column without a raw accessor: its display text


def field_help(columns: Sequence[Column] = COLUMNS) -> str:
    """The field list of ``--help`` and the README: every field with its unit."""
    shown = {c.id for c in SHOWN}
    items = [*FIXED_FIELDS.items()]
    items += [
        (c.id, f"{c.title}{'' if c.id in shown else ' (-o)'}: {column_unit(c)}") for c in columns
    ]
    wrap = textwrap.TextWrapper(width=92, initial_indent=" " * 16, subsequent_indent=" " * 16)
    return "\n".join(f"  {name:<13} " + wrap.fill(text)[16:] for name, text in items)


# --------------------------------------------------------------------------- identity


@dataclass(frozen=True, slots=True)
class RowIdentity:
    """What opening a row's process found: its identity and its exact name and argv."""

    id: str | None
    status: IdentityStatus
    inode: int | None = None
    raw: RawCommand | None = None  # read while the pidfd was held; None when not trusted


def identify(row: Row, *, exact_text: bool = True) -> RowIdentity:
    """Open the row's process (verified against the sampled start time), read its inode and
    (``exact_text``: JSON and CSV) its exact command text, close it. Never raises for a
    vanished process."""
    info = row.info
    try:
        handle = ProcessHandle.open(info.pid, starttime=info.starttime, allow_exited=True)
    except (ProcessGone, IdentityMismatch):
        return RowIdentity(None, "exited")
    except (HandleError, FdLimit):
        return RowIdentity(None, "unknown")
    with handle:
        raw: RawCommand | None = read_raw_command(info.pid) if exact_text else None
        if raw is not None and handle.state() == "reaped":
            raw = None  # the PID may be another process's now: the text may not be its
        if handle.inode is None:
            return RowIdentity(str(info.pid), "pid-only", None, raw)
        if handle.opened_exited or handle.state() != "running":  # as pidtop id says
            return RowIdentity(f"{info.pid}:{handle.inode}", "zombie", handle.inode, raw)
        return RowIdentity(f"{info.pid}:{handle.inode}", "exact", handle.inode, raw)


# --------------------------------------------------------------------------- rows


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _real_text(row: Row, raw: RawCommand | None) -> tuple[str, list[str], str]:
    """(command, argv, comm) as real text; the sampler's (sanitized) text when unreadable."""
    info = row.info
    if raw is None or raw.comm is None:
        return info.command, [], info.comm
    comm = raw.comm.decode("utf-8", "replace")
    args = raw.cmdline[:-1] if raw.cmdline.endswith(b"\0") else raw.cmdline
    argv = [a.decode("utf-8", "replace") for a in args.split(b"\0")] if args else []
    command = f"[{comm}]" if info.is_kernel_thread else (argv_join(raw.cmdline) or comm)
    return command, argv, comm


def json_row(
    row: Row, ident: RowIdentity, snap: Snapshot, columns: Sequence[Column] = SHOWN
) -> dict[str, Any]:
    """One process as a JSON object: :data:`FIXED_FIELDS`, then every column's raw value."""
    info = row.info
    command, argv, comm = _real_text(row, ident.raw)
    raw = ident.raw
    out: dict[str, Any] = {
        "id": ident.id,
        "id_status": ident.status,
        "inode": ident.inode,
        "start_ticks": info.starttime,
        "start_time": round(snap.boot_time + info.starttime / snap.clk_tck, 2),
        "uid": info.uid,
        "comm": comm,
        "comm_b64": _b64(None if raw is None else raw.comm),
        "argv": argv,
        "cmdline_b64": _b64(None if raw is None else raw.cmdline),
        "kernel_thread": info.is_kernel_thread,
        "depth": row.depth,
    }
    for col in columns:
        out[col.id] = command if col.id == "command" else _raw_value(row, col)
    return out


def csv_fields(columns: Sequence[Column] = SHOWN) -> list[str]:
    """The CSV header: sample number and time, the fixed fields but ``argv``, the columns."""
    fixed = [f for f in FIXED_FIELDS if f != "argv"]
    return ["sample", "sample_time", *fixed, *(c.id for c in columns)]


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


# --------------------------------------------------------------------------- text


def text_lines(
    rows: Sequence[Row],
    idents: Sequence[RowIdentity],
    width: int,
    clk_tck: int = 100,
    columns: Sequence[Column] = SHOWN,
    *,
    snapshot: Snapshot | None = None,
) -> list[str]:
    """The table as plain lines of at most ``width`` cells (0: no limit): a header, then a row
    per process. The PID column shows the identity (``PID:INODE``; ``PID`` alone where the
    kernel has no inode; ``PID:-`` when the process exited before it could be opened).

    Numbers are never cut: a numeric column is as wide as its widest cell. While the line is
    too wide, columns go as in the monitor (:func:`pidtop.sampling.layout.layout_columns`:
    ``Column.drop`` order, COMMAND keeping ``MIN_COMMAND_WIDTH`` cells, the essential ones
    only once COMMAND is down to ``ESSENTIAL_COMMAND_WIDTH``); the identity column never goes.
    Text columns are cut to their width as in the monitor (ending in ``…``), COMMAND to the
    rest of the line, with the monitor's cell widths (wide characters take two cells).
    Process text is sanitized (no escape sequences, no line breaks)."""
    cells: list[tuple[Column, str, list[str]]] = []
    for col in columns:
        if col.id == "pid":
            texts = [i.id or f"{r.info.pid}:-" for r, i in zip(rows, idents, strict=True)]
            cells.append((col, "PID:INODE", texts))
            continue
        texts = [sanitize(cell_text(r, col.id, clk_tck, snapshot=snapshot)) for r in rows]
        if col.id == "command":
            texts = [sanitize(r.tree_prefix) + t for r, t in zip(rows, texts, strict=True)]
        elif col.align == "left" and col.width > 0:  # numbers are never cut
            texts = [fit_cell(t, col.width, col.cut, ellipsis=True) for t in texts]
        cells.append((col, col.title, texts))
    widths = {
        col.id: max([cell_width(title), col.width, *(cell_width(t) for t in texts)])
        for col, title, texts in cells
        if col.width > 0
    }
    shown = [(col, widths.get(col.id, 0), title, texts) for col, title, texts in cells]
    if width:
        by_id = {col.id: (title, texts) for col, title, texts in cells}
        placed = layout_columns([c for c, _, _ in cells], width, widths=widths, keep=("pid",))
        shown = [(p.column, p.width, *by_id[p.column.id]) for p in placed]
    lines: list[str] = []
    for i in range(-1, len(rows)):
        parts: list[str] = []
        for col, size, title, texts in shown:
            text = title if i < 0 else texts[i]
            if col.width > 0:
                parts.append(pad_cells(text, size, col.align))
            elif width:  # the flexible column (COMMAND) takes the rest of the line
                parts.append(pad_cells(cut_cells(text, size), size))
            else:
                parts.append(text)
        lines.append(" ".join(parts).rstrip())
    return lines


# --------------------------------------------------------------------------- the run


@dataclass(slots=True)
class BatchOptions:
    """What ``pidtop snapshot`` was asked for (all the monitor's view options included)."""

    format: Format = "text"
    samples: int = 1
    delay: float = 1.0  # seconds between samples; also the wait before the first
    sort_column: str | None = None  # a Column.id; None: the table's default (CPU%)
    sort_reverse: bool | None = None  # None: the column's default direction
    user: str | None = None
    pids: frozenset[int] | None = None
    filter_text: str = ""
    tree: bool = False
    kernel_threads: bool | None = None  # None: as the monitor is configured
    width: int = 80  # text format: cells per line, 0 for no limit
    sanitize_csv: bool = False  # stdout is a terminal: no raw control characters in CSV
    columns: Sequence[Column] = field(default=SHOWN)
    #: left out of every sample when a text filter is given: the snapshot's own process (its
    #: argv holds the filter text, so it would always match, and could sort first)
    own_pid: int | None = None


def make_table(opts: BatchOptions) -> ProcessTable:
    """A table model with the options' sort, filters, tree and kernel-thread setting."""
    table = ProcessTable(
        sort_column=opts.sort_column or "cpu",
        sort_reverse=opts.sort_reverse,
        columns=[c.id for c in opts.columns],
    )
    table.set_filter(opts.filter_text)
    table.set_user(opts.user)
    table.set_pids(opts.pids)
    table.show_dying = False  # a snapshot lists what the sample saw (tree lines included)
    table.set_tree(opts.tree)
    if opts.kernel_threads is not None:
        table.set_threads(kernel=opts.kernel_threads)
    return table


def samples(
    opts: BatchOptions,
    source: ProcessSource | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[tuple[int, ProcessTable, float]]:
    """Yield ``(n, table, interval)`` ``opts.samples`` times (n from 1). The first sample is
    taken one interval after a priming one, so CPU% is measured, never a zero guess."""
    own = source is None
    src: ProcessSource = ProcSampler() if source is None else source
    try:
        table = make_table(opts)
        table.update(_sample(src, table, opts))  # what the columns and sort need
        for n in range(1, opts.samples + 1):
            sleep(opts.delay)
            before = table.snapshot.time if table.snapshot is not None else 0.0
            table.update(_sample(src, table, opts))
            assert table.snapshot is not None
            yield n, table, table.snapshot.time - before
    finally:
        if own:
            src.close()  # type: ignore[attr-defined]


def _sample(src: ProcessSource, table: ProcessTable, opts: BatchOptions) -> Snapshot:
    """One sample, without ``opts.own_pid`` when a text filter is set (as pgrep leaves itself
    out)."""
    snap = src.sample(fields=table.fields)
    if opts.own_pid is None or not opts.filter_text:
        return snap
    return replace(snap, processes=tuple(p for p in snap.processes if p.pid != opts.own_pid))


def _live(table: ProcessTable) -> list[Row]:
    """The visible rows of the latest sample (rows of processes gone in it are left out)."""
    return [r for r in table.rows if r.status != "dying"]


#: how a row gets its identity: :func:`identify` (a pidfd, now) or, for a recorded moment,
#: what the recording says (``pidtop snapshot --at``)
Identify = Callable[[Row], RowIdentity]


def json_document(
    n: int, table: ProcessTable, interval: float, opts: BatchOptions, ident: Identify = identify
) -> dict[str, Any]:
    """One sample as one JSON document (see the README for the shape)."""
    snap = table.snapshot
    assert snap is not None
    rows = _live(table)
    system = asdict(snap.system)
    system["cpu_ids"] = list(snap.system.cpu_numbers())  # the CPU number of each cpu_percent
    return {
        "sample": n,
        "time": round(snap.wall, 3),
        "interval": round(interval, 4),
        "clk_tck": snap.clk_tck,
        "page_size": snap.page_size,
        "boot_time": round(snap.boot_time, 3),
        "sort": {"column": table.sort_column, "reverse": table.sort_reverse},
        "tree": table.tree,
        "filters": {
            "user": table.user_filter,
            "pids": None if table.pid_filter is None else sorted(table.pid_filter),
            "text": table.filter_text,
            "kernel_threads": table.show_kernel_threads,
        },
        "system": system,
        "tasks": asdict(table.tasks),
        "processes": [json_row(r, ident(r), snap, opts.columns) for r in rows],
    }


def run(
    opts: BatchOptions,
    out: TextIO,
    source: ProcessSource | None = None,
    sleep: Callable[[float], None] = time.sleep,
    ident: Identify | None = None,
) -> None:
    """Write ``opts.samples`` samples to ``out``, flushing after each. Write errors
    (``BrokenPipeError`` and other ``OSError``) propagate to the caller. ``ident``: where
    identities come from (default: a pidfd per row, :func:`identify`)."""
    csv_header = False
    exact = ident or identify
    quick = ident or (lambda row: identify(row, exact_text=False))  # text: the sample's text
    for n, table, interval in samples(opts, source, sleep):
        snap = table.snapshot
        assert snap is not None
        if opts.format == "json":
            doc = json_document(n, table, interval, opts, exact)
            out.write(json.dumps(doc, ensure_ascii=True, separators=(",", ":")) + "\n")
        elif opts.format == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\r\n")
            if not csv_header:
                writer.writerow(csv_fields(opts.columns))
                csv_header = True
            for row in _live(table):
                obj = json_row(row, exact(row), snap, opts.columns)
                obj.pop("argv")
                if opts.sanitize_csv:
                    for key in ("comm", "command"):
                        obj[key] = sanitize(str(obj[key]))
                writer.writerow([n, round(snap.wall, 3), *(_csv_cell(v) for v in obj.values())])
            out.write(buf.getvalue())
        else:
            rows = _live(table)
            idents = [quick(r) for r in rows]
            lines = text_lines(rows, idents, opts.width, snap.clk_tck, opts.columns, snapshot=snap)
            out.write(("\n" if n > 1 else "") + "\n".join(lines) + "\n")
        out.flush()
