"""Reading settings files (TOML) with errors that name the file and the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from estate._errors import SourceError, SourceErrors


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file raises :class:`SourceErrors`."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceErrors([SourceError(path, "file not found")]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceErrors([SourceError(path, f"not valid TOML: {exc}")]) from None


class TomlReader:
    """Checks one TOML table, collecting errors that name the key."""

    def __init__(self, path: Path, errors: list[SourceError]) -> None:
        self.path = path
        self.errors = errors

    def fail(self, where: str, message: str) -> None:
        self.errors.append(SourceError(self.path, message, column=where))

    def check_keys(self, table: dict[str, Any], where: str, allowed: set[str]) -> None:
        for key in sorted(set(table) - allowed):
            self.fail(f"{where}.{key}", f"unknown key; expected one of {sorted(allowed)}")

    def text(self, table: dict, key: str, where: str, *, required: bool = False,
             choices: tuple[str, ...] | None = None, default: str | None = None) -> str | None:
        value = table.get(key, default)
        if value is None or value == "":
            if required:
                self.fail(f"{where}.{key}", "is required")
            return default if value is None else None
        if not isinstance(value, str):
            self.fail(f"{where}.{key}", f"expected text, got {value!r}")
            return default
        if choices is not None and value not in choices:
            self.fail(f"{where}.{key}", f"{value!r} is not one of {list(choices)}")
            return default
        return value

    def number(self, table: dict, key: str, where: str, default: float, *,
               minimum: float = 0.0, maximum: float | None = None) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"{where}.{key}", f"expected a number, got {value!r}")
            return default
        return float(self._within(value, f"{where}.{key}", default, minimum, maximum))

    def _within(self, value, where: str, default, minimum, maximum):
        if value < minimum or (maximum is not None and value > maximum):
            upper = "" if maximum is None else f" and at most {maximum}"
            self.fail(where, f"{value} must be at least {minimum}{upper}")
            return default
        return value

    def path_of(self, table: dict, key: str, where: str, *, required: bool = False) -> Path | None:
        name = self.text(table, key, where, required=required)
        if not name:
            return None
        return (self.path.parent / name).resolve()

    def integer(self, table: dict, key: str, where: str, default: int, *, minimum: int = 0,
                maximum: int | None = None) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{where}.{key}", f"expected a whole number, got {value!r}")
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
                self.fail(f"{where}.{key}", f"{v!r} is not one of {list(choices)}")
        return tuple(values)
