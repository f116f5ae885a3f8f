"""Benchmark runner: prints wall time and peak memory for each case.

Usage::

    .venv/bin/python benchmarks/run.py                 # every case
    .venv/bin/python benchmarks/run.py register-sample # one case

Each case runs in its own child process so its peak resident memory
(``ru_maxrss``) is its own. Targets are printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _write_register(register, folder: Path) -> None:
    """As `estate register` writes it: all-or-nothing, restricted register and shareable summaries."""
    from estate._io import OutputFolder
    from estate.pipeline import write_register_outputs

    with OutputFolder(folder, command="benchmark") as stage:
        write_register_outputs(register, stage)


def _case_register_sample() -> dict:
    from estate.register import build_register, load_sources

    start = time.perf_counter()
    register = build_register(load_sources(REPO / "data/assets/partners.toml"))
    built = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        _write_register(register, Path(tmp) / "out")
    done = time.perf_counter()
    return {"assets": len(register.assets), "build_s": built - start, "write_s": done - built,
            "total_s": done - start, "target": "sample ≤ 15 s"}


def _case_register_100k() -> dict:
    from estate.register import build_register, load_sources
    from estate.sample import generate

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        generate(Path(tmp) / "assets", scale=25)
        generated = time.perf_counter()
        register = build_register(load_sources(Path(tmp) / "assets/partners.toml"))
        built = time.perf_counter()
        _write_register(register, Path(tmp) / "out")
        done = time.perf_counter()
        size_mb = (Path(tmp) / "out/restricted/register.gpkg").stat().st_size / 1e6
    return {"assets": len(register.assets), "generate_s": generated - start, "build_s": built - generated,
            "write_s": done - built, "total_s": done - generated, "gpkg_mb": size_mb,
            "target": "100,000 assets ≤ 120 s (build + write)"}


def _case_map_register() -> dict:
    from estate.maps import register_map
    from estate.register import build_register, load_sources

    register = build_register(load_sources(REPO / "data/assets/partners.toml"))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        stats = register_map(register.assets, Path(tmp) / "register.html")
        done = time.perf_counter()
    return {"markers": stats.markers, "write_s": done - start, "html_mb": stats.bytes / 1e6}


def _case_access_sample() -> dict:
    from estate.pipeline import run_access
    from estate.scenario import load_scenario

    scenario = load_scenario(REPO / "models/cheshire-warrington.toml")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run = run_access(scenario, Path(tmp) / "run")
        done = time.perf_counter()
        size_mb = (Path(tmp) / "run" / "restricted" / "access.parquet").stat().st_size / 1e6
    return {"zones": len(run.demand.zones), "sites": len(run.register.assets), "pairs": len(run.access),
            "modes": ",".join(scenario.access.speed_kmh), "total_s": done - start, "parquet_mb": size_mb,
            "target": "sample, all modes ≤ 10 s (register build included)"}


def _case_access_england() -> dict:
    import numpy as np
    import pandas as pd

    from estate.access.straight import straight_times
    from estate.scenario import load_scenario

    # 35,000 zones and 50,000 sites clustered around 400 towns over an England-sized
    # area (about 130,000 km²), straight engine, every mode, 45-minute cutoff.
    rng = np.random.default_rng(2026)
    towns = rng.uniform([150_000, 50_000], [510_000, 410_000], size=(400, 2))

    def points(n: int) -> np.ndarray:
        return towns[rng.integers(0, len(towns), n)] + rng.normal(0, 6_000, size=(n, 2))

    z, s = points(35_000), points(50_000)
    origins = pd.DataFrame({"zone_id": [f"Z{i}" for i in range(len(z))], "x_m": z[:, 0], "y_m": z[:, 1]})
    sites = pd.DataFrame({"site_id": [f"S{i}" for i in range(len(s))], "x_m": s[:, 0], "y_m": s[:, 1]})
    access = load_scenario(REPO / "models/cheshire-warrington.toml").access
    start = time.perf_counter()
    table = straight_times(origins, sites, access.speed_kmh, 45.0, access.circuity, access.wait_minutes)
    done = time.perf_counter()
    per_mode = table.groupby("mode", observed=True).size().to_dict()
    return {"zones": len(origins), "sites": len(sites), "pairs": len(table),
            "pairs_by_mode": per_mode, "table_mb": table.memory_usage(deep=True).sum() / 1e6,
            "total_s": done - start, "target": "≤ 300 s and ≤ 8 GB"}


def _case_plan_sample() -> dict:
    """The bare `estate plan` pipeline (register → access → plan, outputs written), as README's main job."""
    from estate.pipeline import run_plan, write_maps
    from estate.report import write_report
    from estate.scenario import load_scenario

    scenario = load_scenario(REPO / "models/cheshire-warrington.toml")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        out = Path(tmp) / "run"
        run = run_plan(scenario, out)
        done = time.perf_counter()
        gpkg_mb = (out / "plan.gpkg").stat().st_size / 1e6
        t0 = time.perf_counter()
        maps = {name: write_maps(out, which=(name,))[name] for name in ("register", "plan", "access")}
        t1 = time.perf_counter()
        report_mb = write_report(out).stat().st_size / 1e6
        t2 = time.perf_counter()
        xlsx_mb = (out / "programme.xlsx").stat().st_size / 1e6
        folder_mb = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6
    s = run.plan.summary
    return {"total_s": done - start, "build_s": s["build_seconds"], "solve_s": s["solve_seconds"],
            "status": s["status"], "gap_pct": 100 * s["gap"], "objective": s["objective"], "bound": s["bound"],
            "teams": s["model"]["movable_teams"], "options": s["model"]["team_building_options"],
            "rows": s["model"]["rows"], "columns": s["model"]["columns"], "disposed": s["disposed"],
            "hubs": s["hubs"], "plan_gpkg_mb": gpkg_mb, "programme_xlsx_mb": xlsx_mb,
            **{f"{name}_map_mb": m.bytes / 1e6 for name, m in maps.items()}, "maps_write_s": t1 - t0,
            "report_mb": report_mb, "report_write_s": t2 - t1, "run_folder_mb": folder_mb,
            "target": "gap ≤ 0.5% in ≤ 120 s, ≤ 4 GB; each map < 15 MB"}


CASES = {
    "register-sample": _case_register_sample,
    "register-100k": _case_register_100k,
    "map-register": _case_map_register,
    "access-sample": _case_access_sample,
    "access-england": _case_access_england,
    "plan-sample": _case_plan_sample,
}


def _child(name: str) -> None:
    result = CASES[name]()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", help=f"cases to run (default all): {', '.join(CASES)}")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return 0
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {unknown}; choose from {list(CASES)}")
    failed = 0
    for name in args.cases or list(CASES):
        proc = subprocess.run([sys.executable, __file__, "--child", name], capture_output=True, text=True)
        if proc.returncode != 0:
            failed += 1
            print(f"{name}: FAILED\n{proc.stderr}")
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        figures = ", ".join(f"{k}={v:,.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items())
        print(f"{name}: {figures}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
