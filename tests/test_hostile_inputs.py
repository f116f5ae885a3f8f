"""Hostile and careless partner files: every row is accounted for, every problem is a reject or a
one-line error naming the file, row and column (or the key), and nothing crashes."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
from shapely.geometry import Point

from estate._errors import SourceErrors
from estate.cli import main
from estate.register import build_register, load_sources

from conftest import BNG_XY, partner_toml

HEADER = "Ref,Name,Type,Tenure,GIA,Cost,X,Y"
GOOD = "G1,Good Office,office,freehold,1000,100000,340500,366300"


def sources_over(tmp_path: Path, text: str | bytes, *, location: dict | None = None, name: str = "p.csv",
                 columns: dict | None = None, **assets) -> Path:
    """A one-partner sources file over ``name`` holding ``text``."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    (tmp_path / name).write_bytes(data)
    path = tmp_path / "partners.toml"
    path.write_text(partner_toml("P", name, columns={"source_id": "Ref", "name": "Name", **(columns or {})},
                                 location=location or BNG_XY, **assets), encoding="utf-8")
    return path


def build(path: Path):
    return build_register(load_sources(path))


def reasons(register, row: int) -> list[str]:
    r = register.rejects
    return list(r.loc[r["row"] == row, "reason"])


def accounted(register) -> None:
    """Every physical line of every file is one of: header, blank, a row's first line, a continued value."""
    f = register.files
    assert (f["lines"] == f["header"] + f["blank"] + f["records"] + f["continuation"]).all(), f
    c = register.counts
    assert c["asset_rows"].sum() == len(register.assets) + len(register.merges) + c["asset_rows_rejected"].sum()


# --------------------------------------------------------------------------
# No row vanishes
# --------------------------------------------------------------------------


def test_an_unbalanced_quote_that_swallows_rows_is_rejected_with_their_lines(tmp_path):
    body = ('G1,"Good Office,office,freehold,1000,100000,340500,366300\n'
            "G2,Second,office,freehold,1000,100000,340600,366300\n"
            "G3,Third,office,freehold,1000,100000,340700,366300\n")
    register = build(sources_over(tmp_path, HEADER + "\n" + body))
    assert register.assets.empty
    reject = register.rejects.iloc[0]
    assert (reject["row"], reject["column"], reject["field"]) == (2, "(whole row)", "row")
    assert "unbalanced quote" in reject["reason"] and "lines 2–4" in reject["reason"]
    accounted(register)
    assert register.files.iloc[0][["lines", "records", "continuation"]].tolist() == [4, 1, 2]


def test_a_quoted_value_over_two_lines_is_kept_with_a_warning(tmp_path):
    body = GOOD + '\nG2,"Second\nHouse",office,freehold,1000,100000,340600,366300\nG3,Third,office,freehold,1000,100000,340700,366300\n'
    register = build(sources_over(tmp_path, HEADER + "\n" + body))
    assert list(register.assets["asset_id"]) == ["P-G1", "P-G2", "P-G3"]
    assert register.assets.set_index("asset_id").loc["P-G2", "name"] == "Second\nHouse"
    w = register.warnings
    assert (w["row"] == 3).any() and "runs over lines 3–4" in w.loc[w["row"] == 3, "reason"].iloc[0]
    bad = register.rejects
    assert bad.empty
    accounted(register)


def test_a_row_with_more_values_than_the_header_is_rejected(tmp_path):
    register = build(sources_over(tmp_path, HEADER + "\n" + GOOD + "\nB1,Bad, Ltd,office,freehold,10,10,340600,366300\n"))
    assert reasons(register, 3) == ["has 9 values but the header has 8: an unquoted delimiter inside a value?"]
    accounted(register)


def test_blank_lines_and_title_rows_are_counted(tmp_path):
    text = "Estate list\n\n" + HEADER + "\n" + GOOD + "\n\n,,,,,,,\n"
    register = build(sources_over(tmp_path, text, header_row=3))
    f = register.files.iloc[0]
    assert (f["lines"], f["header"], f["blank"], f["records"]) == (6, 3, 2, 1)
    accounted(register)


# --------------------------------------------------------------------------
# Bad bytes and encodings
# --------------------------------------------------------------------------


