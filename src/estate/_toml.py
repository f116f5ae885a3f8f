"""Reading settings files (TOML) with errors that name the file and the key.

Paths a settings file names resolve against the file's own folder and must stay
inside it (or below it), or inside a folder the file lists in
``allowed_folders``; only regular files are read. See ``docs/security.md``.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from estate._errors import SourceError, SourceErrors


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a missing, special or malformed file raises :class:`SourceErrors`."""
    if path.is_dir():
        raise SourceErrors([SourceError(path, "is a folder, not a settings file (a .toml file)")])
    if path.exists() and not path.is_file():
        raise SourceErrors([SourceError(path, "is not a regular file")])
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceErrors([SourceError(path, "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise SourceErrors([SourceError(path, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SourceErrors([SourceError(path, f"not valid TOML: {exc}")]) from None


def finite(value: object) -> bool:
    """True for an int or float that is a finite number (huge TOML integers are not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def inside(path: Path, folders: list[Path]) -> bool:
    """True when ``path`` (resolved) is one of ``folders`` or lies below one."""
    return any(path == folder or folder in path.parents for folder in folders)


class TomlReader:
    """Checks one TOML table, collecting errors that name the key.

    ``roots`` are the folders the file's paths may resolve into: the file's own
    folder, plus any it allows with :meth:`allow_folders`.
    """

    def __init__(self, path: Path, errors: list[SourceError]) -> None:
        self.path = path
        self.errors = errors
        self.roots = [path.parent.resolve()]

    def fail(self, where: str, message: str) -> None:
        self.errors.append(SourceError(self.path, message, key=where.lstrip(".")))

    def table(self, parent: dict, key: str, where: str) -> dict:
        """The sub-table ``parent[key]`` ({} when absent; an error when it is not a table)."""
        value = parent.get(key, {})
        if not isinstance(value, dict):
            self.fail(f"{where}.{key}", f"expected a table, got {value!r}")
            return {}
        return value

    def check_keys(self, table: dict[str, Any], where: str, allowed: set[str]) -> None:
        if not isinstance(table, dict):
            self.fail(where, f"expected a table of settings, got {table!r}")
            return
        for key in sorted(set(table) - allowed):
            close = _close(key, allowed)
            hint = f"; did you mean {close!r}?" if close else f"; expected one of {sorted(allowed)}"
            self.fail(f"{where}.{key}", "unknown key" + hint)

    def text(self, table: dict, key: str, where: str, *, required: bool = False,
             choices: tuple[str, ...] | None = None, default: str | None = None) -> str | None:
        value = table.get(key, default)
        one_of = f"; expected one of {list(choices)}" if choices is not None else ""
        if value == "" and choices is not None:
            self.fail(f"{where}.{key}", "is empty" + one_of)
            return default
        if value is None or value == "":
            if required:
                self.fail(f"{where}.{key}", "is required")
            return default if value is None else None
        if not isinstance(value, str):
            self.fail(f"{where}.{key}", f"expected text, got {value!r}{one_of}")
            return default
        if any(ord(c) < 32 and c not in "\t" for c in value):
            self.fail(f"{where}.{key}", "contains a control character (such as a NUL or a line break)")
            return default
        if choices is not None and value not in choices:
            close = _close(value, set(choices))
            hint = f"; did you mean {close!r}?" if close else ""
            self.fail(f"{where}.{key}", f"{value!r} is not one of {list(choices)}{hint}")
            return default
        return value

    def number(self, table: dict, key: str, where: str, default: float, *,
               minimum: float = 0.0, maximum: float | None = None) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"{where}.{key}", f"expected a number, got {value!r}")
            return default
        if not finite(value):
            self.fail(f"{where}.{key}", f"expected a finite number, got {value!r}")
            return default
        return float(self._within(value, f"{where}.{key}", default, minimum, maximum))

    def _within(self, value, where: str, default, minimum, maximum):
        if value < minimum or (maximum is not None and value > maximum):
            upper = "" if maximum is None else f" and at most {maximum:g}"
            self.fail(where, f"{value:g} must be at least {minimum:g}{upper}")
            return default
        return value

    def allow_folders(self, table: dict, key: str, where: str) -> None:
        """Add the folders listed under ``key`` (relative to the file) to :attr:`roots`."""
        for name in self.texts(table, key, where):
            folder = (self.path.parent / name).resolve()
            if not folder.is_dir():
                self.fail(f"{where}.{key}", f"{name!r} is not a folder (it resolves to {folder})")
                continue
            self.roots.append(folder)

    def path_of(self, table: dict, key: str, where: str, *, required: bool = False,
                must_exist: bool = True) -> Path | None:
        """A path named by the file: resolved against its folder, inside :attr:`roots`,
        and (when ``must_exist``) an existing regular file."""
        name = self.text(table, key, where, required=required)
        if not name:
            return None
        path = (self.path.parent / name).resolve()
        label = f"{where}.{key}"
        if not inside(path, self.roots):
            allowed = ", ".join(str(r) for r in self.roots)
            self.fail(label, f"{name!r} resolves to {path}, outside the folders this file may read ({allowed}); "
                      "move the file there, or list its folder in allowed_folders")
            return None
        if path.is_dir():
            self.fail(label, f"{name!r} is a folder, not a file")
            return None
        if path.exists() and not path.is_file():
            self.fail(label, f"{name!r} is not a regular file (a device, pipe or socket is never read)")
            return None
        if must_exist and not path.exists():
            self.fail(label, f"{name!r}: file not found (paths are relative to the folder of {self.path.name}, "
                      f"{self.path.parent.resolve()})")
            return None
        return path

    def integer(self, table: dict, key: str, where: str, default: int, *, minimum: int = 0,
                maximum: int | None = None) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{where}.{key}", f"expected a whole number, got {value!r}")
            return default
        if maximum is None and not finite(value):
            self.fail(f"{where}.{key}", f"{value} is too large")
            return default
        return self._within(value, f"{where}.{key}", default, minimum, maximum)

    def flag(self, table: dict, key: str, where: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{where}.{key}", f"expected true or false, got {value!r}")
            return default
        return value

    def texts(self, table: dict, key: str, where: str, *, choices: tuple[str, ...] | None = None) -> tuple[str, ...]:
        values = table.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            self.fail(f"{where}.{key}", "expected a list of text values" +
                      (f" from {list(choices)}" if choices else ""))
            return ()
        for v in values:
            if choices is not None and v not in choices:
                close = _close(v, set(choices))
                hint = f"; did you mean {close!r}?" if close else ""
                self.fail(f"{where}.{key}", f"{v!r} is not one of {list(choices)}{hint}")
        return tuple(values)


def _close(word: str, options: set[str]) -> str | None:
    """The option most like ``word`` (a mistyped key or code), if one is close."""
    import difflib

    found = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.75)
    return found[0] if found else None
