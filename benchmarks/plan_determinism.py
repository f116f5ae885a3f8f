"""The built-in plan, made twice with the default settings: once on a quiet machine and once while a
second solve loads it. Prints each run's wall time, build, start-search and solve seconds, status, gap
and NPV, and whether the two runs made the same decisions (every asset's decision and exit year, and
every move's destination).

Usage::

    .venv/bin/python benchmarks/plan_determinism.py            # both runs (about 10 minutes here)
    .venv/bin/python benchmarks/plan_determinism.py --runs 1   # the quiet run only

Each run is `estate plan` as a user runs it, in its own process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: The load: a second solve, run over and over on one core.
LOAD = """
import numpy as np
from estate.locate.problem import LocationProblem
from estate.locate.solve import solve
rng = np.random.default_rng(1)
while True:
    p = LocationProblem.from_cost_matrix(rng.uniform(1, 100, (300, 120)), fixed_cost=rng.uniform(50, 500, 120),
                                         capacity=np.full(120, 9.0), weight=np.ones(300))
    solve(p, "min-cost", single_source=True, gap=0.0)
"""


def _plan(folder: Path, loaded: bool) -> dict:
    load = [subprocess.Popen([sys.executable, "-c", LOAD])] if loaded else []
    try:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "estate.cli", "plan", str(REPO / "models/cheshire-warrington.toml"),
                        "--out", str(folder / "run"), "--maps", str(folder / "maps")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
    finally:
        for proc in load:
            proc.kill()
            proc.wait()
    s = json.loads((folder / "run" / "plan_summary.json").read_text())
    return {"loaded": loaded, "wall_s": round(wall, 1), "build_s": round(s["build_seconds"], 1),
            "solve_s": round(s["solve_seconds"], 1), "status": s["status"], "gap": s["gap"],
            "npv_gbp": round(s["npv_gbp"]), "start_npv_gbp": round(-_start_objective(s["start_search"]))}


def _start_objective(search: dict) -> float:
    """The start's objective after the start search: the last locality pass, or the greedy's."""
    return search["passes"][-1]["objective"] if search["passes"] else search["start_objective"]


def _decisions(folder: Path) -> tuple:
    import pyogrio

    gpkg = folder / "run" / "restricted" / "plan.gpkg"
    assets = pyogrio.read_dataframe(gpkg, layer="assets", read_geometry=False)
    moves = pyogrio.read_dataframe(gpkg, layer="moves", read_geometry=False)
    return (sorted(zip(assets["asset_id"], assets["decision"], assets["exit_year"].fillna(""))),
            sorted(zip(moves["occupier_id"], moves["to_asset_id"])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, choices=(1, 2), default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folders = [Path(tmp) / f"run{k}" for k in range(args.runs)]
        results = [_plan(folder, loaded=k == 1) for k, folder in enumerate(folders)]
        for r in results:
            print(json.dumps(r))
        if args.runs == 2:
            same = _decisions(folders[0]) == _decisions(folders[1])
            print(json.dumps({"same_decisions": same}))


if __name__ == "__main__":
    main()
