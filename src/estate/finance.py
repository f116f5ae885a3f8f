"""The one cost model: what keeping, exiting and moving cost, year by year.

The optimiser's objective coefficients (:mod:`estate.plan`) and the programme
costing come from these functions, so the plan and the numbers never disagree.

Conventions (every assumption is a :class:`~estate.scenario.FinanceSettings`
field, written in the scenario file):

* Years are financial years (April–March) counted from ``first_year`` as
  year 0; cash in year ``t`` is discounted by ``(1 + discount_rate) ** -t``
  (HM Treasury Green Book: year 0 undiscounted).
* An exit happens on 1 April of its exit year and saves the asset's whole
  running cost from that year on ("full-year effect").
* A freehold or licence may be exited from ``earliest_exit_year``. A leasehold
  is exited on 1 April after its first break on or after that year, else
  after its expiry; with neither inside the horizon (or no dates at all) it
  cannot be exited.
* A freehold disposal brings ``market_value × (1 − disposal_cost_share)``
  in the financial year ``receipt_lag_months`` after the exit. Leaseholds
  and licences bring no receipt; a leasehold exit costs dilapidations per m².
* A disposal avoids the asset's backlog maintenance, counted in its exit year
  (when ``backlog_avoided``; unknown backlog counts as 0).
* A team moves in its home's exit year (the earliest year that building
  could be vacated), at relocation + ICT per FTE, fit-out per m² taken up
  and excess travel per FTE-km.
* Every one-off cost (moves, dilapidations) carries the optimism-bias uplift.

Cash-flow sign: positive is a benefit against keeping today's estate
(a saving or a receipt), negative a cost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from estate.scenario import FinanceSettings

#: Columns of :func:`asset_options`.
ASSET_OPTION_COLUMNS = (
    "asset_id",
    "exit_year",  # 0-based year of the earliest permitted exit; -1 if it cannot be exited in the horizon
    "exit_note",  # why that year, or why no exit
    "running_cost_gbp",  # annual
    "running_saved_pv_gbp",  # present value of the running costs saved by exiting
    "receipt_gbp",  # net capital receipt (undiscounted)
    "receipt_year",
    "receipt_pv_gbp",
    "exit_cost_gbp",  # dilapidations, with optimism bias (undiscounted)
    "exit_cost_pv_gbp",
    "backlog_avoided_gbp",  # undiscounted, in the exit year
    "backlog_avoided_pv_gbp",
    "exit_value_pv_gbp",  # running_saved + receipt + backlog − exit cost, all present values
)

#: Cash-flow categories, in reporting order.
CATEGORIES = ("running_cost_saving", "capital_receipt", "backlog_avoided", "lease_exit_cost", "move_cost")


def discount_factor(year: np.ndarray | int, settings: FinanceSettings) -> np.ndarray:
    """``(1 + rate) ** -year`` for 0-based financial years."""
    return (1.0 + settings.discount_rate) ** -np.asarray(year, dtype=float)


def annuity_factor(start_year: np.ndarray, settings: FinanceSettings) -> np.ndarray:
    """Σ discount factors from ``start_year`` to the end of the horizon (0 past it)."""
    start = np.asarray(start_year, dtype=float)
    r, h = settings.discount_rate, settings.horizon_years
    if r == 0:
        return np.clip(h - start, 0, None)
    out = ((1 + r) ** -start - (1 + r) ** -h) / (1 - 1 / (1 + r))
    return np.where(start < h, out, 0.0)


def year_label(year: int, settings: FinanceSettings) -> str:
    """The financial year of a 0-based year, e.g. ``2027/28``."""
    y = settings.first_year + int(year)
    return f"{y}/{(y + 1) % 100:02d}"


def _exit_year_after(dates: pd.Series, settings: FinanceSettings) -> pd.Series:
    """0-based year starting on the first 1 April on or after each date."""
    d = pd.to_datetime(dates)
    fy = d.dt.year - (d.dt.month < 4).astype(int)
    on_first = (d.dt.month == 4) & (d.dt.day == 1)
    return fy - settings.first_year + np.where(on_first, 0, 1)


def asset_options(assets: pd.DataFrame, settings: FinanceSettings) -> pd.DataFrame:
    """What exiting each asset would be worth, at its earliest permitted exit year.

    Parameters
    ----------
    assets
        Register assets: ``asset_id``, ``tenure``, ``lease_break_date``,
        ``lease_expiry_date``, ``gia_m2``, ``running_cost_gbp``,
        ``market_value_gbp``, ``backlog_maintenance_gbp``.
    settings
        The scenario's finance assumptions.

    Returns
    -------
    pandas.DataFrame
        One row per asset with :data:`ASSET_OPTION_COLUMNS`.
    """
    h, first = settings.horizon_years, settings.earliest_exit_year
    tenure = assets["tenure"].to_numpy()
    lease = tenure == "leasehold"
    brk = _exit_year_after(assets["lease_break_date"], settings)
    exp = _exit_year_after(assets["lease_expiry_date"], settings)
    # The first break at or after the earliest exit year; the register holds the next break only.
    brk_ok = brk.notna() & (brk >= first) & (brk < h)
    exp_ok = exp.notna() & (exp < h)
    exit_year = np.where(~lease, first, np.where(brk_ok, brk, np.where(exp_ok, np.maximum(exp, first), -1)))
    exit_year = exit_year.astype(int)
    note = np.where(~lease, np.where(tenure == "licence", "licence", "freehold") + ": earliest exit year", "")
    note = np.where(lease & brk_ok, "leasehold: first lease break", note)
    note = np.where(lease & ~brk_ok & exp_ok, "leasehold: lease expiry", note)
    no_dates = lease & assets["lease_break_date"].isna().to_numpy() & assets["lease_expiry_date"].isna().to_numpy()
    note = np.where(lease & (exit_year < 0),
                    np.where(no_dates, "leasehold with no break or expiry date in the register",
                             f"lease runs beyond {year_label(h - 1, settings)} with no break"), note)
    can = exit_year >= 0
    running = assets["running_cost_gbp"].to_numpy(float)
    saved_pv = np.where(can, running * annuity_factor(np.maximum(exit_year, 0), settings), 0.0)
    freehold = tenure == "freehold"
    receipt = np.where(freehold & can, np.nan_to_num(assets["market_value_gbp"].to_numpy(float))
                       * (1 - settings.disposal_cost_share), 0.0)
    receipt_year = np.where(can, exit_year + int(settings.receipt_lag_months // 12), -1)
    receipt = np.where(receipt_year < h, receipt, 0.0)
    exit_cost = np.where(lease & can, assets["gia_m2"].to_numpy(float) * settings.dilapidations_gbp_per_m2
                         * (1 + settings.optimism_bias), 0.0)
    backlog_gbp = backlog = (np.nan_to_num(assets["backlog_maintenance_gbp"].to_numpy(float)) if settings.backlog_avoided
               else np.zeros(len(assets)))
    backlog = np.where(can, backlog, 0.0) * discount_factor(np.maximum(exit_year, 0), settings)
    receipt_pv = receipt * discount_factor(np.maximum(receipt_year, 0), settings)
    exit_cost_pv = exit_cost * discount_factor(np.maximum(exit_year, 0), settings)
    return pd.DataFrame({
        "asset_id": assets["asset_id"].to_numpy(),
        "exit_year": exit_year,
        "exit_note": note,
        "running_cost_gbp": running,
        "running_saved_pv_gbp": saved_pv,
        "receipt_gbp": receipt,
        "receipt_year": receipt_year,
        "receipt_pv_gbp": receipt_pv,
        "exit_cost_gbp": exit_cost,
        "exit_cost_pv_gbp": exit_cost_pv,
        "backlog_avoided_gbp": np.where(can, backlog_gbp, 0.0),
        "backlog_avoided_pv_gbp": backlog,
        "exit_value_pv_gbp": saved_pv + receipt_pv + backlog - exit_cost_pv,
    })


def move_cost_gbp(fte: np.ndarray, need_m2: np.ndarray, km: np.ndarray, settings: FinanceSettings) -> np.ndarray:
    """One-off cost of moving teams (undiscounted, with optimism bias).

    ``(relocation + ICT) × fte + fit-out × need_m2 + excess travel × fte × km``.
    """
    fte, need_m2, km = (np.asarray(a, dtype=float) for a in (fte, need_m2, km))
    base = ((settings.relocation_gbp_per_fte + settings.ict_gbp_per_fte) * fte
            + settings.fit_out_gbp_per_m2 * need_m2 + settings.excess_travel_gbp_per_fte_km * fte * km)
    return base * (1 + settings.optimism_bias)


def cash_flows(disposals: pd.DataFrame, moves: pd.DataFrame, settings: FinanceSettings) -> pd.DataFrame:
    """Year-by-year cash flows of a programme against keeping today's estate.

    Parameters
    ----------
    disposals
        One row per disposed asset: ``asset_id``, ``partner`` and the
        :func:`asset_options` columns.
    moves
        One row per team move: ``occupier_id``, ``partner``, ``year``, ``move_cost_gbp``.

    Returns
    -------
    pandas.DataFrame
        ``year`` (0-based), ``financial_year``, ``partner``, ``category``,
        ``asset_id`` (or occupier id for moves), ``gbp`` (positive = benefit),
        ``discount_factor`` and ``pv_gbp``.
    """
    h = settings.horizon_years
    parts = []
    if len(disposals):
        years = np.arange(h)
        d = disposals
        running = d.loc[d.index.repeat(h)].assign(year=np.tile(years, len(d)))
        running = running[running["year"] >= running["exit_year"]]
        parts.append(pd.DataFrame({"year": running["year"], "partner": running["partner"],
                                   "category": "running_cost_saving", "asset_id": running["asset_id"],
                                   "gbp": running["running_cost_gbp"]}))
        for category, column, year in (("capital_receipt", "receipt_gbp", "receipt_year"),
                                       ("backlog_avoided", "backlog_avoided_gbp", "exit_year"),
                                       ("lease_exit_cost", "exit_cost_gbp", "exit_year")):
            sign = -1.0 if category == "lease_exit_cost" else 1.0
            rows = d[d[column] != 0]
            parts.append(pd.DataFrame({"year": rows[year], "partner": rows["partner"],
                                       "category": category, "asset_id": rows["asset_id"],
                                       "gbp": sign * rows[column]}))
    if len(moves):
        parts.append(pd.DataFrame({"year": moves["year"], "partner": moves["partner"], "category": "move_cost",
                                   "asset_id": moves["occupier_id"], "gbp": -moves["move_cost_gbp"]}))
    columns = ["year", "financial_year", "partner", "category", "asset_id", "gbp", "discount_factor", "pv_gbp"]
    if not parts:
        return pd.DataFrame(columns=columns)
    flows = pd.concat(parts, ignore_index=True)
    flows["year"] = flows["year"].astype(int)
    flows = flows[flows["year"] < h]
    flows["financial_year"] = [year_label(y, settings) for y in flows["year"]]
    flows["discount_factor"] = discount_factor(flows["year"].to_numpy(), settings)
    flows["pv_gbp"] = flows["gbp"] * flows["discount_factor"]
    order = {c: i for i, c in enumerate(CATEGORIES)}
    flows = flows.sort_values(["year", "category", "asset_id"], key=lambda s: s.map(order) if s.name == "category"
                              else s).reset_index(drop=True)
    return flows[columns]


def npv_gbp(flows: pd.DataFrame) -> float:
    """Net present value of a cash-flow table (sum of ``pv_gbp``)."""
    return float(flows["pv_gbp"].sum()) if len(flows) else 0.0


def payback_year(flows: pd.DataFrame, settings: FinanceSettings) -> int | None:
    """First 0-based year whose cumulative undiscounted net cash is > 0 and stays ≥ 0
    to the end of the horizon (None if there is none)."""
    net = flows.groupby("year")["gbp"].sum().reindex(range(settings.horizon_years), fill_value=0.0)
    cumulative = net.cumsum().to_numpy()
    tol = 1e-6
    stays = np.flip(np.minimum.accumulate(np.flip(cumulative))) >= -tol
    ok = np.flatnonzero(stays & (cumulative > tol))
    return int(ok[0]) if len(ok) else None
