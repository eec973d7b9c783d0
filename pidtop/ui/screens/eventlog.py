"""The event log (``l``): pins, refused pins, signals and results, exits — newest at the bottom.

Entries are ``Text`` (never markup). The screen follows the log while it is open.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, RichLog

from pidtop.process.events import Event, EventLog
from pidtop.process.fmt import sanitize

_KIND_STYLE = {
    "pin": "bold",
    "unpin": "dim",
    "pin_refused": "bold red",
    "signal": "bold yellow",
    "exit": "bold magenta",
    "reaped": "magenta",
    "reclaim": "cyan",
    "wait": "bold cyan",
    "error": "bold red",
}


def event_line(event: Event) -> Text:
    """``HH:MM:SS kind target message`` as Text; failures in red."""
    line = Text()
    line.append(time.strftime("%H:%M:%S", time.localtime(event.wall)) + " ", "dim")
    line.append(f"{event.kind:<11} ", _KIND_STYLE.get(event.kind, ""))
    line.append(f"{sanitize(event.target):<16} ", "bold")
    line.append(sanitize(event.message), "" if event.ok else "red")
    return line


class EventLogScreen(ModalScreen[None]):
    """Every event of the session; Esc, ``l`` or ``q`` closes it."""

    BINDINGS = [Binding("escape,l,q", "close", "Close")]

    def __init__(self, log: EventLog) -> None:
        super().__init__()
        self._log = log

    def compose(self) -> ComposeResult:
        with Vertical(id="log-box"):
            yield Label(
                f"Event log — {len(self._log.entries)} entries (Esc closes)",
                id="log-title",
                markup=False,
            )
            yield RichLog(id="log-lines", markup=False, wrap=True, auto_scroll=True)

    def on_mount(self) -> None:
        lines = self.query_one(RichLog)
        if not self._log.entries:
            lines.write(Text("(nothing yet: pin with Space, signal with k, wait with w)", "dim"))
        for event in self._log.entries:
            lines.write(event_line(event))
        self._log.listeners.append(self._on_event)
        lines.focus()

    def on_unmount(self) -> None:
        if self._on_event in self._log.listeners:
            self._log.listeners.remove(self._on_event)

    def _on_event(self, event: Event) -> None:
        self.query_one(RichLog).write(event_line(event))
        self.query_one("#log-title", Label).update(
            f"Event log — {len(self._log.entries)} entries (Esc closes)"
        )

    def action_close(self) -> None:
        self.dismiss(None)
