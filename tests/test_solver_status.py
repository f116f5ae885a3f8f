"""Solver outcomes read honestly: what is a proof, what is only a stop, the gap, and the read-back.

Nothing here waits for a clock: HiGHS stops are simulated by patching its model
status, CBC's report is parsed from a log excerpt, and read-backs are checked on
hand-made column values.
"""

from __future__ import annotations

import highspy
import numpy as np
import pulp
import pytest

from estate.locate import formulate
from estate.locate.instances import load_family
from estate.locate.problem import LocationProblem, SideConstraints
from estate.locate.solve import HIGHS_STOPS, _cbc_report, _finish, _gap, _highs_outcome, _Run, solve

ALL_HIGHS_STATUSES = list(highspy.HighsModelStatus.__members__)
#: Statuses that prove nothing, each stopping the solver short of a proof.
NON_PROOFS = ["kNotset", "kLoadError", "kModelError", "kPresolveError", "kSolveError", "kPostsolveError",
              "kUnbounded", "kObjectiveBound", "kObjectiveTarget", "kIterationLimit", "kUnknown",
              "kSolutionLimit", "kInterrupt", "kMemoryLimit", "kHighsInterrupt"]


def two_sites() -> LocationProblem:
    """Sites A, B (fixed 3, 4) and zones 1, 2 at cost 1 from their own site, 10 from the other.
    Optimum 3 + 1 + 10 = 14 (A alone) against 3 + 4 + 1 + 1 = 9 (both): both open, 9."""
    return LocationProblem.from_arrays([3.0, 4.0], [1.0, 1.0], [0, 0, 1, 1], [0, 1, 0, 1], [1.0, 10.0, 10.0, 1.0])


def three_by_three(capacity=None) -> LocationProblem:
    """Three zones (weight 1) and three sites (no fixed cost), every pair at cost 1 + |zone − site|."""
    zone, site = np.divmod(np.arange(9), 3)
    return LocationProblem.from_arrays(np.zeros(3), np.ones(3), zone, site, 1.0 + np.abs(zone - site),
                                       capacity=capacity)


# --- 1. HiGHS statuses: only kInfeasible (and kUnboundedOrInfeasible) prove infeasibility ----------------------


def test_every_highs_status_has_plain_words():
    assert set(ALL_HIGHS_STATUSES) <= set(HIGHS_STOPS)
    assert set(NON_PROOFS) | {"kOptimal", "kModelEmpty", "kInfeasible", "kUnboundedOrInfeasible",
                              "kTimeLimit"} == set(ALL_HIGHS_STATUSES)


@pytest.mark.parametrize("name", ALL_HIGHS_STATUSES)
@pytest.mark.parametrize("has_solution", [True, False])
def test_highs_outcome_for_every_status(name, has_solution):
    outcome = _highs_outcome(name, has_solution)
    if name in ("kInfeasible", "kUnboundedOrInfeasible"):
        assert outcome == "infeasible"
    elif name == "kTimeLimit":
        assert outcome == "time_limit"
    elif not has_solution:
        assert outcome == "stopped"
    elif name in ("kOptimal", "kModelEmpty"):
        assert outcome == "optimal"
    else:
        assert outcome == "feasible"


def test_unbounded_or_infeasible_is_a_proof_only_for_a_bounded_model():
    assert _highs_outcome("kUnboundedOrInfeasible", False, bounded=True) == "infeasible"
    assert _highs_outcome("kUnboundedOrInfeasible", False, bounded=False) == "stopped"
    assert _highs_outcome("kUnboundedOrInfeasible", True, bounded=False) == "feasible"


@pytest.mark.parametrize("name", NON_PROOFS)
def test_highs_stop_without_a_solution_is_stopped_not_infeasible(monkeypatch, name):
    # HiGHS "runs" without doing anything and reports a stop that proves nothing.
    monkeypatch.setattr(highspy.Highs, "run", lambda self: highspy.HighsStatus.kWarning)
    monkeypatch.setattr(highspy.Highs, "getModelStatus", lambda self: highspy.HighsModelStatus.__members__[name])
    sol = solve(two_sites(), "min-cost", solver="highs")
    assert sol.status == "stopped" and sol.objective is None and sol.gap is None
    assert sol.explanation == f"the solver stopped ({HIGHS_STOPS[name]}) before finding any solution"


