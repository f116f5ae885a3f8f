"""The pipeline for one scenario: register → demand → access → plan (→ finance → maps → report).

Each function runs the stages up to one point and writes that point's outputs
into the run folder, all-or-nothing: nothing is written until every stage has
succeeded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from estate._errors import EstateError
from estate._io import atomic_path
from estate.access import travel_times
from estate.access.metrics import Accessibility, accessibility
from estate.demand import Demand, load_zones
from estate.finance import Programme, cost_programme
from estate.finance.workbook import write_programme
from estate.maps import MapStats, access_map, plan_map, register_map
from estate.plan import Plan, make_plan
from estate.register import Register, build_register, load_sources
from estate.register.build import stage_register
from estate.register.privacy import public_view
from estate.report import write_report
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
    run = compute_access(scenario, progress)
    with ExitStack() as stack:
        _write_access(run, Path(out_dir), stack)
    return run


def compute_access(scenario: Scenario, progress: Callable[[str], None] | None = None) -> AccessRun:
    """Register, demand, travel times and today's access, written nowhere."""
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
    return AccessRun(register=register, demand=demand, access=access, today=today)


def _write_access(run: AccessRun, out_dir: Path, stack: ExitStack) -> None:
    """Stage the access outputs; they move into place when ``stack`` closes without error."""
    tmp = stack.enter_context(atomic_path(out_dir / "access.parquet"))
    run.access.to_parquet(tmp, index=False)
    tables = {"access_zones.csv": run.today.zone_service, "access_summary.csv": run.today.summary,
              "zones_rejects.csv": run.demand.rejects, "zones_warnings.csv": run.demand.warnings}
    for name, table in tables.items():
        tmp = stack.enter_context(atomic_path(out_dir / name))
        table.to_csv(tmp, index=False)


@dataclass
class PlanRun:
    """Everything ``estate plan`` computed: the access run and the plan."""

    access: AccessRun
    plan: Plan
    out_dir: Path
    maps: dict[str, MapStats]


def run_plan(scenario: Scenario, out_dir: str | Path, progress: Callable[[str], None] | None = None) -> PlanRun:
    """Register → demand → access → plan, then write every output at once.

    Writes into ``out_dir``: ``register.gpkg`` (restricted: sensitive sites at
    their true location) with the rejects/warnings/merges CSVs, the access
    outputs of :func:`run_access`, ``plan.gpkg`` (layers ``assets``, ``moves``,
    ``zones``; sensitive sites withheld), ``plan_summary.json``,
    ``programme.xlsx`` with its tables as ``programme_*.csv``, then the maps
    (``maps/register.html``, ``plan.html``, ``access.html``) and
    ``report.html``. Raises :class:`estate.plan.PlanInfeasible` (nothing
    written) when no plan meets the rules.
    """
    say = progress or (lambda _m: None)
    run = compute_access(scenario, say)
    reg = run.register
    plan = make_plan(reg.assets, reg.occupiers, run.access, run.demand.zones, run.today, scenario, progress=say)
    out_dir = Path(out_dir)
    say(f"writing {out_dir}")
    with ExitStack() as stack:
        stage_register(reg, out_dir, stack)
        _write_access(run, out_dir, stack)
        _write_plan(plan, run, out_dir, stack)
    say("drawing the maps and writing the report")
    maps = write_maps(out_dir, reg.assets)
    write_report(out_dir)
    return PlanRun(access=run, plan=plan, out_dir=out_dir, maps=maps)


MAP_NAMES = ("register", "plan", "access")


def write_maps(plan_dir: str | Path, register_assets: gpd.GeoDataFrame | None = None, *,
               which: tuple[str, ...] = MAP_NAMES, paths: dict[str, Path] | None = None) -> dict[str, MapStats]:
    """Draw the register, plan and access maps of a plan folder (default ``PLAN_DIR/maps/<name>.html``,
    or the file ``paths[name]``).

    The register map uses ``register_assets`` or the folder's ``register.gpkg``.
    """
    plan_dir = Path(plan_dir)
    gpkg = plan_dir / "plan.gpkg"
    if not gpkg.exists():
        raise EstateError(f"{gpkg}: not found; run `estate plan` first")
    assets = pyogrio.read_dataframe(gpkg, layer="assets")
    moves = pyogrio.read_dataframe(gpkg, layer="moves")
    zones = pyogrio.read_dataframe(gpkg, layer="zones")
    summary = json.loads((plan_dir / "plan_summary.json").read_text(encoding="utf-8"))
    disposals = pd.read_csv(plan_dir / "programme_disposals.csv") if (plan_dir / "programme_disposals.csv").exists() \
        else None
    services = [{"code": code, "name": a.get("name", code), "mode": a["standard"]["mode"],
                 "rule": a["standard"].get("rule", "share"), "minutes": a["standard"].get("minutes"),
                 "share": a["standard"].get("share")} for code, a in summary.get("access", {}).items()]
    target = {name: Path((paths or {}).get(name, plan_dir / "maps" / f"{name}.html")) for name in MAP_NAMES}
    out = {}
    if "register" in which:
        if register_assets is None:
            register_assets = pyogrio.read_dataframe(plan_dir / "register.gpkg", layer="assets")
        out["register"] = register_map(register_assets, target["register"])
    if "plan" in which:
        out["plan"] = plan_map(assets, moves, summary, target["plan"], disposals=disposals)
    if "access" in which:
        out["access"] = access_map(zones, services, assets, target["access"])
    return out


