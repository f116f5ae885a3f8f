"""Space requests (``[[plan.space_requests]]``): one partner's need for space met from the estate's
kept space, or from a new lease when that is cheaper.

A request is compiled as a team of its own whose "home" is a new lease: a
site of its own that always stays (``new_lease`` true), where housing it costs
the lease, ``new_lease_gbp_per_m2 × m²`` a year from its first year to the end
of the horizon (present value). Its other options are the host buildings in its
locality and/or within ``within_km`` of its point whose type suits its service
and that have the room; housing it there costs the extra running cost of the
space it takes up (``finance.new_space_running_gbp_per_m2``, host pays) and,
for an empty building, bringing it back into use. The objective's offset
subtracts every lease, so "business as usual" is the new lease: a request met
in kept space adds the lease avoided, less the cost of the space, to the NPV.
Fit-out and ICT are needed either way and are not counted. A host that
takes a request in stays (the engine's capacity rows), and charges the
requester an occupancy charge when they are different partners.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from estate.finance.costs import annuity_factor, new_space_pv_gbp, year_label
from estate.locate.problem import CLOSED, OPEN
from estate.plan.model import PlanError
from estate.scenario import Scenario, SpaceRequest

#: Columns of the plan's space requests table (``space_requests.csv``; ``Plan.requests``).
REQUEST_COLUMNS = (
    "request_id", "partner", "service", "fte", "need_m2",
    "from_year",  # 0-based financial year from which the space is needed
    "financial_year",  # e.g. "2029/30"
    "new_lease_gbp_per_m2",  # the alternative's cost a year (£/m²)
    "housed_in",  # asset id of the kept building that houses it (blank: a new lease)
    "host_partner",  # partner of that building
    "outcome",  # "own space" | "another partner's space" | "a hub" | "new lease"
    "reason",  # why, in words
)


def _where(req: SpaceRequest, plan_km: float) -> str:
    parts = []
    if req.locality is not None:
        parts.append(f"in {req.locality}")
    if req.near_m is not None:
        parts.append(f"within {req.within_km or plan_km:g} km of ({req.near_m[0]:.0f}, {req.near_m[1]:.0f})")
    return " and ".join(parts)


def _check(requests: tuple[SpaceRequest, ...], assets: pd.DataFrame, scenario: Scenario) -> None:
    """Every request names a known partner and locality, and no sensitive service."""
    partners = set(assets["partner"].astype(str))
    localities = set(assets["locality"].dropna().astype(str))
    problems = []
    for i, req in enumerate(requests):
        key = f"plan.space_requests[{i}] ({req.id})"
        if req.partner not in partners:
            problems.append(f"{key}.partner: {req.partner!r} is not a partner in the register "
                            f"(partners: {', '.join(sorted(partners))})")
        if req.locality is not None and req.locality not in localities:
            close = [x for x in sorted(localities) if x.lower().startswith(req.locality.lower()[:3])][:5]
            problems.append(f"{key}.locality: {req.locality!r} is no asset's locality in the register"
                            + (f" (did you mean {', '.join(map(repr, close))}?)" if close else ""))
        if req.service in scenario.privacy.sensitive_services:
            problems.append(f"{key}.service: {req.service!r} is a sensitive service; a request for it would make "
                            "the building that houses it a sensitive site, so plan it outside the shared plan")
    if problems:
        raise PlanError(f"{scenario.path}: " + "; ".join(problems))


def add_requests(sites: pd.DataFrame, teams: pd.DataFrame, pairs: pd.DataFrame, assets: pd.DataFrame,
                 scenario: Scenario, suitable) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Append each request's new-lease site, its team and its pairs (a new lease, and every host
    building in its place that suits its service and has room). ``suitable`` is
    :func:`estate.plan.compile.suitable`."""
    plan, fin = scenario.plan, scenario.finance
    requests = plan.space_requests
    sites = sites.assign(new_lease=False)
    teams = teams.assign(space_request=False)
    if not requests:
        return sites, teams, pairs
    _check(requests, assets, scenario)
    xy = sites[["x_m", "y_m"]].to_numpy(float)
    locality = sites["locality"].astype(object).to_numpy()
    hosts = sites["host"].to_numpy(bool) & (sites["status"].to_numpy() != CLOSED)
    new_sites, new_teams, new_pairs = [], [], []
    for k, req in enumerate(requests):
        site_pos, team_pos = len(sites) + k, len(teams) + k
        if req.near_m is not None:
            x, y = req.near_m
        else:
            here = assets["locality"].astype(str).to_numpy() == req.locality
            x, y = float(assets.geometry.x[here].mean()), float(assets.geometry.y[here].mean())
        first = req.from_year - fin.first_year
        new_sites.append({
            "asset_id": f"new lease for {req.id}", "partner": req.partner, "asset_type": "new_lease",
            "status": OPEN, "keep_reason": "", "in_scope": False, "vacant": False, "exit_value_pv_gbp": 0.0,
            "capacity_m2": req.need_m2, "free_m2": req.need_m2, "host": False, "x_m": x, "y_m": y, "gia_m2": 0.0,
            "locality": req.locality, "authority": None, "exit_year": -1, "must_exit": False, "new_lease": True})
        new_teams.append({
            "occupier_id": req.id, "team": f"space request {req.id}", "partner": req.partner,
            "service": req.service, "fte": req.fte, "need_m2": req.need_m2, "front_facing": req.front_facing,
            "confidential": False, "asset_id": f"new lease for {req.id}", "fixed": False, "home": site_pos,
            "move_year": first, "space_request": True})
        near = np.ones(len(sites), bool)
        if req.locality is not None:
            near &= locality == req.locality
        if req.near_m is not None:
            near &= np.hypot(xy[:, 0] - x, xy[:, 1] - y) <= (req.within_km or plan.max_move_km) * 1000.0
        cand = np.flatnonzero(hosts & near & (sites["free_m2"].to_numpy(float) >= req.need_m2 - 1e-9))
        new_pairs.append(pd.DataFrame({"team": team_pos, "site": np.r_[site_pos, cand]}))
    sites = pd.concat([sites, pd.DataFrame(new_sites)], ignore_index=True)
    teams = pd.concat([teams, pd.DataFrame(new_teams)], ignore_index=True)
    req_pairs = pd.concat(new_pairs, ignore_index=True)
    home = teams["home"].to_numpy()[req_pairs["team"].to_numpy()]
    ok = (req_pairs["site"].to_numpy() == home) | suitable(teams, sites, req_pairs["team"].to_numpy(),
                                                            req_pairs["site"].to_numpy(), plan)
    req_pairs = req_pairs[ok]
    d = sites[["x_m", "y_m"]].to_numpy()[req_pairs["site"]] - sites[["x_m", "y_m"]].to_numpy()[home[ok]]
    req_pairs = req_pairs.assign(distance_km=np.hypot(d[:, 0], d[:, 1]) / 1000.0)
    if plan.max_destinations is not None:
        req_pairs = (req_pairs.sort_values(["team", "distance_km", "site"], kind="stable")
                     .groupby("team", sort=False).head(plan.max_destinations + 1))
    pairs = pd.concat([pairs, req_pairs], ignore_index=True).sort_values(["team", "site"], kind="stable")
    return sites, teams, pairs.reset_index(drop=True)


