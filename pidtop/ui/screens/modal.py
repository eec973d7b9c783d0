"""What every screen pushed over the table shares: it is laid out once when it opens.

Textual lays a screen out when it resumes (``ScreenResume``); that first layout "shows" the
screen itself, so Textual posts the screen a ``Resize`` of the size it has just been laid out
at, and ``Screen._on_resize`` lays it out again in full, and the table screen beneath it too
(measured at +1,000 processes: the help's second layout took 74 ms before its first frame).
:class:`OneLayout` drops that echo with public API: an ``on_resize`` handler that calls
``prevent_default()`` when the size is the one the screen already has. A real terminal resize
(a new size) is laid out as before. :func:`kept_screen` keeps a screen for the next time it
is opened (Textual's ``install_screen``), while it still shows what is true.

The same resume also applies the stylesheet again to every widget of the screen, in case it
changed while the screen was away (a third of a kept setup screen's reopening). A new screen
was styled when its widgets were mounted a moment before, and a kept one needs it only if the
theme or the app's classes (no-colour mode...) changed since: otherwise the resume skips it
(``refresh_styles``). (A stylesheet edited live under ``textual run --dev`` reaches a kept
screen at the next theme change.)

The first layout of a new screen has two more echoes, each a second full layout and paint of
the same frame ~25 ms after the first (measured at +1,000 processes: 7-45 ms of CPU each,
after the frame the person already sees): every widget's virtual size goes from nothing to
what the layout found, a layout reactive, so each asks for a layout of what was just laid
out; and the ``AwaitMount`` that ``push_screen`` returns lays the screen out once more when
it is mounted. The first layout lays out every widget afresh (there is no arrangement cached
yet), so :class:`OneLayout` drops both, unless the layout changed a scrollbar (then Textual's
second layout is what shows it; :class:`OneLayout` runs it at once, before the paint).
tests/test_ui_one_layout.py checks that the frame is what a full layout again would draw.

A kept screen opened again (closed before, not one uncovered) is painted whole once: its first
paint draws all of it (not only the widgets that changed, over the table), and the repaints
``push_screen`` and the resume ask for after it are dropped (:func:`_painted`); a layout its
update asked for is done as a first one (again at once if it changed a scrollbar). One refilled
while away (:meth:`OneLayout.refilled`) is laid out at its resume, before any paint.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self, TypeVar

from textual import events, messages
from textual.app import App
from textual.geometry import Region, Size
from textual.screen import ModalScreen, Screen, ScreenResultType
from textual.widget import Widget
from textual.widgets import OptionList

from pidtop.ui.screens.firstframe import settle_toasts

if TYPE_CHECKING:
    _Base = Screen[Any]
else:
    _Base = object


class OneLayout(_Base):
    """Mix into a :class:`textual.screen.Screen` (first among its bases): no second layout
    at the size the screen was just laid out at, no second styling when it first opens."""

    _styled_for: object = None
    #: when the first layout ended (monotonic, Textual's clock); 0: not laid out yet
    _laid_out_at = 0.0

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        """The first layout, whole and without the echoes it would cause (see the module's
        text): done again at once, before the paint, if it changed a scrollbar. So is a kept
        screen's first layout when opened again (its update may add a scrollbar)."""
        reopened = self._reopened and not scroll
        if (self._laid_out_at and not reopened) or scroll:
            super()._refresh_layout(size, scroll)
            return
        if reopened:  # a kept screen's, before its first paint: as a first, and whole
            self._compositor._dirty_regions.add(self._compositor.size.region)
        lists = list(self.query(OptionList))
        self._holding_paint = True  # one paint, at the end (at once, as Textual's layout does)
        try:
            for _ in range(3):  # again while it changes a scrollbar or a list's height
                shown = _bars(self)
                super()._refresh_layout(size, scroll)
                laid = [option_list.virtual_size.height for option_list in lists]
                for option_list in lists:
                    option_list._update_lines()  # what Textual's list learns at its first paint
                learnt = [option_list.virtual_size.height for option_list in lists]
                if _bars(self) == shown and learnt == laid:
                    break
        finally:
            self._holding_paint = False
        self._laid_out_at = _clock()
        # every widget's, its scrollbars' (placed, not children) and the screen's own
        for widget in {self, *self.walk_children(Widget), *dict(self._compositor.layers)}:
            widget._layout_required = False
        if self._paint_held:
            self._paint_held = False
            whole = self._compositor.size.region in self._compositor._dirty_regions
            self._compositor_refresh()
            if whole:
                _painted(self)
                self._painted_at = _clock()
                self._unpainted = frozenset({"resume", "mount"})

    _holding_paint = False
    _paint_held = False
    #: when the first layout painted the screen whole (Textual's clock); 0: not (or no more)
    _painted_at = 0.0
    #: the repaints Textual asks after that paint, not done: "resume", "mount" (each once)
    _unpainted: frozenset[str] = frozenset()

    #: a kept screen opened again (closed before), not painted whole since
    _reopened = False

    def _compositor_refresh(self) -> None:
        """The paint, unless the first layout holds it until it is whole. A kept screen's
        first whole paint when opened again is its first layout's: what was asked to be
        repainted before it is drawn (:func:`_painted`)."""
        if self._holding_paint:
            self._paint_held = True
            return
        compositor = self._compositor
        whole = self._reopened and self is self.app.screen
        if whole:  # (a layout first paints what it changed, then the resume all of it)
            compositor._dirty_regions.add(compositor.size.region)
        super()._compositor_refresh()
        if whole:
            self._reopened = False
            _painted(self)
            self._painted_at = _clock()

    async def _on_layout(self, message: messages.Layout) -> None:
        """A widget's request from before the first layout ended: that layout did it
        (Textual's handler, further down the classes, is not run)."""
        if message.time <= self._laid_out_at:
            message.stop()
            message.prevent_default()

    async def _on_update(self, message: messages.Update) -> None:
        """A widget's repaint asked before the whole first paint: that paint drew it."""
        if message.time <= self._painted_at:
            message.stop()
            message.prevent_default()

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        """No layout again for the ``AwaitMount`` of ``push_screen`` once the first is done;
        no paint again for it nor for the resume once the first layout painted it whole."""
        if (layout or repaint) and not (regions or recompose) and self._laid_out_at:
            caller = sys._getframe(1)
            if _awaiting_mount(caller):
                layout = False
                if "mount" in self._unpainted:
                    self._unpainted -= {"mount"}
                    return self
            elif "resume" in self._unpainted and _caller_is(
                caller, "_on_screen_resume", "textual.screen"
            ):
                self._unpainted -= {"resume"}
                return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    #: refilled while away (a kept screen): the resume lays it out as a first layout
    _refilled = False

    def refilled(self) -> None:
        """Its widgets were refilled while it was away (a kept screen opened for something
        else): the next resume lays it out whole before its first paint, as a new screen's
        first layout, and drops that layout's echoes (else: a paint at the old layout, the
        layout, then its echo: three frames)."""
        self._laid_out_at = 0.0
        self._refilled = True

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """No second styling of widgets styled for this theme already: a new screen's (styled
        when mounted), a kept screen's opened again with the same theme and app classes."""
        settle_toasts(self)  # before the layout: Textual sets it after, a layout again
        app = self.app
        styled_for = (app.theme, frozenset(app.classes), app.ansi_color)
        if self._styled_for in (None, styled_for):
            event.refresh_styles = False
        self._styled_for = styled_for
        self._reopened = bool(self._laid_out_at) and self._put_away
        if self._refilled and self.is_attached:
            self._refilled = False
            if event.refresh_styles:  # before the layout, not after it
                event.refresh_styles = False
                self.update_node_styles(animate=False)
            # painted whole: the screen beneath shows where the old layout had nothing new
            self._compositor._dirty_regions.add(app.size.region)
            self._refresh_layout(app.size)

    def on_screen_suspend(self) -> None:
        """Repaints not done are those of the first opening only. Closed (not covered by
        another screen): :meth:`closed`."""
        self._unpainted = frozenset()
        self._put_away = self not in self.app.screen_stack
        if self._put_away:
            self.closed()

    _put_away = False  # closed (kept), not covered by another screen

    def closed(self) -> None:
        """The screen was closed, not covered by another (a kept one waits for its next
        opening): what it holds for this opening only is let go of here."""

    def on_resize(self, event: events.Resize) -> None:
        """Textual's echo of the first layout: the screen (and the one beneath) is already
        laid out at this size."""
        if event.size == self.outer_size:
            event.prevent_default()


