"""Solve a location problem: the only module that knows HiGHS and PuLP.

HiGHS is called through highspy with the column-wise matrix of
:mod:`estate.locate.formulate` (building a PuLP model row by row costs more
than solving, see the solver notes); CBC, through PuLP, is the fallback when
highspy is missing or ``solver="cbc"`` is asked for.

Status is read from the solver, never assumed: a run stopped by the time
limit is ``time_limit`` with its incumbent, best bound and gap, never
``optimal``; ``infeasible`` only ever means proved infeasible, and any other
stop that proves nothing is ``feasible`` (with an incumbent) or ``stopped``.
Problems that cannot be solved are explained (zones no site can reach, demand
above capacity, ``p`` out of range), not reported as crashes.
"""

from __future__ import annotations

import contextlib
import copy
import re
from collections.abc import Callable
import tempfile
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal

import numpy as np
import pandas as pd

from estate.locate import cover_core, formulate
from estate.locate.decompose import combine, decompose
from estate.locate.heuristics import (cover_greedy, dense_costs, p_median_heuristic, p_median_swap, reduce_cover,
                                      single_source_heuristic)
from estate.locate.lagrange import p_median_branch_and_bound
from estate.locate.problem import CLOSED, OBJECTIVES, OPEN, P_MEDIAN_METHODS, LocationProblem, ProblemError

#: A node limit at or below this is a root search only (HiGHS's restart is then switched off).
ROOT_ONLY_NODES = 1

#: Set-cover reductions on the whole problem, repeated to a fixed point, run up to this many zones
#: (5,000 zones × 2,500 sites took 1.1 s; a larger cover gets one pass of them after its core,
#: :func:`estate.locate.cover_core.dominated`).
COVER_REDUCTION_LIMIT = 5_000


