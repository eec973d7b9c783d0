"""The footer: the screen's keys on one line, drawn by one widget.

Textual's ``Footer`` is a scrolling container with one ``FooterKey`` widget per key, each with
its own CSS; composing it cost ~96 ms of the details screen's first frame at +1,000 processes
(15 keys), and it recomposed on every focus change, push, pop and keymap change. This widget
draws the same cells (text and style, cell for cell: tests/test_ui_footer.py compares it with
Textual's ``Footer`` in several themes, compact or not, with disabled and hovered keys) from the
same CSS variables, and rebuilds its line only when the keys it shows change (one check per
loop turn for any number of binding signals). A click on a key does what ``FooterKey`` does:
the key is simulated (a disabled key rings the bell). Too narrow a terminal cuts the line at
its right edge, as Textual's footer does (which could then be scrolled sideways with the mouse
wheel; this one cannot). Binding groups and the command palette key are not drawn: pidtop uses
neither in a footer.
"""

from __future__ import annotations

from typing import Any, Self

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.color import Color
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

__all__ = ["KeyFooter"]

#: one key's cell run: first column, column after the last, the binding, enabled
Cell = tuple[int, int, Binding, bool]


def _folded(chain: list[Any]) -> Style:
    """The Rich style of a node whose styles, root first, are ``chain``: what
    ``DOMNode.rich_style`` computes (background blended down the chain, the last color set,
    text styles added)."""
    background = Color(0, 0, 0, 0)
    color = Color(255, 255, 255, 0)
    style = Style()
    opacity = 1.0
    for styles in chain:
        has_rule = styles.has_rule
        opacity *= styles.opacity
        if has_rule("background"):
            text_background = background + styles.background.tint(styles.background_tint)
            background += styles.background.tint(styles.background_tint).multiply_alpha(opacity)
        else:
            text_background = background
        if has_rule("color"):
            color = styles.color
        style += styles.text_style
        if has_rule("auto_color") and styles.auto_color:
            color = text_background.get_contrast_text(color.a)
    return style + Style.from_color(
        (background + color).rich_color if (background.a or color.a) else None,
        background.rich_color if background.a else None,
    )


