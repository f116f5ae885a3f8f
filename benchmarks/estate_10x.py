"""A ten-times estate: the built-in plan on about 40,000 assets and 6,000 zones, as a user runs it.

Usage::

    .venv/bin/python benchmarks/estate_10x.py                   # generate (once) and run estate plan
    .venv/bin/python benchmarks/estate_10x.py --scale 2         # a quicker two-times estate
    .venv/bin/python benchmarks/estate_10x.py --only-generate   # write the estate and its scenario, stop
    .venv/bin/python benchmarks/estate_10x.py --kill-after 3600 # end the run if it takes longer

**The estate.** From the sample's fixed seed (``estate.sample.SEED``) the script writes into a folder
(default ``out/estate_10x/``, or ``out/estate_<scale>x/``; reused when it is already there from the
same seed, scale, generator and scenario, see ``estate.json``):

- ``assets/``: the partners' files, ``python -m estate.sample --scale 10`` (about 41,500 distinct
  assets, records, teams, floor area, running costs and market value all ten times the sample's;
  the planted faults are not scaled);
- ``demand/``: ``generate_zones(scale=10)``, about 6,000 zones (10 × the sample's 602) over the same
  sub-region, each a tenth of an LSOA's population (about 160 residents, 100 to 300), so the
  populations still add up to the Census 2021 totals;
- ``estate-10x.toml``: ``models/cheshire-warrington.toml`` with its data paths pointed at these
  folders, ``gap = 0.01`` and ``time_limit_seconds = 600``, and the **partnership-wide delivery
  limits multiplied by the scale** (``fte_moved_per_year``, ``disposals_per_year``,
  ``market_value_gbp_per_year``, ``capital_budget_gbp_per_year``: a partnership with ten times the
  estate is taken to have ten times the capacity to deliver). Every other setting (access standards,
  move radius, costs, the two space requests, ``max_nodes = 1``) is the built-in scenario's.

**The run.** ``estate plan estate-10x.toml --gap 0.01 --time-limit 600`` runs as one child process
(the installed ``estate`` next to this Python), its outputs in ``run/`` and ``maps/`` of the folder.
Wall seconds cover the whole process; peak RSS is the child's own ``ru_maxrss`` (``os.wait4``). Each
line the run prints is timestamped (``plan.log`` in the folder), and the seconds between its stage
lines give the stages' times: demand zones, register, travel times, model (compiling the estate
model, the greedy start and the checks before the solve), the start search (the greedy start checked
against every row of the model and, with ``plan.start_search = "localities"``, improved one locality
at a time), the main solve
(and reading the solution back), and writing the outputs, maps and report. ``plan_summary.json``
gives the status, objective, bound, gap, build and solve seconds and the model's size. A record of
the run goes to ``result.json`` in the folder. Note that ``--time-limit`` is the main solve's safety
net only: the start search's localities have their own (120 s each), so the whole process may take
longer than the limit.

**Measured** on this 2-core machine, one HiGHS thread, 2026-12-03, at times with other developers' jobs
on the machine (load average up to 3), so the seconds are long:

- ``--scale 2`` (8,300 assets, 5,771 teams, 1,206 zones; the code of the time, with the locality
  search as the default start search): whole process 722.8 s, peak RSS 2,472 MB. Stages: register
  2.8 s, travel times 3.0 s (9.0 million pairs), model 11.8 s, locality search 251.7 s, solve 437.9 s
  (HiGHS's root search, stopped by its node limit), writing 14.4 s. Status ``feasible``, NPV £316.8m
  (objective −£317.2m), bound −£324.5m, **gap 2.23%** (target 1%); 113,525 rows, 128,237 columns
  (123,780 integer), 865,251 nonzeros. Start: greedy £194.0m, after the localities £288.2m.
- ``--scale 5`` (20,750 assets, 14,289 teams, 3,017 zones; greedy start only, the default since
  152f04b): whole process 754.5 s, peak RSS 9,677 MB. Stages: register 5.4 s, travel times 22.2 s
  (56.2 million pairs), model 65.7 s, solve 605.3 s, writing, maps and report 53.6 s. Status
  ``time_limit``: the plan is the greedy start, NPV £536.2m, bound −£860.8m, **gap 37.7%**;
  287,229 rows, 323,961 columns (314,570 integer), 2,215,894 nonzeros.
- ``--scale 10`` (41,500 assets, 28,684 teams, 6,041 zones, 225.6 million travel-time pairs, 128.7
  million of them by car): **killed by the kernel's out-of-memory killer**, twice. First (the code of
  152f04b) at 311.7 s, peak RSS 20,934 MB, while building the model: ``plan/rules/access.py`` turned
  the car rows' categorical ids into text (fixed in 95a1bd6). Then (from 95a1bd6) at 1,424.8 s, peak
  RSS 22,615 MB, while writing: ``privacy.Redaction.access`` turns every site id of the access table
  into text. Stages of that run: register 10.3 s, travel times 102.0 s, model 79.3 s, solve 1,160.7 s
  (HiGHS returned 560 s after its 600 s safety limit, having found nothing better than the greedy
  start: NPV £1,017.7m against a bound of £1,720.3m), writing 70.9 s until the kill.

  A third run, in a scratch copy of a774e01 with ``privacy.Redaction.access`` and the travel-time
  engine's ``pd.Categorical([mode] * n)`` turned into code lookups (committed since in 3b2c4df), built
  the travel times in 55.7 s and the model in 88.9 s, and was ended by a SIGTERM from outside at
  588 s, in the solve (peak RSS 13,023 MB so far). A fourth run, at 3b2c4df, **completes**: whole
  process 1,461.6 s, peak RSS 14,899 MB. Stages: register 10.2 s, travel times 51.2 s, model 86.3 s,
  solve 1,174.8 s (HiGHS again returned about 550 s after its 600 s limit), writing 125.2 s, maps
  11.0 s. Status ``time_limit``: the plan is the greedy start, NPV £1,017.7m, bound −£1,720.3m,
  **gap 40.85%**; 575,670 rows, 648,952 columns (633,858 integer), 4,124,118 nonzeros.
  docs/plan.md ("Ten-times estate") says where each stage broke and what is left.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "models" / "cheshire-warrington.toml"
GAP = 0.01
TIME_LIMIT_SECONDS = 600.0
#: ``[plan.delivery]`` keys that are partnership-wide counts or values, multiplied by the scale.
SCALED_DELIVERY_KEYS = ("fte_moved_per_year", "disposals_per_year", "market_value_gbp_per_year",
                        "capital_budget_gbp_per_year")
#: The first words of ``estate plan``'s progress lines that start each stage.
STAGES = (("demand", "reading demand zones"), ("register", "building the register"),
          ("access", "straight travel times"), ("model", "compiling the estate model"),
          ("start_search", ("improving the greedy start", "checking the greedy start")), ("solve", "solving:"),
          ("write", "writing the register, travel times and plan"), ("maps", "drawing the maps"),
          ("report", "writing the report"), ("move", "moving the outputs"), ("printout", "Plan:"))


def _fingerprint(scenario: str) -> str:
    """What the generated folder depends on besides seed and scale: the generator and the derived scenario."""
    digest = hashlib.sha256((REPO / "src" / "estate" / "sample.py").read_bytes())
    digest.update(scenario.encode("utf-8"))
    return digest.hexdigest()[:16]


def scenario_text(base: str, scale: float, name: str) -> str:
    """``base`` (the built-in scenario's text) pointed at ``assets/`` and ``demand/`` beside it, with the
    benchmark's gap and time limit and the partnership-wide delivery limits multiplied by ``scale``.
    Comments are kept; each changed line must be found exactly once."""
    def setting(text: str, key: str, value, section: str | None = None) -> str:
        start = text.index(f"\n[{section}]\n") + 1 if section else 0  # a section's own keys, or the top level's
        end = text.find("\n[", start + 1)
        end = len(text) if end < 0 else end
        pattern = re.compile(rf'^{re.escape(key)}\s*=\s*("[^"]*"|\[[^\]]*\]|[^\s#]+)', re.M)
        found = pattern.findall(text, start, end)
        if len(found) != 1:
            raise ValueError(f"{key} is set {len(found)} times in {section or 'the scenario'}")
        head, body, tail = text[:start], text[start:end], text[end:]
        return head + pattern.sub(lambda m: f"{key} = {value(m.group(1)) if callable(value) else value}",
                                  body, count=1) + tail

    text = f"# Written by benchmarks/estate_10x.py (scale {scale:g}) from models/cheshire-warrington.toml.\n" + base
    text = setting(text, "name", f'"{name}"')
    text = setting(text, "description", f'"The synthetic sample at {scale:g} times its size (benchmark)"')
    text = setting(text, "sources", '"assets/partners.toml"', "data")
    text = setting(text, "zones", '"demand/zones.gpkg"', "data")
    text = setting(text, "allowed_folders", "[]", "data")
    text = setting(text, "gap", f"{GAP:g}", "plan")
    text = setting(text, "time_limit_seconds", repr(TIME_LIMIT_SECONDS), "plan")
    for key in SCALED_DELIVERY_KEYS:
        text = setting(text, key, lambda v: _times(v, scale), "plan.delivery")
    return text


def _times(literal: str, scale: float) -> str:
    """A TOML number multiplied by ``scale``: an integer stays an integer (rounded)."""
    if re.fullmatch(r"[+-]?\d+", literal):
        return str(round(int(literal) * scale))
    return repr(float(literal) * scale)


def generate(folder: Path, scale: float = 10.0, seed: int | None = None) -> dict:
    """Write the scaled estate into ``folder`` (``assets/``, ``demand/``, the scenario and ``estate.json``),
    unless it is already there from the same seed, scale and fingerprint. Returns ``estate.json``'s record:
    seed, scale, fingerprint, the scenario's file name, and the generators' summaries."""
    from estate import sample

    seed = sample.SEED if seed is None else seed
    folder = Path(folder)
    stamp = folder / "estate.json"
    name = f"estate-{scale:g}x"
    text = scenario_text(SCENARIO.read_text(encoding="utf-8"), scale, name)
    key = {"seed": seed, "scale": scale, "fingerprint": _fingerprint(text)}
    if stamp.exists():
        info = json.loads(stamp.read_text(encoding="utf-8"))
        if {k: info.get(k) for k in key} == key and (folder / info["scenario"]).exists():
            return info
        stamp.unlink()
    started = time.perf_counter()
    assets = sample.generate(folder / "assets", seed=seed, scale=scale)
    zones = sample.generate_zones(folder / "demand", seed=seed, scale=scale)
    scenario = folder / f"{name}.toml"
    scenario.write_text(text, encoding="utf-8", newline="\n")
    from estate.scenario import load_scenario

    load_scenario(scenario)  # the derived scenario is valid
    info = {**key, "scenario": scenario.name, "generate_seconds": round(time.perf_counter() - started, 1),
            "assets": assets, "zones": zones}
    stamp.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return info


def run_plan(folder: Path, scenario: Path, kill_after: float | None = None, echo=print) -> dict:
    """``estate plan`` on ``scenario`` as a child process: wall seconds, peak RSS, exit code, every output
    line with its time (in ``plan.log``), the stages' seconds and what ``plan_summary.json`` says."""
    exe = Path(sys.executable).with_name("estate")
    out = folder / "run"
    cmd = [str(exe), "plan", str(scenario), "--out", str(out), "--maps", str(folder / "maps"),
           "--gap", f"{GAP:g}", "--time-limit", f"{TIME_LIMIT_SECONDS:g}"]
    lines: list[tuple[float, str]] = []
    killed = threading.Event()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # its own process group, so a kill ends all of it

    def watchdog() -> None:
        if kill_after and not killed.wait(kill_after) and proc.returncode is None:
            killed.set()
            os.killpg(proc.pid, signal.SIGKILL)

    with open(folder / "plan.log", "w", encoding="utf-8") as log:
        log.write(" ".join(cmd) + "\n")
        guard = threading.Thread(target=watchdog, daemon=True)
        guard.start()
        for line in proc.stdout:
            at = time.perf_counter() - t0
            lines.append((at, line.rstrip("\n")))
            log.write(f"{at:8.1f} {line}")
            log.flush()
            echo(f"{at:8.1f}  {line.rstrip()}")
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the largest of all children so far).
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        timed_out = killed.is_set()
        killed.set()
    result = {"command": " ".join(cmd), "wall_s": round(wall, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024),
              "returncode": proc.returncode, "killed_after_s": kill_after if timed_out else None,
              "stages_s": stage_seconds(lines, wall), "last_stage": (_marks(lines) or [(0.0, None)])[-1][1]}
    summary = out / "plan_summary.json"
    if proc.returncode == 0 and summary.exists():
        s = json.loads(summary.read_text(encoding="utf-8"))
        search = s.get("start_search") or {}
        passes = search.get("passes") or []
        result.update({k: s.get(k) for k in ("status", "objective", "bound", "gap", "build_seconds",
                                              "solve_seconds", "assets_before", "kept", "hubs", "disposed",
                                              "npv_gbp", "solver_note")})
        record = out / "restricted" / "run.json"  # the model's full size (the shareable summary keeps a part)
        model = json.loads(record.read_text(encoding="utf-8")).get("model") if record.exists() else None
        result.update({"model": model or s.get("model"), "start_objective": search.get("start_objective"),
                       "start_search_objective": passes[-1]["objective"] if passes else None,
                       "localities_stopped_by_time": search.get("stopped_by_time")})
    else:
        result["tail"] = [text for _, text in lines[-15:]]
    return result


