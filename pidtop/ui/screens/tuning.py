"""Pickers for ``i`` (I/O priority class and level) and ``a`` (CPU affinity). They only choose;
the app applies the choice through each target's verified handle (:mod:`pidtop.actions.tuning`).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from pidtop.actions.tuning import IOPRIO, cpu_list_text, ionice_text
from pidtop.ui.screens.modal import Modal
from pidtop.ui.widgets.checks import CheckList, CursorList

#: (class, level) choices in picker order
IONICE_CHOICES: tuple[tuple[int, int, str], ...] = (
    *((IOPRIO["best-effort"], lvl, f"best-effort {lvl}") for lvl in range(8)),
    (IOPRIO["idle"], 0, "idle (only when the disk is otherwise idle)"),
    *((IOPRIO["realtime"], lvl, f"realtime {lvl} (root only)") for lvl in range(8)),
    (IOPRIO["none"], 0, "none (follow the nice value)"),
)


def _targets_line(targets: list[str]) -> Text:
    shown = ", ".join(targets[:3]) + (f" and {len(targets) - 3} more" if len(targets) > 3 else "")
    return Text(f"for {shown}")


class IoniceScreen(Modal[tuple[int, int] | None]):
    """Choose an I/O class and level; Enter applies, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, targets: list[str], current: tuple[int, int] | None = None) -> None:
        super().__init__()
        self._targets = targets
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="ionice-box", classes="picker-box"):
            yield Label(Text("I/O priority", style="bold"))
            yield Label(_targets_line(self._targets))
            if self._current is not None:
                yield Label(Text(f"now: {ionice_text(*self._current)}", style="dim"))
            yield CursorList(
                *(Option(Text(label), id=f"{c}:{lvl}") for c, lvl, label in IONICE_CHOICES),
                id="ionice-list",
            )
            yield Label(Text("Enter applies · Esc cancels · 0 is the highest level", style="dim"))

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        index = 4  # best-effort 4: also what class "none" means at nice 0
        if self._current is not None and self._current[0] != IOPRIO["none"]:
            for i, (c, lvl, _) in enumerate(IONICE_CHOICES):
                if (c, lvl) == self._current:
                    index = i
        options.highlighted = index

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        c, _, lvl = (event.option.id or "2:4").partition(":")
        self.dismiss((int(c), int(lvl)))

    def action_cancel(self) -> None:
        self.dismiss(None)


class AffinityScreen(Modal[set[int] | None]):
    """Tick the CPUs the process may run on; Space toggles, Enter applies, Esc cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "apply", "Apply", priority=True),
        Binding("A", "all", "All CPUs", show=False),
    ]

    def __init__(self, targets: list[str], cpus: list[int], current: set[int]) -> None:
        super().__init__()
        self._targets = targets
        self._cpus = cpus
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="affinity-box", classes="picker-box"):
            yield Label(Text("CPU affinity", style="bold"))
            yield Label(_targets_line(self._targets))
            yield CheckList[int](
                *((f"CPU {c}", c, c in self._current) for c in self._cpus), id="affinity-list"
            )
            yield Label(
                Text("Space toggles · A selects all · Enter applies · Esc cancels", style="dim")
            )

    def on_mount(self) -> None:
        self.query_one(CheckList).focus()

    def action_all(self) -> None:
        self.query_one(CheckList).select_all()

    def action_apply(self) -> None:
        chosen = set(self.query_one(CheckList).selected)
        if not chosen:
            self.notify("Choose at least one CPU", severity="warning", markup=False)
            return
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["IONICE_CHOICES", "AffinityScreen", "IoniceScreen", "cpu_list_text"]
