"""The pipeline for one scenario: register → demand → access → plan → finance → maps → report.

Each function runs the stages up to one point and writes that point's outputs
into a run folder, all-or-nothing (:class:`estate._io.OutputFolder`): every
file is written into a staging folder that replaces the run folder in one step
once everything has succeeded. Files that may hold sensitive sites' true
locations go under ``restricted/``; everything else is shareable and written
through a :class:`estate.privacy.Redaction` (see ``docs/outputs.md``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from estate._errors import EstateError, SourceError, SourceErrors
from estate._io import RESTRICTED, OutputFolder, write_csv
from estate.access import travel_times
from estate.access.metrics import Accessibility, accessibility
from estate.demand import Demand, load_zones
from estate.finance import Programme, cost_programme, phasing_table
from estate.finance.workbook import write_programme
from estate.maps import MapStats, access_map, plan_map, register_map
from estate.maps.plan import PLAN_MAP_COLUMNS
from estate.plan import Plan, make_plan
from estate.privacy import Redaction
from estate.register import Register, build_register, load_sources
from estate.register.build import quality_summary, write_register_files
from estate.register.estimate import estimate_running_costs
from estate.register.geocode import StudyArea
from estate.register.sources import Sources
from estate.report import write_report
from estate.scenario import Scenario

Progress = Callable[[str], None]


@dataclass
class AccessRun:
    """The register, demand and access table of a scenario, today's accessibility, and the
    redaction that keeps its sensitive sites out of shareable outputs."""

    register: Register
    demand: Demand
    access: pd.DataFrame
    today: Accessibility
    redaction: Redaction


def load_demand(scenario: Scenario) -> Demand:
    """The scenario's demand zones."""
    d = scenario.data
    return load_zones(d.zones, zone_id=d.zone_id, population=d.population, layer=d.zones_layer,
                      population_csv=d.population_csv, population_csv_id=d.population_csv_id,
                      origin_x=d.origin_x, origin_y=d.origin_y)


def study_area(scenario: Scenario, demand: Demand) -> StudyArea:
    """The demand zones' outline grown by ``data.study_area_buffer_km``: where assets may be."""
    outline = shapely.simplify(shapely.union_all(shapely.make_valid(demand.zones.geometry.to_numpy())), 50.0)
    return StudyArea(outline=outline, buffer_m=scenario.data.study_area_buffer_km * 1000.0,
                     label=f"the demand zones of {scenario.data.zones.name}")


def check_references(scenario: Scenario, sources: Sources) -> None:
    """Settings that name a partner the sources do not describe are errors naming the key."""
    codes = {p.code for p in sources.partners}
    errors = [SourceError(scenario.path, f"no partner {g.partner!r} in {sources.path.name} (partners: "
                          f"{', '.join(sorted(codes))})", key=f"plan.guardrails.{g.partner}")
              for g in scenario.plan.guardrails if g.partner not in codes]
    if errors:
        raise SourceErrors(errors)


def compute_access(scenario: Scenario, progress: Progress | None = None) -> AccessRun:
    """Demand, register, travel times and today's access, written nowhere."""
    say = progress or (lambda _m: None)
    say(f"reading demand zones from {scenario.data.zones.name}")
    demand = load_demand(scenario)
    if demand.zones.empty:
        first = demand.rejects.head(3)[["zone_id", "column", "reason"]].to_dict("records")
        raise EstateError(f"{scenario.data.zones}: no usable demand zones; all {len(demand.rejects)} were "
                          f"rejected, e.g. {first}")
    sources = load_sources(scenario.data.sources)
    check_references(scenario, sources)
    say(f"building the register from {scenario.data.sources.name}")
    register = build_register(sources, say, study_area=study_area(scenario, demand),
                              sensitive_asset_types=scenario.privacy.sensitive_asset_types,
                              sensitive_services=scenario.privacy.sensitive_services)
    if register.assets.empty:
        raise EstateError(f"{scenario.data.sources}: no usable assets; every row was rejected (see the rejects "
                          "with `estate register`)")
    register = estimate_running_costs(register, scenario.estimates)
    assets = register.assets
    origins = pd.DataFrame({"zone_id": demand.zones["zone_id"], "x_m": demand.zones["origin_x_m"],
                            "y_m": demand.zones["origin_y_m"]})
    sites = pd.DataFrame({"site_id": assets["asset_id"], "x_m": assets.geometry.x, "y_m": assets.geometry.y})
    say(f"{scenario.access.engine} travel times: {len(origins):,} zones × {len(sites):,} sites, "
        f"modes {', '.join(scenario.access.speed_kmh)}, cutoff {scenario.access.cutoff_minutes:g} min")
    access = travel_times(origins, sites, scenario.access)
    today = accessibility(access, demand.zones, assets, register.occupiers, scenario.services)
    redaction = Redaction.of(assets, register.occupiers, demand.zones["population"].to_numpy(),
                             scenario.privacy.share_rounding_zones, scenario.services)
    return AccessRun(register=register, demand=demand, access=access, today=today, redaction=redaction)


