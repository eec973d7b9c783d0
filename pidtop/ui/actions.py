"""The one table of the monitor's actions.

Everything a user can do by key is one :class:`Action` in :data:`ACTIONS`. From it come the
``BINDINGS`` of the app and of the process view (``Binding(id=...)``, so ``App.set_keymap``
and the config file's ``[keys]`` table can remap any of them), the help screen, the command
palette and the footer. To add a key: append an ``Action`` to the right group below and give
the app (or the view, for ``scope="view"``) its ``action_...`` method. Nothing else lists keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding, BindingType

from pidtop.sampling.fmt import sanitize
from pidtop.settings.config import key_problem

Scope = Literal["app", "view", "info"]


@dataclass(frozen=True, slots=True)
class Action:
    """One thing the user can do, and the keys that do it."""

    id: str  # stable id: keymap overrides (config ``[keys]``) name it
    keys: str  # Textual key names, comma separated; the first one is shown in the footer
    action: str  # the Textual action run (``kill``, ``sort('cpu')``)
    title: str  # the command palette's name for it (and the footer's, unless ``short``)
    description: str  # one line: help screen and palette
    group: str  # help screen section
    footer: bool = False  # shown in the footer (F-keys first: 80 columns show F9 and F10)
    palette: bool = True  # offered in the command palette (ctrl+p)
    #: ``app``: an App binding; ``view``: a ProcessView binding; ``info``: documented only
    #: (mouse, keys Textual itself handles)
    scope: Scope = "app"
    shown_keys: str = ""  # how the help shows the keys when they are not key names ("mouse")
    short: str = ""  # the footer's label, when shorter than ``title``


MOVE, SORT, FIND, VIEW, PINS, PROC, OTHER = (
    "Moving",
    "Sorting",
    "Search and filter",
    "View",
    "Pins, signals and waiting",
    "One process",
    "Other",
)
REPLAY = "Replay (pidtop --replay)"
#: the help screen's sections, in this order
GROUPS: tuple[str, ...] = (MOVE, SORT, FIND, VIEW, PINS, PROC, OTHER)

ACTIONS: tuple[Action, ...] = (
    # --- the footer, in htop's order (F-keys first, so 80 columns show F9 Kill and F10 Quit)
    Action("help", "f1,question_mark,h", "help", "Help", "this help", OTHER, footer=True),
    Action("setup", "f2,S,C", "setup", "Setup",
           "setup: columns (which, in what order), theme, delay, threads, defaults; saved",
           OTHER, footer=True),
    Action("next_match", "f3,n", "next_match", "Next match",
           "next search match (no search yet: open the search prompt, as / does)", FIND,
           footer=True, short="Search"),
    Action("filter", "f4,backslash", "filter", "Filter processes",
           "filter: hide processes that do not match", FIND, footer=True, short="Filter"),
    Action("tree", "f5,t", "toggle_tree", "Toggle tree view", "tree view on/off", VIEW,
           footer=True, short="Tree"),
    Action("sort_choose", "f6,full_stop,comma", "choose_sort", "Choose sort column",
           "choose the sort column", SORT, footer=True, short="SortBy"),
    Action("nice_minus", "f7,right_square_bracket", "nice(-1)", "Nice -1",
           "nice -1: higher priority (running pins, else the cursor's process)", PROC,
           footer=True, short="Nice-"),
    Action("nice_plus", "f8,left_square_bracket", "nice(1)", "Nice +1",
           "nice +1: lower priority (running pins, else the cursor's process)", PROC,
           footer=True, short="Nice+"),
    Action("kill", "f9,k", "kill", "Kill / send signal",
           "send a signal to the running pins, else to the cursor's process", PINS, footer=True,
           short="Kill"),
    Action("quit", "f10,q", "quit", "Quit",
           "quit (ctrl+c too: exit status 130, as for SIGINT)", OTHER, footer=True),
    Action("pin", "space", "toggle_pin", "Pin / unpin process",
           "pin / unpin the cursor's process (held by pidfd), then move down", PINS, footer=True,
           short="Pin"),
    Action("pause", "Z", "toggle_pause", "Pause / resume",
           "pause / resume (freeze the display; no sampling while paused)", VIEW, footer=True,
           short="Pause"),
    Action("wait", "w", "wait", "Wait for pinned processes",
           "wait for the pinned processes (notification + bell as each exits); w/Esc cancels",
           PINS, footer=True, short="Wait"),
    Action("event_log", "L", "event_log", "Event log",
           "event log: pins, refusals, signals and results, exits, renices", PINS, footer=True,
           short="Log"),
    # --- moving (the process view's own keys)
    Action("cursor_up", "up", "cursor(-1)", "Up", "move the cursor up (it follows the process)",
           MOVE, palette=False, scope="view"),
    Action("cursor_down", "down", "cursor(1)", "Down", "move the cursor down", MOVE,
           palette=False, scope="view"),
    Action("page_up", "pageup", "page(-1)", "Page up", "move the cursor one page up", MOVE,
           palette=False, scope="view"),
    Action("page_down", "pagedown", "page(1)", "Page down", "move the cursor one page down",
           MOVE, palette=False, scope="view"),
    Action("top", "home", "cursor_to(0)", "First", "first process", MOVE, palette=False,
           scope="view"),
    Action("bottom", "end", "cursor_to(-1)", "Last", "last process", MOVE, palette=False,
           scope="view"),
    Action("mouse", "", "", "Mouse",
           "wheel scrolls; click a row to select it; click a header to sort by it", MOVE,
           palette=False, scope="info", shown_keys="mouse"),
    Action("focus", "tab,shift+tab", "app.next_area", "Next area",
           "move between the pinned strip and the table (htop's screen tabs: see README)",
           MOVE, palette=False, scope="view"),
    Action("pid_search", "0,1,2,3,4,5,6,7,8,9", "app.pid_digit('{key}')", "PID search",
           "type a PID: the cursor goes to that process (digits within 2 s add up)", MOVE,
           palette=False, scope="view", shown_keys="0-9"),
    Action("follow", "F", "follow", "Cursor follows process",
           "the cursor always follows its process in pidtop (htop's F): says so", MOVE),
    # --- sorting
    Action("sort_cpu", "P", "sort('cpu')", "Sort by CPU%", "sort by CPU%", SORT),
    Action("sort_mem", "M", "sort('mem')", "Sort by MEM%", "sort by MEM%", SORT),
    Action("sort_time", "T", "sort('time')", "Sort by TIME+", "sort by TIME+", SORT),
    Action("sort_pid", "N", "sort('pid')", "Sort by PID", "sort by PID", SORT),
    Action("sort_invert", "I", "invert_sort", "Invert sort order", "invert the sort order", SORT),
    Action("sort_prev", "less_than_sign", "sort_step(-1)", "Sort by previous column",
           "sort by the previous column", SORT),
    Action("sort_next", "greater_than_sign", "sort_step(1)", "Sort by next column",
           "sort by the next column", SORT),
    # --- search and filter
    Action("search", "slash", "search", "Search processes",
           "search (incremental); Enter keeps it, Esc closes; F3 in it: next match", FIND),
    Action("user", "u", "choose_user", "Filter by user", "show only one user's processes (or all)",
           FIND),
    Action("clear", "escape", "clear_filters", "Clear filters / cancel wait",
           "cancel a running wait; else clear the filter and user filter (-p stays, as in htop)",
           FIND),
    # --- view
    Action("collapse", "minus", "collapse(True)", "Collapse subtree",
           "collapse the cursor's subtree (tree view)", VIEW),
    Action("expand", "plus", "collapse(False)", "Expand subtree",
           "expand the cursor's subtree (tree view)", VIEW),
    Action("threads", "H", "toggle_threads", "Toggle user threads",
           "show/hide userland threads", VIEW),
    Action("kernel_threads", "K", "toggle_kthreads", "Toggle kernel threads",
           "show/hide kernel threads", VIEW),
    Action("collapse_all", "asterisk", "collapse_all", "Expand / collapse all",
           "expand every subtree, or collapse them all when none is collapsed (tree view)",
           VIEW),
    Action("meters", "number_sign", "toggle_meters", "Hide / show meters",
           "hide / show the header meters and status line", VIEW),
    Action("program_path", "p", "toggle_path", "Toggle program path",
           "show / hide the directory of the program in the Command column", VIEW),
    Action("merged_command", "m", "merged_command", "Merged command",
           "htop's merged command: pidtop shows it in the details (Enter): says so", VIEW),
    Action("wrap_command", "W", "show_command", "Whole command",
           "the cursor's whole command line, wrapped, in a box (htop's w; pidtop's w waits)",
           VIEW),
    Action("faster", "left_curly_bracket", "delay_step(-1)", "Refresh faster",
           "refresh faster (steps from 0.1 to 60 s)", VIEW),
    Action("slower", "right_curly_bracket", "delay_step(1)", "Refresh slower",
           "refresh slower (steps from 0.1 to 60 s)", VIEW),
    Action("delay", "d", "choose_delay", "Set refresh delay",
           "set the refresh delay, in seconds (0.1-60)", VIEW),
    # --- pins
    Action("pin_tree", "c", "pin_tree", "Pin process tree",
           "pin the cursor's process and all its descendants", PINS),
    Action("unpin_all", "U", "unpin_all", "Unpin all", "unpin all", PINS),
    Action("dismiss_exited", "x,delete", "dismiss_exited", "Dismiss exited pin",
           "dismiss the exited pin under the cursor (strip or table)", PINS),
    Action("clear_exited", "X", "clear_exited", "Clear exited pins", "clear every exited pin",
           PINS),
    # --- one process (the cursor's; tuning acts on the running pins like k)
    Action("details", "enter", "details", "Process details",
           "details of the process (live; exit shown at once)", PROC),
    Action("environ", "e", "environ", "Environment", "environment of the process (searchable)",
           PROC),
    Action("files", "l", "files", "Open files",
           "open files and sockets of the process (like lsof -p)", PROC),
    Action("strace", "s", "strace", "strace",
           "strace -p the process in this terminal; Ctrl-C comes back", PROC),
    Action("ionice", "i", "ionice", "I/O priority",
           "I/O priority class and level (running pins, else the cursor's process)", PROC),
    Action("affinity", "a", "affinity", "CPU affinity",
           "CPU affinity (running pins, else the cursor's process)", PROC),
    Action("copy_identity", "y", "copy_identity", "Copy PID:INODE",
           "copy the process's PID:INODE to the clipboard", PROC),
    # --- other
    Action("exits", "E", "exits", "Exits",
           "exits: every process exit on the machine since start (the exit journal)", OTHER),
    # --- replay (pidtop --replay): atop's t/T/b are taken by the tree and TIME+ sort
    # (in the footer of a replay only, in place of the actions on processes it refuses)
    Action("replay_next", "f", "replay_step(1)", "Next recorded sample",
           "replay: the next recorded sample (forward)", REPLAY, footer=True, short="Next"),
    Action("replay_prev", "b", "replay_step(-1)", "Previous recorded sample",
           "replay: the previous recorded sample (back)", REPLAY, footer=True, short="Prev"),
    Action("replay_goto", "g", "replay_goto", "Go to a recorded time",
           "replay: go to a time (03:12, -30m, yesterday 14:00, ISO)", REPLAY, footer=True,
           short="GoTo"),
    Action("palette", "ctrl+p", "", "Command palette",
           "command palette: every action of this list by name", OTHER, palette=False,
           scope="info"),
)  # fmt: skip

ACTION_BY_ID: Mapping[str, Action] = {a.id: a for a in ACTIONS}

#: actions that never open a screen, prompt or dialog nor move the focus: a key bound to one is
#: routed at once by the type-ahead queue (:mod:`pidtop.ui.typeahead`); every other key holds
#: the keys typed after it until its effect has landed. A new action is held until listed here.
STAYS_PUT: frozenset[str] = frozenset({
    "cursor_up", "cursor_down", "page_up", "page_down", "top", "bottom",
    "sort_cpu", "sort_mem", "sort_time", "sort_pid", "sort_invert", "sort_prev", "sort_next",
    "tree", "collapse", "expand", "threads", "kernel_threads", "faster", "slower", "pause",
    "pin", "pin_tree", "unpin_all", "dismiss_exited", "clear_exited", "wait", "nice_minus",
    "nice_plus", "copy_identity",
})  # fmt: skip

#: how the help and the footer show Textual key names
_KEY_LABELS = {
    "question_mark": "?",
    "slash": "/",
    "backslash": "\\",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "minus": "-",
    "plus": "+",
    "comma": ",",
    "full_stop": ".",
    "asterisk": "*",
    "number_sign": "#",
    "left_curly_bracket": "{",
    "right_curly_bracket": "}",
    "escape": "Esc",
    "space": "Space",
    "delete": "Delete",
    "tab": "Tab",
    "shift+tab": "S-Tab",
    "up": "Up",
    "down": "Down",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "home": "Home",
    "end": "End",
    "enter": "Enter",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}


def key_label(key: str) -> str:
    """One Textual key name as a user reads it: ``f9`` -> ``F9``, ``question_mark`` -> ``?``."""
    key = key.strip()
    if key in _KEY_LABELS:
        return _KEY_LABELS[key]
    if key[:1] == "f" and key[1:].isdigit():
        return key.upper()
    return sanitize(key)  # a keymap's text is shown, never sent to the terminal raw


def keys_of(action: Action, keymap: Mapping[str, str] | None = None) -> list[str]:
    """The Textual key names bound to ``action``, after a keymap override."""
    keys = (keymap or {}).get(action.id, action.keys)
    return [k.strip() for k in keys.split(",") if k.strip()]


def keys_label(action: Action, keymap: Mapping[str, str] | None = None) -> str:
    """The keys of ``action`` as the help shows them: ``k or F9``-style, ``F1 / ?``."""
    if action.shown_keys:
        return action.shown_keys
    return " or ".join(key_label(k) for k in keys_of(action, keymap))


def bindings(scope: Scope) -> list[BindingType]:
    """The ``BINDINGS`` of one scope, in table order (the footer shows them in this order).
    An action naming ``{key}`` (the digits' ``pid_digit('{key}')``) is one binding per key."""
    out: list[BindingType] = []
    for a in ACTIONS:
        if a.scope != scope:
            continue
        if "{key}" in a.action:
            out.extend(
                Binding(k, a.action.format(key=k), a.short or a.title, show=False, id=a.id)
                for k in keys_of(a)
            )
        else:
            out.append(Binding(a.keys, a.action, a.short or a.title, show=a.footer, id=a.id))
    return out


def help_rows(keymap: Mapping[str, str] | None = None) -> Iterator[tuple[str, str, str]]:
    """(group, keys, description) for the help screen: every action once, grouped."""
    for group in (
        *GROUPS,
        *(g for g in dict.fromkeys(a.group for a in ACTIONS) if g not in GROUPS),
    ):
        for a in ACTIONS:
            if a.group == group:
                yield group, keys_label(a, keymap), a.description


def palette_actions() -> Iterable[Action]:
    """The actions the command palette offers."""
    return (a for a in ACTIONS if a.palette and a.action and "{key}" not in a.action)


def check_keymap(keymap: Mapping[str, object]) -> list[str]:
    """Problems with a keymap override (unknown action ids, non-text keys, unknown key names,
    ctrl+c, which always quits), one line each."""
    problems = []
    for action_id, keys in keymap.items():
        action = ACTION_BY_ID.get(action_id)
        if action is None or action.scope == "info":
            problems.append(f"unknown action {sanitize(repr(action_id))}")
        elif "{key}" in action.action:
            problems.append(f"{action_id}: these keys cannot be rebound")
        elif not isinstance(keys, str) or not keys.strip():
            problems.append(f'{action_id}: keys must be a text like "f9,k"')
        else:
            bad = [p for k in keys.split(",") if k.strip() and (p := key_problem(k.strip()))]
            problems.extend(f"{action_id}: {p}" for p in bad[:1])
    return problems


def valid_keymap(keymap: Mapping[str, str]) -> dict[str, str]:
    """The entries of ``keymap`` that :func:`check_keymap` finds nothing wrong with (the
    config file's are checked when read; this keeps any other source from binding ESC
    sequences or ctrl+c)."""
    return {a: k for a, k in keymap.items() if not check_keymap({a: k})}