@dataclass
class Solution:
    """What a solve found.

    ``status`` is one of:

    - ``optimal``: proven optimal (gap 0, or within 1e-6);
    - ``feasible``: a solution, not proven optimal (stopped at the requested
      gap, or by a solver limit other than time, named in ``explanation``);
    - ``time_limit``: stopped by the time limit, with or without a solution;
    - ``stopped``: the solver stopped for another reason (a memory or
      iteration limit, an interrupt, an error) before finding any solution;
      ``explanation`` names it;
    - ``infeasible``: proved to have no solution, with the reason.

    ``open_sites`` are site positions; ``assignments`` has ``zone``, ``site``
    (positions) and ``share``. ``objective`` is recomputed from the solution
    with the objective's own definition (None without a solution); ``bound`` is
    the best proven bound (None when unknown) and ``gap`` the relative gap
    (see :func:`_gap`; 0 when proven optimal, None when the bound is unknown).
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    solver: str
    build_seconds: float
    solve_seconds: float
    open_sites: np.ndarray
    assignments: pd.DataFrame
    explanation: str = ""
    stats: dict = field(default_factory=dict)
    #: Values of the side constraints' extra columns (min-cost with side constraints), else None.
    extra: np.ndarray | None = None


def explain_infeasible(problem: LocationProblem, objective: str, p: int | None = None,
                       max_cost: float | None = None, single_source: bool = False) -> str:
    """Reasons the problem has no solution that can be seen before solving ("" if none found)."""
    reasons = []
    usable = problem.status != CLOSED
    pair_ok = usable[problem.pair_site]
    if objective in ("cover",) and max_cost is not None:
        pair_ok &= problem.pair_cost <= max_cost
    if objective != "max-cover":
        reached = np.zeros(problem.n_zones, bool)
        reached[problem.pair_zone[pair_ok]] = True
        lost = np.flatnonzero(~reached)
        if len(lost):
            within = f" within cost {max_cost:g}" if objective == "cover" else ""
            ids = ", ".join(map(str, problem.zone_ids[lost][:10])) + (" …" if len(lost) > 10 else "")
            reasons.append(f"{len(lost)} zone(s) ({ids}; weight {problem.weight[lost].sum():,.6g}) have no "
                           f"open or free site{within} that can serve them")
    if objective == "min-cost":
        capacity = problem.capacity[usable].sum()
        if capacity < problem.weight.sum() - 1e-9:
            reasons.append(f"total demand {problem.weight.sum():,.6g} is above the total capacity "
                           f"{capacity:,.6g} of the sites that may open")
        if single_source and np.isfinite(problem.capacity).any():
            best = np.zeros(problem.n_zones)
            np.maximum.at(best, problem.pair_zone[pair_ok], problem.capacity[problem.pair_site[pair_ok]])
            too_big = np.flatnonzero(problem.weight > best + 1e-9)
            if len(too_big):
                ids = ", ".join(map(str, problem.zone_ids[too_big][:10]))
                reasons.append(f"{len(too_big)} zone(s) ({ids}) are larger than any site that can serve "
                               "them whole")
    if p is not None:
        forced, free = int((problem.status == OPEN).sum()), int(usable.sum())
        if p > free:
            reasons.append(f"p = {p} but only {free} site(s) may open")
        if p < forced:
            reasons.append(f"p = {p} but {forced} site(s) are forced open")
    return "; ".join(reasons)


def solve(problem: LocationProblem, objective: str, *, p: int | None = None, max_cost: float | None = None,
          single_source: bool = False, time_limit: float | None = None, gap: float = 0.0,
          solver: str = "highs", start: Start | None = None, method: str = "lagrangian",
          time_limit_keeps_start: bool = False, progress: Progress | None = None,
          max_nodes: int | None = None, split: bool = True) -> Solution:
    """Solve ``problem`` for ``objective`` (see ``DESIGN.md``, "Location problem contract").

    Parameters
    ----------
    problem
        The location problem.
    objective
        ``min-cost``, ``p-median``, ``cover``, ``max-cover`` or ``p-center``.
    p
        Number of sites to open (p-median, max-cover, p-center).
    max_cost
        Coverage threshold (cover, max-cover).
    single_source
        min-cost only: each zone served whole by one site.
    time_limit
        Seconds for the solver (None = no limit).
    gap
        Relative MIP gap at which to stop (0 = prove optimality).
    solver
        ``highs`` (default) or ``cbc``.
    start
        min-cost only: a feasible solution to start from (HiGHS); by default the
        single-source heuristic's, when the problem has no side constraints.
    method
        p-median only: ``lagrangian`` (default), a branch-and-bound on Lagrangian
        bounds (:mod:`estate.locate.lagrange`, no MIP solver), or ``radius``, the
        radius formulation solved by ``solver``.
    time_limit_keeps_start
        min-cost with a start: when the time limit stops the solver before it proves the gap, the
        solution is the start, not the solver's incumbent, with the bound the solver proved. The
        time limit is then a safety net that cannot change the answer: how far a time-limited
        search gets depends on the machine and its load, the start does not.
    progress
        HiGHS only: called every :data:`PROGRESS_SECONDS` with the incumbent objective, the bound,
        the gap and the seconds so far (each may be None).
    max_nodes
        HiGHS only: stop after this many branch-and-bound nodes, a limit that, unlike the clock, gives
        the same answer on any machine (None = no limit).
    split
        HiGHS only: solve each independent part of the model on its own (see
        :mod:`estate.locate.decompose`; ``max_nodes`` then applies per part); ``stats`` records the
        parts under ``independent_parts``. False solves the model whole.

    Returns
    -------
    Solution
    """
    if objective not in OBJECTIVES:
        raise ProblemError(f"unknown objective {objective!r}; expected one of {list(OBJECTIVES)}")
    if objective in ("p-median", "max-cover", "p-center") and p is None:
        raise ProblemError(f"{objective} needs p, the number of sites to open")
    if objective in ("cover", "max-cover") and max_cost is None:
        raise ProblemError(f"{objective} needs max_cost, the coverage threshold")
    if method not in P_MEDIAN_METHODS:
        raise ProblemError(f"unknown p-median method {method!r}; expected one of {list(P_MEDIAN_METHODS)}")
    started = time.perf_counter()
    reason = explain_infeasible(problem, objective, p, max_cost, single_source)
    if reason:
        by = "lagrangian" if objective == "p-median" and method == "lagrangian" else solver
        return _infeasible(problem, reason, by, time.perf_counter() - started)
    if objective == "p-median" and method == "lagrangian":
        return _solve_p_median_lagrangian(problem, p, time_limit, gap, started)
    if objective == "p-median":
        return _solve_p_median(problem, p, time_limit, gap, solver, started)
    reductions = {}
    cover_problem, cover_zones = problem, None
    if objective == "cover" and problem.n_zones <= COVER_REDUCTION_LIMIT:
        forced, cover_zones, sites, reductions = reduce_cover(problem, max_cost)
        cover_problem = copy.copy(problem)
        cover_problem.status = np.where(forced, OPEN, np.where(sites | forced, problem.status, CLOSED)).astype(np.int8)
    cover_milp = lambda: formulate.cover(cover_problem, max_cost, cover_zones)  # noqa: E731
    milp = {"min-cost": lambda: formulate.min_cost(problem, single_source),
            "cover": cover_milp,
            "max-cover": lambda: formulate.max_cover(problem, p, max_cost),
            "p-center": lambda: formulate.p_center(problem, p)}[objective]()
    values = None
    if objective == "min-cost" and start is not None:
        values = _start_values(milp, start)
    elif objective == "min-cost" and single_source and solver == "highs" and problem.side is None:
        values = _single_source_start(problem, milp)
    options = {}
    if objective == "cover" and solver == "highs":
        greedy = cover_greedy(cover_problem, max_cost, cover_zones)
        if greedy is not None:
            values = np.zeros(milp.A.shape[1])
            values[milp.parts["y"][0] + greedy] = 1.0
            # With the greedy start, HiGHS's feasibility jump only costs time (39 s of 228 s on the
            # England-sized cover of docs/locate.md, before finding a cover 27% dearer than the greedy's).
            options["mip_heuristic_run_feasibility_jump"] = False
    build = time.perf_counter() - started
    core_stats = None
    if (objective == "cover" and solver == "highs" and _has_highs() and cover_core.is_cover(milp)
            and cover_core.free_columns(milp).sum() >= cover_core.CORE_MIN_COLUMNS):
        run, core_stats = _run_cover_core(milp, time_limit, gap, values, progress, max_nodes, options, split)
    else:
        run = _run(milp, time_limit, gap, solver, start=values, progress=progress, max_nodes=max_nodes,
                   options=options, split=split)
    kept_start = time_limit_keeps_start and values is not None and run.status == "time_limit"
    if kept_start:  # the safety net stopped the search: its incumbent would depend on the clock
        run = replace(run, status="time_limit", values=values, objective=float(milp.c @ values + milp.offset))
    solution = _finish(problem, objective, milp, run, build, solver, max_cost)
    if kept_start:
        solution.explanation = ("the safety time limit stopped the solver before it proved the gap; the solution "
                                "is the start (found without the clock), against the bound proved by then")
    solution.stats.update(reductions)
    if core_stats is not None:
        solution.stats["cover_core"] = core_stats
    return solution


def _has_highs() -> bool:
    try:
        import highspy  # noqa: F401
    except ImportError:  # pragma: no cover - highspy is a declared dependency
        return False
    return True


def _remaining(time_limit: float | None, started: float) -> float | None:
    return None if time_limit is None else max(0.0, time_limit - (time.perf_counter() - started))


def _run_cover_core(milp: formulate.Milp, time_limit: float | None, gap: float, start: np.ndarray | None,
                    progress: Progress | None, max_nodes: int | None, options: dict,
                    split: bool) -> tuple[_Run, dict]:
    """A large set cover through :mod:`estate.locate.cover_core`: the LP, a cover on the core, reduced-cost
    fixing and dominance, then the restricted model from the best cover. Returns the run over the whole
    model's columns (its bound the whole's, :func:`cover_core.whole_bound`) and what each step did and
    took (``stats["cover_core"]``). When the LP gives no reduced costs, or no cover is found, the model
    is solved whole."""
    started = time.perf_counter()
    stats: dict = {}
    free = cover_core.free_columns(milp)

    def whole(note: str, values: np.ndarray | None) -> tuple[_Run, dict]:
        stats["note"] = note
        return _run(milp, _remaining(time_limit, started), gap, "highs", start=values, progress=progress,
                    max_nodes=max_nodes, options=options, split=split), stats

    def cost(values: np.ndarray) -> float:  # of a cover over the whole model's columns
        return float(milp.c @ values + milp.offset)

    lp = _run_highs(replace(milp, integer=np.zeros_like(milp.integer)), time_limit, 0.0, None,
                    options={"solver": "simplex"})
    stats["lp_seconds"] = round(lp.seconds, 4)
    if lp.status != "optimal" or lp.reduced_costs is None:
        return whole(f"the LP relaxation ended {lp.status}; the model was solved whole", start)
    lp_bound, reduced = float(lp.objective), lp.reduced_costs
    stats["lp_bound"] = lp_bound
    if progress is not None:
        progress(None, lp_bound, None, time.perf_counter() - started)
    incumbent = None if start is None else (np.asarray(start) > 0.5).astype(float)
    best = np.inf if incumbent is None else cost(incumbent)
    stats["start_objective"] = None if incumbent is None else best
    core = cover_core.core_columns(lp.values, reduced, free, incumbent)
    to_cover = cover_core.uncovered_rows(milp)
    core_milp = cover_core.restrict(milp, to_cover, core)
    core_start = None if incumbent is None else incumbent[core_milp.info["columns"]]
    core_nodes = cover_core.CORE_NODES if max_nodes is None else min(cover_core.CORE_NODES, max_nodes)
    core_run = _run_highs(core_milp, _remaining(time_limit, started), 0.0, core_start, max_nodes=core_nodes,
                          options=options)
    core_value = None
    if core_run.values is not None:
        core_values = cover_core.expand(milp, core_milp, core_run.values)
        core_value = cost(core_values)
        if core_value < best - 1e-9:
            incumbent, best = core_values, core_value
    stats.update(core_columns=int(core.sum()), core_seconds=round(core_run.seconds, 4),
                 core_objective=core_value, core_status=core_run.status)
    if incumbent is None:
        return whole("no cover was found on the core; the model was solved whole", None)
    if best < lp_bound - 1e-6 * max(1.0, abs(lp_bound)):  # a cover below the LP bound: a solver fault
        return whole("the core's cover cost less than the LP bound; the model was solved whole", incumbent)
    if progress is not None:
        progress(best, lp_bound, _gap(best, lp_bound, "feasible"), time.perf_counter() - started)
    keep = incumbent > 0.5
    reducing = time.perf_counter()
    fixed = cover_core.fixed_by_reduced_cost(reduced, lp_bound, best, free, keep)
    dominance = cover_core.dominated(milp, free & ~fixed, keep, to_cover)
    final_columns = free & ~fixed & ~dominance.columns
    final = cover_core.restrict(milp, dominance.rows, final_columns)
    stats.update(fixed_by_reduced_cost=int(fixed.sum()), rows_covered_by_forced=dominance.rows_covered,
                 rows_dominated=dominance.rows_dropped, columns_dominated=dominance.columns_dropped,
                 restricted_rows=int(final.A.shape[0]), restricted_columns=int(final.A.shape[1]),
                 reduction_seconds=round(time.perf_counter() - reducing, 4))
    if final.A.shape[0] == 0:  # every zone is covered by the sites forced open: they are the optimum
        values = cover_core.expand(milp, final, np.zeros(final.A.shape[1]))
        value = cost(values)
        return _Run("optimal", values, value, value, time.perf_counter() - started, "highs"), stats
    before = time.perf_counter() - started
    shifted = None if progress is None else (lambda o, b, g, t: progress(o, b, g, before + t))
    # HiGHS's presolve finds little more in the restricted model, and its restarts then re-run the root
    # cut loop: 62.0 s with presolve, 40.2 s without, on the England-sized cover (docs/locate.md).
    run = _run(final, _remaining(time_limit, started), gap, "highs", start=incumbent[final.info["columns"]],
               progress=shifted, max_nodes=max_nodes, options={**options, "presolve": "off"}, split=split)
    stats["restricted_seconds"] = round(run.seconds, 4)
    values = incumbent
    if run.values is not None:
        solved = cover_core.expand(milp, final, run.values)
        if cost(solved) <= best + 1e-9:
            values = solved
    bound = min(cover_core.whole_bound(run.bound, lp_bound, reduced, fixed), cost(values))
    status = run.status if run.status in ("optimal", "feasible", "time_limit") else "feasible"
    return replace(run, status=status, values=values, objective=cost(values), bound=bound,
                   seconds=time.perf_counter() - started), stats


@dataclass
class Start:
    """A solution to start a min-cost solve from: open site positions, the pair
    positions used (each whole), and the values of any extra side columns."""

    open_sites: np.ndarray
    pairs: np.ndarray
    extra: np.ndarray | None = None


def _start_values(milp: formulate.Milp, start: Start) -> np.ndarray:
    values = np.zeros(milp.A.shape[1])
    values[milp.parts["y"][0] + np.asarray(start.open_sites, dtype=np.int64)] = 1.0
    values[milp.parts["x"][0] + np.asarray(start.pairs, dtype=np.int64)] = 1.0
    if start.extra is not None and "extra" in milp.parts:
        e0, e1 = milp.parts["extra"]
        values[e0:e1] = start.extra
    return values


def _single_source_start(problem: LocationProblem, milp: formulate.Milp) -> np.ndarray | None:
    """Column values of the min-cost model for the single-source heuristic's solution."""
    found = single_source_heuristic(problem)
    if found is None:
        return None
    open_sites, site_of_zone = found
    chosen = site_of_zone[problem.pair_zone] == problem.pair_site
    return _start_values(milp, Start(open_sites, np.flatnonzero(chosen)))