def run_access(scenario: Scenario, out_dir: str | Path, progress: Progress | None = None) -> AccessRun:
    """Build the register and demand, compute travel times, measure today's access, and write
    them into ``out_dir`` (see :func:`write_access`)."""
    say = progress or (lambda _m: None)
    with OutputFolder(out_dir, command=f"estate access {scenario.path.name}") as stage:  # locked from the start
        run = compute_access(scenario, say)
        say(f"writing {out_dir}")
        write_register_outputs(run.register, stage)
        write_access(run, stage)
    return run


def write_register_outputs(register: Register, stage: Path) -> None:
    """The register (restricted) and its data-quality summary and line accounts (shareable)."""
    write_register_files(register, stage / RESTRICTED)
    write_csv(quality_summary(register).rename_axis("partner").reset_index(), stage / "register_summary.csv")
    write_csv(register.files, stage / "register_files.csv")


def write_access(run: AccessRun, stage: Path) -> None:
    """The travel times and today's access: in full under ``restricted/`` (``access.parquet``,
    ``access_zones.csv``, ``access_summary.csv``); shareable (the same names at the top) without
    sensitive sites' travel times or sensitive services' zone figures, and with those services'
    shares rounded; plus the zones rejected or repaired (``zones_rejects.csv``, ``zones_warnings.csv``)."""
    restricted, red = stage / RESTRICTED, run.redaction
    run.access.to_parquet(restricted / "access.parquet", index=False)
    write_csv(run.today.zone_service, restricted / "access_zones.csv")
    write_csv(run.today.summary, restricted / "access_summary.csv")
    red.access(run.access).to_parquet(stage / "access.parquet", index=False)
    write_csv(red.zone_service(run.today.zone_service), stage / "access_zones.csv")
    write_csv(red.summary_table(run.today.summary), stage / "access_summary.csv")
    write_csv(run.demand.rejects, stage / "zones_rejects.csv")
    write_csv(run.demand.warnings, stage / "zones_warnings.csv")


@dataclass
class PlanRun:
    """Everything ``estate plan`` computed: the access run and the plan."""

    access: AccessRun
    plan: Plan
    out_dir: Path
    maps: dict[str, MapStats]


def run_plan(scenario: Scenario, out_dir: str | Path, progress: Progress | None = None,
             live: Progress | None = None) -> PlanRun:
    """Register → demand → access → plan, then write every output at once.

    Writes into ``out_dir`` (all-or-nothing): ``restricted/`` with the register,
    the full travel times and access, and the true plan (``plan.gpkg``); and,
    shareable, the access outputs of :func:`write_access`, ``plan.gpkg``
    (layers ``assets``, ``moves``, ``zones``), ``plan_summary.json``,
    ``programme.xlsx`` with its tables as ``programme_*.csv``, the maps
    (``maps/register.html``, ``plan.html``, ``access.html``) and
    ``report.html``. Raises :class:`estate.plan.PlanInfeasible` (nothing
    written) when no plan meets the rules.
    """
    say = progress or (lambda _m: None)
    out_dir = Path(out_dir)
    with OutputFolder(out_dir, command=f"estate plan {scenario.path.name}") as stage:  # locked from the start
        run = compute_access(scenario, say)
        reg = run.register
        plan = make_plan(reg.assets, reg.occupiers, run.access, run.demand.zones, run.today, scenario, progress=say,
                         live=live)
        say(f"writing the register, travel times and plan into {out_dir}")
        write_register_outputs(reg, stage)
        write_access(run, stage)
        _write_plan(plan, run, scenario, stage, say)
        say("drawing the maps")
        maps = write_maps(stage, reg.assets)
        say("writing the report")
        write_report(stage)
        say(f"moving the outputs into {out_dir}")
    maps = {name: MapStats(path=out_dir / stats.path.relative_to(stage), markers=stats.markers,
                           hidden_sensitive=stats.hidden_sensitive, bytes=stats.bytes) for name, stats in maps.items()}
    return PlanRun(access=run, plan=plan, out_dir=out_dir, maps=maps)


