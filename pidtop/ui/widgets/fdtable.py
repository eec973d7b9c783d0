"""The open-files table (``l``): DataTable's look and keys, filled and drawn for a thousand fds.

:class:`FdTable` is Textual's DataTable with its rows added in one go and an fd's row and cells
drawn directly (the segments DataTable's Rich render makes); ``test_ui_details`` checks that it
draws what a DataTable filled by ``add_row`` draws. No process text is markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from itertools import chain, repeat
from operator import attrgetter

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text, TextType
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.render import measure
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import Column, ColumnKey, Row, RowKey


class FdCell:
    """One cell's text, made a ``Text`` only when drawn: a table of 1,100 fds builds 4,400
    cells and draws the ~40 rows on screen. Process text as ``Text``, never markup."""

    __slots__ = ("deleted", "plain", "right", "width")

    def __init__(self, plain: str, right: bool = False, deleted: bool = False) -> None:
        self.plain = plain
        self.right = right
        self.deleted = deleted  # + " (deleted)" in bold red
        # its cells (read ~5 times a cell a fill and paint): printable ASCII by C
        width = len(plain) if plain.isascii() and plain.isprintable() else cell_len(plain)
        self.width = width + (len(_DELETED) if deleted else 0)

    def __rich__(self) -> Text:
        text = Text(self.plain, justify="right" if self.right else None)
        if self.deleted:
            text.append(_DELETED, style="bold red")
        return text


_DELETED = " (deleted)"
_DELETED_STYLE = Style.parse("bold red")


class _FdKey(RowKey):
    """A row's key without a value, hashed as DataTable's (by identity), but by C, not by a
    Python ``__hash__``: a fill of 1,100 rows hashed its row keys ~7,700 times."""

    __hash__ = object.__hash__

    def __init__(self) -> None:
        self.value = None


class _FdColumnKey(ColumnKey):
    """A column's key without a value, hashed by C (as :class:`_FdKey`)."""

    __hash__ = object.__hash__

    def __init__(self) -> None:
        self.value = None