@dataclass
class _Run:
    """One solver run. ``status`` is ``optimal`` (proven, or stopped at the requested gap
    with its bound: ``_finish`` tells the two apart by the gap left), ``feasible``,
    ``time_limit``, ``stopped`` or ``infeasible``; ``note`` names, in plain words, a stop
    that proves nothing."""

    status: str
    values: np.ndarray | None
    objective: float | None
    bound: float | None
    seconds: float
    solver: str
    note: str = ""
    #: How :func:`_run_parts` split the model (None when it did not look): ``blocks``, ``split``,
    #: ``analysis_seconds``, and ``parts`` (each part's columns, rows, blocks, seconds, status) or the
    #: ``reason`` it was solved whole.
    parts: dict | None = None
    #: A linear programme's reduced costs (HiGHS's column duals), None for a MIP.
    reduced_costs: np.ndarray | None = None


#: HiGHS model statuses in plain words, for the explanation of a stop that proves nothing.
HIGHS_STOPS = {"kNotset": "no status set", "kLoadError": "load error", "kModelError": "model error",
               "kPresolveError": "presolve error", "kSolveError": "solve error",
               "kPostsolveError": "postsolve error", "kModelEmpty": "empty model",
               "kOptimal": "optimal, but no solution returned", "kInfeasible": "infeasible",
               "kUnboundedOrInfeasible": "unbounded or infeasible", "kUnbounded": "unbounded",
               "kObjectiveBound": "objective bound reached", "kObjectiveTarget": "objective target reached",
               "kTimeLimit": "time limit", "kIterationLimit": "iteration limit", "kUnknown": "unknown status",
               "kSolutionLimit": "node limit (or solution limit)", "kInterrupt": "interrupted", "kMemoryLimit": "memory limit",
               "kHighsInterrupt": "interrupted"}


