"""Reading a solution back as an estate plan: decisions, moves, access after, cash flows and the
headline figures of ``plan_summary.json``."""

from __future__ import annotations

from dataclasses import asdict

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import linestrings

from estate.access.metrics import Accessibility, accessibility
from estate.finance import cost_programme, phasing_table
from estate.locate.problem import FREE, OPEN
from estate.locate.solve import Solution
from estate.plan.compile import OUTSIDE_SCOPE
from estate.plan.model import MOVE_COLUMNS, Model, Plan, flag
from estate.plan.requests import read_requests
from estate.scenario import Scenario


def destinations(assignments: pd.DataFrame, n_teams: int) -> np.ndarray:
    """The site each team ends up in: for each team the assignment with the largest share (a team is
    housed whole, so a tolerance residue on another pair never moves it); −1 where none."""
    dest = np.full(n_teams, -1)
    best = assignments.sort_values(["zone", "share", "site"], ascending=[True, False, True], kind="stable")
    best = best.drop_duplicates("zone")
    dest[best["zone"].to_numpy(int)] = best["site"].to_numpy(int)
    return dest


def exit_years(model: Model, sol: Solution) -> pd.Series | None:
    """The exit year the optimiser chose for each disposal (asset id → 0-based year), or None when
    exit years are not decisions (no delivery limits: each goes in its earliest year)."""
    ph = model.phasing
    if not ph or sol.extra is None:
        return None
    chosen = sol.extra[ph["columns"]] > 0.5
    return pd.Series(ph["year"][chosen], index=model.sites["asset_id"].to_numpy()[ph["site"][chosen]])


