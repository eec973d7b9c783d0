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

Textual builds a new palette at each ctrl+p; the listed commands are the same each time. They
are kept (:data:`_KEPT`) while the app's entries (names, help, callbacks) and the help style
are the same, with their lines as drawn at each width and style, so a second opening
measures and draws none of the ~60 two-line entries again (at +1,000 processes: ~15 of the
palette's ~55 ms before its first frame).

The app also keeps the palette itself for the next ctrl+p (``kept_screen``) while it would
list the same commands for the same screen (:meth:`Palette.lists_for`): :meth:`Palette.reopen`
empties its text, lists the kept commands again, the first highlighted, as a new palette
opens (Textual's providers are started at its mount and stopped at its unmount, once).
"""

from __future__ import annotations

from functools import partial
from types import FunctionType
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
from textual.css.styles import RulesMap
from textual.screen import Screen
from textual.strip import Strip
from textual.style import Style
from textual.system_commands import SystemCommandsProvider
from textual.visual import Visual
from textual.widgets import Button, Input, LoadingIndicator
from textual.widgets.option_list import Option

from pidtop.ui.screens.modal import OneLayout, StyledWhenMounted
from pidtop.ui.widgets.picklist import LinesInLayout


class _CommandInput(StyledWhenMounted, CommandInput):
    """Textual's palette input, styled once, when mounted."""


class _Kept:
    """The commands listed at the last opening, what they were made from, their lines."""

    made_from: object = None
    commands: list[Command] = []
    ids: frozenset[int] = frozenset()  # theirs (they are held: the ids are theirs only)
    #: (option, style, padding, width) -> the option's lines (as ``OptionList`` draws them)
    drawn: dict[tuple[object, ...], list[Strip]] = {}


_KEPT = _Kept()


def _same(call: Any) -> object:
    """What a command's callback compares by (a new ``partial`` or ``lambda`` of the same call
    each time)."""
    if isinstance(call, partial):
        return (call.func, call.args, tuple(sorted(call.keywords.items())))
    if isinstance(call, FunctionType):
        return (call.__code__, tuple(cell.cell_contents for cell in call.__closure__ or ()))
    return call


class _Measured(Visual):
    """A kept command's prompt, its height measured once per width (the list's wrapping rules
    are the same at every opening)."""

    def __init__(self, visual: Visual) -> None:
        self.visual = visual
        self.heights: dict[int, int] = {}

    def render_strips(self, *args: Any, **kwargs: Any) -> list[Strip]:
        return self.visual.render_strips(*args, **kwargs)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self.visual.get_optimal_width(rules, container_width)

    def get_minimal_width(self, rules: RulesMap) -> int:
        return self.visual.get_minimal_width(rules)

    def get_height(self, rules: RulesMap, width: int) -> int:
        if (height := self.heights.get(width)) is None:
            height = self.heights[width] = _height(self.visual, rules, width)
        return height


def _height(visual: Visual, rules: RulesMap, width: int) -> int:
    """A visual's height at a width: for a :class:`Content` whose lines all fit (no tabs), its
    count of lines, as Textual would find (it wraps and formats the whole prompt to count them:
    ~5 ms for the palette's ~60 two-line commands at +1,000 processes)."""
    if (
        isinstance(visual, Content)
        and width > 0
        and "\t" not in visual.plain
        and visual.get_optimal_width(rules, width) <= width
    ):
        return visual.plain.count("\n") + 1
    return visual.get_height(rules, width)


class PaletteList(LinesInLayout, CommandList):
    """The palette's command list, laid out once (:class:`LinesInLayout`); the kept commands'
    lines drawn at the last opening are drawn again from :data:`_KEPT`."""

    def _get_visual(self, option: Option) -> Visual:
        visual = super()._get_visual(option)
        if id(option) in _KEPT.ids and not isinstance(visual, _Measured):
            visual = option._visual = _Measured(visual)
        return visual

    def _get_option_render(self, option: Option, style: Style) -> list[Strip]:  # type: ignore[override]
        if id(option) not in _KEPT.ids:
            return super()._get_option_render(option, style)
        key = (
            option,
            style,
            self.get_component_styles("option-list--option").padding,
            self.scrollable_content_region.width,
        )
        if (strips := _KEPT.drawn.get(key)) is None:
            strips = _KEPT.drawn[key] = super()._get_option_render(option, style)
        return strips


class Palette(OneLayout, CommandPalette):
    """Textual's command palette (ctrl+p), whole at its first frame, laid out once."""

    _listed_at_open = False  # the first search's commands are in the list already
    _composed: list[Command] | None = None  # the commands composed into its list

    def lists_for(self, screen: Screen[Any]) -> bool:
        """Whether it can be opened again over ``screen`` (:meth:`reopen`): it was opened over
        it and lists the commands a new palette would (the app's entries are the same)."""
        if self._calling_screen is not screen or self._composed is None:
            return False
        return self._discovered() is self._composed

    def reopen(self) -> None:
        """Be what a new palette is at its first frame (a kept palette, opened again): no
        text, no search running, the commands listed, the first highlighted."""
        if not self.is_mounted or self._composed is None:
            return
        self.app.post_message(CommandPalette.Opened())  # as Textual's mount posts it
        self._cancel_gather_commands()
        self._stop_busy_countdown()
        self._stop_no_matches_countdown()
        self._selected_command = None
        self._listed_at_open = False
        self._show_busy = False
        entry = self.query_one(CommandInput)
        with self.prevent(Input.Changed):
            entry.value = ""
        commands, listed = self._composed, self.query_one(CommandList)
        shown = [listed.get_option_at_index(i) for i in range(listed.option_count)]
        if list(map(id, shown)) != list(map(id, commands)):  # typed in: searched
            listed.clear_options().add_options(commands)
        self._hit_count = len(commands)
        self._list_visible = bool(commands)
        if commands:
            listed.highlighted = 0
        listed.scroll_to(0, 0, animate=False, immediate=True)
        entry.focus()

    def compose(self) -> ComposeResult:
        """Textual's palette's widgets, the list filled (when its commands are the app's)."""
        self._calling_screen = self.app.screen_stack[-2]
        commands = self._composed = self._discovered()
        self._listed_at_open = commands is not None
        shown = bool(commands)
        if commands is not None:
            self.add_class("-ready")  # the box is shown (Textual's worker adds it at its end)
            self.set_reactive(CommandPalette._list_visible, shown)
            self._hit_count = len(commands)
        with Vertical(id="--container"):
            with Horizontal(id="--input", classes="--list-visible" if shown else ""):
                yield SearchIcon()
                yield _CommandInput(placeholder=self._placeholder, select_on_focus=False)
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
        entries = sorted(self.app.get_system_commands(screen), key=lambda c: c[0])
        shown = [(name, text, _same(call)) for name, text, call, listed in entries if listed]
        made_from = (help_style, shown)
        if made_from == _KEPT.made_from:
            return _KEPT.commands
        commands: list[Command] = []
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
        _KEPT.made_from, _KEPT.commands, _KEPT.drawn = made_from, commands, {}
        _KEPT.ids = frozenset(map(id, commands))
        return commands

    def _gather_commands(self, search_value: str) -> Any:
        """Textual's search, except the first (empty text) when its commands are listed."""
        if self._listed_at_open and not search_value:
            self._listed_at_open = False
            return None
        self._listed_at_open = False
        return super()._gather_commands(search_value)
