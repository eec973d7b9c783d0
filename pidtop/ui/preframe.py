"""The monitor's first frame, painted before Textual is imported (issue 18: first frame).

Importing Textual, building the app and starting it take ~0.5 s before Textual's first frame.
The first sample does not need any of it: :func:`show` takes it, lays the table out with the
table's own code (:mod:`pidtop.sampling.layout`, ``cell_text``) and writes the header, the
table and an empty footer line with plain ANSI (the default theme's colours) on the alternate
screen. Textual then starts on that screen and draws over it: its driver
(:class:`pidtop.ui.quit.QuickExitDriver`) calls :func:`hand_over` and does not enter the
alternate screen a second time (xterm and VTE clear it when they do).

The terminal in the gap: echo and canonical mode off (a key typed then is neither echoed over
the frame nor held until Enter; it waits in the tty's queue for Textual's input thread), signals
kept (ctrl+c is SIGINT). :func:`hand_over` puts the ORIGINAL attributes back just before the
driver saves them, so the driver restores those at exit. Every way out before that
(:meth:`PreFrame.close`: an error, a signal, a failed start-up) leaves the alternate screen,
shows the cursor and restores the attributes. ctrl+z (SIGTSTP) in the gap does the same, then
stops pidtop; at ``fg`` the gap's attributes and the frame come back (:func:`_suspend`).

Only for the live monitor on a terminal (stdin, stdout, stderr); ``--no-preframe`` or
``PIDTOP_NO_PREFRAME=1`` turn it off. Never imports Textual or Rich.

One thing: the gap before Textual. What is drawn in it and how the terminal is held during it
share one lifetime (:func:`show` to :func:`hand_over` or :meth:`PreFrame.close`, ctrl+z in
between redraws the same frame); the drawing half (``render`` and its helpers, ~250 lines)
mirrors the header's and rows' look and could be a module of its own if it grows.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import termios
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from pidtop.sampling.changes import ChangeFeed
from pidtop.sampling.columns import COLUMN_BY_ID, Column, cell_text
from pidtop.sampling.fmt import human_bytes, sanitize
from pidtop.sampling.layout import cell_width, cut_cells, layout_columns, pad_cells
from pidtop.sampling.rows import Row, TaskCounts
from pidtop.sampling.snapshot import ProcessSource, Snapshot
from pidtop.sampling.table import ProcessTable
from pidtop.settings.options import Options, from_args

#: set to anything but "" or "0": no pre-frame
ENV_OFF = "PIDTOP_NO_PREFRAME"
#: smaller terminals get no pre-frame (the app's header is compact there, not drawn here:
#: ``pidtop.ui.app.COMPACT_HEIGHT``)
MIN_WIDTH, MIN_HEIGHT = 60, 20
#: the signals whose default action would end pidtop with the frame still up
_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _sgr(*codes: str) -> str:
    return f"\x1b[{';'.join(codes)}m"


#: the default theme's (textual-dark) colours as Textual writes them: 24-bit when COLORTERM says
#: so, else the 256-colour indexes it picks (read from tmux captures of the app)
_RGB = {
    "fg": (224, 224, 224), "bg": (18, 18, 18), "label": (87, 165, 226), "ok": (78, 191, 113),
    "warn": (254, 166, 43), "error": (186, 60, 91), "head_fg": (223, 228, 231),
    "head_bg": (12, 48, 76), "sort_fg": (255, 255, 255), "sort_bg": (254, 166, 43),
    "cur_fg": (221, 237, 249), "cur_bg": (1, 120, 212), "name": (255, 196, 115),
    "deleted": (209, 126, 146), "track": (0, 48, 84), "footer": (36, 47, 56),
}  # fmt: skip
_INDEX = {
    "fg": 253, "bg": 233, "label": 74, "ok": 71, "warn": 214, "error": 131, "head_fg": 253,
    "head_bg": 23, "sort_fg": 231, "sort_bg": 214, "cur_fg": 195, "cur_bg": 32, "name": 222,
    "deleted": 174, "track": 23, "footer": 17,
}  # fmt: skip


class _Palette:
    """The escape sequences of each style (truecolor or 256 colours)."""

    def __init__(self, truecolor: bool) -> None:
        def c(kind: str, name: str) -> str:
            if truecolor:
                r, g, b = _RGB[name]
                return f"{kind};2;{r};{g};{b}"
            return f"{kind};5;{_INDEX[name]}"

        fg = c("38", "fg")
        self.base = _sgr("0", fg, c("48", "bg"))
        self.label = _sgr("1", c("38", "label"))
        self.bracket = _sgr("1", fg)
        self.plain = _sgr("22", fg)
        self.bar = {k: _sgr("22", c("38", v)) for k, v in (("low", "ok"), ("mid", "warn"))}
        self.bar["high"] = _sgr("22", c("38", "error"))
        self.mem, self.swap = _sgr("22", c("38", "warn")), self.plain
        self.head = _sgr("0", "1", c("38", "head_fg"), c("48", "head_bg"))
        self.sorted = _sgr("1", c("38", "sort_fg"), c("48", "sort_bg"))
        self.cursor = _sgr("0", "1", c("38", "cur_fg"), c("48", "cur_bg"))
        self.name = _sgr("1", c("38", "name"))
        self.deleted = _sgr("1", c("38", "deleted"))
        self.track = _sgr("0", c("48", "track"))
        self.footer = _sgr("0", c("48", "footer"))


class _NoFit(Exception):
    """The app lays this terminal out in a way the pre-frame does not draw."""


class Interrupted(Exception):
    """A signal ended start-up while the pre-frame was up (``status``: 128 + its number)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.status = 128 + signum


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


