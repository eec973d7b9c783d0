"""Textual's key characters from pidtop's table (:mod:`pidtop.ui.keychars`): the same
answers as ``unicodedata``, and the running app never asks ``unicodedata`` for a name (each
lookup kept ~25 KiB of the library's pages resident: ~0.75 MiB for pidtop's keys)."""

from __future__ import annotations

import unicodedata

import pytest
import textual.keys
from textual.keys import Keys, _character_to_key, key_to_character
from uitools import wait_for

from pidtop.settings.options import Options
from pidtop.ui import keychars
from pidtop.ui.startup import build_app


def test_the_tables_say_what_unicodedata_says() -> None:
    for name, char in keychars.CHARACTERS.items():
        assert unicodedata.lookup(name) == char, name
    for name in keychars.NOT_CHARACTERS:
        with pytest.raises(KeyError):
            unicodedata.lookup(name)


def test_every_textual_key_gets_the_same_character() -> None:
    """Every key Textual names (its ``Keys``, every ASCII character's key name): the same
    character as through ``unicodedata``, and no name left to the real lookup."""
    keys = {k.value for k in Keys} | {_character_to_key(chr(i)) for i in range(32, 127)}
    real = textual.keys.unicodedata
    textual.keys.unicodedata = unicodedata  # type: ignore[assignment]
    try:
        key_to_character.cache_clear()
        expected = {k: key_to_character(k) for k in keys}
    finally:
        textual.keys.unicodedata = real
    names = keychars.install()
    key_to_character.cache_clear()
    before = names.passed
    assert {k: key_to_character(k) for k in keys} == expected
    assert names.passed == before


async def test_the_app_asks_unicodedata_for_no_key() -> None:
    app = build_app(Options(demo=True, delay=0.1))
    names = keychars.install()
    key_to_character.cache_clear()
    before = names.passed
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        assert app.focused is not None  # the case that asks Textual for the characters
        await pilot.press("question_mark")
        await pilot.press("escape")
        await pilot.pause()
    assert key_to_character.cache_info().currsize > 10  # it did ask, from the table
    assert names.passed == before