def test_a_nul_byte_rejects_the_row_naming_the_column(tmp_path):
    register = build(sources_over(tmp_path, HEADER + "\n" + GOOD + "\nB1,Bad\x00Name,office,freehold,10,1000,340600,366300\n"))
    r = register.rejects.iloc[0]
    assert (r["row"], r["column"], r["field"]) == (3, "Name", "name") and "control character" in r["reason"]
    assert "\x00" not in r["value"]
    assert list(register.assets["asset_id"]) == ["P-G1"]


def test_a_mapped_column_named_twice_is_an_error(tmp_path):
    with pytest.raises(SourceErrors, match=r"column 'GIA': the header at row 1 has this column 2 times \(columns 5, 6\)"):
        build(sources_over(tmp_path, "Ref,Name,Type,Tenure,GIA,GIA,Cost,X,Y\n"))


def test_encoding_advice_names_the_encoding_that_works(tmp_path):
    utf8 = (HEADER + "\nG1,Łódź House,office,freehold,1000,100000,340500,366300\n").encode("utf-8")
    with pytest.raises(SourceErrors, match=r"cannot be decoded as cp1252 .*line 2\); it reads as utf-8: set encoding = 'utf-8'"):
        build(sources_over(tmp_path, utf8, encoding="cp1252"))
    win = (HEADER + "\nG1,Café,office,freehold,1000,£100000,340500,366300\n").encode("cp1252")
    with pytest.raises(SourceErrors, match=r"it reads as cp1252: set encoding = 'cp1252'"):
        build(sources_over(tmp_path, win))
    utf16 = (HEADER + "\n" + GOOD + "\n").encode("utf-16")
    with pytest.raises(SourceErrors, match="is UTF-16 text"):
        build(sources_over(tmp_path, utf16))


# --------------------------------------------------------------------------
# Every number finite and in range
# --------------------------------------------------------------------------


@pytest.mark.parametrize("column, cell", [("GIA", "inf"), ("GIA", "nan"), ("GIA", "1e400"), ("Cost", "9" * 400),
                                          ("GIA", "5000000"), ("Cost", "£900m")])
def test_non_finite_and_implausible_numbers_are_rejected(tmp_path, column, cell):
    values = {"GIA": "1000", "Cost": "100000"} | {column: cell}
    row = f"B1,Bad,office,freehold,{values['GIA']},{values['Cost']},340600,366300"
    register = build(sources_over(tmp_path, HEADER + "\n" + GOOD + "\n" + row + "\n"))
    r = register.rejects
    assert list(r["row"]) == [3] and r.iloc[0]["column"] == column, r.to_string()
    assert list(register.assets["asset_id"]) == ["P-G1"]


@pytest.mark.parametrize("cell", ["inf", "nan", "1e400", "-3"])
def test_non_finite_fte_and_desk_capacity_are_rejected(tmp_path, cell):
    (tmp_path / "t.csv").write_text(f"Ref,Team,Service,FTE\nG1,Team A,back_office,{cell}\nG1,Team B,back_office,4\n")
    path = sources_over(tmp_path, HEADER + ",Desks\n" + GOOD + f",{cell}\n", columns={"workspace_capacity_fte": "Desks"})
    path.write_text(path.read_text() + '[partners.occupiers]\nfile = "t.csv"\n[partners.occupiers.columns]\n'
                    'source_id = "Ref"\nteam = "Team"\nservice = "Service"\nfte = "FTE"\n')
    register = build(path)
    r = register.rejects
    first = r.drop_duplicates(["table", "row"])
    assert first[["table", "row", "column"]].values.tolist() == [["assets", 2, "Desks"], ["occupiers", 2, "FTE"],
                                                                  ["occupiers", 3, "Ref"]], r.to_string()
    assert "its site was rejected" in first.iloc[2]["reason"]
    assert len(register.occupiers) == 0  # team A is bad, team B's site was rejected


# --------------------------------------------------------------------------
# Coordinates and geometries
# --------------------------------------------------------------------------

LATLON = {"method": "xy", "x": "Lon", "y": "Lat", "crs": "EPSG:4326"}
LL_HEADER = "Ref,Name,Type,Tenure,GIA,Cost,Lon,Lat,Postcode"