class _Gap:
    """The terminal as the gap holds it, for ctrl+z: its attributes before and during the
    gap, and the frame on the alternate screen (b"": none written yet)."""

    def __init__(self, fd: int, attrs: list[Any], quiet: list[Any]) -> None:
        self.fd, self.attrs, self.quiet = fd, attrs, quiet
        self.frame = b""


#: the gap's terminal while :func:`_suspend` handles SIGTSTP (None: not in the gap)
_gap: _Gap | None = None


def _suspend(_signum: int, _frame: FrameType | None) -> None:
    """ctrl+z in the gap: the terminal as before pidtop (main screen, cursor, attributes), then
    stop as SIGTSTP does by default; at ``fg`` (SIGCONT) take the terminal back: the gap's
    attributes and the same frame again (the shell drew over it). Resumed in the background
    (``bg``), the terminal is left to Textual's driver, which waits for the foreground."""
    gap = _gap
    if gap is not None:
        if gap.frame:
            _write(gap.fd, _LEAVE)
        with contextlib.suppress(termios.error):
            termios.tcsetattr(0, termios.TCSANOW, gap.attrs)
    signal.signal(signal.SIGTSTP, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTSTP)  # stopped here until SIGCONT
    if _gap is None or _gap is not gap:  # the gap ended meanwhile (never while stopped)
        return
    signal.signal(signal.SIGTSTP, _suspend)
    try:
        foreground = os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        foreground = False
    if foreground:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(0, termios.TCSANOW, gap.quiet)
        if gap.frame:
            _write(gap.fd, gap.frame)


#: leave the alternate screen, the cursor shown, line wrap and colours back
_LEAVE = b"\x1b[0m\x1b[?7h\x1b[?1049l\x1b[?25h"


def _write(fd: int, data: bytes) -> None:
    with contextlib.suppress(OSError):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]


