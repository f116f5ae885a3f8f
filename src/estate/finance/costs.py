"""The one cost model: what keeping, exiting and moving cost, year by year.

The optimiser's objective coefficients (:mod:`estate.plan`) and the programme
costing come from these functions, so the plan and the numbers never disagree.

Conventions (every assumption is a :class:`~estate.scenario.FinanceSettings`
field, written in the scenario file):

* Years are financial years (April–March) counted from ``first_year`` as
  year 0; cash in year ``t`` is discounted by ``(1 + discount_rate) ** -t``
  (HM Treasury Green Book: year 0 undiscounted).
* An exit happens on 1 April of its exit year and saves the asset's whole
  running cost from that year on ("full-year effect"), less
  ``double_running_months`` of it paid in the exit year while teams settle in.
* A freehold or licence may be exited from ``earliest_exit_year``. A leasehold
  is exited on 1 April after its first break on or after that year, else
  after its expiry; with neither inside the horizon (or no dates at all) it
  cannot be exited.
* A freehold disposal brings ``market_value × (1 − disposal_cost_share)``
  in the financial year ``receipt_lag_months`` after the exit. Leaseholds
  and licences bring no receipt; a leasehold exit costs dilapidations per m².
* A disposal avoids the asset's backlog maintenance, counted in its exit year
  (when ``backlog_avoided``; unknown backlog counts as 0).
* **Residual value** (Green Book: value assets still held at the end of the
  appraisal period). With ``residual_value = "market_value"`` a freehold still
  held at the end of the horizon is worth its market value then (constant
  real prices), discounted from the end of the last year (year ``horizon``);
  a leasehold or licence is worth nothing. Exiting a freehold forgoes that
  value, so an exit's value is net of it.
* A team moves in its home's exit year when the home is disposed of, else in
  ``earliest_exit_year``, at relocation + ICT per FTE and fit-out per m² taken
  up (one-off), plus an excess-travel allowance per FTE per km a year for
  ``excess_travel_years`` years (from the move year, within the horizon).
* A building that takes a team in costs ``new_space_running_gbp_per_m2`` a
  year more to run for the space the team takes up, from the move year; an
  empty building brought back into use costs ``reopening_gbp_per_m2`` of GIA
  once.
* Every one-off cost (moves, dilapidations, double running, reopening) and
  the excess-travel allowance carry the optimism-bias uplift.

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
    "double_running_gbp",  # running cost still paid in the exit year (undiscounted)
    "double_running_pv_gbp",
    "receipt_gbp",  # net capital receipt (undiscounted)
    "receipt_year",
    "receipt_pv_gbp",
    "exit_cost_gbp",  # dilapidations, with optimism bias (undiscounted)
    "exit_cost_pv_gbp",
    "backlog_avoided_gbp",  # undiscounted, in the exit year
    "backlog_avoided_pv_gbp",
    "residual_value_gbp",  # what the asset would be worth at the end of the horizon if kept (undiscounted)
    "residual_value_pv_gbp",
    "exit_value_pv_gbp",  # running saved − double running + receipt + backlog − exit cost − residual, PVs
)


def gbp_millions(value: float | None) -> str:
    """An amount as ``£12.3m`` (``-£1.2m`` when negative, ``–`` when missing); under £50k as ``£41k``,
    so a small loss never reads ``£0.0m``, and rounding never shows ``-£0.0m`` or ``-£0k``."""
    if value is None or value != value:
        return "–"
    if abs(value) < 5e4:
        sign = "-" if round(value / 1e3) < 0 else ""
        return f"{sign}£{abs(value) / 1e3:,.0f}k"
    sign = "-" if round(value / 1e6, 1) < 0 else ""
    return f"{sign}£{abs(value) / 1e6:,.1f}m"


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
    """The financial year of a 0-based year, e.g. ``2027/28``; year ``horizon_years`` (where residual
    values sit) is ``end 2036/37``, the end of the last year."""
    if int(year) == settings.horizon_years:
        return f"end {year_label(int(year) - 1, settings)}"
    y = settings.first_year + int(year)
    return f"{y}/{(y + 1) % 100:02d}"


def residual_value_gbp(assets: pd.DataFrame, settings: FinanceSettings) -> np.ndarray:
    """Each asset's value at the end of the horizon if kept (undiscounted): market value for a
    freehold under ``residual_value = "market_value"``, else 0 (see the module docstring)."""
    if settings.residual_value == "none":
        return np.zeros(len(assets))
    freehold = assets["tenure"].to_numpy() == "freehold"
    return np.where(freehold, np.nan_to_num(assets["market_value_gbp"].to_numpy(float)), 0.0)


def _exit_year_after(dates: pd.Series, settings: FinanceSettings) -> pd.Series:
    """0-based year starting on the first 1 April on or after each date."""
    d = pd.to_datetime(dates)
    fy = d.dt.year - (d.dt.month < 4).astype(int)
    on_first = (d.dt.month == 4) & (d.dt.day == 1)
    return fy - settings.first_year + np.where(on_first, 0, 1)


def earliest_exit_year(assets: pd.DataFrame, settings: FinanceSettings) -> tuple[np.ndarray, np.ndarray]:
    """Each asset's earliest permitted exit year (−1 if none in the horizon) and why."""
    h, first = settings.horizon_years, settings.earliest_exit_year
    tenure = assets["tenure"].to_numpy()
    lease = tenure == "leasehold"
    brk = _exit_year_after(assets["lease_break_date"], settings)
    exp = _exit_year_after(assets["lease_expiry_date"], settings)
    # The first break at or after the earliest exit year; the register holds the next break only.
    brk_ok = brk.notna() & (brk >= first) & (brk < h)
    exp_ok = exp.notna() & (exp < h)
    exit_year = np.where(~lease, first, np.where(brk_ok, brk, np.where(exp_ok, np.maximum(exp, first), -1)))
    note = np.where(~lease, np.where(tenure == "licence", "licence", "freehold") + ": earliest exit year", "")
    note = np.where(lease & brk_ok, "leasehold: first lease break", note)
    note = np.where(lease & ~brk_ok & exp_ok, "leasehold: lease expiry", note)
    no_dates = lease & assets["lease_break_date"].isna().to_numpy() & assets["lease_expiry_date"].isna().to_numpy()
    note = np.where(lease & (exit_year < 0),
                    np.where(no_dates, "leasehold with no break or expiry date in the register",
                             f"lease runs beyond {year_label(h - 1, settings)} with no break"), note)
    return exit_year.astype(int), note


