"""The details body's render shortcuts draw exactly what Rich's own rendering draws (issue 18):
no-wrap columns given the width Rich would measure, and sections kept by content."""

from __future__ import annotations

import os
import time

import pytest
from rich.console import Console
from rich.table import Table

from pidtop.details.model import Details
from pidtop.details.reader import ProcDetails
from pidtop.ui.screens import details_render
from pidtop.ui.screens.details_render import Sections, details_body

HISTORY = ([1.0, 30.5, 2.25] * 20, [1e6, 3e7, 2e6] * 20, time.time())


def own_details() -> Details:
    source = ProcDetails()
    d = source.read(source.open(os.getpid(), None), None, full_memory=False)
    assert d is not None
    return d


def render(d: Details, width: int, sections: Sections | None = None) -> list[object]:
    console = Console(width=300, color_system="truecolor", file=open(os.devnull, "w"))  # noqa: SIM115
    body = details_body(d, width=width, ncpu=2, history=HISTORY, sections=sections)
    return list(console.render(body, console.options.update(width=width)))


@pytest.mark.parametrize("width", [20, 21, 33, 54, 80, 109, 110, 111, 140, 197, 260])
def test_the_body_is_what_rich_measures_and_renders(
    width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = own_details()
    fast = render(d, width)
    kept = render(d, width, Sections())
    monkeypatch.setattr(details_render, "_measured", lambda table: table)  # Rich measures
    slow = render(d, width)
    assert fast == slow and kept == slow


def test_no_wrap_columns_get_their_longest_cell() -> None:
    d = own_details()
    limits = details_render.limits_part(d).renderables[1]
    assert isinstance(limits, Table)
    assert [c.width for c in limits.columns] == [
        max(len(x.name) for x in d.limits),  # type: ignore[union-attr]
        max(len("soft"), *(len(details_render._limit(x.soft, x.unit)) for x in d.limits)),  # type: ignore[union-attr]
        max(len("hard"), *(len(details_render._limit(x.hard, x.unit)) for x in d.limits)),  # type: ignore[union-attr]
    ]