def lease_pv_gbp(teams: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """Present value of each request's new lease (0 for a team that is not a request)."""
    rate = pd.Series({r.id: r.new_lease_gbp_per_m2 for r in scenario.plan.space_requests}, dtype=float)
    is_request = teams["space_request"].to_numpy(bool)
    per_m2 = teams["occupier_id"].map(rate).fillna(0.0).to_numpy(float)
    years = teams["move_year"].to_numpy(float)
    return np.where(is_request, per_m2 * teams["need_m2"].to_numpy(float) * annuity_factor(years, scenario.finance),
                    0.0)


def price_requests(pairs: pd.DataFrame, teams: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Price the requests' pairs: the new lease at its home, the new space's running cost elsewhere;
    nothing moves, so no move cost and no travel."""
    t = pairs["team"].to_numpy()
    req = teams["space_request"].to_numpy(bool)[t]
    if not req.any():
        return pairs
    at_home = pairs["site"].to_numpy() == teams["home"].to_numpy()[t]
    need, year = teams["need_m2"].to_numpy(float)[t], teams["move_year"].to_numpy(float)[t]
    lease = lease_pv_gbp(teams, scenario)[t]
    pairs.loc[req, "costed_km"] = 0.0
    pairs.loc[req, "move_cost_gbp"] = 0.0
    pairs.loc[req, "pv_gbp"] = np.where(at_home, lease, new_space_pv_gbp(need, year, scenario.finance))[req]
    return pairs


def read_requests(model, dest: np.ndarray, kept_site: np.ndarray, assets: pd.DataFrame,
                  after: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Each request's outcome (:data:`REQUEST_COLUMNS`): where it is housed, or why it is not."""
    plan, fin = scenario.plan, scenario.finance
    sites, teams = model.sites, model.teams
    rows = []
    owner = assets.set_index(assets["asset_id"].astype(str))["partner"]
    partners_at = after.groupby("asset_id")["partner"].agg(lambda p: set(p))
    load = after.groupby("asset_id")["need_m2"].sum()
    leases = lease_pv_gbp(teams, scenario)
    for req in plan.space_requests:
        t = int(np.flatnonzero(teams["occupier_id"].to_numpy() == req.id)[0])
        site = int(dest[t])
        housed = not bool(sites["new_lease"].iat[site])
        host_id = str(sites["asset_id"].iat[site]) if housed else ""
        host = str(owner.get(host_id, "")) if housed else ""
        others = partners_at.get(host_id, set()) - {req.partner}
        if not housed:
            outcome, reason = "new lease", _why_not(req, t, model, kept_site, load, plan, float(leases[t]))
        elif others:
            outcome, reason = "a hub", f"housed in {host_id}, a {host} building, with teams of {', '.join(sorted(others))}"
        elif host == req.partner:
            outcome, reason = "own space", f"housed in {host_id}, its own partner's building"
        else:
            outcome, reason = "another partner's space", f"housed in {host_id}, a {host} building, for an occupancy charge"
        rows.append({"request_id": req.id, "partner": req.partner, "service": req.service, "fte": req.fte,
                     "need_m2": req.need_m2, "from_year": req.from_year - fin.first_year,
                     "financial_year": year_label(req.from_year - fin.first_year, fin),
                     "new_lease_gbp_per_m2": req.new_lease_gbp_per_m2, "housed_in": host_id, "host_partner": host,
                     "outcome": outcome, "reason": reason})
    return pd.DataFrame(rows, columns=list(REQUEST_COLUMNS))


def _why_not(req: SpaceRequest, t: int, model, kept_site: np.ndarray, load: pd.Series, plan, lease: float) -> str:
    """Why a request is met by a new lease, in estate terms."""
    sites, pairs = model.sites, model.pairs
    where = _where(req, plan.max_move_km)
    options = pairs[(pairs["team"] == t) & ~sites["new_lease"].to_numpy(bool)[pairs["site"].to_numpy()]]
    if not len(options):
        hosts = sites["host"].to_numpy(bool) & ~sites["new_lease"].to_numpy(bool)
        loc = sites["locality"].astype(object).to_numpy() == req.locality if req.locality else np.ones(len(sites), bool)
        n_place = int((hosts & loc).sum())
        return (f"no host building {where} that suits {req.service} teams has {req.need_m2:,.0f} m² free "
                f"({n_place} host building(s) in its locality; see plan.suitability and plan.workspace)")
    site = options["site"].to_numpy()
    ids = sites["asset_id"].to_numpy()[site]
    room = sites["capacity_m2"].to_numpy(float)[site] - load.reindex(ids).fillna(0.0).to_numpy()
    open_room = kept_site[site] & (room >= req.need_m2 - 1e-9)
    if open_room.any():
        best = int(np.argmin(options["pv_gbp"].to_numpy()[open_room]))
        cost = float(options["pv_gbp"].to_numpy()[open_room][best]) + model.reopening_pv_gbp.get(
            int(site[open_room][best]), 0.0)
        return (f"a new lease (£{lease / 1e3:,.0f}k present value) is no dearer than the cheapest kept building with "
                f"room, {ids[open_room][best]} (£{cost / 1e3:,.0f}k with its running and any reopening cost)")
    sold = int((~kept_site[site]).sum())
    full = len(options) - sold
    return (f"of the {len(options)} building(s) {where} that could house it, {sold} are worth more sold than the new "
            f"lease it would save (£{lease / 1e3:,.0f}k present value) and {full} are full after the plan")
