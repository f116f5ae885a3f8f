"""The published location benchmarks through ``estate solve``, each instance a whole process.

Usage::

    .venv/bin/python benchmarks/locate_cli.py --family pmed --csv out/locate_cli_pmed.csv
    .venv/bin/python benchmarks/locate_cli.py --family holmberg --csv out/locate_cli_holmberg.csv
    .venv/bin/python benchmarks/locate_cli.py --family pmed --only pmed1 pmed2 --time-limit 30

Where :mod:`benchmarks/locate.py <locate>` times :func:`estate.locate.solve.solve` inside one
Python process, this script times what a user runs. Each instance of a family (OR-Library
``pmed``, OR-Library ``cap``, Holmberg single-source capacitated ``holmberg``) is read with
:mod:`estate.locate.instances` from the shared folder (``ESTATE_SHARED``, default ``../shared``)
and written once in the public ``estate solve`` CSV contract:

- ``sites.csv``: ``site_id, fixed_cost, capacity, status`` (capacity blank when unlimited, every
  site ``free``);
- ``demand.csv``: ``zone_id, weight``;
- ``costs.csv``: ``zone_id, site_id, cost``, the cost per unit of weight (the files' costs for a
  whole customer divided by its demand), every pair, written to full precision;
- ``instance.json``: what the runner needs to call and check it (objective, ``p``, single
  sourcing, sizes and the published optimum), written last.

They go into ``--cache`` (default ``out/locate_cli``), as ``<family>/<name>/``, and are reused
when ``instance.json`` is there from the same source file. Writing them is **not** part of the
timed figure.

Then the installed ``estate`` script next to this Python runs as a child process::

    estate solve --sites … --demand … --costs … --objective p-median --p P          # pmed
    estate solve … --objective min-cost                                             # cap
    estate solve … --objective min-cost --single-source                             # holmberg

with ``--time-limit`` (default 60) and ``--gap 0``, writing into ``<family>/<name>/solution/``.
``wall_s`` is the whole process: interpreter start-up, imports, reading the CSVs, the solve and
writing the outputs. ``peak_mb`` is the child's own peak RSS (``ru_maxrss`` from ``os.wait4``).
The status, objective and gap come from the run's ``summary.json``; ``ok`` when the status is
``optimal`` and the objective equals the published optimum (``matches`` of benchmarks/locate.py);
``at_limit`` when the status is ``time_limit``.

One line is printed per instance as it finishes, then per-family totals (how many are ok, total
wall seconds, the slowest instance, how many stopped at the time limit), with the load average
before and after. ``estate solve --help`` is timed first (median of ``--startup-runs``, default
5), the start-up every process pays.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path


HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# benchmarks/locate.py (it puts src/ on the path) and benchmarks/setcover_england.py
from locate import FAMILIES, finish, fmt, matches, rows_writer, select_instances  # noqa: E402
from setcover_england import timed  # noqa: E402

from estate.locate.contract import write_problem  # noqa: E402
from estate.locate.instances import Instance, family_files, load_family  # noqa: E402

REPO = HERE.parent
#: Bumped when the files written change, so that an older cache is written again.
CACHE_FORMAT = 1
FIELDS = ["family", "name", "n", "m", "p", "optimum", "objective", "status", "gap", "wall_s", "peak_mb",
          "exit_code", "ok", "at_limit", "build_s", "solve_s"]


def estate_exe() -> Path:
    """The installed ``estate`` script of this Python's environment."""
    return Path(sys.executable).with_name("estate")


