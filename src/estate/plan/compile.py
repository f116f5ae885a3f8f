"""The estate model: compile the register, teams, access table and scenario onto
the location engine, and read the solution back as a plan.

Compilation (:func:`compile_model`)
-----------------------------------
* **Sites** are the assets in the plan's scope (by default those housing a
  team) plus empty buildings of a host type, which stay and may take teams in.
  A site is forced to stay (``keep_reason``) when the register flags it
  statutory, listed or must-keep, its type is in ``keep_asset_types``, it
  houses a team of a ``fixed_services`` service, its lease cannot end inside
  the horizon, the scenario names it in ``must_keep``, or exiting it is worth
  nothing (:func:`estate.finance.asset_options`). ``must_exit`` sites are
  forced to go.
* **Zones** of the engine are movable teams, weighted by the workspace they
  need in m²; each is housed whole (single source) by its home or by a host
  building within ``max_move_km`` (and the same locality or authority, if the
  rule says so) that could ever hold it. A pair's cost is the team's move cost
  from :func:`estate.finance.move_cost_gbp`, discounted to its move year.
* **Site costs**: keeping a site forgoes its exit value (running costs saved,
  net receipt, backlog avoided, less exit costs, all present values), and the
  objective's offset subtracts every exit value, so the objective is the net
  present cost of the programme against today's estate: ``−NPV``.
* **Side constraints** (:class:`estate.locate.problem.SideConstraints`):
  each service's access standard, measured on the access table with the
  service's delivery points after the plan (sites of its asset types that
  stay, and sites its teams end up in); incompatible services never share a
  building; partner guardrails cap the floor area a partner disposes of.
  Capacity (workspace m²) is the engine's own.

A share standard that today's estate already misses is held at today's
share instead ("no worse than today"), and reported so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from shapely import linestrings

from estate._errors import EstateError
from estate.access.metrics import Accessibility, accessibility
from estate.finance import Programme, asset_options, cost_programme, discount_factor, gbp_millions, move_cost_gbp
from estate.locate.problem import CLOSED, EXTRA, FREE, OPEN, X, Y, LocationProblem, ProblemError, SideConstraints
from estate.locate.solve import Solution, Start, solve
from estate.scenario import PlanSettings, Scenario, Service

#: Columns added to the register's assets by the plan (``plan.gpkg`` layer ``assets``).
PLAN_ASSET_COLUMNS = (
    "decision",  # keep | hub | dispose
    "exit_year",  # financial year of a disposal, e.g. "2028/29" (blank when kept)
    "in_plan",  # the plan decided this asset (False: outside its scope, kept as it is)
    "keep_reason",  # why it had to stay (blank when free to go)
    "partners_after",  # ";"-joined partners of the teams it houses after the plan
    "teams_before", "teams_after",
    "fte_before", "fte_after",
    "capacity_m2",  # workspace it offers (m²)
    "need_m2_after",  # workspace its teams need after the plan (m²)
    "exit_value_pv_gbp",  # what exiting it is worth (present value), from the cost model
)

#: Columns of the ``moves`` layer (geometry: a line from the old to the new building).
MOVE_COLUMNS = ("occupier_id", "team", "partner", "service", "fte", "need_m2", "from_asset_id", "to_asset_id",
                "distance_km",  # straight-line distance moved
                "costed_km",  # distance its excess travel is costed at (the move radius for a confidential team)
                "move_year", "financial_year", "move_cost_gbp")


class PlanError(EstateError):
    """The scenario's plan settings do not fit the register (e.g. an unknown asset id)."""


class PlanInfeasible(EstateError):
    """No plan meets every rule; the message says which zones, service or rule stop it."""


@dataclass
class Model:
    """The estate model compiled onto the engine.

    ``sites`` (engine site order): ``asset_id``, ``partner``, ``status``,
    ``keep_reason``, ``exit_value_pv_gbp``, ``capacity_m2``, ``x_m``, ``y_m``.
    ``teams`` (engine zone order): the movable occupiers with ``need_m2``,
    ``home`` (site position) and ``move_year``. ``pairs``: ``team``, ``site``,
    ``distance_km``, ``move_cost_gbp`` (undiscounted), aligned with the
    problem's pair arrays. ``rules`` describes each side-constraint group.
    """

    problem: LocationProblem
    sites: pd.DataFrame
    teams: pd.DataFrame
    pairs: pd.DataFrame
    options: pd.DataFrame
    occupiers: pd.DataFrame
    start: Start | None
    rules: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    required_share: dict[str, float] = field(default_factory=dict)
    unreachable: dict[str, np.ndarray] = field(default_factory=dict)
    build_seconds: float = 0.0


@dataclass
class Plan:
    """The estate reading of a solution.

    ``assets``: the register's assets with :data:`PLAN_ASSET_COLUMNS`;
    ``moves``: :data:`MOVE_COLUMNS`; ``occupiers``: teams where they end up;
    ``after``: accessibility after the plan; ``programme``: the costed
    programme (:func:`estate.finance.cost_programme`); ``summary``: the
    headline figures written to ``plan_summary.json``.
    """

    assets: gpd.GeoDataFrame
    moves: pd.DataFrame
    occupiers: pd.DataFrame
    after: Accessibility
    programme: Programme
    solution: Solution
    summary: dict
    notes: list[str]
    shared_summary: dict | None = None  # the summary as written for sharing (set when the plan is written)


def team_need_m2(occupiers: pd.DataFrame, plan: PlanSettings) -> np.ndarray:
    """Workspace each team needs: desks for its FTE, plus public space if front facing (m²)."""
    ws = plan.workspace
    fte = occupiers["fte"].to_numpy(float)
    front = occupiers["front_facing"].fillna(False).to_numpy(bool)
    return fte * ws.desks_per_fte * ws.m2_per_desk + np.where(front, fte * ws.front_facing_m2_per_fte, 0.0)