@pytest.mark.parametrize("lon, lat, words", [
    ("", "", "no coordinates"), ("N/A", "N/A", "no coordinates"),
    ("-2°53'30\"", "53°11'24\"", "degrees, minutes and seconds are not read"),
    ("inf", "53.19", "expected a finite number"), ("1e400", "53.19", "expected a finite number"),
    ("-2.89", "", "only one of the two coordinates"),
    ("-6.26", "53.35", "point is in Ireland, outside Great Britain"),  # Dublin
    ("-4.48", "54.15", "point is in the Isle of Man"),  # Douglas
    ("1.86", "50.95", "point is in continental Europe"),  # Calais: inside the grid's extent
])
def test_unusable_coordinates_reject_the_row(tmp_path, lon, lat, words):
    text = (LL_HEADER + "\nG1,Good,office,freehold,1000,100000,-2.8916,53.1910,\n"
            f"B1,Bad,office,freehold,1000,100000,{lon},{lat},\n")
    register = build(sources_over(tmp_path, text, location=LATLON))
    assert list(register.assets["asset_id"]) == ["P-G1"]
    r = register.rejects
    assert (r["row"] == 3).all() and words in " ".join(r["reason"]), r.to_string()
    assert set(r["field"]) == {"location"}


def test_rows_without_coordinates_fall_back_to_the_postcode_when_described(tmp_path):
    (tmp_path / "pc.csv").write_text("pcds,lat,long\nCH1 2HJ,53.1910,-2.8916\n")
    text = LL_HEADER + "\nG1,Good,office,freehold,1000,100000,N/A,N/A,CH1 2HJ\n"
    path = sources_over(tmp_path, text, location={**LATLON, "fallback": "postcode"}, columns={"postcode": "Postcode"})
    path.write_text('[register]\npostcode_lookup = "pc.csv"\n' + path.read_text())
    register = build(path)
    assert register.assets.loc[0, "location_method"] == "postcode"


def _geojson(tmp_path: Path, geometries: list) -> Path:
    features = [{"type": "Feature", "geometry": g,
                 "properties": {"Ref": f"F{i}", "Name": f"Site {i}", "Type": "clinic", "Tenure": "freehold",
                                "GIA": 100, "Cost": 20000}} for i, g in enumerate(geometries, start=1)]
    text = json.dumps({"type": "FeatureCollection", "features": features})
    return sources_over(tmp_path, text, name="nhs.geojson", location={"method": "geometry"})


def test_null_empty_out_of_range_and_invalid_geometries_never_stop_the_run(tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[-2.90, 53.19], [-2.88, 53.20], [-2.88, 53.19], [-2.90, 53.20],
                                                  [-2.90, 53.19]]]}
    path = _geojson(tmp_path, [{"type": "Point", "coordinates": [-2.8916, 53.1910]}, None,
                               {"type": "Point", "coordinates": []}, {"type": "Point", "coordinates": [500.0, 95.0]},
                               bowtie])
    register = build(path)
    assert sorted(register.assets["asset_id"]) == ["P-F1", "P-F5"]  # the bowtie is repaired
    r = register.rejects.set_index("row")["reason"]
    assert "no geometry to place the site" in r[2] and "no geometry" in r[3]
    assert "cannot be transformed" in r[4] or "outside Great Britain" in r[4]
    assert "repaired" in " ".join(register.warnings["reason"])
    accounted(register)


# --------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------


