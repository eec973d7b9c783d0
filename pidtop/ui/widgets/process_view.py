"""The process list: a Line-API ``ScrollView`` that renders only the visible rows.

Line 0 of the widget is the (clickable) column header and never scrolls; lines 1.. show
``table.rows[scroll_y + y - 1]``. Every cell is a ``Segment`` with a cached ``Style`` — process
text is never parsed as markup. The cursor is a process identity (``ProcKey``), re-found with
``ProcessTable.index_of`` after every change, never a bare row index.

Which columns fit, where they go and how a cell is cut to its width (wide characters take two
cells) is :mod:`pidtop.sampling.layout`'s, shared with ``pidtop snapshot``'s text output.

One thing: the widget that draws the table, and its caches. ``rows_changed`` repaints only the
lines whose strip changed, which needs ``_row_strip``'s per-index and per-process caches, which
are keyed by what ``_build_row`` draws from (the row, its kind under the cursor, its mark, the
layout); the cursor that follows a process moves those lines, and ``render_lines`` hands those
same strips to the compositor. What is pure (placing columns, cutting text to cells) is
already apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import islice

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.style import Style as TextualStyle

from pidtop.sampling.columns import COLUMN_BY_ID, Column, cell_text
from pidtop.sampling.exitmarks import ExitMarks
from pidtop.sampling.fmt import sanitize, truncate_plus
from pidtop.sampling.layout import (
    PlacedColumn,
    cell_width,
    cut_cells,
    fit_cell,
    layout_columns,
    pad_cells,
)
from pidtop.sampling.rows import Row
from pidtop.sampling.snapshot import ProcKey
from pidtop.sampling.table import ProcessTable
from pidtop.ui import actions

#: USER cells longer than this end in ``+`` (like ``ps`` and the model's ``cell_text``)
_USER_WIDTH = COLUMN_BY_ID["user"].width

#: ``ProcKey -> mark`` (a short string shown in the mark gutter, e.g. a pin) or None.
MarkProvider = Callable[[ProcKey], str | None]

#: a row whose mark is this is drawn as exited (pinned or watched process that just exited)
EXITED_MARK = "✕"

#: drawn after argv[0] of a process whose executable file was deleted (and in red)
DELETED_SUFFIX = " (deleted)"


def _thumb(bar: ScrollBar, virtual: int) -> list[Segment]:
    """What a vertical scrollbar draws for ``virtual`` rows (to compare two sizes)."""
    window = bar.window_size if bar.window_size < virtual else 0
    return bar.renderer.render_bar(
        size=bar.size.height,
        virtual_size=virtual,
        window_size=window,
        position=bar.position,
        vertical=True,
    ).segments


def _landing(rows: Sequence[Row], index: int) -> int:
    """Where the cursor lands when the app (not the user) places it at ``index``: there, or
    on the first matching row after it (else before it) when it is a context row (tree +
    filter: an ancestor shown only for its matching descendants is never the default target).
    """
    for i in [*range(index, len(rows)), *range(index - 1, -1, -1)]:
        if not rows[i].context:
            return i
    return index


class ProcessView(ScrollView, can_focus=True):
    """The process table view (header line + visible rows only)."""

    COMPONENT_CLASSES = {
        "process-view--header",
        "process-view--header-sort",
        "process-view--cursor",
        "process-view--new",
        "process-view--dying",
        "process-view--context",
        "process-view--basename",
        "process-view--kernel",
        "process-view--thread",
        "process-view--tree",
        "process-view--muted",
        "process-view--mark",
        "process-view--mark-exited",
        "process-view--exited",
        "process-view--match",
        "process-view--deleted",
    }

    BINDINGS = actions.bindings("view")

    class SortRequested(Message):
        """The user clicked a column header."""

        def __init__(self, column: str) -> None:
            self.column = column
            super().__init__()

    class CursorLost(Message):
        """The cursor's process exited; the cursor moved to a neighbour (or nowhere)."""

        def __init__(self, old_pid: int, new_pid: int | None) -> None:
            self.old_pid = old_pid
            self.new_pid = new_pid
            super().__init__()

    def __init__(
        self,
        table: ProcessTable,
        *,
        mark_provider: MarkProvider | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.table = table
        self.mark_provider = mark_provider
        #: the mark gutter is drawn only while this is True (something is pinned/watched)
        self.show_marks = mark_provider is not None
        #: the Command column shows the program's directory (``p`` hides it, as in htop)
        self.program_path = True
        #: the process under the cursor; None until there is a row
        self.cursor_key: ProcKey | None = None
        #: its index in ``table.rows`` (kept in step with ``cursor_key``)
        self.cursor_index: int = 0
        #: False until the user moves the cursor: like htop, the bar then stays on the top row
        self.following: bool = False
        #: the user put the cursor on a context row (tree + filter) themselves: it may stay
        self._context_chosen = False
        self.search_text: str = ""
        #: listed processes the exit journal saw exit (drawn as exited, with their status,
        #: until the next refresh removes the row; the app fills it)
        self.exits = ExitMarks()
        self._strips: dict[int, Strip] = {}
        #: the last strip built for a process, with what it was built from (see _row_strip);
        #: least recently drawn first (``_trim_line_cache`` bounds it)
        self._line_cache: dict[ProcKey, tuple[tuple[object, ...], Strip]] = {}
        #: the content width while ``render_lines`` runs (one lookup per frame, not per line)
        self._render_width: int | None = None
        #: whether the START column is shown, for ``_layout_columns`` (see _snapshot_sig)
        self._start_shown = False
        self._header: Strip | None = None
        self._styles: dict[tuple[str, str], Style] = {}
        self._text_cache: dict[ProcKey, tuple[str, str, str, str]] = {}
        self._layout: list[PlacedColumn] = []
        self._layout_width = -1
        self._layout_columns: tuple[Column, ...] = ()

    # ------------------------------------------------------------------ geometry helpers
    @property
    def body_height(self) -> int:
        """Number of row lines visible under the header."""
        return max(0, self.scrollable_content_region.height - 1)

    def _content_width(self) -> int:
        return self.scrollable_content_region.width

    def _columns(self) -> list[PlacedColumn]:
        width = self._content_width()
        columns = self.table.columns
        if width != self._layout_width or columns is not self._layout_columns:
            if columns is not self._layout_columns and self._layout_columns:
                self._strips.clear()  # ProcessTable.set_columns: every line changes
                self._line_cache.clear()
                self._header = None
            gutter = 1 if self._marks_on else 0
            # which columns fit is decided for the narrowest case (mark gutter and scrollbar
            # both on), so PRI does not come and go as a pin or a filter comes and goes
            narrowest = self.size.width - self.styles.scrollbar_size_vertical - 1
            fit = {p.column.id for p in layout_columns(columns, narrowest, 1)}
            self._layout = layout_columns([c for c in columns if c.id in fit], width, gutter)
            self._layout_width = width
            self._layout_columns = columns
            self._start_shown = any(c.id == "start" for c in columns)
        return self._layout

    @property
    def _marks_on(self) -> bool:
        return self.mark_provider is not None and self.show_marks

    def set_program_path(self, on: bool) -> None:
        """Show (``p``, the default) or hide the directory of each command's program."""
        if on != self.program_path:
            self.program_path = on
            self._text_cache.clear()
            self._invalidate()
            self.refresh()

    def set_show_marks(self, on: bool) -> None:
        """Show/hide the mark gutter (columns shift by one cell)."""
        if on != self.show_marks:
            self.show_marks = on
            self._invalidate()
            self.refresh()

    def refresh_key(self, key: ProcKey) -> None:
        """Repaint the line of one process now (its mark changed), if it is on screen."""
        self.refresh_keys((key,))

    def refresh_keys(self, keys: Iterable[ProcKey]) -> None:
        """Repaint the lines of these processes now (their marks changed), those on screen.
        The scroll position and height are read once: a burst of exits marks hundreds."""
        index_of, strips = self.table.index_of, self._strips
        top = height = -1
        lines: list[int] = []  # on-screen lines (0 = header)
        for key in keys:
            index = index_of(key)
            if index is None:
                continue
            strips.pop(index, None)
            if height < 0:
                top, height = int(self.scroll_offset.y), self.body_height
            if 1 <= index - top + 1 <= height:
                lines.append(index - top + 1)
        self._repaint((y, 1) for y in lines)

    @property
    def visible_columns(self) -> list[str]:
        """Ids of the columns currently shown (for tests and the help text)."""
        return [p.column.id for p in self._columns()]

    def _update_virtual_size(self) -> None:
        size = Size(self._content_width(), len(self.table.rows) + 1)
        old = self.virtual_size
        if size == old:
            return
        if not self.is_mounted or not self.container_size:
            self.virtual_size = size  # reactive with layout=True: a full screen relayout
            return
        # The row count changed (nearly every sample), or the width (start-up, resize). The
        # view is 1fr high and overflow-x is hidden, so this does not move anything on screen:
        # update the scroll range and the scrollbar without the relayout of the whole screen
        # (15-30 ms at 200x50, more while the first sample runs) that the reactive asks for.
        # If the vertical scrollbar has to appear or go, ``_refresh_scrollbars`` sets
        # ``show_vertical_scrollbar``, whose own reactive does request that layout.
        self.set_reactive(ProcessView.virtual_size, size)
        self._refresh_scrollbars()
        if self.show_vertical_scrollbar and self.styles.scrollbar_size_vertical:
            bar = self.vertical_scrollbar
            window = self.container_size.height - self.scrollbar_size_horizontal
            if bar.window_size != window or _thumb(bar, old.height) != _thumb(bar, size.height):
                bar.window_size = window
                bar.window_virtual_size = size.height  # repaints the scrollbar
            else:
                # One row more or less rarely moves the thumb by an eighth of a cell; the
                # scrollbar (a Rich renderable, ~2.5 ms for 45 lines) is redrawn only if it does.
                bar.set_reactive(ScrollBar.window_virtual_size, size.height)
        self.scroll_y = self.validate_scroll_y(self.scroll_y)

    # ------------------------------------------------------------------ styles
    def notify_style_update(self) -> None:
        """Theme or CSS changed: drop every cached style and strip."""
        super().notify_style_update()
        self._styles.clear()
        self._invalidate()

    def _style(self, row_kind: str, cell_kind: str) -> Style:
        """Full style for a cell: row background (normal/cursor/new/dying) + cell accent."""
        key = (row_kind, cell_kind)
        style = self._styles.get(key)
        if style is None:
            base = self.rich_style
            if row_kind != "normal":
                base = base + self.get_component_rich_style(f"process-view--{row_kind}")
            if cell_kind != "plain":
                accent = self.get_component_rich_style(f"process-view--{cell_kind}", partial=True)
                if row_kind == "cursor":  # keep the cursor bar's colours readable
                    accent = Style(bold=accent.bold, italic=accent.italic)
                base = base + accent
            style = self._styles[key] = base
        return style

    # ------------------------------------------------------------------ data changes
    def _invalidate(self) -> None:
        self._strips.clear()
        self._line_cache.clear()
        self._header = None
        self._layout_width = -1

    def on_resize(self, event: events.Resize) -> None:
        """Re-layout columns for the new width and keep the cursor visible."""
        self._invalidate()
        self._update_virtual_size()
        self._scroll_to_cursor()

    def rows_changed(self, *, full: bool = False) -> None:
        """The table's rows changed (sample merged, sort, filter, tree...): re-find the cursor,
        keep it visible and repaint only the lines whose strip changed (``full``: the sort, a
        filter, the tree or the threads changed; the header may have too). A process's strip is
        reused wherever its row went while what it is drawn from is the same (``_row_strip``):
        inverting the sort rebuilds no line but the cursor's."""
        rows = self.table.rows
        old_key, old_index = self.cursor_key, self.cursor_index
        gone = self.following and old_key is not None and self.table.index_of(old_key) is None
        if not rows:
            self.cursor_key, self.cursor_index = None, 0
        elif not self.following or old_key is None:
            self.cursor_index = _landing(rows, 0)
            self.cursor_key = rows[self.cursor_index].key
        elif gone:
            self.cursor_index = _landing(rows, min(old_index, len(rows) - 1))
            self.cursor_key = rows[self.cursor_index].key
        else:
            self.cursor_index = self.table.index_of(old_key) or 0
            if rows[self.cursor_index].context and not self._context_chosen:
                # it became context (a filter): its first match below is the target now
                self.cursor_index = _landing(rows, self.cursor_index)
                self.cursor_key = rows[self.cursor_index].key
        if rows and not rows[self.cursor_index].context:
            self._context_chosen = False
        if gone and old_key is not None and self.table.get(old_key) is None:
            new_pid = self.cursor_key[0] if self.cursor_key is not None else None
            self.post_message(self.CursorLost(old_key[0], new_pid))
        self._update_virtual_size()
        moved = self._scroll_to_cursor()
        old = self._strips
        self._strips = {}
        if full:
            self._header = None
        if moved or not self.is_mounted:
            self.refresh()
            return
        if full:
            self.refresh_line_at(0)
        top = int(self.scroll_offset.y)
        width = self._content_width()
        height = self.body_height
        run_start = -1  # consecutive changed lines are repainted as one region
        runs: list[tuple[int, int]] = []
        for y in range(1, height + 2):
            index = top + y - 1
            changed = False
            if y <= height:
                new = self._row_strip(index, width)
                was = old.get(index)
                changed = was is not new and was != new
            if changed and run_start < 0:
                run_start = y
            elif not changed and run_start >= 0:
                runs.append((run_start, y - run_start))
                run_start = -1
        self._repaint(runs)
        self._trim_line_cache()

    def _repaint(self, lines: Iterable[tuple[int, int]]) -> None:
        """Repaint these on-screen lines (first y, 0 = the header; how many) in one refresh:
        each ``Widget.refresh`` clears Textual's caches and checks idle again."""
        width = max(self.virtual_size.width, self.size.width)
        if regions := [Region(0, y, width, n) for y, n in lines]:
            self.refresh(*regions)

    def refresh_line_at(self, y: int) -> None:
        """Repaint one on-screen line (0 = header)."""
        self.refresh_line(int(self.scroll_offset.y) + y)

    # ------------------------------------------------------------------ cursor
    def _scroll_to_cursor(self) -> bool:
        """Scroll so the cursor row is visible; True if the scroll position changed."""
        height = self.body_height
        if height <= 0:
            return False
        top = int(self.scroll_offset.y)
        target = top
        if self.cursor_index < top:
            target = self.cursor_index
        elif self.cursor_index >= top + height:
            target = self.cursor_index - height + 1
        if target != top:
            self.scroll_to(y=target, animate=False, immediate=True, force=True)
            return True
        return False

    def set_cursor(self, index: int) -> None:
        """Put the cursor on row ``index`` (clamped) and start following that process."""
        rows = self.table.rows
        if not rows:
            return
        index = max(0, min(index, len(rows) - 1))
        old_index = self.cursor_index
        self.following = True
        self.cursor_index = index
        self.cursor_key = rows[index].key
        self._context_chosen = rows[index].context
        if self._scroll_to_cursor():
            self._strips.clear()
            self.refresh()
            return
        # the two lines, in one refresh (a burst of Down keys makes ~40 of these a frame)
        top = int(self.scroll_offset.y) - 1
        lines = {old_index, index}
        for i in lines:
            self._strips.pop(i, None)
        self._repaint((i - top, 1) for i in lines)

    def set_cursor_key(self, key: ProcKey) -> bool:
        """Move the cursor onto a process if it is visible."""
        index = self.table.index_of(key)
        if index is None:
            return False
        self.set_cursor(index)
        return True

    @property
    def cursor_row(self) -> Row | None:
        """The row under the cursor."""
        rows = self.table.rows
        if not rows or self.cursor_index >= len(rows):
            return None
        return rows[self.cursor_index]

    def action_cursor(self, delta: int) -> None:
        """Move the cursor by ``delta`` rows."""
        self.set_cursor(self.cursor_index + delta)

    def action_page(self, direction: int) -> None:
        """Move the cursor by one page."""
        self.set_cursor(self.cursor_index + direction * max(1, self.body_height - 1))

    def action_cursor_to(self, index: int) -> None:
        """Jump to the first (0) or last (-1) row."""
        self.set_cursor(len(self.table.rows) - 1 if index < 0 else index)

    # ------------------------------------------------------------------ mouse
    def on_click(self, event: events.Click) -> None:
        """Header click sorts; row click moves the cursor."""
        if event.y == 0:
            x = event.x - self.scrollable_content_region.x + self.region.x
            for placed in self._columns():
                if placed.x <= x < placed.x + max(placed.width, 1) + 1:
                    self.post_message(self.SortRequested(placed.column.id))
                    break
            return
        self.set_cursor(int(self.scroll_offset.y) + event.y - 1)

    # ------------------------------------------------------------------ rendering
    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines in ``crop``, each its cached strip as Textual's styles cache would draw it
        (padded to the content region, through the app's line filters). Textual's path makes
        and filters a new strip for every line of every frame, most of the cost of a repaint;
        here each strip keeps its padded and filtered copies. A border, padding, outline, tint,
        hatch or opacity (none in the table's CSS) takes Textual's path."""
        self._render_width = self._content_width()
        try:
            if not self._plain():
                return super().render_lines(crop)
            self._styles_cache.clear()  # its lines would be stale if Textual's path came back
            base, background = self.background_colors
            inner = TextualStyle(background=base + background).rich_style
            width = self.content_region.width
            filters = self.get_line_filters()
            top = int(self.scroll_offset.y) - 1
            line = self._row_strip
            strips: list[Strip] = []
            for y in crop.line_range:
                strip = line(top + y, self._render_width) if y else self.render_line(0)
                strip = strip.adjust_cell_length(width, inner)
                for line_filter in filters:
                    strip = strip.apply_filter(line_filter, background)
                strips.append(strip)
            x1, x2 = crop.column_span
            if (x1, x2) != (0, self.region.width):
                strips = [strip.crop(x1, x2) for strip in strips]
            return strips
        finally:
            self._render_width = None
            self._trim_line_cache()

    def _plain(self) -> bool:
        """No style that Textual's styles cache applies around the content (see render_lines)."""
        styles = self.styles
        return (
            not any(edge for edge, _color in styles.border)
            and not any(edge for edge, _color in styles.outline)
            and not any(styles.padding)
            and not styles.tint.a
            and self.opacity == 1.0
            and styles.text_opacity == 1.0
            and not (styles.has_rule("hatch") and styles.hatch != "none")
            and self.region.width == self.content_region.width
        )

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the viewport: the header at 0, rows below."""
        width = self._render_width
        if width is None:
            width = self._content_width()
        if y == 0:
            if self._header is None:
                self._header = self._header_strip().adjust_cell_length(width, self.rich_style)
            return self._header
        return self._row_strip(int(self.scroll_offset.y) + y - 1, width)

    def _header_strip(self) -> Strip:
        sort_col = self.table.sort_column
        arrow = "▼" if self.table.sort_reverse else "▲"
        normal = self._style("header", "plain")
        hot = self._style("header", "header-sort")
        segments: list[Segment] = []
        x = 0
        for placed in self._columns():
            if placed.x > x:
                segments.append(Segment(" " * (placed.x - x), normal))
            col = placed.column
            title = col.title
            is_sort = col.id == sort_col
            if is_sort and len(title) < placed.width:
                title = arrow + title if col.align == "right" else title + arrow
            if col.width == 0:
                title = title.ljust(placed.width)[: placed.width]
            text = pad_cells(cut_cells(title, placed.width), placed.width, col.align)
            segments.append(Segment(text, hot if is_sort else normal))
            x = placed.x + placed.width
            if col.width:
                segments.append(Segment(" ", normal))
                x += 1
        return Strip(segments)

    def _mark(self, row: Row) -> str | None:
        if not self._marks_on:
            return None
        assert self.mark_provider is not None
        return self.mark_provider(row.key)

    def _row_kind(self, index: int, row: Row) -> str:
        if index == self.cursor_index:
            return "cursor"
        if self._marks_on and self._mark(row) == EXITED_MARK:
            return "exited"
        if self.exits.marks and row.key in self.exits.marks:
            return "exited"
        if row.status == "new":
            return "new"
        if row.status == "dying":
            return "dying"
        if row.context:
            return "context"
        return "normal"

    def _texts(self, row: Row) -> tuple[str, str, str, str]:
        """Sanitized (command, USER cell, raw command, raw user) for a row, cached by identity
        and dropped when either value behind it changes (a daemon that drops root keeps its
        command line: caching USER with the command alone showed ``root`` for its life).

        The USER cell is cut like the model's ``cell_text``: a name longer than the column ends
        in ``+`` like ``ps`` (uid 4000000000 is ``40000000+``, not the valid-looking ``400000000``).
        """
        info = row.info
        raw = info.command if self.program_path else _without_path(info.command)
        raw_user = info.user
        cached = self._text_cache.get(row.key)
        if cached is not None and cached[2] == raw and cached[3] == raw_user:
            return cached
        user = truncate_plus(sanitize(raw_user), _USER_WIDTH) if raw_user else "-"
        entry = (sanitize(raw), user, raw, raw_user)
        if len(self._text_cache) > 4 * max(1000, len(self.table.rows)):
            self._text_cache.clear()
        self._text_cache[row.key] = entry
        return entry

    def _row_strip(self, index: int, width: int | None = None) -> Strip:
        """The strip of row ``index``: from the per-index cache, else the per-process cache
        when nothing it was drawn from changed, else built. Most rows of a merge are the same
        idle processes with the same ``ProcInfo`` object (the sampler reuses it when ``stat`` is
        unchanged), and a re-sort only moves rows: rebuilding their ~12 cells was most of the
        cost of a merge or of a sort key. A built strip has one segment per run of one style:
        Textual writes each segment with its own colour sequence and a reset, so the ~12 cells
        of a plain row (one style) were half of a repainted frame's bytes (``I`` at 200x50:
        34.7 KB, 17.0 KB merged), which the terminal must read and parse."""
        strip = self._strips.get(index)
        if strip is not None:
            return strip
        rows = self.table.rows
        if width is None:
            width = self._content_width()
        if index < 0 or index >= len(rows):
            strip = Strip([Segment(" " * width, self.rich_style)], width)
        else:
            row = rows[index]
            kind = self._row_kind(index, row)
            sig = (
                row.info,
                row.cpu,
                row.mem,
                row.io_read_rate,
                row.io_write_rate,
                self._layout_columns,
                kind,
                self._mark(row),
                row.tree_prefix,
                row.collapsed,
                row.has_children,
                width,
                self.table.tree,
                self.exits.get(row.key),
                self._snapshot_sig(row),
            )
            cache = self._line_cache
            cached = cache.pop(row.key, None)  # put back last: the cache drops the oldest
            if cached is not None and cached[0] == sig:
                strip = cached[1]
            else:
                strip = (
                    self._build_row(index, row)
                    .adjust_cell_length(width, self._style(kind, "plain"))
                    .simplify()
                )
            cache[row.key] = (sig, strip)
        self._strips[index] = strip
        return strip

    def _trim_line_cache(self) -> None:
        """Forget the strips of the processes least recently drawn, beyond a few screens' worth
        (the other end of the list, for ``I``; gone processes go this way too)."""
        cache = self._line_cache
        extra = len(cache) - max(256, 4 * self.body_height)
        if extra > 0:
            for key in list(islice(cache, extra)):
                del cache[key]

    def _snapshot_sig(self, row: Row) -> object:
        """What a row's cells take from the snapshot rather than the row (START: the boot
        time, the clock tick, whether it started within the last 24 hours)."""
        snap = self.table.snapshot
        if snap is None or not self._start_shown:
            return None
        start = snap.boot_time + row.info.starttime / snap.clk_tck
        return (snap.boot_time, snap.clk_tck, snap.wall - start < 86400)

    def _cell(self, col_id: str, row: Row, user: str) -> str:
        if col_id == "user":
            return user
        try:
            return cell_text(row, col_id, snapshot=self.table.snapshot)
        except (TypeError, ValueError, KeyError):  # a None field the model did not expect
            return "-"

    def _build_row(self, index: int, row: Row) -> Strip:
        kind = self._row_kind(index, row)
        plain = self._style(kind, "plain")
        command, user, _raw, _user = self._texts(row)
        segments: list[Segment] = []
        if self._marks_on:
            mark = self._mark(row)
            mark_kind = "mark-exited" if mark == EXITED_MARK else "mark"
            segments.append(Segment((mark or " ")[:1], self._style(kind, mark_kind)))
        x = 1 if self._marks_on else 0
        for placed in self._columns():
            col = placed.column
            if placed.x > x:
                segments.append(Segment(" " * (placed.x - x), plain))
                x = placed.x
            if col.width == 0:
                segments.extend(self._command_segments(row, command, kind, placed.width))
                x += placed.width
                continue
            text = fit_cell(self._cell(col.id, row, user), placed.width, col.cut)
            text = pad_cells(text, placed.width, col.align)
            style = self._style(kind, "muted") if text.strip() == "-" else plain
            segments.append(Segment(text + " ", style))
            x += placed.width + 1
        return Strip(segments)

    def _command_segments(self, row: Row, command: str, kind: str, width: int) -> list[Segment]:
        """COMMAND cell: tree prefix, then the command line with its basename highlighted."""
        if width <= 0:
            return []
        out: list[Segment] = []
        used = 0
        if self.table.tree and (row.tree_prefix or row.collapsed):
            prefix = row.tree_prefix + ("+ " if row.collapsed and row.has_children else "")
            prefix = cut_cells(prefix, width)
            out.append(Segment(prefix, self._style(kind, "tree")))
            used = cell_width(prefix)
        status = self.exits.get(row.key)
        if status is not None:  # exited since the last refresh: say how, first
            note = cut_cells(f"[{status}] ", width - used)
            out.append(Segment(note, self._style(kind, "mark-exited")))
            used += cell_width(note)
        room = width - used
        if room <= 0:
            return out
        info = row.info
        text = cut_cells(command, room)
        if info.is_kernel_thread or not info.cmdline:
            out.append(Segment(text, self._style(kind, "kernel")))
            return out
        base_style = self._style(kind, "thread" if info.is_thread else "plain")
        argv0_end = command.find(" ")
        if argv0_end < 0:
            argv0_end = len(command)
        if info.exe_deleted:  # htop draws it red; the words make it readable without colour
            command = command[:argv0_end] + DELETED_SUFFIX + command[argv0_end:]
            text = cut_cells(command, room)
        start = command.rfind("/", 0, argv0_end) + 1
        end = min(argv0_end, len(text))
        if start < end:
            if start:
                out.append(Segment(text[:start], base_style))
            name_style = "deleted" if info.exe_deleted else "basename"  # red even when cut
            out.append(Segment(text[start:end], self._style(kind, name_style)))
        else:
            end = 0
        if info.exe_deleted and end < len(text):
            mark_end = min(argv0_end + len(DELETED_SUFFIX), len(text))
            if end < argv0_end:
                out.append(Segment(text[end:argv0_end], base_style))
                end = argv0_end
            out.append(Segment(text[end:mark_end], self._style(kind, "deleted")))
            end = mark_end
        if end < len(text):
            out.append(Segment(text[end:], base_style))
        return out


def _without_path(command: str) -> str:
    """``/usr/bin/python3 x.py`` -> ``python3 x.py`` (htop's ``p``); ``[kthread]`` unchanged."""
    argv0, sep, rest = command.partition(" ")
    return argv0.rsplit("/", 1)[-1] + sep + rest if "/" in argv0 else command
