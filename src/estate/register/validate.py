"""Row-level checks and the log of rejects and warnings.

Every check is vectorised: it takes a parsed frame (one row per source row,
``_row`` holding the row number as seen in the file) and logs the rows that fail.
A *reject* makes the row unusable; a *warning* is listed and the row is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from estate.register import schema


@dataclass
class IssueLog:
    """Collects rejects and warnings as they are found, one entry per problem."""

    _parts: list[pd.DataFrame] = field(default_factory=list)

    def add(
        self,
        severity: str,
        *,
        partner: str,
        table: str,
        file: str,
        rows: pd.Series | np.ndarray,
        column: str,
        values: pd.Series | np.ndarray | str,
        reason: str | pd.Series,
        field_name: str = "",
    ) -> None:
        """Log one problem for each of ``rows`` (severity ``reject`` or ``warning``)."""
        rows = np.asarray(rows)
        if len(rows) == 0:
            return
        if isinstance(values, str):
            values = [values] * len(rows)
        values = ["" if v is None or (np.isscalar(v) and pd.isna(v)) or v is pd.NaT else str(v)
                  for v in values]
        self._parts.append(
            pd.DataFrame(
                {
                    "severity": severity,
                    "partner": partner,
                    "table": table,
                    "file": file,
                    "row": rows.astype("int64"),
                    "column": column,
                    "field": field_name,
                    "value": values,
                    "reason": np.asarray(reason) if not isinstance(reason, str) else reason,
                }
            )
        )

    def frame(self, severity: str) -> pd.DataFrame:
        """All logged problems of one severity, in the order of ``schema.ISSUE_COLUMNS``."""
        parts = [p for p in self._parts if (p["severity"] == severity).any()]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else "object")
                                 for c in schema.ISSUE_COLUMNS})
        out = pd.concat(parts, ignore_index=True)
        out = out[out["severity"] == severity]
        # A row rejected as a whole (an unbalanced quote, too many values) has misaligned cells:
        # its field-level findings are noise, so only the row-level reason is kept.
        whole = out["field"] == "row"
        if whole.any():
            key = list(zip(out["partner"], out["table"], out["row"]))
            bad = set(k for k, w in zip(key, whole) if w)
            out = out[[w or k not in bad for k, w in zip(key, whole)]]
        return out.loc[:, list(schema.ISSUE_COLUMNS)].reset_index(drop=True)

    def rejected_rows(self, partner: str, table: str) -> set[int]:
        """Row numbers of ``partner``'s ``table`` with at least one reject."""
        rej = self.frame("reject")
        sel = (rej["partner"] == partner) & (rej["table"] == table)
        return set(rej.loc[sel, "row"].astype(int))


@dataclass(frozen=True)
class Context:
    """Where the rows of one parsed frame came from, for logging."""

    partner: str
    table: str
    file: str
    columns: dict[str, str]  # canonical field -> source column

    def column(self, field_name: str) -> str:
        """The partner's column for a canonical field (the field itself if unmapped)."""
        if field_name == "_record":
            return "(whole row)"
        return self.columns.get(field_name, field_name)


def field_label(field_name: str) -> str:
    """The canonical field a problem is about, as the rejects table names it."""
    if field_name in ("_x", "_y", "geometry"):
        return "location"
    if field_name == "_record":
        return "row"
    return field_name


def _log(log: IssueLog, ctx: Context, severity: str, frame: pd.DataFrame, mask: pd.Series,
         field_name: str, reason: str | pd.Series, values: pd.Series | None = None) -> None:
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return
    vals = (values if values is not None else frame[field_name])[mask]
    if not isinstance(reason, str):
        reason = reason[mask]
    log.add(severity, partner=ctx.partner, table=ctx.table, file=ctx.file,
            rows=frame.loc[mask, "_row"], column=ctx.column(field_name), values=vals, reason=reason,
            field_name=field_label(field_name))