def read_solution(model: Model, sol: Solution, assets: gpd.GeoDataFrame, access: pd.DataFrame,
                  zones: pd.DataFrame, today: Accessibility, scenario: Scenario) -> Plan:
    """The estate reading of a solution: decisions, moves, access after and cash flows."""
    fin = scenario.finance
    sites, teams, occ = model.sites, model.teams, model.occupiers
    assets = assets.reset_index(drop=True)
    ids = assets["asset_id"].astype(str)
    kept_site = np.zeros(len(sites), bool)
    kept_site[sol.open_sites] = True
    lease = flag(sites, "new_lease")  # a space request's new lease: not an asset
    disposed = set(sites.loc[~kept_site & ~lease, "asset_id"])
    # Where each movable team ends up (the space requests come after the register's teams).
    dest = destinations(sol.assignments, len(teams))
    request = flag(teams, "space_request")
    after = occ.copy()
    movable = ~after["fixed"].to_numpy()
    after.loc[movable, "asset_id"] = sites["asset_id"].to_numpy()[dest[~request]]
    housed = request & ~lease[dest]
    if housed.any():  # a request housed in kept space is a team of that building from its first year
        arrivals = teams.loc[housed, list(occ.columns)].assign(asset_id=sites["asset_id"].to_numpy()[dest[housed]])
        after = pd.concat([after, arrivals], ignore_index=True)
    requests = read_requests(model, dest, kept_site, assets, after, scenario)
    moved = (dest != teams["home"].to_numpy()) & ~request

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
    # An asset outside the scope that takes teams in is part of the plan after all (a confidential team's
    # arrival does not count: the shareable layer would otherwise single out where it went).
    public_mv = mv[~flag(mv, "confidential")] if len(mv) else mv
    receives = ids.isin(public_mv["to_asset_id"]) | ids.isin(requests["housed_in"])
    in_plan = ids.isin(sites.loc[sites["in_scope"], "asset_id"]) | receives
    partners_after = after.groupby("asset_id")["partner"].agg(lambda p: ";".join(sorted(set(p))))
    out["partners_after"] = ids.map(partners_after).fillna("")
    n_partners = out["partners_after"].str.split(";").map(lambda p: len([x for x in p if x]))
    is_disposed = ids.isin(disposed).to_numpy()
    out["decision"] = np.where(is_disposed, "dispose", np.where(n_partners >= 2, "hub", "keep"))
    out["teams_before"] = ids.map(occ.groupby("asset_id").size()).fillna(0).astype(int)
    # The programme: phasing, cash flows and headline figures from the one cost model.
    prog = cost_programme(out, mv, fin, requests=requests, exit_years=exit_years(model, sol))
    out["exit_year"] = ids.map(prog.disposals.set_index("asset_id")["financial_year"]).astype(object).fillna("")
    opt = model.options.set_index("asset_id")
    out["in_plan"] = in_plan.to_numpy()
    out["keep_reason"] = ids.map(sites.set_index("asset_id")["keep_reason"]).fillna(OUTSIDE_SCOPE)
    out.loc[receives.to_numpy() & (out["keep_reason"] == OUTSIDE_SCOPE).to_numpy(), "keep_reason"] = ""
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
        "objective_note": ("net present cost of the programme against keeping today's estate (= −npv_gbp, but "
                           "for moves out of kept buildings that could have gone and reopenings, which the "
                           "programme costs in the years they happen: objective_vs_npv_gbp)"),
        "bound": sol.bound,
        "gap": sol.gap,
        "solver": sol.solver,
        "solver_note": sol.explanation,
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
        "objective_vs_npv_gbp": (-sol.objective - money["npv_gbp"]) if sol.objective is not None else None,
        "payback_year": money["payback_year"],
        "capital_receipts_gbp": money["capital_receipts_gbp"],
        "one_off_costs_gbp": money["one_off_costs_gbp"],
        "residual_value_forgone_pv_gbp": money["residual_value_forgone_pv_gbp"],
        "residual_value_kept_pv_gbp": money["residual_value_kept_pv_gbp"],
        "new_space_running_gbp_a_year": money["new_space_running_gbp_a_year"],
        "occupancy_charges_gbp_a_year": money["occupancy_charges_gbp_a_year"],
        "buildings_reopened": money["buildings_reopened"],
        "space_requests": money["space_requests"],
        "exit_years_chosen": bool(model.phasing),
        "delivery": asdict(scenario.plan.delivery),
        "phasing": phasing_table(prog, scenario.plan.delivery).to_dict("records"),
        "vacant_before": int((out["teams_before"] == 0).sum()),
        "vacant_disposed": int(((out["teams_before"] == 0) & is_disposed).sum()),
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
                  "buildings_must_exit": int(model.sites["must_exit"].sum()),
                  "buildings_decided_alone": int(model.sites["decided_alone"].sum()),
                  "movable_teams": int((~request).sum()), "space_requests": int(request.sum()),
                  "team_building_options": int(len(model.pairs)), **sol.stats},
        "start_search": model.search,
        "rules": list(model.rules.values()),
        "plan_settings": _settings(scenario),
        "access_caveat": _access_caveat(scenario),
        "notes": list(model.notes) + prog.notes,
    }
    return Plan(assets=out, moves=moves, occupiers=after, after=after_access, programme=prog, solution=sol,
                summary=summary, notes=list(model.notes), requests=requests)


def _settings(scenario: Scenario) -> dict:
    """The scenario's [plan] settings as plain values, for the record and the report."""
    out = asdict(scenario.plan)
    out.pop("space_requests")  # in programme_space_requests.csv, with their outcome
    out.pop("delivery")  # in plan_summary.json's delivery and phasing
    workspace = out.pop("workspace")
    out.update({f"workspace.{k}": v for k, v in workspace.items()})
    out["guardrails"] = {g["partner"]: g["max_disposal_share"] for g in out["guardrails"]}
    out["incompatible"] = [list(p) for p in out["incompatible"]]
    for key in ("keep_asset_types", "host_asset_types", "fixed_services", "must_keep", "must_exit",
                "public_facing_asset_types"):
        out[key] = list(out[key])
    out["suitability"] = {k: list(v) for k, v in out["suitability"].items()}
    return out


def _access_caveat(scenario: Scenario) -> str:
    a = scenario.access
    if a.engine == "straight":
        return (f"Travel times are straight-line distance × {a.circuity:g} ÷ an average speed per mode (plus "
                "waiting time for public transport), an approximation of real journeys; use the network or matrix "
                "engine for routed times.")
    return f"Travel times come from the {a.engine} engine (cutoff {a.cutoff_minutes:g} min)."


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
