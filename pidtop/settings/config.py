"""The config file: TOML at ``$XDG_CONFIG_HOME/pidtop/config.toml`` (``~/.config/...``).

Reading never fails: a broken file (bad TOML, a wrong type, an unknown key, a value out of
range) gives :class:`Problem` lines naming the file, line and key, and the defaults for what
was bad. The file is never rewritten behind the user's back: pidtop writes it only when the
user changed a setting (quit, or Save in the setup screen), then only the keys they changed,
merged into the file as it is (comments, unknown keys and untouched values stay), atomically
(temporary file, fsync, rename). A file that is not TOML at all is moved aside first
(``config.toml.broken``) and that is said. No Textual here.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pidtop.sampling.columns import COLUMN_BY_ID, resolve_sort_key
from pidtop.settings.options import MAX_DELAY, METERS, MIN_DELAY, SETTINGS, Options, settings_of

#: the file's top-level key for the keymap (``[keys]``: action id -> "key,key")
KEYS_TABLE = "keys"
HEADER = (
    "# pidtop settings: written by pidtop when you change a setting (quit, or Save in setup).\n"
    "# Edit freely: comments and keys pidtop does not know are kept.\n"
)


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/pidtop/config.toml``, else ``~/.config/pidtop/config.toml``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "pidtop" / "config.toml"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the file."""

    path: Path
    line: int | None
    key: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.key + ': ' if self.key else ''}{self.message}"


@dataclass(slots=True)
class Loaded:
    """What was read: the valid settings (Options field names) and the problems."""

    path: Path
    exists: bool = False
    parsed: bool = True  # False: not TOML (or unreadable): the file is never merged into
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


# ------------------------------------------------------------------ validation
def _number(value: object, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) and low <= value <= high else None


def _check_delay(v: object) -> tuple[Any, str | None]:
    n = _number(v, MIN_DELAY, MAX_DELAY)
    wanted = f"a number of seconds {MIN_DELAY:g}-{MAX_DELAY:g}"
    return (n, None) if n is not None else (None, wanted)


def _check_bool(v: object) -> tuple[Any, str | None]:
    return (v, None) if isinstance(v, bool) else (None, "true or false")


def _check_columns(v: object) -> tuple[Any, str | None]:
    if not isinstance(v, list) or not v or not all(isinstance(c, str) for c in v):
        return None, 'a list of column names, e.g. ["pid", "user", "cpu", "command"]'
    ids = [resolve_sort_key(c) for c in v]
    bad = [c for c, i in zip(v, ids, strict=True) if i is None]
    if bad or len(set(ids)) != len(ids):
        what = f"unknown column {bad[0]!r}" if bad else "a column named twice"
        return None, f"{what} (columns: {', '.join(COLUMN_BY_ID)})"
    return tuple(ids), None


def _check_meters(v: object) -> tuple[Any, str | None]:
    if not isinstance(v, list) or not all(isinstance(m, str) for m in v):
        return None, 'a list of meter names, e.g. ["cpu", "memory", "load"]'
    names = [m.strip().lower() for m in v]
    bad = [m for m, n in zip(v, names, strict=True) if n not in METERS]
    if bad or len(set(names)) != len(names):
        what = f"unknown meter {bad[0]!r}" if bad else "a meter named twice"
        return None, f"{what} (meters: {', '.join(METERS)})"
    return tuple(names), None


def _check_sort(v: object) -> tuple[Any, str | None]:
    column = resolve_sort_key(v) if isinstance(v, str) else None
    return (column, None) if column else (None, f"a column name ({', '.join(COLUMN_BY_ID)})")


def _check_theme(v: object) -> tuple[Any, str | None]:
    ok = isinstance(v, str) and bool(v.strip())
    return (v, None) if ok else (None, 'a theme name, e.g. "textual-dark"')


def _check_confirm(v: object) -> tuple[Any, str | None]:
    ok = isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 1_000_000
    return (v, None) if ok else (None, "a whole number of processes, 0-1000000")


def _check_after(v: object) -> tuple[Any, str | None]:
    n = _number(v, 0, 3600)
    return (n, None) if n is not None else (None, "a number of seconds 0-3600")


_CHECKS: dict[str, Callable[[object], tuple[Any, str | None]]] = {
    "delay": _check_delay,
    "columns": _check_columns,
    "meters": _check_meters,
    "sort_column": _check_sort,
    "sort_reverse": _check_bool,
    "tree": _check_bool,
    "show_threads": _check_bool,
    "show_kernel_threads": _check_bool,
    "theme": _check_theme,
    "bell": _check_bool,
    "confirm_over": _check_confirm,
    "escalate_after": _check_after,
}
assert set(_CHECKS) | {"keymap"} == set(SETTINGS), "every setting has a check"


def _line_of(text: str, key: str, table: str | None = None) -> int | None:
    """The line where ``key = ...`` is set (in ``[table]`` when given), 1-based."""
    current: str | None = None
    pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    for n, line in enumerate(text.splitlines(), 1):
        header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header.group(1).strip('"')
            continue
        if current == table and pattern.match(line):
            return n
    return None


