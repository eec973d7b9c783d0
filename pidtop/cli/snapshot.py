"""``pidtop snapshot`` (also ``pidtop -b``/``--batch``): the process table for scripts.

The argument parsing and the output stream; the work is in ``pidtop.sampling.batch``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pidtop.cli.args import add_view_arguments, arg_type
from pidtop.cli.args import batch_argv as batch_argv  # where it was (pidtop -b)
from pidtop.cli.output import say, silence_stdout
from pidtop.exitcodes import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from pidtop.kernel.identity import PID_MAX, parse_number
from pidtop.sampling.columns import COLUMN_BY_ID
from pidtop.settings.options import Options

if TYPE_CHECKING:
    from pidtop.sampling.batch import Format

MAX_SAMPLES = 1_000_000

DESCRIPTION = """\
Print the process table once (or -n N times, every -d tenths of a second) as plain text,
JSON or CSV, with the monitor's columns, sort (-s) and filters (-u, -p, --filter, -t).
With --filter, the snapshot leaves its own process out (as pgrep does): its command line
holds the filter text.
The first sample is printed one interval (-d, default 1 s) after start: CPU% is measured
over that interval, never guessed.

Every row carries the identity PID:INODE (the pidfs inode, unique per boot), read through a
pidfd opened for that row and verified against its start time, as `pidtop id` prints it:
give it to `pidtop kill`/`pidtop wait` later and they act on that exact process or refuse
("PID is now another process"), never on a newcomer that got the same PID.

Formats:
  text    a header line and one line per process, at most $COLUMNS cells (80 when stdout
          is not a terminal; -w to change, -w 0 for no limit). Numbers are never cut;
          columns are dropped in the monitor's order (PRI first; CPU% last, the identity
          never) and the command is cut instead. Process text is
          sanitized (control characters as ^X), never an escape sequence.
  --json  one JSON document per sample, on one line (so -n N gives JSON lines), ASCII only.
  --csv   a header row, then one row per process (RFC 4180, UTF-8, CRLF), every sample
          under the same header (the sample and sample_time fields tell them apart).

JSON and CSV carry raw values in the units below (bytes, clock ticks, percent), never the
display text, and the real process text: UTF-8 (bytes that are not UTF-8 become U+FFFD),
control characters escaped by the format only (CSV on a terminal is sanitized: redirect it
for the real text). The exact bytes are in comm_b64 and cmdline_b64 (base64; argv is
cmdline_b64 decoded and split at NUL bytes).

JSON document: sample (1..N), time (epoch s), interval (s, what CPU% is measured over),
clk_tck, page_size, boot_time (epoch s), sort {column, reverse}, tree, filters {user, pids,
text, kernel_threads}, system {cpu_percent [per online CPU], cpu_ids [their CPU numbers],
mem_total, mem_used, swap_total, swap_used (bytes), load [1, 5, 15 min], uptime (s), ncpu},
tasks {total, running, sleeping, stopped, zombie, threads, kernel_threads}, processes [rows in
display order].
"""


EXIT_HELP = f"""\
exit status:
  {EXIT_OK}  success
  {EXIT_FAILURE}  the output could not be written (stdout closed; a closed pipe, as in `| head -1`,
     silently), or /proc could not be read
  {EXIT_USAGE}  bad command line (one line on stderr)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C)
A row's id_status says whether its identity is exact; no row makes the status non-zero."""


def add_snapshot_parser(sub: Any, common: dict[str, Any]) -> None:
    """Register ``pidtop snapshot`` on the command subparsers."""
    from pidtop.sampling.batch import field_help  # the sampler: not for ``pidtop -b`` checks

    snap = sub.add_parser(
        "snapshot", help="print the process table for scripts (text, JSON, CSV)", **common
    )
    snap.description = DESCRIPTION
    snap.epilog = (
        "fields of each process row (JSON keys, CSV header):\n" + field_help() + "\n\n" + EXIT_HELP
    )
    add_view_arguments(snap, delay=10)
    snap.add_argument(
        "-n", "--iterations", type=arg_type(_samples, "N"), default=1, metavar="N",
        help="print N samples, -d apart (default: 1)",
    )  # fmt: skip
    fmt = snap.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON, one document (line) per sample")
    fmt.add_argument("--csv", action="store_true", help="CSV: a header row, then rows")
    snap.add_argument(
        "--filter", default="", metavar="TEXT",
        help="show only processes whose command or name contains TEXT (any case); this "
        "snapshot's own process is left out, as pgrep leaves itself out",
    )  # fmt: skip
    snap.add_argument(
        "-w", "--width", type=arg_type(_width, "COLUMNS"), metavar="COLUMNS",
        help="text: line width (default: $COLUMNS, the terminal's, else 80; 0: no limit)",
    )  # fmt: skip
    snap.add_argument(
        "-o", "--columns", type=arg_type(_columns, "COLUMNS"), metavar="COL,COL...",
        help="the table columns to write, in order (ids or titles, 'all' for every column "
        "listed below; default: the monitor's)",
    )  # fmt: skip
    config = snap.add_mutually_exclusive_group()
    config.add_argument(
        "--config", metavar="PATH",
        help="read the monitor's settings from PATH (default: $XDG_CONFIG_HOME/pidtop/"
        "config.toml); a snapshot never writes it",
    )  # fmt: skip
    config.add_argument(
        "--no-config", action="store_true",
        help="ignore the settings file: the default columns, sort and kernel threads (for "
        "output that is the same for every user)",
    )  # fmt: skip
    from pidtop.cli.record import TIME_HELP, add_store_argument

    snap.add_argument(
        "--at", metavar="TIME",
        help="the recorded moment at TIME (pidtop record) instead of now; -n N: N recorded "
        "samples from there. " + TIME_HELP,
    )  # fmt: skip
    add_store_argument(snap)
    snap.set_defaults(func=cmd_snapshot)


