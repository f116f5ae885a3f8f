"""The Lagrangian branch-and-bound for the p-median against brute force and by hand."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estate.locate.lagrange import p_median_branch_and_bound
from estate.locate.problem import CLOSED, OPEN, LocationProblem
from estate.locate.solve import solve


def brute_force(problem: LocationProblem, p: int) -> float:
    """The p-median optimum by trying every set of p sites (inf when none serves every zone)."""
    d = np.full((problem.n_zones, problem.n_sites), np.inf)
    d[problem.pair_zone, problem.pair_site] = problem.pair_cost
    forced = set(np.flatnonzero(problem.status == OPEN))
    allowed = [j for j in range(problem.n_sites) if problem.status[j] != CLOSED and j not in forced]
    best = np.inf
    for rest in combinations(allowed, p - len(forced)):
        sites = sorted(forced | set(rest))
        best = min(best, float((problem.weight * d[:, sites].min(axis=1)).sum()))
    return best


@st.composite
def p_median_instances(draw):
    n = draw(st.integers(2, 9))
    m = draw(st.integers(2, 7))
    whole = draw(st.booleans())
    cost = draw(st.lists(st.integers(0, 60) if whole else st.floats(0, 60, allow_nan=False),
                         min_size=n * m, max_size=n * m))
    missing = draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))
    costs = np.array(cost, float).reshape(n, m)
    costs[np.array(missing).reshape(n, m) & (np.arange(m)[None, :] > 0)] = np.inf  # site 0 reaches every zone
    weight = draw(st.lists(st.integers(1, 5) if whole else st.floats(0.1, 5), min_size=n, max_size=n))
    problem = LocationProblem.from_cost_matrix(costs, weight=weight)
    status = draw(st.lists(st.sampled_from([0, 0, 0, OPEN, CLOSED]), min_size=m, max_size=m))
    status[0] = 0 if status[0] == CLOSED else status[0]
    problem.status = np.array(status, np.int8)
    n_open, allowed = status.count(OPEN), m - status.count(CLOSED)
    p = draw(st.integers(max(1, n_open), max(1, allowed)))
    return problem, p


@settings(max_examples=150, deadline=None)
@given(p_median_instances())
def test_search_matches_brute_force(case):
    problem, p = case
    expected = brute_force(problem, p)
    result = p_median_branch_and_bound(problem, p)
    if not np.isfinite(expected):
        assert result.status == "infeasible" and result.open_sites is None
        return
    assert result.status == "optimal"
    assert result.objective == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert result.bound <= result.objective + 1e-9
    assert len(result.open_sites) == p
    assert set(np.flatnonzero(problem.status == OPEN)) <= set(result.open_sites)
    assert not set(np.flatnonzero(problem.status == CLOSED)) & set(result.open_sites)


@settings(max_examples=60, deadline=None)
@given(p_median_instances(), st.sampled_from([0.01, 0.1, 0.5]))
def test_a_gap_bounds_the_answer(case, gap):
    problem, p = case
    expected = brute_force(problem, p)
    result = p_median_branch_and_bound(problem, p, gap=gap)
    if not np.isfinite(expected):
        return
    # Whatever was proved is true, and the answer is within the gap of the optimum.
    assert result.bound <= expected + 1e-9
    assert expected - 1e-9 <= result.objective <= expected / (1 - gap) + 1e-9


def test_a_bound_gap_is_closed_by_branching():
    # Random whole-number costs on 12 places, p = 3: the best Lagrangian bound at the root is
    # about 35.8 while the optimum (by brute force) is 42, so only the search can prove it.
    rng = np.random.default_rng(0)
    costs = rng.integers(1, 30, size=(12, 12)).astype(float)
    np.fill_diagonal(costs, 0.0)
    problem = LocationProblem.from_cost_matrix(costs)
    optimum = brute_force(problem, 3)
    result = p_median_branch_and_bound(problem, 3)
    assert result.status == "optimal" and result.objective == optimum and result.bound == optimum
    assert result.root_bound < optimum - 1 and result.nodes > 1


def test_time_limit_keeps_a_true_bound_and_never_says_optimal():
    rng = np.random.default_rng(7)
    pts = rng.uniform(0, 100, size=(500, 2))
    costs = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    problem = LocationProblem.from_cost_matrix(costs)
    result = solve(problem, "p-median", p=40, time_limit=0.05)
    assert result.status == "time_limit" and result.solver == "lagrangian"
    assert result.bound < result.objective and result.gap > 0
    # A search stopped before it starts still reports a true bound: every zone at its cheapest site.
    stopped = p_median_branch_and_bound(problem, 40, deadline=0.0)
    assert stopped.status == "time_limit" and stopped.bound == pytest.approx(0.0)
    assert stopped.nodes == 0


def test_solve_reports_the_search():
    costs = np.abs(np.arange(30.0)[:, None] - np.arange(30.0)[None, :])
    result = solve(LocationProblem.from_cost_matrix(costs), "p-median", p=3)
    # Places 0..29 on a line, p = 3: a median of each block of ten (e.g. 4 or 5 for 0..9)
    # serves it at 5+4+3+2+1+0+1+2+3+4 = 25, so 75 in all.
    assert result.status == "optimal" and result.objective == 75.0 and result.gap == 0.0
    assert result.solver == "lagrangian" and len(result.open_sites) == 3
    assert set(result.stats) >= {"method", "nodes", "root_bound", "sites_fixed_closed_at_root"}
    assert result.stats["root_bound"] <= 75.0
