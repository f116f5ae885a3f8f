"""A fast start for the solver: greedy closures from today's estate, every rule kept.

Starting from today's estate (always a plan when no building must go), take the
buildings free to go in order of what exiting them is worth, and close one when
its teams all fit, at the least cost, into kept buildings that suit them, and
the exit is worth more than the moves (and any reopening). To keep every rule
without re-solving, the greedy never closes a building an access standard
counts on (a service point by type, or one housing a front-facing team of a
service with a standard), never moves such a team, never puts teams of
incompatible services together, never closes a building that has taken teams
in, and keeps each partner within its guardrail. The solver then improves on
the result; it also checks the start and ignores it if it broke a rule.
"""

from __future__ import annotations

import numpy as np

from estate.locate.problem import CLOSED, FREE, Y
from estate.locate.solve import Start
from estate.plan.model import Model
from estate.scenario import Scenario


def _guardrail_budget(model: Model, scenario: Scenario) -> dict[str, float]:
    """Floor area (m²) each guarded partner may still dispose of, beyond its must-exit sites."""
    sites, status = model.sites, model.problem.status
    budget = {}
    for g in scenario.plan.guardrails:
        mine = (sites["partner"].to_numpy() == g.partner) & sites["in_scope"].to_numpy(bool)
        gia = sites["gia_m2"].to_numpy()
        budget[g.partner] = g.max_disposal_share * gia[mine].sum() - gia[mine & (status == CLOSED)].sum()
    return budget