def test_an_excel_formula_with_no_saved_value_is_rejected_not_read_as_blank(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Sites"
    ws.append(["Ref", "Name", "Type", "Tenure", "GIA", "Cost", "X", "Y"])
    ws.append(["G1", "Good", "office", "freehold", 1000, 100000, 340500, 366300])
    ws.append(["B1", "Bad", "office", "freehold", "=B5*2", 100000, 340600, 366300])  # openpyxl saves no value
    book.save(tmp_path / "p.xlsx")
    path = tmp_path / "partners.toml"
    path.write_text(partner_toml("P", "p.xlsx", sheet="Sites", columns={"source_id": "Ref", "name": "Name"}))
    register = build(path)
    r = register.rejects.iloc[0]
    assert (r["row"], r["column"]) == (3, "GIA") and "formula whose value the workbook never saved" in r["reason"]
    assert r["value"] == "=B5*2"


# --------------------------------------------------------------------------
# Onboarding a real register in the description alone
# --------------------------------------------------------------------------


def test_constant_join_blank_and_absent_fields(tmp_path):
    """A transparency-code register: no running costs, no floor area for land, street number and
    name apart, no tenure column (every asset of this file is a freehold)."""
    text = ("UPRN,Site,No,Street,Area,Kind,X,Y\n"
            "1,Depot Yard,12,High Street,,land,340500,366300\n"
            "2,Old Offices,,Bridge Street,850,office,340900,366300\n"
            "3,Empty Shop,4,Market Street,,office,341300,366300\n")
    path = tmp_path / "partners.toml"
    (tmp_path / "terrier.csv").write_text(text)
    path.write_text("""
[[partners]]
code = "LA"
[partners.assets]
file = "terrier.csv"
[partners.assets.location]
method = "xy"
x = "X"
y = "Y"
crs = "EPSG:27700"
[partners.assets.columns]
source_id = "UPRN"
name = "Site"
address = { join = ["No", "Street"] }
asset_type = "Kind"
tenure = { value = "freehold" }
gia_m2 = { column = "Area", blank = 0 }
running_cost_gbp = { absent = true }
""")
    register = build(path)
    a = register.assets.set_index("asset_id")
    assert a.loc["LA-1", "address"] == "12 High Street" and a.loc["LA-2", "address"] == "Bridge Street"
    assert (a["tenure"] == "freehold").all() and a.loc["LA-1", "gia_m2"] == 0
    assert a["running_cost_estimated"].all() and a["running_cost_gbp"].isna().all()
    r = register.rejects
    assert list(r["row"]) == [4] and r.iloc[0]["field"] == "gia_m2" and r.iloc[0]["column"] == "Area"
    assert "greater than 0" in r.iloc[0]["reason"]  # an office with no floor area is still wrong
    assert (register.warnings["field"] == "running_cost_gbp").sum() == 2

    from estate.register.estimate import estimate_running_costs
    from estate.scenario import EstimateSettings

    done = estimate_running_costs(register, EstimateSettings()).assets.set_index("asset_id")
    assert done.loc["LA-2", "running_cost_gbp"] == 850 * 190.0 and done.loc["LA-1", "running_cost_gbp"] == 0


@pytest.mark.parametrize("spec, words", [
    ('gia_m2 = { absent = true }', "gia_m2 is required and estate cannot estimate it"),
    ('gia_m2 = { column = "GIA", value = 3 }', "give exactly one of column, join, value or absent"),
    ('gia_m2 = { join = ["GIA"] }', "expected a list of two or more column names"),
    ('gia_m2 = { column = "GIA", blank = "estimate" }', "estate can only estimate"),
    ('gia_m2 = { column = "GIA", blank = nan }', "expected a finite number"),
])
def test_bad_field_specs_name_the_key(tmp_path, spec, words):
    path = sources_over(tmp_path, HEADER + "\n" + GOOD + "\n")
    text = path.read_text()
    assert 'gia_m2 = "GIA"' in text
    path.write_text(text.replace('gia_m2 = "GIA"', spec))
    with pytest.raises(SourceErrors) as err:
        load_sources(path)
    assert "partners[1].assets.columns.gia_m2" in str(err.value) and words in str(err.value)


# --------------------------------------------------------------------------
# Files stay where they belong
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "/dev/zero", "sub/../../outside.csv"])
def test_a_sources_file_cannot_name_a_file_outside_its_folder(tmp_path, name):
    d = tmp_path / "inner"
    d.mkdir()
    (tmp_path / "outside.csv").write_text(HEADER + "\n")
    path = sources_over(d, HEADER + "\n")
    path.write_text(path.read_text().replace('file = "p.csv"', f'file = "{name}"'))
    with pytest.raises(SourceErrors) as err:
        load_sources(path)
    text = str(err.value)
    assert "key 'partners[1].assets.file'" in text and "outside the folders this file may read" in text
    assert "root:" not in text  # nothing of /etc/passwd is quoted


