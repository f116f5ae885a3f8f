"""The generic location engine on small cases solved by hand, and the CSV contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estate._errors import SourceErrors
from estate.cli import main
from estate.locate.contract import read_problem
from estate.locate.problem import LocationProblem, ProblemError
from estate.locate.solve import solve

LINE = np.array([0.0, 10.0, 20.0, 30.0, 40.0])  # five places on a line, each a zone and a site
LINE_COSTS = np.abs(LINE[:, None] - LINE[None, :])


@pytest.fixture(params=["highs", "cbc"])
def solver(request):
    return request.param


#: How a p-median is solved: Lagrangian branch-and-bound (no MIP solver), or the radius MIP by each solver.
P_MEDIAN_WAYS = [{"method": "lagrangian"}, {"method": "radius", "solver": "highs"},
                 {"method": "radius", "solver": "cbc"}]


@pytest.fixture(params=P_MEDIAN_WAYS, ids=["lagrangian", "radius-highs", "radius-cbc"])
def p_median_way(request):
    return request.param


def test_single_source_costs_more_than_splitting(solver):
    # Sites A (capacity 3) and B (capacity 5); three zones of weight 2.
    # Split: A takes z1 and one unit of z2 (cost 1 each), B takes z3 (1) and one unit of z2 (10): 2+1+10+2 = 15.
    # Whole: A takes z1 or z2 (2), B takes the other (2 x 10) and z3 (2): 24.
    costs = np.array([[1.0, 10.0], [1.0, 10.0], [10.0, 1.0]])
    problem = LocationProblem.from_cost_matrix(costs, weight=[2, 2, 2], capacity=[3, 5])
    split = solve(problem, "min-cost", solver=solver)
    whole = solve(problem, "min-cost", single_source=True, solver=solver)
    assert split.status == whole.status == "optimal"
    assert split.objective == pytest.approx(15.0) and whole.objective == pytest.approx(24.0)
    shares = whole.assignments.groupby("zone")["share"].sum()
    assert (shares == 1.0).all() and whole.assignments["share"].isin([1.0]).all()


def test_fixed_costs_trade_against_assignment(solver):
    # Opening B too (fixed 4) saves z3 9 units: 4 < 9, so both open: 3 + 4 + 1 + 1 + 1 = 10.
    costs = np.array([[1.0, 9.0], [1.0, 9.0], [10.0, 1.0]])
    problem = LocationProblem.from_cost_matrix(costs, fixed_cost=[3.0, 4.0])
    result = solve(problem, "min-cost", solver=solver)
    assert result.objective == pytest.approx(10.0) and list(result.open_sites) == [0, 1]


def test_p_median_on_a_line(p_median_way):
    # p = 2 on 0..40: open 10 and 30 (or 0/30, 10/40...): 10 + 0 + 10 + 0 + 10 = 30 is optimal.
    result = solve(LocationProblem.from_cost_matrix(LINE_COSTS), "p-median", p=2, **p_median_way)
    assert result.status == "optimal" and result.objective == pytest.approx(30.0)
    assert result.gap == 0.0 and result.bound == pytest.approx(30.0)


def test_p_center_on_a_line(solver):
    result = solve(LocationProblem.from_cost_matrix(LINE_COSTS), "p-center", p=2, solver=solver)
    assert result.objective == pytest.approx(10.0)


def test_cover_and_max_cover_on_a_line(solver):
    problem = LocationProblem.from_cost_matrix(LINE_COSTS)
    cover = solve(problem, "cover", max_cost=10.0, solver=solver)
    assert cover.objective == 2.0 and len(cover.open_sites) == 2  # one site covers 3 neighbours at most
    weighted = LocationProblem.from_cost_matrix(LINE_COSTS, weight=[1, 1, 5, 3, 2])
    best = solve(weighted, "max-cover", p=1, max_cost=10.0, solver=solver)
    assert best.objective == pytest.approx(10.0) and list(best.open_sites) == [3]  # 30 covers 20, 30, 40


def test_forced_open_and_closed_sites(p_median_way):
    problem = LocationProblem.from_cost_matrix(LINE_COSTS)
    problem.status[1] = -1  # 10 closed
    problem.status[0] = 1  # 0 forced open
    result = solve(problem, "p-median", p=2, **p_median_way)
    assert 0 in result.open_sites and 1 not in result.open_sites
    # With 0 open the best second site is 30: 0 + 10 + 10 + 0 + 10 = 30.
    assert result.objective == pytest.approx(30.0)


def test_infeasible_cases_are_explained():
    costs = np.array([[1.0, np.inf], [np.inf, np.inf]])  # zone 2 reaches no site
    problem = LocationProblem.from_cost_matrix(costs)
    result = solve(problem, "min-cost")
    assert result.status == "infeasible" and "1 zone(s) (2;" in result.explanation
    over = LocationProblem.from_cost_matrix(np.ones((2, 2)), weight=[5, 5], capacity=[4, 4])
    assert "above the total capacity" in solve(over, "min-cost").explanation
    assert "only 5 site(s) may open" in solve(LocationProblem.from_cost_matrix(LINE_COSTS), "p-median",
                                               p=6).explanation


def test_time_limit_is_never_reported_optimal():
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 100, size=(400, 2))
    costs = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)).round()
    result = solve(LocationProblem.from_cost_matrix(costs, fixed_cost=np.full(400, 30.0),
                                                   capacity=np.full(400, 12.0)),
                   "min-cost", single_source=True, time_limit=0.5)
    assert result.status in ("time_limit", "feasible")
    assert result.status != "optimal" and (result.gap is None or result.gap > 0)


def test_bad_problem_arrays():
    with pytest.raises(ProblemError, match="weights must be finite and > 0"):
        LocationProblem.from_cost_matrix(np.ones((2, 2)), weight=[1, -1])
    with pytest.raises(ProblemError, match="needs p"):
        solve(LocationProblem.from_cost_matrix(np.ones((2, 2))), "p-median")


def _write(tmp_path, sites="site_id,fixed_cost,capacity,status\nA,10,,\nB,10,,\nC,100,,closed\n",
           demand="zone_id,weight\nz1,1\nz2,2\nz3,1\n",
           costs="zone_id,site_id,cost\nz1,A,1\nz1,B,5\nz2,A,4\nz2,B,1\nz3,B,2\nz3,C,0\n"):
    for name, text in (("sites", sites), ("demand", demand), ("costs", costs)):
        (tmp_path / f"{name}.csv").write_text(text)
    return [str(tmp_path / f"{n}.csv") for n in ("sites", "demand", "costs")]


def test_solve_command_writes_the_contract(tmp_path, capsys):
    s, d, c = _write(tmp_path)
    out = tmp_path / "out"
    assert main(["solve", "--sites", s, "--demand", d, "--costs", c, "--objective", "min-cost",
                 "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    # Hand check: B alone serves everyone (A cannot reach z3; C is closed): 10 + 5 + 2 + 2 = 19.
    assert summary["objective"] == 19.0 and summary["status"] == "optimal" and summary["gap"] == 0.0
    assert {"objective", "bound", "gap", "status", "solver", "build_seconds", "solve_seconds",
            "open_sites"} <= set(summary)
    assert (out / "open_sites.csv").read_text().split() == ["site_id", "B"]
    assert (out / "assignments.csv").read_text().splitlines()[0] == "zone_id,site_id,share"


@pytest.mark.parametrize("method, solver", [("lagrangian", "lagrangian"), ("radius", "highs")])
def test_solve_command_p_median_methods(tmp_path, method, solver):
    s, d, c = _write(tmp_path)
    out = tmp_path / method
    assert main(["solve", "--sites", s, "--demand", d, "--costs", c, "--objective", "p-median", "--p", "1",
                 "--method", method, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    # p = 1 (C closed, A cannot reach z3): B alone, 5·1 + 1·2 + 2·1 = 9.
    assert (summary["objective"], summary["status"], summary["solver"]) == (9.0, "optimal", solver)
    assert (out / "open_sites.csv").read_text().split() == ["site_id", "B"]


def test_solve_command_explains_an_unreachable_zone(tmp_path, capsys):
    s, d, c = _write(tmp_path, costs="zone_id,site_id,cost\nz1,A,1\nz2,A,4\nz3,C,0\n")
    assert main(["solve", "--sites", s, "--demand", d, "--costs", c, "--objective", "min-cost",
                 "--out", str(tmp_path / "o")]) == 1
    assert "infeasible: 1 zone(s) (z3;" in capsys.readouterr().err
    assert json.loads((tmp_path / "o/summary.json").read_text())["status"] == "infeasible"


@pytest.mark.parametrize(
    "kwargs, expect",
    [
        ({"costs": "zone_id,site_id,cost\nz1,A,1\nz9,A,1\n"}, "zone id not in demand: ['z9'] on rows [3]"),
        ({"costs": "zone_id,site_id,cost\nz1,Q,1\n"}, "site id not in sites: ['Q'] on rows [2]"),
        ({"demand": "zone_id,weight\nz1,-2\nz2,1\nz3,1\n"}, "expected a finite number > 0: ['-2'] on rows [2]"),
        ({"demand": "zone,weight\nz1,1\n"}, "column 'zone_id'"),
        ({"sites": "site_id,status\nA,maybe\nB,\nC,\n"}, "expected one of ['free', 'open', 'closed']"),
        ({"costs": "zone_id,site_id,cost\nz1,A,cheap\n"}, "expected a finite number ≥ 0: ['cheap']"),
    ],
)
def test_contract_bad_inputs_name_file_column_and_row(tmp_path, kwargs, expect):
    s, d, c = _write(tmp_path, **kwargs)
    with pytest.raises(SourceErrors) as err:
        read_problem(s, d, c)
    assert expect in str(err.value)


def test_cover_reductions_by_hand():
    # Zone a reaches only S1 (forces it open); zone b reaches S1 or S2 (covered by S1: dropped);
    # zone c reaches S2 or S3, zone d reaches S2, S3 or S4 (implied by c: dropped);
    # S3 then covers {c} like S2 but costs more: dropped, so c forces S2; S4 covers nothing left.
    # Optimum, found by the reductions alone: S1 + S2 = 1 + 2 = 3.
    inf = np.inf
    costs = np.array([[0, inf, inf, inf], [0, 0, inf, inf], [inf, 0, 0, inf], [inf, 0, 0, 0]], float)
    problem = LocationProblem.from_cost_matrix(costs, fixed_cost=[1.0, 2.0, 5.0, 1.0])
    result = solve(problem, "cover", max_cost=0.0)
    assert result.objective == 3.0 and list(result.open_sites) == [0, 1]
    assert result.stats["forced_open"] == 2 and result.stats["zones_dropped"] == 2
    assert result.stats["sites_dropped"] == 2


def test_side_constraints_change_the_answer_and_count_in_the_objective():
    from estate.locate.problem import EXTRA, X, Y, SideConstraints

    # Two zones, each nearest its own site; a side row forbids opening both.
    problem = LocationProblem.from_arrays([10.0, 10.0], [1.0, 1.0], [0, 0, 1, 1], [0, 1, 0, 1],
                                          [0.0, 15.0, 15.0, 0.0])
    assert solve(problem, "min-cost", single_source=True).objective == pytest.approx(20.0)
    side = SideConstraints()
    side.add_rows("one site", [0, 0], Y, [0, 1], 1.0, -np.inf, 1.0, 1)
    problem.side = side
    sol = solve(problem, "min-cost", single_source=True)
    assert len(sol.open_sites) == 1 and sol.objective == pytest.approx(25.0)
    # An extra column with a cost, tied to zone 0 using site 1 (pair 1), and an offset.
    side.offset = -100.0
    e = side.add_columns([7.0], 0.0, 1.0, integer=True)
    side.add_rows("flag", [0, 0], [X, EXTRA], [1, e[0]], [1.0, -1.0], -np.inf, 0.0, 1)
    sol = solve(problem, "min-cost", single_source=True)
    assert sol.objective == pytest.approx(25.0 - 100.0)  # site 0 open, not site 1 with its flag
    assert sorted(sol.open_sites) == [0]
    assert side.groups == ["one site", "flag"]
    problem.side = side.without({"one site"})
    assert solve(problem, "min-cost", single_source=True).objective == pytest.approx(20.0 - 100.0)


def test_side_constraints_out_of_range_are_refused():
    from estate.locate.problem import Y, SideConstraints

    side = SideConstraints()
    side.add_rows("bad", [0], Y, [5], 1.0, 0.0, 1.0, 1)
    with pytest.raises(ProblemError, match="'bad' refer to a column out of range"):
        LocationProblem.from_arrays([1.0], [1.0], [0], [0], [1.0]).__class__(
            **{**LocationProblem.from_arrays([1.0], [1.0], [0], [0], [1.0]).__dict__, "side": side}).check()


def test_a_stop_at_the_requested_gap_is_not_called_optimal():
    rng = np.random.default_rng(3)
    costs = rng.uniform(1, 100, size=(60, 25))
    problem = LocationProblem.from_cost_matrix(costs, fixed_cost=rng.uniform(50, 150, 25),
                                               capacity=np.full(25, 8.0), weight=np.ones(60))
    sol = solve(problem, "min-cost", single_source=True, gap=0.5)
    assert sol.gap is not None
    assert (sol.status == "optimal") == (sol.gap == 0.0)


def test_single_source_heuristic_swaps_a_site_that_dropping_cannot_fix():
    # Two zones of weight 1, three sites. From {A} alone (fixed 5, zones at 4 + 4: 13) no site can
    # be dropped, but swapping A for B (fixed 1, zones at 1 + 1) gives 3; C (zones at 9) never pays.
    from estate.locate.heuristics import _swap_sites

    costs = np.array([[4.0, 1.0, 9.0], [4.0, 1.0, 9.0]])
    problem = LocationProblem.from_cost_matrix(costs, fixed_cost=[5.0, 1.0, 1.0])
    cost = costs * problem.weight[:, None]
    cap = np.full(3, 2.0)

    def total(mask, site):
        return float(problem.fixed_cost[mask].sum() + cost[np.arange(2), site].sum())

    mask, site = _swap_sites(problem, cost, cap, np.array([True, False, False]), np.array([0, 0]), total)
    assert list(np.flatnonzero(mask)) == [1] and list(site) == [1, 1] and total(mask, site) == 3.0
    # The whole heuristic, from every site open, reaches the same answer.
    from estate.locate.heuristics import single_source_heuristic

    open_sites, site_of_zone = single_source_heuristic(problem)
    assert list(open_sites) == [1] and list(site_of_zone) == [1, 1]


def test_cover_greedy_start_and_optimum_match_brute_force():
    # Random small covers (some sites open or closed): the solve's optimum equals the cheapest
    # subset found by trying every subset of sites, and the greedy start is a feasible cover.
    import itertools

    from estate.locate.heuristics import cover_greedy
    from estate.locate.problem import CLOSED, OPEN

    rng = np.random.default_rng(7)
    for trial in range(6):
        n, m = 12, 8
        costs = np.where(rng.random((n, m)) < 0.35, rng.integers(0, 10, (n, m)).astype(float), np.inf)
        costs[np.arange(n), rng.integers(0, m, n)] = 1.0  # every zone reachable
        fixed = rng.integers(1, 20, m).astype(float)
        problem = LocationProblem.from_cost_matrix(costs, fixed_cost=fixed)
        problem.status[trial % m] = OPEN
        covers = np.isfinite(costs) & (costs <= 5.0)
        best = np.inf
        for k in range(m + 1):
            for subset in itertools.combinations(range(m), k):
                chosen = set(subset) | {trial % m}
                if covers[:, sorted(chosen)].any(axis=1).all():
                    best = min(best, fixed[sorted(chosen)].sum())
        result = solve(problem, "cover", max_cost=5.0)
        if not np.isfinite(best):
            assert result.status == "infeasible"
            assert cover_greedy(problem, 5.0) is None
            continue
        assert result.status == "optimal" and result.objective == best
        greedy = cover_greedy(problem, 5.0)
        assert trial % m in greedy and covers[:, greedy].any(axis=1).all()
        assert not (problem.status[greedy] == CLOSED).any()


@pytest.mark.parametrize("costs", [
    "zone_id,site_id,cost\nz1,A,1\nz1,B,5\nz2,A,4\nz2,B,1\nz3,B,2\nz3,C,0\n",
    " zone_id , site_id ,cost\n z1 ,A,1\nz1, B ,5\nz2,A,4\nz2,B,1\nz3,B,2\nz3,C,0\n",
    "zone_id,site_id,cost,note\n\"z1\",A,1e0,x\nz1,B,5.,y\nz2,A,4,\nz2,B,.1e1,\nz3,B,2,\nz3,C,0,\n",
])
def test_contract_fast_costs_reader_agrees_with_the_text_reader(tmp_path, costs):
    # costs.csv goes through pyarrow (contract._fast_costs); the same file read cell by cell as text
    # (the fallback that names bad rows) must give the same problem.
    from estate.locate import contract

    s, d, c = _write(tmp_path, costs=costs)
    fast = read_problem(s, d, c)
    text = contract._read(Path(c), ["zone_id", "site_id", "cost"])
    ids = {v: i for i, v in enumerate(fast.zone_ids)}, {v: i for i, v in enumerate(fast.site_ids)}
    assert list(fast.pair_zone) == [ids[0][z] for z in text["zone_id"]]
    assert list(fast.pair_site) == [ids[1][z] for z in text["site_id"]]
    assert list(fast.pair_cost) == list(pd.to_numeric(text["cost"]))


@pytest.mark.parametrize("costs, expected", [
    (b"zone_id,site_id,cost,caf\xe9\nz1,A,1,x\n", "cannot be read as CSV"),  # a header that is not UTF-8
    (b"zone_id,site_id,cost,note\nz1,A,1,caf\xe9\n", "cannot be read as CSV"),  # an extra column that is not
])
def test_contract_costs_the_fast_reader_would_accept_are_still_refused(tmp_path, costs, expected):
    # pyarrow reads these without complaint (bytes for the bad column); the contract refuses them as
    # the text reader always has, naming the file, never as a crash.
    s, d, _ = _write(tmp_path)
    c = tmp_path / "costs.csv"
    c.write_bytes(costs)
    with pytest.raises(SourceErrors) as err:
        read_problem(s, d, c)
    assert "costs.csv" in str(err.value) and expected in str(err.value)


def test_contract_a_gzipped_costs_file_reads_as_the_text_reader_reads_it(tmp_path):
    # pandas (the text reader) decompresses "costs.csv.gz" by its name; the fast reader reads the raw
    # bytes, fails, and leaves the file to the text reader, so the answer is what it always was.
    import gzip

    s, d, c = _write(tmp_path)
    gz = tmp_path / "costs.csv.gz"
    gz.write_bytes(gzip.compress(Path(c).read_bytes()))
    plain, packed = read_problem(s, d, c), read_problem(s, d, gz)
    assert list(packed.pair_zone) == list(plain.pair_zone) and list(packed.pair_site) == list(plain.pair_site)
    assert list(packed.pair_cost) == list(plain.pair_cost)


def test_a_highs_run_by_another_library_first_does_not_stop_the_engine():
    # HiGHS keeps one thread scheduler per process; PuLP's HiGHS starts it with its own default
    # count, and the engine's one-thread runs must still solve afterwards.
    import pulp

    prob = pulp.LpProblem("other", pulp.LpMinimize)
    v = pulp.LpVariable("v", 0, 1, cat="Integer")
    prob += v
    prob += v >= 1
    prob.solve(pulp.HiGHS(msg=False))
    assert pulp.value(v) == 1
    p = LocationProblem.from_cost_matrix(np.array([[1.0, 9.0], [9.0, 1.0]]), fixed_cost=np.array([5.0, 5.0]),
                                         capacity=np.array([1.0, 1.0]), weight=np.ones(2))
    sol = solve(p, "min-cost", single_source=True)
    assert sol.status == "optimal" and sol.objective == pytest.approx(12.0)


def test_write_problem_is_read_back_exactly(tmp_path):
    """The contract's writer and reader agree: statuses, unlimited and fractional capacities, fractional
    costs; a problem with side constraints is refused (the contract has no place for them)."""
    from estate.locate.contract import write_problem
    from estate.locate.problem import CLOSED, OPEN, SideConstraints

    problem = LocationProblem.from_arrays(
        np.array([3.0, 0.5, 7.0]), np.array([1.0, 2.5]), np.array([0, 0, 1]), np.array([0, 2, 1]),
        np.array([1.25, 0.1, 3.0]), capacity=np.array([np.inf, 2.5, 4.0]), status=np.array([0, OPEN, CLOSED]),
        site_ids=np.array(["a", "b", "c"], dtype=object), zone_ids=np.array(["z1", "z2"], dtype=object))
    write_problem(problem, tmp_path)
    back = read_problem(tmp_path / "sites.csv", tmp_path / "demand.csv", tmp_path / "costs.csv")
    for name in ("site_ids", "zone_ids", "fixed_cost", "capacity", "status", "weight", "pair_zone", "pair_site",
                 "pair_cost"):
        np.testing.assert_array_equal(getattr(back, name), getattr(problem, name))
    assert (tmp_path / "sites.csv").read_text().splitlines()[1:] == ["a,3.0,,free", "b,0.5,2.5,open",
                                                                     "c,7.0,4.0,closed"]
    problem.side = SideConstraints()
    with pytest.raises(ProblemError, match="side constraints"):
        write_problem(problem, tmp_path / "again")