def _delivers_by_asset(assets: pd.DataFrame, service: Service) -> np.ndarray:
    """Assets that deliver ``service`` whatever teams they house: of its types, or listing it; never a
    sensitive site for a service that is not sensitive (see :func:`estate.access.metrics.public_delivery`)."""
    by_type = assets["asset_type"].isin(service.asset_types).to_numpy()
    codes = assets["services"].fillna("").str.split(";")
    listed = codes.map(lambda c: bool(set(c) & set(service.services))).to_numpy(bool)
    public = service.sensitive | ~_flag(assets, "sensitive")
    return (by_type | listed) & public


def _flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A boolean column as an array (all false when the frame has no such column)."""
    if column not in frame:
        return np.zeros(len(frame), bool)
    return frame[column].fillna(False).astype(bool).to_numpy()


def _ids_known(ids: tuple[str, ...], known: pd.Index, key: str, scenario: Scenario) -> None:
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise PlanError(f"{scenario.path}, key 'plan.{key}': asset id(s) {', '.join(map(repr, unknown[:10]))} "
                        "are not in the register (ids look like 'CWAC-CW0123'; see register.gpkg)")


def compile_model(assets: pd.DataFrame, occupiers: pd.DataFrame, access: pd.DataFrame, zones: pd.DataFrame,
                  today: Accessibility, scenario: Scenario) -> Model:
    """Compile the estate model onto a :class:`~estate.locate.problem.LocationProblem`.

    Parameters
    ----------
    assets, occupiers
        The register's tables (assets with point geometry in EPSG:27700).
    access
        The access table (``zone_id, site_id, mode, minutes``).
    zones
        Demand zones: ``zone_id``, ``population``.
    today
        Accessibility of today's estate (:func:`estate.access.metrics.accessibility`).
    scenario
        The scenario: services, ``[plan]`` and ``[finance]``.

    Returns
    -------
    Model
    """
    started = time.perf_counter()
    plan, fin = scenario.plan, scenario.finance
    assets = assets.reset_index(drop=True)
    ids = pd.Index(assets["asset_id"].astype(str))
    _ids_known(plan.must_keep, ids, "must_keep", scenario)
    _ids_known(plan.must_exit, ids, "must_exit", scenario)
    occ = occupiers.reset_index(drop=True).copy()
    occ["need_m2"] = team_need_m2(occ, plan)
    # Teams of a sensitive service (a refuge's) never move: a public building they moved into would deliver
    # a sensitive service, and so become a sensitive site of its own.
    occ["fixed"] = occ["service"].isin(plan.fixed_services) | occ["service"].isin(scenario.privacy.sensitive_services)
    load = occ.groupby("asset_id")["need_m2"].sum().reindex(ids, fill_value=0.0).to_numpy()
    fixed_load = occ[occ["fixed"]].groupby("asset_id")["need_m2"].sum().reindex(ids, fill_value=0.0).to_numpy()
    occupied = ids.isin(occ["asset_id"])
    host = assets["asset_type"].isin(plan.host_asset_types).to_numpy() & ~assets["sensitive"].to_numpy(bool)
    in_plan = occupied if plan.scope == "occupied" else np.ones(len(assets), bool)

    options = asset_options(assets, fin)
    reason = np.full(len(assets), "", dtype=object)

    def why(mask, text) -> None:
        mask = np.asarray(mask, bool) & (reason == "")
        reason[mask] = text if isinstance(text, str) else np.asarray(text, dtype=object)[mask]

    why(assets["statutory"].to_numpy(bool), "statutory site")
    why(assets["listed"].to_numpy(bool), "listed building")
    why(assets["must_keep"].to_numpy(bool), "flagged must-keep in the register")
    why(ids.isin(plan.must_keep), "named in plan.must_keep")
    why(assets["asset_type"].isin(plan.keep_asset_types).to_numpy(),
        "operational building (" + assets["asset_type"].astype(str) + ")")
    fixed_service = occ[occ["fixed"]].groupby("asset_id")["service"].first().reindex(ids)
    why(fixed_service.notna().to_numpy(), "houses a " + fixed_service.fillna("").astype(str) + " team that stays")
    why(options["exit_year"].to_numpy() < 0, options["exit_note"].to_numpy())
    why(options["exit_value_pv_gbp"].to_numpy() <= 0, "exiting would cost more than it saves")
    why(~in_plan, "outside the plan's scope (houses no team)")
    must_exit = ids.isin(plan.must_exit)
    clash = must_exit & (reason != "") & in_plan
    if clash.any():
        raise PlanError(f"{scenario.path}, key 'plan.must_exit': "
                        + "; ".join(f"{i} must also stay ({r})" for i, r in zip(ids[clash], reason[clash])))

    engine = in_plan | (host & ~must_exit)
    pos = np.flatnonzero(engine)
    status = np.where(must_exit, CLOSED, np.where(reason != "", OPEN, FREE))[pos].astype(np.int8)
    exit_value = options["exit_value_pv_gbp"].to_numpy()[pos]
    ws = plan.workspace
    wsfte = assets["workspace_capacity_fte"].to_numpy(float)
    capacity = np.where(np.isfinite(wsfte), wsfte * ws.m2_per_desk, assets["gia_m2"].to_numpy(float) * ws.usable_share)
    capacity = np.maximum(capacity, load)
    xy = np.c_[assets.geometry.x.to_numpy(), assets.geometry.y.to_numpy()]
    sites = pd.DataFrame({
        "asset_id": ids[pos], "partner": assets["partner"].to_numpy()[pos], "status": status,
        "keep_reason": reason[pos], "exit_value_pv_gbp": exit_value, "capacity_m2": capacity[pos],
        "free_m2": capacity[pos] - fixed_load[pos], "host": host[pos], "x_m": xy[pos, 0], "y_m": xy[pos, 1],
        "gia_m2": assets["gia_m2"].to_numpy(float)[pos], "locality": assets["locality"].to_numpy()[pos],
        "authority": assets["authority"].to_numpy()[pos],
        "exit_year": options["exit_year"].to_numpy()[pos],
    })
    site_of_asset = pd.Series(np.arange(len(pos)), index=ids[pos])

    # Movable teams are the engine's zones.
    teams = occ[~occ["fixed"]].reset_index(drop=True)
    teams["home"] = site_of_asset.reindex(teams["asset_id"]).to_numpy()
    home_exit = sites["exit_year"].to_numpy()[teams["home"]]
    teams["move_year"] = np.where(home_exit >= 0, home_exit, fin.earliest_exit_year)
    pairs = _pairs(teams, sites, plan)
    pairs = _drop_incompatible_with_fixed(pairs, teams, sites, occ, plan)
    fte, need = teams["fte"].to_numpy(float), teams["need_m2"].to_numpy(float)
    t = pairs["team"].to_numpy()
    # A confidential team's excess travel is costed at the move radius, not at the distance it moves:
    # no figure, and no choice between its destinations, then depends on where its old building is.
    pairs["costed_km"] = np.where(_flag(teams, "confidential")[t], plan.max_move_km, pairs["distance_km"].to_numpy())
    cost = np.where(pairs["site"].to_numpy() == teams["home"].to_numpy()[t], 0.0,
                    move_cost_gbp(fte[t], need[t], pairs["costed_km"].to_numpy(), fin))
    pairs["move_cost_gbp"] = cost
    pv = cost * discount_factor(teams["move_year"].to_numpy()[t], fin)

    free = status == FREE
    fixed_cost = np.where(free, exit_value, 0.0)
    side = SideConstraints()
    side.offset = -float(exit_value[free].sum() + exit_value[status == CLOSED].sum())
    problem = LocationProblem.from_arrays(
        fixed_cost, need, t, pairs["site"].to_numpy(), pv / need[t],
        capacity=np.maximum(sites["free_m2"].to_numpy(), 0.0), status=status,
        site_ids=sites["asset_id"].to_numpy(), zone_ids=teams["occupier_id"].to_numpy())
    model = Model(problem=problem, sites=sites, teams=teams, pairs=pairs, options=options, occupiers=occ,
                  start=None)
    extra_start: list[np.ndarray] = []
    _access_rows(model, side, extra_start, assets, access, zones, today, scenario)
    _incompatible_rows(model, side, extra_start, plan)
    _guardrail_rows(model, side, plan)
    problem.side = side
    try:
        problem.check()
    except ProblemError as exc:
        raise PlanError(f"{scenario.path}: the estate model could not be built: {_in_estate_terms(str(exc))}") from None
    if not (status == CLOSED).any():
        home_pairs = np.flatnonzero(pairs["site"].to_numpy() == teams["home"].to_numpy()[t])
        model.start = Start(np.flatnonzero(status != CLOSED), home_pairs,
                            np.concatenate(extra_start) if extra_start else np.zeros(0))
    model.build_seconds = time.perf_counter() - started
    return model


#: The location engine's consistency checks, said in estate terms (the engine knows no estate vocabulary).
_ENGINE_TERMS = {
    "fixed costs must be finite and ≥ 0": "an asset's exit value is not a finite number (check its running cost, "
                                          "market value and backlog, and the [finance] rates)",
    "weights must be finite and > 0": "a team's workspace need is not a positive number (check its FTE and "
                                      "[plan.workspace])",
    "capacities must be ≥ 0": "a building's workspace capacity is negative (check its floor area and desk capacity)",
    "pair costs must be finite and ≥ 0": "a move's cost is not a finite number (check the [finance] move rates)",
}


def _in_estate_terms(message: str) -> str:
    for engine, estate in _ENGINE_TERMS.items():
        message = message.replace(engine, estate)
    return message


def _pairs(teams: pd.DataFrame, sites: pd.DataFrame, plan: PlanSettings) -> pd.DataFrame:
    """Each team's home, and host buildings within reach that could ever hold it."""
    hosts = np.flatnonzero(sites["host"].to_numpy() & (sites["status"].to_numpy() != CLOSED))
    xy = sites[["x_m", "y_m"]].to_numpy()
    home = teams["home"].to_numpy()
    tree = cKDTree(xy[hosts])
    # Teams sharing a home share their candidate list: query once per home.
    homes = np.unique(home)
    found = tree.query_ball_point(xy[homes], r=plan.max_move_km * 1000.0)
    counts = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(homes))
    cand_home = np.repeat(homes, counts)
    cand_site = hosts[np.concatenate([np.asarray(f, dtype=np.int64) for f in found])] if counts.sum() else \
        np.zeros(0, np.int64)
    per_home = pd.DataFrame({"home": cand_home, "site": cand_site})
    if plan.move_rule in ("locality", "authority"):
        col = sites[plan.move_rule].to_numpy()
        per_home = per_home[col[per_home["home"]] == col[per_home["site"]]]
    team_rows = pd.DataFrame({"team": np.arange(len(teams)), "home": home})
    moves = team_rows.merge(per_home, on="home")
    moves = moves[moves["site"] != moves["home"]]
    moves = moves[sites["free_m2"].to_numpy()[moves["site"]] >= teams["need_m2"].to_numpy()[moves["team"]] - 1e-9]
    if plan.max_destinations is not None and len(moves):
        d = xy[moves["site"].to_numpy()] - xy[moves["home"].to_numpy()]
        moves = moves.assign(_d=np.hypot(d[:, 0], d[:, 1])).sort_values(["team", "_d", "site"], kind="stable")
        moves = moves.groupby("team", sort=False).head(plan.max_destinations).drop(columns="_d")
    stay = team_rows.assign(site=team_rows["home"])
    pairs = pd.concat([stay, moves], ignore_index=True)[["team", "site"]]
    pairs = pairs.sort_values(["team", "site"], kind="stable").reset_index(drop=True)
    d = xy[pairs["site"]] - xy[home[pairs["team"]]]
    pairs["distance_km"] = np.hypot(d[:, 0], d[:, 1]) / 1000.0
    return pairs


