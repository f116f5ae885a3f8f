"""Errors raised at the boundaries of estate, each naming where the problem is."""

from __future__ import annotations

from pathlib import Path


class EstateError(Exception):
    """Base class for every error estate reports to a user instead of a traceback."""


class SourceError(EstateError):
    """A partner file or description cannot be used at all.

    Parameters
    ----------
    file
        The file at fault.
    message
        What is wrong and what was expected.
    row
        The row (1-based, as seen in the file), when one applies.
    column
        The column, when one applies.
    """

    def __init__(
        self,
        file: str | Path,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = str(file)
        self.row = row
        self.column = column
        self.message = message
        where = [self.file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}")


class SourceErrors(EstateError):
    """Several :class:`SourceError` found in one pass, reported together."""

    def __init__(self, errors: list[SourceError]) -> None:
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"{len(errors)} problem(s) with the partner sources:\n{lines}")
