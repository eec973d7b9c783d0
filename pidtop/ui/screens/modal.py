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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual import events
from textual.app import App
from textual.screen import ModalScreen, Screen, ScreenResultType

if TYPE_CHECKING:
    _Base = Screen[Any]
else:
    _Base = object


class OneLayout(_Base):
    """Mix into a :class:`textual.screen.Screen` (first among its bases): no second layout
    at the size the screen was just laid out at, no second styling when it first opens."""

    _styled_for: object = None

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """No second styling of widgets styled for this theme already: a new screen's (styled
        when mounted), a kept screen's opened again with the same theme and app classes."""
        app = self.app
        styled_for = (app.theme, frozenset(app.classes), app.ansi_color)
        if self._styled_for in (None, styled_for):
            event.refresh_styles = False
        self._styled_for = styled_for

    def on_resize(self, event: events.Resize) -> None:
        """Textual's echo of the first layout: the screen (and the one beneath) is already
        laid out at this size."""
        if event.size == self.outer_size:
            event.prevent_default()


class Modal(OneLayout, ModalScreen[ScreenResultType]):
    """A modal screen laid out once when it opens (:class:`OneLayout`)."""


S = TypeVar("S", bound="Screen[Any]")


def kept_screen(
    app: App[Any], cls: type[S], fresh: Callable[[S], bool], make: Callable[[], S]
) -> S:
    """A screen of class ``cls`` to push, kept (installed) for the next time: the one kept
    before if ``fresh(it)`` (it shows what is true now), else a new one from ``make`` in its
    place. One on the screen stack already (under another) is not taken: a new one, not kept."""
    name = f"pidtop-{cls.__name__}"
    old = app.get_screen(name) if app.is_screen_installed(name) else None
    if isinstance(old, cls) and old not in app.screen_stack and fresh(old):
        return old
    if old is not None and old in app.screen_stack:
        return make()
    if old is not None:
        app.uninstall_screen(name)
        old.remove()
    screen = make()
    app.install_screen(screen, name)
    return screen