def _drop_incompatible_with_fixed(pairs: pd.DataFrame, teams: pd.DataFrame, sites: pd.DataFrame,
                                  occ: pd.DataFrame, plan: PlanSettings) -> pd.DataFrame:
    """Moves into a building where a team that stays delivers an incompatible service."""
    if not plan.incompatible:
        return pairs
    fixed = occ[occ["fixed"]]
    site_pos = pd.Series(np.arange(len(sites)), index=sites["asset_id"])
    service = teams["service"].to_numpy()[pairs["team"]]
    moving = pairs["site"].to_numpy() != teams["home"].to_numpy()[pairs["team"]]
    drop = np.zeros(len(pairs), bool)
    for a, b in plan.incompatible:
        for here, mover in ((a, b), (b, a)):
            at = site_pos.reindex(fixed.loc[fixed["service"] == here, "asset_id"]).dropna().astype(int).to_numpy()
            drop |= moving & (service == mover) & np.isin(pairs["site"].to_numpy(), at)
    return pairs[~drop].reset_index(drop=True)


def _access_rows(model: Model, side: SideConstraints, extra_start: list[np.ndarray], assets: pd.DataFrame,
                 access: pd.DataFrame, zones: pd.DataFrame, today: Accessibility, scenario: Scenario) -> None:
    """Each service's standard over its delivery points after the plan (see module docstring)."""
    sites, teams, pairs = model.sites, model.teams, model.pairs
    zone_ids = zones["zone_id"].astype(str).to_numpy()
    population = zones["population"].to_numpy(float)
    zone_pos = pd.Series(np.arange(len(zone_ids)), index=zone_ids)
    site_of_asset = pd.Series(np.arange(len(sites)), index=sites["asset_id"])
    status = sites["status"].to_numpy()
    engine_asset = assets["asset_id"].isin(sites["asset_id"]).to_numpy()
    home_pair = pairs["site"].to_numpy() == teams["home"].to_numpy()[pairs["team"].to_numpy()]
    fixed = model.occupiers[model.occupiers["fixed"]]
    asset_pos = pd.Series(np.arange(len(assets)), index=assets["asset_id"].astype(str))
    by_mode: dict[str, tuple] = {}  # the access table's rows of a mode, as positions, read once

    def rows_of(mode: str) -> tuple:
        if mode not in by_mode:
            rows = access[access["mode"] == mode]
            site_ids = rows["site_id"].astype(str).to_numpy()
            zpos = zone_pos.reindex(rows["zone_id"].astype(str).to_numpy()).to_numpy()
            spos = site_of_asset.reindex(site_ids).to_numpy()
            apos = asset_pos.reindex(site_ids).to_numpy()
            ok = ~np.isnan(zpos) & ~np.isnan(apos)
            in_engine = ~np.isnan(spos)
            by_mode[mode] = (np.where(ok, zpos, 0).astype(int), np.where(ok, apos, 0).astype(int),
                             np.where(in_engine, spos, 0).astype(int), in_engine, ok,
                             rows["minutes"].to_numpy(float))
        return by_mode[mode]

    for service in scenario.services:
        std = service.standard
        if std is None:
            continue
        by_asset = _delivers_by_asset(assets, service)
        public_team = service.sensitive | ~_flag(fixed, "confidential")
        fixed_here = site_of_asset.reindex(
            fixed.loc[fixed["service"].isin(service.services) & public_team, "asset_id"]).dropna()
        # Sure delivery points: kept whatever happens.
        sure_asset = by_asset & ~engine_asset
        by_site = _engine_mask(by_asset, assets, sites)
        sure_site = (status == OPEN) & by_site
        sure_site[fixed_here.astype(int).to_numpy()] = True
        site_by_asset = by_site & (status == FREE)
        # Team delivery at a site nothing else makes sure of: d_s ≤ Σ x of the service's teams there.
        delivering = teams["service"].isin(service.services).to_numpy() & (
            service.sensitive | ~_flag(teams, "confidential"))
        of_service = delivering[pairs["team"].to_numpy()]
        team_pairs = np.flatnonzero(of_service & (status[pairs["site"].to_numpy()] != CLOSED))
        team_sites = np.unique(pairs["site"].to_numpy()[team_pairs])
        team_sites = team_sites[~sure_site[team_sites] & ~site_by_asset[team_sites]]
        d_cols = side.add_columns(np.zeros(len(team_sites)), 0.0, 1.0)
        d_of_site = np.full(len(sites), -1)
        d_of_site[team_sites] = d_cols
        tp = team_pairs[np.isin(pairs["site"].to_numpy()[team_pairs], team_sites)]
        row = np.searchsorted(team_sites, pairs["site"].to_numpy()[tp])
        side.add_rows(f"access:{service.code}", np.r_[np.arange(len(team_sites)), row],
                      np.r_[np.full(len(team_sites), EXTRA), np.full(len(tp), X)],
                      np.r_[d_cols, tp], np.r_[np.ones(len(team_sites)), -np.ones(len(tp))],
                      -np.inf, 0.0, len(team_sites))
        home_of_service = np.zeros(len(sites), bool)
        home_of_service[pairs["site"].to_numpy()[tp[home_pair[tp]]]] = True
        extra_start.append(home_of_service[team_sites].astype(float))

        # Travel times to the candidate and sure delivery points.
        zp, apos, spos_i, in_engine, ok, minutes = rows_of(std.mode)
        sure = sure_asset[apos] | (in_engine & sure_site[spos_i])
        cand_y = in_engine & site_by_asset[spos_i]
        cand_d = in_engine & (d_of_site[spos_i] >= 0)
        base = today.zone_service[today.zone_service["service"] == service.code].set_index("zone_id")["minutes"]
        if std.rule == "share":
            threshold = np.full(len(zone_ids), std.minutes)
        else:
            threshold = base.reindex(zone_ids).to_numpy(float) + 1e-6  # NaN: no site in reach today, no rule
        near = ok & (minutes <= threshold[zp])
        covered_sure = np.zeros(len(zone_ids), bool)
        covered_sure[zp[near & sure]] = True
        cy, cd = near & cand_y & ~covered_sure[zp], near & cand_d & ~covered_sure[zp]
        open_zone = np.unique(np.r_[zp[cy], zp[cd]])
        label = f"access:{service.code}"
        if std.rule == "share":
            today_share = float(today.summary.set_index("service").loc[service.code, "share_within"])
            required = std.share
            if today_share < required:
                required = today_share
                model.notes.append(f"{service.name}: today only {today_share:.1%} of people are within "
                                   f"{std.minutes:g} min by {std.mode} (standard {std.share:.0%}); the plan keeps "
                                   "it no worse than today")
            model.required_share[service.code] = required
            need = required * population.sum() - population[covered_sure].sum() - 1e-6 * population.sum()
            reach = covered_sure.copy()
            reach[open_zone] = True
            model.unreachable[service.code] = ~reach
            if need > population[open_zone].sum():  # even with every possible delivery point
                model.rules[label] = _rule_text(service, required) + " (cannot be met)"  # explain() stops here
                continue
            if need <= 0:
                model.rules[label] = _rule_text(service, required)
                continue
            u = side.add_columns(np.zeros(len(open_zone)), 0.0, 1.0)
            row_of_zone = np.full(len(zone_ids), -1)
            row_of_zone[open_zone] = np.arange(len(open_zone))
            # u_z − Σ y (type sites) − Σ d (team sites) ≤ 0, then Σ pop·u ≥ need.
            side.add_rows(label, np.r_[np.arange(len(open_zone)), row_of_zone[zp[cy]], row_of_zone[zp[cd]]],
                          np.r_[np.full(len(open_zone), EXTRA), np.full(cy.sum(), Y), np.full(cd.sum(), EXTRA)],
                          np.r_[u, spos_i[cy], d_of_site[spos_i[cd]]],
                          np.r_[np.ones(len(open_zone)), -np.ones(cy.sum() + cd.sum())], -np.inf, 0.0,
                          len(open_zone))
            side.add_rows(label, np.zeros(len(open_zone)), EXTRA, u, population[open_zone], need, np.inf, 1)
            # Start: zones covered today by a candidate point.
            covered_now = np.zeros(len(zone_ids), bool)
            covered_now[zp[cy]] = True
            covered_now[zp[cd & home_of_service[spos_i]]] = True
            extra_start.append(covered_now[open_zone].astype(float))
        else:
            model.required_share[service.code] = 1.0
            must = ~covered_sure & ~np.isnan(threshold)
            must_zone = np.flatnonzero(must)
            row_of_zone = np.full(len(zone_ids), -1)
            row_of_zone[must_zone] = np.arange(len(must_zone))
            cy, cd = cy & must[zp], cd & must[zp]
            side.add_rows(label, np.r_[row_of_zone[zp[cy]], row_of_zone[zp[cd]]],
                          np.r_[np.full(cy.sum(), Y), np.full(cd.sum(), EXTRA)],
                          np.r_[spos_i[cy], d_of_site[spos_i[cd]]], 1.0, 1.0, np.inf, len(must_zone))
        model.rules[label] = _rule_text(service, model.required_share[service.code])


