"""The setup screen (F2, ``S`` as in htop): columns and header meters (which and in what
order), display, defaults.

Columns are every column of the registry (:data:`pidtop.sampling.columns.COLUMNS`): a column added
there appears here by itself; meters are :data:`pidtop.settings.options.METERS`. Keyboard: Tab moves
between the parts; in the column or meter list Space (or Enter, or a click) shows/hides an
entry, ``[``/``]`` or F7/F8 (or the list's ▲/▼ buttons) move it up/down; on the theme line
(``◀ name ▶``) ←/→ or a click on either side choose the theme. Its buttons and theme line are
:mod:`pidtop.ui.widgets.light`'s (Textual's Button and Select made its first opening ~20 ms
slower: their CSS parsed, four widgets more).
Esc cancels; Save (ctrl+s, or Enter in a field) applies and saves. Defaults puts
htop's defaults in the form (nothing is applied until Save).
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label
from textual.widgets.selection_list import Selection

from pidtop.sampling.columns import COLUMN_BY_ID, COLUMNS
from pidtop.settings.options import MAX_DELAY, METERS, MIN_DELAY, Options
from pidtop.ui.screens.modal import Modal, drop_drawn
from pidtop.ui.widgets.checks import CheckBox, CheckList
from pidtop.ui.widgets.light import Cycle, Push

#: the form's settings that are not columns, with their labels (checkboxes)
_SWITCHES = (
    ("tree", "Tree view"),
    ("show_threads", "Userland threads (H)"),
    ("show_kernel_threads", "Kernel threads (K)"),
    ("bell", "Bell when a waited pin exits"),
)


def column_order(shown: tuple[str, ...]) -> list[str]:
    """Every registry column: the shown ones in their order, then the others in registry
    order (the list the screen starts with)."""
    return [*shown, *(c.id for c in COLUMNS if c.id not in shown)]


def meter_order(shown: tuple[str, ...]) -> list[str]:
    """Every meter: the shown ones in their order, then the others."""
    return [*shown, *(m for m in METERS if m not in shown)]


class SetupScreen(Modal[Options | None]):
    """Edit the settings; dismisses with the new Options (Save) or None (Esc, Cancel)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
        Binding("left_square_bracket,f7", "move(-1)", "Move up", show=False),
        Binding("right_square_bracket,f8", "move(1)", "Move down", show=False),
    ]

    def __init__(self, options: Options, themes: list[str]) -> None:
        super().__init__()
        self.themes = sorted(themes)
        self._take(options)

    def _take(self, options: Options) -> None:
        self.options = options
        self.order = column_order(options.columns)
        self.shown = set(options.columns)
        self.meter_order = meter_order(options.meters)
        self.meters_shown = set(options.meters)

    def show(self, options: Options) -> None:
        """Show ``options`` as a new setup screen would: the app keeps this screen and opens
        it again with the settings of that moment (building ~40 widgets took most of F2's
        300 ms at +1,000 processes)."""
        self._take(options)
        if not self.is_mounted:
            return  # compose shows them
        self._fill(options, again=True)
        error = self.query_one("#setup-error", Label)
        if error.content:
            error.update("")  # (an update lays the screen out again, even to the same text)
        for scroll in self.query(VerticalScroll):
            scroll.scroll_home(animate=False, immediate=True)
        if self.focused is not self._list:
            self._list.focus()  # (a focus draws the whole list again, focused already or not)

    def compose(self) -> ComposeResult:
        """Columns on the left, display settings on the right, buttons below."""
        with Vertical(id="setup-box"):
            yield Label("Setup — Esc cancels, ctrl+s saves", id="setup-title", markup=False)
            with Horizontal(id="setup-body"):
                with Vertical(id="setup-columns"):
                    yield Label("Columns: Space on/off · [ ] F7 F8 move", classes="setup-head")
                    yield CheckList[str](*self._selections(), id="setup-column-list")
                    with Horizontal(id="setup-move", classes="setup-move"):
                        yield Push("▲ Up", id="setup-up")
                        yield Push("▼ Down", id="setup-down")
                with VerticalScroll(id="setup-display"):
                    yield Label("Meters: Space on/off · [ ] move", classes="setup-head")
                    yield CheckList[str](*self._meter_selections(), id="setup-meter-list")
                    with Horizontal(classes="setup-move"):
                        yield Push("▲ Up", id="setup-meter-up")
                        yield Push("▼ Down", id="setup-meter-down")
                    yield Label("Display", classes="setup-head")
                    yield Label("Theme", markup=False)
                    yield Cycle(self.themes, self.options.theme, id="setup-theme")
                    yield Label(f"Refresh delay, seconds ({MIN_DELAY:g}–{MAX_DELAY:g})")
                    yield Input(
                        f"{self.options.delay:g}", id="setup-delay", type="number", compact=True
                    )
                    for name, label in _SWITCHES:
                        yield CheckBox(
                            label, getattr(self.options, name), id=f"setup-{name}", compact=True
                        )
                    yield Label("Ask before signalling > N processes")
                    yield Input(
                        str(self.options.confirm_over),
                        id="setup-confirm",
                        type="integer",
                        compact=True,
                    )
                    yield Label("TERM → KILL after, seconds (0–3600)")
                    yield Input(
                        f"{self.options.escalate_after:g}",
                        id="setup-after",
                        type="number",
                        compact=True,
                    )
            yield Label("", id="setup-error", markup=False)
            with Horizontal(id="setup-buttons"):
                yield Push("Save", id="setup-save", variant="primary")
                yield Push("Defaults", id="setup-defaults")
                yield Push("Cancel", id="setup-cancel")

    def on_mount(self) -> None:
        self.query_one("#setup-column-list", CheckList).focus()

    def closed(self) -> None:
        """What it drew is let go of, but its lists' lines (~30 ms to draw)."""
        drop_drawn(self, keep=(CheckList,))

    # ------------------------------------------------------------------ columns
    def _selections(self) -> list[Selection[str]]:
        return [  # Text, never markup: "[name]" in a description is literal
            Selection(
                Text(f"{COLUMN_BY_ID[i].title:<8} {COLUMN_BY_ID[i].description}"),
                i,
                i in self.shown,
            )
            for i in self.order
        ]

    def _meter_selections(self) -> list[Selection[str]]:
        return [
            Selection(Text(f"{m:<8} {METERS[m]}"), m, m in self.meters_shown)
            for m in self.meter_order
        ]

    @property
    def _list(self) -> CheckList[str]:
        return self.query_one("#setup-column-list", CheckList)

    @property
    def _meter_list(self) -> CheckList[str]:
        return self.query_one("#setup-meter-list", CheckList)

    def _rebuild(self, highlight: int) -> None:
        columns = self._list
        columns.clear_options()
        columns.add_options(self._selections())
        columns.highlighted = max(0, min(highlight, len(self.order) - 1))

    def _rebuild_meters(self, highlight: int) -> None:
        meters = self._meter_list
        meters.clear_options()
        meters.add_options(self._meter_selections())
        meters.highlighted = max(0, min(highlight, len(self.meter_order) - 1))

    @on(CheckList.SelectedChanged, "#setup-column-list")
    def _selected(self, event: CheckList.SelectedChanged[str]) -> None:
        self.shown = set(event.selection_list.selected)

    @on(CheckList.SelectedChanged, "#setup-meter-list")
    def _meter_selected(self, event: CheckList.SelectedChanged[str]) -> None:
        self.meters_shown = set(event.selection_list.selected)

    def action_move(self, step: int) -> None:
        """Move the highlighted column (or meter, when the meter list has the focus) up (-1)
        or down (1) in the order."""
        if self.focused is self._meter_list:
            self._move_meter(step)
        else:
            self._move_column(step)

    def _move_column(self, step: int) -> None:
        i = self._list.highlighted
        if i is None:
            return
        j = i + step
        if not 0 <= j < len(self.order):
            return
        self.order[i], self.order[j] = self.order[j], self.order[i]
        self._rebuild(j)

    def _move_meter(self, step: int) -> None:
        i = self._meter_list.highlighted
        if i is None:
            return
        j = i + step
        if not 0 <= j < len(self.meter_order):
            return
        order = self.meter_order
        order[i], order[j] = order[j], order[i]
        self._rebuild_meters(j)

    @on(Push.Pressed, "#setup-up")
    def _up(self) -> None:
        self._move_column(-1)
        self._list.focus()

    @on(Push.Pressed, "#setup-down")
    def _down(self) -> None:
        self._move_column(1)
        self._list.focus()

    @on(Push.Pressed, "#setup-meter-up")
    def _meter_up(self) -> None:
        self._move_meter(-1)
        self._meter_list.focus()

    @on(Push.Pressed, "#setup-meter-down")
    def _meter_down(self) -> None:
        self._move_meter(1)
        self._meter_list.focus()

    # ------------------------------------------------------------------ result
    def result(self) -> Options | str:
        """The Options the form describes, or what is wrong with it."""
        columns = tuple(i for i in self.order if i in self.shown)
        if not columns:
            return "Show at least one column."
        try:
            delay = float(self.query_one("#setup-delay", Input).value)
        except ValueError:
            delay = -1.0
        if not MIN_DELAY <= delay <= MAX_DELAY:
            return f"The refresh delay is a number of seconds from {MIN_DELAY:g} to {MAX_DELAY:g}."
        try:
            confirm = int(self.query_one("#setup-confirm", Input).value)
            after = float(self.query_one("#setup-after", Input).value)
        except ValueError:
            confirm, after = -1, -1.0
        if not (0 <= confirm <= 1_000_000 and 0 <= after <= 3600):
            return "Ask-before is a whole number (0 or more); the escalation 0–3600 seconds."
        theme = self.query_one("#setup-theme", Cycle).value
        switches = {n: self.query_one(f"#setup-{n}", CheckBox).value for n, _ in _SWITCHES}
        return self.options.replace(
            columns=columns,
            meters=tuple(m for m in self.meter_order if m in self.meters_shown),
            delay=delay,
            theme=theme if theme in self.themes else self.options.theme,
            confirm_over=confirm,
            escalate_after=after,
            **switches,
        )

    def action_save(self) -> None:
        """Apply: dismiss with the new options (or say what is wrong)."""
        result = self.result()
        if isinstance(result, str):
            self.query_one("#setup-error", Label).update(result)
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    @on(Push.Pressed, "#setup-save")
    def _save(self) -> None:
        self.action_save()

    @on(Push.Pressed, "#setup-cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    @on(Push.Pressed, "#setup-defaults")
    def _defaults(self) -> None:
        """htop's defaults in the form (applied only by Save)."""
        d = Options()
        self.order = column_order(d.columns)
        self.shown = set(d.columns)
        self.meter_order = meter_order(d.meters)
        self.meters_shown = set(d.meters)
        self._fill(d)

    def _fill(self, d: Options, *, again: bool = False) -> None:
        """The form shows ``d`` (its column and meter lists: ``self.order``... set first).
        ``again``: a list that shows its entries already is not rebuilt (its drawn lines are
        kept: building both lists again and drawing their ~70 lines was ~35 ms of a kept
        setup's 60 at +1,000 processes), only its cursor put back on its first entry."""
        for checks, order, shown, rebuild in (
            (self._list, self.order, self.shown, self._rebuild),
            (self._meter_list, self.meter_order, self.meters_shown, self._rebuild_meters),
        ):
            if again and _shows(checks, order, shown):
                checks.highlighted = 0
            else:
                rebuild(0)
        self.query_one("#setup-delay", Input).value = f"{d.delay:g}"
        self.query_one("#setup-confirm", Input).value = str(d.confirm_over)
        self.query_one("#setup-after", Input).value = f"{d.escalate_after:g}"
        if d.theme in self.themes:
            self.query_one("#setup-theme", Cycle).value = d.theme
        for name, _ in _SWITCHES:
            self.query_one(f"#setup-{name}", CheckBox).value = getattr(d, name)


def _shows(checks: CheckList[str], order: list[str], shown: set[str]) -> bool:
    """Whether ``checks`` lists ``order`` with exactly ``shown`` checked."""
    listed = [checks.get_option_at_index(i).value for i in range(checks.option_count)]
    return listed == order and set(checks.selected) == shown