def test_highs_time_limit_without_a_solution_is_time_limit(monkeypatch):
    monkeypatch.setattr(highspy.Highs, "run", lambda self: highspy.HighsStatus.kWarning)
    monkeypatch.setattr(highspy.Highs, "getModelStatus", lambda self: highspy.HighsModelStatus.kTimeLimit)
    sol = solve(two_sites(), "min-cost", solver="highs", time_limit=5.0)
    assert sol.status == "time_limit" and sol.objective is None
    assert "time limit" in sol.explanation


@pytest.mark.parametrize("name", ["kMemoryLimit", "kInterrupt", "kUnknown", "kSolutionLimit"])
def test_highs_stop_with_an_incumbent_is_feasible(monkeypatch, name):
    # HiGHS solves, then reports a stop that proves nothing.
    monkeypatch.setattr(highspy.Highs, "getModelStatus", lambda self: highspy.HighsModelStatus.__members__[name])
    sol = solve(two_sites(), "min-cost", solver="highs")
    assert sol.status == "feasible" and sol.objective == pytest.approx(9.0)
    assert sol.bound is not None and sol.bound <= sol.objective + 1e-9 and 0.0 <= sol.gap <= 1.0
    assert sol.explanation == f"the solver stopped ({HIGHS_STOPS[name]}) before proving optimality"


def test_cbc_without_a_solution_is_stopped_not_infeasible(monkeypatch):
    def not_solved(self, solver=None, **kwargs):
        self.status, self.sol_status = pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound
        return self.status

    monkeypatch.setattr(pulp.LpProblem, "solve", not_solved)
    sol = solve(two_sites(), "min-cost", solver="cbc")
    assert sol.status == "stopped" and sol.objective is None and "before finding any solution" in sol.explanation


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_proved_infeasible_is_still_infeasible(solver):
    # Each zone (weight 2) fits a site (capacity 3) and 6 ≤ 6 in total, but whole zones fit one per site.
    problem = LocationProblem.from_cost_matrix(np.ones((3, 2)), weight=[2, 2, 2], capacity=[3, 3])
    sol = solve(problem, "min-cost", single_source=True, solver=solver)
    assert sol.status == "infeasible" and sol.objective is None
    assert sol.explanation == "the solver proved it infeasible"


# --- 2. CBC stopping at the requested gap is not a proof ------------------------------------------------------

CBC_LOG_TAIL = """Cbc0011I Exiting as integer gap of 83.154345 less than 1e-10 or 5%
Cbc0001I Search completed - best objective 8848, took 0 iterations and 0 nodes (0.11 seconds)

Result - Optimal solution found (within gap tolerance)

Objective value:                8848.00000000
Lower bound:                    8764.846
Gap:                            0.01
Enumerated nodes:               0
Total iterations:               0
"""


def test_cbc_report_reads_the_closing_lines():
    report = _cbc_report("Cbc0038I Objective value: 1\n" + CBC_LOG_TAIL)
    assert report["result"] == "Optimal solution found (within gap tolerance)"
    assert report["objective"] == 8848.0
    assert report["bound"] == pytest.approx(8764.846 - 0.0005, abs=1e-9)  # rounded down, never up
    proven = _cbc_report("Result - Optimal solution found\n\nObjective value:   7092.00000000\n")
    assert proven == {"result": "Optimal solution found", "objective": 7092.0, "bound": None}
    assert _cbc_report("Clp0000I Optimal - objective value 2\n") == {"result": None, "objective": None,
                                                                    "bound": None}


