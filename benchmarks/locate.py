"""Location engine against the published benchmarks (OR-Library pmed and cap, Holmberg).

Usage::

    .venv/bin/python benchmarks/locate.py                       # every family
    .venv/bin/python benchmarks/locate.py --family pmed --only pmed1 pmed2
    .venv/bin/python benchmarks/locate.py --family pmed --spopt --spopt-limit 300 --csv out/locate.csv

Each instance is read from the shared folder (``ESTATE_SHARED``, default
``../shared``), solved with :func:`estate.locate.solve.solve` at the given gap
(default 0, i.e. prove optimality) and checked against its published optimum.
One line is printed per instance as it finishes, then per-family totals.

Columns: ``read_s`` parsing the file; ``build_s`` and ``solve_s`` as reported by
the solver; ``wall_s`` the whole ``solve()`` call; ``ok`` when the status is
``optimal`` and the objective is within ``1e-6·optimum + 0.5`` of the published
value (published optima are integers or rounded).

With ``--spopt``, pmed instances are also solved with spopt's
``PMedian.from_cost_matrix`` (the classic ``x_ij`` model through PuLP + HiGHS)
on the same dense distance matrix; ``spopt_s`` is its build plus solve time and
``ratio`` is ``spopt_s / wall_s``. Once an instance uses up ``--spopt-limit``
seconds (or stops short of optimal), spopt is skipped for every instance at
least that large.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from estate.locate.instances import FAMILY_DIRS, family_files, load_family, shared_dir  # noqa: E402
from estate.locate.problem import P_MEDIAN_METHODS  # noqa: E402
from estate.locate.solve import solve  # noqa: E402

FAMILIES = list(FAMILY_DIRS)
FIELDS = ["family", "name", "n", "m", "p", "optimum", "objective", "status", "gap", "read_s", "build_s",
          "solve_s", "wall_s", "ok", "spopt_s", "spopt_objective", "spopt_status", "ratio"]


def matches(objective: float | None, optimum: float | None) -> bool:
    """Whether ``objective`` equals the published ``optimum`` (to rounding)."""
    if objective is None or optimum is None or not math.isfinite(objective):
        return False
    return abs(objective - optimum) <= 1e-6 * max(1.0, abs(optimum)) + 0.5


def run_spopt(inst, limit: float, gap: float) -> dict:
    """Solve a p-median instance with spopt's PMedian; seconds include building the model."""
    import pulp
    from spopt.locate import PMedian

    cost = inst.dense_costs()
    weights = inst.problem.weight.astype(float)
    start = time.perf_counter()
    model = PMedian.from_cost_matrix(cost, weights, p_facilities=inst.p)
    built = time.perf_counter() - start
    solver = pulp.HiGHS(msg=False, timeLimit=max(1.0, limit - built), gapRel=gap)
    try:
        model.solve(solver, results=False)
        status = {1: "optimal", 2: "feasible"}.get(model.problem.sol_status, f"sol_status={model.problem.sol_status}")
        value = pulp.value(model.problem.objective)
    except RuntimeError as exc:  # spopt raises when PuLP's status is not Optimal
        status, value = f"error: {exc}", None
    return {"spopt_s": time.perf_counter() - start, "spopt_objective": value, "spopt_status": status}


def select_instances(parser: argparse.ArgumentParser, args: argparse.Namespace
                     ) -> tuple[Path, list[str], dict[str, list[str]]]:
    """The shared folder, the families of ``--family`` and, per family, the instance names to run
    (all, or those of ``--only``); an ``--only`` name in none of them is a usage error."""
    shared = shared_dir()
    families = FAMILIES if args.family == "all" else [args.family]
    only = set(args.only or [])
    plan = {fam: [name for name in family_files(shared, fam) if not only or name in only] for fam in families}
    unknown = only - {name for names in plan.values() for name in names}
    if unknown:
        parser.error(f"no instance named {', '.join(sorted(unknown))} in {', '.join(families)}")
    return shared, families, plan


def rows_writer(path: Path | None, fields: list[str]) -> tuple:
    """``(file, csv.DictWriter)`` writing a header to ``path`` (its folder made), or ``(None, None)``."""
    if path is None:
        return None, None
    path.parent.mkdir(parents=True, exist_ok=True)
    out = open(path, "w", newline="")
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    return out, writer


def fmt(value, spec: str = "") -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return format(value, spec)


HEADER = (f"{'name':<8} {'n':>4} {'m':>4} {'p':>4} {'optimum':>12} {'objective':>12} {'status':<10} "
          f"{'gap':>8} {'read_s':>7} {'build_s':>7} {'solve_s':>8} {'wall_s':>8} {'ok':<3}")