def test_a_symbolic_link_out_of_the_folder_is_refused_and_devices_never_read(tmp_path):
    d = tmp_path / "inner"
    d.mkdir()
    (d / "link.csv").symlink_to("/etc/passwd")
    path = sources_over(d, HEADER + "\n")
    path.write_text(path.read_text().replace('file = "p.csv"', 'file = "link.csv"'))
    with pytest.raises(SourceErrors, match="outside the folders"):
        load_sources(path)
    (d / "zero.csv").symlink_to("/dev/zero")
    path.write_text(path.read_text().replace('file = "link.csv"', 'file = "zero.csv"').replace(
        "[[partners]]", '[register]\nallowed_folders = ["/dev"]\n\n[[partners]]'))
    with pytest.raises(SourceErrors, match="not a regular file"):
        load_sources(path)


# --------------------------------------------------------------------------
# Scenario values
# --------------------------------------------------------------------------


@pytest.mark.parametrize("old, new, key", [
    ("share = 0.85 }", "share = nan }", "services.employment.standard.share"),
    ("gap = 0.005", "gap = nan", "plan.gap"),
    ("time_limit_seconds = 900.0", "time_limit_seconds = inf", "plan.time_limit_seconds"),
    ("circuity = 1.3", "circuity = nan", "access.circuity"),
    ("max_move_km = 10.0", "max_move_km = inf", "plan.max_move_km"),
    ("car = 35.0", "car = inf", "access.speed_kmh.car"),
    ("walk = 4.8", "walk = 4800", "access.speed_kmh.walk"),
    ("study_area_buffer_km = 5.0", "study_area_buffer_km = -inf", "data.study_area_buffer_km"),
    ("discount_rate = 0.035", "discount_rate = nan", "finance.discount_rate"),
    ("receipts = [-0.3, 0.1]", "receipts = [nan, 0.1]", "finance.sensitivity.receipts"),
    ("relocation_gbp_per_fte = 1500.0", "relocation_gbp_per_fte = 1e400", "finance.relocation_gbp_per_fte"),
    ('zones = "../data/demand/zones.gpkg"', 'zones = "/etc/passwd"', "data.zones"),
    ('name = "cheshire-warrington"', 'name = "../../escape"', "name"),
    ("first_year = 2027", "first_yera = 2027", "did you mean 'first_year'"),
])
def test_non_finite_and_out_of_range_scenario_values_name_the_key(tmp_path, old, new, key):
    from conftest import scenario_copy
    from estate.scenario import load_scenario

    path = scenario_copy(tmp_path, "s.toml", (old, new))
    with pytest.raises(SourceErrors) as err:
        load_scenario(path)
    text = str(err.value)
    assert "s.toml" in text and key in text, text
    assert "partner sources" not in text and "column" not in text


def test_register_sea_and_dedupe_settings_must_be_finite(tmp_path):
    path = sources_over(tmp_path, HEADER + "\n" + GOOD + "\n")
    path.write_text("[register]\nsea_tolerance_m = nan\ndedupe_distance_m = inf\n" + path.read_text())
    with pytest.raises(SourceErrors) as err:
        load_sources(path)
    assert "register.sea_tolerance_m" in str(err.value) and "register.dedupe_distance_m" in str(err.value)


def test_zone_populations_must_be_finite(tmp_path):
    from estate.demand import load_zones

    zones = gpd.GeoDataFrame({"zone_id": ["A", "B", "C", "D"], "population": [100.0, np.inf, np.nan, 2e9]},
                             geometry=[Point(340000 + i * 1000, 366000).buffer(400) for i in range(4)],
                             crs="EPSG:27700")
    zones.to_file(tmp_path / "z.gpkg", driver="GPKG")
    demand = load_zones(tmp_path / "z.gpkg")
    assert list(demand.zones["zone_id"]) == ["A"]
    assert sorted(demand.rejects["zone_id"]) == ["B", "C", "D"]


# --------------------------------------------------------------------------
# The study area, guardrails and clear errors under `estate plan`
# --------------------------------------------------------------------------


def _town_with_extra_row(tmp_path: Path, row: str, extra: str = "") -> Path:
    from conftest import write_town

    scenario = write_town(tmp_path, extra)
    assets = tmp_path / "town" / "assets_C.csv"
    assets.write_text(assets.read_text() + row + "\n")
    return scenario