def _zones_layer(run: AccessRun, plan: Plan) -> gpd.GeoDataFrame:
    """Demand zones with minutes to the nearest site of each service before and after the plan."""
    zones = run.demand.zones[["zone_id", "population", "geometry"]].copy()
    zones["zone_id"] = zones["zone_id"].astype(str)
    for label, acc in (("before", run.today), ("after", plan.after)):
        zs = acc.zone_service
        if zs.empty:
            continue
        wide = zs.pivot(index="zone_id", columns="service", values="minutes")
        ok = zs.pivot(index="zone_id", columns="service", values="within")
        for service in wide.columns:
            zones[f"{service}_{label}_min"] = zones["zone_id"].map(wide[service]).astype(float)
            zones[f"{service}_{label}_within"] = zones["zone_id"].map(ok[service]).astype(bool)
    return gpd.GeoDataFrame(zones, geometry="geometry", crs=run.demand.zones.crs)


def _write_plan(plan: Plan, run: AccessRun, out_dir: Path, stack: ExitStack) -> None:
    gpkg = stack.enter_context(atomic_path(out_dir / "plan.gpkg"))
    assets = public_view(plan.assets)
    pyogrio.write_dataframe(assets, gpkg, layer="assets", driver="GPKG")
    moves = plan.moves
    if len(moves):
        pyogrio.write_dataframe(moves, gpkg, layer="moves", driver="GPKG")
    else:
        pyogrio.write_dataframe(gpd.GeoDataFrame(moves, geometry=gpd.GeoSeries([], crs=assets.crs)), gpkg,
                                layer="moves", driver="GPKG")
    pyogrio.write_dataframe(_zones_layer(run, plan), gpkg, layer="zones", driver="GPKG")
    write_summary(plan.summary, out_dir, stack)
    write_programme(plan.programme, out_dir, stack, scenario=plan.summary["scenario"], plan_summary=plan.summary)


def write_summary(summary: dict, out_dir: Path, stack: ExitStack) -> Path:
    """Stage ``plan_summary.json``."""
    path = out_dir / "plan_summary.json"
    tmp = stack.enter_context(atomic_path(path))
    tmp.write_text(json.dumps(_jsonable(summary), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


#: Keys of ``plan_summary.json`` that come from the programme costing.
FINANCE_KEYS = ("annual_saving_gbp", "npv_gbp", "payback_year", "capital_receipts_gbp", "one_off_costs_gbp",
                "cashable_savings_gbp", "npv_turns_negative", "sharing_rule", "discount_rate", "horizon_years")


def recost_plan(plan_dir: str | Path, scenario: Scenario, out_dir: str | Path | None = None,
                progress: Callable[[str], None] | None = None) -> tuple[Programme, dict]:
    """Re-cost a saved plan (``plan.gpkg`` and ``plan_summary.json`` in ``plan_dir``) under the
    scenario's finance assumptions, without re-optimising; writes the workbook, its CSVs, the
    updated summary and the report into ``out_dir`` (default ``plan_dir``, where the plan map's
    figures are redrawn too)."""
    say = progress or (lambda _m: None)
    plan_dir = Path(plan_dir)
    gpkg, summary_path = plan_dir / "plan.gpkg", plan_dir / "plan_summary.json"
    for path in (gpkg, summary_path):
        if not path.exists():
            raise EstateError(f"{path}: not found; PLAN_DIR must hold the outputs of `estate plan`")
    say(f"reading the plan in {plan_dir}")
    try:
        assets = pyogrio.read_dataframe(gpkg, layer="assets")
        moves = pyogrio.read_dataframe(gpkg, layer="moves")
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except Exception as exc:  # a damaged or foreign file
        raise EstateError(f"{plan_dir}: cannot read the saved plan ({exc})") from None
    missing = [c for c in ("asset_id", "decision", "tenure", "running_cost_gbp", "market_value_gbp")
               if c not in assets]
    if missing:
        raise EstateError(f"{gpkg}, layer 'assets': missing column(s) {missing}; is this a plan.gpkg?")
    say("costing the programme")
    prog = cost_programme(assets, pd.DataFrame(moves.drop(columns="geometry")), scenario.finance)
    summary.update({k: prog.summary[k] for k in FINANCE_KEYS})
    summary["recosted_with"] = str(scenario.path)
    out_dir = Path(out_dir) if out_dir is not None else plan_dir
    with ExitStack() as stack:
        write_summary(summary, out_dir, stack)
        write_programme(prog, out_dir, stack, scenario=scenario.name, plan_summary=summary)
    say("rewriting the report" + (" and the plan map" if out_dir == plan_dir else ""))
    write_report(out_dir)
    if out_dir == plan_dir and (plan_dir / "maps").is_dir():  # its summary panel shows the figures
        write_maps(plan_dir, which=("plan",))
    return prog, summary


def _jsonable(value):
    """Plain JSON values (NaN and infinities become null)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