def _engine_mask(by_asset: np.ndarray, assets: pd.DataFrame, sites: pd.DataFrame) -> np.ndarray:
    """``by_asset`` (aligned with assets) read in engine site order."""
    return pd.Series(by_asset, index=assets["asset_id"].astype(str)).reindex(sites["asset_id"]).to_numpy(bool)


def _rule_text(service: Service, required: float) -> str:
    std = service.standard
    if std.rule == "share":
        return f"{service.name}: {required:.1%} of people within {std.minutes:g} min by {std.mode.replace('_', ' ')}"
    return f"{service.name}: no zone further by {std.mode.replace('_', ' ')} than today"


def _incompatible_rows(model: Model, side: SideConstraints, extra_start: list[np.ndarray],
                       plan: PlanSettings) -> None:
    """Two services that may not share a building: h = 1 lets A in, h = 0 lets B in."""
    teams, pairs = model.teams, model.pairs
    service = teams["service"].to_numpy()[pairs["team"].to_numpy()]
    site = pairs["site"].to_numpy()
    home = site == teams["home"].to_numpy()[pairs["team"].to_numpy()]
    for a, b in plan.incompatible:
        in_a, in_b = np.flatnonzero(service == a), np.flatnonzero(service == b)
        both = np.intersect1d(site[in_a], site[in_b])
        if not len(both):
            continue
        today_a = np.isin(both, site[in_a[home[in_a]]])
        today_b = np.isin(both, site[in_b[home[in_b]]])
        keep = ~(today_a & today_b)  # already sharing today: left as it is, and said so
        for s in both[~keep]:
            model.notes.append(f"{model.sites['asset_id'].iat[s]} already houses both {a} and {b} teams; "
                               "the incompatibility rule leaves it as it is")
        both = both[keep]
        h = side.add_columns(np.zeros(len(both)), 0.0, 1.0, integer=True)
        ea, eb = in_a[np.isin(site[in_a], both)], in_b[np.isin(site[in_b], both)]
        ra, rb = np.searchsorted(both, site[ea]), np.searchsorted(both, site[eb])
        big_a = np.bincount(ra, minlength=len(both)).astype(float)
        big_b = np.bincount(rb, minlength=len(both)).astype(float)
        label = f"incompatible:{a}+{b}"
        # Σ x_A ≤ |A| h ;  Σ x_B + |B| h ≤ |B|
        side.add_rows(label, np.r_[ra, np.arange(len(both))], np.r_[np.full(len(ea), X), np.full(len(both), EXTRA)],
                      np.r_[ea, h], np.r_[np.ones(len(ea)), -big_a], -np.inf, 0.0, len(both))
        side.add_rows(label, np.r_[rb, np.arange(len(both))], np.r_[np.full(len(eb), X), np.full(len(both), EXTRA)],
                      np.r_[eb, h], np.r_[np.ones(len(eb)), big_b], -np.inf, big_b, len(both))
        model.rules[label] = f"{a} and {b} teams never share a building"
        extra_start.append(today_a[keep].astype(float))