class KeyFooter(Widget, can_focus=False):
    """The keys of the screen's active bindings (``show`` ones, one per action), on one line."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "footer-key--item",
        "footer-key--hover",
        "footer-key--disabled",
        "footer-key--key",
        "footer-key--description",
    }
    # Textual's Footer and FooterKey rules, as components of one widget
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .footer-key--item { background: $footer-item-background; }
        .footer-key--hover { color: $footer-key-foreground; background: $block-hover-background; }
        .footer-key--disabled { text-style: dim; }
        .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
            padding: 0 1;
        }
        .footer-key--description {
            padding: 0 1 0 0;
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        &.-compact {
            .footer-key--key { padding: 0; }
            .footer-key--description { padding: 0 0 0 1; }
        }
    }
    """

    def __init__(self, *, compact: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, classes="-compact" if compact else None)
        #: what the line was built from (None: not built yet)
        self._shown: object = None
        self._keys: list[tuple[Binding, bool]] = []
        self._cells: list[Cell] = []
        #: (width, hovered cell) -> the line drawn
        self._strip: tuple[tuple[int, int | None], Strip] | None = None
        self._hover: int | None = None
        #: (crop, size, line filters) -> the lines Textual's styles cache drew for them
        self._lines: tuple[tuple[object, ...], list[Strip]] | None = None
        self._check_queued = False
        #: how many times the keys were read from the bindings (tests count rebuilds)
        self.builds = 0

    # ------------------------------------------------------------------ what is shown
    def _what_is_shown(self) -> tuple[tuple[Binding, bool, str], ...]:
        """The shown bindings of the screen, with their state: what the line is built from."""
        active = self.screen.active_bindings.values()
        return tuple((b, enabled, tip) for _n, b, enabled, tip in active if b.show)

    def _build(self) -> None:
        """The keys: one per action (its first binding), in the screen's binding order."""
        shown = self._what_is_shown()
        self._shown = shown
        first: dict[str, tuple[Binding, bool]] = {}
        for binding, enabled, _tip in shown:
            first.setdefault(binding.action, (binding, enabled))
        self._keys = list(first.values())
        self._hover = None  # as Textual's new keys: none hovered until the mouse moves
        self.builds += 1
        self._place()

    def _place(self) -> None:
        """Each key's columns, padded as the CSS says now."""
        key_pad = self.get_component_styles("footer-key--key").padding
        desc_pad = self.get_component_styles("footer-key--description").padding
        cells: list[Cell] = []
        x = 0
        for binding, enabled in self._keys:
            key_text, desc_text = self._texts(binding, key_pad, desc_pad)
            width = Strip([Segment(key_text + desc_text)]).cell_length
            cells.append((x, x + width, binding, enabled))
            x += width
        self._cells = cells
        self._strip = None

    def _texts(self, binding: Binding, key_pad: Any, desc_pad: Any) -> tuple[str, str]:
        """A key's two parts, padded as FooterKey pads them."""
        key = " " * key_pad.left + self.app.get_key_display(binding) + " " * key_pad.right
        if not binding.description:
            return self.app.get_key_display(binding), ""
        return key, " " * desc_pad.left + binding.description + " " * desc_pad.right

    @property
    def cells(self) -> list[Cell]:
        """The keys drawn: first column, end column, binding, enabled."""
        if self._shown is None:
            self._build()
        return self._cells

    @property
    def plain(self) -> str:
        """The line's text (all keys, uncut)."""
        return "".join(str(s.text) for s in self._segments(None))

    # ------------------------------------------------------------------ signals
    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """One queued check for any number of signals (Textual's footer recomposed per signal)."""
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._check_queued:
            self._check_queued = True
            self.call_after_refresh(self._rebuild_if_changed)

    def _rebuild_if_changed(self) -> None:
        self._check_queued = False
        if self.is_attached and self._what_is_shown() != self._shown:
            self._build()
            self.refresh()

    def notify_style_update(self) -> None:
        """A theme or CSS change: the styles (and paddings) are read again at the next paint."""
        super().notify_style_update()
        self._lines = None
        if self._shown is not None:
            self._place()

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        """Textual's, and the drawn lines dropped (see :meth:`render_lines`)."""
        self._lines = None
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    # ------------------------------------------------------------------ drawing
    def _segments(self, hover: int | None) -> list[Segment]:
        """The keys' segments, each styled as FooterKey styles its text."""
        chain = [node.styles for node in reversed(self.ancestors_with_self)]
        parts = {
            name: self.get_component_styles(name)
            for name in ("footer-key--item", "footer-key--hover", "footer-key--disabled")
        }
        key_styles = self.get_component_styles("footer-key--key")
        desc_styles = self.get_component_styles("footer-key--description")
        key_pad, desc_pad = key_styles.padding, desc_styles.padding
        out: list[Segment] = []
        # the item, key and description styles of a key, by (hovered, enabled): folded once
        # for all the keys alike (three folds a key were ~2 ms of a screen's first frame)
        folds: dict[tuple[bool, bool], tuple[Style, Style]] = {}
        for i, (_x0, _x1, binding, enabled) in enumerate(self.cells):
            kind = (i == hover, enabled)
            if kind not in folds:
                item_chain = [
                    *chain,
                    parts["footer-key--hover" if i == hover else "footer-key--item"],
                ]
                if not enabled:
                    item_chain.append(parts["footer-key--disabled"])
                item = _folded(item_chain)
                folds[kind] = (
                    item + _folded([*item_chain, key_styles]),
                    item + _folded([*item_chain, desc_styles]),
                )
            key_style, desc_style = folds[kind]
            key_text, desc_text = self._texts(binding, key_pad, desc_pad)
            out.append(Segment(key_text, key_style))
            if desc_text:
                out.append(Segment(desc_text, desc_style))
        return out

    def render_lines(self, crop: Region) -> list[Strip]:
        """Textual's lines, kept until a refresh or a style change. The compositor asks every
        widget of the screen for its lines at each frame, the footer too when only the table
        and the meters changed, and Textual's styles cache then walks the ancestors for the
        background and opacity: ~0.3 ms a frame for this one unchanged line."""
        key = (crop, self.size, tuple(self.get_line_filters()))
        kept = self._lines
        if kept is None or kept[0] != key:
            kept = self._lines = (key, super().render_lines(crop))
        return list(kept[1])

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        hover = self._hover
        if self._strip is None or self._strip[0] != (width, hover):
            if self._shown is None:
                self._build()
            blank = Style(bgcolor=self.rich_style.bgcolor)  # as Textual pads: no colour
            line = Strip(self._segments(hover)).crop_extend(0, width, blank)
            self._strip = ((width, hover), line)
        return self._strip[1]

    # ------------------------------------------------------------------ mouse
    def _cell_at(self, x: int) -> int | None:
        for i, (x0, x1, _b, _e) in enumerate(self._cells):
            if x0 <= x < x1:
                return i
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._set_hover(self._cell_at(event.x))

    def on_leave(self, event: events.Leave) -> None:
        self._set_hover(None)

    def _set_hover(self, hover: int | None) -> None:
        """The key under the mouse is drawn as FooterKey:hover, with its pointer shape."""
        if hover != self._hover:
            self._hover = hover
            self.styles.pointer = "default" if hover is None else "pointer"
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        """As FooterKey: the key is simulated; a disabled one rings the bell."""
        i = self._cell_at(event.x)
        if i is None:
            return
        _x0, _x1, binding, enabled = self._cells[i]
        if enabled:
            self.app.simulate_key(binding.key)
        else:
            self.app.bell()
