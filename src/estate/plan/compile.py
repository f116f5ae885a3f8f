"""Compile the register, teams and scenario onto the location engine: sites, movable teams and
the pairs between them, with the costs of the one cost model; the rule families in
:mod:`estate.plan.rules` then add their columns, rows and start values.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from estate.access.metrics import Accessibility
from estate.finance import asset_options, move_cost_gbp
from estate.finance.costs import move_cost_pv_gbp, new_space_pv_gbp
from estate.locate.problem import CLOSED, FREE, OPEN, Y, LocationProblem, ProblemError, SideConstraints
from estate.locate.solve import Start
from estate.plan.model import Model, PlanError, flag
from estate.plan.requests import add_requests, lease_pv_gbp, price_requests
from estate.plan.rules import access, guardrails, phasing, reopening, sharing
from estate.plan.start import greedy_start
from estate.scenario import PlanSettings, Scenario

#: Keep reason of an asset outside the plan's scope: it houses no team, and it is investment estate
#: (``scope = "buildings"``) or the scope is ``"occupied"``.
OUTSIDE_SCOPE = "outside the plan's scope (houses no team)"


def team_need_m2(occupiers: pd.DataFrame, plan: PlanSettings) -> np.ndarray:
    """Workspace each team needs: desks for its FTE, plus public space if front facing (m²)."""
    ws = plan.workspace
    fte = occupiers["fte"].to_numpy(float)
    front = occupiers["front_facing"].fillna(False).to_numpy(bool)
    return fte * ws.desks_per_fte * ws.m2_per_desk + np.where(front, fte * ws.front_facing_m2_per_fte, 0.0)


def _ids_known(ids: tuple[str, ...], known: pd.Index, key: str, scenario: Scenario) -> None:
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise PlanError(f"{scenario.path}, key 'plan.{key}': asset id(s) {', '.join(map(repr, unknown[:10]))} "
                        "are not in the register (ids look like 'CWAC-CW0123'; see register.gpkg)")


def _keep_reasons(assets: pd.DataFrame, occ: pd.DataFrame, options: pd.DataFrame, ids: pd.Index,
                  in_scope: np.ndarray, must_exit: np.ndarray, plan: PlanSettings) -> np.ndarray:
    """Why each asset must stay ("" when it is free to go), the first reason that applies."""
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
    # A building named in must_exit goes even when exiting costs more than it saves.
    why((options["exit_value_pv_gbp"].to_numpy() <= 0) & ~must_exit, "exiting would cost more than it saves")
    why(~in_scope, OUTSIDE_SCOPE)
    return reason


def _sites(assets: pd.DataFrame, occ: pd.DataFrame, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The engine's sites (see :class:`~estate.plan.model.Model`) and every asset's exit options."""
    plan, fin = scenario.plan, scenario.finance
    ids = pd.Index(assets["asset_id"].astype(str))
    _ids_known(plan.must_keep, ids, "must_keep", scenario)
    _ids_known(plan.must_exit, ids, "must_exit", scenario)
    occupied = ids.isin(occ["asset_id"])
    must_exit = ids.isin(plan.must_exit)
    # An empty building named in must_exit is decided (and goes), whatever the scope.
    if plan.scope == "occupied":
        in_scope = occupied.copy()
    elif plan.scope == "buildings":  # every asset but the empty investment estate (land, car parks, ...)
        in_scope = occupied | ~assets["asset_type"].isin(plan.investment_asset_types).to_numpy()
    else:
        in_scope = np.ones(len(assets), bool)
    in_scope |= must_exit
    host = assets["asset_type"].isin(plan.host_asset_types).to_numpy() & ~assets["sensitive"].to_numpy(bool)
    options = asset_options(assets, fin)
    reason = _keep_reasons(assets, occ, options, ids, in_scope, must_exit, plan)
    clash = must_exit & (reason != "")
    if clash.any():
        raise PlanError(f"{scenario.path}, key 'plan.must_exit': "
                        + "; ".join(f"{i} must also stay ({r})" for i, r in zip(ids[clash], reason[clash])))
    pos = np.flatnonzero(in_scope | (host & ~must_exit))
    status = np.where(must_exit, CLOSED, np.where(reason != "", OPEN, FREE))[pos].astype(np.int8)
    ws = plan.workspace
    load = occ.groupby("asset_id")["need_m2"].sum().reindex(ids, fill_value=0.0).to_numpy()
    fixed_load = occ[occ["fixed"]].groupby("asset_id")["need_m2"].sum().reindex(ids, fill_value=0.0).to_numpy()
    wsfte = assets["workspace_capacity_fte"].to_numpy(float)
    capacity = np.where(np.isfinite(wsfte), wsfte * ws.m2_per_desk,
                        assets["gia_m2"].to_numpy(float) * ws.usable(assets["asset_type"]))
    capacity = np.maximum(capacity, load)
    sites = pd.DataFrame({
        "asset_id": ids[pos], "partner": assets["partner"].to_numpy()[pos],
        "asset_type": assets["asset_type"].to_numpy()[pos], "status": status,
        "keep_reason": reason[pos], "in_scope": in_scope[pos], "vacant": ~occupied[pos],
        "exit_value_pv_gbp": options["exit_value_pv_gbp"].to_numpy()[pos], "capacity_m2": capacity[pos],
        "free_m2": capacity[pos] - fixed_load[pos], "host": host[pos],
        "x_m": assets.geometry.x.to_numpy()[pos], "y_m": assets.geometry.y.to_numpy()[pos],
        "gia_m2": assets["gia_m2"].to_numpy(float)[pos], "locality": assets["locality"].to_numpy()[pos],
        "authority": assets["authority"].to_numpy()[pos], "exit_year": options["exit_year"].to_numpy()[pos],
        "must_exit": must_exit[pos],
    })
    return sites, options