def _marks(lines: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """``(seconds, stage)`` of each stage's first progress line, in time order."""
    marks = []
    for name, words in STAGES:
        at = next((t for t, text in lines if text.lstrip(" ·").startswith(words)), None)
        if at is not None:
            marks.append((at, name))
    return sorted(marks)


def stage_seconds(lines: list[tuple[float, str]], wall: float) -> dict:
    """Seconds from each stage's first progress line to the next stage's (the last to the end)."""
    marks = _marks(lines)
    ends = [t for t, _ in marks[1:]] + [wall]
    out = {"startup": round(marks[0][0], 1) if marks else round(wall, 1)}
    out.update({name: round(end - at, 1) for (at, name), end in zip(marks, ends)})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0, help="multiply assets and zones (default 10)")
    parser.add_argument("--seed", type=int, default=None, help="seed (default: the sample's)")
    parser.add_argument("--data", type=Path, default=None,
                        help="folder for the estate and the run, reused when generated from the same seed and "
                             "scale  [default: out/estate_10x, or out/estate_<scale>x]")
    parser.add_argument("--only-generate", action="store_true", help="write the estate and its scenario, stop")
    parser.add_argument("--kill-after", type=float, default=None, metavar="SECONDS",
                        help="end estate plan (and report the stage it was in) after this long  [default: never]")
    args = parser.parse_args()
    folder = (args.data or REPO / "out" / f"estate_{args.scale:g}x").resolve()
    t0 = time.perf_counter()
    info = generate(folder, args.scale, args.seed)
    a, z = info["assets"], info["zones"]
    print(f"estate in {folder} ({time.perf_counter() - t0:.1f} s; seed {info['seed']}, scale {info['scale']:g}): "
          f"{a['assets']:,} assets, {a['records']:,} records, {a['occupiers']:,} teams, {z['zones']:,} zones",
          flush=True)
    if args.only_generate:
        return 0
    result = run_plan(folder, folder / info["scenario"], args.kill_after,
                      echo=lambda text: print(text, flush=True))
    result["estate"] = {"seed": info["seed"], "scale": info["scale"], "assets": a["assets"],
                        "records": a["records"], "teams": a["occupiers"], "zones": z["zones"]}
    (folder / "result.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "tail"}, indent=1))
    if "tail" in result:
        print("last lines:\n  " + "\n  ".join(result["tail"]))
    return 0 if result["returncode"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
