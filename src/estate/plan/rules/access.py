"""Access standards: each service's standard over its service points after the plan.

A service point after the plan is a kept building of one of the service's asset
types, or a building housing a front-facing team of the service
(:func:`estate.access.metrics.service_sites`, the same rule as today's figures).
For each service with a share standard, ``u_z ≤ Σ y (type sites) + Σ d (team
sites)`` marks zone ``z`` covered and ``Σ pop·u ≥ required``; a team site's
``d_s ≤ Σ x`` of the service's front-facing teams there. A ``no_worse``
standard asks every zone reached today to stay within today's minutes. A share
standard that today's estate already misses is held at today's share ("no
worse than today"), and reported so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from estate.access.metrics import Accessibility, by_id
from estate.locate.problem import CLOSED, EXTRA, FREE, OPEN, X, Y, SideConstraints
from estate.plan.model import Model, flag
from estate.scenario import Scenario, Service


def delivers_by_asset(assets: pd.DataFrame, service: Service) -> np.ndarray:
    """Assets that are service points of ``service`` whatever teams they house: of its asset types;
    never a sensitive site for a service that is not sensitive (see
    :func:`estate.access.metrics.public_delivery`)."""
    by_type = assets["asset_type"].isin(service.asset_types).to_numpy()
    public = service.sensitive | ~flag(assets, "sensitive")
    return by_type & public


def _serving(teams: pd.DataFrame, service: Service) -> np.ndarray:
    """Teams whose presence makes a service point: front-facing teams of the service (and, for a
    public service, not confidential ones). A space request never counts: access is held by today's
    teams, and a new service housed somewhere only adds to it."""
    return (teams["service"].isin(service.services).to_numpy() & flag(teams, "front_facing")
            & (service.sensitive | ~flag(teams, "confidential")) & ~flag(teams, "space_request"))


def rule_text(service: Service, required: float) -> str:
    """The rule in words, for the plan's list of rules."""
    std = service.standard
    if std.rule == "share":
        return f"{service.name}: {required:.1%} of people within {std.minutes:g} min by {std.mode.replace('_', ' ')}"
    return f"{service.name}: no zone further by {std.mode.replace('_', ' ')} than today"


def _positions(ids: pd.Series, position: pd.Series) -> np.ndarray:
    """Each id's position in ``position`` (an id → position Series), NaN where it has none."""
    return by_id(ids, lambda text: position.reindex(text).to_numpy(float), np.nan)


def add(model: Model, side: SideConstraints, assets: pd.DataFrame, access: pd.DataFrame, zones: pd.DataFrame,
        today: Accessibility, scenario: Scenario) -> None:
    """Add each service's standard over its service points after the plan (see the module docstring),
    starting from today's estate."""
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
            zpos = _positions(rows["zone_id"], zone_pos)
            spos = _positions(rows["site_id"], site_of_asset)
            apos = _positions(rows["site_id"], asset_pos)
            ok = ~np.isnan(zpos) & ~np.isnan(apos)
            in_engine = ~np.isnan(spos)
            by_mode[mode] = (np.where(ok, zpos, 0).astype(int), np.where(ok, apos, 0).astype(int),
                             np.where(in_engine, spos, 0).astype(int), in_engine, ok,
                             rows["minutes"].to_numpy(float))
        return by_mode[mode]

    model.serving = np.zeros(len(teams), bool)
    for service in scenario.services:
        std = service.standard
        if std is None:
            continue
        model.serving |= _serving(teams, service)
        by_asset = delivers_by_asset(assets, service)
        fixed_here = site_of_asset.reindex(fixed.loc[_serving(fixed, service), "asset_id"]).dropna()
        # Sure delivery points: kept whatever happens.
        sure_asset = by_asset & ~engine_asset
        by_site = _engine_mask(by_asset, assets, sites)
        sure_site = (status == OPEN) & by_site
        sure_site[fixed_here.astype(int).to_numpy()] = True
        site_by_asset = by_site & (status == FREE)
        # A front-facing team's service point at a site nothing else makes sure of: d_s ≤ Σ x of them there.
        of_service = _serving(teams, service)[pairs["team"].to_numpy()]
        team_pairs = np.flatnonzero(of_service & (status[pairs["site"].to_numpy()] != CLOSED))
        team_sites = np.unique(pairs["site"].to_numpy()[team_pairs])
        team_sites = team_sites[~sure_site[team_sites] & ~site_by_asset[team_sites]]
        tp = team_pairs[np.isin(pairs["site"].to_numpy()[team_pairs], team_sites)]
        home_of_service = np.zeros(len(sites), bool)
        home_of_service[pairs["site"].to_numpy()[tp[home_pair[tp]]]] = True
        d_cols = side.add_columns(np.zeros(len(team_sites)), 0.0, 1.0, start=home_of_service[team_sites])
        d_of_site = np.full(len(sites), -1)
        d_of_site[team_sites] = d_cols
        row = np.searchsorted(team_sites, pairs["site"].to_numpy()[tp])
        side.add_rows(f"access:{service.code}", np.r_[np.arange(len(team_sites)), row],
                      np.r_[np.full(len(team_sites), EXTRA), np.full(len(tp), X)],
                      np.r_[d_cols, tp], np.r_[np.ones(len(team_sites)), -np.ones(len(tp))],
                      -np.inf, 0.0, len(team_sites))

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
                model.rules[label] = rule_text(service, required) + " (cannot be met)"  # explain() stops here
                continue
            if need <= 0:
                model.rules[label] = rule_text(service, required)
                continue
            # Start: zones covered today by a candidate point.
            covered_now = np.zeros(len(zone_ids), bool)
            covered_now[zp[cy]] = True
            covered_now[zp[cd & home_of_service[spos_i]]] = True
            u = side.add_columns(np.zeros(len(open_zone)), 0.0, 1.0, start=covered_now[open_zone])
            row_of_zone = np.full(len(zone_ids), -1)
            row_of_zone[open_zone] = np.arange(len(open_zone))
            # u_z − Σ y (type sites) − Σ d (team sites) ≤ 0, then Σ pop·u ≥ need.
            side.add_rows(label, np.r_[np.arange(len(open_zone)), row_of_zone[zp[cy]], row_of_zone[zp[cd]]],
                          np.r_[np.full(len(open_zone), EXTRA), np.full(cy.sum(), Y), np.full(cd.sum(), EXTRA)],
                          np.r_[u, spos_i[cy], d_of_site[spos_i[cd]]],
                          np.r_[np.ones(len(open_zone)), -np.ones(cy.sum() + cd.sum())], -np.inf, 0.0,
                          len(open_zone))
            side.add_rows(label, np.zeros(len(open_zone)), EXTRA, u, population[open_zone], need, np.inf, 1)
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
        model.rules[label] = rule_text(service, model.required_share[service.code])


def _engine_mask(by_asset: np.ndarray, assets: pd.DataFrame, sites: pd.DataFrame) -> np.ndarray:
    """``by_asset`` (aligned with assets) read in engine site order."""
    return pd.Series(by_asset, index=assets["asset_id"].astype(str)).reindex(sites["asset_id"]).to_numpy(bool)