def load(path: Path, actions: Collection[str] = ()) -> Loaded:
    """Read ``path``; ``actions`` are the action ids a ``[keys]`` entry may name."""
    loaded = Loaded(path)

    def problem(message: str, key: str | None = None, line: int | None = None) -> None:
        loaded.problems.append(Problem(path, line, key, message))

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return loaded
    except OSError as e:
        loaded.exists, loaded.parsed = True, False
        problem(f"cannot read it ({e.strerror or e}); using the defaults")
        return loaded
    loaded.exists = True
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as e:
        loaded.parsed = False
        line = raw[: e.start].count(b"\n") + 1
        problem("not UTF-8 text; using the defaults (the file is left as it is)", line=line)
        return loaded
    except tomllib.TOMLDecodeError as e:
        loaded.parsed = False
        found = re.search(r"at line (\d+)", str(e))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        problem(
            f"not valid TOML ({message}); using the defaults (the file is left as it is)",
            line=int(found.group(1)) if found else None,
        )
        return loaded
    for key, value in data.items():
        if key == KEYS_TABLE:
            loaded.values["keymap"] = _load_keys(value, text, actions, problem)
            continue
        check = _CHECKS.get(key)
        if check is None or key == "keymap":
            problem("unknown setting, ignored (kept in the file)", key, _line_of(text, key))
            continue
        good, wanted = check(value)
        if wanted is not None:
            default = getattr(Options(), key)
            problem(
                f"must be {wanted}, not {value!r}; using {_show(default)}",
                key,
                _line_of(text, key),
            )
            continue
        loaded.values[key] = good
    return loaded


def _load_keys(
    value: object,
    text: str,
    actions: Collection[str],
    problem: Callable[..., None],
) -> dict[str, str]:
    if not isinstance(value, dict):
        problem(
            'must be a table of action = "keys" lines under [keys]',
            KEYS_TABLE,
            _line_of(text, KEYS_TABLE),
        )
        return {}
    keymap: dict[str, str] = {}
    for action, keys in value.items():
        line = _line_of(text, action, KEYS_TABLE)
        if actions and action not in actions:
            problem("unknown action, ignored (see the help, F1)", f"keys.{action}", line)
        elif not isinstance(keys, str) or not keys.strip():
            problem(f'must be keys like "f9,k", not {keys!r}; ignored', f"keys.{action}", line)
        else:
            keymap[action] = ",".join(k.strip() for k in keys.split(",") if k.strip())
    return keymap


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "the default list"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def apply(options: Options, loaded: Loaded) -> Options:
    """``options`` with the file's valid settings."""
    return options.replace(**loaded.values)


# ------------------------------------------------------------------ saving
@dataclass(frozen=True, slots=True)
class Saved:
    """What :func:`save` did, for a message to the user."""

    path: Path
    moved_aside: Path | None = None  # the unparseable file, kept under this name

    def __str__(self) -> str:
        text = f"Settings saved to {self.path}"
        if self.moved_aside is not None:
            text += f"; the file that was not valid TOML was kept as {self.moved_aside}"
        return text


def _toml_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def save(path: Path, changed: Mapping[str, Any]) -> Saved:
    """Write the ``changed`` settings (Options field names) into ``path``, atomically.

    The file as it is now is read again and only these keys are replaced or added: comments,
    unknown keys and other values stay. A file that is not TOML is renamed aside first.
    Raises OSError when the directory or file cannot be written.
    """
    import tomlkit  # only when saving: not on the start-up path

    moved: Path | None = None
    try:
        text = path.read_text(encoding="utf-8")
        doc = tomlkit.parse(text)
    except FileNotFoundError:
        doc = tomlkit.parse(HEADER)
    except (UnicodeDecodeError, tomlkit.exceptions.ParseError, ValueError):
        moved = _aside(path)
        doc = tomlkit.parse(HEADER)
    for key, value in changed.items():
        if key == "keymap":
            table = doc.get(KEYS_TABLE)
            if not isinstance(table, dict):
                table = tomlkit.table()
                doc[KEYS_TABLE] = table
            for action in [a for a in table if a not in value]:
                del table[action]
            for action, keys in value.items():
                table[action] = keys
        elif key == "sort_reverse" and value is None:
            doc.pop(key, None)
        else:
            doc[key] = _toml_value(value)
    _write_atomic(path, tomlkit.dumps(doc))
    return Saved(path, moved)


def _aside(path: Path) -> Path:
    target = path.with_name(path.name + ".broken")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.broken.{n}")
    os.rename(path, target)
    return target


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def changed_settings(before: Options, after: Options) -> dict[str, Any]:
    """The settings that differ between two options objects."""
    a, b = settings_of(before), settings_of(after)
    return {k: v for k, v in b.items() if a[k] != v}
