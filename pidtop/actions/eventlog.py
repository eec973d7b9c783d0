"""The session's event log: pins, refused pins, signals and their results, exits.

The last ``keep`` entries (10,000 by default) are kept in memory for the session and, with a
path, every entry is appended to a file as JSON lines (one object per line, flushed at once,
or once per burst under the UI: :meth:`EventLog.flush_later`).
A bulk action on thousands of pins makes several entries per process; memory stays bounded,
the file has them all. A log file that cannot be written is reported once through the log
itself and then left alone; the session goes on.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any, Literal

EventKind = Literal[
    "pin",
    "unpin",
    "pin_refused",
    "signal",
    "exit",
    "reaped",
    "reclaim",
    "wait",
    "error",
    "kernel",
    "tune",
]


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the log. ``message`` is human text; ``data`` goes to the JSON line too."""

    wall: float
    kind: EventKind
    target: str  # PID:INODE, PID, or "" for session-wide entries
    message: str  # for the screen: may name the command as the table shows it (sanitised)
    ok: bool = True
    data: dict[str, Any] = field(default_factory=dict)
    plain: str | None = None  # the message without the command (the file has the real argv)

    def to_json(self) -> str:
        """One JSON object, as written to ``--log FILE``.

        The command appears once: as ``argv``, the real arguments (bytes that are not UTF-8
        as ``\\udcXX`` surrogate escapes, so nothing is lost), never the display text.
        """
        record = {
            "time": self.wall,
            "iso": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.wall)),
            "kind": self.kind,
            "target": self.target,
            "ok": self.ok,
            "message": self.message if self.plain is None else self.plain,
            **self.data,
        }
        import json  # imported with the log file (EventLog): not on the start-up path otherwise

        return json.dumps(record, ensure_ascii=True, default=str)


Listener = Callable[[Event], None]


class Argv(list[str]):
    """A command's argv as read for the log, that knows whether it was cut at the cap: every
    line that carries it (pin, signal, wait, exit) then says ``argv_truncated``."""

    truncated: bool = False

    def __init__(self, args: Iterable[str] = (), truncated: bool = False) -> None:
        super().__init__(args)
        self.truncated = truncated


#: how many entries an EventLog keeps in memory (the file keeps all)
KEEP = 10_000


class EventLog:
    """Append-only log of events with listeners and an optional JSON-lines file.

    ``entries`` holds the last ``keep`` events (oldest first); ``total`` counts every event
    added, so ``total - len(entries)`` were dropped from memory (not from the file).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        path: str | None = None,
        keep: int = KEEP,
    ) -> None:
        self.entries: deque[Event] = deque(maxlen=keep)
        self.total = 0
        self.listeners: list[Listener] = []
        self._clock = clock
        self._file: IO[str] | None = None
        self._schedule: Callable[[Callable[[], None]], object] | None = None
        self._flush_pending = False
        self.path = path
        if path is not None:
            import json  # noqa: F401 - for to_json, now: never first imported out of fds

            # Opened here so a bad path fails at start with a clear message (OSError).
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives for the session

    def add(
        self,
        kind: EventKind,
        target: str,
        message: str,
        *,
        ok: bool = True,
        plain: str | None = None,
        **data: Any,
    ) -> Event:
        """Record an event, write it to the file, tell the listeners; returns it.

        ``plain`` is ``message`` without the command it names, for the file (where the
        command is in ``argv``, given in ``data``); empty ``argv`` is left out, an
        :class:`Argv` cut at the cap adds ``argv_truncated``.
        """
        if "argv" in data and not data["argv"]:
            del data["argv"]
        elif getattr(data.get("argv"), "truncated", False):
            data["argv_truncated"] = True
        event = Event(self._clock(), kind, target, message, ok, data, plain)
        self.entries.append(event)
        self.total += 1
        if self._file is not None:
            try:
                self._file.write(event.to_json() + "\n")
                if self._schedule is None:
                    self._file.flush()
                elif not self._flush_pending:
                    self._flush_pending = True
                    self._schedule(self.flush)
            except (OSError, RuntimeError) as e:  # RuntimeError: the scheduler's loop closed
                if isinstance(e, RuntimeError):
                    self._schedule = None
                    self.flush()
                else:
                    self._file = None
                    self.add("error", "", f"event log file {self.path}: {e.strerror}; not written")
        if self.listeners:
            for listener in tuple(self.listeners):
                listener(event)
        return event

    def flush_later(self, schedule: Callable[[Callable[[], None]], object] | None) -> None:
        """Flush the file once per burst instead of once per entry: ``schedule(callback)``
        runs the flush after the current step (the UI passes its loop's
        ``call_soon_threadsafe``: a kill of 3,000 pins flushes once, not 3,000 times).
        None: flush every entry at once again (the default; the CLI)."""
        self._schedule = schedule
        if schedule is None:
            self.flush()

    def flush(self) -> None:
        """Put every entry written so far into the file."""
        self._flush_pending = False
        if self._file is not None:
            try:
                self._file.flush()
            except OSError as e:
                self._file = None
                self.add("error", "", f"event log file {self.path}: {e.strerror}; not written")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