def _highs_outcome(model_status_name: str, has_solution: bool, bounded: bool = True) -> str:
    """The run status for a HiGHS model status, given by its name (e.g. ``"kMemoryLimit"``).

    Only ``kInfeasible`` proves infeasibility, and ``kUnboundedOrInfeasible`` when the
    model is ``bounded`` (costs ≥ 0, as in every location model, cannot run to −∞).
    ``kOptimal`` (or ``kModelEmpty``) with a solution is ``optimal``, the time limit
    ``time_limit``; any other stop proves nothing: ``feasible`` with an incumbent,
    ``stopped`` without one.
    """
    if model_status_name == "kInfeasible" or (model_status_name == "kUnboundedOrInfeasible" and bounded):
        return "infeasible"
    if model_status_name == "kTimeLimit":
        return "time_limit"
    if not has_solution:
        return "stopped"
    return "optimal" if model_status_name in ("kOptimal", "kModelEmpty") else "feasible"


def _bounded(milp: formulate.Milp) -> bool:
    """Whether the objective is bounded below over the column bounds (so the model cannot be unbounded)."""
    return not (((milp.c < 0) & ~np.isfinite(milp.col_upper)).any()
                or ((milp.c > 0) & ~np.isfinite(milp.col_lower)).any())


#: A progress callback: (incumbent objective, bound, gap, seconds), each None when not known yet.
Progress = Callable[[float | None, float | None, float | None, float], None]
#: Seconds between progress reports.
PROGRESS_SECONDS = 5.0


def _run(milp: formulate.Milp, time_limit: float | None, gap: float, solver: str,
         start: np.ndarray | None = None, progress: Progress | None = None, max_nodes: int | None = None,
         options: dict | None = None, split: bool = True) -> _Run:
    """Solve ``milp`` with ``solver``; with HiGHS and ``split``, each independent part on its own
    (:func:`_run_parts`)."""
    if solver == "highs" and not _has_highs():  # pragma: no cover - highspy is a declared dependency
        solver = "cbc"
    if solver == "highs":
        if split:
            return _run_parts(milp, time_limit, gap, start, progress=progress, max_nodes=max_nodes,
                              options=options)
        return _run_highs(milp, time_limit, gap, start, max_nodes=max_nodes, progress=progress, options=options)
    if solver == "cbc":
        return _run_cbc(milp, time_limit, gap)
    raise ProblemError(f"unknown solver {solver!r}; expected 'highs' or 'cbc'")


#: How a status of one part weighs on the whole, worst first (a part proved infeasible makes the whole so).
_WORST_FIRST = ("infeasible", "time_limit", "stopped", "feasible", "optimal")


