"""Why no plan exists, in estate terms, and solving the compiled model."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from estate.locate.problem import CLOSED, FREE, LocationProblem
from estate.locate.solve import Solution, solve
from estate.plan.model import Model, PlanInfeasible
from estate.plan.start import improve
from estate.scenario import Scenario

#: Solver outcomes that prove nothing (no plan found, none ruled out).
NOT_PROVEN = ("time_limit", "stopped")


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
    closed = model.sites["must_exit"].any()
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
    culprits, undecided = [], []
    for group in side.groups:
        trial = LocationProblem(**{**model.problem.__dict__, "side": side.without({group})})
        sol = solve(trial, "min-cost", single_source=True, time_limit=min(30.0, scenario.plan.time_limit_seconds),
                    gap=0.5, solver=scenario.plan.solver)
        if sol.objective is not None:  # a plan exists without this rule: it is a cause
            culprits.append(model.rules.get(group, group))
        elif sol.status != "infeasible":  # the solver stopped without an answer: neither proof
            undecided.append(model.rules.get(group, group))
    tail = (f"; whether dropping {'; '.join(undecided)} would help could not be settled in the time allowed"
            if undecided else "")
    if culprits:
        return ("no plan meets every rule together; it becomes possible without any one of: "
                + "; ".join(culprits) + tail)
    return ("no plan meets every rule together (capacity, access standards, must-keep and must-exit sites and "
            "the move radius combined); no single rule group is the cause on its own" + tail)


def _live_report(live: Callable[[str], None]):
    """The solver's progress in estate terms: the best plan's NPV (−objective), the bound and the gap."""
    def report(objective, bound, gap, seconds) -> None:
        npv = "none yet" if objective is None else f"£{-objective / 1e6:,.1f}m"
        best = "not yet proved" if bound is None else f"£{-bound / 1e6:,.1f}m"
        left = "n/a" if gap is None else f"{gap:.2%}"
        live(f"solving, {seconds:,.0f} s: best plan NPV {npv}, no plan better than {best}, gap {left}")
    return report


def solve_model(model: Model, scenario: Scenario, zones: pd.DataFrame,
                progress: Callable[[str], None] | None = None,
                live: Callable[[str], None] | None = None) -> Solution:
    """Solve the compiled model; raise :class:`PlanInfeasible` with the reasons when no plan exists.

    The answer does not depend on the clock: the start (greedy, and with ``start_search =
    "localities"`` neighbourhoods under node limits) is found without it, and when the safety time
    limit stops the solver before it proves the gap, the plan is the start, with the bound proved by
    then. ``live`` gets a one-line progress report (NPV, bound, gap) every few seconds of the solve."""
    say = progress or (lambda _m: None)
    reason = explain(model, scenario, zones)
    if reason:
        raise PlanInfeasible(reason)
    p = model.problem
    if model.start is not None:
        say("improving the greedy start, one locality at a time" if scenario.plan.start_search == "localities"
            else "checking the greedy start against every rule")
        model.start, model.search = improve(model, model.start, scenario, say)
        if model.start is None:
            say("no start keeps every rule (a must-go building fits in no year?): the solver starts from nothing")
    say(f"solving: {int((p.status == FREE).sum()):,} buildings free to go, {p.n_zones:,} movable teams, "
        f"{len(p.pair_zone):,} team-building options, {p.side.n_cols:,} extra columns "
        f"({scenario.plan.solver}, gap {scenario.plan.gap:g}, "
        + (f"at most {scenario.plan.max_nodes:,} node(s), " if scenario.plan.max_nodes else "")
        + f"safety limit {scenario.plan.time_limit_seconds:g} s)")
    sol = solve(p, "min-cost", single_source=True, time_limit=scenario.plan.time_limit_seconds,
                gap=scenario.plan.gap, solver=scenario.plan.solver, start=model.start,
                time_limit_keeps_start=True, progress=_live_report(live) if live else None,
                max_nodes=scenario.plan.max_nodes)
    if sol.status == "infeasible" or sol.objective is None:
        if sol.status == "time_limit":
            raise PlanInfeasible(f"no plan found within the time limit of {scenario.plan.time_limit_seconds:g} s "
                                 "(raise plan.time_limit_seconds); this does not show that no plan exists")
        if sol.status in NOT_PROVEN:
            raise PlanInfeasible(f"the solver stopped before finding a plan ({sol.explanation or sol.status}); this does "
                                 "not show that no plan exists")
        raise PlanInfeasible(_diagnose(model, scenario))
    return sol


