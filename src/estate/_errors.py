"""Errors raised at the boundaries of estate, each naming where the problem is."""

from __future__ import annotations

from pathlib import Path


class EstateError(Exception):
    """Base class for every error estate reports to a user instead of a traceback."""


class SourceError(EstateError):
    """A file or a setting cannot be used.

    Parameters
    ----------
    file
        The file at fault (a partner file, a lookup, a sources or scenario file).
    message
        What is wrong and what was expected.
    row
        The row (1-based, as seen in the file), when one applies.
    column
        The column of a data file, when one applies.
    key
        The key of a settings file (``plan.gap``, ``partners[2].assets.file``), when one applies.
    """

    def __init__(
        self,
        file: str | Path,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        key: str | None = None,
    ) -> None:
        self.file = str(file)
        self.row = row
        self.column = column
        self.key = key
        self.message = message
        where = [self.file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        if key is not None:
            where.append(f"key {key!r}")
        super().__init__(f"{', '.join(where)}: {message}")


class SourceErrors(EstateError):
    """Several :class:`SourceError` found in one pass, reported together.

    The heading names the file when every error is in the same one.
    """

    def __init__(self, errors: list[SourceError]) -> None:
        self.errors = errors
        files = {e.file for e in errors}
        where = f" in {next(iter(files))}" if len(files) == 1 else ""
        if len(errors) == 1:
            super().__init__(str(errors[0]))
            return
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"{len(errors)} problems{where}:\n{lines}")