def _run_parts(milp: formulate.Milp, time_limit: float | None, gap: float, start: np.ndarray | None,
               progress: Progress | None = None, max_nodes: int | None = None,
               options: dict | None = None) -> _Run:
    """Solve the independent parts of ``milp`` (:mod:`estate.locate.decompose`) one by one with HiGHS,
    smallest first, and combine them into one run; a model that does not split is solved whole.

    - Values are assembled into the whole vector; objective and bound are the parts' sums plus the
      offset (the bound is None if any part has none); seconds are the parts' summed, plus the
      time it took to find them.
    - Status: ``infeasible`` as soon as a part is proved infeasible (the rest are not solved);
      ``optimal`` only if every part is; otherwise the worst of ``time_limit``, ``stopped``,
      ``feasible``, with the note naming the part.
    - Only a solve to optimality (``gap`` 0) is split: parts stopped at their own relative gap do not
      add up to the whole's gap (their objectives and the offset may differ in sign, see
      :func:`estate.locate.decompose.combine`), so a model asked for a gap above 0 is solved whole.
    - Each part gets the start's slice, ``max_nodes`` (a deterministic limit, per part) and a share
      of what remains of ``time_limit`` (a wall budget) in proportion to its columns, so that small
      parts solved first cannot leave the large ones none.
    - ``progress`` gets the whole's incumbent (the finished parts', the running one's and, while
      parts are still to come, their starts'; None without a start) and the whole's bound only once
      the last part runs (None before: the parts to come have none yet).
    - ``_Run.parts`` records how the model was split.
    """
    t0 = time.perf_counter()
    dec = decompose(milp)
    analysis_seconds = time.perf_counter() - t0
    whole_reason = dec.reason or (f"{len(dec.parts)} parts, solved whole: the requested gap ({gap:g}) is above 0, "
                                  "and parts stopped at their own gap do not add up to the whole's" if gap > 0 else "")
    record = {"blocks": dec.blocks, "split": not whole_reason, "analysis_seconds": round(analysis_seconds, 4)}
    if whole_reason:
        run = _run_highs(milp, None if time_limit is None else max(time_limit - analysis_seconds, 0.0), gap, start,
                         max_nodes=max_nodes, progress=progress, options=options)
        run.seconds += analysis_seconds
        run.parts = {**record, "reason": whole_reason}
        return run
    deadline = None if time_limit is None else t0 + time_limit
    n = len(dec.parts)
    columns_to_come = np.cumsum([len(part.columns) for part in dec.parts][::-1])[::-1]
    start_objective = [None if start is None else float(part.milp.c @ dec.start_of(part, start))
                       for part in dec.parts]
    runs: list[_Run] = []
    sizes = []
    for k, part in enumerate(dec.parts):
        done_objective, done_bound = combine([r.objective for r in runs], [r.bound for r in runs], dec.constant)
        to_come = start_objective[k + 1:]
        to_come_objective = None if any(v is None for v in to_come) else sum(to_come)
        left_seconds = None if deadline is None else max(deadline - time.perf_counter(), 0.0)
        share_seconds = None if left_seconds is None else left_seconds * len(part.columns) / columns_to_come[k]
        run = _run_highs(part.milp, share_seconds, gap, dec.start_of(part, start), max_nodes=max_nodes,
                         progress=None if progress is None else _progress_of_part(
                             progress, None if done_objective is None or to_come_objective is None
                             else done_objective + to_come_objective,
                             done_bound if k == n - 1 else None,
                             analysis_seconds + sum(r.seconds for r in runs)),
                         options=options)
        runs.append(run)
        sizes.append({"columns": len(part.columns), "rows": len(part.rows), "blocks": part.blocks,
                      "seconds": round(run.seconds, 4), "status": run.status})
        if run.status == "infeasible":
            break
    worst = min(range(len(runs)), key=lambda i: (_WORST_FIRST.index(runs[i].status), i))
    status = runs[worst].status
    complete = len(runs) == n and all(r.values is not None for r in runs)
    values = dec.assemble([r.values for r in runs]) if complete and status != "infeasible" else None
    objective, bound = combine([r.objective for r in runs], [r.bound for r in runs], dec.constant)
    if values is None:
        objective = None
    if len(runs) < n:  # stopped at an infeasible part: the rest were not solved
        bound = None
    note = ""
    if status != "optimal":
        part = dec.parts[worst]
        why = runs[worst].note or {"infeasible": "no solution", "time_limit": "time limit"}.get(status, status)
        note = (f"part {worst + 1} of {n} ({len(part.columns):,} columns × {len(part.rows):,} rows, "
                f"{part.blocks:,} block{'s' if part.blocks > 1 else ''}): {why}")
    return _Run(status, values, objective, bound, analysis_seconds + sum(r.seconds for r in runs), "highs", note,
                parts={**record, "parts": sizes})


def _progress_of_part(progress: Progress, done_objective: float | None, done_bound: float | None,
                      seconds_before: float) -> Progress:
    """``progress`` for one part's run: the whole's incumbent and bound (``done_objective`` and
    ``done_bound``, the rest of the whole's, plus this part's; None when the rest is not known), its
    gap, and the seconds since the split began."""
    def report(objective, bound, _gap_of_part, seconds):
        whole = None if objective is None or done_objective is None else done_objective + objective
        whole_bound = None if bound is None or done_bound is None else done_bound + bound
        gap = None if whole is None or whole_bound is None else _gap(whole, whole_bound, "")
        progress(whole, whole_bound, gap, seconds_before + seconds)

    return report


def _quiet_highs():
    """A ``highspy.Highs`` whose start-up banner does not reach standard output (HiGHS prints it from
    C++ when the object is made, before any option can switch it off)."""
    import os
    import sys

    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    # One thread on every machine: HiGHS's default (half the cores) would make the search depend on
    # the machine's core count, and its parallel parts (symmetry detection) only cost time on 2 cores
    # when another job holds one of them. HiGHS keeps one thread scheduler per process, and a run
    # asking for another count than the scheduler's fails; another library's HiGHS (PuLP, spopt) may
    # have started it with its default, so it is reset to this count first.
    highspy.Highs.resetGlobalScheduler(True)
    h.setOptionValue("threads", 1)
    return h


@contextlib.contextmanager
def _signals_deferred(deferred: list, active: bool):
    """While HiGHS runs Python callbacks, a SIGTERM or SIGINT is noted (the callback then stops the
    search) and handled as usual once HiGHS has returned: an exception raised inside a callback
    would be lost in the solver instead of stopping the run."""
    import os
    import signal
    import threading

    if not active or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, lambda signum, _frame: deferred.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if deferred:
            handler = previous[deferred[0]]
            if callable(handler):
                handler(deferred[0], None)
            elif handler != signal.SIG_IGN:
                os.kill(os.getpid(), deferred[0])


def _finite_or_none(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) and abs(value) < 1e29 else None


def _report_progress(h, progress: Progress, deferred: list) -> None:
    """Call ``progress`` every :data:`PROGRESS_SECONDS` of the MIP search (from HiGHS's interrupt check);
    stop the search when a signal was ``deferred`` while it ran."""
    t0 = time.perf_counter()
    last = [t0]

    def tick(event) -> None:
        if deferred:
            event.data_in.user_interrupt = True
            return
        now = time.perf_counter()
        if now - last[0] < PROGRESS_SECONDS:
            return
        last[0] = now
        out = event.data_out
        progress(_finite_or_none(out.mip_primal_bound), _finite_or_none(out.mip_dual_bound),
                 _finite_or_none(out.mip_gap), now - t0)

    h.cbMipInterrupt.subscribe(tick)