def _samples(text: str) -> int:
    value = parse_number(text, MAX_SAMPLES)
    if not value:
        raise ValueError(f"expected a number of samples, 1-{MAX_SAMPLES}, not {text!r}")
    return value


def _columns(text: str) -> tuple[str, ...]:
    """``-o``: column names (id, title or htop name, as ``-s``), or ``all``."""
    from pidtop.sampling.columns import COLUMNS, resolve_sort_key

    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return tuple(c.id for c in COLUMNS)
    ids: list[str] = []
    for name in names:
        column = resolve_sort_key(name)
        if column is None:
            valid = ", ".join(c.id for c in COLUMNS)
            raise ValueError(f"unknown column {name!r} (one of: {valid}, or all)")
        if column not in ids:
            ids.append(column)
    if not ids:
        raise ValueError("expected at least one column")
    return tuple(ids)


def _width(text: str) -> int:
    value = parse_number(text, PID_MAX)
    if value is None:
        raise ValueError(f"expected a width in columns (0 for no limit), not {text!r}")
    return value


class _WriteError(Exception):
    """Writing to stdout failed (``error`` says why)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _Stdout:
    """Encodes text and writes it to stdout at each flush; a failed write (a closed pipe, a
    full disk) raises :class:`_WriteError` there, nowhere else."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def flush(self) -> None:
        text = "".join(self._parts)
        self._parts = []
        try:
            buf = getattr(sys.stdout, "buffer", None)
            if buf is None:  # stdout replaced by a text-only stream
                sys.stdout.write(text)
                sys.stdout.flush()
            else:
                buf.write(text.encode(self.encoding, "replace"))
                buf.flush()
        except OSError as e:
            raise _WriteError(e) from None


def monitor_settings(path: str | None = None, *, no_config: bool = False) -> Options:
    """The monitor's settings, as configured: its columns, sort, tree and kernel threads are
    the snapshot's unless the command line says otherwise. (Userland threads are never rows:
    a snapshot lists processes, each with its identity.) ``path``: another config file;
    ``no_config``: the defaults only (output that does not depend on the user's settings).
    The config file's problems are warnings on stderr; the output is made with the defaults
    for what was bad."""
    if no_config:
        return Options()
    from pidtop.settings import config

    loaded = config.load(Path(path).expanduser() if path else config.default_path())
    for problem in loaded.problems:
        say(f"pidtop: warning: {problem}", error=True)
    return config.apply(Options(), loaded)


def cmd_snapshot(args: argparse.Namespace) -> int:
    """Run ``pidtop snapshot``."""
    from pidtop.sampling.batch import BatchOptions, run

    if sys.stdout is None:
        say("pidtop: cannot write to stdout: it is closed", error=True)
        return EXIT_FAILURE
    tty = sys.stdout.isatty()
    fmt: Format = "json" if args.json else "csv" if args.csv else "text"
    width = args.width if args.width is not None else shutil.get_terminal_size((80, 24)).columns
    monitor = monitor_settings(args.config, no_config=args.no_config)
    columns = args.columns or monitor.columns
    sort_column = args.sort_key or monitor.sort_column
    opts = BatchOptions(
        format=fmt,
        samples=args.iterations,
        delay=args.delay / 10.0,
        sort_column=sort_column if sort_column in COLUMN_BY_ID else None,
        sort_reverse=None if args.sort_key else monitor.sort_reverse,
        user=args.user,
        pids=frozenset(args.pid) if args.pid else None,
        filter_text=args.filter,
        tree=args.tree or monitor.tree,
        kernel_threads=monitor.show_kernel_threads,
        width=width,
        sanitize_csv=tty,
        columns=[COLUMN_BY_ID[c] for c in columns if c in COLUMN_BY_ID],
        own_pid=os.getpid(),
    )
    encoding = "utf-8" if fmt != "text" else (sys.stdout.encoding or "utf-8")
    try:
        if args.at is not None:
            from pidtop.cli.record import snapshot_at

            return snapshot_at(args, run, opts, _Stdout(encoding))
        run(opts, _Stdout(encoding))  # type: ignore[arg-type]
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except _WriteError as e:
        silence_stdout()
        if not isinstance(e.error, BrokenPipeError):  # `| head -1` is the reader's choice
            say(f"pidtop: cannot write to stdout: {e.error.strerror or e.error}", error=True)
        return EXIT_FAILURE
    except OSError as e:  # /proc unreadable
        say(f"pidtop snapshot: {e}", error=True)
        return EXIT_FAILURE
    return EXIT_OK