def suitable(teams: pd.DataFrame, sites: pd.DataFrame, team: np.ndarray, site: np.ndarray,
             plan: PlanSettings) -> np.ndarray:
    """Whether each (team, site) move is allowed by ``plan.suitability`` (the building types a
    service's teams may move into) and ``plan.public_facing_asset_types`` (the only types a
    front-facing team may move into, when given)."""
    service = teams["service"].to_numpy()[team]
    kind = sites["asset_type"].to_numpy()[site]
    ok = np.ones(len(team), bool)
    for code, types in plan.suitability.items():
        ok &= (service != code) | np.isin(kind, types)
    if plan.public_facing_asset_types:
        ok &= ~flag(teams, "front_facing")[team] | np.isin(kind, plan.public_facing_asset_types)
    return ok


def _pairs(teams: pd.DataFrame, sites: pd.DataFrame, plan: PlanSettings) -> pd.DataFrame:
    """Each team's home, and the host buildings within reach that could ever hold it and suit it."""
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
        # An unknown locality (or authority) matches no other building's, not even another unknown one.
        col = sites[plan.move_rule].astype(object).to_numpy()
        known = pd.notna(col)
        same = (col[per_home["home"]] == col[per_home["site"]]) & known[per_home["home"]]
        per_home = per_home[same | ~known[per_home["home"]]]
    team_rows = pd.DataFrame({"team": np.arange(len(teams)), "home": home})
    moves = team_rows.merge(per_home, on="home")
    moves = moves[moves["site"] != moves["home"]]
    moves = moves[sites["free_m2"].to_numpy()[moves["site"]] >= teams["need_m2"].to_numpy()[moves["team"]] - 1e-9]
    moves = moves[suitable(teams, sites, moves["team"].to_numpy(), moves["site"].to_numpy(), plan)]
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