def _run_highs(milp: formulate.Milp, time_limit: float | None, gap: float, start: np.ndarray | None,
               max_nodes: int | None = None, progress: Progress | None = None, options: dict | None = None) -> _Run:
    import highspy

    h = _quiet_highs()
    h.setOptionValue("random_seed", 0)
    if max_nodes is not None and max_nodes <= ROOT_ONLY_NODES:
        # A root search only: HiGHS's restart (the root again, on the model less the columns its cuts fixed)
        # pays for a tree search that follows, not here. On the built-in plan it took 20 s of 110 s and
        # changed neither the plan nor the gap (docs/plan.md "Solving").
        h.setOptionValue("mip_allow_restart", False)
    for name, value in (options or {}).items():
        h.setOptionValue(name, value)
    h.setOptionValue("mip_rel_gap", float(gap))
    h.setOptionValue("mip_abs_gap", 1e-9)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if max_nodes is not None:  # a deterministic stop, unlike the time limit
        h.setOptionValue("mip_max_nodes", int(max_nodes))
    lp = highspy.HighsLp()
    rows, cols = milp.A.shape
    lp.num_col_, lp.num_row_ = cols, rows
    lp.col_cost_ = milp.c
    lp.offset_ = milp.offset
    lp.col_lower_, lp.col_upper_ = milp.col_lower, milp.col_upper
    lp.row_lower_, lp.row_upper_ = milp.row_lower, milp.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = milp.A.indptr
    lp.a_matrix_.index_ = milp.A.indices
    lp.a_matrix_.value_ = milp.A.data
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                       for i in milp.integer]
    h.passModel(lp)
    deferred: list[int] = []
    if progress is not None and milp.integer.any():
        _report_progress(h, progress, deferred)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(start)
        h.setSolution(sol)
    t0 = time.perf_counter()
    with _signals_deferred(deferred, active=progress is not None):
        h.run()
    seconds = time.perf_counter() - t0
    model_status = h.getModelStatus().name
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    values = np.asarray(h.getSolution().col_value) if has_solution else None
    # From the values, not HiGHS's report: given a start with presolve on, HiGHS 1.16 can report the
    # objective of its presolved model (21 for a cover costing more than 34, tests/test_cover_core.py).
    objective = float(milp.c @ values + milp.offset) if has_solution else None
    bound = info.mip_dual_bound if milp.integer.any() else objective
    status = _highs_outcome(model_status, has_solution, _bounded(milp))
    note = HIGHS_STOPS.get(model_status, model_status) if status in ("feasible", "stopped") else ""
    bound = bound if bound is not None and np.isfinite(bound) else None
    duals = None
    if not milp.integer.any() and has_solution and h.getSolution().dual_valid:
        duals = np.asarray(h.getSolution().col_dual)
    return _Run(status, values, objective, bound, seconds, "highs", note, reduced_costs=duals)


def _run_cbc(milp: formulate.Milp, time_limit: float | None, gap: float) -> _Run:
    import pulp

    prob = pulp.LpProblem("location", pulp.LpMinimize)
    v = [prob.add_variable(f"v{i}", lowBound=None if not np.isfinite(lo) else lo,
                           upBound=None if not np.isfinite(hi) else hi, cat="Integer" if integer else "Continuous")
         for i, (lo, hi, integer) in enumerate(zip(milp.col_lower, milp.col_upper, milp.integer))]
    prob += pulp.LpAffineExpression([(v[i], c) for i, c in enumerate(milp.c) if c]) + milp.offset
    A = milp.A.tocsr()
    for r in range(A.shape[0]):
        lo, hi = milp.row_lower[r], milp.row_upper[r]
        expr = pulp.LpAffineExpression([(v[j], a) for j, a in zip(A.indices[A.indptr[r]:A.indptr[r + 1]],
                                                                      A.data[A.indptr[r]:A.indptr[r + 1]])])
        if lo == hi:
            prob += expr == lo
        else:
            if np.isfinite(lo):
                prob += expr >= lo
            if np.isfinite(hi):
                prob += expr <= hi
    with tempfile.TemporaryDirectory(prefix="estate-cbc-") as tmp:
        log_path = f"{tmp}/cbc.log"
        t0 = time.perf_counter()
        prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=gap, logPath=log_path))
        seconds = time.perf_counter() - t0
        try:
            with open(log_path, encoding="utf-8", errors="replace") as fh:
                report = _cbc_report(fh.read())
        except OSError:
            report = {"result": None, "objective": None, "bound": None}
    result = report["result"] or ""
    timed_out = "time" in result.lower() or (not result and time_limit is not None)
    if prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        values = np.array([x.value() or 0.0 for x in v])
        objective = float(pulp.value(prob.objective))
        bound = None
        if report["bound"] is not None and report["objective"] is not None:
            # CBC's figures may leave out the objective's constant: shift them onto ours.
            bound = min(report["bound"] + objective - report["objective"], objective)
        if prob.sol_status == pulp.LpSolutionOptimal:
            if gap == 0 or (result.startswith("Optimal solution found") and "within gap tolerance" not in result):
                return _Run("optimal", values, objective, objective, seconds, "cbc")
            if bound is not None:  # stopped at the requested gap: _finish reports the gap left
                return _Run("optimal", values, objective, bound, seconds, "cbc")
            return _Run("feasible", values, objective, None, seconds, "cbc",
                        "requested gap reached; CBC's bound could not be read")
        status = "time_limit" if timed_out else "feasible"
        return _Run(status, values, objective, bound, seconds, "cbc",
                    "" if timed_out else f"CBC: {result or pulp.LpStatus[prob.status]}")
    if prob.status == pulp.LpStatusInfeasible:
        return _Run("infeasible", None, None, None, seconds, "cbc")
    return _Run("time_limit" if timed_out else "stopped", None, None, None, seconds, "cbc",
                f"CBC: {result or pulp.LpStatus[prob.status]}")


def _cbc_report(log: str) -> dict:
    """CBC's closing report in its log: ``result`` (the text after "Result - ", e.g.
    "Optimal solution found (within gap tolerance)"), ``objective`` ("Objective value")
    and ``bound`` ("Lower bound"), None when not printed.

    CBC rounds the lower bound it prints (to three decimals); it is moved down by half
    its last printed digit so that the rounding never lifts it above the optimum.
    """
    start = log.rfind("Result - ")
    if start < 0:
        return {"result": None, "objective": None, "bound": None}
    tail = log[start:]
    result = tail[len("Result - "):].splitlines()[0].strip()

    def number(label: str) -> Decimal | None:
        found = re.search(rf"^{label}:\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$", tail, re.M)
        return None if found is None else Decimal(found.group(1))

    objective, bound = number("Objective value"), number("Lower bound")
    return {"result": result, "objective": None if objective is None else float(objective),
            "bound": None if bound is None else float(bound) - 0.5 * 10.0 ** bound.as_tuple().exponent}


