"""The disposal programme: phasing, cash flows by year, NPV, payback, the partner
ledger and sensitivity, all from the cost model in :mod:`estate.finance.costs`.

:func:`cost_programme` costs a plan (its decisions and moves), either straight
after optimising or later under changed assumptions (``estate finance``).
With no cap on moves a year, each disposal falls in the year the optimiser
assumed and the programme's NPV equals the negative of the plan's objective.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from estate.finance.costs import (MOVE_COST_COLUMNS, asset_options, discount_factor, earliest_exit_year,
                                  exit_years_allowed, move_costs, residual_value_gbp, year_label)
from estate.scenario import FinanceSettings

#: Cash-flow categories in reporting order, with their sign (+1 benefit, −1 cost).
CATEGORIES: dict[str, int] = {
    "running_cost_saving": 1,
    "double_running": -1,
    "capital_receipt": 1,
    "backlog_avoided": 1,
    "residual_value": -1,  # value forgone at the end of the horizon by selling a freehold
    "lease_exit_cost": -1,
    "move_cost": -1,
    "excess_travel": -1,  # allowance paid for excess_travel_years after a move
    "new_space_running": -1,  # extra running cost of the space teams take up in receiving buildings
    "reopening_cost": -1,  # bringing an empty building back into use
    "occupancy_charge": 1,  # between partners: + received by a host, − paid by a guest; sums to 0
    "new_lease_avoided": 1,  # a space request housed in kept space: the new lease it would otherwise take
}
#: Categories that are transition costs (optimism bias applies; varied together in the sensitivity).
ONE_OFF = ("double_running", "lease_exit_cost", "move_cost", "excess_travel", "reopening_cost")
#: Categories of the cashable saving: running costs saved, net of double running and new space run.
CASHABLE = ("running_cost_saving", "double_running", "new_space_running", "new_lease_avoided")
#: Categories that are transfers between partners: they sum to 0 over the partnership.
TRANSFERS = ("occupancy_charge",)

#: Columns of ``Programme.flows``: one line per item, year and category.
FLOW_COLUMNS = ("year", "financial_year", "partner", "category", "item_id", "item", "gbp", "discount_factor",
                "pv_gbp")


@dataclass
class Programme:
    """A costed disposal programme.

    Attributes
    ----------
    disposals
        One row per disposal: the asset's id, name, partner, tenure and the
        :func:`~estate.finance.costs.asset_options` columns at its phased exit year.
    moves
        One row per team move with its year and cost components.
    flows
        Line items (:data:`FLOW_COLUMNS`), positive = benefit against today's estate.
    by_year
        Categories × years, with ``net``, ``cumulative``, ``discount_factor``,
        ``pv`` and ``cashable_saving`` rows.
    ledger
        One row per partner (and, when pooled, the partnership pot).
    sensitivity
        The NPV tornado: one row per assumption, largest swing first.
    summary
        Headline figures (see :func:`cost_programme`).
    """

    disposals: pd.DataFrame
    moves: pd.DataFrame
    flows: pd.DataFrame
    by_year: pd.DataFrame
    ledger: pd.DataFrame
    sensitivity: pd.DataFrame
    summary: dict
    settings: FinanceSettings
    notes: list[str] = field(default_factory=list)
    #: The plan's space requests and their outcome (``estate.plan.requests.REQUEST_COLUMNS``).
    requests: pd.DataFrame = field(default_factory=pd.DataFrame)


def _phase(disposed: pd.DataFrame, moves: pd.DataFrame, earliest: pd.Series, settings: FinanceSettings,
           notes: list[str]) -> tuple[pd.Series, pd.Series]:
    """Exit year of each disposal and move year of each move.

    Without a cap, a disposal goes in its earliest permitted year and its teams
    move then; a team leaving a building that stays moves in the programme's
    first exit year (``earliest_exit_year``). With
    ``max_moves_per_year``, disposals (in order of earliest year, then id) take
    the first year with room for all their moves; one needing more than the cap
    takes a year of its own.
    """
    exit_year = earliest.reindex(disposed["asset_id"]).astype(int)
    home = moves["from_asset_id"].astype(str).reset_index(drop=True)
    fallback = pd.Series(settings.earliest_exit_year, index=home.index)
    move_year = home.map(exit_year).fillna(fallback).astype(int)
    cap = settings.max_moves_per_year
    if cap <= 0:
        return exit_year, move_year.set_axis(moves.index)
    counts = home.value_counts()
    groups = pd.DataFrame({"key": list(exit_year.index) + list(set(home) - set(exit_year.index))})
    groups["earliest"] = groups["key"].map(exit_year).fillna(groups["key"].map(fallback.groupby(home).first()))
    groups["teams"] = groups["key"].map(counts).fillna(0).astype(int)
    groups = groups.sort_values(["earliest", "key"], kind="stable")
    used: dict[int, int] = {}
    year_of = {}
    for key, first, k in zip(groups["key"], groups["earliest"].astype(int), groups["teams"]):
        if first < 0:  # cannot exit under these assumptions: costed as kept
            year_of[key] = -1
            continue
        y = first
        while k and used.get(y, 0) and used.get(y, 0) + k > cap:
            y += 1
        used[y] = used.get(y, 0) + k
        year_of[key] = y
        if k > cap:
            notes.append(f"{key}: {k} team moves exceed the cap of {cap} a year; they take {year_label(y, settings)} alone")
    delayed = sum(year_of[a] > exit_year[a] >= 0 for a in exit_year.index)
    late = sum(year_of[a] >= settings.horizon_years for a in exit_year.index)
    if delayed:
        notes.append(f"the cap of {cap} moves a year delays {delayed} disposal(s) beyond their earliest year"
                     + (f"; {late} fall beyond the horizon and save nothing within it" if late else ""))
    exit_year = exit_year.index.to_series().map(year_of).astype(int)
    return exit_year, home.map(year_of).astype(int).set_axis(moves.index)


def _planned_years(assets: pd.DataFrame, earliest: pd.Series, planned: pd.Series, settings: FinanceSettings,
                   notes: list[str]) -> pd.Series:
    """Each asset's exit year: the plan's where its tenure allows it, else the earliest allowed."""
    allowed = dict(zip(assets["asset_id"].astype(str), exit_years_allowed(assets, settings)))
    out = earliest.copy()
    moved = 0
    for asset_id, year in planned.items():
        if str(asset_id) in allowed and int(year) in set(allowed[str(asset_id)].tolist()):
            out[asset_id] = int(year)
        elif str(asset_id) in allowed:
            moved += 1
    if moved:
        notes.append(f"{moved} disposal(s) cannot exit in the plan's year under these assumptions; they are costed "
                     "in their earliest allowed year")
    return out


def _each_year(moves: pd.DataFrame, years: int, horizon: int) -> pd.DataFrame:
    """Each move repeated for each of ``years`` years from its move year, inside the horizon (``year``)."""
    rep = moves.loc[moves.index.repeat(years)].copy()
    rep["year"] = rep["move_year"].to_numpy(int) + np.tile(np.arange(years), len(moves))
    return rep[rep["year"] < horizon]


def _lines(year, partner, category: str, item_id, item, gbp, settings: FinanceSettings) -> pd.DataFrame:
    return pd.DataFrame({"year": np.asarray(year, dtype=int), "partner": np.asarray(partner),
                         "category": category, "item_id": np.asarray(item_id), "item": np.asarray(item),
                         "gbp": CATEGORIES[category] * np.asarray(gbp, dtype=float)})


#: Columns an arrival into a building (a move, or a space request housed there) is costed by.
_ARRIVAL_COLUMNS = ("occupier_id", "team", "partner", "to_partner", "to_asset_id", "move_year", "need_m2",
                    "new_space_running_gbp_a_year", "occupancy_charge_gbp_a_year")


def _housed_requests(requests: pd.DataFrame | None, settings: FinanceSettings) -> pd.DataFrame:
    """The space requests housed in kept space, as arrivals (:data:`_ARRIVAL_COLUMNS`) with the new
    lease each avoids a year (``new_lease_avoided_gbp_a_year``)."""
    if requests is None or not len(requests):
        return pd.DataFrame(columns=[*_ARRIVAL_COLUMNS, "new_lease_avoided_gbp_a_year"])
    r = requests[requests["housed_in"].fillna("").astype(str) != ""]
    m2 = r["need_m2"].to_numpy(float)
    return pd.DataFrame({
        "occupier_id": r["request_id"].astype(str).to_numpy(), "team": ("space request " + r["request_id"].astype(str)).to_numpy(),
        "partner": r["partner"].to_numpy(), "to_partner": r["host_partner"].to_numpy(),
        "to_asset_id": r["housed_in"].astype(str).to_numpy(), "move_year": r["from_year"].to_numpy(int),
        "need_m2": m2, "new_space_running_gbp_a_year": settings.new_space_running_gbp_per_m2 * m2,
        "occupancy_charge_gbp_a_year": np.where(r["host_partner"].to_numpy() != r["partner"].to_numpy(),
                                                settings.occupancy_charge_gbp_per_m2 * m2, 0.0),
        "new_lease_avoided_gbp_a_year": r["new_lease_gbp_per_m2"].to_numpy(float) * m2})


def cost_programme(assets: pd.DataFrame, moves: pd.DataFrame, settings: FinanceSettings,
                   requests: pd.DataFrame | None = None, exit_years: pd.Series | None = None) -> Programme:
    """Cost a plan's disposals and moves.

    Parameters
    ----------
    assets
        Every asset with its register columns and ``decision`` (``dispose`` marks a disposal).
    moves
        One row per team move: ``occupier_id``, ``team``, ``partner``, ``fte``,
        ``need_m2``, ``from_asset_id``, ``to_asset_id``, ``distance_km``.
    settings
        The finance assumptions.
    requests
        The plan's space requests (:data:`estate.plan.requests.REQUEST_COLUMNS`): one housed in
        kept space avoids its new lease (``new_lease_avoided``, to the requester), and costs its
        host the running cost of the space and any reopening, like a move in, with the occupancy
        charge between them.

    Returns
    -------
    Programme
        ``summary`` holds ``npv_gbp``, ``payback_year`` (label or None),
        ``annual_saving_gbp`` (steady state, full-year effect of every disposal
        inside the horizon), ``cashable_savings_gbp`` (over the horizon, net of
        double running), ``capital_receipts_gbp``, ``one_off_costs_gbp``,
        ``disposals``, ``moves`` and ``npv_turns_negative`` (within the
        sensitivity ranges).
    """
    notes: list[str] = []
    assets = assets.reset_index(drop=True)
    moves = moves.reset_index(drop=True)
    earliest = pd.Series(earliest_exit_year(assets, settings)[0], index=assets["asset_id"].to_numpy())
    disposed = assets[assets["decision"] == "dispose"].reset_index(drop=True)
    if exit_years is not None and len(exit_years):
        earliest = _planned_years(assets, earliest, exit_years, settings, notes)
    cannot = disposed["asset_id"][earliest.reindex(disposed["asset_id"]).to_numpy() < 0]
    if len(cannot):
        notes.append(f"{len(cannot)} disposal(s) cannot exit inside the horizon under these assumptions "
                     f"(e.g. {', '.join(cannot.head(3))}); they are costed as kept, and their teams as staying")
    planned = exit_years is not None and len(exit_years) > 0
    if planned and settings.max_moves_per_year > 0:
        notes.append("the plan's exit years were chosen under its delivery limits ([plan.delivery]); "
                     "finance.max_moves_per_year is not applied on top")
        settings_for_phase = replace(settings, max_moves_per_year=0)
    else:
        settings_for_phase = settings
    exit_year, move_year = _phase(disposed, moves, earliest, settings_for_phase, notes)
    options = asset_options(disposed, settings, exit_year=exit_year.to_numpy())
    columns = [c for c in ("asset_id", "name", "partner", "asset_type", "tenure", "gia_m2", "market_value_gbp",
                           "backlog_maintenance_gbp") if c in disposed]
    disposals = pd.concat([disposed[columns], options.drop(columns=["asset_id", "running_cost_gbp"])], axis=1)
    disposals.insert(disposals.columns.get_loc("exit_year") + 1, "financial_year",
                     [year_label(y, settings) if y >= 0 else "" for y in disposals["exit_year"]])
    disposals["running_cost_gbp"] = disposed["running_cost_gbp"].to_numpy(float)
    if "running_cost_estimated" in disposed:  # a benchmark estimate, not the partner's figure
        disposals["running_cost_estimated"] = disposed["running_cost_estimated"].fillna(False).astype(bool).to_numpy()

    derived = [*MOVE_COST_COLUMNS, "move_year", "financial_year", "in_horizon", "to_partner", "reopens",
               "new_space_running_gbp_a_year", "occupancy_charge_gbp_a_year"]  # recomputed here
    mv = moves.drop(columns=[c for c in derived if c in moves])
    mv["move_year"] = move_year.to_numpy()
    mv["financial_year"] = [year_label(y, settings) for y in mv["move_year"]]
    km = mv["costed_km"] if "costed_km" in mv else mv["distance_km"]  # a confidential team: the move radius
    mv = pd.concat([mv, move_costs(mv["fte"], mv["need_m2"], km, settings, move_year=mv["move_year"])], axis=1)
    h = settings.horizon_years
    # A move out of a disposal that cannot exit under these assumptions (year −1) does not happen.
    mv["in_horizon"] = (mv["move_year"] >= 0) & (mv["move_year"] < h)
    owner = assets.set_index(assets["asset_id"].astype(str))["partner"]
    mv["to_partner"] = mv["to_asset_id"].astype(str).map(owner).to_numpy()
    uplift = 1 + settings.optimism_bias
    mv["new_space_running_gbp_a_year"] = settings.new_space_running_gbp_per_m2 * mv["need_m2"].to_numpy(float)
    guest = mv["to_partner"].to_numpy() != mv["partner"].to_numpy()
    mv["occupancy_charge_gbp_a_year"] = np.where(guest, settings.occupancy_charge_gbp_per_m2
                                                 * mv["need_m2"].to_numpy(float), 0.0)
    housed = _housed_requests(requests, settings)
    arrivals = pd.concat([mv.loc[mv["in_horizon"], list(_ARRIVAL_COLUMNS)], housed[list(_ARRIVAL_COLUMNS)]],
                         ignore_index=True)
    # Empty buildings today that take teams in are brought back into use, once, in their first move year.
    empty = (assets.set_index(assets["asset_id"].astype(str))["teams_before"].eq(0)
             if "teams_before" in assets else pd.Series(False, index=owner.index))
    first_in = arrivals.groupby("to_asset_id")["move_year"].min()
    first_in = first_in[empty.reindex(first_in.index.astype(str)).fillna(False).to_numpy(bool)]
    first_move = (mv[mv["in_horizon"] & mv["to_asset_id"].isin(first_in.index)]
                  .sort_values("move_year", kind="stable").drop_duplicates("to_asset_id"))
    first_move = first_move[first_move["move_year"].to_numpy() == first_in.reindex(first_move["to_asset_id"]).to_numpy()]
    mv["reopens"] = mv.index.isin(first_move.index)  # the move that brings an empty building back into use
    reopened = assets.set_index(assets["asset_id"].astype(str)).reindex(first_in.index.astype(str))
    reopening = pd.DataFrame({
        "asset_id": first_in.index.astype(str), "year": first_in.to_numpy(int),
        "partner": reopened["partner"].to_numpy(),
        "item": (reopened["name"] if "name" in reopened else reopened.index.to_series()).to_numpy(),
        "gbp": reopened["gia_m2"].to_numpy(float) * settings.reopening_gbp_per_m2 * uplift})

    d = disposals[disposals["exit_year"] >= 0]
    years = np.arange(h)
    grid = d.loc[d.index.repeat(h)].assign(year=np.tile(years, len(d)))
    grid = grid[grid["year"] >= grid["exit_year"]]
    name = d["name"] if "name" in d else d["asset_id"]
    travel = _each_year(mv[mv["in_horizon"]], settings.excess_travel_years, h)
    held = _each_year(arrivals, h, h)
    avoided = _each_year(housed, h, h)
    km_t, fte_t = (travel["costed_km"] if "costed_km" in travel else travel["distance_km"]), travel["fte"]
    parts = [
        _lines(grid["year"], grid["partner"], "running_cost_saving", grid["asset_id"],
               grid["name"] if "name" in grid else grid["asset_id"], grid["running_cost_gbp"], settings),
        _lines(d["exit_year"], d["partner"], "double_running", d["asset_id"], name, d["double_running_gbp"], settings),
        _lines(d["receipt_year"], d["partner"], "capital_receipt", d["asset_id"], name, d["receipt_gbp"], settings),
        _lines(d["exit_year"], d["partner"], "backlog_avoided", d["asset_id"], name, d["backlog_avoided_gbp"],
               settings),
        _lines(np.full(len(d), h), d["partner"], "residual_value", d["asset_id"], name, d["residual_value_gbp"],
               settings),
        _lines(d["exit_year"], d["partner"], "lease_exit_cost", d["asset_id"], name, d["exit_cost_gbp"], settings),
        _lines(mv["move_year"], mv["partner"], "move_cost", mv["occupier_id"], mv["team"],
               mv["move_cost_gbp"] - mv["excess_travel_gbp"] * uplift, settings),
        _lines(travel["year"], travel["partner"], "excess_travel", travel["occupier_id"], travel["team"],
               settings.excess_travel_gbp_per_fte_km * fte_t * km_t * uplift, settings),
        _lines(held["year"], held["to_partner"], "new_space_running", held["occupier_id"], held["team"],
               held["new_space_running_gbp_a_year"], settings),
        _lines(reopening["year"], reopening["partner"], "reopening_cost", reopening["asset_id"], reopening["item"],
               reopening["gbp"], settings),
    ]
    parts.append(_lines(avoided["year"], avoided["partner"], "new_lease_avoided", avoided["occupier_id"],
                        avoided["team"], avoided["new_lease_avoided_gbp_a_year"], settings))
    charged = held[held["occupancy_charge_gbp_a_year"] > 0]
    parts += [_lines(charged["year"], charged["partner"], "occupancy_charge", charged["occupier_id"],
                     charged["team"], -charged["occupancy_charge_gbp_a_year"], settings),
              _lines(charged["year"], charged["to_partner"], "occupancy_charge", charged["occupier_id"],
                     charged["team"], charged["occupancy_charge_gbp_a_year"], settings)]
    flows = pd.concat(parts, ignore_index=True)
    in_horizon = (flows["year"] < h) | ((flows["category"] == "residual_value") & (flows["year"] == h))
    flows = flows[(flows["gbp"] != 0) & (flows["year"] >= 0) & in_horizon]
    order = {c: i for i, c in enumerate(CATEGORIES)}
    flows = flows.assign(_c=flows["category"].map(order)).sort_values(
        ["year", "_c", "partner", "item_id"], kind="stable").drop(columns="_c").reset_index(drop=True)
    flows["financial_year"] = [year_label(y, settings) for y in flows["year"]]
    flows["discount_factor"] = discount_factor(flows["year"].to_numpy(), settings)
    flows["pv_gbp"] = flows["gbp"] * flows["discount_factor"]
    flows = flows[list(FLOW_COLUMNS)]

    by_year = year_table(flows, settings)
    npv = float(flows["pv_gbp"].sum())
    payback = payback_year(flows, settings)
    sensitivity = sensitivity_table(flows, settings)
    ledger = partner_ledger(flows, mv, settings.sharing_rule)
    in_h = d["exit_year"] < h
    kept = assets[assets["decision"] != "dispose"]
    summary = {
        "npv_gbp": npv,
        "payback_year": None if payback is None else year_label(payback, settings),
        "annual_saving_gbp": float(d.loc[in_h, "running_cost_gbp"].sum()),
        "cashable_savings_gbp": float(flows.loc[flows["category"].isin(CASHABLE), "gbp"].sum()),
        "capital_receipts_gbp": float(flows.loc[flows["category"] == "capital_receipt", "gbp"].sum()),
        "one_off_costs_gbp": float(-flows.loc[flows["category"].isin(ONE_OFF), "gbp"].sum()),
        "residual_value_forgone_pv_gbp": float(-flows.loc[flows["category"] == "residual_value", "pv_gbp"].sum()),
        "residual_value_kept_pv_gbp": float(residual_value_gbp(kept, settings).sum()
                                            * discount_factor(h, settings)),
        "new_space_running_gbp_a_year": float(arrivals["new_space_running_gbp_a_year"].sum()),
        "occupancy_charges_gbp_a_year": float(arrivals["occupancy_charge_gbp_a_year"].sum()),
        "space_requests": {"requested": 0 if requests is None else int(len(requests)), "met": int(len(housed)),
                           "new_lease_avoided_gbp_a_year": float(housed["new_lease_avoided_gbp_a_year"].sum())},
        "buildings_reopened": int(len(reopening)),
        "disposals": int(len(disposals)),
        "moves": int(len(mv)),
        "npv_turns_negative": bool(sensitivity["turns_negative"].any()) if len(sensitivity) else False,
        "sharing_rule": settings.sharing_rule,
        "discount_rate": settings.discount_rate,
        "horizon_years": settings.horizon_years,
    }
    return Programme(disposals=disposals, moves=mv, flows=flows, by_year=by_year, ledger=ledger,
                     sensitivity=sensitivity, summary=summary, settings=settings, notes=notes,
                     requests=pd.DataFrame() if requests is None else requests.reset_index(drop=True))


def year_table(flows: pd.DataFrame, settings: FinanceSettings) -> pd.DataFrame:
    """Categories × financial years (and the end of the horizon, where residual values sit), with
    net, cumulative, discount factor, PV and cashable saving rows."""
    years = range(settings.horizon_years + 1)
    labels = [year_label(y, settings) for y in years]
    table = (flows.pivot_table(index="category", columns="year", values="gbp", aggfunc="sum")
             .reindex(index=list(CATEGORIES), columns=years).fillna(0.0))
    df = discount_factor(np.arange(settings.horizon_years + 1), settings)
    net = table.sum()
    extra = pd.DataFrame([net.to_numpy(), net.cumsum().to_numpy(), df, net.to_numpy() * df,
                          table.loc[list(CASHABLE)].sum().to_numpy()],
                         index=["net", "cumulative", "discount_factor", "pv", "cashable_saving"],
                         columns=table.columns)
    out = pd.concat([table, extra])
    out.columns = labels
    return out


def payback_year(flows: pd.DataFrame, settings: FinanceSettings) -> int | None:
    """First 0-based year whose cumulative undiscounted net cash is > 0 and stays ≥ 0
    to the end of the horizon (None if there is none). Residual values are not cash and
    do not count."""
    net = flows.groupby("year")["gbp"].sum().reindex(range(settings.horizon_years), fill_value=0.0)
    cumulative = net.cumsum().to_numpy()
    tol = 1e-6
    stays = np.flip(np.minimum.accumulate(np.flip(cumulative))) >= -tol
    ok = np.flatnonzero(stays & (cumulative > tol))
    return int(ok[0]) if len(ok) else None


def npv_gbp(flows: pd.DataFrame) -> float:
    """Net present value of a cash-flow table (sum of ``pv_gbp``)."""
    return float(flows["pv_gbp"].sum()) if len(flows) else 0.0


def _npv_with(flows: pd.DataFrame, settings: FinanceSettings, scale: dict[str, float] | None = None,
              rate: float | None = None) -> float:
    if flows.empty:
        return 0.0
    gbp = flows["gbp"] * flows["category"].astype(object).map(scale or {}).astype(float).fillna(1.0)
    s = settings if rate is None else replace(settings, discount_rate=rate)
    return float((gbp * discount_factor(flows["year"].to_numpy(), s)).sum())


def _change(relative: float) -> str:
    """A relative change in words ("30% lower", "10% higher"): no leading sign for a spreadsheet to misread."""
    if abs(relative) < 5e-4:
        return "as costed"
    return f"{abs(relative):.0%} {'lower' if relative < 0 else 'higher'}"


def sensitivity_table(flows: pd.DataFrame, settings: FinanceSettings) -> pd.DataFrame:
    """NPV with each major assumption at the low and high end of its range (a tornado table).

    ``receipts`` scales capital receipts, ``one_off_costs`` the transition cost
    categories, ``running_cost_saving`` the running-cost savings, ``residual_value``
    the residual values forgone; ``discount_rate``
    re-discounts every line. Rows are sorted by swing, largest first.
    """
    sens = settings.sensitivity
    base = _npv_with(flows, settings)
    rows = []
    for name, categories in (("receipts", ["capital_receipt"]), ("one_off_costs", list(ONE_OFF)),
                             ("running_cost_saving", ["running_cost_saving"]),
                             ("residual_value", ["residual_value"])):
        low, high = getattr(sens, name)
        at = [_npv_with(flows, settings, {c: 1 + v for c in categories}) for v in (low, high)]
        rows.append({"assumption": name, "base_setting": "as costed", "low_setting": _change(low),
                     "high_setting": _change(high), "npv_at_low_gbp": at[0], "npv_at_high_gbp": at[1]})
    low, high = sens.discount_rate
    rows.append({"assumption": "discount_rate", "base_setting": f"{settings.discount_rate:.2%}",
                 "low_setting": f"{low:.2%}", "high_setting": f"{high:.2%}",
                 "npv_at_low_gbp": _npv_with(flows, settings, rate=low),
                 "npv_at_high_gbp": _npv_with(flows, settings, rate=high)})
    table = pd.DataFrame(rows)
    table.insert(1, "base_npv_gbp", base)
    table["npv_min_gbp"] = table[["npv_at_low_gbp", "npv_at_high_gbp"]].min(axis=1)
    table["npv_max_gbp"] = table[["npv_at_low_gbp", "npv_at_high_gbp"]].max(axis=1)
    table["swing_gbp"] = table["npv_max_gbp"] - table["npv_min_gbp"]
    table["turns_negative"] = table["npv_min_gbp"] < 0
    return table.sort_values("swing_gbp", ascending=False, kind="stable").reset_index(drop=True)


def partner_ledger(flows: pd.DataFrame, moves: pd.DataFrame, rule: str) -> pd.DataFrame:
    """Each partner's own position (present values by category) and its position under ``rule``.

    * ``none``: each partner keeps its own receipts, savings and costs;
    * ``pro-rata``: everything is pooled, then shared by each partner's share
      of the floor area moved (m² of workspace its teams take up in new buildings);
    * ``pooled``: everything goes into one partnership pot (a row of its own);
      each partner's transfer is what it puts in (or draws out).

    ``transfer_pv_gbp`` = allocated − own: positive, the partner gains from the
    sharing; negative, it pays for others.
    """
    own = (flows.pivot_table(index="partner", columns="category", values="pv_gbp", aggfunc="sum")
           .reindex(columns=list(CATEGORIES)).fillna(0.0))
    partners = sorted(set(own.index) | set(moves.get("partner", pd.Series(dtype=str))))
    own = own.reindex(partners).fillna(0.0)
    own.columns = [f"{c}_pv_gbp" for c in own.columns]
    ledger = own.reset_index().rename(columns={"index": "partner"})
    ledger["own_net_pv_gbp"] = own.sum(axis=1).to_numpy()
    total = float(ledger["own_net_pv_gbp"].sum())
    moved = (moves.groupby("partner")["need_m2"].sum().reindex(partners).fillna(0.0)
             if len(moves) else pd.Series(0.0, index=partners))
    ledger["floor_area_moved_m2"] = moved.to_numpy()
    if rule == "none":
        ledger["share"] = np.nan
        ledger["allocated_net_pv_gbp"] = ledger["own_net_pv_gbp"]
    elif rule == "pro-rata":
        share = moved / moved.sum() if moved.sum() > 0 else pd.Series(1.0 / max(len(partners), 1), index=partners)
        ledger["share"] = share.to_numpy()
        ledger["allocated_net_pv_gbp"] = ledger["share"] * total
    elif rule == "pooled":
        ledger["share"] = np.nan
        ledger["allocated_net_pv_gbp"] = 0.0
    else:
        raise ValueError(f"unknown sharing rule {rule!r}")
    ledger["transfer_pv_gbp"] = ledger["allocated_net_pv_gbp"] - ledger["own_net_pv_gbp"]
    if rule == "pooled":
        pot = {c: 0.0 for c in ledger.columns if c.endswith("_gbp") or c.endswith("_m2")}
        pot.update({"partner": "Partnership pot", "allocated_net_pv_gbp": total, "transfer_pv_gbp": total,
                    "share": np.nan})
        ledger = pd.concat([ledger, pd.DataFrame([pot])], ignore_index=True)
    ledger["position"] = np.where(ledger["allocated_net_pv_gbp"] > 0.5, "net benefit",
                                  np.where(ledger["allocated_net_pv_gbp"] < -0.5, "net cost", "neutral"))
    return ledger



#: Columns of :func:`phasing_table`.
PHASING_COLUMNS = ("year", "financial_year", "disposals", "market_value_sold_gbp", "fte_moved", "receipts_gbp",
                   "capital_one_off_gbp", "capital_to_date_gbp", "budget_to_date_gbp", "funds_to_date_gbp",
                   "headroom_gbp", "within_limits")
#: Cash-flow categories that are capital one-off costs, paid from the capital budget and recycled receipts
#: (double running and the excess-travel allowance are revenue).
CAPITAL = ("move_cost", "lease_exit_cost", "reopening_cost")


def phasing_table(prog: Programme, delivery=None) -> pd.DataFrame:
    """The programme year by year against the delivery limits (``estate.scenario.Delivery``):
    disposals, market value of the freeholds sold, FTE moved, net receipts and capital one-off costs
    (cash), and the funding line: the capital budget made available so far plus the receipts
    received so far (``funds_to_date_gbp``) against the capital paid so far; ``within_limits`` is
    False in a year that breaks a partnership or partner limit or crosses the funding line."""
    s = prog.settings
    years = np.arange(s.horizon_years)
    d = prog.disposals[prog.disposals["exit_year"] >= 0]
    sold = d[d["tenure"] == "freehold"] if "tenure" in d else d.iloc[:0]
    mv_col = "market_value_gbp" if "market_value_gbp" in sold else None
    m = prog.moves[prog.moves["in_horizon"]] if "in_horizon" in prog.moves else prog.moves
    flows = prog.flows
    by_cat = flows.pivot_table(index="year", columns="category", values="gbp", aggfunc="sum").reindex(years).fillna(0.0)
    capital = -sum((by_cat[c] if c in by_cat else 0.0) for c in CAPITAL)
    receipts = by_cat["capital_receipt"] if "capital_receipt" in by_cat else pd.Series(0.0, index=years)
    budget = (delivery.capital_budget_gbp_per_year if delivery is not None else 0.0) * (years + 1.0)
    table = pd.DataFrame({
        "year": years, "financial_year": [year_label(y, s) for y in years],
        "disposals": d.groupby("exit_year").size().reindex(years, fill_value=0).to_numpy(),
        "market_value_sold_gbp": (sold.groupby("exit_year")[mv_col].sum().reindex(years, fill_value=0.0).to_numpy()
                                  if mv_col else np.zeros(len(years))),
        "fte_moved": m.groupby("move_year")["fte"].sum().reindex(years, fill_value=0.0).to_numpy(),
        "receipts_gbp": np.asarray(receipts, float),
        "capital_one_off_gbp": np.asarray(capital, float) * np.ones(len(years)),
    })
    table["capital_to_date_gbp"] = table["capital_one_off_gbp"].cumsum()
    table["budget_to_date_gbp"] = budget
    table["funds_to_date_gbp"] = budget + table["receipts_gbp"].cumsum()
    table["headroom_gbp"] = table["funds_to_date_gbp"] - table["capital_to_date_gbp"]
    ok = np.ones(len(years), bool)
    if delivery is not None:
        lim = delivery.limits
        tol = 1e-6
        if lim.disposals_per_year:
            ok &= table["disposals"].to_numpy() <= lim.disposals_per_year
        if lim.market_value_gbp_per_year:
            ok &= table["market_value_sold_gbp"].to_numpy() <= lim.market_value_gbp_per_year + tol
        if lim.fte_moved_per_year:
            ok &= table["fte_moved"].to_numpy() <= lim.fte_moved_per_year + tol
        for code, p in delivery.partners.items():
            mine_d = d[d["partner"] == code]
            if p.disposals_per_year:
                ok &= mine_d.groupby("exit_year").size().reindex(years, fill_value=0).to_numpy() <= p.disposals_per_year
            if p.market_value_gbp_per_year and mv_col:
                mine_s = sold[sold["partner"] == code]
                ok &= (mine_s.groupby("exit_year")[mv_col].sum().reindex(years, fill_value=0.0).to_numpy()
                       <= p.market_value_gbp_per_year + tol)
            if p.fte_moved_per_year:
                mine_m = m[m["partner"] == code]
                ok &= (mine_m.groupby("move_year")["fte"].sum().reindex(years, fill_value=0.0).to_numpy()
                       <= p.fte_moved_per_year + tol)
        if delivery.funded:
            ok &= table["headroom_gbp"].to_numpy() >= -1e-3
    table["within_limits"] = ok
    return table[list(PHASING_COLUMNS)]
