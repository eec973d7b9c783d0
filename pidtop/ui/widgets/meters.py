"""Header meters: CPU bars, memory/swap bars, tasks, load average, uptime and the status line.

Everything is built as ``rich.text.Text`` with styles from component classes (theme variables in
``styles/pidtop.tcss``), so no markup is ever parsed. With the ``-compact`` class (tiny
terminals) the whole header collapses to a single line.

Painting uses the Line API: each line becomes a cached ``Strip`` and a new sample repaints only
the lines whose content changed (usually the CPU bars and the clock), not the whole header.
Through ``render()`` Textual re-laid out and restyled all of it every refresh (~1.8 ms per frame
at 200 columns, the largest part of a frame at 200 processes).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from pidtop.sampling.fmt import human_bytes
from pidtop.sampling.rows import TaskCounts
from pidtop.sampling.snapshot import Snapshot
from pidtop.settings.options import DEFAULT_METERS

#: A bar needs at least this many cells to be worth drawing.
MIN_BAR = 12


def format_uptime(seconds: float) -> str:
    """htop style: ``3 days, 04:05:06`` / ``04:05:06``."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if days:
        return f"{days} day{'s' if days != 1 else ''}, {clock}"
    return clock


def _short_status(part: str) -> str:
    """A status word in its short form: the label of the sort and the delay left out."""
    for label in ("Sort: ", "Delay: "):
        if part.startswith(label):
            return part[len(label) :]
    return part


