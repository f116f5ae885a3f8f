"""An England-sized set cover through ``estate solve``, timed as a user runs it.

Usage::

    .venv/bin/python benchmarks/setcover_england.py                 # generate (once) and run estate solve
    .venv/bin/python benchmarks/setcover_england.py --pulp          # also the textbook PuLP + HiGHS model
    .venv/bin/python benchmarks/setcover_england.py --only-generate --data out/setcover_england

The instance is generated from a fixed seed (``numpy.random.default_rng(SEED)``)
in the public ``estate solve`` CSV contract (``sites.csv``, ``demand.csv``,
``costs.csv``): 35,000 zones and 20,000 sites clustered around 300 towns over
an England-sized square (360 km × 360 km, about 130,000 km²). A pair's cost
is its travel minutes, straight-line distance × 1.3 circuity at 28 km/h, and
only pairs within the 30-minute cutoff are written (about 6.4 million). By
default (``--variant costed``) every site is free with a fixed cost (a whole
number of £k a year, 50 to 500); ``--variant mixed`` makes about 1% ``open``
(must keep) and 2% ``closed`` (must go), and ``--variant count`` gives every
site a fixed cost of 0 (fewest sites). Every zone is checked to have a usable
site within the cutoff (the generator moves a free site onto a
zone that has none), so the cover is feasible.

``estate solve ... --objective cover --max-cost 30`` then runs as a whole
process (the installed ``estate`` script next to this Python). Wall seconds
cover the whole process; peak RSS is the child's own ``ru_maxrss`` (from
``os.wait4``). The summary's status, objective, bound, gap and the solver's
build and solve seconds are printed beside them.

With ``--pulp``, a textbook PuLP model of the same problem (binary ``x_j``
per usable site, one ``Σ x_j ≥ 1`` row per zone over the pairs within the
cutoff, HiGHS through PuLP's ``HiGHS`` interface, relative gap 0) also runs
as its own whole process on the same files, timed the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED = 20260413
ZONES, SITES, TOWNS = 35_000, 20_000, 300
#: The square the towns lie in, British National Grid metres (360 km × 360 km ≈ 130,000 km²).
AREA = ((150_000.0, 50_000.0), (510_000.0, 410_000.0))
CIRCUITY, SPEED_KMH, CUTOFF_MINUTES = 1.3, 28.0, 30.0


def generate(folder: Path, variant: str = "count") -> dict:
    """Write ``sites.csv``, ``demand.csv`` and ``costs.csv`` into ``folder``; return their sizes.

    ``variant`` ``costed``: every site free, with a fixed cost of 50 to 500; ``mixed``: the same
    costs with about 1% of sites open and 2% closed; ``count``: every site free with fixed cost 0
    (the cover minimises the number of sites).
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(SEED)
    towns = rng.uniform(*AREA, size=(TOWNS, 2))
    size = rng.pareto(1.5, TOWNS) + 1.0  # a few cities, many small towns
    share = size / size.sum()

    def points(n: int) -> np.ndarray:
        town = rng.choice(TOWNS, n, p=share)
        return towns[town] + rng.normal(0.0, 4_000.0, (n, 2)) * size[town][:, None] ** 0.25

    zones, sites = points(ZONES), points(SITES)
    u = rng.random(SITES)
    status = np.where(u < 0.01, "open", np.where(u < 0.03, "closed", "free"))
    fixed = rng.integers(50, 501, SITES)
    if variant != "mixed":
        status = np.full(SITES, "free")
    if variant == "count":
        fixed = np.zeros(SITES, dtype=np.int64)
    radius_m = CUTOFF_MINUTES / 60.0 * SPEED_KMH / CIRCUITY * 1000.0
    usable = status != "closed"
    # Every zone must have a usable site within the cutoff: move free sites onto zones that have none.
    reach = cKDTree(sites[usable]).query(zones, distance_upper_bound=radius_m)[0]
    lost = np.flatnonzero(~np.isfinite(reach))
    movable = np.flatnonzero(status == "free")[-len(lost):] if len(lost) else np.zeros(0, int)
    sites[movable] = zones[lost]
    pairs = cKDTree(zones).sparse_distance_matrix(cKDTree(sites), radius_m, output_type="coo_matrix")
    order = np.lexsort((pairs.col, pairs.row))
    zone, site = pairs.row[order], pairs.col[order]
    minutes = np.round(pairs.data[order] / 1000.0 * CIRCUITY / SPEED_KMH * 60.0, 2)
    keep = minutes <= CUTOFF_MINUTES
    zone, site, minutes = zone[keep], site[keep], minutes[keep]
    covered = np.zeros(ZONES, bool)
    covered[zone[usable[site]]] = True
    if not covered.all():
        raise RuntimeError(f"{(~covered).sum()} zones have no usable site within {CUTOFF_MINUTES} minutes")

    zone_ids = np.array([f"E{i:06d}" for i in range(ZONES)], dtype=object)
    site_ids = np.array([f"S{i:05d}" for i in range(SITES)], dtype=object)
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"site_id": site_ids, "fixed_cost": fixed, "capacity": "", "status": status}).to_csv(
        folder / "sites.csv", index=False)
    weight = np.maximum(1, rng.poisson(1_600, ZONES))
    pd.DataFrame({"zone_id": zone_ids, "weight": weight}).to_csv(folder / "demand.csv", index=False)
    table = pa.table({"zone_id": pa.array(zone_ids[zone], pa.string()),
                      "site_id": pa.array(site_ids[site], pa.string()),
                      "cost": pa.array(minutes, pa.float64())})
    with open(folder / "costs.csv", "wb") as fh:
        fh.write(b"zone_id,site_id,cost\n")
        pacsv.write_csv(table, fh, pacsv.WriteOptions(quoting_style="none", include_header=False))
    info = {"seed": SEED, "variant": variant, "zones": ZONES, "sites": SITES, "pairs": int(len(zone)),
            "sites_moved_onto_zones": int(len(lost)), "open": int((status == "open").sum()),
            "closed": int((status == "closed").sum()), "cutoff_minutes": CUTOFF_MINUTES,
            "costs_csv_mb": round((folder / "costs.csv").stat().st_size / 1e6, 1)}
    (folder / "instance.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def _instance(folder: Path, variant: str) -> dict:
    """The instance in ``folder``, generated unless it is already there from the same seed and variant."""
    stamp = folder / "instance.json"
    if stamp.exists() and all((folder / f).exists() for f in ("sites.csv", "demand.csv", "costs.csv")):
        info = json.loads(stamp.read_text())
        if (info.get("seed"), info.get("variant"), info.get("zones"), info.get("sites")) == (
                SEED, variant, ZONES, SITES):
            return info
    t0 = time.perf_counter()
    info = generate(folder, variant)
    print(f"generated {folder} in {time.perf_counter() - t0:.1f} s: {info}", flush=True)
    return info


def timed(cmd: list[str], **kwargs) -> dict:
    """Run ``cmd`` as a child process: wall seconds, the child's own peak RSS (MB) and exit code."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    stdout: list[str] = []
    stderr: list[str] = []

    def drain(stream, into):
        into.append(stream.read())

    threads = [threading.Thread(target=drain, args=(proc.stdout, stdout)),
               threading.Thread(target=drain, args=(proc.stderr, stderr))]
    for t in threads:
        t.start()
    # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the largest of all children so far).
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    for t in threads:
        t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "returncode": proc.returncode, "stdout": "".join(stdout), "stderr": "".join(stderr)}


def run_estate(folder: Path, out: Path, extra: list[str]) -> dict:
    exe = Path(sys.executable).with_name("estate")
    cmd = [str(exe), "solve", "--sites", str(folder / "sites.csv"), "--demand", str(folder / "demand.csv"),
           "--costs", str(folder / "costs.csv"), "--objective", "cover", "--max-cost", f"{CUTOFF_MINUTES:g}",
           "--out", str(out), *extra]
    result = timed(cmd)
    result["command"] = " ".join(cmd)
    if result["returncode"] == 0 or (out / "summary.json").exists():
        s = json.loads((out / "summary.json").read_text())
        result.update({k: s.get(k) for k in ("status", "objective", "bound", "gap", "open_sites",
                                              "build_seconds", "solve_seconds", "stats")})
    return result


def _pulp_child(folder: Path, max_cost: float, threads: int | None) -> None:
    """The textbook model: read the CSVs, binary x per usable site, Σ x ≥ 1 per zone, HiGHS via PuLP."""
    import pandas as pd
    import pulp

    t0 = time.perf_counter()
    sites = pd.read_csv(folder / "sites.csv", dtype={"site_id": str, "status": str})
    demand = pd.read_csv(folder / "demand.csv", dtype={"zone_id": str})
    costs = pd.read_csv(folder / "costs.csv", dtype={"zone_id": str, "site_id": str})
    read = time.perf_counter()
    status = sites.set_index("site_id")["status"].fillna("free")
    fixed = sites.set_index("site_id")["fixed_cost"].fillna(0.0)
    usable = status[status != "closed"].index
    costs = costs[(costs["cost"] <= max_cost) & costs["site_id"].isin(usable)]
    prob = pulp.LpProblem("set_cover", pulp.LpMinimize)
    x = {j: pulp.LpVariable(f"x_{j}", cat="Binary") for j in usable}
    for j in status.index[status == "open"]:
        x[j].lowBound = 1
    prob += pulp.lpSum(fixed[j] * x[j] for j in usable) if fixed.any() else pulp.lpSum(x.values())
    for zone, group in costs.groupby("zone_id")["site_id"]:
        prob += pulp.lpSum(x[j] for j in group) >= 1, f"cover_{zone}"
    built = time.perf_counter()
    options = {"msg": False, "gapRel": 0.0}
    if threads:
        options["threads"] = threads
    prob.solve(pulp.HiGHS(**options))
    solved = time.perf_counter()
    chosen = [j for j, v in x.items() if (v.value() or 0) > 0.5]
    print(json.dumps({"status": pulp.LpStatus[prob.status], "sol_status": prob.sol_status,
                      "objective": pulp.value(prob.objective), "open_sites": len(chosen),
                      "zones": len(demand), "read_s": read - t0, "build_s": built - read,
                      "solve_s": solved - built}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None,
                        help="folder for the generated instance, reused when already generated from the seed "
                             "[default: out/setcover_england/VARIANT]")
    parser.add_argument("--variant", choices=["costed", "mixed", "count"], default="costed",
                        help="costed: every site free, fixed costs 50-500; mixed: the same with 1%% of sites "
                             "open and 2%% closed; count: fixed costs 0, every site free (minimise the number "
                             "of sites)  [default: costed]")
    parser.add_argument("--pulp", action="store_true", help="also time the textbook PuLP + HiGHS model")
    parser.add_argument("--no-estate", action="store_true", help="skip estate solve (with --pulp)")
    parser.add_argument("--only-generate", action="store_true", help="write the instance and stop")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--pulp-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("estate_args", nargs="*", help="extra estate solve options, after --")
    args = parser.parse_args()
    args.data = args.data or REPO / "out" / "setcover_england" / args.variant
    if args.pulp_child:
        _pulp_child(args.data, CUTOFF_MINUTES, args.threads)
        return 0
    info = _instance(args.data, args.variant)
    print(f"instance: {info}", flush=True)
    if args.only_generate:
        return 0
    load = os.getloadavg()
    results = {"instance": info, "load_before": load}
    if not args.no_estate:
        with tempfile.TemporaryDirectory(prefix="setcover-") as tmp:
            r = run_estate(args.data, Path(tmp) / "out", args.estate_args)
        results["estate"] = r
        print(f"estate solve: wall {r['wall_s']:.1f} s, peak RSS {r['peak_rss_mb']:,.0f} MB, "
              f"status {r.get('status')}, objective {r.get('objective')}, bound {r.get('bound')}, "
              f"gap {r.get('gap')}, {r.get('open_sites')} sites open, build {r.get('build_seconds')} s, "
              f"solve {r.get('solve_seconds')} s, exit {r['returncode']}", flush=True)
        print(f"  command: {r['command']}")
        if r.get("stats"):
            print(f"  stats: {r['stats']}")
        if r["returncode"] != 0:
            print(r["stderr"][-2000:])
    if args.pulp:
        cmd = [sys.executable, __file__, "--pulp-child", "--data", str(args.data)]
        r = timed(cmd)
        r["command"] = " ".join(cmd)
        if r["returncode"] == 0:
            r.update(json.loads(r["stdout"].strip().splitlines()[-1]))
        results["pulp"] = r
        print(f"PuLP textbook: wall {r['wall_s']:.1f} s, peak RSS {r['peak_rss_mb']:,.0f} MB, "
              f"status {r.get('status')} (sol_status {r.get('sol_status')}), objective {r.get('objective')}, "
              f"read {r.get('read_s', 0):.1f} s, build {r.get('build_s', 0):.1f} s, "
              f"solve {r.get('solve_s', 0):.1f} s, exit {r['returncode']}", flush=True)
        if r["returncode"] != 0:
            print(r["stderr"][-2000:])
    results["load_after"] = os.getloadavg()
    print(f"load average before {load[0]:.2f}, after {results['load_after'][0]:.2f} (2 cores)")
    if args.json:
        for r in (results.get("estate"), results.get("pulp")):
            if r:
                r.pop("stdout", None)
                r["stderr"] = r["stderr"][-2000:]
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
