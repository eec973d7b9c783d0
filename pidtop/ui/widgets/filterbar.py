"""The bar that shows active filters, and the bottom prompt used for search and filter input."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label

from pidtop.sampling.fmt import sanitize

PromptMode = Literal["search", "filter"]


class FilterBar(Widget):
    """``Filter: text  User: name  PIDs: 1,2`` — displayed only while a filter is active."""

    COMPONENT_CLASSES = {"filter-bar--label", "filter-bar--value"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.parts: tuple[tuple[str, str], ...] = ()

    def set_filters(self, parts: tuple[tuple[str, str], ...]) -> None:
        """``(label, value)`` pairs; empty hides the bar."""
        if parts != self.parts:
            self.parts = parts
            self.display = bool(parts)
            self.refresh()

    def render(self) -> Text:
        """Labels and values as plain ``Text`` (user text is never markup)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        label = self.get_component_rich_style("filter-bar--label", partial=True)
        value = self.get_component_rich_style("filter-bar--value", partial=True)
        for i, (name, val) in enumerate(self.parts):
            if i:
                text.append("   ")
            text.append(f"{name}: ", label)
            text.append(sanitize(val), value)
        text.append("   (Esc clears)")
        return text


class PromptInput(Input):
    """The prompt's Input: F3 inside it means "next match"."""

    BINDINGS = [
        Binding("f3", "next_match", "Next", show=False, priority=True),
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    class Next(Message):
        """F3 pressed while searching."""

    class Cancel(Message):
        """Esc pressed."""

    def action_next_match(self) -> None:
        """Ask the app for the next search match."""
        self.post_message(self.Next())

    def action_cancel(self) -> None:
        """Close the prompt."""
        self.post_message(self.Cancel())


class PromptBar(Horizontal):
    """A one-line ``Search:``/``Filter:`` prompt docked at the bottom; hidden when closed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mode: PromptMode = "search"

    def compose(self) -> ComposeResult:
        """A label and the input."""
        yield Label("Search:", id="prompt-label", markup=False)
        yield PromptInput(id="prompt-input", compact=True, select_on_focus=True)

    @property
    def input(self) -> PromptInput:
        """The Input widget."""
        return self.query_one(PromptInput)

    def open(self, mode: PromptMode, value: str) -> None:
        """Show the prompt in ``mode`` with ``value`` and focus it."""
        self.mode = mode
        self.query_one("#prompt-label", Label).update(
            "Search: " if mode == "search" else "Filter: "
        )
        self.set_class(mode == "filter", "-filter")
        self.display = True
        inp = self.input
        with inp.prevent(Input.Changed):
            inp.value = value
        inp.focus()

    def close(self) -> None:
        """Hide the prompt."""
        self.display = False

    @property
    def is_open(self) -> bool:
        """Whether the prompt is shown."""
        return bool(self.display)