def _assign_nearest(problem: LocationProblem, open_sites: np.ndarray, max_cost: float = np.inf) -> pd.DataFrame:
    """Each zone to its cheapest open site (within ``max_cost``), share 1."""
    is_open = np.zeros(problem.n_sites, bool)
    is_open[open_sites] = True
    ok = is_open[problem.pair_site] & (problem.pair_cost <= max_cost)
    pairs = pd.DataFrame({"zone": problem.pair_zone[ok], "site": problem.pair_site[ok],
                          "cost": problem.pair_cost[ok]})
    best = pairs.sort_values(["zone", "cost", "site"]).drop_duplicates("zone")
    return best.assign(share=1.0)[["zone", "site", "share"]].reset_index(drop=True)


def _value(problem: LocationProblem, objective: str, open_sites: np.ndarray, assign: pd.DataFrame) -> float:
    if objective == "cover":  # no pair cost needed (a Series over millions of pairs costs seconds)
        return float(problem.fixed_cost[open_sites].sum()) if problem.fixed_cost.any() else float(len(open_sites))
    if objective == "max-cover":
        return float(problem.weight[np.unique(assign["zone"])].sum())
    cost = pd.Series(problem.pair_cost, index=problem.pair_zone * problem.n_sites + problem.pair_site)
    c = cost.reindex(assign["zone"].to_numpy() * problem.n_sites + assign["site"].to_numpy()).to_numpy()
    w = problem.weight[assign["zone"].to_numpy()]
    if objective == "min-cost":
        return float(problem.fixed_cost[open_sites].sum() + (w * c * assign["share"]).sum())
    if objective == "p-median":
        return float((w * c * assign["share"]).sum())
    return float(c.max()) if len(c) else 0.0  # p-center


def _finish(problem: LocationProblem, objective: str, milp: formulate.Milp, run: _Run, build: float,
            solver: str, max_cost: float | None) -> Solution:
    if run.values is None:
        status = run.status if run.status in ("infeasible", "time_limit") else "stopped"
        reason = {"infeasible": "the solver proved it infeasible" + (f"; {run.note}" if run.note else ""),
                  "time_limit": f"no solution found before the time limit ({run.seconds:.1f} s)"}.get(
            status, f"the solver stopped ({run.note or 'no reason given'}) before finding any solution")
        return Solution(status, None, run.bound, None, run.solver, build, run.seconds, np.zeros(0, int),
                        pd.DataFrame(columns=["zone", "site", "share"]), reason, stats=_parts_stats(run))
    y0, y1 = milp.parts["y"]
    open_sites = np.flatnonzero(run.values[y0:y1] > 0.5)
    if "x" in milp.parts and objective in ("min-cost",):
        x0, x1 = milp.parts["x"]
        assign = _read_assignments(problem, run.values[x0:x1], single_source=bool(milp.integer[x0:x1].all()))
    else:
        assign = _assign_nearest(problem, open_sites, max_cost if objective in ("cover", "max-cover") else np.inf)
    value = _value(problem, objective, open_sites, assign)
    if "extra" in milp.parts:
        e0, e1 = milp.parts["extra"]
        value += float(milp.c[e0:e1] @ run.values[e0:e1]) + milp.offset
    sign = -1.0 if objective == "max-cover" else 1.0
    bound = None if run.bound is None else sign * run.bound
    gap = _gap(value, bound, run.status)
    status = _status(run.status, gap)
    explanation = (f"the solver stopped ({run.note}) before proving optimality"
                   if status in ("feasible", "time_limit") and run.note else "")
    return Solution(status, value, bound, gap, run.solver, build, run.seconds,
                    open_sites, assign, explanation, stats={"rows": milp.A.shape[0], "columns": milp.A.shape[1],
                                                            "nonzeros": milp.A.nnz,
                                                            "integer_columns": int(milp.integer.sum()),
                                                            **_parts_stats(run)},
                    extra=(run.values[milp.parts["extra"][0]:milp.parts["extra"][1]].copy()
                           if "extra" in milp.parts else None))


def _parts_stats(run: _Run) -> dict:
    """``independent_parts`` for a solution's stats: how the model was split (see ``_Run.parts``)."""
    return {} if run.parts is None else {"independent_parts": run.parts}


#: Shares below this are solver residue in a fractional read-back.
SHARE_TOLERANCE = 1e-6


def _read_assignments(problem: LocationProblem, share: np.ndarray, single_source: bool) -> pd.DataFrame:
    """Assignments (``zone``, ``site``, ``share``) from the pair columns' values.

    Single-source: each zone's pair of largest value (ties: lowest site), share 1,
    so tolerance residue never gives a zone two rows. Fractional: shares below
    :data:`SHARE_TOLERANCE` dropped and each zone's rest rescaled to sum to 1.
    """
    pairs = pd.DataFrame({"zone": problem.pair_zone, "site": problem.pair_site, "share": np.asarray(share, float)})
    if single_source:
        best = pairs.sort_values(["zone", "share", "site"], ascending=[True, False, True]).drop_duplicates("zone")
        return best.assign(share=1.0).reset_index(drop=True)
    kept = pairs[pairs["share"] >= SHARE_TOLERANCE]
    return kept.assign(share=kept["share"] / kept.groupby("zone")["share"].transform("sum")).reset_index(drop=True)


def _status(status: str, gap: float | None) -> str:
    """A stop at the requested gap is a feasible solution with its gap, not a proven optimum."""
    return "feasible" if status == "optimal" and gap is not None and gap > 1e-6 else status


def _gap(value: float, bound: float | None, status: str) -> float | None:
    """Relative gap ``min(1, |value − bound| / max(|value|, |bound|))`` (0 when both are 0).

    It lies in [0, 1] whatever the signs: 1 when value and bound have opposite
    signs or one of them is 0 (e.g. an objective offset so that the incumbent
    costs 0). 0 when proven optimal (within 1e-6); None when the bound is unknown.
    """
    if status == "optimal" and (bound is None or abs(value - bound) <= 1e-6 * max(1.0, abs(value))):
        return 0.0
    if bound is None:
        return None
    scale = max(abs(value), abs(bound))
    return min(1.0, abs(value - bound) / scale) if scale > 0 else 0.0


def _infeasible(problem: LocationProblem, reason: str, solver: str, seconds: float) -> Solution:
    return Solution("infeasible", None, None, None, solver, seconds, 0.0, np.zeros(0, int),
                    pd.DataFrame(columns=["zone", "site", "share"]), reason)