@dataclass
class PreFrame:
    """What :func:`show` painted with: the first sample for the app, and the terminal's state."""

    feed: ChangeFeed
    source: ProcessSource
    snapshot: Snapshot | None  # None once handed over (the app has it; not kept for its run)
    fd: int
    attrs: list[Any]  # termios attributes before the pre-frame
    handed_over: bool = False

    def hand_over(self) -> None:
        """Textual takes the terminal: the original attributes back (its driver saves them)."""
        self.snapshot = None  # the caller holds this object until the app ends
        if not self.handed_over:
            self.handed_over = True
            with contextlib.suppress(termios.error):
                termios.tcsetattr(0, termios.TCSANOW, self.attrs)
            _release_signals()

    def close(self) -> None:
        """Textual never started: leave the alternate screen, show the cursor, restore the
        attributes. No-op once handed over."""
        global _current
        if _current is self:
            _current = None
        if self.handed_over:
            return
        self.handed_over = True
        _restore(self.fd, self.attrs)


_current: PreFrame | None = None


def hand_over() -> bool:
    """Called by the driver as it starts: True if a pre-frame is on the alternate screen (the
    driver then does not enter it again). Later calls (after ctrl+z, fg): False."""
    global _current
    frame, _current = _current, None
    if frame is None or frame.handed_over:
        return False
    frame.hand_over()
    return True


def _restore(fd: int, attrs: list[Any], *, screen: bool = True) -> None:
    """The terminal as before :func:`show`: attributes, signals, and (``screen``: the frame
    was written) the main screen and the cursor."""
    if screen:
        _write(fd, _LEAVE)
    with contextlib.suppress(termios.error):
        termios.tcsetattr(0, termios.TCSANOW, attrs)
    _release_signals()


def _release_signals() -> None:
    global _gap
    _gap = None
    for signum in _SIGNALS:
        if signal.getsignal(signum) is _raise:
            signal.signal(signum, signal.SIG_DFL)
    if signal.getsignal(signal.SIGTSTP) is _suspend:
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)


def wanted(args: Any) -> bool:
    """Whether to paint one: the live monitor (not --replay, --demo), on a terminal, not off."""
    if getattr(args, "no_preframe", False) or os.environ.get(ENV_OFF, "") not in ("", "0"):
        return False
    if getattr(args, "replay", None) is not None or getattr(args, "demo", False):
        return False
    try:
        return all(os.isatty(fd) for fd in (0, 1, 2)) and _colour_mode(os.environ) is not None
    except OSError:
        return False


def _colour_mode(env: Mapping[str, str]) -> bool | None:
    """True: 24-bit colour, False: 256 colours, as Textual will draw; None: a terminal the app
    draws otherwise (NO_COLOR, 8/16 colours, no UTF-8 locale: see :mod:`pidtop.ui.display`),
    which gets no pre-frame."""
    if "NO_COLOR" in env:
        return None
    coerced = sys.flags.utf8_mode and env.get("LC_CTYPE") == "C.UTF-8" and not env.get("LC_ALL")
    names = [
        n
        for n in ("LC_ALL", "LC_CTYPE", "LANG")
        if env.get(n) and not (coerced and n == "LC_CTYPE")
    ]
    if not names or not any(u in env[names[0]].lower() for u in ("utf-8", "utf8")):
        return None
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return True
    return False if env.get("TERM", "").endswith("256color") else None


def options_for(args: Any) -> Options:
    """The view options as the app will have them (the config file's keymap is not checked)."""
    from pidtop.settings import config

    if args.no_config:
        return from_args(args, Options(config_path=None))
    path = Path(args.config).expanduser() if args.config else config.default_path()
    loaded = config.load(path)
    return from_args(args, config.apply(Options(config_path=path), loaded))


