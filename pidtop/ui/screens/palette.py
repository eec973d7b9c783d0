"""The command palette (ctrl+p): Textual's, shown whole in its first frame and laid out once.

Textual's :class:`~textual.command.CommandPalette` opens hidden (its box is ``display: none``
until the class ``-ready``), then a worker asks each command provider for its "discovery"
commands, fills the list, shows the box and the list by class changes (restyling), and the
list learns its lines in its first paint: 4 layouts and ~260 ms at +1,000 processes before
the palette stood still. Here, when the providers are only the app's system commands (as in
pidtop: the action table's entries, the sort columns, Textual's own), the palette is composed
with those commands listed, highlighted and shown, as the worker would have listed them (the
same order, prompts and help), and the worker's first search (empty text) is skipped; typing
runs Textual's search as before. Its list is a :class:`~pidtop.ui.widgets.picklist.LinesInLayout`.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.command import (
    Command,
    CommandInput,
    CommandList,
    CommandPalette,
    DiscoveryHit,
    SearchIcon,
)
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.style import Style
from textual.system_commands import SystemCommandsProvider
from textual.widgets import Button, LoadingIndicator

from pidtop.ui.screens.modal import OneLayout
from pidtop.ui.widgets.picklist import LinesInLayout


class PaletteList(LinesInLayout, CommandList):
    """The palette's command list, laid out once (:class:`LinesInLayout`)."""


class Palette(OneLayout, CommandPalette):
    """Textual's command palette (ctrl+p), whole at its first frame, laid out once."""

    _listed_at_open = False  # the first search's commands are in the list already

    def compose(self) -> ComposeResult:
        """Textual's palette's widgets, the list filled (when its commands are the app's)."""
        self._calling_screen = self.app.screen_stack[-2]
        commands = self._discovered()
        self._listed_at_open = commands is not None
        shown = bool(commands)
        if commands is not None:
            self.add_class("-ready")  # the box is shown (Textual's worker adds it at its end)
            self.set_reactive(CommandPalette._list_visible, shown)
            self._hit_count = len(commands)
        with Vertical(id="--container"):
            with Horizontal(id="--input", classes="--list-visible" if shown else ""):
                yield SearchIcon()
                yield CommandInput(placeholder=self._placeholder, select_on_focus=False)
                if not self.run_on_select:
                    yield Button("\u25b6")
            with Vertical(id="--results"):
                command_list = PaletteList(*(commands or ()), classes="--visible" if shown else "")
                if shown:
                    command_list.highlighted = 0
                yield command_list
                yield LoadingIndicator()

    def _discovered(self) -> list[Command] | None:
        """The discovery commands as Textual's first search lists them, or None when another
        provider than the app's system commands is in play (then Textual's search runs)."""
        if self._provider_classes != {SystemCommandsProvider}:
            return None
        screen = self._calling_screen
        assert screen is not None
        help_style = Style.from_styles(self.get_component_styles("command-palette--help-text"))
        commands: list[Command] = []
        entries = sorted(self.app.get_system_commands(screen), key=lambda c: c[0])
        for name, help_text, callback, discover in entries:
            if not discover:
                continue
            hit = DiscoveryHit(name, callback, help=help_text)
            prompt = Content.from_markup(name)
            if help_text:
                prompt = Content("\n").join(
                    [prompt, Content.from_markup(help_text).stylize_before(help_style)]
                )
            commands.append(Command(prompt, hit, id=str(len(commands))))
        return commands

    def _gather_commands(self, search_value: str) -> Any:
        """Textual's search, except the first (empty text) when its commands are listed."""
        if self._listed_at_open and not search_value:
            self._listed_at_open = False
            return None
        self._listed_at_open = False
        return super()._gather_commands(search_value)