def _guardrail_rows(model: Model, side: SideConstraints, plan: PlanSettings) -> None:
    """A partner disposes of at most a share of its in-plan floor area."""
    sites = model.sites
    for g in plan.guardrails:
        mine = (sites["partner"].to_numpy() == g.partner) & ~sites["keep_reason"].str.startswith("outside").to_numpy()
        if not mine.any():
            continue
        gia = sites["gia_m2"].to_numpy()
        status = sites["status"].to_numpy()
        free = np.flatnonzero(mine & (status == FREE))
        total, closed = gia[mine].sum(), gia[mine & (status == CLOSED)].sum()
        # Σ_free gia (1 − y) + closed ≤ share × total  ⇔  Σ_free gia·y ≥ Σ_free gia + closed − share × total
        label = f"guardrail:{g.partner}"
        side.add_rows(label, np.zeros(len(free)), Y, free, gia[free],
                      gia[free].sum() + closed - g.max_disposal_share * total, np.inf, 1)
        model.rules[label] = f"{g.partner} disposes of at most {g.max_disposal_share:.0%} of its floor area"


def explain(model: Model, scenario: Scenario, zones: pd.DataFrame) -> str:
    """Reasons, in estate terms, that no plan can meet the rules ("" if none is seen before solving)."""
    reasons = []
    teams, pairs, sites = model.teams, model.pairs, model.sites
    status = sites["status"].to_numpy()
    usable = status[pairs["site"].to_numpy()] != CLOSED
    has_place = np.zeros(len(teams), bool)
    has_place[pairs["team"].to_numpy()[usable]] = True
    plan = scenario.plan
    for t in np.flatnonzero(~has_place)[:10]:
        team = teams.iloc[t]
        home = sites.iloc[int(team["home"])]
        within = {"distance": "", "locality": f" in {home['locality']}",
                  "authority": f" in authority {home['authority']}"}[plan.move_rule]
        reasons.append(f"team {team['team']!r} of {team['partner']} ({team['fte']:g} FTE, {team['need_m2']:,.0f} m²) "
                       f"must leave {home['asset_id']} (plan.must_exit) but fits in no retained host building "
                       f"within {plan.max_move_km:g} km{within}")
    if (~has_place).sum() > 10:
        reasons.append(f"… and {(~has_place).sum() - 10} more teams with nowhere to go")
    for label, rule in model.rules.items():
        if rule.endswith("(cannot be met)"):
            reasons.append(_unmet_access(label, model, scenario, zones))
    return "; ".join(reasons)