def show(args: Any) -> PreFrame | None:
    """Sample /proc and paint the first frame (None: not wanted, too small, or it failed:
    the terminal is then as it was)."""
    global _current
    if not wanted(args):
        return None
    try:
        size = os.get_terminal_size(1)
        if size.columns < MIN_WIDTH or size.lines < MIN_HEIGHT:
            return None
        fd = sys.stdout.fileno()
        attrs = termios.tcgetattr(0)
        options = options_for(args)
    except (OSError, termios.error, ValueError):
        return None
    if options.theme != "textual-dark" or options.user or options.pids:
        return None  # the colours here are the default theme's; no filter bar drawn here
    quiet = list(attrs)
    quiet[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN)  # lflag; ISIG kept
    quiet[0] &= ~(termios.IXON | termios.IXOFF | termios.ICRNL | termios.INLCR | termios.IGNCR)
    cc = list(quiet[6])
    cc[termios.VMIN], cc[termios.VTIME] = 1, 0
    quiet[6] = cc
    global _gap
    for signum in _SIGNALS:
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _raise)
    _gap = gap = _Gap(fd, attrs, quiet)
    if signal.getsignal(signal.SIGTSTP) is signal.SIG_DFL:  # job control: ctrl+z
        signal.signal(signal.SIGTSTP, _suspend)
    with contextlib.suppress(termios.error):
        termios.tcsetattr(0, termios.TCSANOW, quiet)
    from pidtop.sampling.sampler import ProcSampler

    feed = ChangeFeed()
    source = ProcSampler(feed=feed)
    table = _table(options)
    written = False  # from the first byte written on, the alternate screen may be up
    try:
        snap = source.sample(threads=table.show_threads, fields=table.fields)
        table.update(snap)
        pal = _Palette(bool(_colour_mode(os.environ)))
        data = render(table, options, size.columns, size.lines, pal).encode()
        written = True
        # ctrl+z waits until the whole frame is written (its handler then has all of it)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTSTP})
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            gap.frame = data
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTSTP})
    except (KeyboardInterrupt, Interrupted):
        _restore(fd, attrs, screen=written)
        raise
    except Exception:  # a failed first sample, a layout not drawn here: the app as before
        _restore(fd, attrs, screen=written)
        return None
    _current = frame = PreFrame(feed, source, snap, fd, attrs)
    return frame


def _table(options: Options) -> ProcessTable:
    """The table model as the app makes it (:class:`pidtop.ui.app.PidtopApp`)."""
    table = ProcessTable(
        sort_column=options.sort_column, sort_reverse=options.sort_reverse, columns=options.columns
    )
    if options.user:
        table.set_user(options.user)
    if options.pids:
        table.set_pids(frozenset(options.pids))
    if options.tree:
        table.set_tree(True)
    table.set_threads(user=options.show_threads, kernel=options.show_kernel_threads)
    return table


def render(table: ProcessTable, options: Options, width: int, height: int, pal: _Palette) -> str:
    """The whole frame as text with ANSI colours, for an alternate screen of ``width`` x
    ``height``: header, table header, rows (the first one under the cursor), footer line."""
    snap = table.snapshot
    assert snap is not None
    head = [" " + line for line in _header(snap, table.tasks, options, width - 2, pal)]
    if len(head) > height // 2:  # the app caps the header at half the screen (#top)
        raise _NoFit("the header is taller than half the screen")
    out = ["\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[H", pal.base]
    lines = [pal.base + h + pal.base + "\x1b[K" for h in head]
    rows = max(0, height - len(head) - 2)
    scrollbar = len(table.rows) > rows  # the table's scrollbar takes the last cell
    table_lines = _table_lines(table, width - scrollbar, rows, pal)
    if scrollbar:  # its track (Textual draws the thumb)
        table_lines = [f"{line}\x1b[{width}G{pal.track} " for line in table_lines]
    lines += table_lines
    lines.append(pal.footer + "\x1b[K")
    out.append("\r\n".join(lines[: height - 1] + lines[-1:]))
    out.append("\x1b[0m")
    return "".join(out)


def _bar(label: str, fraction: float, value: str, width: int, colour: str, pal: _Palette) -> str:
    inner = width - len(label) - 2
    if inner < 1:
        return pal.label + label.ljust(width)[:width]
    fraction = min(max(fraction, 0.0), 1.0)
    if len(value) > inner:
        value = ""
    filled = min(round(fraction * inner), inner - len(value))
    return (
        f"{pal.label}{label}{pal.bracket}[{colour}{'|' * filled}{pal.plain}"
        f"{' ' * (inner - filled - len(value))}{value}{pal.bracket}]"
    )


