"""The pickers', the palette's and the screens' scroll styles, parsed before they first open
(issue 18).

Textual adds a widget class's ``DEFAULT_CSS`` to the app's stylesheet when the first widget
of that class mounts, and the next styling parses the whole stylesheet again. The first ``k``
(a modal screen, a checkbox, an option list) parsed it twice (~13-30 ms at +1,000
processes), the first ctrl+p (the palette's five classes) three times (~15-20 ms); the first
Enter, ``e``, F1 and F2 added VerticalScroll's (~0.3-0.5 ms each, a parse).
:func:`warm_styles`, run once by the app at idle a few seconds after it started, adds those
classes' CSS and parses once: the first opening finds them there. The sources and rules are
the ones those openings would add (each class's default CSS is scoped to its class, so the
earlier place among the sources changes no style).

Textual files each source with a tie-breaker, minus its class's place in the mounted class's
bases, and keeps the lowest seen: a deeper subclass lowers it, and the next parse parses that
source again (Screen, Widget, ModalScreen: ~1-2.5 ms at the first F1, F2, ``e``, ``l``). The
sources are added here with the tie-breakers of pidtop's deepest subclasses (the ones every
screen reaches once all have opened), so no first opening lowers one.
tests/test_ui_kept_pickers.py checks every pidtop class against them.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.dom import DOMNode


def warm_styles(app: App[Any]) -> None:
    """Add the default CSS of the pickers' and the palette's widget classes to ``app``'s
    stylesheet and parse it, if any was not there yet."""
    from textual.command import CommandInput, CommandList, CommandPalette, SearchIcon
    from textual.containers import VerticalScroll
    from textual.screen import ModalScreen
    from textual.widgets import LoadingIndicator, OptionList
    from textual.widgets._toggle_button import ToggleButton

    stylesheet = app.stylesheet
    # (class, depth): the class's CSS and its bases' are added as a subclass ``depth`` levels
    # below it would add them (the deepest of pidtop's: EnvironScreen, FilesScreen, SortScreen
    # and UserScreen are 3 below ModalScreen, CheckBox is 2 below ToggleButton...).
    classes = (
        (ModalScreen, 3),
        (OptionList, 2),
        (ToggleButton, 2),
        (CommandPalette, 1),
        (CommandList, 1),
        (CommandInput, 1),
        (SearchIcon, 0),
        (LoadingIndicator, 0),
        (VerticalScroll, 0),
    )
    for cls, depth in classes:
        # (the bases' CSS, as Textual's Widget._post_register reads it; no widget is made)
        for read_from, css, tie_breaker, scope in DOMNode._get_default_css(cls.__new__(cls)):
            stylesheet.add_source(
                css,
                read_from=read_from,
                is_default_css=True,
                tie_breaker=tie_breaker - depth,
                scope=scope,
            )
    if stylesheet._require_parse:
        stylesheet.parse()
