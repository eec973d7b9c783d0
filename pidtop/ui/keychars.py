"""Textual's key → character answers without reading Unicode's name index.

One thing: :func:`install` gives ``textual.keys`` a ``unicodedata`` whose ``lookup`` answers
the names Textual asks for keys (an ASCII character's name, a named key such as ``F1`` that is
no character) from a table, and passes any other name to the real ``unicodedata``.

Why: once a widget has focus, Textual's ``Screen._binding_chain`` asks ``key_to_character``
for every key bound on the screen and the app (~30 for pidtop), and each answer is one
``unicodedata.lookup`` of a name (``QUESTION MARK``, ``F1``...). A lookup probes the name
index of ``unicodedata``'s shared library at scattered places: the 30 of them kept ~0.75 MiB
of its pages in the monitor's RSS for the whole run (smaps, measured). The answers are the
same (``tests/test_keychars.py`` checks every entry against ``unicodedata`` and every key of
Textual's against its own ``key_to_character``).
"""

from __future__ import annotations

import unicodedata
from typing import Any

__all__ = ["CHARACTERS", "NOT_CHARACTERS", "KeyNames", "install"]

#: the character of each name Textual looks up for a key that is one (ASCII only)
CHARACTERS: dict[str, str] = {
    "TAB": "\t", "BACKSPACE": "\b", "ESCAPE": "\x1b", "DELETE": "\x7f", "SPACE": " ",
    "EXCLAMATION MARK": "!", "QUOTATION MARK": '"', "NUMBER SIGN": "#", "DOLLAR SIGN": "$",
    "PERCENT SIGN": "%", "AMPERSAND": "&", "APOSTROPHE": "'", "LEFT PARENTHESIS": "(",
    "RIGHT PARENTHESIS": ")", "ASTERISK": "*", "COMMA": ",", "FULL STOP": ".", "COLON": ":",
    "SEMICOLON": ";", "LESS-THAN SIGN": "<", "EQUALS SIGN": "=", "GREATER-THAN SIGN": ">",
    "QUESTION MARK": "?", "LEFT SQUARE BRACKET": "[", "RIGHT SQUARE BRACKET": "]",
    "CIRCUMFLEX ACCENT": "^", "GRAVE ACCENT": "`", "LEFT CURLY BRACKET": "{",
    "VERTICAL LINE": "|", "RIGHT CURLY BRACKET": "}", "TILDE": "~",
}  # fmt: skip

#: names Textual looks up for keys that are no character (``unicodedata.lookup`` fails)
NOT_CHARACTERS: frozenset[str] = frozenset([
    *(f"F{n}" for n in range(1, 25)), "AT", "BACKSLASH", "CTRL-AT", "DOWN", "END", "ENTER",
    "HOME", "INSERT", "LEFT", "MINUS", "PAGEDOWN", "PAGEUP", "PLUS", "RETURN", "RIGHT", "SLASH",
    "UNDERSCORE", "UP", "<ANY>", "<IGNORE>", "<SCROLL-DOWN>", "<SCROLL-UP>",
    "GREATER THAN SIGN", "LESS THAN SIGN",
])  # fmt: skip


class KeyNames:
    """``unicodedata`` for ``textual.keys``: :meth:`lookup` from the tables, the rest (and
    any other name) from the real module. ``passed``: names that went to the real lookup."""

    def __init__(self) -> None:
        self.passed = 0

    def lookup(self, name: str) -> str:
        char = CHARACTERS.get(name)
        if char is not None:
            return char
        if name in NOT_CHARACTERS:
            raise KeyError(f"undefined character name '{name}'")
        self.passed += 1
        return unicodedata.lookup(name)

    def __getattr__(self, attr: str) -> Any:
        return getattr(unicodedata, attr)


def install() -> KeyNames:
    """Give ``textual.keys`` the table-backed lookup (once; returns the one in place)."""
    import textual.keys

    names: Any = textual.keys.unicodedata
    if not isinstance(names, KeyNames):
        names = KeyNames()
        textual.keys.unicodedata = names
    return names
