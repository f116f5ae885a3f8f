"""A set cover that falls apart into distant regions, solved whole and in independent parts.

Usage::

    .venv/bin/python benchmarks/independent_parts.py                    # 4 regions, cover, whole vs split
    .venv/bin/python benchmarks/independent_parts.py --objective min-cost --zones 1000 --sites 500
    .venv/bin/python benchmarks/independent_parts.py --blocks --data out/setcover_england   # list the blocks

The instance is generated from a fixed seed in the public ``estate solve`` CSV contract, like
``benchmarks/setcover_england.py`` but in ``--regions`` squares of 130 km × 130 km, 400 km apart
(so no zone of one region is within the 30-minute cutoff of another region's site). Each region
has 5,000 zones and 2,500 sites by default (``--zones``, ``--sites``) clustered around 40 towns,
fixed costs of 50 to 500, every site free; a pair's cost is straight-line km × 1.3 ÷ 28 km/h in
minutes, kept within 30 minutes.

Each way of solving runs in its own child process, which reads the files as ``estate solve``
does (:func:`estate.locate.contract.read_problem`), solves with
``estate.locate.solve.solve(..., split=True)`` (the default) or ``split=False``, and prints the
summary and a hash of the open sites' ids; the parent prints wall seconds, the solver's seconds,
status, objective and the parts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED = 20260414
ZONES, SITES, TOWNS = 5_000, 2_500, 40
SIDE_M, SPACING_M = 130_000.0, 400_000.0
CIRCUITY, SPEED_KMH, CUTOFF_MINUTES = 1.3, 28.0, 30.0


def generate(folder: Path, regions: int, zones_per_region: int = ZONES, sites_per_region: int = SITES) -> dict:
    """Write ``sites.csv``, ``demand.csv`` and ``costs.csv`` for ``regions`` regions into ``folder``."""
    import numpy as np
    from scipy.spatial import cKDTree

    from estate.locate.contract import write_problem
    from estate.locate.problem import LocationProblem

    rng = np.random.default_rng(SEED)
    radius_m = CUTOFF_MINUTES / 60.0 * SPEED_KMH / CIRCUITY * 1000.0
    zones, sites = [], []
    for r in range(regions):
        corner = np.array([r * SPACING_M, 0.0])
        towns = corner + rng.uniform(0.0, SIDE_M, size=(TOWNS, 2))
        size = rng.pareto(1.5, TOWNS) + 1.0
        share = size / size.sum()

        def points(n: int) -> np.ndarray:
            town = rng.choice(TOWNS, n, p=share)
            return towns[town] + rng.normal(0.0, 4_000.0, (n, 2)) * size[town][:, None] ** 0.25

        z, s = points(zones_per_region), points(sites_per_region)
        lost = np.flatnonzero(~np.isfinite(cKDTree(s).query(z, distance_upper_bound=radius_m)[0]))
        s[len(s) - len(lost):] = z[lost]  # every zone has a site within the cutoff
        zones.append(z)
        sites.append(s)
    zones, sites = np.vstack(zones), np.vstack(sites)
    pairs = cKDTree(zones).sparse_distance_matrix(cKDTree(sites), radius_m, output_type="coo_matrix")
    minutes = np.round(pairs.data / 1000.0 * CIRCUITY / SPEED_KMH * 60.0, 2)
    keep = minutes <= CUTOFF_MINUTES
    zone, site, minutes = pairs.row[keep], pairs.col[keep], minutes[keep]
    order = np.lexsort((site, zone))
    zone, site, minutes = zone[order], site[order], minutes[order]
    zone_ids = np.array([f"Z{i:06d}" for i in range(len(zones))], dtype=object)
    site_ids = np.array([f"S{i:05d}" for i in range(len(sites))], dtype=object)
    fixed_cost = rng.integers(50, 501, len(sites))
    weight = np.maximum(1, rng.poisson(1_600, len(zones)))
    write_problem(LocationProblem.from_arrays(fixed_cost, weight, zone, site, minutes, site_ids=site_ids,
                                              zone_ids=zone_ids), folder)
    info = {"seed": SEED, "regions": regions, "zones_per_region": zones_per_region,
            "sites_per_region": sites_per_region, "zones": int(len(zones)), "sites": int(len(sites)),
            "pairs": int(len(zone)), "cutoff_minutes": CUTOFF_MINUTES}
    (folder / "instance.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def _child(folder: Path, objective: str, split: bool, time_limit: float | None) -> None:
    from estate.locate.contract import read_problem, summary_of
    from estate.locate.solve import solve

    problem = read_problem(folder / "sites.csv", folder / "demand.csv", folder / "costs.csv")
    kw = {"max_cost": CUTOFF_MINUTES} if objective == "cover" else {"single_source": True}
    solution = solve(problem, objective, time_limit=time_limit, split=split, **kw)
    opened = ",".join(sorted(problem.site_ids[solution.open_sites]))
    print(json.dumps({**summary_of(solution), "open_sites_sha1": hashlib.sha1(opened.encode()).hexdigest()[:12]}))


def _blocks(folder: Path, objective: str) -> None:
    """Print the blocks of the model ``estate solve`` builds for ``folder`` (largest first), and the decision."""
    from estate.locate import formulate
    from estate.locate.contract import read_problem
    from estate.locate.decompose import decompose

    problem = read_problem(folder / "sites.csv", folder / "demand.csv", folder / "costs.csv")
    milp = (formulate.cover(problem, CUTOFF_MINUTES) if objective == "cover"
            else formulate.min_cost(problem, single_source=True))
    t0 = time.perf_counter()
    dec = decompose(milp)
    seconds = time.perf_counter() - t0
    every = decompose(milp, batch_columns=1, no_split_share=1.01)  # every block a part, to list them
    sizes = sorted(((len(p.columns), len(p.rows)) for p in every.parts), reverse=True) or [milp.A.shape[::-1]]
    print(f"{objective} model: {milp.A.shape[1]:,} columns × {milp.A.shape[0]:,} rows, {milp.A.nnz:,} nonzeros; "
          f"{dec.blocks:,} blocks (columns × rows, largest first): "
          + ", ".join(f"{c:,} × {r:,}" for c, r in sizes[:10]) + (" …" if len(sizes) > 10 else ""))
    print(f"analysis {seconds:.2f} s; " + (f"split into {len(dec.parts)} parts" if dec.split
                                           else f"not split: {dec.reason}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None,
                        help="instance folder (default out/independent_parts_<regions>x<zones>x<sites>)")
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--zones", type=int, default=ZONES, help="zones per region")
    parser.add_argument("--sites", type=int, default=SITES, help="sites per region")
    parser.add_argument("--objective", choices=["cover", "min-cost"], default="cover",
                        help="cover within 30 minutes, or single-source min-cost (uncapacitated)")
    parser.add_argument("--time-limit", type=float, default=240.0, help="seconds per solve")
    parser.add_argument("--only", choices=["split", "whole"], default=None, help="run one way only")
    parser.add_argument("--only-generate", action="store_true")
    parser.add_argument("--blocks", action="store_true",
                        help="only list the independent blocks of the instance's model (any folder in the "
                             "estate solve contract, e.g. benchmarks/setcover_england.py's) and whether it splits")
    parser.add_argument("--child", choices=["split", "whole"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = args.data or REPO / "out" / f"independent_parts_{args.regions}x{args.zones}x{args.sites}"
    if args.child:
        _child(folder, args.objective, args.child == "split", args.time_limit)
        return 0
    if args.blocks:
        _blocks(folder, args.objective)
        return 0
    stamp = folder / "instance.json"
    wanted = {"seed": SEED, "regions": args.regions, "zones_per_region": args.zones, "sites_per_region": args.sites}
    if not stamp.exists() or any(json.loads(stamp.read_text()).get(k) != v for k, v in wanted.items()):
        t0 = time.perf_counter()
        generate(folder, args.regions, args.zones, args.sites)
        print(f"generated {folder} in {time.perf_counter() - t0:.1f} s", flush=True)
    print("instance:", stamp.read_text().replace("\n", " "), flush=True)
    if args.only_generate:
        return 0
    for way in ([args.only] if args.only else ["split", "whole"]):
        cmd = [sys.executable, __file__, "--data", str(folder), "--regions", str(args.regions),
               "--objective", args.objective, "--time-limit", str(args.time_limit), "--child", way]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            print(f"{way}: failed\n{done.stderr}", flush=True)
            return 1
        s = json.loads(done.stdout.strip().splitlines()[-1])
        parts = s.get("stats", {}).get("independent_parts")
        print(f"{way}: wall {wall:.1f} s, solve {s['solve_seconds']:.1f} s, status {s['status']}, "
              f"objective {s['objective']}, bound {s['bound']}, gap {s['gap']}, {s['open_sites']} open sites "
              f"(sha1 of their ids {s['open_sites_sha1']}), parts {json.dumps(parts)}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