def _unmet_access(label: str, model: Model, scenario: Scenario, zones: pd.DataFrame) -> str:
    code = label.split(":", 1)[1]
    service = next(s for s in scenario.services if s.code == code)
    std = service.standard
    closed = (model.sites["status"] == CLOSED).any()
    lost = zones[model.unreachable[code]]
    ids = ", ".join(lost["zone_id"].astype(str).head(8)) + (" …" if len(lost) > 8 else "")
    return (f"service {code}: {len(lost)} zones ({ids}; {lost['population'].sum():,.0f} people) have no site within "
            f"{std.minutes:g} minutes by {std.mode.replace('_', ' ')} that could deliver {code} "
            f"{'once the must-exit sites go' if closed else 'even today'}, so at most "
            f"{1 - lost['population'].sum() / zones['population'].sum():.1%} can be covered against "
            f"{model.required_share[code]:.1%} required")


def _diagnose(model: Model, scenario: Scenario) -> str:
    """Which rule groups, dropped one at a time, let a plan exist."""
    side = model.problem.side
    culprits = []
    for group in side.groups:
        trial = LocationProblem(**{**model.problem.__dict__, "side": side.without({group})})
        sol = solve(trial, "min-cost", single_source=True, time_limit=min(30.0, scenario.plan.time_limit_seconds),
                    gap=0.5, solver=scenario.plan.solver)
        if sol.status != "infeasible":
            culprits.append(model.rules.get(group, group))
    if culprits:
        return ("no plan meets every rule together; it becomes possible without any one of: "
                + "; ".join(culprits))
    return ("no plan meets every rule together (capacity, access standards, must-keep and must-exit sites and "
            "the move radius combined); no single rule group is the cause on its own")