class Meters(Widget):
    """The header: meters on the left, figures and status on the right."""

    COMPONENT_CLASSES = {
        "meters--label",
        "meters--bracket",
        "meters--bar",
        "meters--bar-mid",
        "meters--bar-high",
        "meters--bar-mem",
        "meters--bar-swap",
        "meters--value",
        "meters--figure",
        "meters--paused",
        "meters--status",
    }

    def __init__(
        self,
        meters: tuple[str, ...] = DEFAULT_METERS,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        #: the meters shown, in order (names of :data:`pidtop.settings.options.METERS`)
        self.meters = tuple(meters)
        self.snapshot: Snapshot | None = None
        self.tasks = TaskCounts()
        self.status: tuple[str, ...] = ()
        self.paused = False
        self.badge = ""  # shown in PAUSED's place (a replay's moment)
        #: a merge is under way: new status words wait for its :meth:`update_snapshot`, which
        #: draws them with the new sample (one rebuild of the lines a second, not two)
        self.hold_status = False
        #: painted lines for ``_strips_width`` (None: rebuild on the next paint)
        self._strips: list[Strip] | None = None
        self._strips_width = -1
        #: the Text of each painted line (a line equal to its old self keeps its strip)
        self._line_texts: list[Text] = []
        #: the meters' lines for (width, snapshot, tasks, meters): a new status reuses them
        self._meter_cache: tuple[Snapshot | None, tuple[object, ...], list[Text], list[Text]] | None
        self._meter_cache = None
        self._seg_styles: dict[tuple[object, ...], Style] = {}
        self._partial: dict[str, Style] = {}

    def update_snapshot(self, snap: Snapshot, tasks: TaskCounts) -> None:
        """Show a new sample (``tasks`` as counted by the table model)."""
        old = self.snapshot
        self.snapshot = snap
        self.tasks = tasks
        # a relayout only when the number of lines can change (first sample, CPU count)
        same_shape = old is not None and old.system.cpu_numbers() == snap.system.cpu_numbers()
        if same_shape:
            self._repaint_changed()
        else:
            self._strips = None
            self.refresh(layout=True)

    def set_meters(self, meters: tuple[str, ...]) -> None:
        """Show these meters, in this order (setup screen)."""
        meters = tuple(meters)
        if meters != self.meters:
            self.meters = meters
            self._strips = None
            self.refresh(layout=True)

    def set_status(self, parts: tuple[str, ...], paused: bool, badge: str = "") -> None:
        """The status words (sort, delay, tree...) and the PAUSED flag; ``badge`` (``REPLAY
        2026-12-06 03:12:10``) is shown in PAUSED's place and style."""
        if parts != self.status or paused != self.paused or badge != self.badge:
            self.status = parts
            self.paused = paused
            self.badge = badge
            if not self.hold_status:
                self._repaint_changed()

    # ------------------------------------------------------------------ line painting
    def _repaint_changed(self) -> None:
        """Rebuild the lines and repaint only those that differ from what is on screen."""
        old = self._strips
        if old is None or not self.is_mounted or self._compact_mode(self._strips_width):
            self._strips = None
            self.refresh()
            return
        new = self._build_strips(self._strips_width)
        self._strips = new
        if len(new) != len(old):
            self.refresh(layout=True)
            return
        w = self._strips_width  # one refresh: each call clears caches and checks idle again
        pairs = enumerate(zip(old, new, strict=True))
        if changed := [Region(0, y, w, 1) for y, (a, b) in pairs if a != b]:
            self.refresh(*changed)

    def _build_strips(self, width: int) -> list[Strip]:
        """One strip per line of ``_lines(width)``, segment for segment what Textual makes of
        the ``Text`` (widget style + span style, an ``offset`` meta per segment as used by text
        selection, padding with the background only), so the screen is unchanged. A line whose
        text (characters and styles) is what it was at the same place and width keeps its
        strip: a new status word or a new CPU figure builds one line, not the header."""
        lines = self._lines(width)
        old = self._strips if self._strips_width == width else None
        texts = self._line_texts if old else []
        self._line_texts = lines
        styles = self._seg_styles
        if len(styles) > 4096:
            styles.clear()
        strips = []
        for y, line in enumerate(lines):
            if old and y < min(len(old), len(texts)) and texts[y] == line:
                strips.append(old[y])
                continue
            if (base := self._partial.get("")) is None:  # kept: it walks the ancestors
                base = self._partial[""] = self.rich_style
            plain = line.plain
            line_style = line.style or None
            cuts: list[tuple[int, int, Style | str | None]] = []
            pos = 0
            for start, end, span_style in line.spans:
                if start >= end:
                    continue
                if start > pos:
                    cuts.append((pos, start, None))
                cuts.append((start, end, span_style))
                pos = end
            if pos < len(plain):
                cuts.append((pos, len(plain), None))
            segments = []
            x = 0
            for start, end, cut_style in cuts:
                text = plain[start:end]
                key = (line_style, cut_style, x, y)
                style = styles.get(key)
                if style is None:
                    style = base
                    for extra in (line_style, cut_style):
                        if extra:
                            style = style + (
                                extra if isinstance(extra, Style) else Style.parse(extra)
                            )
                    style = styles[key] = style + Style.from_meta({"offset": (x, y)})
                segments.append(Segment(text, style))
                x += cell_len(text)
            strips.append(Strip(segments, x).adjust_cell_length(width, Style(bgcolor=base.bgcolor)))
        return strips

    def _compact_mode(self, width: int) -> bool:
        return self.has_class("-compact") or width < 40

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the header (Line API), from the cached strips."""
        width = self.size.width
        if self._compact_mode(width):
            return super().render_line(y)  # one line through ``render()``, as Textual does it
        if self._strips is None or self._strips_width != width:
            self._strips = self._build_strips(width)
            self._strips_width = width
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.rich_style)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """``height: auto``: as many lines as ``render()`` makes for ``width``."""
        if self._compact_mode(width):
            return 1
        return len(self._lines(width))

    def notify_style_update(self) -> None:
        """Theme or CSS changed: restyle every line."""
        super().notify_style_update()
        self._seg_styles.clear()
        self._partial.clear()
        self._strips = None
        self._line_texts = []
        self._meter_cache = None

    # ------------------------------------------------------------------ rendering
    def _s(self, name: str) -> Style:
        style = self._partial.get(name)
        if style is None:
            style = self._partial[name] = self.get_component_rich_style(
                f"meters--{name}", partial=True
            )
        return style

    def _bar(self, label: str, fraction: float, value: str, width: int, kind: str) -> Text:
        """``label[|||||     value]`` exactly ``width`` cells wide."""
        text = Text(no_wrap=True, overflow="crop")
        text.append(label, self._s("label"))
        inner = width - len(label) - 2
        if inner < 1:
            return Text(label.ljust(width)[:width], self._s("label"))
        text.append("[", self._s("bracket"))
        fraction = min(max(fraction, 0.0), 1.0)
        if len(value) > inner:
            value = ""
        filled = min(round(fraction * inner), inner - len(value))
        if kind == "cpu":
            kind = "bar-high" if fraction >= 0.9 else "bar-mid" if fraction >= 0.6 else "bar"
        text.append("|" * filled, self._s(kind))
        text.append(" " * (inner - filled - len(value)))
        text.append(value, self._s("value"))
        text.append("]", self._s("bracket"))
        return text

    def _cpu_bars(self, width: int) -> list[Text]:
        snap = self.snapshot
        if snap is None:
            return []
        cpus = snap.system.cpu_percent
        numbers = snap.system.cpu_numbers()  # the kernel's CPU numbers (offline ones skipped)
        digits = len(str(max(numbers, default=0)))
        return [
            self._bar(f"{n:>{digits}}", pct / 100.0, f"{pct:.1f}%", width, "cpu")
            for n, pct in zip(numbers, cpus, strict=True)
        ]

    def _mem_bar(self, meter: str, width: int) -> list[Text]:
        """The ``memory`` or ``swap`` bar."""
        snap = self.snapshot
        if snap is None:
            return []
        sysinfo = snap.system
        if meter == "memory":
            label, used, total, kind = "Mem", sysinfo.mem_used, sysinfo.mem_total, "bar-mem"
        else:
            label, used, total, kind = "Swp", sysinfo.swap_used, sysinfo.swap_total, "bar-swap"
        frac = used / total if total else 0.0
        return [self._bar(label, frac, f"{human_bytes(used)}/{human_bytes(total)}", width, kind)]

    def _fit(self, width: int, *variants: list[tuple[str, Style | None]]) -> Text:
        """The first variant (``(text, style)`` pieces) that fits ``width`` cells, else the
        last one: the longer wording where there is room, the numbers kept where there is not."""
        chosen = variants[-1]
        for pieces in variants:
            if sum(cell_len(text) for text, _ in pieces) <= width:
                chosen = pieces
                break
        line = Text(no_wrap=True, overflow="crop")
        for text, style in chosen:
            line.append(text, style)
        return line

    def _figure(self, meter: str, width: int) -> list[Text]:
        """The lines of the ``tasks``, ``load`` or ``uptime`` meter."""
        snap = self.snapshot
        if snap is None:
            return []
        label, fig = self._s("label"), self._s("figure")
        if meter == "load":
            load = Text(no_wrap=True, overflow="crop")
            load.append("Load average: ", label)
            load.append(" ".join(f"{v:.2f}" for v in snap.system.load), fig)
            return [load]
        if meter == "uptime":
            up = Text(no_wrap=True, overflow="crop")
            up.append("Uptime: ", label)
            up.append(format_uptime(snap.system.uptime), fig)
            return [up]
        t = self.tasks
        total, thr, kthr, run = (str(n) for n in (t.total, t.threads, t.kernel_threads, t.running))
        sleeping, stopped, zombie = (str(n) for n in (t.sleeping, t.stopped, t.zombie))
        return [
            self._fit(
                width,
                [("Tasks: ", label), (total, fig), (", ", None), (thr, fig), (" thr, ", None),
                 (kthr, fig), (" kthr; ", None), (run, fig), (" running", None)],
                [("Tasks: ", label), (total, fig), (", ", None), (thr, fig), (" thr, ", None),
                 (kthr, fig), (" kthr; ", None), (run, fig), (" run", None)],
                [("Tasks: ", label), (total, fig), (", ", None), (thr, fig), (" thr; ", None),
                 (run, fig), (" run", None)],
            ),
            self._fit(
                width,
                [("        ", None), (sleeping, fig), (" sleeping, ", None), (stopped, fig),
                 (" stopped, ", None), (zombie, fig), (" zombie", None)],
                [(sleeping, fig), (" sleeping, ", None), (stopped, fig),
                 (" stopped, ", None), (zombie, fig), (" zombie", None)],
                [(sleeping, fig), (" sleep, ", None), (stopped, fig), (" stop, ", None),
                 (zombie, fig), (" zomb", None)],
            ),
        ]  # fmt: skip

    def _status_line(self, width: int) -> Text | None:
        """The status words on ONE line of ``width`` cells, or None when they do not fit even
        in their short form ("Sort: CPU%▼" -> "CPU%▼", "Delay: 1.5s" -> "1.5s", one space).
        Never cut in the middle: the numbers at the end ("Watch: 16 (113 skipped)") matter."""
        # " PAUSED " or " REPLAY <moment> " (a replay's badge, never dropped) and a space
        badge = self.badge or ("PAUSED" if self.paused else "")
        flag = cell_len(badge) + 3 if badge else 0
        parts = list(self.status)
        for sep in ("  ", " "):
            text = sep.join(parts)
            if flag + cell_len(text) <= width:
                break
            parts = [_short_status(p) for p in parts]
        else:
            return None
        line = Text(no_wrap=True, overflow="crop")
        if badge:
            line.append(f" {badge} ", self._s("paused"))
            line.append(" ")
        line.append(text, self._s("status"))
        return line

    def _status_lines(self, width: int) -> list[Text]:
        """The status words wrapped between words (when even one short line is too narrow)."""
        rows: list[list[str]] = [[]]
        flag = self.badge or ("PAUSED" if self.paused else "")
        used = len(flag) + 3 if flag else 0  # " PAUSED " and a space
        for part in self.status:
            n = cell_len(part)
            sep = 2 if rows[-1] else 0
            if used and used + sep + n > width:  # the next line (never an empty one)
                rows.append([])
                used = sep = 0
            used += sep + n
            rows[-1].append(part)
        lines: list[Text] = []
        for i, row in enumerate(rows):
            line = Text(no_wrap=True, overflow="crop")
            if i == 0 and flag:
                line.append(f" {flag} ", self._s("paused"))
                line.append(" ")
            line.append("  ".join(row), self._s("status"))
            lines.append(line)
        return lines

    def _compact(self, width: int) -> Text:
        """One line for tiny terminals."""
        snap = self.snapshot
        line = Text(no_wrap=True, overflow="crop")
        if self.paused or self.badge:
            line.append(self.badge or "PAUSED", self._s("paused"))
            line.append(" ")
        if snap is None:
            line.append("Sampling…", self._s("label"))
            return line
        sysinfo = snap.system
        cpus = sysinfo.cpu_percent
        avg = f"{sum(cpus) / len(cpus) if cpus else 0.0:.0f}%"
        label, fig = self._s("label"), self._s("figure")
        used, total = human_bytes(sysinfo.mem_used), human_bytes(sysinfo.mem_total)
        load, tasks = f"{sysinfo.load[0]:.2f}", str(self.tasks.total)
        room = width - line.cell_len
        shown = set(self.meters)
        # (meter, label, value) per variant, the longest wording that fits: cut, "Tasks" lost
        # its number at 40 columns
        variants = [
            [("cpu", "CPU", avg), ("memory", "Mem", f"{used}/{total}"), ("load", "Load", load),
             ("tasks", "Tasks", tasks)],
            [("cpu", "CPU", avg), ("memory", "Mem", used), ("load", "Load", load),
             ("tasks", "Tasks", tasks)],
            [("cpu", "CPU", avg), ("memory", "Mem", used), ("tasks", "Tasks", tasks)],
        ]  # fmt: skip
        pieces: list[list[tuple[str, Style | None]]] = []
        for variant in variants:
            chosen: list[tuple[str, Style | None]] = []
            for meter, name, value in variant:
                if meter in shown:
                    chosen += [(f" {name} " if chosen else f"{name} ", label), (value, fig)]
            pieces.append(chosen)
        line.append_text(self._fit(room, *pieces))
        return line

    def render(self) -> Text:
        """Lay the meters out for the current width."""
        return self._text(self.size.width)

    def _text(self, width: int) -> Text:
        if self._compact_mode(width):
            return self._compact(width)
        return Text("\n", no_wrap=True, overflow="crop", end="").join(self._lines(width))

    def _meter_lines(self, width: int) -> tuple[list[Text], list[Text]]:
        """The meters' lines (left: bars, right: figures), each cut to its half, kept while
        the width, the sample, the task counts and the meters shown are the same."""
        key = (width, self.tasks, self.meters)
        cached = self._meter_cache
        if cached is not None and cached[0] is self.snapshot and cached[1] == key:
            return cached[2], cached[3]
        ncpu = len(self.snapshot.system.cpu_percent) if self.snapshot else 0
        half = (width - 1) // 2
        left_w, right_w = half, width - half - 1
        cpu_cols = 1 if ncpu <= 4 else 2
        if cpu_cols == 2 and half < 2 * MIN_BAR:
            cpu_cols = 1
        left: list[Text] = []
        right: list[Text] = []
        # bars in the left half, figures in the right half, each in the configured order
        for meter in self.meters:
            if meter == "cpu":
                if cpu_cols == 1:
                    left.extend(self._cpu_bars(left_w))
                    continue
                bars_l = self._cpu_bars(left_w)
                split = (len(bars_l) + 1) // 2
                # the second column of CPUs level with the first, at the top of the right half
                right[:0] = [Text()] * len(left) + self._cpu_bars(right_w)[split:]
                left.extend(bars_l[:split])
            elif meter in ("memory", "swap"):
                left.extend(self._mem_bar(meter, left_w))
            else:
                right.extend(self._figure(meter, right_w))
        if self.snapshot is None:
            right.append(Text("Sampling…", self._s("label")))
        for lt in left:
            lt.truncate(left_w, pad=True)
        for rt in right:
            rt.truncate(right_w)
        self._meter_cache = (self.snapshot, key, left, right)
        return left, right

    def _lines(self, width: int) -> list[Text]:
        """The header's lines at ``width`` (not compact): meters, then the status words."""
        half = (width - 1) // 2
        right_w = width - half - 1
        left, right = self._meter_lines(width)
        right = list(right)
        # the status: one line beside the bars if there is room, else one line of the full
        # width below them (at 80x24 it wrapped onto 3 lines of the right half: 2 table rows)
        status = self._status_line(right_w)
        full = None
        if status is not None:
            right.append(status)
        else:  # wrapped beside the bars, or one line below them: whichever is shorter
            wrapped = self._status_lines(right_w)
            full = self._status_line(width)
            if full is None or len(right) + len(wrapped) <= len(left):
                right.extend(wrapped)
                full = None
        blank = " " * half
        lines: list[Text] = []
        for i in range(max(len(left), len(right))):
            line = Text(no_wrap=True, overflow="crop", end="")
            if i < len(left):
                line.append_text(left[i])
            else:
                line.append(blank)
            line.append(" ")
            if i < len(right):
                rt = right[i]
                rt.truncate(right_w)
                line.append_text(rt)
            lines.append(line)
        if full is not None:
            lines.append(full)
        return lines or [Text(no_wrap=True, overflow="crop", end="")]
