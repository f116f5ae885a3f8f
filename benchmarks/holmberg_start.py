"""Where the slowest Holmberg instances' time goes: finding the optimum, or proving it.

For each instance (default: the five slowest through ``estate solve``, p30, p31, p32, p57 and p58),
builds the single-source model as :func:`estate.locate.solve.solve` does and runs HiGHS twice with the
engine's settings (gap 0, one thread, seed 0):

1. from the engine's own start (:func:`estate.locate.heuristics.single_source_heuristic`), as a user's
   run does;
2. from the optimum that run found, which leaves HiGHS only the proof.

The difference between the two is what a better start could save at most. Prints, per instance, the
heuristic's objective and its gap to the optimum, both solve times, and their totals.

Usage::

    .venv/bin/python benchmarks/holmberg_start.py
    .venv/bin/python benchmarks/holmberg_start.py --only p31 p66 --time-limit 120

Instances are read from ``ESTATE_SHARED`` (default ``../shared``). Times depend on the machine and
its load: run it alone and quote both columns from the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import estate.locate.solve as engine  # noqa: E402
from estate.locate import formulate  # noqa: E402
from estate.locate.instances import load_family, shared_dir  # noqa: E402

SLOWEST = ["p30", "p31", "p32", "p57", "p58"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", default=SLOWEST, metavar="NAME", help="Holmberg instances (p1..p71)")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds for each HiGHS run")
    args = parser.parse_args(argv)
    instances = {inst.name: inst for inst in load_family(shared_dir(), "holmberg", names=args.only)}
    unknown = sorted(set(args.only) - set(instances))
    if unknown:
        parser.error(f"no Holmberg instance named {', '.join(unknown)}")
    print(f"{'name':6} {'optimum':>9} {'start':>9} {'start gap':>9} {'heur_s':>7} {'from start s':>12} "
          f"{'from optimum s':>14}")
    totals = [0.0, 0.0]
    for name in args.only:
        inst = instances[name]
        milp = formulate.min_cost(inst.problem, single_source=True)
        t0 = time.perf_counter()
        start = engine._single_source_start(inst.problem, milp)
        heuristic_s = time.perf_counter() - t0
        if start is None:
            print(f"{name:6} the heuristic found no start")
            continue
        start_value = float(milp.c @ start + milp.offset)
        first = engine._run_highs(milp, args.time_limit, 0.0, start)
        second = engine._run_highs(milp, args.time_limit, 0.0, first.values)
        totals[0] += heuristic_s + first.seconds
        totals[1] += second.seconds
        best = inst.optimum if inst.optimum is not None else first.objective
        print(f"{name:6} {best:9.0f} {start_value:9.0f} {(start_value - best) / best:9.2%} {heuristic_s:7.2f} "
              f"{first.seconds:9.1f} {first.status[:2]} {second.seconds:11.1f} {second.status[:2]}", flush=True)
    print(f"total: from the start {totals[0]:.1f} s (heuristic included), from the optimum {totals[1]:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
