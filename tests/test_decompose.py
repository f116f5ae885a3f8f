"""Independent parts of a MILP (estate.locate.decompose) and their solve in estate.locate.solve._run.

Small cases checked by hand or by brute force, split and whole. No test reads the clock: where the
time budget matters, the clock is a stand-in that the solver's stand-in moves on.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import scipy.sparse as sp

import estate.locate.decompose as decompose_module
import estate.locate.solve as solve_module
from estate.cli import main
from estate.locate import formulate
from estate.locate.decompose import combine, decompose
from estate.locate.problem import OPEN, LocationProblem
from estate.locate.solve import _gap, _Run, _run, solve


@pytest.fixture
def split_small(monkeypatch):
    """Split even the smallest blocks (by default blocks under 2,000 columns are packed together)."""
    monkeypatch.setattr(decompose_module, "BATCH_COLUMNS", 1)


def _milp(A, c, row_lower, row_upper, col_lower=None, col_upper=None, integer=None) -> formulate.Milp:
    A = sp.csc_matrix(np.asarray(A, float))
    n = A.shape[1]
    return formulate.Milp(c=np.asarray(c, float), A=A, row_lower=np.asarray(row_lower, float),
                          row_upper=np.asarray(row_upper, float),
                          col_lower=np.zeros(n) if col_lower is None else np.asarray(col_lower, float),
                          col_upper=np.ones(n) if col_upper is None else np.asarray(col_upper, float),
                          integer=np.ones(n, bool) if integer is None else np.asarray(integer, bool))


def two_regions(status=None) -> LocationProblem:
    """Two regions of three zones and three sites each; no zone of one reaches a site of the other.

    Costs are whole numbers chosen so that the optimum is unique (checked by brute force below)."""
    pairs = [  # zone, site, cost
        (0, 0, 2), (0, 1, 7), (1, 0, 6), (1, 1, 1), (1, 2, 5), (2, 1, 4), (2, 2, 3),
        (3, 3, 1), (3, 4, 9), (4, 3, 8), (4, 4, 2), (4, 5, 6), (5, 4, 7), (5, 5, 1),
    ]
    zone, site, cost = (np.array(v) for v in zip(*pairs))
    return LocationProblem.from_arrays(np.array([10.0, 14.0, 9.0, 12.0, 11.0, 13.0]),
                                       np.array([3.0, 2.0, 4.0, 1.0, 5.0, 2.0]), zone, site, cost.astype(float),
                                       status=status)


def brute_force_min_cost(problem: LocationProblem) -> tuple[float, tuple]:
    """The cheapest set of open sites (each zone to its cheapest open site), over every subset."""
    best = (np.inf, ())
    must = set(np.flatnonzero(problem.status == OPEN))
    for k in range(1, problem.n_sites + 1):
        for open_sites in itertools.combinations(range(problem.n_sites), k):
            if not must <= set(open_sites):
                continue
            nearest = np.full(problem.n_zones, np.inf)
            ok = np.isin(problem.pair_site, open_sites)
            np.minimum.at(nearest, problem.pair_zone[ok], problem.pair_cost[ok])
            total = problem.fixed_cost[list(open_sites)].sum() + (problem.weight * nearest).sum()
            if total < best[0] - 1e-9:
                best = (total, open_sites)
    return best


@pytest.mark.parametrize("single_source", [False, True])
def test_two_regions_solved_split_and_whole_give_the_brute_force_optimum(split_small, single_source):
    problem = two_regions()
    optimum, open_sites = brute_force_min_cost(problem)
    # By hand. Region 1: sites 0 and 2 cost 10 + 9 + 3·2 + 2·5 + 4·3 = 47 (sites 0 and 1: 24 + 6 + 2 + 16 = 48;
    # site 1 alone: 14 + 21 + 2 + 16 = 53). Region 2: site 4 alone, 11 + 1·9 + 5·2 + 2·7 = 44 (sites 4 and 5:
    # 24 + 9 + 10 + 2 = 45). Total 91.
    assert optimum == pytest.approx(91.0) and open_sites == (0, 2, 4)
    split = solve(problem, "min-cost", single_source=single_source)
    whole = solve(problem, "min-cost", single_source=single_source, split=False)
    for sol in (split, whole):
        assert sol.status == "optimal" and sol.objective == pytest.approx(91.0) and sol.gap == 0
        assert tuple(sol.open_sites) == (0, 2, 4)
    assert split.assignments.equals(whole.assignments)
    parts = split.stats["independent_parts"]
    assert parts["split"] and parts["blocks"] == 2 and len(parts["parts"]) == 2
    # Each region: 3 site columns + 7 (or 7) pair columns; 3 zone rows + one x ≤ y row per pair.
    assert sorted((p["columns"], p["rows"]) for p in parts["parts"]) == [(10, 10), (10, 10)]
    assert all(p["status"] == "optimal" for p in parts["parts"])
    assert "independent_parts" not in whole.stats


def test_a_site_forced_open_does_not_join_the_regions_it_serves(split_small):
    """A fixed column is a constant: a site forced open that zones of both regions reach leaves them
    independent (its x ≤ y rows become x ≤ 1)."""
    base = two_regions()
    # Site 6, forced open, fixed cost 5, reaches zone 0 at 1 and zone 5 at 3.
    problem = LocationProblem.from_arrays(
        np.r_[base.fixed_cost, 5.0], base.weight, np.r_[base.pair_zone, 0, 5], np.r_[base.pair_site, 6, 6],
        np.r_[base.pair_cost, 1.0, 3.0], status=np.r_[np.zeros(6), OPEN])
    optimum, open_sites = brute_force_min_cost(problem)
    split = solve(problem, "min-cost", single_source=True)
    whole = solve(problem, "min-cost", single_source=True, split=False)
    assert split.stats["independent_parts"]["split"]
    assert split.objective == pytest.approx(optimum) and whole.objective == pytest.approx(optimum)
    assert tuple(split.open_sites) == tuple(whole.open_sites) == open_sites


def test_two_disjoint_covers_by_hand(split_small, monkeypatch):
    """Region 1: zones 1-3; site A1 covers 1, 2 (3), A2 covers 2, 3 (3), A3 covers all three (5): A3, 5.
    Region 2: zones 4, 5; B1 covers 4 (1), B2 covers 5 (1), B3 covers both (3): B1 + B2, 2. Total 7."""
    monkeypatch.setattr(solve_module, "COVER_REDUCTION_LIMIT", 0)  # no reductions: the MILP sees it all
    cover = {0: [0, 1], 1: [1, 2], 2: [0, 1, 2], 3: [3], 4: [4], 5: [3, 4]}
    site, zone = (np.array(v) for v in zip(*[(s, z) for s, zs in cover.items() for z in zs]))
    problem = LocationProblem.from_arrays(np.array([3.0, 3.0, 5.0, 1.0, 1.0, 3.0]), np.ones(5), zone, site,
                                          np.ones(len(zone)))
    split = solve(problem, "cover", max_cost=1.0)
    whole = solve(problem, "cover", max_cost=1.0, split=False)
    for sol in (split, whole):
        assert sol.status == "optimal" and sol.objective == pytest.approx(7.0)
        assert tuple(sol.open_sites) == (2, 3, 4)
    assert [(p["columns"], p["rows"]) for p in split.stats["independent_parts"]["parts"]] == [(3, 3), (3, 2)]


def test_one_block_is_not_split():
    problem = LocationProblem.from_cost_matrix(np.array([[1.0, 4.0], [3.0, 1.0], [2.0, 2.0]]),
                                               fixed_cost=np.array([2.0, 2.0]))
    milp = formulate.min_cost(problem)
    dec = decompose(milp, batch_columns=1)
    assert not dec.split and dec.blocks == 1 and dec.reason == "one block: nothing to split"
    sol = solve(problem, "min-cost")
    assert sol.stats["independent_parts"] == {"blocks": 1, "split": False,
                                              "analysis_seconds": sol.stats["independent_parts"]["analysis_seconds"],
                                              "reason": "one block: nothing to split"}


def test_one_block_holding_nearly_everything_is_not_split():
    # Block 1: columns 0-19 chained by rows x_i + x_{i+1} ≥ 1; block 2: column 20 alone in a row.
    n = 21
    A = np.zeros((20, n))
    for i in range(19):
        A[i, i] = A[i, i + 1] = 1.0
    A[19, 20] = 1.0
    milp = _milp(A, np.ones(n), np.ones(20), np.full(20, np.inf))
    dec = decompose(milp, batch_columns=1, no_split_share=0.95)
    assert not dec.split and dec.blocks == 2
    assert dec.reason == ("2 blocks, but one holds 20 of the 21 free columns (95.2%): nothing to gain from "
                          "splitting")
    assert decompose(milp, batch_columns=1, no_split_share=0.96).split


def test_tiny_blocks_are_packed_together_and_parts_come_smallest_first():
    # Blocks of 3, 3, 3 and 10 columns (each a row over its columns), packed into parts of up to 7.
    sizes = [3, 3, 3, 10]
    A = sp.block_diag([np.ones((1, k)) for k in sizes]).toarray()
    milp = _milp(A, np.ones(A.shape[1]), np.ones(4), np.full(4, np.inf))
    dec = decompose(milp, batch_columns=7, no_split_share=1.01)
    assert dec.blocks == 4
    assert [(len(p.columns), len(p.rows), p.blocks) for p in dec.parts] == [(3, 1, 1), (6, 2, 2), (10, 1, 1)]
    assert dec.parts[1].columns.tolist() == [0, 1, 2, 3, 4, 5]
    assert not decompose(milp, batch_columns=100).split  # everything small: one part, solved whole
    assert decompose(milp, batch_columns=100).reason == "4 blocks, all small enough to solve as one"


def test_a_column_in_no_row_is_a_block_of_its_own():
    A = np.array([[1.0, 1.0, 0.0]])
    dec = decompose(_milp(A, [1, 1, -1], [1], [np.inf]), batch_columns=1, no_split_share=1.01)
    assert dec.blocks == 2 and [(p.columns.tolist(), p.rows.tolist()) for p in dec.parts] == [([2], []), ([0, 1], [0])]


def test_fixed_columns_move_into_the_row_bounds_and_the_constant():
    # x0 fixed at 1 (cost 5) links rows 0 and 1: 2·x0 + x1 ≥ 2 and x0 + x2 ≤ 1; offset 3.
    A = np.array([[2.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    milp = _milp(A, [5.0, 1.0, 1.0], [2.0, -np.inf], [np.inf, 1.0], col_lower=[1, 0, 0])
    milp.offset = 3.0
    dec = decompose(milp, batch_columns=1, no_split_share=1.01)
    assert dec.split and dec.fixed.tolist() == [0] and dec.constant == pytest.approx(8.0)
    by_column = {int(p.columns[0]): p for p in dec.parts}
    assert by_column[1].milp.row_lower.tolist() == [0.0] and by_column[2].milp.row_upper.tolist() == [0.0]
    assert dec.assemble([np.array([7.0]), np.array([9.0])]).tolist() == [1.0, 7.0, 9.0]


def test_a_row_broken_by_fixed_columns_alone_is_left_to_the_solver():
    A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    milp = _milp(A, [1, 1], [1, 1, -np.inf], [np.inf, np.inf, 0.5], col_lower=[1, 0])
    dec = decompose(milp, batch_columns=1, no_split_share=1.01)
    assert not dec.split and "row 2 holds fixed columns only" in dec.reason
    assert _run(milp, None, 0.0, "highs").status == "infeasible"


def test_an_infeasible_part_makes_the_whole_infeasible_and_is_named(split_small):
    # Part 1: x0 + x1 ≥ 1 (feasible); part 2: x2 + x3 ≥ 3 over binaries (infeasible).
    A = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
    milp = _milp(A, np.ones(4), [1.0, 3.0], [np.inf, np.inf])
    run = _run(milp, None, 0.0, "highs")
    assert run.status == "infeasible" and run.values is None and run.objective is None
    assert run.note == "part 2 of 2 (2 columns × 1 rows, 1 block): no solution"
    assert [p["status"] for p in run.parts["parts"]] == ["optimal", "infeasible"]


def test_an_infeasible_region_makes_the_solve_infeasible_with_the_part_named(split_small):
    """Region 2's two zones of weight 3 reach only a site of capacity 4: no check before the solver
    sees it (each zone fits, and an uncapacitated site in region 1 leaves the total unbounded)."""
    problem = LocationProblem.from_arrays(np.array([1.0, 1.0, 1.0]), np.array([1.0, 3.0, 3.0]),
                                          np.array([0, 0, 1, 2]), np.array([0, 2, 1, 1]), np.ones(4),
                                          capacity=np.array([np.inf, 4.0, 4.0]))
    sol = solve(problem, "min-cost", single_source=True)
    assert sol.status == "infeasible"
    # Region 2 (site 1 and its two pairs; two zone rows, two x ≤ y rows, one capacity row) is the smaller part.
    assert sol.explanation == ("the solver proved it infeasible; part 1 of 2 (3 columns × 5 rows, 1 block): "
                               "no solution")
    assert solve(problem, "min-cost", single_source=True, split=False).status == "infeasible"


class _FakeSolver:
    """A stand-in for ``_run_highs`` that records what each part was given and answers from a script
    (status, objective, bound, note per call), moving a stand-in clock on by ``seconds`` a call."""

    def __init__(self, monkeypatch, script, seconds=10.0):
        self.script, self.calls, self.now, self.seconds = list(script), [], 1000.0, seconds
        monkeypatch.setattr(solve_module, "_run_highs", self)
        monkeypatch.setattr(solve_module.time, "perf_counter", lambda: self.now)

    def __call__(self, milp, time_limit, gap, start, max_nodes=None, progress=None, options=None):
        status, objective, bound, note = self.script.pop(0)
        self.calls.append({"columns": milp.A.shape[1], "time_limit": time_limit, "gap": gap, "start": start,
                           "max_nodes": max_nodes, "options": options})
        if progress is not None:
            progress(objective, bound, None, 1.0)
        self.now += self.seconds
        values = None if objective is None else np.zeros(milp.A.shape[1])
        return _Run(status, values, objective, bound, self.seconds, "highs", note)


def _three_parts() -> formulate.Milp:
    """Blocks of 1, 2 and 3 columns (a covering row each), with offset 100."""
    A = sp.block_diag([np.ones((1, k)) for k in (1, 2, 3)]).toarray()
    milp = _milp(A, np.ones(6), np.ones(3), np.full(3, np.inf))
    milp.offset = 100.0
    return milp


def test_each_part_gets_its_slice_of_the_start_the_node_limit_the_gap_and_what_remains_of_the_time(
        split_small, monkeypatch):
    fake = _FakeSolver(monkeypatch, [("optimal", 1.0, 1.0, "")] * 3)
    start = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    run = _run(_three_parts(), 25.0, 0.0, "highs", start=start, max_nodes=7, options={"presolve": "on"})
    assert [c["start"].tolist() for c in fake.calls] == [[1.0], [0.0, 1.0], [0.0, 0.0, 1.0]]
    assert [c["max_nodes"] for c in fake.calls] == [7, 7, 7]
    assert [c["gap"] for c in fake.calls] == [0.0] * 3
    assert [c["options"] for c in fake.calls] == [{"presolve": "on"}] * 3
    # A wall budget: each part gets what is left in proportion to its columns among the parts to come
    # (1 of 6 columns of 25 s, then 2 of 5 of the 15 s left, then all of the last 5 s).
    assert [c["time_limit"] for c in fake.calls] == [pytest.approx(25.0 / 6), pytest.approx(6.0),
                                                     pytest.approx(5.0)]
    assert run.status == "optimal" and run.objective == pytest.approx(103.0) and run.bound == pytest.approx(103.0)
    assert run.seconds == pytest.approx(30.0)
    assert [p["seconds"] for p in run.parts["parts"]] == [10.0, 10.0, 10.0]


def test_a_spent_budget_leaves_the_last_parts_no_time(split_small, monkeypatch):
    fake = _FakeSolver(monkeypatch, [("optimal", 1.0, 1.0, ""), ("time_limit", 1.0, 0.5, ""),
                                     ("time_limit", 1.0, 0.0, "")], seconds=30.0)
    run = _run(_three_parts(), 25.0, 0.0, "highs")
    assert [c["time_limit"] for c in fake.calls] == [pytest.approx(25.0 / 6), 0.0, 0.0]
    assert run.status == "time_limit" and run.note.startswith("part 2 of 3 (2 columns × 1 rows")
    assert run.objective == pytest.approx(103.0) and run.bound == pytest.approx(101.5)


def test_no_time_limit_stays_none(split_small, monkeypatch):
    fake = _FakeSolver(monkeypatch, [("optimal", 1.0, 1.0, "")] * 3)
    _run(_three_parts(), None, 0.0, "highs")
    assert [c["time_limit"] for c in fake.calls] == [None, None, None]


@pytest.mark.parametrize("statuses, expected, named", [
    (["optimal", "feasible", "optimal"], "feasible", 2),
    (["feasible", "time_limit", "feasible"], "time_limit", 2),
    (["optimal", "optimal", "stopped"], "stopped", 3),
    (["time_limit", "stopped", "optimal"], "time_limit", 1),
])
def test_the_status_is_combined_conservatively(split_small, monkeypatch, statuses, expected, named):
    script = [(s, None if s == "stopped" else 1.0, None if s == "stopped" else 1.0,
               "node limit" if s in ("feasible", "stopped") else "") for s in statuses]
    _FakeSolver(monkeypatch, script)
    run = _run(_three_parts(), None, 0.0, "highs")
    assert run.status == expected and run.note.startswith(f"part {named} of 3")
    assert (run.values is None) == ("stopped" in statuses)
    assert (run.bound is None) == ("stopped" in statuses)


def test_a_part_stopped_by_its_node_limit_is_named_in_the_explanation(split_small, monkeypatch):
    problem = two_regions()
    real = solve_module._run_highs
    calls = []

    def second_stops(milp, time_limit, gap, start, max_nodes=None, progress=None, options=None):
        run = real(milp, time_limit, gap, start, max_nodes=max_nodes)
        calls.append(max_nodes)
        if len(calls) == 2:
            run.status, run.note, run.bound = "feasible", "node limit (or solution limit)", run.objective - 4.0
        return run

    monkeypatch.setattr(solve_module, "_run_highs", second_stops)
    sol = solve(problem, "min-cost", single_source=True, max_nodes=5)
    assert calls == [5, 5] and sol.status == "feasible" and sol.objective == pytest.approx(91.0)
    assert sol.bound == pytest.approx(87.0) and sol.gap == pytest.approx(4.0 / 91.0)
    assert "part 2 of 2" in sol.explanation and "node limit" in sol.explanation


def test_the_combined_gap_comes_from_the_sums():
    assert combine([100.0, 50.0], [90.0, 45.0], 5.0) == (155.0, 140.0)
    # Each part within 10%; same signs: the sums are within 10% too.
    assert _gap(150.0, 135.0, "") == pytest.approx(0.1)
    # Mixed signs: +100 ≥ 90 and −100 ≥ −110, each within 10%, sum to 0 ≥ −20: a relative gap of 1.
    objective, bound = combine([100.0, -100.0], [90.0, -110.0], 0.0)
    assert (objective, bound) == (0.0, -20.0) and _gap(objective, bound, "") == 1.0
    assert combine([1.0, None], [1.0, 1.0], 0.0) == (None, 2.0)
    assert combine([1.0, 1.0], [None, 1.0], 0.0) == (2.0, None)


def test_a_gap_above_0_is_solved_whole(split_small, monkeypatch):
    """Parts stopped at their own gap need not leave the whole within it (see the combined-gap test
    above), so only a solve to optimality is split."""
    fake = _FakeSolver(monkeypatch, [("feasible", 160.0, 157.0, "")])
    run = _run(_three_parts(), None, 0.1, "highs")
    assert [(c["columns"], c["gap"]) for c in fake.calls] == [(6, 0.1)]
    assert run.parts["split"] is False and run.parts["blocks"] == 3 and "gap (0.1) is above 0" in run.parts["reason"]
    assert (run.objective, run.bound) == (160.0, 157.0)


def test_progress_reports_the_whole_incumbent_and_bound(split_small, monkeypatch):
    _FakeSolver(monkeypatch, [("optimal", 1.0, 1.0, ""), ("optimal", 2.0, 2.0, ""), ("optimal", 3.0, 2.5, "")])
    seen = []
    # The whole's incumbent counts the parts still to come at their start (1 + 2 + 3 columns at 1 each);
    # its bound is known only once the last part runs.
    _run(_three_parts(), None, 0.0, "highs", start=np.ones(6), progress=lambda *a: seen.append(a))
    assert [(o, b) for o, b, _, _ in seen] == [(106.0, None), (106.0, None), (106.0, 105.5)]
    assert [s for *_, s in seen] == [1.0, 11.0, 21.0]  # seconds since the split began
    assert seen[-1][2] == pytest.approx(0.5 / 106.0) and seen[0][2] is None
    # Without a start, the parts to come are unknown: no whole incumbent until the last part.
    _FakeSolver(monkeypatch, [("optimal", 1.0, 1.0, ""), ("optimal", 2.0, 2.0, ""), ("optimal", 3.0, 2.5, "")])
    seen.clear()
    _run(_three_parts(), None, 0.0, "highs", progress=lambda *a: seen.append(a))
    assert [(o, b) for o, b, _, _ in seen] == [(None, None), (None, None), (106.0, 105.5)]


def test_cbc_solves_whole():
    problem = two_regions()
    sol = solve(problem, "min-cost", solver="cbc")
    assert sol.objective == pytest.approx(91.0) and "independent_parts" not in sol.stats


def test_estate_solve_summary_records_the_parts(split_small, tmp_path):
    problem = two_regions()
    (tmp_path / "sites.csv").write_text("site_id,fixed_cost\n" + "".join(
        f"s{i},{c:g}\n" for i, c in enumerate(problem.fixed_cost)))
    (tmp_path / "demand.csv").write_text("zone_id,weight\n" + "".join(
        f"z{i},{w:g}\n" for i, w in enumerate(problem.weight)))
    (tmp_path / "costs.csv").write_text("zone_id,site_id,cost\n" + "".join(
        f"z{z},s{s},{c:g}\n" for z, s, c in zip(problem.pair_zone, problem.pair_site, problem.pair_cost)))
    out = tmp_path / "out"
    assert main(["solve", "--sites", str(tmp_path / "sites.csv"), "--demand", str(tmp_path / "demand.csv"),
                 "--costs", str(tmp_path / "costs.csv"), "--objective", "min-cost", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objective"] == pytest.approx(91.0) and summary["status"] == "optimal"
    parts = summary["stats"]["independent_parts"]
    assert parts["split"] and [(p["columns"], p["rows"]) for p in parts["parts"]] == [(10, 10), (10, 10)]