def _painted(screen: Screen[Any]) -> None:
    """``screen``'s first paint was whole, the screens seen beneath it drawn as they are now:
    what they asked to repaint before it is drawn. ``push_screen`` asks the screen beneath
    to repaint (unseen), which Textual passes up as a repaint of all of ``screen``, twice: a
    second whole paint, 4-10 ms of CPU after the first, the same cells (and the resume asks
    for a third: :meth:`OneLayout.refresh` drops it)."""
    for painted in (screen, *screen.app._background_screens):
        painted._repaint_required = False
        painted._dirty_widgets.clear()
    for widget in screen.walk_children(Widget):
        widget._repaint_required = False


def _clock() -> float:
    from textual import _time

    return _time.get_time()


def _awaiting_mount(frame: Any) -> bool:
    """Whether ``frame`` is Textual's ``AwaitMount`` laying out what it waited for."""
    return _caller_is(frame, "await_mount", "textual.widget")


def _caller_is(frame: Any, function: str, module: str) -> bool:
    return frame.f_code.co_name == function and frame.f_globals["__name__"] == module


def _bars(screen: Screen[Any]) -> dict[Widget, tuple[bool, bool]]:
    """The scrollbars shown, of every scrolling widget (one of no size, like the footer's,
    counts as not shown: it takes no room)."""
    bars = {}
    for w in screen.walk_children(Widget):
        if w.is_scrollable:
            styles = w.styles
            across = w.show_horizontal_scrollbar and styles.scrollbar_size_horizontal > 0
            down = w.show_vertical_scrollbar and styles.scrollbar_size_vertical > 0
            bars[w] = (across, down)
    return bars


