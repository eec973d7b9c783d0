"""The pickers' and the palette's widget styles, parsed before they first open (issue 18).

Textual adds a widget class's ``DEFAULT_CSS`` to the app's stylesheet when the first widget
of that class mounts, and the next styling parses the whole stylesheet again. The first ``k``
(a modal screen, a checkbox, an option list) parsed it twice (~13-30 ms at +1,000
processes), the first ctrl+p (the palette's five classes) three times (~15-20 ms).
:func:`warm_styles`, run once by the app at idle a few seconds after it started, adds those
classes' CSS and parses once: the first opening finds them there. The sources and rules are
the ones those openings would add (each class's default CSS is scoped to its class, so the
earlier place among the sources changes no style).
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.dom import DOMNode


def warm_styles(app: App[Any]) -> None:
    """Add the default CSS of the pickers' and the palette's widget classes to ``app``'s
    stylesheet and parse it, if any was not there yet."""
    from textual.command import CommandInput, CommandList, CommandPalette, SearchIcon
    from textual.screen import ModalScreen
    from textual.widgets import LoadingIndicator, OptionList
    from textual.widgets._toggle_button import ToggleButton

    stylesheet = app.stylesheet
    classes = (
        ModalScreen,
        OptionList,
        ToggleButton,
        CommandPalette,
        CommandList,
        CommandInput,
        SearchIcon,
        LoadingIndicator,
    )
    for cls in classes:
        # (the bases' CSS, as Textual's Widget._post_register reads it; no widget is made)
        for read_from, css, tie_breaker, scope in DOMNode._get_default_css(cls.__new__(cls)):
            stylesheet.add_source(
                css,
                read_from=read_from,
                is_default_css=True,
                tie_breaker=tie_breaker,
                scope=scope,
            )
    if stylesheet._require_parse:
        stylesheet.parse()
