"""``--log FILE`` records what really ran: the real argv, once per line, capped.

The file used to carry the display text of the command (``^[`` for ESC is ambiguous, U+FFFD
loses bytes) twice per line (in ``message`` and ``command``). A real child is started with an
argv holding an escape sequence, bytes that are not UTF-8 and a 5,000-byte argument.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

from test_pins import BOUND, info_for, next_change

from pidtop.actions.eventlog import EventLog
from pidtop.actions.pins import PinSet
from pidtop.actions.targets import ARGV_CAP

HOSTILE = b"\x1b[31mred\xff\xfe"
LONG = b"x" * 5000


async def test_log_file_keeps_the_real_argv_once_per_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = EventLog(path=str(path))
    pins = PinSet(log)
    code = "import sys, time; print('ready', flush=True); time.sleep(1000)"
    argv = [sys.executable.encode(), b"-c", code.encode(), HOSTILE, LONG]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE)
    try:
        assert p.stdout is not None and p.stdout.readline() == b"ready\n"
        info = info_for(p.pid)  # the row shows "proc PID": the display text
        pins.pin(info)
        pins.send(pins.targets(None), signal.SIGTERM)
        await asyncio.wait_for(next_change(pins), BOUND)
    finally:
        p.kill()
        p.wait()
        assert p.stdout is not None
        p.stdout.close()
        pins.close()
        log.close()
    lines = path.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["kind"] for r in records] == ["pin", "signal", "exit"]
    for line, record in zip(lines, records, strict=True):
        assert line.isascii()  # JSON-escaped
        assert info.command not in line  # no display text: the command once, as argv
        assert "command" not in record
        got = [a.encode("utf-8", "surrogateescape") for a in record["argv"]]
        assert got[:4] == argv[:4]  # byte for byte, the escape and the non-UTF-8 bytes too
        assert got[4] == LONG[: len(got[4])] and len(b"\0".join(got)) <= ARGV_CAP
    # every line that carries the cut argv says so: pin, signal and exit alike
    assert [r.get("argv_truncated") for r in records] == [True, True, True]
    assert records[0]["message"] == f"pinned {records[0]['target']}"
    assert records[1]["message"].endswith("SIGTERM delivered")
    # on screen the entries still name the command as the table shows it
    assert log.entries[0].message.endswith(info.command)
