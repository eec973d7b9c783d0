"""Kill (``k``/F9): the signal picker and the confirmation dialog.

The picker lists every signal as ``15 SIGTERM`` (SIGTERM preselected), filtered as you type
(name or number), plus one escalation entry "SIGTERM, then SIGKILL after N s". It only
*chooses*: the app sends, through the pins' handles. Process text is shown as ``Text``.

The app keeps the picker for the next ``k`` (:func:`pidtop.ui.screens.modal.kept_screen`)
while the terminal's height is the same (it shapes it): :meth:`SignalScreen.reopen` shows
the new targets as a new picker would, filter empty, SIGTERM highlighted at the top, boxes
as offered (the whole-tree box is always there, hidden when the targets have no
descendants). Composing, mounting and styling its ~12 widgets was most of its ~100 ms at
+1,000 processes.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from pidtop.kernel.signals import list_signals
from pidtop.sampling.fmt import sanitize
from pidtop.ui.screens.modal import Modal, StyledWhenMounted
from pidtop.ui.widgets.checks import CheckBox
from pidtop.ui.widgets.picklist import PickList

ESCALATE = "escalate"
DEFAULT_AFTER = 5.0


@dataclass(frozen=True, slots=True)
class SignalChoice:
    """What the picker returns: a signal, or the escalation TERM → KILL after ``after`` s."""

    signal: int
    escalate: bool = False
    after: float = DEFAULT_AFTER
    reclaim: bool = False
    tree: bool = False  # the targets and every descendant (pidtop.actions.treekill)


#: targets listed by the picker and the confirmation dialog before "… and N more"
TARGETS_SHOWN = 8


def targets_text(targets: Sequence[tuple[str, str]], limit: int = TARGETS_SHOWN) -> Text:
    """One line per target, ``PID:INODE  command``, then "… and N more" past ``limit``.

    Lines never wrap: the widget showing it cuts each one at its width with ``…``
    (``text-wrap: nowrap; text-overflow: ellipsis`` in the stylesheet). Process text is
    sanitised and appended as plain text, never parsed as markup.
    """
    shown = targets if len(targets) <= limit + 1 else targets[:limit]
    lines: list[Text] = []
    for target, command in shown:
        line = Text()
        line.append(sanitize(target), style="bold")
        line.append("  ")
        line.append(sanitize(command))
        lines.append(line)
    if len(shown) < len(targets):
        lines.append(Text(f"… and {len(targets) - len(shown)} more"))
    return Text("\n").join(lines)


class _Input(StyledWhenMounted, Input):
    """An input styled once, when mounted."""


class SignalScreen(Modal[SignalChoice | None]):
    """Choose a signal for ``targets`` (``(PID:INODE, command)`` pairs). Esc cancels (None)."""

    AUTO_FOCUS = "#signal-filter"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        # "Enter sends" wherever the focus is: before the focused widget sees it (the reclaim
        # checkbox toggled on Enter instead); Space toggles the checkbox.
        Binding("enter", "send", "Send", show=False, priority=True),
        Binding("ctrl+t", "toggle_tree", "Whole tree", show=False),
    ]

    def __init__(
        self,
        targets: Sequence[tuple[str, str]],
        *,
        after: float = DEFAULT_AFTER,
        tree: int = 0,
        tree_selected: bool = False,
    ) -> None:
        """``tree``: how many processes the targets' whole tree has (0: no descendants, the
        option is not offered); ``tree_selected``: offered checked (a collapsed subtree)."""
        super().__init__()
        self._signals = list_signals()
        self.reopen(targets, after=after, tree=tree, tree_selected=tree_selected)  # (unmounted)

    _height = 0  # the terminal's height it was composed for (it shapes it)
    _shown = TARGETS_SHOWN  # target lines shown before "… and N more"
    _listed: tuple[str, float]  # what the list shows: (filter, escalation delay)

    def fits(self) -> bool:
        """Whether this picker can be opened again (:meth:`reopen`): composed for the
        terminal's height of now."""
        return self._height == self.app.size.height

    def _list_rows(self) -> int:
        """The signal list gives up rows on a short terminal, so the escalation entry, the
        reclaim box and the hint stay on screen (at 80x24 they were cut off); filter and list
        are compact: no borders (at 80x24 the list shows 9 signals)."""
        extra = 3 if self._tree else 0  # the whole-tree box (a border: three rows)
        return max(3, min(12, int(self._height * 0.9) - 11 - self._shown - extra))

    def reopen(
        self,
        targets: Sequence[tuple[str, str]],
        *,
        after: float = DEFAULT_AFTER,
        tree: int = 0,
        tree_selected: bool = False,
    ) -> None:
        """Be what a new picker for these would be (a kept picker, opened again): the
        targets and title, the filter empty, the delay ``after``, SIGTERM highlighted at
        the top of the list, the boxes as offered, the filter focused."""
        self._targets = list(targets)
        self._after = after
        self._tree = tree
        self._tree_selected = tree_selected and tree > 0
        if not self.is_mounted:
            return  # compose shows them
        self.query_one("#signal-title", Label).update(self._title())
        self.query_one("#signal-targets", Static).update(targets_text(self._targets, self._shown))
        self.query_one("#signal-reclaim", CheckBox).value = False
        box = self.query_one("#signal-tree", CheckBox)
        box.display = tree > 0
        box.value = self._tree_selected
        box.label = self._tree_label()
        delay = f"{after:g}"
        for field, value in (("#signal-filter", ""), ("#signal-after", delay)):
            entry = self.query_one(field, Input)
            entry.value = value  # its Changed finds the list showing it already
            entry.cursor_position = len(value)
        ol = self.query_one("#signal-list", OptionList)
        ol.styles.height = self._list_rows()
        options, highlight = self._options("", after)
        if self._listed != ("", after):
            self._listed = ("", after)
            ol.clear_options()
            ol.add_options(options)
        ol.highlighted = highlight
        ol.scroll_to(0, 0, animate=False, immediate=True)
        ol.scroll_to_highlight(True)
        self.query_one("#signal-filter", Input).focus()

    def _tree_label(self) -> str:
        return f"whole tree ({self._tree} processes; ctrl+t)"

    def _title(self) -> str:
        if self._tree_selected:
            return f"Send a signal to the whole tree: {self._tree} processes"
        n = len(self._targets)
        return f"Send a signal to {n} process{'es' if n != 1 else ''}"

    def compose(self) -> ComposeResult:
        with Vertical(id="signal-box", classes="chooser"):
            yield Label(self._title(), id="signal-title", classes="chooser-title", markup=False)
            # The box is at most 90 % of the screen and its other rows take ~24 lines: fewer
            # target lines on a short terminal (80x24: one, then "… and N more").
            room = int(self.app.size.height * 0.9) - 25
            shown = self._shown = max(1, min(TARGETS_SHOWN, room))
            self._height = self.app.size.height
            yield Static(
                targets_text(self._targets, shown),
                id="signal-targets",
                classes="target-list",
            )
            yield _Input(
                placeholder="type to filter: name or number", id="signal-filter", compact=True
            )
            options, highlight = self._options("", self._after)
            self._listed = ("", self._after)  # what the list shows: (filter, escalation delay)
            signals = PickList(*options, id="signal-list", compact=True)
            signals.styles.height = self._list_rows()
            signals.highlighted = highlight
            signals.highlight_on_top = True  # SIGTERM at the top, scrolled in its layout
            yield signals
            with Horizontal(id="signal-options"):
                yield Label("escalate after", markup=False)
                yield _Input(f"{self._after:g}", id="signal-after", type="number")
                yield Label("s", markup=False)
            yield CheckBox("reclaim memory after SIGKILL (process_mrelease)", id="signal-reclaim")
            tree_box = CheckBox(self._tree_label(), self._tree_selected, id="signal-tree")
            tree_box.display = self._tree > 0  # offered only for targets with descendants
            yield tree_box
            yield Label("Enter sends · Esc cancels", classes="chooser-hint", markup=False)

    def _after_seconds(self) -> float:
        try:
            value = float(self.query_one("#signal-after", Input).value)
        except ValueError:
            return self._after
        return value if 0 <= value <= 3600 else self._after

    def _fill(self, text: str) -> None:
        after = self._after_seconds()
        if (text, after) == self._listed:
            return  # the list shows these already (the delay box's first Changed, on open)
        self._listed = (text, after)
        ol = self.query_one("#signal-list", OptionList)
        ol.clear_options()
        options, highlight = self._options(text, after)
        ol.add_options(options)
        if highlight is not None:
            ol.highlighted = highlight
            self.call_after_refresh(ol.scroll_to_highlight, True)

    def _options(self, text: str, after: float) -> tuple[list[Option], int | None]:
        """The entries matching ``text`` (a filter) and the one to highlight; the escalation
        entry says ``after`` seconds."""
        word = text.strip().upper().removeprefix("SIG")
        options: list[Option] = []
        escalate = Option(
            Text(f"   SIGTERM, then SIGKILL after {after:g} s if still alive"), id=ESCALATE
        )
        with_escalate = (
            not word or word in "ESCALATE" or "TERM".startswith(word) or "KILL".startswith(word)
        )
        for number, name in self._signals:
            bare = name.removeprefix("SIG")
            if not word or (word.isdigit() and str(number).startswith(word)) or word in bare:
                options.append(Option(Text(f"{number:>2} {name}"), id=str(number)))
                if number == signal.SIGTERM and with_escalate:  # right under SIGTERM
                    options.append(escalate)
                    with_escalate = False
        if with_escalate:
            options.insert(0, escalate)
        ids = [o.id for o in options]
        preferred = str(int(signal.SIGTERM))
        if word and word.isdigit() and word in ids:
            return options, ids.index(word)
        if preferred in ids and not (word and word not in "TERM"):
            return options, ids.index(preferred)
        if options:
            first_signal = next((i for i, o in enumerate(ids) if o != ESCALATE), 0)
            return options, first_signal if word else 0
        return options, None

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id == "signal-filter":
            self._fill(event.value)
        elif event.input.id == "signal-after":
            # the escalation entry shows the new delay; the highlighted choice stays
            ol = self.query_one("#signal-list", OptionList)
            index = ol.highlighted
            kept = ol.get_option_at_index(index).id if index is not None else None
            self._fill(self.query_one("#signal-filter", Input).value)
            ids = [ol.get_option_at_index(i).id for i in range(ol.option_count)]
            if kept in ids:
                ol.highlighted = ids.index(kept)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._choose()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose()

    def action_move(self, delta: int) -> None:
        ol = self.query_one("#signal-list", OptionList)
        if ol.option_count:
            current = ol.highlighted if ol.highlighted is not None else 0
            ol.highlighted = max(0, min(ol.option_count - 1, current + delta))

    def action_toggle_tree(self) -> None:
        """ctrl+t: the whole tree on/off (when offered)."""
        if self._tree:
            box = self.query_one("#signal-tree", CheckBox)
            box.value = not box.value

    def on_checkbox_changed(self, event: CheckBox.Changed) -> None:
        if event.checkbox.id == "signal-tree":
            event.stop()
            self._tree_selected = event.value
            self.query_one("#signal-title", Label).update(self._title())

    def action_send(self) -> None:
        """Enter: send the highlighted signal."""
        self._choose()

    def _choose(self) -> None:
        ol = self.query_one("#signal-list", OptionList)
        if ol.highlighted is None or not ol.option_count:
            self.app.bell()
            return
        oid = ol.get_option_at_index(ol.highlighted).id
        reclaim = self.query_one("#signal-reclaim", CheckBox).value
        tree = self._tree_selected
        if oid == ESCALATE:
            self.dismiss(SignalChoice(signal.SIGTERM, True, self._after_seconds(), reclaim, tree))
        else:
            self.dismiss(SignalChoice(int(oid or 15), False, self._after_seconds(), reclaim, tree))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(Modal[bool]):
    """Yes/No before a risky signal: the targets and the reasons. Default (and Esc): No."""

    BINDINGS = [
        Binding("escape,n", "answer(False)", "No"),
        Binding("y", "answer(True)", "Yes"),
        Binding("left,right", "app.focus_next", "Switch", show=False),
    ]

    def __init__(
        self, action: str, targets: Sequence[tuple[str, str]], reasons: Sequence[str]
    ) -> None:
        super().__init__()
        self._action = action
        self._targets = list(targets)
        self._reasons = list(reasons)

    def compose(self) -> ComposeResult:
        n = len(self._targets)
        reasons = Text()
        for reason in self._reasons:
            reasons.append(f"! {sanitize(reason)}\n")
        with Vertical(id="confirm-box", classes="chooser"):
            yield Label(
                f"{self._action} to {n} process{'es' if n != 1 else ''}?",
                classes="chooser-title",
                markup=False,
            )
            yield Static(targets_text(self._targets), id="confirm-targets", classes="target-list")
            yield Static(reasons, id="confirm-reasons")
            with Horizontal(id="confirm-buttons"):
                yield Button("Yes", id="yes", variant="error")
                yield Button("No", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