MAP_NAMES = ("register", "plan", "access")


def _read_layers(gpkg: Path, layers: tuple[str, ...]) -> dict[str, gpd.GeoDataFrame]:
    """Layers of a GeoPackage estate wrote; a missing or damaged file is an error saying so."""
    if not gpkg.exists():
        raise EstateError(f"{gpkg}: not found; run `estate plan` first")
    try:
        return {name: pyogrio.read_dataframe(gpkg, layer=name) for name in layers}
    except Exception as exc:  # pyogrio's DataSourceError and friends: a damaged or foreign file
        raise EstateError(f"{gpkg}: cannot be read as a plan written by estate ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:200]}); run `estate plan` again") from None


def _read_json(path: Path) -> dict:
    if not path.exists():
        raise EstateError(f"{path}: not found; run `estate plan` first")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EstateError(f"{path}: damaged ({exc}); run `estate plan` again") from None
    if not isinstance(value, dict):
        raise EstateError(f"{path}: not a plan summary; run `estate plan` again")
    return value


def write_maps(plan_dir: str | Path, register_assets: gpd.GeoDataFrame | None = None, *,
               which: tuple[str, ...] = MAP_NAMES, paths: dict[str, Path] | None = None) -> dict[str, MapStats]:
    """Draw the register, plan and access maps of a plan folder (default ``PLAN_DIR/maps/<name>.html``,
    or the file ``paths[name]``), from its shareable files.

    The register map uses ``register_assets`` or the folder's ``restricted/register.gpkg``
    (it never draws a sensitive site).
    """
    plan_dir = Path(plan_dir)
    layers = _read_layers(plan_dir / "plan.gpkg", ("assets", "moves", "zones"))
    summary = _read_json(plan_dir / "plan_summary.json")
    disposals_csv = plan_dir / "programme_disposals.csv"
    disposals = pd.read_csv(disposals_csv) if disposals_csv.exists() else None
    try:
        services = [{"code": code, "name": a.get("name", code), "mode": a["standard"]["mode"],
                     "rule": a["standard"].get("rule", "share"), "minutes": a["standard"].get("minutes"),
                     "share": a["standard"].get("share")} for code, a in summary.get("access", {}).items()]
    except (KeyError, TypeError, AttributeError):
        raise EstateError(f"{plan_dir / 'plan_summary.json'}: not a plan summary; run `estate plan` again") from None
    target = {name: Path((paths or {}).get(name, plan_dir / "maps" / f"{name}.html")) for name in MAP_NAMES}
    _require_columns(plan_dir / "plan.gpkg", layers, {"assets": PLAN_MAP_COLUMNS,
                                                     "moves": ("from_asset_id", "to_asset_id", "team", "partner",
                                                               "fte"),
                                                     "zones": ("zone_id", "population")})
    out = {}
    if "register" in which:
        if register_assets is None:
            register_assets = _read_layers(plan_dir / RESTRICTED / "register.gpkg", ("assets",))["assets"]
        out["register"] = register_map(register_assets, target["register"])
    if "plan" in which:
        out["plan"] = plan_map(layers["assets"], layers["moves"], summary, target["plan"], disposals=disposals)
    if "access" in which:
        out["access"] = access_map(layers["zones"], services, layers["assets"], target["access"])
    return out


def _require_columns(path: Path, layers: dict[str, pd.DataFrame], needed: dict[str, tuple[str, ...]]) -> None:
    for layer, columns in needed.items():
        missing = [c for c in columns if c not in layers[layer]]
        if missing:
            raise EstateError(f"{path}, layer {layer!r}: missing column(s) {missing}; is this a plan estate "
                              "wrote? Run `estate plan` again")


