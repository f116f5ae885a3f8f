"""Which part of the built-in plan's model leaves the gap between its LP bound and its plans.

Uses the model cached by ``benchmarks/plan_root.py`` (built on first use) and prints:

1. the LP relaxation's bound, then the same with each rule group relaxed in turn (its rows
   dropped), which shows the groups that bind the LP, and which delivery rows the LP holds at
   their limit (positions within the group: per limit, one row per financial year from year 0,
   in the order disposals, market value, FTE moved);
2. the LP's fractional columns by kind (buildings ``y``, team placements ``x``, exit years and
   other integer extras);
3. with every building whose LP value is integral fixed at it, the bound HiGHS proves in
   ``--seconds`` when the team placements ``x`` must be whole but the exit years may be fractional,
   when the exit years must be whole but the placements may be fractional, and when the placements
   must be whole but the buildings' capacity rows are dropped.

Usage::

    .venv/bin/python benchmarks/plan_gap.py                 # 60 s for each of the two restricted solves
    .venv/bin/python benchmarks/plan_gap.py --seconds 120

The restricted solves stop on the clock, so their bounds are only what this machine proved in that
time: evidence of where the gap lies, not figures to test against.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))


def _npv(objective: float | None) -> str:
    return "none" if objective is None else f"£{-objective / 1e6:,.2f}m"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=REPO / "out" / "plan_root.pkl")
    parser.add_argument("--seconds", type=float, default=60.0, help="time for each restricted MIP")
    args = parser.parse_args()
    if not args.cache.exists():
        from plan_root import _build

        _build(args.cache)
    import estate.locate.solve as engine
    from estate.locate import formulate

    data = pickle.loads(args.cache.read_bytes())
    milp = formulate.min_cost(data["problem"], single_source=True)
    groups = milp.info["groups"]
    relaxed = replace(milp, integer=np.zeros_like(milp.integer))

    def lp(m) -> float | None:
        return engine._run_highs(replace(m, integer=np.zeros_like(m.integer)), None, 0.0, None).objective

    t0 = time.perf_counter()
    print(f"LP bound (NPV at most): {_npv(lp(relaxed))} ({time.perf_counter() - t0:.1f} s)")
    families = sorted({g.split(":")[0] if not g.startswith("delivery") else g for g in groups})
    for family in families:
        lo, hi = milp.row_lower.copy(), milp.row_upper.copy()
        for g, rows in groups.items():
            if g == family or g.startswith(family + ":"):
                lo[rows], hi[rows] = -np.inf, np.inf
        print(f"  without {family:24s} {_npv(lp(replace(milp, row_lower=lo, row_upper=hi)))}")

    values = engine._run_highs(relaxed, None, 0.0, None).values
    # Which delivery rows the LP holds at their limit. estate.plan.rules.phasing writes, per scope, one
    # row per year for each limit it has, in this order: disposals, market value, FTE moved.
    activity = milp.A @ values
    for g, rows in groups.items():
        if not g.startswith("delivery"):
            continue
        upper = milp.row_upper[rows]
        tight = np.abs(activity[rows] - upper) <= 1e-6 * np.maximum(1.0, np.abs(upper))
        print(f"  {g}: {int(tight.sum())} of {len(rows)} rows at their limit, at positions "
              f"{np.flatnonzero(tight).tolist()}")
    integral = np.abs(values - np.round(values)) <= 1e-6
    for name, (a, b) in milp.parts.items():
        ints = milp.integer[a:b]
        print(f"  fractional {name}: {int((~integral[a:b] & ints).sum()):,} of {int(ints.sum()):,} integer columns")

    y0, y1 = milp.parts["y"]
    x0, x1 = milp.parts["x"]
    e0, e1 = milp.parts["extra"]
    fix = np.zeros(len(values), bool)
    fix[y0:y1] = integral[y0:y1]
    lo, hi = milp.col_lower.copy(), milp.col_upper.copy()
    lo[fix] = hi[fix] = np.round(values[fix])
    print(f"buildings fixed at the LP's integral values: {int(fix.sum()):,} of {y1 - y0:,}")
    for whole, loose in (("x", (e0, e1)), ("w", (x0, x1))):
        integer = milp.integer.copy()
        integer[loose[0]:loose[1]] = False
        run = engine._run_highs(replace(milp, col_lower=lo, col_upper=hi, integer=integer), args.seconds, 0.0, None)
        label = "placements whole, years fractional" if whole == "x" else "years whole, placements fractional"
        print(f"  {label}: status {run.status}, best {_npv(run.objective)}, bound {_npv(run.bound)}, "
              f"{run.seconds:.0f} s")
    # The same with placements whole, but without the buildings' capacity rows (Σ need·x ≤ room·y), which
    # formulate.min_cost writes right after the zone rows and the x ≤ y rows.
    problem = data["problem"]
    first = problem.n_zones + len(problem.pair_zone)
    capacity_rows = np.arange(first, first + int(np.isfinite(problem.capacity).sum()))
    row_lower, row_upper = milp.row_lower.copy(), milp.row_upper.copy()
    row_lower[capacity_rows], row_upper[capacity_rows] = -np.inf, np.inf
    integer = milp.integer.copy()
    integer[e0:e1] = False
    run = engine._run_highs(replace(milp, col_lower=lo, col_upper=hi, integer=integer, row_lower=row_lower,
                                    row_upper=row_upper), args.seconds, 0.0, None)
    print(f"  placements whole, years fractional, no capacity rows: status {run.status}, "
          f"best {_npv(run.objective)}, bound {_npv(run.bound)}, {run.seconds:.0f} s")


if __name__ == "__main__":
    main()