class FdTable(DataTable[FdCell | Text]):
    """The open-files table: its rows added in one go (:meth:`fill`) and each column as wide as
    its widest text. DataTable's ``add_row`` (a cursor update per row) and its Rich measure of
    every cell (~55 us each: ~250 ms for 1,100 fds) were most of the screen's time.

    Uses DataTable's internals as of Textual 8.2 (pinned): ``test_ui_details`` checks that a
    filled FdTable shows what a DataTable filled by ``add_row`` shows. Home/End go to the
    first/last fd, as in htop's open-files screen (DataTable's go to the first/last column)."""

    BINDINGS = [
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
    ]

    def add_column(
        self,
        label: TextType,
        *,
        width: int | None = None,
        key: str | None = None,
        default: FdCell | Text | None = None,
    ) -> ColumnKey:
        """A column as DataTable adds it; one without a key (before any row) is keyed by a
        key hashed by C, as rows are (a fill of 1,100 rows hashed column keys 4,400 times)."""
        added = super().add_column(label, width=width, key=key, default=default)
        if key is not None or self.rows:
            return added
        column_key = _FdColumnKey()
        column = self.columns.pop(added)
        column.key = column_key
        self.columns[column_key] = column
        index = len(self.columns) - 1  # (where DataTable put it: last)
        del self._column_locations[added]
        self._column_locations[column_key] = index
        return column_key

    def fill(self, rows: Sequence[Sequence[FdCell | Text]]) -> None:
        """Replace every row by ``rows`` (one line each, one Text per column)."""
        self.clear()
        keys = [column.key for column in self.ordered_columns]
        new: list[RowKey] = [_FdKey() for _ in rows]
        # each row's cells by column, its place both ways and its Row, by C (map, update):
        # a loop of these was most of a fill
        self._data.update(
            zip(new, map(dict, map(partial(zip, keys, strict=True), rows)), strict=True)
        )
        self._row_locations._forward.update(zip(new, range(len(new)), strict=True))
        self._row_locations._reverse.update(enumerate(new))
        ordered = list(map(Row, new, repeat(1, len(new))))
        self.rows.update(zip(new, ordered, strict=True))
        self._update_count += 1  # DataTable's caches of row order and offsets are keyed by it
        # which it would build by looking every row up again
        self._ordered_row_cache[(len(ordered), self._update_count)] = ordered
        self._offset_cache[self._update_count] = list(zip(new, repeat(0, len(new)), strict=True))
        # the widths now, not when DataTable is next idle: that is after the first paint,
        # which then showed the columns as wide as their labels, and a second frame the rows;
        # from the labels' (DataTable's clear keeps them: a kept screen showed the widest
        # column of an earlier process)
        for column in self.ordered_columns:
            column.content_width = column.label.cell_len
        self._widen(rows)
        # and its scrollbars: the virtual size is set here, not by a layout, so no layout
        # would decide them (a late fill was painted without its scrollbar, then with it)
        self._refresh_scrollbars()
        self.cursor_coordinate = self.cursor_coordinate  # clamped, as add_row does
        if rows and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self.check_idle()

    #: while it draws its lines: its own style, size and columns, looked up once a paint, not
    #: once a line or a cell as DataTable asks them (each walks the DOM or builds a list:
    #: with the cells' widths, ~30% of a 200x50 paint of fds)
    _drawing: tuple[Style, Size, list[Column], list[int]] | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        self._drawing = None
        columns = self.ordered_columns
        widths = [column.get_render_width(self) for column in columns]
        self._drawing = (self.rich_style, self.size, columns, widths)
        try:
            return super().render_lines(crop)
        finally:
            self._drawing = None

    @property
    def rich_style(self) -> Style:
        return self._drawing[0] if self._drawing is not None else super().rich_style

    @property
    def size(self) -> Size:
        return self._drawing[1] if self._drawing is not None else super().size

    @property
    def ordered_columns(self) -> list[Column]:
        return self._drawing[2] if self._drawing is not None else super().ordered_columns

    def _widths(self) -> list[int]:
        """Each column's width on screen."""
        if self._drawing is not None:
            return self._drawing[3]
        return [column.get_render_width(self) for column in self.ordered_columns]

    @property
    def _plain_rows(self) -> bool:
        """Its rows are drawn here (a row cursor, no fixed columns, no row labels: the open
        files'), not by DataTable."""
        return (
            self.cursor_type == "row"
            and not self.fixed_columns
            and not (self._labelled_row_exists and self.show_row_labels)
        )

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """A line of fds as DataTable makes it, without its crop, fit and simplify when the
        row fills the table's width exactly, unscrolled, and its cells are one segment a
        style already (each made a Strip again: a fifth of a paint)."""
        width = self.size.width
        try:
            row_key, line_no = self._get_offsets(y)
        except LookupError:
            return Strip.blank(width, base_style)
        row = self._data.get(row_key)  # (not the header's)
        if row is None or x1 or x2 != width or not self._plain_rows:
            return super()._render_line(y, x1, x2, base_style)
        widths = self._widths()
        pad = 2 * self.cell_padding
        if sum(widths) > width or not all(
            type(cell) is FdCell and cell.width <= room - pad
            for cell, room in zip(row.values(), widths, strict=True)
        ):
            return super()._render_line(y, x1, x2, base_style)
        cursor, hover = self.cursor_coordinate, self.hover_coordinate
        cache_key = (
            y,
            x1,
            x2,
            width,
            cursor,
            hover,
            base_style,
            self.cursor_type,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        strip = self._line_cache.get(cache_key)
        if strip is None:
            _, cells = self._render_line_in_row(row_key, line_no, base_style, cursor, hover)
            strip = Strip(list(chain.from_iterable(cells)), width)
            self._line_cache[cache_key] = strip
        return strip

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        """A striped row's style from the widget's cache of component styles (DataTable
        computes it again for every line)."""
        if row_index < self.fixed_rows or not self.zebra_stripes:
            return super()._get_row_style(row_index, base_style)
        return self.get_component_rich_style(
            "datatable--odd-row" if row_index % 2 else "datatable--even-row"
        )

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[list[list[Segment]], list[list[Segment]]]:
        """A row of fds as DataTable draws it with a row cursor (no labels, no fixed columns),
        with its style and column widths looked up once, not once a cell."""
        row_index = self._row_locations.get(row_key)
        if row_index is None or not self._plain_rows:
            return super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
        key = (
            row_key,
            line_no,
            base_style,
            cursor_location,
            hover_location,
            self.cursor_type,
            self.show_cursor,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._row_render_cache.get(key)
        if cached is not None:
            return cached
        row_style = self._get_row_style(row_index, base_style)
        cursor = cursor_location.row == row_index
        hover = hover_location.row == row_index
        widths = self._widths()
        cells = [
            self._render_cell(row_index, i, row_style, width, cursor=cursor, hover=hover)[line_no]
            for i, width in enumerate(widths)
        ]
        extend, _ = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover_location.row == (row_index or 0),
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            False,
            False,
        )
        extend = row_style + extend
        extend += Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        space = max(0, self.size.width - sum(widths) - self._row_label_column_width)
        cells.append([Segment(" " * space, extend)])
        pair: tuple[list[list[Segment]], list[list[Segment]]] = ([], cells)
        self._row_render_cache[key] = pair
        return pair

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """An fd's cell: the segments DataTable's Rich render (``Styled(Padding(cell))``) makes,
        made directly (that render was ~0.3 ms a cell: 40-60 ms for a 200x50 screen of fds).
        Other cells (header, a ``Text``, a text wider than its column) as DataTable renders them."""
        cell = row_key = None
        if row_index >= 0 and column_index >= 0:
            row_key = self._row_locations.get_key(row_index)
            column = self.ordered_columns[column_index]
            cell = self._data[row_key][column.key] if row_key is not None else None
        pad = self.cell_padding
        if (
            row_key is None
            or not isinstance(cell, FdCell)
            or cell.width > width - 2 * pad
            or row_index < self.fixed_rows
        ):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
            row_key,
            column.key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        lines = self._cell_render_cache.get(key)
        if lines is None:
            lines = [self._fd_cell(cell, row_index, column_index, base_style, width, cursor, hover)]
            self._cell_render_cache[key] = lines
        return lines

    def _fd_cell(
        self,
        cell: FdCell,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> list[Segment]:
        component, post = self._get_styles_to_render_cell(
            False,
            False,
            column_index < self.fixed_columns,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component
        plain_style = pre + Style.null() + post
        pad = " " * self.cell_padding
        space = " " * (width - 2 * len(pad) - cell.width)  # what the text leaves of its column
        # one segment a style (what DataTable's line is once simplified: fewer to make, join,
        # simplify, filter and divide)
        if not cell.deleted:
            text = pad + (space + cell.plain if cell.right else cell.plain + space) + pad
            return [Segment(text, plain_style)] if text else []
        before = pad + space + cell.plain if cell.right else pad + cell.plain
        after = pad if cell.right else space + pad
        out = [Segment(before, plain_style)] if before else []
        out.append(Segment(_DELETED, pre + _DELETED_STYLE + post))
        if after:
            out.append(Segment(after, plain_style))
        return out

    def update_cells(self, cells: dict[int, dict[int, FdCell | Text]]) -> None:
        """Replace cells in place (row index -> column index -> cell): the cursor, scroll and
        rows stay; the columns widen if a new cell needs it."""
        columns = self.ordered_columns
        keys = []
        for index, row in cells.items():
            key = self._row_locations.get_key(index)
            if key is None:
                continue
            for column, cell in row.items():
                self._data[key][columns[column].key] = cell
            keys.append(key)
        count = self._update_count
        self._update_count += 1
        # the same rows: DataTable's row order and offsets kept, not built again by looking
        # every row up (~1 ms a thousand rows)
        ordered = self._ordered_row_cache.get((self.row_count, count))
        if ordered is not None:
            self._ordered_row_cache[(self.row_count, count + 1)] = ordered
        offsets = self._offset_cache.get(count)
        if offsets is not None:
            self._offset_cache[count + 1] = offsets
        self._update_dimensions(keys)
        self.refresh()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        data = self._data
        self._widen([row.values() for key in new_rows if (row := data.get(key)) is not None])

    def _widen(self, rows: Sequence[Iterable[FdCell | Text]]) -> None:
        """Each column as wide as its widest cell of ``rows`` (in the order of the columns),
        then the virtual size. A column of ``FdCell`` s is measured by C (``max`` of their
        widths): a loop over 4,400 cells was ~40% of a fill."""
        console = self.app.console
        columns = self.ordered_columns
        for column, cells in zip(columns, zip(*rows, strict=True), strict=False):
            fds = [cell for cell in cells if type(cell) is FdCell]
            widest = max(map(_width, fds), default=0)
            if len(fds) < len(cells):
                for cell in cells:
                    if isinstance(cell, Text) and "\n" not in cell.plain:
                        widest = max(widest, cell.cell_len)
                    elif not isinstance(cell, FdCell):  # as DataTable measures it
                        widest = max(widest, measure(console, cell, 1))
            column.content_width = max(column.content_width, widest)
        super()._update_dimensions(())  # the virtual size


_width = attrgetter("width")