def _radius_start(milp: formulate.Milp, problem: LocationProblem, open_sites: np.ndarray) -> np.ndarray:
    """Column values of the radius model for a given set of open sites."""
    values = np.zeros(milp.A.shape[1])
    y0, y1 = milp.parts["y"]
    values[y0 + open_sites] = 1.0
    nearest = np.full(problem.n_zones, np.inf)
    is_open = np.zeros(problem.n_sites, bool)
    is_open[open_sites] = True
    ok = is_open[problem.pair_site]
    np.minimum.at(nearest, problem.pair_zone[ok], problem.pair_cost[ok])
    info = milp.info
    z0, z1 = milp.parts["z"]
    level_cost = info["lvl_cost"][np.searchsorted(
        info["lvl_zone"] * (info["n_levels"].max() + 1) + info["lvl_level"],
        info["z_zone"] * (info["n_levels"].max() + 1) + info["z_level"])]
    values[z0:z1] = (nearest[info["z_zone"]] > level_cost + 1e-12).astype(float)
    return values


def _nearest_open_cost(problem: LocationProblem, open_sites: np.ndarray) -> np.ndarray:
    """Each zone's cost to its cheapest open site (inf when none can serve it)."""
    nearest = np.full(problem.n_zones, np.inf)
    ok = np.isin(problem.pair_site, open_sites)
    np.minimum.at(nearest, problem.pair_zone[ok], problem.pair_cost[ok])
    return nearest


def _solve_p_median(problem: LocationProblem, p: int, time_limit: float | None, gap: float, solver: str,
                    started: float) -> Solution:
    """Radius formulation, truncated at each zone's second-nearest heuristic site and grown where needed.

    The best true solution seen (the heuristic's or a round's) is kept as the
    incumbent and handed to the solver each round; each round's bound is a
    valid lower bound, since a truncated model is a relaxation.
    """
    d = dense_costs(problem)
    incumbent = p_median_heuristic(problem, p, d=d) if d is not None else None
    order, level, n_levels = formulate.sorted_levels(problem)
    zone_sorted, cost_sorted = problem.pair_zone[order], problem.pair_cost[order]

    def level_of(cost_by_zone: np.ndarray) -> np.ndarray:
        """Each zone's highest level whose cost is at most ``cost_by_zone``."""
        reach = cost_sorted <= cost_by_zone[zone_sorted] + 1e-12
        out = np.zeros(problem.n_zones, dtype=np.int64)
        np.maximum.at(out, zone_sorted[reach], level[reach])
        return out

    def true_value(open_sites: np.ndarray) -> float:
        return float((problem.weight * _nearest_open_cost(problem, open_sites)).sum())

    if incumbent is not None:
        radius = level_of(np.sort(d[:, incumbent], axis=1)[:, min(1, len(incumbent) - 1)])
        best = true_value(incumbent)
    else:
        radius, best = n_levels - 1, np.inf
    build = solve_seconds = 0.0
    rounds = 0
    deadline = None if time_limit is None else started + time_limit
    while True:
        rounds += 1
        t0 = time.perf_counter()
        milp = formulate.p_median(problem, p, radius)
        build += time.perf_counter() - t0
        start = _radius_start(milp, problem, incumbent) if incumbent is not None else None
        left = None if deadline is None else max(deadline - time.perf_counter(), 1.0)
        run = _run(milp, left, gap, solver, start=start if solver == "highs" else None)
        solve_seconds += run.seconds
        if run.values is None:
            break
        y0, y1 = milp.parts["y"]
        open_sites = np.flatnonzero(run.values[y0:y1] > 0.5)
        if (value := true_value(open_sites)) < best:
            incumbent, best = open_sites, value
        nearest = _nearest_open_cost(problem, open_sites)
        beyond = nearest > milp.info["radius_cost"] + 1e-12
        if not beyond.any() or run.status != "optimal":
            break
        # Grow the radius of the zones served beyond it, up to where they are served now.
        radius = np.where(beyond, level_of(nearest), radius)
    if run.values is not None and incumbent is not None:
        run.values = np.zeros_like(run.values)
        run.values[milp.parts["y"][0] + incumbent] = 1.0
    sol = _finish(problem, "p-median", milp, run, build, solver, None)
    sol.solve_seconds = solve_seconds
    sol.stats.update({"rounds": rounds, "rows": milp.A.shape[0], "columns": milp.A.shape[1]})
    return sol


def _solve_p_median_lagrangian(problem: LocationProblem, p: int, time_limit: float | None, gap: float,
                               started: float) -> Solution:
    """Greedy + interchange for an incumbent, then Lagrangian branch-and-bound to prove it
    (or to ``gap``). Build seconds are the heuristic's; solve seconds the search's."""
    d = dense_costs(problem)
    incumbent = p_median_heuristic(problem, p, d=d) if d is not None else None
    improve = (lambda sites: p_median_swap(problem, sites, d)) if d is not None else None
    build = time.perf_counter() - started
    deadline = None if time_limit is None else started + time_limit
    result = p_median_branch_and_bound(problem, p, incumbent, gap=gap, deadline=deadline, improve=improve)
    bound = result.bound if np.isfinite(result.bound) else None
    stats = {"method": "lagrangian", "nodes": result.nodes, "root_bound": result.root_bound,
             "sites_fixed_closed_at_root": result.fixed_closed, "sites_fixed_open_at_root": result.fixed_open}
    if result.open_sites is None:
        reason = ("no set of p sites serves every zone" if result.status == "infeasible"
                  else f"no solution found before the time limit ({result.seconds:.1f} s)")
        return Solution(result.status, None, bound, None, "lagrangian", build, result.seconds, np.zeros(0, int),
                        pd.DataFrame(columns=["zone", "site", "share"]), reason, stats)
    assign = _assign_nearest(problem, result.open_sites)
    value = _value(problem, "p-median", result.open_sites, assign)
    gap_value = _gap(value, bound, result.status)
    return Solution(_status(result.status, gap_value), value, bound, gap_value, "lagrangian", build, result.seconds, result.open_sites,
                    assign, stats=stats)
