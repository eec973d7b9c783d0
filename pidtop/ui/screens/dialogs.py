"""Small modal choosers: sort column (F6), user (``u``) and refresh delay (``d``).

The sort and user choosers are kept by the app for the next opening while they list the same
options (:func:`pidtop.ui.screens.modal.kept_screen`): :meth:`_Chooser.reopen` puts the
highlight back on the current choice and the list where a new chooser would have it
(composing, mounting and styling a new one was most of their 50-70 ms at +1,000 processes).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from pidtop.sampling.fmt import sanitize
from pidtop.ui.screens.modal import Modal
from pidtop.ui.widgets.picklist import PickList

#: returned by UserScreen for "all users" (None means: cancelled)
ALL_USERS = ""

#: the refresh delay's bounds in seconds, the same everywhere: ``d``, the ``,``/``.`` steps
#: (app.DELAY_STEPS runs from one to the other) and ``-d`` (1-600 tenths)
MIN_DELAY = 0.1
MAX_DELAY = 60.0


class _Chooser(Modal[str | None]):
    """A titled OptionList; Enter picks (dismisses with the option id), Esc cancels (None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, options: Sequence[tuple[str, str]], current: str | None) -> None:
        super().__init__()
        self._title = title
        self._options = tuple(options)
        self._current = current

    def shows(self, options: Sequence[tuple[str, str]]) -> bool:
        """Whether it lists ``options`` (then it can be opened again: :meth:`reopen`)."""
        return self._options == tuple(options)

    def reopen(self, current: str | None) -> None:
        """Be what a new chooser for ``current`` would be: the highlight on it, scrolled as a
        new list scrolls to it, the list focused (a kept chooser, opened again)."""
        self._current = current
        if not self.is_mounted:
            return  # on_mount does it
        option_list = self.query_one(OptionList)
        option_list.scroll_to(0, 0, animate=False, immediate=True)
        self._highlight_current(option_list)
        option_list.scroll_to_highlight()
        option_list.focus()

    def compose(self) -> ComposeResult:
        """Title and options (prompts as ``Text``: never markup)."""
        with Vertical(classes="chooser"):
            yield Label(self._title, classes="chooser-title", markup=False)
            yield PickList(
                *(Option(Text(prompt), id=oid) for oid, prompt in self._options),
                id="chooser-list",
            )

    def on_mount(self) -> None:
        """Highlight the current choice."""
        option_list = self.query_one(OptionList)
        self._highlight_current(option_list)
        option_list.focus()

    def _highlight_current(self, option_list: OptionList) -> None:
        ids = [oid for oid, _prompt in self._options]
        option_list.highlighted = ids.index(self._current) if self._current in ids else 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Pick."""
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Close without choosing."""
        self.dismiss(None)


class SortScreen(_Chooser):
    """F6: choose the sort column. Dismisses with a column id or None."""

    def __init__(self, columns: Sequence[tuple[str, str]], current: str) -> None:
        super().__init__("Sort by", columns, current)


class UserScreen(_Chooser):
    """``u``: choose a user among those present. Dismisses with a name, ``ALL_USERS`` or None."""

    def __init__(self, users: Sequence[str], current: str | None) -> None:
        super().__init__("Show processes of", self._listing(users), current or ALL_USERS)

    @staticmethod
    def _listing(users: Sequence[str]) -> list[tuple[str, str]]:
        return [(ALL_USERS, "All users"), *((u, sanitize(u)) for u in users)]

    def lists(self, users: Sequence[str]) -> bool:
        """Whether it lists exactly ``users`` (then it can be opened again)."""
        return self.shows(self._listing(users))


class DelayScreen(Modal[float | None]):
    """``d``: type a refresh delay in seconds. Dismisses with seconds or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: float) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        """A prompt."""
        with Vertical(classes="chooser"):
            yield Label(
                f"Refresh delay in seconds ({MIN_DELAY:g}–{MAX_DELAY:g} s)",
                classes="chooser-title",
                markup=False,
            )
            with Horizontal(id="delay-row"):
                yield Input(value=f"{self._current:g}", id="delay-input", type="number")
                yield Label("seconds", id="delay-unit", markup=False)
            yield Label("", id="delay-error", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Validate and return the delay."""
        event.stop()
        try:
            value = float(event.value)
        except ValueError:
            value = -1.0
        if not MIN_DELAY <= value <= MAX_DELAY:
            self.query_one("#delay-error", Label).update(
                f"Enter a number of seconds from {MIN_DELAY:g} to {MAX_DELAY:g}."
            )
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)


class TextScreen(Modal[None]):
    """A titled text, wrapped at the box's width (``W``: the whole command line). Any of Esc,
    Enter, q or W closes it."""

    BINDINGS = [Binding("escape,enter,q,W", "close", "Close")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self._title = title
        self._text = text

    def compose(self) -> ComposeResult:
        """Title, text (``Text``: never markup; sanitized: never an escape), hint."""
        with Vertical(classes="chooser", id="text-box"):
            yield Label(self._title, classes="chooser-title", markup=False)
            yield Label(Text(sanitize(self._text)), id="text-body")
            yield Label("Esc closes", classes="chooser-hint", markup=False)

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)
