"""The ``matrix`` engine: travel times the user brings from another routing tool.

The file is a CSV with columns ``zone_id, site_id, mode, minutes``, one row per
pair. Pairs missing from the file are unreachable; pairs over the cutoff are
dropped. Every zone and site id must be known: unknown ids are errors naming
their rows, never silently ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from estate._errors import SourceError, SourceErrors
from estate._io import require_file
from estate.access import ACCESS_COLUMNS

#: At most this many offending rows are listed per problem.
_SHOW = 10


def _rows(mask: pd.Series) -> str:
    rows = (np.flatnonzero(mask.to_numpy()) + 2).tolist()  # + header, 1-based
    more = f" and {len(rows) - _SHOW} more" if len(rows) > _SHOW else ""
    return ", ".join(map(str, rows[:_SHOW])) + more


def read_matrix(path: str | Path, zone_ids: Iterable[str], site_ids: Iterable[str],
                modes: Iterable[str], cutoff_minutes: float) -> pd.DataFrame:
    """Read a user-supplied travel-time table and check it against the known ids.

    Parameters
    ----------
    path
        CSV with ``zone_id``, ``site_id``, ``mode``, ``minutes``.
    zone_ids, site_ids
        The demand zones and sites of the run.
    modes
        The modes the scenario knows (those with a speed).
    cutoff_minutes
        Rows with more minutes than this are dropped.

    Returns
    -------
    pandas.DataFrame
        ``ACCESS_COLUMNS`` with categorical ids and mode, float32 minutes.

    Raises
    ------
    SourceErrors
        Missing columns, unreadable minutes, unknown zone ids, site ids or modes,
        each naming the file, the column and the rows.
    """
    path = Path(path)
    try:
        require_file(path, "travel-time matrix")
        table = pd.read_csv(path, dtype={"zone_id": str, "site_id": str, "mode": str},
                            keep_default_na=False)
    except SourceError as exc:
        raise SourceErrors([exc]) from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceErrors([SourceError(path, f"cannot read the travel-time matrix ({type(exc).__name__})")]) from None
    missing = [c for c in ACCESS_COLUMNS if c not in table.columns]
    if missing:
        raise SourceErrors([SourceError(path, "the column is missing from its header", row=1, column=c)
                            for c in missing])
    zones, sites, mode_list = pd.Index(list(zone_ids)), pd.Index(list(site_ids)), list(modes)
    minutes = pd.to_numeric(table["minutes"], errors="coerce")
    errors = []
    checks = [
        ("minutes", ~np.isfinite(minutes) | (minutes < 0), "expected a finite number of minutes ≥ 0"),
        ("zone_id", ~table["zone_id"].isin(zones), "zone id not among the demand zones"),
        ("site_id", ~table["site_id"].isin(sites), "site id not in the register"),
        ("mode", ~table["mode"].isin(mode_list), f"mode not among {mode_list}"),
    ]
    for column, bad, message in checks:
        if bad.any():
            examples = sorted(set(table.loc[bad, column].astype(str)))[:_SHOW]
            errors.append(SourceError(path, f"{message}: {examples} on rows {_rows(bad)}", column=column))
    if errors:
        raise SourceErrors(errors)
    keep = minutes <= cutoff_minutes
    return pd.DataFrame({
        "zone_id": pd.Categorical(table.loc[keep, "zone_id"], categories=zones),
        "site_id": pd.Categorical(table.loc[keep, "site_id"], categories=sites),
        "mode": pd.Categorical(table.loc[keep, "mode"], categories=mode_list),
        "minutes": minutes[keep].astype(np.float32),
    }).reset_index(drop=True)
