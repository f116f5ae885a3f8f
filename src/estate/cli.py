"""The ``estate`` command: parses arguments, runs a stage, prints progress and summaries.

Errors a user can fix (bad files, bad settings) are printed as one clear
message and exit with status 2; they never show a traceback.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import click

from estate._errors import EstateError
from estate._io import atomic_path, check_html_target, check_output_folder
from estate.locate.problem import OBJECTIVES, P_MEDIAN_METHODS

# Each command imports what it needs (pandas, geopandas, folium, the solver) when it runs, so
# `estate --help` and a command's `--help` start in a fraction of a second.


def _gbp_m(value: float | None) -> str:
    from estate.finance.costs import gbp_millions

    return gbp_millions(value)

DEFAULT_SOURCES = Path("data/assets/partners.toml")
DEFAULT_REGISTER_DIR = Path("out/register")
DEFAULT_MAPS_DIR = Path("maps")
DEFAULT_SCENARIO = Path("models/cheshire-warrington.toml")


def _progress(message: str) -> None:
    _end_live()
    click.echo(f"  · {message}", err=True)


_LIVE = {"shown": False, "last": 0.0}
#: Seconds between progress lines when standard error is not a terminal (a log file keeps each).
LOG_PROGRESS_SECONDS = 30.0


def _live(message: str) -> None:
    """The solver's progress: one line updated in place on a terminal, a line every
    :data:`LOG_PROGRESS_SECONDS` in a log."""
    stream = click.get_text_stream("stderr")
    if stream.isatty():
        stream.write(f"\r  · {message}\x1b[K")
        stream.flush()
        _LIVE["shown"] = True
    elif time.perf_counter() - _LIVE["last"] >= LOG_PROGRESS_SECONDS:
        _LIVE["last"] = time.perf_counter()
        click.echo(f"  · {message}", err=True)


def _end_live() -> None:
    if _LIVE["shown"]:
        click.echo("", err=True)
        _LIVE["shown"] = False


def _print_quality(register) -> None:
    import pandas as pd

    from estate.register.build import authority_summary, quality_summary

    q = quality_summary(register)
    shown = pd.DataFrame({
        "assets": q["assets"].map("{:,.0f}".format),
        "floor m²": q["gia_m2"].map("{:,.0f}".format),
        "running/yr": q["running_cost_gbp"].map(_gbp_m),
        "value": q["market_value_gbp"].map(_gbp_m),
        "rows": q["rows"].map("{:,.0f}".format),
        "rejected": q["rejected"].map("{:,.0f}".format),
        "merged": q["merged"].map("{:,.0f}".format),
        "warned": q["warnings"].map("{:,.0f}".format),
    })
    click.echo("\nData quality by partner (assets = sites the partner leads after de-duplication)")
    click.echo(shown.to_string())
    total = q.loc["TOTAL"]
    click.echo(f"\nRows read {total['rows']:,.0f} = assets {total['assets']:,.0f} + merged "
               f"{total['merged']:,.0f} + rejected {total['rejected']:,.0f}")
    occ = register.counts
    click.echo(f"Occupier rows read {occ['occupier_rows'].sum():,} = kept {len(register.occupiers):,} "
               f"+ rejected {occ['occupier_rows_rejected'].sum():,} "
               f"({register.occupiers['fte'].sum():,.0f} FTE kept)")
    estimated = int(register.assets["running_cost_estimated"].fillna(False).astype(bool).sum()) \
        if "running_cost_estimated" in register.assets else 0
    if estimated:
        click.echo(f"{estimated:,} assets have no running cost from their partner: `estate plan` estimates them "
                   "from the scenario's benchmark rates ([estimates]) and flags each estimate")
    f = register.files
    if len(f):
        click.echo(f"Lines of {len(f)} files {f['lines'].sum():,} = header {f['header'].sum():,} + blank "
                   f"{f['blank'].sum():,} + rows {f['records'].sum():,} + continued values "
                   f"{f['continuation'].sum():,} (rows whose quoted values run over several lines)")

    a = authority_summary(register)
    click.echo("\nBy local authority")
    click.echo(pd.DataFrame({
        "assets": a["assets"].map("{:,.0f}".format),
        "running/yr": a["running_cost_gbp"].map(_gbp_m),
        "value": a["market_value_gbp"].map(_gbp_m),
        "offices": a["offices"].map("{:,.0f}".format),
        "office share of floor": a["office_share_of_gia"].map("{:.1%}".format),
    }).to_string())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="estate")
def cli() -> None:
    """estate: plan a partnership's public buildings as one estate.

    `estate plan` runs everything on the built-in sample: the joint register
    from every partner's file, travel times, the optimised plan of hubs,
    disposals and moves, its costing (programme.xlsx), the maps and the board
    report. Each stage also runs alone: `estate register`, `estate access`,
    `estate solve` (a generic location problem), `estate finance PLAN_DIR`
    (re-cost under new assumptions), `estate map register|plan|access` and
    `estate report PLAN_DIR`.
    """


@cli.command("register")
@click.option("--sources", type=click.Path(path_type=Path), default=DEFAULT_SOURCES, show_default=True,
              help="Partner source descriptions (TOML, see docs/sources.md).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_REGISTER_DIR,
              show_default=True, help="Folder for the register (restricted/register.gpkg and the rejects, "
                                      "warnings and merges) and its data-quality summary.")
def register_cmd(sources: Path, out_dir: Path) -> None:
    """Build the joint asset register from every partner's own file.

    Writes DIR/restricted/register.gpkg with layers assets, occupiers,
    rejects, warnings, merges and files, the rejects, warnings and merges as
    CSV beside it (restricted: they hold sensitive sites' true locations and
    rejected rows' raw values), and, shareable, DIR/register_summary.csv and
    DIR/register_files.csv (every file's lines accounted for). Prints a
    data-quality summary per partner.
    """
    from estate._io import OutputFolder
    from estate.pipeline import write_register_outputs
    from estate.register.build import build_register
    from estate.register.sources import load_sources

    if not sources.exists():
        raise click.UsageError(f"no partner sources at {sources}: run from the estate folder "
                               "(for the built-in sample) or pass --sources FILE")
    check_output_folder(out_dir)
    start = time.perf_counter()
    click.echo(f"Building the register from {sources}", err=True)
    with OutputFolder(out_dir, command=f"estate register --sources {sources.name}") as stage:  # locked from the start
        described = load_sources(sources)
        register = build_register(described, progress=_progress)
        write_register_outputs(register, stage)
    _print_quality(register)
    path = out_dir / "restricted" / "register.gpkg"
    click.echo(f"\nWrote {path} ({path.stat().st_size / 1e6:.1f} MB, restricted) with "
               f"{len(register.rejects):,} reject and {len(register.warnings):,} warning entries "
               f"(also as CSV beside it), and {out_dir}/register_summary.csv, in {time.perf_counter() - start:.1f} s")


@cli.command("access")
@click.argument("scenario", type=click.Path(path_type=Path), default=DEFAULT_SCENARIO, required=False)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Folder for access.parquet and the CSVs  [default: out/<scenario name>]")
def access_cmd(scenario: Path, out_dir: Path | None) -> None:
    """Travel times from every demand zone to every site, and today's access per service.

    SCENARIO is a scenario file (default models/cheshire-warrington.toml). Writes
    DIR/access.parquet (zone_id, site_id, mode, minutes, within the cutoff),
    access_zones.csv, access_summary.csv and the zone rejects/warnings.
    """
    from estate.pipeline import run_access
    from estate.scenario import load_scenario

    _check_scenario_path(scenario)
    start = time.perf_counter()
    loaded = load_scenario(scenario)
    out_dir = out_dir or Path("out") / loaded.name
    check_output_folder(out_dir)
    run = run_access(loaded, out_dir, progress=_progress)
    d = run.demand
    click.echo(f"Demand: {len(d.zones):,} zones, population {d.zones['population'].sum():,.0f} "
               f"({len(d.rejects):,} zone problems rejected, {len(d.warnings):,} repaired or warned)")
    counts = run.access.groupby("mode", observed=True).size()
    click.echo("Access table: " + ", ".join(f"{m} {n:,} pairs" for m, n in counts.items())
               + f" within {loaded.access.cutoff_minutes:g} min ({loaded.access.engine} engine)")
    click.echo("\nToday's access by service (share of population within its standard)")
    _print_access(run.today.summary)
    click.echo(f"\nWrote {out_dir / 'access.parquet'} "
               f"({(out_dir / 'access.parquet').stat().st_size / 1e6:.1f} MB) and CSVs in "
               f"{time.perf_counter() - start:.1f} s")


def _print_access(summary) -> None:
    import pandas as pd

    if summary.empty:
        return
    shown = pd.DataFrame({
        "service": summary["name"],
        "standard": [f"{mi:g} min by {mo}, {sh:.0%}" if ru == "share" else f"no zone worse, {mo}"
                     for mi, mo, sh, ru in zip(summary["standard_minutes"], summary["mode"],
                                               summary["required_share"], summary["rule"])],
        "sites": summary["sites"],
        "share within": summary["share_within"].map("{:.1%}".format),
        "zones failing": summary["zones_failing"],
        "meets": summary["meets"].map({True: "yes", False: "NO"}),
    })
    click.echo(shown.to_string(index=False))


@cli.command("plan")
@click.argument("scenario", type=click.Path(path_type=Path), default=DEFAULT_SCENARIO, required=False)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Folder for the run's outputs  [default: out/<scenario name>]")
@click.option("--maps", "maps_dir", type=click.Path(path_type=Path), default=DEFAULT_MAPS_DIR, show_default=True,
              help="Folder for the HTML maps.")
@click.option("--time-limit", "time_limit", type=float, default=None, callback=lambda c, p, v: _positive(p, v),
              help="Safety time limit of the solve in seconds  [default: plan.time_limit_seconds]; when it stops "
                   "the solver before the gap is proved, the plan is the deterministic start, so it never "
                   "changes the answer")
@click.option("--gap", "gap", type=float, default=None, callback=lambda c, p, v: _share(p, v),
              help="Relative optimality gap at which to stop, e.g. 0.005  [default: plan.gap]")
def plan_cmd(scenario: Path, out_dir: Path | None, maps_dir: Path, time_limit: float | None,
             gap: float | None) -> None:
    """Propose hubs, disposals and team moves for a scenario, proven near-optimal.

    SCENARIO is a scenario file (default models/cheshire-warrington.toml).
    Runs register → access → plan and writes into DIR: register.gpkg,
    access.parquet, plan.gpkg (layers assets with decision keep/hub/dispose
    and exit year, moves as lines, zones with minutes before and after per
    service), plan_summary.json, programme.xlsx (the costed disposal
    programme) with its tables as programme_*.csv; then the register map.
    It also draws the register, plan and access maps (DIR/maps/ and
    --maps) and writes DIR/report.html, the board report. When no plan
    meets the rules, says why (which zones, service or rule) and exits
    with status 1, writing nothing.
    """
    import pandas as pd

    from estate.pipeline import run_plan
    from estate.plan import PlanInfeasible
    from estate.scenario import load_scenario

    _check_scenario_path(scenario)
    start = time.perf_counter()
    loaded = load_scenario(scenario)
    overrides = {k: v for k, v in (("time_limit_seconds", time_limit), ("gap", gap)) if v is not None}
    if overrides:  # recorded in plan_summary.json's plan_settings, as used
        loaded = replace(loaded, plan=replace(loaded.plan, **overrides))
    out_dir = out_dir or Path("out") / loaded.name
    check_output_folder(out_dir)
    if maps_dir.exists() and not maps_dir.is_dir():
        raise click.UsageError(f"--maps {maps_dir} is a file; give a folder")
    for name in ("register", "plan", "access"):
        check_html_target(maps_dir / f"{name}.html")
    click.echo(f"Planning {loaded.name} ({scenario})", err=True)
    try:
        run = run_plan(loaded, out_dir, progress=_progress, live=_live)
    except PlanInfeasible as exc:
        _end_live()
        click.echo(f"infeasible: {exc}", err=True)
        raise SystemExit(1) from None
    s = run.plan.shared_summary or run.plan.summary  # what the shareable files say (sensitive shares rounded)
    gap = "n/a" if s["gap"] is None else f"{s['gap']:.2%}"
    click.echo(f"\nPlan: {s['status']} (gap {gap} against the proven bound, target {loaded.plan.gap:.2%}; "
               f"build {s['build_seconds']:.1f} s, solve {s['solve_seconds']:.1f} s, {s['solver']})"
               + (f"\n  {s['solver_note']}" if s.get("solver_note") else ""))
    click.echo(f"Assets {s['assets_before']:,} → kept {s['kept']:,} (of which hubs {s['hubs']:,}; "
               f"{s['hubs_today']:,} shared today), disposed {s['disposed']:,} of {s['assets_in_plan']:,} in the plan")
    click.echo(f"Teams moved {s['teams_moved']:,} ({s['fte_moved']:,.0f} FTE); floor area released "
               f"{s['floor_area_released_m2']:,.0f} m²")
    click.echo(f"Running-cost saving {_gbp_m(s['annual_saving_gbp'])} a year; capital receipts "
               f"{_gbp_m(s['capital_receipts_gbp'])}; one-off costs {_gbp_m(s['one_off_costs_gbp'])}; "
               f"NPV over {s['horizon_years']} years at {s['discount_rate']:.1%} {_gbp_m(s['npv_gbp'])}; "
               f"payback {s['payback_year'] or 'not within the horizon'}")
    for note in s.get("notes", run.plan.notes):
        click.echo(f"Note: {note}")
    if s.get("phasing"):
        ph = pd.DataFrame(s["phasing"])
        click.echo("\nPhasing (cash; funds = capital budget so far + receipts so far)")
        click.echo(pd.DataFrame({
            "year": ph["financial_year"], "disposals": ph["disposals"],
            "sold (MV)": ph["market_value_sold_gbp"].map(_gbp_m), "FTE moved": ph["fte_moved"].map("{:,.0f}".format),
            "receipts": ph["receipts_gbp"].map(_gbp_m), "capital one-off": ph["capital_one_off_gbp"].map(_gbp_m),
            "capital so far": ph["capital_to_date_gbp"].map(_gbp_m), "funds so far": ph["funds_to_date_gbp"].map(_gbp_m),
            "within limits": ph["within_limits"].map({True: "yes", False: "NO"})}).to_string(index=False))
    click.echo("")
    _print_programme(run.access.redaction.programme(run.plan.programme))
    click.echo("\nAccess by service, before → after (share of people within the standard)")
    rows = [{"service": code, "standard": (f"{a['standard']['minutes']:g} min by {a['standard']['mode']}"
                                           if "minutes" in a["standard"] else f"no zone worse, {a['standard']['mode']}"),
             "required": f"{a['required_share']:.1%}", "before": f"{a['share_before']:.1%}",
             "after": f"{a['share_after']:.1%}", "sites": f"{a['sites_before']} → {a['sites_after']}",
             "met": "yes" if a["met"] else "NO"} for code, a in s["access"].items()]
    if rows:
        click.echo(pd.DataFrame(rows).to_string(index=False))
    for name, stats in run.maps.items():  # the maps also go to the shared maps folder, each file atomically
        with atomic_path(maps_dir / stats.path.name) as tmp:
            shutil.copyfile(stats.path, tmp)
    sizes = ", ".join(f"{name} {stats.bytes / 1e6:.1f} MB" for name, stats in run.maps.items())
    click.echo(f"\nWrote {out_dir}/plan.gpkg, plan_summary.json, programme.xlsx (+ programme_*.csv), report.html "
               f"and access.parquet (shareable: no sensitive site can be placed from them), and "
               f"{out_dir}/restricted/ (the register, full travel times and the true plan: for the estates team "
               f"only); maps in {out_dir / 'maps'} and {maps_dir} ({sizes}); in {time.perf_counter() - start:.1f} s")


def _print_programme(prog) -> None:
    import pandas as pd

    s = prog.summary
    click.echo(f"Programme ({s['disposals']:,} disposals, {s['moves']:,} moves): steady-state saving "
               f"{_gbp_m(s['annual_saving_gbp'])} a year, cashable savings over the horizon "
               f"{_gbp_m(s['cashable_savings_gbp'])}, receipts {_gbp_m(s['capital_receipts_gbp'])}, one-off costs "
               f"{_gbp_m(s['one_off_costs_gbp'])}; NPV {_gbp_m(s['npv_gbp'])}; payback "
               f"{s['payback_year'] or 'not within the horizon'}")
    shown = prog.ledger[["partner", "own_net_pv_gbp", "allocated_net_pv_gbp", "transfer_pv_gbp", "position"]]
    click.echo(f"\nPartner ledger (present values, sharing rule {s['sharing_rule']!r})")
    click.echo(pd.DataFrame({"partner": shown["partner"], "own": shown["own_net_pv_gbp"].map(_gbp_m),
                             "under the rule": shown["allocated_net_pv_gbp"].map(_gbp_m),
                             "transfer": shown["transfer_pv_gbp"].map(_gbp_m),
                             "position": shown["position"]}).to_string(index=False))
    t = prog.sensitivity
    click.echo("\nSensitivity of the NPV (one assumption at a time, largest swing first)")
    click.echo(pd.DataFrame({"assumption": t["assumption"], "range": t["low_setting"] + " .. " + t["high_setting"],
                             "NPV low": t["npv_min_gbp"].map(_gbp_m), "NPV high": t["npv_max_gbp"].map(_gbp_m),
                             "turns negative": t["turns_negative"].map({True: "YES", False: "no"})}
                            ).to_string(index=False))
    for note in prog.notes:
        click.echo(f"Note: {note}")


@cli.command("finance")
@click.argument("plan_dir", type=click.Path(path_type=Path))
@click.option("--scenario", "scenario_path", type=click.Path(path_type=Path), default=None,
              help="Scenario whose [finance] assumptions to use  [default: the one the plan was made with]")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Folder for the workbook and CSVs  [default: PLAN_DIR]")
def finance_cmd(plan_dir: Path, scenario_path: Path | None, out_dir: Path | None) -> None:
    """Re-cost a saved plan under changed assumptions, without re-optimising.

    PLAN_DIR holds the outputs of `estate plan` (plan.gpkg, plan_summary.json).
    Edit the [finance] table of a scenario file (or a copy) and point --scenario
    at it. Writes programme.xlsx, programme_*.csv, an updated
    plan_summary.json and report.html into PLAN_DIR (or --out), and redraws
    the plan map's figures in PLAN_DIR/maps.
    """
    import json

    from estate.pipeline import recost_plan
    from estate.scenario import load_scenario

    if scenario_path is None:  # the scenario the plan was made with, recorded in restricted/run.json
        record = plan_dir / "restricted" / "run.json"
        if not record.is_file():
            raise click.UsageError(f"no restricted/run.json in {plan_dir}: run `estate plan` first, check the "
                                   "folder, or pass --scenario FILE")
        try:
            recorded = json.loads(record.read_text(encoding="utf-8")).get("scenario_file")
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            raise EstateError(f"{record}: damaged; pass --scenario FILE or run `estate plan` again") from None
        if not recorded:
            raise click.UsageError(f"{record} names no scenario; pass --scenario FILE")
        scenario_path = Path(recorded)
    _check_scenario_path(scenario_path)
    check_output_folder(out_dir or plan_dir)
    start = time.perf_counter()
    scenario = load_scenario(scenario_path)
    prog, _ = recost_plan(plan_dir, scenario, out_dir, progress=_progress)
    _print_programme(prog)
    click.echo(f"\nWrote {(out_dir or plan_dir) / 'programme.xlsx'}, programme_*.csv, plan_summary.json and report.html "
               f"in {time.perf_counter() - start:.1f} s")


def _finite(param, value: float | None) -> float | None:
    """A number option must be finite (``nan`` and ``inf`` parse as floats but mean nothing here)."""
    import math

    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value!r} is not a finite number", param=param)
    return value


def _positive(param, value: float | None) -> float | None:
    """A number option that must be finite and above 0."""
    if value is not None and (_finite(param, value) <= 0 or value > 7 * 24 * 3600):
        raise click.BadParameter(f"{value:g} must be above 0 (and at most a week)", param=param)
    return value


def _share(param, value: float | None) -> float | None:
    """A number option that must lie in [0, 1]."""
    if value is not None and not 0 <= _finite(param, value) <= 1:
        raise click.BadParameter(f"{value:g} must lie between 0 and 1 (0.005 = 0.5%)", param=param)
    return value


@cli.command("solve")
@click.option("--sites", type=click.Path(path_type=Path), required=True, help="sites.csv: site_id, fixed_cost, capacity, status.")
@click.option("--demand", type=click.Path(path_type=Path), required=True, help="demand.csv: zone_id, weight.")
@click.option("--costs", type=click.Path(path_type=Path), required=True, help="costs.csv: zone_id, site_id, cost.")
@click.option("--objective", type=click.Choice(OBJECTIVES),
              required=True, help="What to optimise (see DESIGN.md, location problem contract).")
@click.option("--p", "p", type=click.IntRange(min=0), default=None, help="Sites to open (p-median, max-cover, p-center).")
@click.option("--max-cost", type=float, default=None, callback=lambda c, p, v: _finite(p, v),
              help="Coverage threshold (cover, max-cover).")
@click.option("--single-source", is_flag=True, help="min-cost: serve each zone whole from one site.")
@click.option("--time-limit", type=click.FloatRange(min=0), default=None, callback=lambda c, p, v: _finite(p, v),
              help="Solver time limit, seconds.")
@click.option("--gap", type=click.FloatRange(min=0), default=0.0, show_default=True,
              callback=lambda c, p, v: _finite(p, v),
              help="Relative optimality gap at which to stop (0 proves optimality).")
@click.option("--solver", type=click.Choice(["highs", "cbc"]), default="highs", show_default=True,
              help="MIP solver (every objective but a p-median solved by the Lagrangian method).")
@click.option("--method", type=click.Choice(P_MEDIAN_METHODS), default=P_MEDIAN_METHODS[0], show_default=True,
              help="p-median only: Lagrangian branch-and-bound, or the radius MIP through --solver.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder for open_sites.csv, assignments.csv and summary.json.")
def solve_cmd(sites: Path, demand: Path, costs: Path, objective: str, p: int | None, max_cost: float | None,
              single_source: bool, time_limit: float | None, gap: float, solver: str, method: str,
              out_dir: Path) -> None:
    """Solve a generic location problem given as three CSV files.

    An infeasible problem is reported with its reason (for example zones no
    site can reach, or demand above capacity) and exit status 1.
    """
    from estate._io import OutputFolder
    from estate.locate.contract import read_problem, write_solution
    from estate.locate.solve import solve

    check_output_folder(out_dir)
    with OutputFolder(out_dir, command="estate solve") as stage:  # locked from the start
        problem = read_problem(sites, demand, costs)
        _progress(f"{objective}: {problem.n_zones:,} zones, {problem.n_sites:,} sites, "
                  f"{len(problem.pair_zone):,} pairs")
        solution = solve(problem, objective, p=p, max_cost=max_cost, single_source=single_source,
                         time_limit=time_limit, gap=gap, solver=solver, method=method)
        summary = write_solution(problem, solution, stage)
    if solution.status == "infeasible":
        click.echo(f"infeasible: {solution.explanation}", err=True)
        raise SystemExit(1)
    if solution.objective is None:  # stopped without a solution: neither a plan nor a proof
        click.echo(f"{solution.status}: {solution.explanation or 'no solution found'} (this does not show that "
                   "no solution exists; raise --time-limit)", err=True)
        raise SystemExit(1)
    gap_text = "n/a" if summary["gap"] is None else f"{summary['gap']:.4%}"
    click.echo(f"{solution.status}: objective {summary['objective']:,.6g}, bound "
               f"{summary['bound'] if summary['bound'] is None else format(summary['bound'], ',.6g')}, "
               f"gap {gap_text}, {summary['open_sites']} sites open "
               f"(build {summary['build_seconds']:.2f} s, solve {summary['solve_seconds']:.2f} s, {solution.solver})")
    click.echo(f"Wrote {out_dir}/open_sites.csv, assignments.csv and summary.json")


@cli.group("map")
def map_group() -> None:
    """Write interactive folium maps."""


@map_group.command("register")
@click.option("--register", "register_path", type=click.Path(path_type=Path),
              default=DEFAULT_REGISTER_DIR, show_default=True,
              help="A register.gpkg, or a folder written by `estate register` or `estate plan`.")
@click.option("--out", "out_path", type=click.Path(path_type=Path),
              default=DEFAULT_MAPS_DIR / "register.html", show_default=True, help="The HTML map to write.")
def map_register_cmd(register_path: Path, out_path: Path) -> None:
    """Map every partner's buildings: a layer per partner, markers sized by
    floor area and coloured by running cost per m². Sensitive sites are not shown."""
    from estate.maps import register_map
    from estate.register.build import read_register

    check_html_target(out_path)
    start = time.perf_counter()
    register = read_register(register_path)
    _progress(f"drawing {len(register.assets):,} assets")
    stats = register_map(register.assets, out_path)
    click.echo(f"Wrote {stats.path} ({stats.bytes / 1e6:.1f} MB, {stats.markers:,} markers, "
               f"{stats.hidden_sensitive} sensitive sites not shown) in {time.perf_counter() - start:.1f} s")


def _plan_map_cmd(name: str):
    @map_group.command(name)
    @click.argument("plan_dir", type=click.Path(path_type=Path))
    @click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
                  help=f"The HTML map to write  [default: PLAN_DIR/maps/{name}.html]")
    def command(plan_dir: Path, out_path: Path | None) -> None:
        from estate.pipeline import write_maps

        check_html_target(out_path or plan_dir / "maps" / f"{name}.html")
        start = time.perf_counter()
        stats = write_maps(plan_dir, which=(name,), paths={name: out_path} if out_path else None)[name]
        click.echo(f"Wrote {stats.path} ({stats.bytes / 1e6:.1f} MB, {stats.markers:,} markers, "
                   f"{stats.hidden_sensitive} sensitive sites not shown) in {time.perf_counter() - start:.1f} s")

    command.__doc__ = {
        "plan": "Map a saved plan: kept, hub and disposed buildings, team moves, filters by partner and "
                "decision, and the headline figures.",
        "access": "Map a saved plan's access: minutes to the nearest site per service, before and after, with "
                  "the standard marked and the zones made worse.",
    }[name]
    return command


_plan_map_cmd("plan")
_plan_map_cmd("access")


@cli.command("report")
@click.argument("plan_dir", type=click.Path(path_type=Path))
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="The HTML report to write  [default: PLAN_DIR/report.html]")
def report_cmd(plan_dir: Path, out_path: Path | None) -> None:
    """Write the board report of a saved plan: headline figures, access before and after, the
    partner ledger, cash-flow and partner charts, the solver's status and gap, every assumption,
    and links to the maps and the workbook."""
    from estate.report import write_report

    check_html_target(out_path or plan_dir / "report.html")
    start = time.perf_counter()
    path = write_report(plan_dir, out_path)
    click.echo(f"Wrote {path} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - start:.1f} s")


def _check_scenario_path(scenario: Path) -> None:
    if scenario.is_dir():
        files = sorted(p.name for p in scenario.glob("*.toml"))[:5]
        raise click.UsageError(f"{scenario} is a folder; name a scenario file in it"
                               + (f", e.g. {scenario / files[0]}" if files else ""))
    if not scenario.exists():
        raise click.UsageError(f"no scenario at {scenario}: run from the estate folder or name one")


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM); raised so that partial outputs are removed."""


def _terminate(signum, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user-fixable errors print a message and return 2.

    Ctrl-C and SIGTERM stop the run cleanly (exit 130 and 143): a run's
    outputs are written all-or-nothing, so the folder is left as it was. An
    unexpected internal error prints one line and returns 3; set
    ``ESTATE_DEBUG=1`` for the traceback.
    """
    import os
    import signal

    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread
        previous = None
    try:
        cli.main(args=argv, prog_name="estate", standalone_mode=False)
    except EstateError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("stopped: nothing was changed", err=True)
        return 130
    except Terminated:
        click.echo("terminated: nothing was changed", err=True)
        return 143
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SystemExit as exc:
        return int(exc.code or 0)
    except MemoryError:
        click.echo("error: out of memory; nothing was changed", err=True)
        return 3
    except Exception as exc:  # a bug: say so in one line, never a traceback (unless asked)
        if os.environ.get("ESTATE_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (nothing was changed; please report it, and "
                   "set ESTATE_DEBUG=1 to see where it happened)", err=True)
        return 3
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
