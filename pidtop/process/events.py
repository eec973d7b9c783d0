"""The session's event log: pins, refused pins, signals and their results, exits.

Entries are kept for the whole session and, with a path, appended to a file as JSON lines
(one object per line, flushed at once). A log file that cannot be written is reported once
through the log itself and then left alone; the session goes on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Literal

EventKind = Literal[
    "pin", "unpin", "pin_refused", "signal", "exit", "reaped", "reclaim", "wait", "error"
]


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the log. ``message`` is human text; ``data`` goes to the JSON line too."""

    wall: float
    kind: EventKind
    target: str  # PID:INODE, PID, or "" for session-wide entries
    message: str
    ok: bool = True
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """One JSON object, as written to ``--log FILE``."""
        record = {
            "time": self.wall,
            "iso": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.wall)),
            "kind": self.kind,
            "target": self.target,
            "ok": self.ok,
            "message": self.message,
            **self.data,
        }
        return json.dumps(record, ensure_ascii=True, default=str)


Listener = Callable[[Event], None]


class EventLog:
    """Append-only list of events with listeners and an optional JSON-lines file."""

    def __init__(self, *, clock: Callable[[], float] = time.time, path: str | None = None) -> None:
        self.entries: list[Event] = []
        self.listeners: list[Listener] = []
        self._clock = clock
        self._file: IO[str] | None = None
        self.path = path
        if path is not None:
            # Opened here so a bad path fails at start with a clear message (OSError).
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives for the session

    def add(
        self, kind: EventKind, target: str, message: str, *, ok: bool = True, **data: Any
    ) -> Event:
        """Record an event, write it to the file, tell the listeners; returns it."""
        event = Event(self._clock(), kind, target, message, ok, data)
        self.entries.append(event)
        if self._file is not None:
            try:
                self._file.write(event.to_json() + "\n")
                self._file.flush()
            except OSError as e:
                self._file = None
                self.add("error", "", f"event log file {self.path}: {e.strerror}; not written")
        for listener in list(self.listeners):
            listener(event)
        return event

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
