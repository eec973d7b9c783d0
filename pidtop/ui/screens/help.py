"""The help screen (``?``/F1): every key of the main screen, in one table."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

#: (keys as shown, what they do) — the single list the help screen shows. A test checks that
#: every binding of the app and the process view is listed here.
KEY_HELP: tuple[tuple[str, str], ...] = (
    ("Up / Down", "move the cursor (it follows the process, not the row)"),
    ("PgUp / PgDn", "move the cursor one page"),
    ("Home / End", "first / last process"),
    ("mouse", "wheel scrolls; click a row to select it; click a header to sort by it"),
    ("P", "sort by CPU%"),
    ("M", "sort by MEM%"),
    ("T", "sort by TIME+"),
    ("N", "sort by PID"),
    ("I", "invert the sort order"),
    ("< / >", "sort by the previous / next column"),
    ("F6", "choose the sort column"),
    ("/ or F3", "search (incremental); Enter keeps it, Esc closes"),
    ("n or F3", "next search match"),
    ("\\ or F4", "filter: hide processes that do not match"),
    ("u", "show only one user's processes (or all)"),
    ("Esc", "cancel a running wait; else clear the filter, user filter and PID filter"),
    ("t or F5", "tree view on/off"),
    ("- / +", "collapse / expand the cursor's subtree (tree view)"),
    ("H", "show/hide userland threads"),
    ("K", "show/hide kernel threads"),
    ("Z", "pause / resume (freeze the display; no sampling while paused)"),
    (", / .", "refresh faster / slower (steps from 0.1 to 60 s)"),
    ("d", "set the refresh delay, in seconds (0.1-60)"),
    ("Space", "pin / unpin the cursor's process (held by pidfd), then move down"),
    ("c", "pin the cursor's process and all its descendants"),
    ("U", "unpin all"),
    ("Tab", "move between the pinned strip and the table"),
    ("x or Delete", "dismiss the exited pin under the cursor (strip or table)"),
    ("X", "clear every exited pin"),
    ("k or F9", "send a signal to the running pins, else to the cursor's process"),
    ("w", "wait for the pinned processes (notification + bell as each exits); w/Esc cancels"),
    ("L", "event log: pins, refusals, signals and results, exits, renices"),
    ("Enter", "details of the process (live; exit shown at once)"),
    ("e", "environment of the process (searchable)"),
    ("l", "open files and sockets of the process (like lsof -p)"),
    ("s", "strace -p the process in this terminal; Ctrl-C comes back"),
    ("F7 or ]", "nice -1: higher priority (running pins, else the cursor's process)"),
    ("F8 or [", "nice +1: lower priority (running pins, else the cursor's process)"),
    ("i", "I/O priority class and level (running pins, else the cursor's process)"),
    ("a", "CPU affinity (running pins, else the cursor's process)"),
    ("y", "copy the process's PID:INODE to the clipboard"),
    ("E", "exits: every process exit on the machine since start (the exit journal)"),
    ("ctrl+p", "command palette (sort, filter, tree, pause, pins, kill, wait, log ...)"),
    ("? or F1", "this help"),
    ("q, F10 or ctrl+c", "quit (ctrl+c: exit status 130, as for SIGINT)"),
)


class HelpScreen(ModalScreen[None]):
    """A modal listing every key; any of Esc/q/?/F1 closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        """The key table inside a scrollable box (focused: arrows, PgUp/PgDn, Home/End, wheel;
        at 120x40 the list is taller than the screen)."""
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, text in KEY_HELP:
            table.add_row(Text(keys), Text(text))
        with VerticalScroll(id="help-box", can_focus=True):
            yield Static(Text("pidtop — keys", style="bold"), id="help-title")
            yield Static(table, id="help-table")
            yield Static(
                Text("↑↓ PgUp PgDn Home End scroll · Esc closes this help."), id="help-footer"
            )

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()

    async def action_dismiss(self, result: None = None) -> None:
        """Close."""
        self.dismiss(result)