def write_contract(inst: Instance, folder: Path, source: Path) -> dict:
    """Write ``inst`` as ``sites.csv``, ``demand.csv`` and ``costs.csv`` in ``folder``, then
    ``instance.json``; return the content of ``instance.json``."""
    pr = inst.problem
    write_problem(pr, folder)
    info = {"format": CACHE_FORMAT, "family": inst.family, "name": inst.name, "source": str(source),
            "source_bytes": source.stat().st_size, "n": pr.n_zones, "m": pr.n_sites,
            "pairs": int(len(pr.pair_cost)), "objective": inst.objective, "p": inst.p,
            "single_source": inst.single_source, "optimum": inst.optimum}
    (folder / "instance.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def cached_contract(shared: Path, family: str, name: str, folder: Path) -> dict:
    """The instance's CSVs in ``folder``, written unless already there from the same source file."""
    source = family_files(shared, family)[name]
    stamp = folder / "instance.json"
    if stamp.is_file() and all((folder / f).is_file() for f in ("sites.csv", "demand.csv", "costs.csv")):
        info = json.loads(stamp.read_text())
        if (info.get("format"), info.get("source"), info.get("source_bytes")) == (
                CACHE_FORMAT, str(source), source.stat().st_size):
            return info
    stamp.unlink(missing_ok=True)  # a write cut short leaves no stamp, so it is never reused
    return write_contract(load_family(shared, family, [name])[0], folder, source)


def solve_command(folder: Path, info: dict, time_limit: float) -> list[str]:
    """The ``estate solve`` command line for the instance in ``folder``."""
    cmd = [str(estate_exe()), "solve", "--sites", str(folder / "sites.csv"), "--demand",
           str(folder / "demand.csv"), "--costs", str(folder / "costs.csv"), "--objective", info["objective"]]
    if info["p"] is not None:
        cmd += ["--p", str(info["p"])]
    if info["single_source"]:
        cmd.append("--single-source")
    return cmd + ["--time-limit", f"{time_limit:g}", "--gap", "0", "--out", str(folder / "solution")]


def run_instance(folder: Path, info: dict, time_limit: float) -> dict:
    """Run ``estate solve`` on the cached instance as a whole process; one result row."""
    out = folder / "solution"
    shutil.rmtree(out, ignore_errors=True)  # a run that fails must not leave the last run's summary
    result = timed(solve_command(folder, info, time_limit))
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").is_file() else {}
    status = summary.get("status", f"exit {result['returncode']}")
    objective = summary.get("objective")
    if result["returncode"] != 0:
        print(f"   {info['name']}: exit {result['returncode']}: {result['stderr'].strip()[-1000:]}",
              file=sys.stderr, flush=True)
    return {"family": info["family"], "name": info["name"], "n": info["n"], "m": info["m"], "p": info["p"],
            "optimum": info["optimum"], "objective": objective, "status": status, "gap": summary.get("gap"),
            "wall_s": result["wall_s"], "peak_mb": result["peak_rss_mb"], "exit_code": result["returncode"],
            "ok": status == "optimal" and matches(objective, info["optimum"]),
            "at_limit": status == "time_limit",
            "build_s": summary.get("build_seconds"), "solve_s": summary.get("solve_seconds")}


def startup(runs: int) -> dict:
    """``estate solve --help`` as a whole process, ``runs`` times: median wall seconds and peak RSS."""
    results = [timed([str(estate_exe()), "solve", "--help"]) for _ in range(runs)]
    failed = [r for r in results if r["returncode"] != 0]
    if failed:
        raise RuntimeError(f"estate solve --help failed: {failed[0]['stderr'].strip()[-500:]}")
    return {"runs": runs, "median_s": statistics.median(r["wall_s"] for r in results),
            "peak_mb": statistics.median(r["peak_rss_mb"] for r in results)}


HEADER = (f"{'name':<8} {'n':>4} {'m':>4} {'p':>4} {'optimum':>12} {'objective':>12} {'status':<10} "
          f"{'gap':>8} {'wall_s':>8} {'peak_MB':>8} {'ok':<3} {'at_limit':<8}")


def line(row: dict) -> str:
    return (f"{row['name']:<8} {row['n']:>4} {row['m']:>4} {fmt(row['p']):>4} {fmt(row['optimum'], '.3f'):>12} "
            f"{fmt(row['objective'], '.3f'):>12} {row['status']:<10} {fmt(row['gap'], '.2e'):>8} "
            f"{row['wall_s']:>8.2f} {row['peak_mb']:>8.1f} {'yes' if row['ok'] else 'NO':<3} "
            f"{'LIMIT' if row['at_limit'] else 'no':<8}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", choices=FAMILIES + ["all"], default="all")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these instances (e.g. pmed1 cap71 p25)")
    parser.add_argument("--time-limit", type=float, default=60.0,
                        help="estate solve --time-limit, seconds per instance (default 60)")
    parser.add_argument("--cache", type=Path, default=REPO / "out" / "locate_cli",
                        help="folder for the instances' CSVs and solutions (default out/locate_cli)")
    parser.add_argument("--startup-runs", type=int, default=5,
                        help="times to run estate solve --help for the start-up median (default 5; 0 skips)")
    parser.add_argument("--csv", type=Path, help="write one row per instance to this CSV file")
    args = parser.parse_args(argv)

    exe = estate_exe()
    if not exe.is_file():
        parser.error(f"no estate script at {exe}; install the project into this environment (pip install -e .)")
    shared, families, plan = select_instances(parser, args)
    out, writer = rows_writer(args.csv, FIELDS)

    load = os.getloadavg()
    print(f"shared: {shared}   cache: {args.cache}   time limit {args.time_limit:g} s   gap 0   "
          f"{os.cpu_count()} cores, load average {load[0]:.2f}\nestate: {exe}", flush=True)
    if args.startup_runs > 0:
        s = startup(args.startup_runs)
        print(f"start-up (estate solve --help, median of {s['runs']}): {s['median_s']:.2f} s, "
              f"{s['peak_mb']:.1f} MB", flush=True)
    totals = {}
    for fam in families:
        if not plan[fam]:
            continue
        print(f"\n== {fam} ({len(plan[fam])} instances; wall_s is the whole estate solve process)\n{HEADER}",
              flush=True)
        rows = []
        for name in plan[fam]:
            folder = args.cache / fam / name
            row = run_instance(folder, cached_contract(shared, fam, name, folder), args.time_limit)
            print(line(row), flush=True)
            if writer:
                writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
                out.flush()
            rows.append(row)
        worst = max(rows, key=lambda r: r["wall_s"])
        totals[fam] = {"count": len(rows), "ok": sum(r["ok"] for r in rows),
                       "seconds": sum(r["wall_s"] for r in rows), "worst": worst["name"],
                       "worst_s": worst["wall_s"], "at_limit": sum(r["at_limit"] for r in rows),
                       "peak_mb": max(r["peak_mb"] for r in rows)}

    print("\n== totals (whole estate solve processes; writing the CSVs is not counted)", flush=True)
    for fam, t in totals.items():
        print(f"{fam:<9} {t['count']:>3} instances, {t['ok']:>3} optimal at the published optimum, "
              f"{t['seconds']:8.1f} s total; slowest {t['worst']} {t['worst_s']:.1f} s; "
              f"{t['at_limit']} at the time limit; largest peak {t['peak_mb']:.0f} MB", flush=True)
    print(f"load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)", flush=True)
    return finish(out, args.csv, totals)


if __name__ == "__main__":
    sys.exit(main())