def _zones_layer(demand: Demand, before: Accessibility, after: Accessibility) -> gpd.GeoDataFrame:
    """Demand zones with minutes to the nearest site of each service before and after the plan."""
    zones = demand.zones[["zone_id", "population", "geometry"]].copy()
    zones["zone_id"] = zones["zone_id"].astype(str)
    for label, acc in (("before", before), ("after", after)):
        zs = acc.zone_service
        if zs.empty:
            continue
        wide = zs.pivot(index="zone_id", columns="service", values="minutes")
        ok = zs.pivot(index="zone_id", columns="service", values="within")
        for service in wide.columns:
            zones[f"{service}_{label}_min"] = zones["zone_id"].map(wide[service]).astype(float)
            zones[f"{service}_{label}_within"] = zones["zone_id"].map(ok[service]).astype(bool)
    return gpd.GeoDataFrame(zones, geometry="geometry", crs=demand.zones.crs)


def _write_gpkg(path: Path, assets: gpd.GeoDataFrame, moves: pd.DataFrame, zones: gpd.GeoDataFrame) -> None:
    pyogrio.write_dataframe(assets, path, layer="assets", driver="GPKG")
    if not isinstance(moves, gpd.GeoDataFrame) or moves.geometry.name not in moves:
        moves = gpd.GeoDataFrame(moves, geometry=gpd.GeoSeries([None] * len(moves), crs=assets.crs))
    pyogrio.write_dataframe(moves, path, layer="moves", driver="GPKG", geometry_type="LineString")
    pyogrio.write_dataframe(zones, path, layer="zones", driver="GPKG")


def _write_plan(plan: Plan, run: AccessRun, scenario: Scenario, stage: Path, say: Progress) -> None:
    """The plan in full (``restricted/plan.gpkg``, and ``restricted/run.json`` naming the scenario file)
    and shareable: ``plan.gpkg``, ``plan_summary.json``, ``programme.xlsx`` and ``programme_*.csv``.
    Sets ``plan.shared_summary``, what the command prints."""
    red = run.redaction
    zones = _zones_layer(run.demand, run.today, plan.after)
    _write_gpkg(stage / RESTRICTED / "plan.gpkg", plan.assets, plan.moves, zones)
    if plan.requests is not None and len(plan.requests):  # how each space request was met, for re-costing
        write_csv(plan.requests, stage / RESTRICTED / "space_requests.csv")
    record = {"scenario_file": str(scenario.path), "model": plan.summary.get("model", {})}
    (stage / RESTRICTED / "run.json").write_text(json.dumps(_jsonable(record), indent=2) + "\n", encoding="utf-8")
    assets = red.assets(plan.assets, plan.occupiers)
    _write_gpkg(stage / "plan.gpkg", assets, red.moves(plan.moves), red.zones(zones))
    standards = {s.code: (s.standard.share if s.standard is not None else None) for s in scenario.services}
    summary = red.plan_summary(plan.summary, standards)
    if red:
        summary["hubs"] = int((assets["decision"] == "hub").sum())
        summary["sensitive_sites"] = len(red.pseudonym)
    write_summary(summary, stage)
    plan.shared_summary = summary
    say("writing programme.xlsx")
    write_programme(red.programme(plan.programme), stage, scenario=plan.summary["scenario"], plan_summary=summary)