def line(row: dict, spopt: bool) -> str:
    text = (f"{row['name']:<8} {row['n']:>4} {row['m']:>4} {fmt(row['p']):>4} {fmt(row['optimum'], '.3f'):>12} "
            f"{fmt(row['objective'], '.3f'):>12} {row['status']:<10} {fmt(row['gap'], '.2e'):>8} "
            f"{row['read_s']:>7.2f} {fmt(row['build_s'], '.2f'):>7} {fmt(row['solve_s'], '.2f'):>8} "
            f"{row['wall_s']:>8.2f} {'yes' if row['ok'] else 'NO':<3}")
    if spopt and row["family"] == "pmed":
        if row["spopt_status"] == "skipped":
            text += "  spopt skipped (a smaller instance hit the limit)"
        elif row["spopt_s"] != "":
            text += (f"  spopt {row['spopt_s']:.2f}s {row['spopt_status']} "
                     f"obj {fmt(row['spopt_objective'], '.3f')} ratio {fmt(row['ratio'], '.1f')}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", choices=FAMILIES + ["all"], default="all")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these instances (e.g. pmed1 cap71 p25)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per instance for estate (default 60)")
    parser.add_argument("--gap", type=float, default=0.0, help="relative MIP gap for estate (default 0)")
    parser.add_argument("--solver", default="highs", help="solver passed to estate's solve (default highs)")
    parser.add_argument("--method", choices=P_MEDIAN_METHODS, default=P_MEDIAN_METHODS[0],
                        help="p-median method: Lagrangian branch-and-bound (default) or the radius MIP by --solver")
    parser.add_argument("--spopt", action="store_true", help="also time spopt's PMedian on pmed instances")
    parser.add_argument("--spopt-limit", type=float, default=300.0, help="seconds per instance for spopt (default 300)")
    parser.add_argument("--spopt-gap", type=float, default=0.0,
                        help="relative MIP gap for spopt's HiGHS (default 0, the same target as estate)")
    parser.add_argument("--csv", type=Path, help="write one row per instance to this CSV file")
    args = parser.parse_args(argv)

    shared, families, plan = select_instances(parser, args)
    out, writer = rows_writer(args.csv, FIELDS)

    print(f"shared: {shared}   time limit {args.time_limit:g} s   gap {args.gap:g}   p-median {args.method}"
          + (f"   spopt limit {args.spopt_limit:g} s" if args.spopt else ""), flush=True)
    totals = {}
    spopt_stop_n = math.inf  # spopt is skipped for instances with n ≥ this
    for fam in families:
        if not plan[fam]:
            continue
        print(f"\n== {fam} ({len(plan[fam])} instances)\n{HEADER}", flush=True)
        rows = []
        for name in plan[fam]:
            start = time.perf_counter()
            inst = load_family(shared, fam, [name])[0]
            read_s = time.perf_counter() - start
            pr = inst.problem
            start = time.perf_counter()
            try:
                sol = solve(pr, inst.objective, p=inst.p, single_source=inst.single_source, gap=args.gap,
                            time_limit=args.time_limit, solver=args.solver, method=args.method)
                status, objective, gap = sol.status, sol.objective, sol.gap
                build_s, solve_s = getattr(sol, "build_seconds", None), getattr(sol, "solve_seconds", None)
            except Exception as exc:  # report and carry on with the next instance
                status, objective, gap, build_s, solve_s = f"error:{type(exc).__name__}", None, None, None, None
                print(f"   {name}: {exc!r}", file=sys.stderr, flush=True)
            wall_s = time.perf_counter() - start
            row = {"family": fam, "name": name, "n": pr.n_zones, "m": pr.n_sites, "p": inst.p,
                   "optimum": inst.optimum, "objective": objective, "status": status, "gap": gap,
                   "read_s": read_s, "build_s": build_s, "solve_s": solve_s, "wall_s": wall_s,
                   "ok": status == "optimal" and matches(objective, inst.optimum),
                   "spopt_s": "", "spopt_objective": "", "spopt_status": "", "ratio": ""}
            if args.spopt and fam == "pmed":
                if pr.n_zones >= spopt_stop_n:
                    row["spopt_status"] = "skipped"
                else:
                    row.update(run_spopt(inst, args.spopt_limit, args.spopt_gap))
                    row["ratio"] = row["spopt_s"] / wall_s if wall_s > 0 else ""
                    if row["spopt_s"] >= args.spopt_limit or row["spopt_status"] != "optimal":
                        spopt_stop_n = min(spopt_stop_n, pr.n_zones)
            print(line(row, args.spopt), flush=True)
            if writer:
                writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
                out.flush()
            rows.append(row)
        worst = max(rows, key=lambda r: r["read_s"] + r["wall_s"])
        totals[fam] = {"count": len(rows), "ok": sum(r["ok"] for r in rows),
                       "seconds": sum(r["read_s"] + r["wall_s"] for r in rows),
                       "worst": worst["name"], "worst_s": worst["read_s"] + worst["wall_s"]}
        if args.spopt and fam == "pmed":
            timed = [r for r in rows if isinstance(r["spopt_s"], float)]
            totals[fam]["spopt"] = (len(timed), sum(r["spopt_s"] for r in timed),
                                    sum(r["wall_s"] for r in timed))

    print("\n== totals (seconds include reading the file)", flush=True)
    for fam, t in totals.items():
        text = (f"{fam:<9} {t['count']:>3} instances, {t['ok']:>3} at the published optimum, "
                f"{t['seconds']:8.1f} s total; slowest {t['worst']} {t['worst_s']:.1f} s")
        if "spopt" in t:
            k, s_sp, s_es = t["spopt"]
            text += f"; spopt on {k}: {s_sp:.1f} s vs estate {s_es:.1f} s"
        print(text, flush=True)
    return finish(out, args.csv, totals)


def finish(out, path: Path | None, totals: dict) -> int:
    """Close the CSV of rows (if one was written) and give the exit code: 0 when every instance of
    every family reached its published optimum, else 1."""
    if out is not None:
        out.close()
        print(f"results written to {path}", flush=True)
    return 0 if all(t["ok"] == t["count"] for t in totals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