def greedy_start(model: Model, scenario: Scenario) -> Start | None:
    """A start better than today's estate, or None when there is no start from today's estate."""
    if model.start is None:
        return None
    problem, sites, teams, pairs = model.problem, model.sites, model.teams, model.pairs
    status = problem.status
    n = len(sites)
    home = teams["home"].to_numpy()
    need = teams["need_m2"].to_numpy(float)
    service = teams["service"].to_numpy()
    serving = model.serving if model.serving is not None else np.zeros(len(teams), bool)
    dest = home.copy()
    load = np.bincount(home, weights=need, minlength=n)
    room = problem.capacity - load
    is_open = status != CLOSED

    # Buildings the greedy leaves alone: forced, counted on by an access standard, or housing a team that is.
    protected = status != FREE
    for block in problem.side.blocks if problem.side is not None else []:
        if block["group"].startswith("access:"):
            protected[block["index"][block["part"] == Y]] = True
    protected[home[serving]] = True
    budget = _guardrail_budget(model, scenario)
    partner = sites["partner"].to_numpy()
    gia = sites["gia_m2"].to_numpy(float)

    # Services present in each building (fixed teams included), for the incompatibility rule.
    occ = model.occupiers
    site_of_asset = {a: i for i, a in enumerate(sites["asset_id"])}
    present: list[set[str]] = [set() for _ in range(n)]
    for asset, code in zip(occ["asset_id"], occ["service"]):
        if asset in site_of_asset:
            present[site_of_asset[asset]].add(code)
    clash: dict[str, set[str]] = {}
    for a, b in scenario.plan.incompatible:
        clash.setdefault(a, set()).add(b)
        clash.setdefault(b, set()).add(a)

    order = np.argsort(pairs["team"].to_numpy(), kind="stable")
    team_sorted = pairs["team"].to_numpy()[order]
    first = np.searchsorted(team_sorted, np.arange(len(teams) + 1))
    pair_site, pair_pv = pairs["site"].to_numpy(), pairs["pv_gbp"].to_numpy(float)
    reopen = dict(model.reopening_pv_gbp)
    exit_value = sites["exit_value_pv_gbp"].to_numpy(float)
    teams_at = {s: list(np.flatnonzero(home == s)) for s in np.unique(home)}

    for s in np.argsort(-exit_value, kind="stable"):
        if protected[s] or not is_open[s] or status[s] != FREE:
            continue
        if partner[s] in budget and gia[s] > budget[partner[s]] + 1e-9:
            continue
        movers = sorted(teams_at.get(s, []), key=lambda t: -need[t])
        gain, chosen, used, opened = exit_value[s], [], {}, set()
        placed: dict[int, set[str]] = {}  # services this closure puts in each building
        for t in movers:
            cand = order[first[t]:first[t + 1]]
            best, best_cost = -1, np.inf
            for p in cand:
                d = pair_site[p]
                if d == s or not is_open[d] or room[d] - used.get(d, 0.0) < need[t] - 1e-9:
                    continue
                if clash.get(service[t], set()) & (present[d] | placed.get(d, set())):
                    continue
                cost = pair_pv[p] + (reopen.get(d, 0.0) if d in reopen and d not in opened else 0.0)
                if cost < best_cost:
                    best, best_cost = d, cost
            if best < 0:
                gain = -np.inf
                break
            chosen.append((t, best))
            used[best] = used.get(best, 0.0) + need[t]
            placed.setdefault(best, set()).add(service[t])
            if best in reopen:
                opened.add(best)
                reopen.pop(best, None)  # paid once
            gain -= best_cost
        if gain <= 1e-6:
            for d in opened:  # not reopened after all
                reopen[d] = model.reopening_pv_gbp[d]
            continue
        is_open[s] = False
        if partner[s] in budget:
            budget[partner[s]] -= gia[s]
        for t, d in chosen:
            dest[t] = d
            room[d] -= need[t]
            protected[d] = True  # a building that takes teams in stays
            present[d].add(service[t])

    # Space requests: the cheapest kept building with room, when it costs less than the new lease.
    for t in np.flatnonzero(teams["space_request"].to_numpy(bool)) if "space_request" in teams else []:
        cand = order[first[t]:first[t + 1]]
        lease = pair_pv[cand][pair_site[cand] == home[t]].sum()
        best, best_cost = -1, lease - 1e-6
        for p in cand:
            d = pair_site[p]
            if d == home[t] or not is_open[d] or room[d] < need[t] - 1e-9 or clash.get(service[t], set()) & present[d]:
                continue
            cost = pair_pv[p] + reopen.get(d, 0.0)
            if cost < best_cost:
                best, best_cost = d, cost
        if best >= 0:
            dest[t] = best
            room[best] -= need[t]
            reopen.pop(best, None)
            present[best].add(service[t])

    # Exit years under the delivery limits and the funding line: a disposal that fits in no year stays.
    if model.phasing:
        from estate.plan.rules.phasing import schedule

        while True:  # reopening a disposal that fits no year changes the others' costs: until none is dropped
            _, unplaced = schedule(model, scenario, is_open, dest)
            dropped = [s for s in unplaced if status[s] == FREE]
            if not dropped:
                break
            for s in dropped:
                is_open[s] = True
                dest[home == s] = s

    key = pairs["team"].to_numpy() * n + pair_site
    chosen_pairs = np.flatnonzero(np.isin(key, np.arange(len(teams)) * n + dest))
    extra = problem.side.start_values().copy() if problem.side is not None else np.zeros(0)
    for starter in model.starters:
        cols, values = starter(is_open, dest)
        extra[cols] = values
    return Start(np.flatnonzero(is_open), chosen_pairs, extra)


#: Each neighbourhood's sub-problem stops after this many branch-and-bound nodes: a deterministic
#: limit, so the start, and the plan, are the same on a busy machine as on an idle one.
NEIGHBOURHOOD_NODES = 200
#: ... and, as a safety net only, after this many seconds (reported when it is what stopped one).
NEIGHBOURHOOD_SECONDS = 120.0


def keeps_every_row(milp, values: np.ndarray, tol: float = 1e-6) -> bool:
    """Whether ``values`` keep every row and bound of ``milp``."""
    activity = milp.A @ values
    return bool((activity >= milp.row_lower - tol).all() and (activity <= milp.row_upper + tol).all()
                and (values >= milp.col_lower - tol).all() and (values <= milp.col_upper + tol).all())