def solve_model(model: Model, scenario: Scenario, zones: pd.DataFrame,
                progress: Callable[[str], None] | None = None) -> Solution:
    """Solve the compiled model; raise :class:`PlanInfeasible` with the reasons when no plan exists."""
    say = progress or (lambda _m: None)
    reason = explain(model, scenario, zones)
    if reason:
        raise PlanInfeasible(reason)
    p = model.problem
    say(f"solving: {int((p.status == FREE).sum()):,} buildings free to go, {p.n_zones:,} movable teams, "
        f"{len(p.pair_zone):,} team-building options, {p.side.n_cols:,} extra columns "
        f"({scenario.plan.solver}, gap {scenario.plan.gap:g}, limit {scenario.plan.time_limit_seconds:g} s)")
    sol = solve(p, "min-cost", single_source=True, time_limit=scenario.plan.time_limit_seconds,
                gap=scenario.plan.gap, solver=scenario.plan.solver, start=model.start)
    if sol.status == "infeasible" or sol.objective is None:
        if sol.status == "time_limit":
            raise PlanInfeasible(f"no plan found within the time limit of {scenario.plan.time_limit_seconds:g} s "
                                 "(raise plan.time_limit_seconds)")
        raise PlanInfeasible(_diagnose(model, scenario))
    return sol


def read_solution(model: Model, sol: Solution, assets: gpd.GeoDataFrame, access: pd.DataFrame,
                  zones: pd.DataFrame, today: Accessibility, scenario: Scenario) -> Plan:
    """The estate reading of a solution: decisions, moves, access after and cash flows."""
    fin = scenario.finance
    sites, teams, occ = model.sites, model.teams, model.occupiers
    assets = assets.reset_index(drop=True)
    ids = assets["asset_id"].astype(str)
    kept_site = np.zeros(len(sites), bool)
    kept_site[sol.open_sites] = True
    disposed = set(sites.loc[~kept_site, "asset_id"])
    # Where each movable team ends up.
    dest = np.full(len(teams), -1)
    a = sol.assignments
    dest[a["zone"].to_numpy()] = a["site"].to_numpy()
    after = occ.copy()
    movable = ~after["fixed"].to_numpy()
    after.loc[movable, "asset_id"] = sites["asset_id"].to_numpy()[dest]
    moved = dest != teams["home"].to_numpy()

    xy = pd.DataFrame({"x": assets.geometry.x.to_numpy(), "y": assets.geometry.y.to_numpy()}, index=ids)
    mv = teams[moved].copy()
    mv["from_asset_id"] = mv["asset_id"]
    mv["to_asset_id"] = sites["asset_id"].to_numpy()[dest[moved]]
    key = pd.MultiIndex.from_arrays([model.pairs["team"], model.pairs["site"]])
    pair_row = pd.Series(np.arange(len(model.pairs)), index=key).reindex(
        pd.MultiIndex.from_arrays([np.flatnonzero(moved), dest[moved]])).to_numpy()
    mv["distance_km"] = model.pairs["distance_km"].to_numpy()[pair_row]
    mv["costed_km"] = model.pairs["costed_km"].to_numpy()[pair_row]
    mv = mv.reset_index(drop=True)

    # Decisions.
    out = assets.copy()
    in_plan = ~ids.isin(sites.loc[sites["keep_reason"].str.startswith("outside"), "asset_id"]) & \
        ids.isin(sites["asset_id"])
    partners_after = after.groupby("asset_id")["partner"].agg(lambda p: ";".join(sorted(set(p))))
    out["partners_after"] = ids.map(partners_after).fillna("")
    n_partners = out["partners_after"].str.split(";").map(lambda p: len([x for x in p if x]))
    is_disposed = ids.isin(disposed).to_numpy()
    out["decision"] = np.where(is_disposed, "dispose", np.where(n_partners >= 2, "hub", "keep"))
    # The programme: phasing, cash flows and headline figures from the one cost model.
    prog = cost_programme(out, mv, fin)
    out["exit_year"] = ids.map(prog.disposals.set_index("asset_id")["financial_year"]).astype(object).fillna("")
    opt = model.options.set_index("asset_id")
    out["in_plan"] = in_plan.to_numpy()
    out["keep_reason"] = ids.map(sites.set_index("asset_id")["keep_reason"]).fillna(
        "outside the plan's scope (houses no team)")
    out["teams_before"] = ids.map(occ.groupby("asset_id").size()).fillna(0).astype(int)
    out["teams_after"] = ids.map(after.groupby("asset_id").size()).fillna(0).astype(int)
    out["fte_before"] = ids.map(occ.groupby("asset_id")["fte"].sum()).fillna(0.0)
    out["fte_after"] = ids.map(after.groupby("asset_id")["fte"].sum()).fillna(0.0)
    out["capacity_m2"] = ids.map(sites.set_index("asset_id")["capacity_m2"])
    out["need_m2_after"] = ids.map(after.groupby("asset_id")["need_m2"].sum()).fillna(0.0)
    out["exit_value_pv_gbp"] = opt["exit_value_pv_gbp"].reindex(ids).to_numpy()
    # Hubs today, for the summary: assets housing teams of two or more partners now.
    before_partners = occ.groupby("asset_id")["partner"].nunique()
    hubs_today = int((before_partners >= 2).sum())

    kept_assets = assets[~is_disposed]
    after_access = accessibility(access, zones, kept_assets, after, scenario.services, baseline=today.zone_service)

    pm = prog.moves
    p0 = xy.loc[pm["from_asset_id"]].to_numpy()
    p1 = xy.loc[pm["to_asset_id"]].to_numpy()
    geometry = linestrings(np.stack([p0, p1], axis=1)) if len(pm) else []
    moves = gpd.GeoDataFrame(pm[list(MOVE_COLUMNS)], geometry=geometry, crs=assets.crs)
    money = prog.summary
    summary = {
        "scenario": scenario.name,
        "scenario_file": str(scenario.path),
        "status": sol.status,
        "objective": sol.objective,
        "objective_note": "net present cost of the programme against keeping today's estate (= −npv_gbp)",
        "bound": sol.bound,
        "gap": sol.gap,
        "solver": sol.solver,
        "assets_before": int(len(assets)),
        "assets_in_plan": int(in_plan.sum()),
        "kept": int((~is_disposed).sum()),
        "hubs": int((out["decision"] == "hub").sum()),
        "hubs_today": hubs_today,
        "disposed": int(is_disposed.sum()),
        "teams_moved": int(moved.sum()),
        "fte_moved": float(mv["fte"].sum()),
        "floor_area_released_m2": float(assets.loc[is_disposed, "gia_m2"].sum()),
        "running_costs_estimated": int(assets["running_cost_estimated"].fillna(False).astype(bool).sum())
        if "running_cost_estimated" in assets else 0,
        "annual_saving_gbp": money["annual_saving_gbp"],
        "npv_gbp": money["npv_gbp"],
        "payback_year": money["payback_year"],
        "capital_receipts_gbp": money["capital_receipts_gbp"],
        "one_off_costs_gbp": money["one_off_costs_gbp"],
        "cashable_savings_gbp": money["cashable_savings_gbp"],
        "npv_turns_negative": money["npv_turns_negative"],
        "sharing_rule": money["sharing_rule"],
        "horizon_years": fin.horizon_years,
        "discount_rate": fin.discount_rate,
        "access": _access_summary(today, after_access, model, scenario),
        "build_seconds": model.build_seconds + sol.build_seconds,
        "solve_seconds": sol.solve_seconds,
        "model": {"buildings_free": int((model.problem.status == FREE).sum()),
                  "buildings_forced_keep": int((model.problem.status == OPEN).sum()),
                  "buildings_must_exit": int((model.problem.status == CLOSED).sum()),
                  "movable_teams": int(model.problem.n_zones),
                  "team_building_options": int(len(model.pairs)), **sol.stats},
        "rules": list(model.rules.values()),
        "plan_settings": _settings(scenario),
        "access_caveat": _access_caveat(scenario),
        "notes": list(model.notes) + prog.notes,
    }
    return Plan(assets=out, moves=moves, occupiers=after, after=after_access, programme=prog, solution=sol,
                summary=summary, notes=list(model.notes))


