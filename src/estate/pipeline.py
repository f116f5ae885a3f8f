"""The pipeline for one scenario: register → demand → access (→ plan → finance → maps → report).

Each function runs the stages up to one point and writes that point's outputs
into the run folder, all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from estate._errors import EstateError
from estate._io import atomic_path
from estate.access import travel_times
from estate.access.metrics import Accessibility, accessibility
from estate.demand import Demand, load_zones
from estate.register import Register, build_register, load_sources
from estate.scenario import Scenario


@dataclass
class AccessRun:
    """The register, demand and access table of a scenario, and today's accessibility."""

    register: Register
    demand: Demand
    access: pd.DataFrame
    today: Accessibility


def load_demand(scenario: Scenario) -> Demand:
    """The scenario's demand zones."""
    d = scenario.data
    return load_zones(d.zones, zone_id=d.zone_id, population=d.population, layer=d.zones_layer,
                      population_csv=d.population_csv, population_csv_id=d.population_csv_id,
                      origin_x=d.origin_x, origin_y=d.origin_y)


def run_access(scenario: Scenario, out_dir: str | Path, progress: Callable[[str], None] | None = None) -> AccessRun:
    """Build the register and demand, compute travel times, measure today's access.

    Writes ``access.parquet`` (``zone_id, site_id, mode, minutes``),
    ``access_zones.csv`` (minutes to the nearest site per zone and service)
    ``access_summary.csv`` (per service) and ``zones_rejects.csv`` /
    ``zones_warnings.csv`` (zones rejected or repaired) into ``out_dir``.
    """
    say = progress or (lambda _m: None)
    say(f"building the register from {scenario.data.sources.name}")
    register = build_register(load_sources(scenario.data.sources))
    say(f"reading demand zones from {scenario.data.zones.name}")
    demand = load_demand(scenario)
    if demand.zones.empty:
        first = demand.rejects.head(3).to_dict("records")
        raise EstateError(f"no usable demand zones in {scenario.data.zones}: all {len(demand.rejects)} "
                          f"rejected, e.g. {first}")
    assets = register.assets
    origins = pd.DataFrame({"zone_id": demand.zones["zone_id"], "x_m": demand.zones["origin_x_m"],
                            "y_m": demand.zones["origin_y_m"]})
    sites = pd.DataFrame({"site_id": assets["asset_id"], "x_m": assets.geometry.x, "y_m": assets.geometry.y})
    say(f"{scenario.access.engine} travel times: {len(origins):,} zones × {len(sites):,} sites, "
        f"modes {', '.join(scenario.access.speed_kmh)}, cutoff {scenario.access.cutoff_minutes:g} min")
    access = travel_times(origins, sites, scenario.access)
    today = accessibility(access, demand.zones, assets, register.occupiers, scenario.services)

    out_dir = Path(out_dir)
    with atomic_path(out_dir / "access.parquet") as tmp:
        access.to_parquet(tmp, index=False)
    tables = {"access_zones.csv": today.zone_service, "access_summary.csv": today.summary,
              "zones_rejects.csv": demand.rejects, "zones_warnings.csv": demand.warnings}
    for name, table in tables.items():
        with atomic_path(out_dir / name) as tmp:
            table.to_csv(tmp, index=False)
    return AccessRun(register=register, demand=demand, access=access, today=today)
