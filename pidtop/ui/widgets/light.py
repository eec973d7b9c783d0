"""Controls that cost a label: a push button and a one-line chooser (the setup screen's).

Textual's ``Button`` and ``Select`` bring their own default CSS (the Button's is the largest
of Textual's widgets: ~5 ms to parse the first time one mounts, the stylesheet parsed again
with it) and the ``Select`` four widgets more (its current value, an overlay list and its
arrows). These are one :class:`~textual.widgets.Static` each, styled in ``styles/pidtop.tcss``
(parsed with the app's own CSS): no default CSS of their own, so mounting the first one adds
nothing to the stylesheet. Keyboard and mouse as Textual's: Enter or Space (or a click)
presses a :class:`Push`; a :class:`Cycle` shows its value between ◀ and ▶, ←/→ (Space,
Enter: the next) or a click on either side go through its values.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static


class Push(Static, can_focus=True):
    """A one-line button (Textual's compact ``Button``, without its CSS): Enter, Space or a
    click post :class:`Push.Pressed`. ``variant="primary"`` draws it in the primary colour."""

    BINDINGS = [Binding("enter,space", "press", "Press", show=False)]

    class Pressed(Message):
        """The push was pressed (``@on(Push.Pressed, "#id")`` selects it by its id)."""

        def __init__(self, push: Push) -> None:
            super().__init__()
            self.push = push

        @property
        def control(self) -> Push:
            """The push that was pressed."""
            return self.push

    def __init__(self, label: str, *, id: str | None = None, variant: str = "") -> None:
        super().__init__(label, id=id, markup=False, classes=f"-{variant}" if variant else "")

    def action_press(self) -> None:
        """Say it was pressed."""
        self.post_message(self.Pressed(self))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.action_press()


class Cycle(Static, can_focus=True):
    """One of ``values`` shown as ``◀ value ▶``: ←/→ step through them (round), Space and
    Enter go to the next, a click on the ◀ side to the previous, elsewhere to the next."""

    BINDINGS = [
        Binding("left", "step(-1)", "Previous", show=False),
        Binding("right,space,enter", "step(1)", "Next", show=False),
    ]

    def __init__(self, values: Sequence[str], value: str, *, id: str | None = None) -> None:
        self.values = list(values)
        self._value = value
        super().__init__(self._label(), id=id, markup=False)

    def _label(self) -> str:
        return f"◀ {self._value} ▶"

    @property
    def value(self) -> str:
        """The value shown."""
        return self._value

    @value.setter
    def value(self, value: str) -> None:
        if value != self._value:
            self._value = value
            self.update(self._label())

    def action_step(self, step: int) -> None:
        """Show the value ``step`` places on (round)."""
        if not self.values:
            return
        i = self.values.index(self._value) if self._value in self.values else -step
        self.value = self.values[(i + step) % len(self.values)]

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.action_step(-1 if event.x < 2 + self.styles.padding.left else 1)