def write_summary(summary: dict, out_dir: Path) -> Path:
    """Write ``plan_summary.json``."""
    path = out_dir / "plan_summary.json"
    path.write_text(json.dumps(_jsonable(summary), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


#: Keys of ``plan_summary.json`` that come from the programme costing.
FINANCE_KEYS = ("annual_saving_gbp", "npv_gbp", "payback_year", "capital_receipts_gbp", "one_off_costs_gbp",
                "cashable_savings_gbp", "npv_turns_negative", "sharing_rule", "discount_rate", "horizon_years",
                "residual_value_forgone_pv_gbp", "residual_value_kept_pv_gbp", "new_space_running_gbp_a_year",
                "occupancy_charges_gbp_a_year", "buildings_reopened", "space_requests")


def recost_plan(plan_dir: str | Path, scenario: Scenario, out_dir: str | Path | None = None,
                progress: Progress | None = None) -> tuple[Programme, dict]:
    """Re-cost a saved plan (``restricted/plan.gpkg`` and ``plan_summary.json`` in ``plan_dir``)
    under the scenario's finance assumptions, without re-optimising.

    Writes the workbook, its CSVs, the updated summary, the report and the plan
    map's figures into ``out_dir`` (default ``plan_dir``): a copy of the plan
    folder with those files rewritten, all-or-nothing.
    """
    say = progress or (lambda _m: None)
    plan_dir = Path(plan_dir)
    if not plan_dir.is_dir():
        raise EstateError(f"{plan_dir}: not a folder; PLAN_DIR must hold the outputs of `estate plan`")
    target = Path(out_dir) if out_dir is not None else plan_dir
    with OutputFolder(target, command=f"estate finance --scenario {scenario.path.name}",
                      start_from=plan_dir) as stage:
        say(f"reading the plan in {plan_dir}")
        true = _read_layers(plan_dir / RESTRICTED / "plan.gpkg", ("assets", "moves"))
        occupiers = _read_layers(plan_dir / RESTRICTED / "register.gpkg", ("occupiers",))["occupiers"]
        summary = _read_json(plan_dir / "plan_summary.json")
        assets, moves = true["assets"], true["moves"]
        missing = [c for c in ("asset_id", "decision", "tenure", "running_cost_gbp", "market_value_gbp", "sensitive")
                   if c not in assets]
        if missing:
            raise EstateError(f"{plan_dir / RESTRICTED / 'plan.gpkg'}, layer 'assets': missing column(s) {missing}; "
                              "is this a plan estate wrote?")
        requests_csv = plan_dir / RESTRICTED / "space_requests.csv"
        requests = _read_requests(requests_csv) if requests_csv.is_file() else None
        say("costing the programme")
        prog = cost_programme(assets, pd.DataFrame(moves.drop(columns="geometry")), scenario.finance,
                              requests=requests,
                              exit_years=_planned_exit_years(assets, scenario) if summary.get("exit_years_chosen")
                              else None)
        summary.update({k: prog.summary[k] for k in FINANCE_KEYS})
        summary["phasing"] = phasing_table(prog, scenario.plan.delivery).to_dict("records")
        summary["delivery"] = asdict(scenario.plan.delivery)
        summary["recosted_with"] = Path(scenario.path).name
        red = Redaction.of(assets, pd.DataFrame(occupiers))  # the programme only: no access shares are rewritten
        write_summary(summary, stage)
        write_programme(red.programme(prog), stage, scenario=scenario.name, plan_summary=summary)
        say("rewriting the report and the plan map")
        write_report(stage)
        if (stage / "maps").is_dir():  # the plan map's summary panel shows the figures
            write_maps(stage, which=("plan",))
    return prog, summary


def _planned_exit_years(assets: pd.DataFrame, scenario: Scenario) -> pd.Series | None:
    """The saved plan's exit years (``exit_year`` labels such as "2029/30"), as 0-based years of the
    scenario's horizon (for a plan whose exit years the optimiser chose)."""
    if "exit_year" not in assets:
        return None
    label = assets["exit_year"].fillna("").astype(str)
    start = pd.to_numeric(label.str.extract(r"^(\d{4})/\d{2}$")[0], errors="coerce")
    chosen = start.notna() & (assets["decision"] == "dispose")
    return pd.Series((start[chosen] - scenario.finance.first_year).astype(int).to_numpy(),
                     index=assets.loc[chosen, "asset_id"].astype(str).to_numpy())


def _read_requests(path: Path) -> pd.DataFrame:
    """A plan's space requests as placed (``restricted/space_requests.csv``)."""
    from estate.plan.requests import REQUEST_COLUMNS

    try:
        table = pd.read_csv(path, dtype={"request_id": str, "housed_in": str, "host_partner": str, "partner": str},
                            keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise EstateError(f"{path}: cannot be read ({type(exc).__name__}); run `estate plan` again") from None
    missing = [c for c in REQUEST_COLUMNS if c not in table]
    if missing:
        raise EstateError(f"{path}: missing column(s) {missing}; is this a plan estate wrote?")
    bad = ~pd.to_numeric(table["from_year"], errors="coerce").notna() | \
        ~pd.to_numeric(table["need_m2"], errors="coerce").gt(0) | \
        ~pd.to_numeric(table["new_lease_gbp_per_m2"], errors="coerce").ge(0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise EstateError(f"{path}, row {row}: from_year, need_m2 (> 0) and new_lease_gbp_per_m2 (≥ 0) must be numbers")
    return table


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
