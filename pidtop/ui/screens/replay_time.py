"""``g`` in a replay: type the moment to go to (``03:12``, ``-30m``, ``yesterday 14:00``)."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label

from pidtop.ui.screens.modal import Modal


class TimeScreen(Modal[float | None]):
    """Dismisses with epoch seconds, or None (Esc). ``parse(text)`` raises ValueError with
    the accepted forms, shown under the input."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str, parse: Callable[[str], float], span: str) -> None:
        super().__init__()
        self._current = current
        self._parse = parse
        self._span = span

    def compose(self) -> ComposeResult:
        with Vertical(classes="chooser"):
            yield Label("Go to the recorded moment at", classes="chooser-title", markup=False)
            yield Input(value=self._current, id="time-input")
            yield Label(self._span, id="time-span", markup=False)
            yield Label("", id="time-error", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            value = self._parse(event.value)
        except ValueError as e:
            self.query_one("#time-error", Label).update(str(e))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