def test_a_point_outside_the_study_area_is_rejected_with_its_distance_and_a_swap_hint(tmp_path):
    from estate.pipeline import compute_access
    from estate.scenario import load_scenario

    # Easting and northing of (405000, 375000), inside the town, given the wrong way round.
    scenario = _town_with_extra_row(tmp_path, "C9,Swapped,office,freehold,500,50000,400000,375000,405000,,,,")
    run = compute_access(load_scenario(scenario))
    r = run.register.rejects
    reason = r.loc[(r["partner"] == "C") & (r["row"] == 10), "reason"].iloc[0]
    assert "km outside the study area (the demand zones of zones.gpkg plus 5 km)" in reason
    assert "with easting and northing swapped it would be inside" in reason
    km = float(reason.split("point is ")[1].split(" km")[0])
    assert km == pytest.approx(np.hypot(400_000 - 375_000, 405_000 - 380_000) / 1000, abs=0.1)  # to the corner
    assert "C-C9" not in set(run.register.assets["asset_id"])


def test_a_guardrail_for_an_unknown_partner_is_an_error(tmp_path, capsys):
    from conftest import write_town

    scenario = write_town(tmp_path, "\n[plan.guardrails]\nNOPE = { max_disposal_share = 0.5 }\n")
    assert main(["plan", str(scenario), "--out", str(tmp_path / "o"), "--maps", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "key 'plan.guardrails.NOPE': no partner 'NOPE' in partners.toml (partners: C, H, P)" in err
    assert not (tmp_path / "o").exists()


def test_cli_errors_are_one_line_with_status_2(tmp_path, capsys):
    from conftest import REPO

    (tmp_path / "afile").write_text("x")
    cases = [
        (["plan", str(REPO / "models")], "is a folder; name a scenario file in it"),
        (["plan", str(REPO / "models/cheshire-warrington.toml"), "--out", str(tmp_path / "afile")],
         "is a file; the output must be a folder"),
        (["register", "--sources", str(REPO / "data/assets/partners.toml"), "--out", str(tmp_path / "afile")],
         "is a file; the output must be a folder"),
    ]
    for args, words in cases:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, err
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.docx").write_text("years of work")
    assert main(["register", "--sources", str(REPO / "data/assets/partners.toml"), "--out", str(other)]) == 2
    assert "holds files estate did not write (thesis.docx); it is never replaced" in capsys.readouterr().err
    assert sorted(p.name for p in other.iterdir()) == ["thesis.docx"]


def test_damaged_saved_plans_are_errors_not_tracebacks(town_plan, tmp_path, capsys):
    import shutil

    _, run, _, _ = town_plan
    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    (broken / "plan.gpkg").write_bytes(b"not a geopackage")
    for args in (["map", "plan", str(broken)], ["map", "access", str(broken)]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "plan.gpkg: cannot be read as a plan written by estate" in err and "Traceback" not in err
    (broken / "plan_summary.json").write_text("{ not json")
    assert main(["finance", str(broken)]) == 2
    assert "plan_summary.json: damaged" in capsys.readouterr().err
    (broken / "restricted" / "plan.gpkg").unlink()
    assert main(["finance", str(broken), "--scenario", str(run.parent / "scenario.toml")]) == 2
    assert "restricted/plan.gpkg: not found" in capsys.readouterr().err


def test_an_engine_error_is_said_in_estate_terms():
    from estate.plan.compile import _in_estate_terms

    assert "a team's workspace need is not a positive number" in _in_estate_terms("weights must be finite and > 0")


def test_a_runaway_quote_is_caught_even_when_rows_are_shorter_than_the_header(tmp_path):
    """Exports that trim empty trailing columns give rows shorter than the header; the swallowed rows
    are judged against the file's own rows, so they are still seen as rows."""
    header = HEADER + ",Spare1,Spare2,Spare3,Spare4"
    body = (GOOD + "\n" + 'G2,"Second office,office,freehold,1000,100000,340600,366300\n'
            "G3,Office 3,office,freehold,1000,100000,340700,366300\n"
            'G4,Office 4 "annex",office,freehold,1000,100000,340800,366300\n'
            "G5,Office 5,office,freehold,1000,100000,340900,366300\n")
    register = build(sources_over(tmp_path, header + "\n" + body))
    assert list(register.assets["asset_id"]) == ["P-G1", "P-G5"]
    reject = register.rejects.iloc[0]
    assert reject["row"] == 3 and "unbalanced quote" in reject["reason"] and "lines 3–5" in reject["reason"]
    accounted(register)


def test_a_nan_coordinate_in_a_geometry_rejects_its_row(tmp_path):
    text = ('{"type": "FeatureCollection", "features": ['
            '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.8916, 53.1910]}, '
            '"properties": {"Ref": "F1", "Name": "Good", "Type": "clinic", "Tenure": "freehold", "GIA": 100, "Cost": 20000}}, '
            '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [NaN, Infinity]}, '
            '"properties": {"Ref": "F2", "Name": "Bad", "Type": "clinic", "Tenure": "freehold", "GIA": 100, "Cost": 20000}}]}')
    register = build(sources_over(tmp_path, text, name="nhs.geojson", location={"method": "geometry"}))
    assert list(register.assets["asset_id"]) == ["P-F1"]
    assert list(register.rejects["row"]) == [2]
    accounted(register)
    gdf = gpd.GeoDataFrame({"pid": ["E1", "E2"], "pname": ["Good", "Bad"], "ptype": ["office"] * 2,
                            "ptenure": ["freehold"] * 2, "area": [900.0] * 2, "cost": [110000.0] * 2},
                           geometry=[Point(340500, 366300), Point(float("nan"), 366300)], crs="EPSG:27700")
    gdf.to_file(tmp_path / "e.gpkg", driver="GPKG")
    path = tmp_path / "partners.toml"
    path.write_text(partner_toml("E", "e.gpkg", location={"method": "geometry"},
                                 columns={"source_id": "pid", "name": "pname", "asset_type": "ptype",
                                          "tenure": "ptenure", "gia_m2": "area", "running_cost_gbp": "cost"}))
    register = build(path)
    assert list(register.assets["asset_id"]) == ["E-E1"] and list(register.rejects["row"]) == [2]


def test_zones_with_a_nan_vertex_or_no_geometry(tmp_path):
    from shapely.geometry import Polygon

    from estate.demand import load_zones

    zones = gpd.GeoDataFrame({"zone_id": ["A", "B"], "population": [100.0, 200.0]},
                             geometry=[Point(340000, 366000).buffer(400),
                                       Polygon([(0, 0), (1000, float("nan")), (1000, 1000), (0, 0)])], crs="EPSG:27700")
    zones.to_file(tmp_path / "z.gpkg", driver="GPKG")
    demand = load_zones(tmp_path / "z.gpkg")
    assert list(demand.zones["zone_id"]) == ["A"] and list(demand.rejects["zone_id"]) == ["B"]
    (tmp_path / "z.csv").write_text("zone_id,population\nA,100\n")
    with pytest.raises(SourceErrors, match="has no geometry: demand zones must be a polygon or point layer"):
        load_zones(tmp_path / "z.csv")


def test_a_very_long_value_is_a_value(tmp_path):
    name = "x" * 200_000
    register = build(sources_over(tmp_path, HEADER + "\n" + GOOD.replace("Good Office", name) + "\n"))
    assert register.assets.loc[0, "name"] == name


def test_the_areas_layer_error_quotes_nothing_of_the_file(tmp_path):
    path = sources_over(tmp_path, HEADER + "\n" + GOOD + "\n")
    (tmp_path / "areas.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.89, 53.19]},
         "properties": {"root:x:0:0:root:/root:/bin/bash": 1}}]}))
    path.write_text('[register]\nareas = "areas.geojson"\nareas_code_column = "LAD22CD"\n\n' + path.read_text())
    with pytest.raises(SourceErrors) as err:
        build(path)
    assert "LAD22CD" in str(err.value) and "root:x" not in str(err.value)


def test_solve_refuses_non_finite_numbers(tmp_path, capsys):
    (tmp_path / "s.csv").write_text("site_id\nA\n")
    (tmp_path / "d.csv").write_text("zone_id,weight\nz,1\n")
    (tmp_path / "c.csv").write_text("zone_id,site_id,cost\nz,A,1\n")
    base = ["solve", "--sites", str(tmp_path / "s.csv"), "--demand", str(tmp_path / "d.csv"), "--costs",
            str(tmp_path / "c.csv"), "--out", str(tmp_path / "o")]
    for extra in (["--objective", "max-cover", "--p", "1", "--max-cost", "nan"],
                  ["--objective", "min-cost", "--gap", "inf"], ["--objective", "min-cost", "--time-limit", "inf"]):
        assert main(base + extra) == 2, extra
        assert "is not a finite number" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
