"""Key names a ``[keys]`` entry may use: Textual's, checked without importing Textual.

A key is a single printable character (``k``, ``K``, ``?``), a named key (``f9``, ``enter``,
``pageup``), a character's name as Textual writes it (``question_mark``, ``full_stop``), or
any of these after modifiers (``ctrl+shift+f5``). ctrl+c is never bindable: it always quits.
"""

from __future__ import annotations

import contextlib
import functools
import unicodedata

from pidtop.sampling.fmt import sanitize

#: the key that always quits: no ``[keys]`` entry may take it (the way out of any keymap)
RESERVED_KEYS = frozenset({"ctrl+c"})
#: key modifiers Textual knows, as in ``ctrl+shift+f5``
_MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
#: Textual's names of keys that are not characters
_NAMED_KEYS = frozenset(
    {
        "escape", "enter", "tab", "space", "backspace", "delete", "insert", "home", "end",
        "pageup", "pagedown", "up", "down", "left", "right", "newline",
        *(f"f{n}" for n in range(1, 25)),
    }
)  # fmt: skip
#: Textual's short names for some characters (its KEY_NAME_REPLACEMENTS)
_CHAR_NAMES = {
    "slash": "/", "backslash": "\\", "at": "@", "minus": "-", "plus": "+", "underscore": "_",
}  # fmt: skip


@functools.cache
def _char_names() -> frozenset[str]:
    """The names Textual gives the printable characters of Latin-1 that are not letters or
    digits: ``question_mark``, ``full_stop``, ``less_than_sign`` ... (as its
    ``_character_to_key``). Other characters are written as themselves. Built at the first
    key name that needs it: looking the names up reads ~0.4 MiB of unicodedata's tables into
    the monitor's memory, and only a config's ``[keys]`` entry needs them."""
    names = set(_CHAR_NAMES)
    for code in range(0x21, 0x100):
        ch = chr(code)
        if ch.isprintable() and not ch.isalnum():
            with contextlib.suppress(ValueError):
                names.add(unicodedata.name(ch).lower().replace("-", "_").replace(" ", "_"))
    return frozenset(names)


def key_problem(key: str) -> str | None:
    """What is wrong with one Textual key name (``f9``, ``k``, ``ctrl+t``, ``question_mark``),
    or None. A single printable character, a named key, or ``modifier+...+key``; never
    :data:`RESERVED_KEYS` (ctrl+c always quits)."""
    shown = sanitize(key)
    if key.lower() in RESERVED_KEYS:
        return f"{shown} cannot be bound: it always quits"
    *mods, base = key.split("+") if len(key) > 1 else [key]
    if any(m not in _MODIFIERS for m in mods) or len(set(mods)) != len(mods):
        return f"unknown key {shown!r} (modifiers: {', '.join(sorted(_MODIFIERS))})"
    if len(base) == 1:
        ok = base.isprintable() and not base.isspace() and base != ","
    else:
        ok = base in _NAMED_KEYS or base in _char_names()
    if not ok:
        return f"unknown key {shown!r} (Textual key names: f9, k, ctrl+t, question_mark ...)"
    return None
