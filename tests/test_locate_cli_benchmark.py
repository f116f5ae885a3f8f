"""benchmarks/locate_cli.py on two small published instances: each written in the ``estate solve``
CSV contract, solved by the installed ``estate`` script as its own process, and checked against its
published optimum. Nothing here is about time (the figures are measured by the lead on a quiet
machine, docs/locate.md); the benchmark files come from ``ESTATE_SHARED`` and the test skips without
them."""

from __future__ import annotations

import csv
import importlib.util

import numpy as np
import pytest
from conftest import REPO, SHARED

from estate.locate.contract import read_problem
from estate.locate.instances import FAMILY_DIRS, load_family

CASES = [("pmed", "pmed1"), ("holmberg", "p1")]


def _script():
    spec = importlib.util.spec_from_file_location("locate_cli", REPO / "benchmarks" / "locate_cli.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def benchmarks(monkeypatch):
    missing = [SHARED / "benchmarks" / FAMILY_DIRS[fam] for fam, _ in CASES
               if not (SHARED / "benchmarks" / FAMILY_DIRS[fam]).is_dir()]
    if missing:
        pytest.skip(f"published benchmarks not found at {', '.join(map(str, missing))} (set ESTATE_SHARED)")
    monkeypatch.setenv("ESTATE_SHARED", str(SHARED))  # the script finds them as the conftest does
    return SHARED


def test_estate_solve_reaches_the_published_optimum(benchmarks, tmp_path, capsys):
    script = _script()
    rows_csv = tmp_path / "rows.csv"
    code = script.main(["--only", *[name for _, name in CASES], "--cache", str(tmp_path / "cache"),
                        "--csv", str(rows_csv), "--time-limit", "600", "--startup-runs", "1"])
    printed = capsys.readouterr().out
    with open(rows_csv, newline="") as fh:
        rows = {row["name"]: row for row in csv.DictReader(fh)}
    assert sorted(rows) == sorted(name for _, name in CASES), printed
    for family, name in CASES:
        row = rows[name]
        inst = load_family(benchmarks, family, [name])[0]
        assert (row["family"], row["status"], row["exit_code"], row["ok"], row["at_limit"]) == \
            (family, "optimal", "0", "True", "False"), printed
        assert script.matches(float(row["objective"]), inst.optimum), printed
        assert float(row["optimum"]) == inst.optimum
    assert code == 0
    assert "start-up (estate solve --help, median of 1)" in printed
    assert printed.count("1 instances,   1 optimal at the published optimum") == 2  # a total per family


@pytest.mark.parametrize("family, name", CASES, ids=[name for _, name in CASES])
def test_the_csvs_read_back_as_the_instance(benchmarks, tmp_path, family, name):
    """What `estate solve` reads is the published instance to the last bit, and the cache is reused."""
    script = _script()
    folder = tmp_path / name
    info = script.cached_contract(benchmarks, family, name, folder)
    inst = load_family(benchmarks, family, [name])[0]
    assert (info["objective"], info["p"], info["single_source"]) == (inst.objective, inst.p, inst.single_source)
    read = read_problem(folder / "sites.csv", folder / "demand.csv", folder / "costs.csv")
    pr = inst.problem
    for field in ("fixed_cost", "capacity", "status", "weight", "pair_zone", "pair_site", "pair_cost"):
        np.testing.assert_array_equal(getattr(read, field), getattr(pr, field), err_msg=field)
    stamp = (folder / "instance.json").stat().st_mtime_ns
    script.cached_contract(benchmarks, family, name, folder)
    assert (folder / "instance.json").stat().st_mtime_ns == stamp
    command = script.solve_command(folder, info, 60)
    assert ("--p" in command) == (family == "pmed") and ("--single-source" in command) == (family == "holmberg")
