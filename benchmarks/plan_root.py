"""The built-in plan's main solve on its own, with HiGHS's log, for work on the solver's settings.

Runs the built-in scenario up to the main solve (register, access, model and the start: the greedy,
and the locality search with ``--start-search localities``), keeps the model and the start in a cache file, then runs HiGHS on the model
as ``estate plan`` does (same gap, node limit and start) with its log on standard output, or
only the LP relaxation. Prints the status, objective (−NPV), bound and seconds.

Usage::

    .venv/bin/python benchmarks/plan_root.py                      # root search from the start
    .venv/bin/python benchmarks/plan_root.py --lp                 # LP relaxation only
    .venv/bin/python benchmarks/plan_root.py --no-start           # root search from nothing
    .venv/bin/python benchmarks/plan_root.py --option mip_heuristic_effort=0.3
    .venv/bin/python benchmarks/plan_root.py --rebuild --start-search localities --cache out/plan_root_loc.pkl

The cache (default ``out/plan_root.pkl``) is rebuilt with ``--rebuild``; it is only valid for the
code and scenario that wrote it.
"""

from __future__ import annotations

import argparse
import pickle
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


class _Captured(Exception):
    pass


def _build(cache: Path, start_search: str | None = None) -> None:
    import estate.plan.diagnose as diagnose
    from estate.pipeline import run_plan
    from estate.scenario import load_scenario

    def capture(problem, objective, **kw):
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps({"problem": problem, "start": kw.get("start"), "gap": kw.get("gap"),
                                        "max_nodes": kw.get("max_nodes")}))
        raise _Captured

    diagnose.solve = capture  # stop at the main solve, after the start search
    started = time.perf_counter()
    try:
        scenario = load_scenario(REPO / "models/cheshire-warrington.toml")
        if start_search is not None:
            scenario = replace(scenario, plan=replace(scenario.plan, start_search=start_search))
        run_plan(scenario, REPO / "out" / "plan_root_run")
    except _Captured:
        print(f"model and start built in {time.perf_counter() - started:.1f} s (start search included)")


def _value(text: str):
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=REPO / "out" / "plan_root.pkl")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--start-search", choices=("greedy", "localities"), default=None,
                        help="the start search when the cache is built (default: the scenario's)")
    parser.add_argument("--lp", action="store_true", help="solve the LP relaxation only")
    parser.add_argument("--no-start", action="store_true", help="give HiGHS no start")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", help="a HiGHS option")
    args = parser.parse_args()
    if args.rebuild or not args.cache.exists():
        _build(args.cache, args.start_search)
    data = pickle.loads(args.cache.read_bytes())

    import estate.locate.solve as engine
    from estate.locate import formulate

    milp = formulate.min_cost(data["problem"], single_source=True)
    print(f"model: {milp.A.shape[0]:,} rows, {milp.A.shape[1]:,} columns ({int(milp.integer.sum()):,} integer), "
          f"{milp.A.nnz:,} nonzeros")
    options = dict(o.split("=", 1) for o in args.option)
    quiet = engine._quiet_highs

    def logged():
        h = quiet()
        h.setOptionValue("output_flag", True)
        for name, value in options.items():
            h.setOptionValue(name, _value(value))
        return h

    engine._quiet_highs = logged
    if args.lp:
        milp = replace(milp, integer=np.zeros_like(milp.integer))
    start = None if args.no_start or args.lp or data["start"] is None else engine._start_values(milp, data["start"])
    t0 = time.perf_counter()
    run = engine._run_highs(milp, None, 0.0 if args.lp else data["gap"], start,
                            max_nodes=None if args.lp else data["max_nodes"])
    print(f"{'LP' if args.lp else 'MIP'}: status {run.status}, objective {run.objective}, bound {run.bound}, "
          f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