def _price_pairs(pairs: pd.DataFrame, teams: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """What each move costs in present value: the move itself (one-off and the excess-travel
    allowance) and the extra running cost of the space it takes up in the receiving building."""
    fin, plan = scenario.finance, scenario.plan
    t = pairs["team"].to_numpy()
    fte, need, year = (teams[c].to_numpy(float)[t] for c in ("fte", "need_m2", "move_year"))
    # A confidential team's excess travel is costed at the move radius, not at the distance it moves:
    # no figure, and no choice between its destinations, then depends on where its old building is.
    pairs["costed_km"] = np.where(flag(teams, "confidential")[t], plan.max_move_km, pairs["distance_km"].to_numpy())
    stays = pairs["site"].to_numpy() == teams["home"].to_numpy()[t]
    km = pairs["costed_km"].to_numpy()
    pairs["move_cost_gbp"] = np.where(stays, 0.0, move_cost_gbp(fte, need, km, fin))
    pairs["pv_gbp"] = np.where(stays, 0.0, move_cost_pv_gbp(fte, need, km, year, fin) + new_space_pv_gbp(need, year, fin))
    return pairs


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


def _decide_alone(model: Model, side: SideConstraints) -> None:
    """Settle the buildings nothing else depends on: free to go, worth exiting, housing no team, taking
    none in and in no rule (an empty site outside every access standard and guardrail). Exiting each
    is best whatever else the plan does, so they are marked to go (``decided_alone``) and the solver
    never branches on them."""
    problem, sites = model.problem, model.sites
    touched = np.zeros(len(sites), bool)
    touched[problem.pair_site] = True
    for block in side.blocks:
        touched[block["index"][block["part"] == Y]] = True
    alone = (problem.status == FREE) & ~touched
    problem.status = np.where(alone, CLOSED, problem.status).astype(np.int8)
    sites["status"] = problem.status
    sites["decided_alone"] = alone


def compile_model(assets: pd.DataFrame, occupiers: pd.DataFrame, access_table: pd.DataFrame, zones: pd.DataFrame,
                  today: Accessibility, scenario: Scenario) -> Model:
    """Compile the estate model onto a :class:`~estate.locate.problem.LocationProblem`.

    Parameters
    ----------
    assets, occupiers
        The register's tables (assets with point geometry in EPSG:27700).
    access_table
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
        The problem with its side constraints and a start (today's estate) whenever today's
        estate is itself a plan (no building must go).
    """
    started = time.perf_counter()
    plan, fin = scenario.plan, scenario.finance
    assets = assets.reset_index(drop=True)
    occ = occupiers.reset_index(drop=True).copy()
    occ["need_m2"] = team_need_m2(occ, plan)
    # Teams of a sensitive service (a refuge's) never move: a public building they moved into would deliver
    # a sensitive service, and so become a sensitive site of its own.
    occ["fixed"] = occ["service"].isin(plan.fixed_services) | occ["service"].isin(scenario.privacy.sensitive_services)
    sites, options = _sites(assets, occ, scenario)
    site_of_asset = pd.Series(np.arange(len(sites)), index=sites["asset_id"])
    status = sites["status"].to_numpy()

    # Movable teams are the engine's zones. A team leaving a building that may go moves in that
    # building's exit year; one leaving a building that stays moves in the programme's first exit year.
    teams = occ[~occ["fixed"]].reset_index(drop=True)
    teams["home"] = site_of_asset.reindex(teams["asset_id"]).to_numpy()
    home_exit = sites["exit_year"].to_numpy()[teams["home"]]
    home_may_go = status[teams["home"]] != OPEN
    teams["move_year"] = np.where(home_may_go & (home_exit >= 0), home_exit, fin.earliest_exit_year)
    pairs = _pairs(teams, sites, plan)
    sites, teams, pairs = add_requests(sites, teams, pairs, assets, scenario, suitable)
    status = sites["status"].to_numpy()
    pairs = sharing.drop_moves_into_clashes(pairs, teams, sites, occ, plan)
    pairs = price_requests(_price_pairs(pairs, teams, scenario), teams, scenario)
    need = teams["need_m2"].to_numpy(float)
    t = pairs["team"].to_numpy()

    free = status == FREE
    exit_value = sites["exit_value_pv_gbp"].to_numpy()
    side = SideConstraints()
    # Against today's estate, where every space request takes a new lease.
    side.offset = -float(exit_value[free].sum() + exit_value[status == CLOSED].sum()
                         + lease_pv_gbp(teams, scenario).sum())
    problem = LocationProblem.from_arrays(
        np.where(free, exit_value, 0.0), need, t, pairs["site"].to_numpy(), pairs["pv_gbp"].to_numpy() / need[t],
        capacity=np.maximum(sites["free_m2"].to_numpy(), 0.0), status=status,
        site_ids=sites["asset_id"].to_numpy(), zone_ids=teams["occupier_id"].to_numpy())
    model = Model(problem=problem, sites=sites, teams=teams, pairs=pairs, options=options, occupiers=occ,
                  start=None)
    # Each rule family adds its columns (with their start values), rows and descriptions.
    access.add(model, side, assets, access_table, zones, today, scenario)
    sharing.add(model, side, plan)
    guardrails.add(model, side, plan)
    reopening.add(model, side, scenario)
    phasing.add(model, side, assets, scenario)
    _decide_alone(model, side)
    problem.side = side
    try:
        problem.check()
    except ProblemError as exc:
        raise PlanError(f"{scenario.path}: the estate model could not be built: {_in_estate_terms(str(exc))}") from None
    status = problem.status
    if not (status[teams["home"].to_numpy()] == CLOSED).any():  # today's estate is a plan: start from it
        home_pairs = np.flatnonzero(pairs["site"].to_numpy() == teams["home"].to_numpy()[t])
        is_open, home = status != CLOSED, teams["home"].to_numpy()
        extra = side.start_values().copy()
        for starter in model.starters:  # each rule family's values for today's estate (exit years for must-go sites)
            cols, values = starter(is_open, home)
            extra[cols] = values
        model.start = model.today_start = Start(np.flatnonzero(is_open), home_pairs, extra)
        model.start = greedy_start(model, scenario)
    model.build_seconds = time.perf_counter() - started
    return model