def _header(
    snap: Snapshot, tasks: TaskCounts, options: Options, width: int, pal: _Palette
) -> list[str]:
    """The meters as :class:`pidtop.ui.widgets.meters.Meters` lays them out (not compact):
    bars in the left half, figures in the right half, then the status words."""
    from pidtop.ui.status import StatusState, status_parts

    sysinfo = snap.system
    half = (width - 1) // 2
    left_w, right_w = half, width - half - 1
    numbers = sysinfo.cpu_numbers()
    digits = len(str(max(numbers, default=0)))
    cpu_cols = 1 if len(numbers) <= 4 or half < 24 else 2

    def cpu_bars(w: int) -> list[tuple[str, int]]:
        bars = []
        for n, pct in zip(numbers, sysinfo.cpu_percent, strict=True):
            level = "high" if pct >= 90 else "mid" if pct >= 60 else "low"
            bars.append(
                (_bar(f"{n:>{digits}}", pct / 100, f"{pct:.1f}%", w, pal.bar[level], pal), w)
            )
        return bars

    left: list[tuple[str, int]] = []
    right: list[tuple[str, int]] = []
    for meter in options.meters:
        if meter == "cpu":
            bars = cpu_bars(left_w)
            if cpu_cols == 1:
                left += bars
                continue
            split = (len(bars) + 1) // 2
            right[:0] = [("", 0)] * len(left) + cpu_bars(right_w)[split:]
            left += bars[:split]
        elif meter in ("memory", "swap"):
            mem = meter == "memory"
            used = sysinfo.mem_used if mem else sysinfo.swap_used
            total = sysinfo.mem_total if mem else sysinfo.swap_total
            value = f"{human_bytes(used)}/{human_bytes(total)}"
            fraction = used / total if total else 0.0
            colour = pal.mem if mem else pal.swap
            bar = _bar("Mem" if mem else "Swp", fraction, value, left_w, colour, pal)
            left.append((bar, left_w))
        elif meter == "load":
            load = " ".join(f"{v:.2f}" for v in sysinfo.load)
            right.append((f"{pal.label}Load average: {pal.bracket}{load}", 14 + len(load)))
        elif meter == "uptime":
            up = int(sysinfo.uptime)
            days, rest = divmod(up, 86400)
            clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
            text = (f"{days} day{'s' if days != 1 else ''}, " if days else "") + clock
            right.append((f"{pal.label}Uptime: {pal.bracket}{text}", 8 + len(text)))
        elif meter == "tasks":
            right += _tasks(tasks, right_w, pal)
    state = StatusState(
        sort_column=options.sort_column,
        sort_reverse=COLUMN_BY_ID[options.sort_column].default_reverse
        if options.sort_reverse is None
        else options.sort_reverse,
        delay=options.delay,
        tree=options.tree,
        show_threads=options.show_threads,
        show_kernel_threads=options.show_kernel_threads,
    )
    parts = [*status_parts(state), *(("Exits: starting",) if options.journal else ())]
    for sep in ("  ", " "):  # as the header's status line: shorter words, then one space
        status = sep.join(parts)
        if cell_width(status) <= right_w:
            break
        parts = [p.removeprefix("Sort: ").removeprefix("Delay: ") for p in parts]
    else:
        raise _NoFit("the status words need more than one line")
    right.append((f"{pal.plain}{status}", len(status)))
    lines = []
    for i in range(max(len(left), len(right))):
        lt = left[i][0] if i < len(left) and left[i][1] else " " * left_w
        rt = right[i][0] if i < len(right) else ""
        lines.append(f"{lt}{pal.base} {rt}")
    return lines


