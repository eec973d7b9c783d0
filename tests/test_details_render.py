"""The details body's render shortcuts draw exactly what Rich's own rendering draws (issue 18):
no-wrap columns given the width Rich would measure, and sections kept by content."""

from __future__ import annotations

import os
import time

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

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


def rich_grid(rows: list[tuple[str, Text]] | None = None) -> Table:
    """What ``_Grid`` stands for: Rich's own grid (with ``rows``: its first column measured, as
    ``_section`` does)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True, min_width=11)
    grid.add_column(overflow="fold")
    if rows is None:
        return grid
    for label, value in rows:
        grid.add_row(label, value)
    return details_render._measured(grid)


WORDS = ["python", "-m", "[bold]x[/]", "日本語テキスト", "a" * 70, "--flag=v", "", " ", "é", "🙂"]


def test_a_label_value_grid_draws_rich_tables_segments() -> None:
    """``_Grid`` yields the segments (text, style, splits) of Rich's ``Table.grid`` for rows of
    every kind: plain, styled, with spans, wide characters, words longer than the column,
    empty values, labels wider than the minimum; from a width where the values get no room."""
    import random

    rng = random.Random(18)
    console = Console(width=300, color_system="truecolor", file=open(os.devnull, "w"))  # noqa: SIM115
    for _ in range(200):
        rows = []
        for _ in range(rng.randint(1, 6)):
            value = Text(
                " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 12))),
                style=rng.choice(["", "italic dim", "green"]),
            )
            if rng.random() < 0.5:
                value.append(" ← ", style="dim")
                value.append(rng.choice(WORDS), style="bold")
            rows.append((rng.choice(["Command", "", "CPU%", "A label of 19 cells"]), value))
        grid = details_render._Grid()
        for label, value in rows:
            grid.add_row(label, value)
        for width in (20, 33, 54, 97, 150):
            options = console.options.update(width=width)
            assert list(console.render(grid, options)) == list(
                console.render(rich_grid(rows), options)
            ), (rows, width)


@pytest.mark.parametrize("width", [20, 60, 110, 197])
def test_the_body_is_what_rich_tables_draw(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole body, with Rich's grids in the place of ``_Grid``: the same segments."""
    d = own_details()
    fast = render(d, width)

    monkeypatch.setattr(details_render, "_grid", rich_grid)
    assert render(d, width) == fast
