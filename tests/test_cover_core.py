"""Large set covers through the core, reduced-cost fixing and dominance (estate.locate.cover_core).

The answers are known independently: by hand, by trying every subset of sites, or by HiGHS on the
whole model.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from estate.locate import cover_core
from estate.locate import solve as solve_module
from estate.locate.problem import CLOSED, OPEN, LocationProblem
from estate.locate.solve import solve


def test_superset_rows_by_hand():
    # Zones over sites: r1 = {0,1,2} includes r0 = {0,1}; r2 equals r0 and comes later. Both go.
    zones = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]]))
    assert list(cover_core.superset_rows(zones)) == [False, True, True, False, False]
    # Sites over zones, with costs: s0 = {0,1} at 5 is inside s1 = {0,1,2} at 5 (and s2 = {0,1} at 4):
    # closed. s2 is cheaper than s1: kept. s4 is s1 again at the same cost, later: closed.
    sites = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 1], [1, 1, 1, 0]]))
    cost = np.array([5.0, 5.0, 4.0, 1.0, 5.0])
    assert list(cover_core.superset_rows(sites, cost=cost)) == [True, False, False, False, True]


def test_whole_bound_by_hand():
    # LP bound 8; a cover using column 0 costs at least 8 + 1 = 9, one using column 1 at least 13.
    reduced = np.array([1.0, 5.0])
    assert cover_core.whole_bound(10.0, 8.0, reduced, np.array([False, True])) == 10.0
    assert cover_core.whole_bound(10.0, 8.0, reduced, np.array([True, False])) == 9.0
    # Never below the LP bound, which holds whatever the restricted solve proved.
    assert cover_core.whole_bound(None, 8.0, reduced, np.array([True, False])) == 8.0
    assert cover_core.whole_bound(7.0, 8.0, reduced, np.array([False, True])) == 8.0


def _through_the_core(monkeypatch, core_columns: int, reduce_first: bool) -> None:
    monkeypatch.setattr(cover_core, "CORE_MIN_COLUMNS", 1)
    monkeypatch.setattr(cover_core, "CORE_COLUMNS", core_columns)
    if not reduce_first:  # the pairwise reductions of small covers would leave the core little to do
        monkeypatch.setattr(solve_module, "COVER_REDUCTION_LIMIT", 0)


@pytest.mark.parametrize("reduce_first", [True, False])
def test_core_path_matches_brute_force(monkeypatch, reduce_first):
    # Random covers of 14 zones by 12 sites, one site forced open and one closed: the optimum through
    # the core equals the cheapest cover found by trying all 4,096 subsets of sites.
    _through_the_core(monkeypatch, core_columns=2, reduce_first=reduce_first)
    rng = np.random.default_rng(11)
    subsets = ((np.arange(2 ** 12)[:, None] >> np.arange(12)) & 1).astype(bool)
    fixed_total = dominated_total = cored = above = 0
    for trial in range(8):
        n, m = 14, 12
        costs = np.where(rng.random((n, m)) < 0.3, 1.0, np.inf)
        costs[np.arange(n), rng.integers(0, m, n)] = 1.0  # every zone has a site
        fixed = rng.integers(1, 30, m).astype(float)
        problem = LocationProblem.from_cost_matrix(costs, fixed_cost=fixed)
        forced, closed = trial % m, (trial + 5) % m
        problem.status[forced], problem.status[closed] = OPEN, CLOSED
        covers = np.isfinite(costs)
        allowed = subsets[:, forced] & ~subsets[:, closed]
        feasible = allowed & ((subsets.astype(int) @ covers.T.astype(int)) > 0).all(axis=1)
        result = solve(problem, "cover", max_cost=5.0)
        if not feasible.any():
            assert result.status == "infeasible"
            continue
        best = (subsets[feasible] * fixed).sum(axis=1).min()
        assert result.status == "optimal" and result.objective == best and result.gap == 0.0
        assert covers[:, result.open_sites].any(axis=1).all() and forced in result.open_sites
        assert closed not in result.open_sites
        core = result.stats.get("cover_core")
        if core is None:  # the pairwise reductions left no site free: nothing for the core
            assert reduce_first
            continue
        cored += 1
        assert core["lp_bound"] <= best + 1e-6 and core["core_objective"] >= best - 1e-6
        above += core["core_objective"] > best  # the core missed the optimum: fixing had to keep it
        fixed_total += core["fixed_by_reduced_cost"]
        dominated_total += core["columns_dominated"]
    assert cored >= 3 and fixed_total > 0 and above > 0  # the core path and its fixing were exercised
    if not reduce_first:
        assert dominated_total > 0


def test_geographic_cover_through_the_core_equals_the_whole_model(monkeypatch):
    # Up to 800 zones and 300 sites scattered around 12 towns, covered within 8 km: HiGHS on the whole model
    # and the core path (a core of 40) reach the same optimum, and the core path fixes most columns.
    rng = np.random.default_rng(3)
    towns = rng.uniform(0, 60, (12, 2))
    zones = towns[rng.integers(0, 12, 800)] + rng.normal(0, 4, (800, 2))
    sites = np.vstack([zones[rng.choice(800, 150, replace=False)],
                       towns[rng.integers(0, 12, 150)] + rng.normal(0, 4, (150, 2))])
    distance = np.linalg.norm(zones[:, None, :] - sites[None, :, :], axis=2)
    distance = distance[(distance <= 8.0).any(axis=1)]  # zones no site reaches are left out
    problem = LocationProblem.from_cost_matrix(distance, fixed_cost=rng.integers(50, 501, 300).astype(float),
                                               max_cost=8.0)
    monkeypatch.setattr(solve_module, "COVER_REDUCTION_LIMIT", 0)
    whole = solve(problem, "cover", max_cost=8.0)
    assert "cover_core" not in whole.stats
    _through_the_core(monkeypatch, core_columns=40, reduce_first=False)
    cored = solve(problem, "cover", max_cost=8.0)
    assert whole.status == cored.status == "optimal"
    assert cored.objective == pytest.approx(whole.objective) and cored.gap == 0.0
    core = cored.stats["cover_core"]
    assert core["lp_bound"] <= whole.objective + 1e-6
    assert core["core_columns"] < 150  # the core is the 40, the LP's sites and the greedy's, not all 300
    assert core["restricted_columns"] <= 300 - core["fixed_by_reduced_cost"]
    assert core["fixed_by_reduced_cost"] > 150
    covered = (distance[:, cored.open_sites] <= 8.0).any(axis=1)
    assert covered.all()


def test_the_core_prices_its_cover_from_the_cover_itself(monkeypatch):
    # HiGHS 1.16, given a start with presolve on, reported this core's cover at 21 (its "reduced
    # space"), below the LP bound of 34: fixing from that figure closed every other site and lost the
    # optimum. The optimum, by hand over the 6 zones: sites 3 and 8 with the forced site 5, 17 + 12 + 5.
    _through_the_core(monkeypatch, core_columns=3, reduce_first=False)
    covers = np.array([[0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1],
                       [0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1],
                       [1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1],
                       [0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0],
                       [1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1],
                       [1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1]], bool)
    fixed = np.array([19.0, 24.0, 14.0, 17.0, 14.0, 5.0, 16.0, 16.0, 12.0, 19.0, 15.0])
    problem = LocationProblem.from_cost_matrix(np.where(covers, 1.0, np.inf), fixed_cost=fixed)
    problem.status[5] = OPEN
    result = solve(problem, "cover", max_cost=5.0)
    assert result.status == "optimal" and result.objective == 34.0 and result.gap == 0.0
    assert sorted(result.open_sites) == [3, 5, 8]
    core = result.stats["cover_core"]
    assert core["core_objective"] is None or core["core_objective"] >= core["lp_bound"] - 1e-6


def test_zones_all_covered_by_forced_sites_are_optimal_through_the_core(monkeypatch):
    # Site 0 is forced open and covers every zone: nothing else is worth opening, proven.
    _through_the_core(monkeypatch, core_columns=2, reduce_first=False)
    problem = LocationProblem.from_cost_matrix(np.ones((3, 4)), fixed_cost=np.array([5.0, 1.0, 2.0, 3.0]))
    problem.status[0] = OPEN
    result = solve(problem, "cover", max_cost=5.0)
    assert result.status == "optimal" and result.objective == 5.0 and result.gap == 0.0
    assert list(result.open_sites) == [0]
    assert result.stats["cover_core"]["restricted_rows"] == 0