def reject_where(log: IssueLog, ctx: Context, frame: pd.DataFrame, mask: pd.Series,
                 field_name: str, reason: str | pd.Series, values: pd.Series | None = None) -> None:
    """Reject the rows of ``frame`` where ``mask`` is true, blaming ``field_name``."""
    _log(log, ctx, "reject", frame, mask, field_name, reason, values)


def warn_where(log: IssueLog, ctx: Context, frame: pd.DataFrame, mask: pd.Series,
               field_name: str, reason: str | pd.Series, values: pd.Series | None = None) -> None:
    """Warn about the rows of ``frame`` where ``mask`` is true."""
    _log(log, ctx, "warning", frame, mask, field_name, reason, values)


def check_duplicate_ids(frame: pd.DataFrame, log: IssueLog, ctx: Context) -> None:
    """Reject every row whose ``source_id`` appears more than once in the file.

    Which of the copies is right cannot be known, so all of them are rejected,
    each naming the other rows.
    """
    ids = frame["source_id"]
    dup = ids.notna() & ids.duplicated(keep=False)
    if not dup.any():
        return
    rows_by_id = frame.loc[dup].groupby("source_id")["_row"].apply(
        lambda r: ", ".join(str(int(x)) for x in sorted(r)))
    reason = "duplicate id: it appears on rows " + ids[dup].map(rows_by_id)
    reject_where(log, ctx, frame, dup, "source_id", reason.reindex(frame.index))


def check_assets(frame: pd.DataFrame, log: IssueLog, ctx: Context) -> None:
    """Range and consistency checks on parsed asset rows (see ``docs/register.md``)."""
    check_duplicate_ids(frame, log, ctx)
    no_floor = frame["asset_type"].isin(schema.NO_FLOOR_SPACE_TYPES)
    gia = frame["gia_m2"]
    reject_where(log, ctx, frame, (gia <= 0) & ~no_floor, "gia_m2",
                 "floor area must be greater than 0 m²")
    reject_where(log, ctx, frame, (gia < 0) & no_floor, "gia_m2", "floor area must not be negative")
    for money in ("running_cost_gbp", "backlog_maintenance_gbp", "market_value_gbp"):
        if money in frame:
            reject_where(log, ctx, frame, frame[money] < 0, money, "must not be negative (£)")
    if "workspace_capacity_fte" in frame:
        reject_where(log, ctx, frame, frame["workspace_capacity_fte"] < 0, "workspace_capacity_fte",
                     "must not be negative")
    if "lease_break_date" in frame and "lease_expiry_date" in frame:
        late = frame["lease_break_date"] > frame["lease_expiry_date"]
        reject_where(log, ctx, frame, late, "lease_break_date", "lease break is after the lease expiry")
    if "lease_expiry_date" in frame:
        open_lease = (frame["tenure"] == "leasehold") & frame["lease_expiry_date"].isna()
        warn_where(log, ctx, frame, open_lease, "lease_expiry_date", "leasehold with no expiry date")

    per_m2 = frame["running_cost_gbp"] / gia.where(gia > 0)
    bounds = frame["asset_type"].map(schema.RUNNING_COST_PER_M2_RANGE)
    low = bounds.map(lambda b: b[0] if isinstance(b, tuple) else np.nan)
    high = bounds.map(lambda b: b[1] if isinstance(b, tuple) else np.nan)
    outside = (per_m2 < low) | (per_m2 > high)
    reason = ("running cost £" + per_m2.round(0).astype("Int64").astype(str) + "/m² is outside the usual £"
              + low.astype("Int64").astype(str) + "–£" + high.astype("Int64").astype(str)
              + "/m² for " + frame["asset_type"].astype(str))
    warn_where(log, ctx, frame, outside, "running_cost_gbp", reason)


def check_occupiers(frame: pd.DataFrame, log: IssueLog, ctx: Context) -> None:
    """Range checks on parsed occupier rows."""
    reject_where(log, ctx, frame, frame["fte"] <= 0, "fte", "FTE must be greater than 0")
