"""The help screen (``?``/F1): every action of :mod:`pidtop.ui.actions`, grouped, once each."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from pidtop.ui.actions import help_rows


class HelpScreen(ModalScreen[None]):
    """A modal listing every key; any of Esc/q/?/F1/h closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1,h", "dismiss", "Close"),
    ]

    def __init__(self, keymap: Mapping[str, str] | None = None) -> None:
        super().__init__()
        #: the keymap overrides in force: the help shows the keys that work now
        self.keymap = dict(keymap or {})

    def compose(self) -> ComposeResult:
        """The key table inside a scrollable box (focused: arrows, PgUp/PgDn, Home/End, wheel;
        at 120x40 the list is taller than the screen)."""
        rows = list(help_rows(self.keymap))
        key_width = max(len(keys) for _, keys, _ in rows)
        parts: list[Text | Table] = []
        tables: dict[str, Table] = {}
        for group, keys, text in rows:
            if group not in tables:
                if parts:
                    parts.append(Text(""))
                parts.append(Text(group, style="bold underline"))
                table = tables[group] = Table.grid(padding=(0, 2))
                table.add_column(style="bold", no_wrap=True, width=key_width)
                table.add_column()
                parts.append(table)
            tables[group].add_row(Text(keys), Text(text))
        with VerticalScroll(id="help-box", can_focus=True):
            yield Static(Text("pidtop — keys", style="bold"), id="help-title")
            yield Static(Group(*parts), id="help-table")
            yield Static(
                Text("↑↓ PgUp PgDn Home End scroll · Esc closes this help."), id="help-footer"
            )

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()

    async def action_dismiss(self, result: None = None) -> None:
        """Close."""
        self.dismiss(result)
