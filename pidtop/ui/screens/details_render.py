"""Rich renderables of one :class:`~pidtop.details.model.Details` (pure: no I/O, no Textual).

Each section is rendered once per content (:class:`Sections`): a refresh re-renders only the
sections whose drawn values changed (the limits and cgroup hardly ever do).

Process text (argv, paths, names) is appended as plain ``Text``, never parsed as markup; the
core has already sanitised it (no control characters).
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from pidtop.actions.tuning import cpu_list_text
from pidtop.details.model import (
    Cgroup,
    Credentials,
    Details,
    IoCounters,
    Limit,
    Memory,
    Namespace,
    ThreadRow,
    Unavailable,
)
from pidtop.sampling.fmt import format_duration, format_time_plus, human_bytes
from pidtop.sampling.history import sparkline

#: two columns of sections from this width on
TWO_COLUMNS = 110
UNLIMITED = -1

LABEL = "bold"
MUTED = "dim"
BAD = "red"


def _value(value: object, style: str = "") -> Text:
    if isinstance(value, Unavailable):
        return Text(str(value), style="italic " + MUTED)
    return value if isinstance(value, Text) else Text(str(value), style=style)


class _Grid:
    """Label/value rows, drawn segment for segment as ``Table.grid(padding=(0, 1))`` with a
    bold no-wrap first column (at least 11 cells) and a folding second draws them
    (tests/test_details_render.py compares the two), without what a Table costs besides:
    measuring every cell, a ``Padding`` around each, its nested renders (a section's table was
    ~1-3 ms, most of a details body's first render, the screen's layout)."""

    def __init__(self) -> None:
        self.rows: list[tuple[Text, Text]] = []

    def add_row(self, label: str, value: Text) -> None:
        self.rows.append((Text(label), value))

    def _widths(self, max_width: int) -> tuple[int, int]:
        """The label's width and the value's (the table's, after collapsing to fit)."""
        label = max(11, *(cell_len(lab.plain) for lab, _ in self.rows))
        value = max(
            (max(map(cell_len, v.plain.splitlines()), default=0) for _, v in self.rows), default=0
        )
        value = min(value, max_width) or 1
        if label + 1 + value > max_width:  # the table collapses its one wrapping column
            value = max(0, max_width - label - 1)
        return label, value

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        label, value = self._widths(options.max_width)
        return Measurement(label + 1 + value, label + 1 + value)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        label_width, value_width = self._widths(options.max_width)
        bold = console.get_style(LABEL)
        null = Style.null()
        label_options = options.update(
            width=label_width,
            justify="left",
            no_wrap=True,
            overflow="ellipsis",
            height=None,
            highlight=False,
        )
        value_options = options.update(
            width=value_width,
            justify="left",
            no_wrap=False,
            overflow="fold",
            height=None,
            highlight=False,
        )
        render_lines = console.render_lines
        apply_style = Segment.apply_style
        pad = Segment(" ", null)
        new_line = Segment.line()
        blank_label = [Segment(" " * (label_width + 1), bold)]
        blank_value = [Segment(" " * value_width, null)]
        for label, value in self.rows:
            labels = _one_line(console, label, label_width)
            if labels is None:
                labels = render_lines(label, label_options, pad=True)
            labels = [list(apply_style([*line, pad], bold)) for line in labels]
            values = _one_line(console, value, value_width)
            if values is None:
                values = render_lines(value, value_options, pad=True)
            for no in range(max(len(labels), len(values))):
                yield from labels[no] if no < len(labels) else blank_label
                yield from values[no] if no < len(values) else blank_value
                yield new_line


def _one_line(console: Console, text: Text, width: int) -> list[list[Segment]] | None:
    """``text``'s lines at ``width`` as Rich renders them (left-justified, padded), when that is
    one line that fits, in one style: the plain text and its padding, one segment (a third of
    a details body's render was Rich wrapping and justifying such lines); else None."""
    plain = text.plain
    if text._spans or "\n" in plain or "\t" in plain:
        return None
    if text.justify or text.overflow or text.no_wrap is not None:
        return None
    cells = cell_len(plain)
    if not 0 < width >= cells:  # (Rich draws a zero width as a styled empty segment)
        return None
    style = console.get_style(text.style) if text.style else None
    return [[Segment(plain + " " * (width - cells), style)]]


def _grid() -> _Grid:
    return _Grid()


def _measured(table: Table) -> Table:
    """``table`` with each no-wrap column's width set to what Rich would measure (its longest
    cell, at least its min width: the cells are one line each): the same cells, without
    measuring every cell of those columns again at each render (a third of a limits table's)."""
    for col in table.columns:
        if col.no_wrap and col.width is None:
            cells = (c.plain if isinstance(c, Text) else str(c) for c in col._cells)
            col.width = max(col.min_width or 0, 0, *(cell_len(c) for c in cells))
    return table


def _section(title: str, body: RenderableType) -> Group:
    if isinstance(body, Table):
        _measured(body)
    return Group(Text(title, style="bold reverse"), body, Text(""))


def _path(value: str | Unavailable, deleted: bool) -> Text:
    if isinstance(value, Unavailable):
        return _value(value)
    text = Text(value)
    if deleted:
        text.append(" (deleted)", style="bold " + BAD)
    return text


def _when(wall: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(wall))


def _creds(c: Credentials | Unavailable) -> tuple[Text, Text]:
    if isinstance(c, Unavailable):
        return _value(c), _value(c)
    users = Text(f"real {c.uids[0]}, effective {c.uids[1]}")
    if c.uids[2] != c.uids[1] or c.uids[3] != c.uids[1]:
        users.append(f", saved {c.uids[2]}, fs {c.uids[3]}")
    groups = Text(f"real {c.gids[0]}, effective {c.gids[1]}")
    extra = [p.name for p in c.groups if p not in (c.gids[0], c.gids[1])]
    if extra:
        groups.append("; also " + ", ".join(extra))
    return users, groups


def _rate(n: float | None) -> str:
    return "" if n is None else f" ({human_bytes(int(n))}/s)"


def process_part(d: Details) -> Group:
    g = _grid()
    if isinstance(d.argv, tuple) and not d.kernel_thread:
        g.add_row("Command", Text(" ".join(d.argv) or d.comm))
    else:
        g.add_row("Command", _value(d.argv) if not d.kernel_thread else Text(d.command))
    g.add_row("Name", Text(d.comm))
    g.add_row("Executable", _path(d.exe, d.exe_deleted))
    g.add_row("Working dir", _path(d.cwd, d.cwd_deleted))
    chain = Text()
    for i, a in enumerate(d.parents):
        if i:
            chain.append(" ← ", style=MUTED)
        chain.append(f"{a.pid} ", style="bold")
        chain.append(a.name)
    if not d.parents:
        chain = Text(f"{d.ppid}" if d.ppid else "none", style=MUTED)
    else:
        chain.append("  (p opens the parent)", style=MUTED)
    g.add_row("Parents", chain)
    users, groups = _creds(d.creds)
    g.add_row("Users", users)
    g.add_row("Groups", groups)
    g.add_row("State", Text(d.state_text))
    g.add_row("Started", Text(f"{_when(d.start_wall)} (age {format_duration(d.age)})"))
    fds = d.num_fds if isinstance(d.num_fds, Unavailable) else f"{d.num_fds} open"
    g.add_row("Threads", Text(f"{d.num_threads}"))
    g.add_row("Files", _value(fds))
    return _section(f"Process {d.target}", g)


def sched_part(d: Details, ncpu: int) -> Group:
    g = _grid()
    pri = "RT" if d.priority <= -100 else str(d.priority)
    line = f"nice {d.nice}, priority {pri}, {d.policy}"
    if d.rt_priority:
        line += f" (rt priority {d.rt_priority})"
    g.add_row("Priority", Text(line))
    cpu = "-" if d.cpu is None else f"{d.cpu:.1f} %"
    g.add_row("CPU", Text(f"{cpu}, time {format_time_plus(d.cpu_ticks)}"))
    aff = d.affinity
    g.add_row(
        "Affinity",
        _value(aff)
        if isinstance(aff, Unavailable)
        else Text(f"CPUs {cpu_list_text(aff)} of {ncpu}"),
    )
    io = d.ionice
    if isinstance(io, Unavailable):
        g.add_row("I/O prio", _value(io))
    elif io[0] == "none":
        g.add_row("I/O prio", Text("none (follows the nice value)"))
    elif io[0] == "idle":
        g.add_row("I/O prio", Text("idle"))
    else:
        g.add_row("I/O prio", Text(f"{io[0]} {io[1]}"))
    return _section("Scheduling", g)


def memory_part(d: Details) -> Group:
    g = _grid()
    m = d.memory
    if isinstance(m, Memory):
        g.add_row(
            "Memory",
            Text(
                f"RSS {human_bytes(m.rss)}, VIRT {human_bytes(m.vms)}, SHR {human_bytes(m.shared)}"
            ),
        )
    else:
        g.add_row("Memory", _value(m))
    f = d.full_memory
    if f is None:
        g.add_row("USS/PSS", Text("press m to read (smaps: slow on big processes)", style=MUTED))
    elif isinstance(f, Memory):
        g.add_row(
            "USS/PSS",
            Text(f"USS {human_bytes(f.uss)}, PSS {human_bytes(f.pss)}, swap {human_bytes(f.swap)}"),
        )
    else:
        g.add_row("USS/PSS", _value(f))
    io = d.io
    if isinstance(io, IoCounters):
        g.add_row(
            "Disk I/O",
            Text(
                f"read {human_bytes(io.read_bytes)}{_rate(io.read_rate)}, "
                f"written {human_bytes(io.write_bytes)}{_rate(io.write_rate)}"
            ),
        )
        g.add_row(
            "All I/O",
            Text(
                f"read {human_bytes(io.read_chars)} in {io.read_calls} calls, "
                f"written {human_bytes(io.write_chars)} in {io.write_calls} calls"
            ),
        )
    else:
        g.add_row("I/O", _value(io))
    return _section("Memory and I/O", g)


def history_part(
    cpu: Sequence[float], rss: Sequence[float], since: float | None, width: int
) -> Group:
    g = _grid()
    w = max(8, width - 14)
    if not cpu:
        g.add_row("History", Text("not in the table (yet)", style=MUTED))
        return _section("History", g)
    peak = max(cpu)
    g.add_row("CPU%", Text(sparkline(list(cpu), w, max(peak, 1.0)), style="green"))
    g.add_row("", Text(f"now {cpu[-1]:.1f} %, peak {peak:.1f} %", style=MUTED))
    g.add_row("RSS", Text(sparkline(list(rss), w, max(rss) or 1.0), style="cyan"))
    g.add_row(
        "",
        Text(f"now {human_bytes(int(rss[-1]))}, peak {human_bytes(int(max(rss)))}", style=MUTED),
    )
    first = f"since {time.strftime('%H:%M:%S', time.localtime(since))}, " if since else ""
    g.add_row("", Text(f"{first}{len(cpu)} samples", style=MUTED))
    return _section("History", g)


def threads_part(d: Details, limit: int) -> Group:
    rows = d.threads
    if isinstance(rows, Unavailable):
        return _section("Threads", _value(rows))
    t = Table.grid(padding=(0, 1))
    for name, just in (("TID", "right"), ("NAME", "left"), ("S", "left"), ("CPU%", "right")):
        t.add_column(header=name, justify=just, no_wrap=True)  # type: ignore[arg-type]
    t.add_row(*(Text(h, style=LABEL) for h in ("TID", "NAME", "S", "CPU%")))
    shown: Sequence[ThreadRow] = rows[:limit]
    for r in shown:
        cpu = "-" if r.cpu is None else f"{r.cpu:.1f}"
        t.add_row(Text(str(r.tid)), Text(r.name), Text(r.state), Text(cpu))
    more = d.num_threads - len(shown)
    body: list[RenderableType] = [_measured(t)]
    if more > 0:
        body.append(Text(f"… and {more} more", style=MUTED))
    return _section(f"Threads ({d.num_threads})", Group(*body))


def system_part(d: Details) -> Group:
    g = _grid()
    cg = d.cgroup
    if isinstance(cg, Cgroup):
        g.add_row("Cgroup", Text(cg.path or "/"))
        g.add_row("Unit", Text(cg.unit or "none", style="" if cg.unit else MUTED))
        if cg.container:
            g.add_row("Container", Text(cg.container))
    else:
        g.add_row("Cgroup", _value(cg))
    ns = d.namespaces
    if isinstance(ns, Unavailable):
        g.add_row("Namespaces", _value(ns))
    else:
        own = [n for n in ns if not n.shared]
        g.add_row("Namespaces", _namespaces(ns, own))
    return _section("Cgroup and namespaces", g)


def _namespaces(ns: Sequence[Namespace], own: Sequence[Namespace]) -> Text:
    if not own:
        return Text("all shared with pidtop")
    text = Text("own: ")
    text.append(", ".join(f"{n.name}:[{n.id if n.id is not None else '?'}]" for n in own))
    return text


def _limit(v: int, unit: str) -> str:
    if v == UNLIMITED or v < 0:
        return "unlimited"
    return human_bytes(v) if unit == "bytes" else f"{v}{' ' + unit if unit else ''}"


def limits_part(d: Details) -> Group:
    lim = d.limits
    if isinstance(lim, Unavailable):
        return _section("Limits", _value(lim))
    t = Table.grid(padding=(0, 1))
    t.add_column(style=LABEL, no_wrap=True)
    t.add_column(justify="right", no_wrap=True)
    t.add_column(justify="right", no_wrap=True)
    t.add_row(Text(""), Text("soft", style=MUTED), Text("hard", style=MUTED))
    limits: Sequence[Limit] = lim
    for x in limits:
        t.add_row(Text(x.name), Text(_limit(x.soft, x.unit)), Text(_limit(x.hard, x.unit)))
    return _section("Limits", t)


def details_body(
    d: Details,
    *,
    width: int,
    ncpu: int,
    history: tuple[Sequence[float], Sequence[float], float | None],
    thread_rows: int = 12,
    sections: Sections | None = None,
) -> RenderableType:
    """The whole details body: two columns from :data:`TWO_COLUMNS` cells on, else one; each
    section through ``sections`` (rendered again only when what it draws changed)."""
    two = width >= TWO_COLUMNS
    col_width = (width - 2) // 2 if two else width
    once = sections.get if sections is not None else (lambda part: part)
    left = [once(process_part(d)), once(sched_part(d, ncpu)), once(memory_part(d))]
    right = [
        once(history_part(*history, col_width)),
        once(threads_part(d, thread_rows)),
        once(system_part(d)),
        once(limits_part(d)),
    ]
    if not two:
        return Group(*left, *right)
    grid = Table.grid(padding=(0, 2), expand=True)
    # ratio columns take their share whatever their cells measure: width=1 (the minimum a
    # ratio column has anyway) spares measuring every nested table for nothing
    grid.add_column(ratio=1, width=1)
    grid.add_column(ratio=1, width=1)
    grid.add_row(Group(*left), Group(*right))
    return grid


class RenderOnce:
    """``renderable`` rendered once per width: Textual renders a widget's content to measure
    its height, then again to paint it, and again at each layout; a details body is dozens of
    nested tables (tens of ms each time). The segments are the same as the renderable's own
    (the body does not depend on the height: tables render their cells without one)."""

    def __init__(self, renderable: RenderableType, key: Hashable = None) -> None:
        self.renderable = renderable
        #: its :func:`content_key`, when known already
        self.key = key
        self._segments: dict[tuple[object, ...], list[Segment]] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        key = (options.max_width, options.justify, options.overflow, options.no_wrap)
        segments = self._segments.get(key)
        if segments is None:
            segments = self._segments[key] = list(console.render(self.renderable, options))
        yield from segments


def content_key(r: RenderableType) -> Hashable:
    """Everything ``r`` draws (text, styles, spans, the tables' layout), as a hashable value: two
    renderables built by this module with the same key render the same segments."""
    if isinstance(r, str):  # a label: the table renders it as markup-free text
        return ("str", r)
    if isinstance(r, RenderOnce):
        return r.key if r.key is not None else content_key(r.renderable)
    if isinstance(r, Text):
        return (r.plain, str(r.style), tuple(r.spans), r.justify, r.overflow, r.no_wrap, r.end)
    if isinstance(r, _Grid):
        return ("grid", tuple((content_key(label), content_key(value)) for label, value in r.rows))
    if isinstance(r, Group):
        return ("group", tuple(content_key(x) for x in r.renderables))
    if isinstance(r, Table):
        columns = tuple(
            (
                c.justify,
                c.no_wrap,
                c.overflow,
                str(c.style),
                c.min_width,
                c.width,
                c.ratio,
                tuple(content_key(x) for x in c._cells),
            )
            for c in r.columns
        )
        return ("table", r.padding, r.expand, r.show_header, r.box, columns)
    raise TypeError(f"no content key for {type(r).__name__}")


class Sections:
    """Rendered sections by content: :meth:`get` hands back the same :class:`RenderOnce` (its
    segments rendered already) while a section draws the same values, a new one when any
    changed. Keeps only the sections of the last body built (see :meth:`keep_used`)."""

    def __init__(self) -> None:
        self._kept: dict[Hashable, RenderOnce] = {}
        self._used: dict[Hashable, RenderOnce] = {}
        #: sections rendered anew (tests count them)
        self.built = 0

    def get(self, part: RenderableType) -> RenderOnce:
        key = content_key(part)
        once = self._used.get(key) or self._kept.get(key)
        if once is None:
            once = RenderOnce(part, key)
            self.built += 1
        self._used[key] = once
        return once

    def keep_used(self) -> None:
        """The body is built: forget the sections it did not use."""
        self._kept, self._used = self._used, {}
