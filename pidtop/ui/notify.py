"""Notifications that fit: every ``notify`` of the app goes through :func:`fit_notice`.

A notification may carry process text (a command line of 100 KB, invisible or combining
characters): it is cut to a few lines of bounded width, with the cell-width rule of
:mod:`pidtop.sampling.layout`, and each line sanitised, so a toast never fills the screen and
never sends the terminal anything but text.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.notifications import SeverityLevel

from pidtop.sampling.fmt import sanitize
from pidtop.sampling.layout import cell_width, cut_cells

#: at most this many lines in a notification ...
MAX_LINES = 8
#: ... and this many cells in all (a toast is about 50 cells wide: about 8 rows)
MAX_CELLS = 400
#: a title's width at most
MAX_TITLE_CELLS = 60
#: a process's command line in a notification at most (what follows it, the status, is kept)
MAX_COMMAND_CELLS = 160


def _cut(text: str, cells: int) -> str:
    return text if cell_width(text) <= cells else cut_cells(text, max(0, cells - 1)) + "…"


def clip_command(command: str) -> str:
    """``command`` sanitised and cut to :data:`MAX_COMMAND_CELLS`, for a notification that says
    something after it ("PID cmd: exited with code 7"): :func:`fit_notice` cuts the end of a
    long message, which would be the status."""
    return _cut(sanitize(command), MAX_COMMAND_CELLS)


def fit_notice(message: str, max_lines: int = MAX_LINES, max_cells: int = MAX_CELLS) -> str:
    """``message`` sanitised line by line (its own line breaks kept) and cut to ``max_lines``
    lines and ``max_cells`` cells in all, each cut ending in ``…``."""
    lines = message.split("\n")
    out: list[str] = []
    budget = max_cells
    for n, line in enumerate(lines):
        if n == max_lines or budget <= 1:
            out.append(f"… {len(lines) - n} more line{'s' if len(lines) - n != 1 else ''}")
            break
        line = _cut(sanitize(line), budget)
        budget -= max(1, cell_width(line))
        out.append(line)
    return "\n".join(out)


class NotifyApp(App[Any]):
    """An app whose notifications are cut to fit (see :func:`fit_notice`)."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Textual's ``notify``, the message and title cut and sanitised first (process text
        is plain text: pidtop's notifications pass ``markup=False``)."""
        if not markup:
            message = fit_notice(message)
            title = _cut(sanitize(title.replace("\n", " ")), MAX_TITLE_CELLS)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