def improve(model: Model, start: Start, scenario: Scenario, say=lambda _m: None) -> tuple[Start, dict]:
    """Check a start against every rule and, with ``plan.start_search = "localities"``, improve it by
    optimising one neighbourhood at a time (large-neighbourhood search).

    A start that breaks a rule is replaced by today's estate (or, if that breaks one too, dropped:
    the solver then starts from nothing). In the locality search, in turn for each locality, every
    building outside it keeps its decision
    and every team whose home is outside it keeps its place; the solver re-optimises the rest, from
    the current start, with every rule of the whole model. A neighbourhood's answer replaces the
    start only when it is better, so the start never gets worse and always keeps every rule; one
    stopped by its safety time limit is not taken, so the start never depends on the clock.
    Returns the start and a record of the search (objective after each pass, neighbourhoods
    stopped by the safety time limit)."""
    from dataclasses import replace

    from estate.locate import formulate
    from estate.locate.solve import _run_highs, _start_values

    problem = model.problem
    milp = formulate.min_cost(problem, single_source=True)
    values = _start_values(milp, start)
    record = {"greedy_kept_every_rule": keeps_every_row(milp, values)}
    if not record["greedy_kept_every_rule"] and model.today_start is not None:  # never start from a broken plan
        values = _start_values(milp, model.today_start)
    record["start_kept_every_rule"] = keeps_every_row(milp, values)
    if not record["start_kept_every_rule"]:  # no start keeps every rule: the solver starts from nothing
        record.update(start_objective=None, passes=[], stopped_by_time=0)
        return None, record
    best = float(milp.c @ values + milp.offset)
    record.update(start_objective=best, passes=[], stopped_by_time=0)
    y0, _ = milp.parts["y"]
    x0, _ = milp.parts["x"]
    home = model.teams["home"].to_numpy()
    searches = ("locality",) if scenario.plan.start_search == "localities" else ()
    for key in searches:  # an authority is too large a neighbourhood to solve within the node limit
        area = model.sites[key].fillna("").astype(str).to_numpy(dtype=object)
        pair_area = area[home][problem.pair_zone]
        for name in sorted(set(area[home])):
            lo, hi = milp.col_lower.copy(), milp.col_upper.copy()
            fixed = np.r_[np.flatnonzero(area != name) + y0, np.flatnonzero(pair_area != name) + x0]
            owner = model.extra_site  # exit-year columns of buildings outside the neighbourhood keep their year
            if len(owner):
                fixed = np.r_[fixed, milp.parts["extra"][0] + np.flatnonzero((owner >= 0)
                                                                             & (area[np.maximum(owner, 0)] != name))]
            lo[fixed] = hi[fixed] = np.round(values[fixed])
            run = _run_highs(replace(milp, col_lower=lo, col_upper=hi), NEIGHBOURHOOD_SECONDS, 1e-4, values,
                             max_nodes=NEIGHBOURHOOD_NODES)
            record["stopped_by_time"] += run.status == "time_limit"
            if run.status == "time_limit":  # what a time-limited search found depends on the machine: not taken
                continue
            if run.values is not None and run.objective is not None and run.objective < best - 1e-6:
                values = run.values.copy()
                values[milp.integer] = np.round(values[milp.integer])
                best = float(milp.c @ values + milp.offset)
        record["passes"].append({"by": key, "objective": best})
        say(f"start improved by {key}: net present value £{-best / 1e6:,.1f}m")
    y = values[milp.parts["y"][0]:milp.parts["y"][1]]
    x = values[milp.parts["x"][0]:milp.parts["x"][1]]
    e0, e1 = milp.parts.get("extra", (0, 0))
    return Start(np.flatnonzero(y > 0.5), np.flatnonzero(x > 0.5), values[e0:e1].copy()), record
