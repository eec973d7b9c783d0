"""The pinned strip: one line per pinned process, above the table, whatever the sort/filter.

A Line-API ``ScrollView``: line 0 is a title (count, exited, wait indicator) that never
scrolls; the pins follow, at most ``MAX_LINES`` of them on screen (the rest scroll, and the
title says how many more). It can take the focus (Tab / click) and then has its own cursor, so
``x``/Delete dismiss the exited pin under it. Process text is drawn as ``Segment``s with
styles: never parsed as markup.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from pidtop.actions.pins import Pin, PinSet
from pidtop.kernel.signals import signal_name
from pidtop.sampling.fmt import format_duration, human_bytes, sanitize

#: at most this many pins are on screen at once; the rest scroll
MAX_LINES = 6
RUNNING_MARK = "●"
EXITED_MARK = "✕"
#: after the state of a pin held without a pidfd (kernel/sandbox without pidfd_open): its start
#: time is re-checked before kill(2), a weaker guarantee than a pidfd
DEGRADED_MARK = "(no pidfd)"
#: the pin states as shown: "running" read as state R (htop) for a sleeping process
STATE_WORDS = {"running": "alive"}
#: a live pin whose sampled state says it is not running at all (``T``, ``t`` in /proc)
HELD_WORDS = {"T": "stopped", "t": "traced"}


def state_word(pin: Pin) -> str:
    """``alive``, ``stopped``, ``traced`` (a live pin, from its latest sample), ``exited``..."""
    if pin.alive and pin.info is not None and pin.info.state in HELD_WORDS:
        return HELD_WORDS[pin.info.state]
    return STATE_WORDS.get(pin.state, pin.state)


def short_status(pin: Pin) -> str:
    """``exit 3``, ``killed by SIGKILL``, ``SIGSEGV (core)``, ``status unknown: <why>``."""
    if pin.alive:
        return ""
    st = pin.status
    if st is None or not st.known:
        return "status unknown: " + (st.reason if st is not None else "not reported yet")
    if st.signal is not None:
        name = signal_name(st.signal)
        return f"{name} (core)" if st.core_dumped else f"killed by {name}"
    return f"exit {st.code}"


class PinnedStrip(ScrollView, can_focus=True):
    """The pinned processes. ``refresh_pins()`` after any change; the app does it at once."""

    COMPONENT_CLASSES = {
        "pinned-strip--title",
        "pinned-strip--waiting",
        "pinned-strip--running",
        "pinned-strip--exited",
        "pinned-strip--bad",
        "pinned-strip--muted",
        "pinned-strip--cursor",
    }

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
    ]

    def __init__(self, pins: PinSet, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pins = pins
        self.cursor = 0
        #: shown in the title while a wait is running ("waiting for 2 processes")
        self.waiting_text = ""
        self._list: list[Pin] = []
        #: widest PID:INODE (or PID) among the pins (None: recompute when drawn, after an unpin)
        self._target_max: int | None = 0
        #: how many pins have no pidfd (None: recount when drawn, after an unpin)
        self._degraded: int | None = 0

    # ------------------------------------------------------------------ data
    @property
    def cursor_pin(self) -> Pin | None:
        if not self._list:
            return None
        return self._list[min(self.cursor, len(self._list) - 1)]

    def refresh_pins(self) -> None:
        """Re-read the pin set: show/hide, size, repaint (cheap: a handful of lines)."""
        old_n = len(self._list)
        self._list = list(self.pins)
        n = len(self._list)
        # The target column's width, without a pass over every pin per change (3,000 exits of
        # one kill): new pins are appended, so only they are measured; an unpin recomputes it
        # once, when drawn.
        if n < old_n:
            self._target_max = self._degraded = None
        else:
            for pin in self._list[old_n:]:
                if self._target_max is not None:
                    self._target_max = max(self._target_max, len(pin.target))
                if self._degraded is not None and pin.handle.degraded:
                    self._degraded += 1
        self.display = n > 0
        self.cursor = max(0, min(self.cursor, n - 1))
        height = 1 + min(n, MAX_LINES)
        if self.styles.height is None or self.styles.height.value != height:
            self.styles.height = height
        size = Size(self.scrollable_content_region.width, n + 1)
        if size.height != self.virtual_size.height or not self.is_mounted:
            self.virtual_size = size  # more or fewer lines: relayout (scrollbar, scroll range)
        elif size != self.virtual_size:
            # Only the width: pinned before the first layout, the strip recorded width 0, and
            # the first change after it (often a live exit) paid a full screen relayout
            # (20-30 ms while the first samples run). overflow-x is hidden: nothing moves.
            self.set_reactive(PinnedStrip.virtual_size, size)
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_offset.y)
        body = min(len(self._list), MAX_LINES)
        if body <= 0:
            return
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True, force=True)
        elif self.cursor >= top + body:
            self.scroll_to(y=self.cursor - body + 1, animate=False, immediate=True, force=True)

    def action_cursor(self, delta: int) -> None:
        """Move the strip's cursor."""
        if self._list:
            self.cursor = max(0, min(self.cursor + delta, len(self._list) - 1))
            self._scroll_to_cursor()
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        """Click a pin: focus the strip with the cursor on it."""
        if event.y >= 1:
            index = int(self.scroll_offset.y) + event.y - 1
            if 0 <= index < len(self._list):
                self.cursor = index
        self.focus()
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # ------------------------------------------------------------------ rendering
    def _s(self, name: str) -> Style:
        return self.rich_style + self.get_component_rich_style(f"pinned-strip--{name}")

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return Strip(self._title()).adjust_cell_length(width, self._s("title"))
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self._list):
            return Strip.blank(width, self.rich_style)
        selected = self.has_focus and index == self.cursor
        pin = self._list[index]
        base = self._s("cursor") if selected else self.rich_style
        return Strip(self._line(pin, base, selected)).adjust_cell_length(width, base)

    def _title(self) -> list[Segment]:
        n = len(self._list)
        exited = n - self.pins.alive_count
        title = self._s("title")
        text = f" Pinned {n}"
        if exited:
            text += f" · {exited} exited (x dismiss, X clear)"
        if n > MAX_LINES:
            text += f" · {MAX_LINES} shown, … {n - MAX_LINES} more (Tab, ↑↓)"
        out = [Segment(text, title)]
        if self._degraded_count():
            out.append(Segment(" · ", title))
            out.append(
                Segment(
                    f"{DEGRADED_MARK}: start time re-checked before kill(2)",
                    title + self.get_component_rich_style("pinned-strip--bad", partial=True),
                )
            )
        if self.waiting_text:
            out.append(Segment(" · ", title))
            out.append(Segment(f" {self.waiting_text} (Esc cancels) ", self._s("waiting")))
        return out

    def _degraded_count(self) -> int:
        if self._degraded is None:
            self._degraded = sum(1 for p in self._list if p.handle.degraded)
        return self._degraded

    def _line(self, pin: Pin, base: Style, selected: bool) -> list[Segment]:
        def style(name: str) -> Style:
            return (
                base
                if selected
                else base + self.get_component_rich_style(f"pinned-strip--{name}", partial=True)
            )

        alive = pin.alive
        word = state_word(pin)
        state_style = style(
            "exited" if not alive else "bad" if word in HELD_WORDS.values() else "running"
        )
        muted = style("muted")
        if self._target_max is None:
            self._target_max = max((len(p.target) for p in self._list), default=0)
        tw = max(12, min(24, self._target_max))
        info = pin.info
        cpu = f"{pin.cpu:5.1f}%" if alive and info is not None else "     -"
        rss = human_bytes(info.rss) if info is not None and alive else "-"
        lived = format_duration(pin.lived) if not alive else ""
        segs = [
            Segment(" " + (RUNNING_MARK if alive else EXITED_MARK) + " ", state_style),
            Segment(pin.target.ljust(tw) + " ", base),
            Segment(word.ljust(8), state_style),
        ]
        if self._degraded_count():  # the column only where some pin has no pidfd
            mark = DEGRADED_MARK if pin.handle.degraded else ""
            segs.append(Segment(mark.ljust(len(DEGRADED_MARK) + 1), style("bad")))
        segs += [
            Segment(cpu + " ", base if alive else muted),
            Segment(rss.rjust(6) + " ", base if alive else muted),
            Segment(("lived " + lived if lived else "").ljust(13), muted),
        ]
        if not alive:
            st = pin.status
            bad = st is not None and st.known and (st.signal is not None or st.code != 0)
            segs.append(Segment(short_status(pin), style("bad") if bad else muted))
            segs.append(Segment("  ", base))
        segs.append(Segment(sanitize(pin.command), base))
        return segs