class Modal(OneLayout, ModalScreen[ScreenResultType]):
    """A modal screen laid out once when it opens (:class:`OneLayout`)."""


if TYPE_CHECKING:
    _Widget = Widget
else:
    _Widget = object


class StyledWhenMounted(_Widget):
    """Mix into a widget whose constructor changes its classes (Textual's ``Input`` sets
    ``-valid``/``-invalid``): Textual styles it and its children again at each change, before
    it is even in the DOM (~1.5 ms an input at +1,000 processes); it is styled when mounted."""

    def update_node_styles(self, animate: bool = True) -> None:
        if self._parent is not None:
            super().update_node_styles(animate)


def drop_drawn(screen: Screen[Any], keep: tuple[type[Widget], ...] = ()) -> None:
    """Let go of the lines ``screen``'s widgets drew (a kept screen, closed: ~0.5 MB for a
    200x50 screen; its next opening draws them again, as a new screen would), but those of
    ``keep`` widgets (costly to draw again)."""
    for widget in screen.walk_children(Widget, with_self=True):
        if isinstance(widget, keep):
            continue
        parts = widget._vertical_scrollbar, widget._horizontal_scrollbar, widget._scrollbar_corner
        for drawn in (widget, *parts):
            if drawn is not None:
                drawn._styles_cache.clear()


S = TypeVar("S", bound="Screen[Any]")


def kept_screen(
    app: App[Any],
    cls: type[S],
    fresh: Callable[[S], bool],
    make: Callable[[], S],
    reopen: Callable[[S], None],
) -> S:
    """A screen of class ``cls`` to push, kept (installed) for the next time: the one kept
    before if ``fresh(it)`` (it can show what is true now), brought to what a new one would
    show by ``reopen(it)`` (the scroll, the cursor, what was typed, what it shows), else a new
    one from ``make`` in its place. One on the screen stack already (under another) is not
    taken: a new one, not kept."""
    name = f"pidtop-{cls.__name__}"
    old = app.get_screen(name) if app.is_screen_installed(name) else None
    if isinstance(old, cls) and old not in app.screen_stack and fresh(old):
        reopen(old)
        return old
    if old is not None and old in app.screen_stack:
        return make()
    if old is not None:
        app.uninstall_screen(name)
        old.remove()
    screen = make()
    app.install_screen(screen, name)
    return screen