def _settings(scenario: Scenario) -> dict:
    """The scenario's [plan] settings as plain values, for the record and the report."""
    from dataclasses import asdict

    out = asdict(scenario.plan)
    workspace = out.pop("workspace")
    out.update({f"workspace.{k}": v for k, v in workspace.items()})
    out["guardrails"] = {g["partner"]: g["max_disposal_share"] for g in out["guardrails"]}
    out["incompatible"] = [list(p) for p in out["incompatible"]]
    for key in ("keep_asset_types", "host_asset_types", "fixed_services", "must_keep", "must_exit"):
        out[key] = list(out[key])
    return out


def _access_caveat(scenario: Scenario) -> str:
    a = scenario.access
    if a.engine == "straight":
        return (f"Travel times are straight-line distance × {a.circuity:g} ÷ an average speed per mode (plus "
                "waiting time for public transport), an approximation of real journeys; use the network or matrix "
                "engine for routed times.")
    return f"Travel times come from the {a.engine} engine (cutoff {a.cutoff_minutes:g} min)."


def headline_figures(summary: dict) -> list[tuple[str, str]]:
    """The plan's headline figures as (label, text), from ``plan_summary.json``: one wording for
    the plan map's panel and the board report."""
    gap = summary.get("gap")
    return [
        ("Assets", f"{summary['assets_before']:,} → {summary['kept']:,} kept"),
        ("Disposed of", f"{summary['disposed']:,}"),
        ("Hubs", f"{summary['hubs']:,} ({summary.get('hubs_today', 0):,} shared today)"),
        ("Teams moved", f"{summary.get('teams_moved', 0):,} ({summary.get('fte_moved', 0):,.0f} FTE)"),
        ("Floor area released", f"{summary.get('floor_area_released_m2', 0):,.0f} m²"),
        ("Annual saving", gbp_millions(summary["annual_saving_gbp"])),
        ("Capital receipts", gbp_millions(summary["capital_receipts_gbp"])),
        ("One-off costs", gbp_millions(summary.get("one_off_costs_gbp"))),
        ("NPV", f"{gbp_millions(summary['npv_gbp'])} over {summary.get('horizon_years', '')} years"),
        ("Payback", summary.get("payback_year") or "not within the horizon"),
        ("Optimiser", f"{summary['status']}, gap {'n/a' if gap is None else f'{gap:.2%}'}"),
    ]


def _access_summary(today: Accessibility, after: Accessibility, model: Model, scenario: Scenario) -> dict:
    before = today.summary.set_index("service") if len(today.summary) else pd.DataFrame()
    now = after.summary.set_index("service") if len(after.summary) else pd.DataFrame()
    out = {}
    for service in scenario.services:
        std = service.standard
        if std is None:
            continue
        standard = ({"mode": std.mode, "minutes": std.minutes, "share": std.share} if std.rule == "share"
                    else {"mode": std.mode, "rule": "no_worse"})
        share_after = float(now.loc[service.code, "share_within"])
        required = model.required_share.get(service.code, std.share if std.rule == "share" else 1.0)
        out[service.code] = {
            "name": service.name,
            "standard": standard,
            "share_before": float(before.loc[service.code, "share_within"]),
            "share_after": share_after,
            "required_share": required,
            "met": bool(share_after >= required - 1e-6),
            "sites_before": int(before.loc[service.code, "sites"]),
            "sites_after": int(now.loc[service.code, "sites"]),
        }
    return out


def make_plan(assets: gpd.GeoDataFrame, occupiers: pd.DataFrame, access: pd.DataFrame, zones: pd.DataFrame,
              today: Accessibility, scenario: Scenario, progress: Callable[[str], None] | None = None) -> Plan:
    """Compile, solve and read back the estate model (see the module docstring)."""
    say = progress or (lambda _m: None)
    say("compiling the estate model")
    model = compile_model(assets, occupiers, access, zones, today, scenario)
    sol = solve_model(model, scenario, zones, progress=say)
    return read_solution(model, sol, assets, access, zones, today, scenario)