def exit_years_allowed(assets: pd.DataFrame, settings: FinanceSettings) -> list[np.ndarray]:
    """The 0-based years each asset may be exited in, inside the horizon: a freehold or licence any
    year from ``earliest_exit_year``; a leasehold in the year after its first break (on or after
    that year) and in the year after its expiry; none when it cannot be exited."""
    h, first = settings.horizon_years, settings.earliest_exit_year
    lease = assets["tenure"].to_numpy() == "leasehold"
    brk = _exit_year_after(assets["lease_break_date"], settings).to_numpy(float)
    exp = _exit_year_after(assets["lease_expiry_date"], settings).to_numpy(float)
    any_year = np.arange(first, h)
    out = []
    for is_lease, b, e in zip(lease, brk, exp):
        if not is_lease:
            out.append(any_year)
            continue
        years = {int(b)} if b == b and first <= b < h else set()
        if e == e and e < h:
            years.add(int(max(e, first)))
        out.append(np.array(sorted(years), dtype=int))
    return out


def asset_options(assets: pd.DataFrame, settings: FinanceSettings,
                  exit_year: np.ndarray | None = None) -> pd.DataFrame:
    """What exiting each asset would be worth, at its earliest permitted exit year
    (or at ``exit_year``, e.g. when a programme is phased later).

    Parameters
    ----------
    assets
        Register assets: ``asset_id``, ``tenure``, ``lease_break_date``,
        ``lease_expiry_date``, ``gia_m2``, ``running_cost_gbp``,
        ``market_value_gbp``, ``backlog_maintenance_gbp``.
    settings
        The scenario's finance assumptions.
    exit_year
        Optional 0-based exit years overriding the earliest (−1: no exit).

    Returns
    -------
    pandas.DataFrame
        One row per asset with :data:`ASSET_OPTION_COLUMNS`.
    """
    h = settings.horizon_years
    earliest, note = earliest_exit_year(assets, settings)
    year = earliest if exit_year is None else np.asarray(exit_year, dtype=int)
    can = (year >= 0) & (earliest >= 0)
    at = np.maximum(year, 0)
    in_horizon = can & (year < h)
    df = np.where(in_horizon, discount_factor(at, settings), 0.0)
    running = assets["running_cost_gbp"].to_numpy(float)
    saved_pv = np.where(can, running * annuity_factor(at, settings), 0.0)
    double = np.where(in_horizon, running * settings.double_running_months / 12.0
                      * (1 + settings.optimism_bias), 0.0)
    tenure = assets["tenure"].to_numpy()
    receipt = np.where((tenure == "freehold") & can, np.nan_to_num(assets["market_value_gbp"].to_numpy(float))
                       * (1 - settings.disposal_cost_share), 0.0)
    receipt_year = np.where(can, year + int(settings.receipt_lag_months // 12), -1)
    receipt = np.where(receipt_year < h, receipt, 0.0)
    exit_cost = np.where((tenure == "leasehold") & in_horizon, assets["gia_m2"].to_numpy(float)
                         * settings.dilapidations_gbp_per_m2 * (1 + settings.optimism_bias), 0.0)
    backlog = (np.nan_to_num(assets["backlog_maintenance_gbp"].to_numpy(float)) if settings.backlog_avoided
               else np.zeros(len(assets)))
    backlog = np.where(in_horizon, backlog, 0.0)
    receipt_pv = receipt * discount_factor(np.maximum(receipt_year, 0), settings)
    residual = np.where(in_horizon, residual_value_gbp(assets, settings), 0.0)
    residual_pv = residual * discount_factor(h, settings)
    return pd.DataFrame({
        "asset_id": assets["asset_id"].to_numpy(),
        "exit_year": np.where(can, year, -1),
        "exit_note": note,
        "running_cost_gbp": running,
        "running_saved_pv_gbp": saved_pv,
        "double_running_gbp": double,
        "double_running_pv_gbp": double * df,
        "receipt_gbp": receipt,
        "receipt_year": receipt_year,
        "receipt_pv_gbp": receipt_pv,
        "exit_cost_gbp": exit_cost,
        "exit_cost_pv_gbp": exit_cost * df,
        "backlog_avoided_gbp": backlog,
        "backlog_avoided_pv_gbp": backlog * df,
        "residual_value_gbp": residual,
        "residual_value_pv_gbp": residual_pv,
        "exit_value_pv_gbp": saved_pv - double * df + receipt_pv + backlog * df - exit_cost * df - residual_pv,
    })


#: Columns of :func:`move_costs`, each undiscounted GBP.
MOVE_COST_COLUMNS = ("relocation_gbp", "ict_gbp", "fit_out_gbp", "excess_travel_gbp", "optimism_bias_gbp",
                     "move_cost_gbp")


def travel_years(move_year, settings: FinanceSettings) -> np.ndarray:
    """Years of excess-travel allowance a move pays inside the horizon."""
    left = settings.horizon_years - np.asarray(move_year, dtype=float)
    return np.clip(np.minimum(settings.excess_travel_years, left), 0, None)


def move_costs(fte, need_m2, km, settings: FinanceSettings, move_year=None) -> pd.DataFrame:
    """Cost of moving teams, by component (undiscounted).

    ``relocation × fte``, ``ICT × fte``, ``fit-out × need_m2`` (one-off, in the
    move year), the excess-travel allowance ``× fte × km`` a year for its years
    inside the horizon (all ``excess_travel_years`` when ``move_year`` is None),
    the optimism-bias uplift on their sum, and the total.
    """
    fte, need_m2, km = (np.asarray(a, dtype=float) for a in (fte, need_m2, km))
    years = (settings.excess_travel_years if move_year is None else travel_years(move_year, settings))
    out = pd.DataFrame({
        "relocation_gbp": settings.relocation_gbp_per_fte * fte,
        "ict_gbp": settings.ict_gbp_per_fte * fte,
        "fit_out_gbp": settings.fit_out_gbp_per_m2 * need_m2,
        "excess_travel_gbp": settings.excess_travel_gbp_per_fte_km * fte * km * years,
    })
    base = out.sum(axis=1)
    out["optimism_bias_gbp"] = base * settings.optimism_bias
    out["move_cost_gbp"] = base + out["optimism_bias_gbp"]
    return out


def move_cost_pv_gbp(fte, need_m2, km, move_year, settings: FinanceSettings) -> np.ndarray:
    """Present value of moving teams in ``move_year``: the one-off part discounted to the move
    year and the excess-travel allowance to each year it is paid (with optimism bias)."""
    fte, need_m2, km = (np.asarray(a, dtype=float) for a in (fte, need_m2, km))
    move_year = np.asarray(move_year, dtype=float)
    uplift = 1 + settings.optimism_bias
    one_off = (settings.relocation_gbp_per_fte * fte + settings.ict_gbp_per_fte * fte
               + settings.fit_out_gbp_per_m2 * need_m2) * uplift
    travel_a_year = settings.excess_travel_gbp_per_fte_km * fte * km * uplift
    end = np.minimum(move_year + settings.excess_travel_years, settings.horizon_years)
    travel_pv = travel_a_year * (annuity_factor(move_year, settings) - annuity_factor(end, settings))
    return np.where(move_year < settings.horizon_years, one_off * discount_factor(move_year, settings), 0.0) \
        + travel_pv


def new_space_pv_gbp(need_m2, move_year, settings: FinanceSettings) -> np.ndarray:
    """Present value of the extra running cost of the space a team takes up in a building that
    takes it in, from its move year to the end of the horizon."""
    return (settings.new_space_running_gbp_per_m2 * np.asarray(need_m2, dtype=float)
            * annuity_factor(np.asarray(move_year, dtype=float), settings))


def move_cost_gbp(fte, need_m2, km, settings: FinanceSettings) -> np.ndarray:
    """Total cost of moving teams (undiscounted, every allowance year, with optimism bias); see
    :func:`move_costs`."""
    return move_costs(fte, need_m2, km, settings)["move_cost_gbp"].to_numpy()