def _tasks(t: TaskCounts, width: int, pal: _Palette) -> list[tuple[str, int]]:
    """The two lines of the tasks meter, in the longest wording that fits (as the header)."""

    def fit(*variants: str) -> tuple[str, int]:
        chosen = next((v for v in variants if len(v.replace("{", "").replace("}", "")) <= width),
                      variants[-1])  # fmt: skip
        plain = chosen.replace("{", "").replace("}", "")
        return chosen.replace("{", pal.bracket).replace("}", pal.plain), len(plain)

    total, thr, kthr, run = t.total, t.threads, t.kernel_threads, t.running
    one = fit(
        f"Tasks: {{{total}}}, {{{thr}}} thr, {{{kthr}}} kthr; {{{run}}} running",
        f"Tasks: {{{total}}}, {{{thr}}} thr, {{{kthr}}} kthr; {{{run}}} run",
        f"Tasks: {{{total}}}, {{{thr}}} thr; {{{run}}} run",
    )
    sleeping, stopped, zombie = t.sleeping, t.stopped, t.zombie
    two = fit(
        f"        {{{sleeping}}} sleeping, {{{stopped}}} stopped, {{{zombie}}} zombie",
        f"{{{sleeping}}} sleeping, {{{stopped}}} stopped, {{{zombie}}} zombie",
        f"{{{sleeping}}} sleep, {{{stopped}}} stop, {{{zombie}}} zomb",
    )
    return [
        (pal.label + "Tasks: " + pal.plain + one[0][len("Tasks: ") :], one[1]),
        (pal.plain + two[0], two[1]),
    ]


def _table_lines(table: ProcessTable, width: int, count: int, pal: _Palette) -> list[str]:
    """The table's header and its first ``count`` rows, ``width`` cells each."""
    columns: Sequence[Column] = table.columns
    fit = {p.column.id for p in layout_columns(columns, width - 1, 1)}
    placed = layout_columns([c for c in columns if c.id in fit], width, 0)
    snap = table.snapshot
    arrow = "▼" if table.sort_reverse else "▲"
    head = []
    for p in placed:
        title = p.column.title
        if p.column.id == table.sort_column:
            title = arrow + title if p.column.align == "right" else title + arrow
            head.append(pal.sorted + pad_cells(title, p.width, p.column.align) + pal.head)
        else:
            head.append(pad_cells(title, p.width, p.column.align))
    lines = [pal.head + " ".join(head) + "\x1b[K" + pal.base]
    rows: Sequence[Row] = table.rows
    for i, row in enumerate(rows[:count]):
        cells = []
        for p in placed:
            if p.column.id == "command":
                cells.append(_command(row, p.width, i == 0, pal))
                continue
            text = sanitize(cell_text(row, p.column.id, snapshot=snap))
            cells.append(pad_cells(cut_cells(text, p.width), p.width, p.column.align))
        line = " ".join(cells)
        lines.append((pal.cursor if i == 0 else pal.base) + line + "\x1b[K" + pal.base)
    lines += [pal.base + "\x1b[K"] * (count - min(count, len(rows)))
    return lines


def _command(row: Row, width: int, cursor: bool, pal: _Palette) -> str:
    """The COMMAND cell as the table draws it: tree prefix, the command line with argv[0]'s
    name in bold (the cursor's row: plain), `` (deleted)`` after it when the executable
    file was deleted (red)."""
    prefix = cut_cells(sanitize(row.tree_prefix), width)
    room = width - cell_width(prefix)
    info = row.info
    command = sanitize(info.command)
    if cursor or info.is_kernel_thread or not info.cmdline:
        return pad_cells(prefix + cut_cells(command, room), width)
    end = command.find(" ")
    end = len(command) if end < 0 else end
    start = command.rfind("/", 0, end) + 1
    if info.exe_deleted:
        command = command[:end] + " (deleted)" + command[end:]
        end += len(" (deleted)")
    text = pad_cells(cut_cells(command, room), room)
    style = pal.deleted if info.exe_deleted else pal.name
    return f"{prefix}{text[:start]}{style}{text[start:end]}{pal.base}{text[end:]}"