@pytest.mark.parametrize("name", ["p7", "p13", "p19"])
def test_cbc_gap_stop_is_not_reported_optimal(shared_dir, name):
    # At a 5% gap CBC may stop at a plan dearer than the optimum (p7: 9,543 against 9,488).
    inst = load_family(shared_dir, "holmberg", [name])[0]
    exact = solve(inst.problem, inst.objective, single_source=True, gap=0.0, solver="cbc")
    assert exact.status == "optimal" and exact.objective == pytest.approx(inst.optimum, rel=1e-9)
    optimum = exact.objective
    loose = solve(inst.problem, inst.objective, single_source=True, gap=0.05, solver="cbc")
    tol = 1e-9 * optimum
    assert loose.objective is not None and optimum <= loose.objective + tol
    if loose.bound is not None:
        assert loose.bound <= optimum + tol
        assert loose.gap == pytest.approx(_gap(loose.objective, loose.bound, "feasible"))
    if loose.status == "optimal":
        assert loose.objective == pytest.approx(optimum, rel=1e-6) and loose.gap <= 1e-6
    if abs(loose.objective - optimum) > 1e-6 * optimum:
        assert loose.status != "optimal"
        assert loose.status == "feasible" and (loose.gap is None or loose.gap > 0)


# --- 3. The relative gap stays in [0, 1] --------------------------------------------------------------------


def test_gap_is_relative_to_the_larger_of_value_and_bound():
    assert _gap(0.0, -5000.0, "time_limit") == 1.0  # nothing better than the start, which costs 0
    assert 0.0 <= _gap(1e-7, -5000.0, "time_limit") <= 1.0
    assert _gap(-1.0, 1.0, "feasible") == 1.0
    assert _gap(110.0, 100.0, "feasible") == pytest.approx(10.0 / 110.0)
    assert _gap(-100.0, -110.0, "feasible") == pytest.approx(10.0 / 110.0)
    assert _gap(0.0, 0.0, "feasible") == 0.0
    assert _gap(100.0, None, "feasible") is None
    assert _gap(100.0, 100.0 - 1e-7, "optimal") == 0.0


def test_gap_of_an_incumbent_costing_zero():
    # An offset makes keeping everything (3 + 4 + 1 + 1) cost 0; the run stopped with a bound of -5.
    problem = two_sites()
    problem.side = SideConstraints()
    problem.side.offset = -9.0
    milp = formulate.min_cost(problem)
    values = np.zeros(milp.A.shape[1])
    values[milp.parts["y"][0]:milp.parts["y"][1]] = 1.0
    values[milp.parts["x"][0] + np.array([0, 3])] = 1.0
    sol = _finish(problem, "min-cost", milp, _Run("time_limit", values, 0.0, -5.0, 1.0, "highs"), 0.0, "highs", None)
    assert sol.status == "time_limit" and sol.objective == pytest.approx(0.0, abs=1e-12)
    assert sol.bound == -5.0 and sol.gap == 1.0


# --- 4. Read-back: one site per zone when single-source, residue dropped when fractional ----------------------


def finish_with(problem: LocationProblem, single_source: bool, x: list[float]):
    milp = formulate.min_cost(problem, single_source)
    values = np.zeros(milp.A.shape[1])
    values[milp.parts["y"][0]:milp.parts["y"][1]] = 1.0
    values[milp.parts["x"][0]:milp.parts["x"][1]] = x
    return _finish(problem, "min-cost", milp, _Run("optimal", values, None, None, 1.0, "highs"), 0.0, "highs", None)


def test_single_source_read_back_takes_each_zones_largest_pair():
    # Pairs in order (zone, site): (0,0) (0,1) (0,2) (1,0) (1,1) (1,2) (2,0) (2,1) (2,2).
    x = [1e-7, 0.9999999, 0.0,   # zone 0: residue on site 0, site 1 within tolerance of 1
         0.0, 0.5, 0.5,          # zone 1: a tie goes to the lowest site, 1
         3e-8, 0.0, 1.0]         # zone 2: site 2, residue on site 0
    sol = finish_with(three_by_three(), True, x)
    a = sol.assignments
    assert list(a["zone"]) == [0, 1, 2] and list(a["site"]) == [1, 1, 2]
    assert (a["share"] == 1.0).all()
    assert sol.objective == pytest.approx(2.0 + 1.0 + 1.0)  # costs 1 + |0 - 1|, 1, 1


def test_fractional_read_back_drops_residue_and_renormalises():
    x = [0.6, 0.4 - 2e-7, 2e-7,   # zone 0 split between sites 0 and 1, residue on site 2
         0.0, 1.0, 5e-7,          # zone 1 on site 1, residue on site 2
         0.0, 0.0, 1.0]
    sol = finish_with(three_by_three(), False, x)
    a = sol.assignments
    assert list(zip(a["zone"], a["site"])) == [(0, 0), (0, 1), (1, 1), (2, 2)]
    assert np.allclose(a.groupby("zone")["share"].sum(), 1.0, rtol=0, atol=1e-12)
    assert a["share"].iloc[0] == pytest.approx(0.6 / (1.0 - 2e-7), rel=1e-12)


# --- The time limit is a safety net that never changes the answer --------------------------------------------

def _costly_start(problem: LocationProblem):
    """A feasible start that is not the optimum of :func:`three_by_three`: every site open, zone i
    served by site i + 1 (mod 3), at cost 2 + 2 + 3 = 7 against the optimum's 3."""
    from estate.locate.solve import Start

    pairs = np.flatnonzero(problem.pair_site == (problem.pair_zone + 1) % 3)
    return Start(np.arange(problem.n_sites), pairs)


def test_a_time_limited_solve_keeps_the_start_when_asked(monkeypatch):
    """When the safety limit stops the solver, its incumbent depends on how far the machine got;
    with ``time_limit_keeps_start`` the answer is the start, with the bound proved by then."""
    import estate.locate.solve as solve_module

    problem = three_by_three()
    start = _costly_start(problem)
    best = solve(problem, "min-cost", single_source=True)
    real = solve_module._run_highs

    def stopped_by_the_clock(milp, time_limit, gap, start_values, max_nodes=None, progress=None, options=None):
        run = real(milp, time_limit, gap, start_values)  # the optimum, as if found just before the limit
        return _Run("time_limit", run.values, run.objective, run.objective - 1.0, 99.0, "highs")

    monkeypatch.setattr(solve_module, "_run_highs", stopped_by_the_clock)
    took = solve(problem, "min-cost", single_source=True, start=start, time_limit=1.0)
    assert took.objective == pytest.approx(best.objective)  # without the rule: the clock's incumbent
    kept = solve(problem, "min-cost", single_source=True, start=start, time_limit=1.0, time_limit_keeps_start=True)
    assert best.objective == pytest.approx(3.0)
    assert kept.status == "time_limit" and kept.objective == pytest.approx(7.0)
    assert sorted(kept.open_sites) == [0, 1, 2] and kept.bound == pytest.approx(best.objective - 1.0)
    assert "the solution is the start" in kept.explanation
    assert 0 < kept.gap <= 1


def test_progress_is_reported_and_no_solver_banner_reaches_standard_output(monkeypatch, capfd):
    import estate.locate.solve as solve_module

    monkeypatch.setattr(solve_module, "PROGRESS_SECONDS", 0.0)
    rng = np.random.default_rng(0)
    problem = LocationProblem.from_cost_matrix(rng.uniform(1, 100, (40, 30)), fixed_cost=rng.uniform(50, 200, 30),
                                               capacity=np.full(30, 5.0), weight=np.ones(40))
    calls = []
    sol = solve(problem, "min-cost", single_source=True, gap=0.0, progress=lambda *a: calls.append(a))
    assert sol.status == "optimal" and calls
    objective, bound, gap, seconds = calls[-1]
    assert seconds >= 0 and (objective is None or objective >= sol.objective - 1e-6)
    assert bound is None or bound <= sol.objective + 1e-6
    out = capfd.readouterr().out
    assert "HiGHS" not in out and "Copyright" not in out


@pytest.mark.parametrize("max_nodes, restart", [(1, False), (None, True), (50, True)])
def test_a_root_search_only_runs_without_highs_restart(monkeypatch, max_nodes, restart):
    """With a node limit of 1 (the root search, as the built-in plan solves), HiGHS's restart only repeats
    the root's cut loop, so it is off; any longer search keeps HiGHS's default. The answer is the same
    either way: the 3 × 3 problem's optimum, every zone at its own site, 3."""
    import estate.locate.solve as solve_module

    made = []
    real = solve_module._quiet_highs
    monkeypatch.setattr(solve_module, "_quiet_highs", lambda: made.append(real()) or made[-1])
    solution = solve(three_by_three(capacity=[1.0, 1.0, 1.0]), "min-cost", single_source=True, max_nodes=max_nodes)
    assert solution.objective == pytest.approx(3.0)
    assert [h.getOptionValue("mip_allow_restart")[1] for h in made] == [restart]
