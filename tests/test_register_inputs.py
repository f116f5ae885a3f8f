"""Every class of bad input gets a reject or an error naming file, row and column."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from estate._errors import SourceErrors
from estate.register import build_register, load_sources

from conftest import BNG_XY, LOOKUP_POSTCODES, LOOKUP_UPRNS, partner_toml

HEADER = "Ref,Name,Type,Tenure,GIA,Cost,X,Y,Postcode,Opened,Listed"
GOOD = "G1,Good Office,office,freehold,1000,100000,340500,366300,CH1 2HJ,2001-04-01,no"


def one_partner(tmp_path: Path, body: str, *, crs: str = "EPSG:27700", method: str = "xy",
                extra: dict | None = None, header: str = HEADER) -> Path:
    """A single-partner sources file over a CSV with ``header`` and ``body``."""
    (tmp_path / "postcodes.csv").write_text(LOOKUP_POSTCODES, encoding="utf-8")
    (tmp_path / "uprns.csv").write_text(LOOKUP_UPRNS, encoding="utf-8")
    (tmp_path / "p.csv").write_text(header + "\n" + body + "\n", encoding="utf-8")
    location = {**BNG_XY, "crs": crs} if method == "xy" else {"method": method}
    columns = {"postcode": "Postcode", "lease_break_date": "Opened", "listed": "Listed", **(extra or {})}
    toml = ('[register]\npostcode_lookup = "postcodes.csv"\nuprn_lookup = "uprns.csv"\n'
            + partner_toml("P", "p.csv", columns=columns, location=location, date_format="%Y-%m-%d"))
    path = tmp_path / "partners.toml"
    path.write_text(toml, encoding="utf-8")
    return path


def rejects_of(path: Path):
    register = build_register(load_sources(path))
    return register, register.rejects


def only_reject(rejects, row: int, column: str, words: str) -> None:
    hit = rejects[(rejects["row"] == row) & (rejects["column"] == column)]
    assert len(hit) >= 1, rejects.to_string()
    assert words in hit.iloc[0]["reason"], hit.iloc[0]["reason"]
    assert hit.iloc[0]["file"] == "p.csv"


@pytest.mark.parametrize(
    "bad_row, column, words",
    [
        ("B1,Bad,office,freehold,TBC,100000,340500,366300,,,", "GIA", "expected a floor area"),
        ("B1,Bad,office,freehold,1000,-5,340500,366300,,,", "Cost", "must not be negative"),
        ("B1,Bad,office,freehold,0,100,340500,366300,,,", "GIA", "greater than 0"),
        ("B1,Bad,warehouse,freehold,1000,100,340500,366300,,,", "Type", "expected one of"),
        ("B1,Bad,office,rented,1000,100,340500,366300,,,", "Tenure", "expected one of"),
        ("B1,,office,freehold,1000,100,340500,366300,,,", "Name", "required value is blank"),
        ("B1,Bad,office,freehold,1000,100,340500,366300,,31/13/2020,", "Opened", "expected a date"),
        ("B1,Bad,office,freehold,1000,100,340500,366300,,,maybe", "Listed", "expected yes/no"),
        ("B1,Bad,office,freehold,1000,100,abc,366300,,,", "X", "expected a finite number"),
        # Liverpool Bay, well out in the Irish Sea
        ("B1,Bad,office,freehold,1000,100,300000,400000,,,", "Y", "in the sea"),
        # beyond the British National Grid's extent
        ("B1,Bad,office,freehold,1000,100,900000,366300,,,", "Y", "outside Great Britain"),
        ("B1,Bad,office,freehold,1000,100,,,,,", "X", "no coordinates"),
    ],
)
def test_bad_asset_values_are_rejected_with_file_row_column(tmp_path, bad_row, column, words):
    register, rejects = rejects_of(one_partner(tmp_path, GOOD + "\n" + bad_row))
    only_reject(rejects, 3, column, words)
    assert list(register.assets["asset_id"]) == ["P-G1"]


def test_swapped_latitude_and_longitude(tmp_path):
    body = ("G1,Good,office,freehold,1000,100000,-2.8916,53.1910,,,\n"
            "B1,Swapped,office,freehold,1000,100000,53.1910,-2.8916,,,")
    _, rejects = rejects_of(one_partner(tmp_path, body, crs="EPSG:4326"))
    only_reject(rejects, 3, "Y", "appear swapped")
    assert len(rejects) == 1


def test_wgs84_outside_great_britain(tmp_path):
    body = "B1,Paris,office,freehold,1000,100000,2.35,48.85,,,"  # Paris
    _, rejects = rejects_of(one_partner(tmp_path, body, crs="EPSG:4326"))
    only_reject(rejects, 2, "Y", "outside Great Britain")


def test_duplicate_ids_reject_every_copy(tmp_path):
    body = GOOD + "\nD1,One,office,freehold,10,1000,340600,366300,,,\nD1,Two,office,freehold,10,1000,341000,366300,,,"
    register, rejects = rejects_of(one_partner(tmp_path, body))
    dup = rejects[rejects["reason"].str.contains("duplicate id")]
    assert sorted(dup["row"]) == [3, 4]
    assert set(dup["column"]) == {"Ref"}
    assert "rows 3, 4" in dup.iloc[0]["reason"]
    assert list(register.assets["asset_id"]) == ["P-G1"]


def test_unknown_postcode_rejects_when_located_by_postcode(tmp_path):
    body = GOOD + "\nB1,Bad,office,freehold,10,1000,,,ZZ9 9ZZ,,"
    _, rejects = rejects_of(one_partner(tmp_path, body, method="postcode"))
    only_reject(rejects, 3, "Postcode", "not found in postcodes.csv")


def test_malformed_postcode_rejects_when_located_by_postcode(tmp_path):
    body = GOOD + "\nB1,Bad,office,freehold,10,1000,,,NOT A POSTCODE,,"
    _, rejects = rejects_of(one_partner(tmp_path, body, method="postcode"))
    only_reject(rejects, 3, "Postcode", "no usable postcode")


def test_unknown_uprn_rejects(tmp_path):
    header = HEADER + ",UPRN"
    body = (GOOD + ",100010001\n" + "B1,Bad,office,freehold,10,1000,,,,,,999999999")
    path = one_partner(tmp_path, body, method="uprn", extra={"uprn": "UPRN"}, header=header)
    register, rejects = rejects_of(path)
    only_reject(rejects, 3, "UPRN", "UPRN not found in uprns.csv")
    assert register.assets.loc[0, "geometry"].x == pytest.approx(340600.0)


def test_postcode_far_from_coordinates_is_a_warning_not_a_reject(tmp_path):
    body = "G1,Good,office,freehold,1000,100000,340500,366300,WA1 1UH,,"  # Warrington postcode
    register, rejects = rejects_of(one_partner(tmp_path, body))
    assert rejects.empty
    warning = register.warnings[register.warnings["column"] == "Postcode"]
    assert "km from the given location" in warning.iloc[0]["reason"]
    assert len(register.assets) == 1


def test_cost_per_m2_outlier_is_a_warning(tmp_path):
    body = "G1,Cheap,office,freehold,1000,100,340500,366300,,,"
    register, rejects = rejects_of(one_partner(tmp_path, body))
    assert rejects.empty and len(register.assets) == 1
    assert "outside the usual" in register.warnings.iloc[0]["reason"]


def test_missing_required_column_is_an_error_naming_file_and_column(tmp_path):
    header = HEADER.replace("GIA", "Floor area")
    path = one_partner(tmp_path, GOOD, header=header)
    with pytest.raises(SourceErrors) as err:
        build_register(load_sources(path))
    text = str(err.value)
    assert "p.csv" in text and "'GIA'" in text and "row 1" in text


def test_unreadable_file_is_an_error(tmp_path):
    path = one_partner(tmp_path, GOOD)
    (tmp_path / "p.csv").write_bytes(b"Ref,Name\n\x81\x8dgarbage\x90\x9d")  # neither UTF-8 nor Windows-1252
    with pytest.raises(SourceErrors) as err:
        build_register(load_sources(path))
    text = str(err.value)
    assert "p.csv" in text and "cannot be decoded as utf-8 (byte 0x81 at offset 9, line 2)" in text
    assert "not text in utf-8 or cp1252" in text


def test_missing_file_is_an_error(tmp_path):
    path = one_partner(tmp_path, GOOD)
    (tmp_path / "p.csv").unlink()
    with pytest.raises(SourceErrors, match="p.csv: file not found"):
        build_register(load_sources(path))


def test_corrupt_excel_and_wrong_sheet_are_errors(mini_sources):
    d = mini_sources.parent
    text = mini_sources.read_text().replace('sheet = "Sites"', 'sheet = "Estate"')
    mini_sources.write_text(text)
    with pytest.raises(SourceErrors) as err:
        build_register(load_sources(mini_sources))
    assert "charlie.xlsx" in str(err.value) and "no sheet 'Estate'" in str(err.value)
    assert "['Sites', 'Notes']" in str(err.value)

    (d / "charlie.xlsx").write_bytes(b"this is not a workbook")
    with pytest.raises(SourceErrors, match="charlie.xlsx: cannot be read as an Excel workbook"):
        build_register(load_sources(mini_sources))


def test_all_file_level_errors_are_reported_together(mini_sources):
    d = mini_sources.parent
    (d / "alpha.csv").unlink()
    (d / "delta.geojson").write_text("{not json")
    with pytest.raises(SourceErrors) as err:
        build_register(load_sources(mini_sources))
    assert len(err.value.errors) == 2
    assert {Path(e.file).name for e in err.value.errors} == {"alpha.csv", "delta.geojson"}


@pytest.mark.parametrize(
    "replace, expect",
    [
        (('area_unit = "sqft"', 'area_unit = "acres"'), "area_unit"),
        (('kind = "nhs"', 'kind = "hospital"'), "kind"),
        (('sheet = "Sites"\n', ''), "sheet"),
        (('crs = "EPSG:4326"', 'crs = "EPSG:999999"'), "crs"),
        (('gia_m2 = "GIA"', 'gia_m3 = "GIA"'), "gia_m3"),
        (('FH = "freehold"', 'FH = "owned"'), "owned"),
        (('dedupe_distance_m = 50', 'dedupe_distance_m = -1'), "dedupe_distance_m"),
    ],
)
def test_bad_descriptions_name_the_key(mini_sources, replace, expect):
    text = mini_sources.read_text()
    assert replace[0] in text
    mini_sources.write_text(text.replace(replace[0], replace[1], 1))
    with pytest.raises(SourceErrors) as err:
        load_sources(mini_sources)
    assert "partners.toml" in str(err.value) and expect in str(err.value)


def test_excel_header_offset_and_native_cells(tmp_path):
    """Excel date cells and numeric ids are read as they are; row numbers are the sheet's."""
    import datetime as dt

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Terrier"
    ws.append(["Title"])
    ws.append([])
    ws.append(["Ref", "Name", "Type", "Tenure", "GIA", "Cost", "X", "Y", "Break"])
    ws.append([7, "Seven", "office", "leasehold", "1,000", "£100,000", 340500, 366300, dt.datetime(2030, 3, 31)])
    ws.append([])
    ws.append([8, "Eight", "office", "leasehold", 1000, 100000, 340900, 366300, "soon"])
    book.save(tmp_path / "t.xlsx")
    (tmp_path / "partners.toml").write_text(partner_toml(
        "X", "t.xlsx", sheet="Terrier", header_row=3, columns={"lease_break_date": "Break"}))
    register = build_register(load_sources(tmp_path / "partners.toml"))
    assert list(register.assets["asset_id"]) == ["X-7"]
    assert str(register.assets.loc[0, "lease_break_date"].date()) == "2030-03-31"
    assert register.assets.loc[0, "running_cost_gbp"] == 100000
    rej = register.rejects
    assert list(rej["row"]) == [6] and rej.iloc[0]["column"] == "Break"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_csv_with_byte_order_mark(tmp_path, encoding):
    path = one_partner(tmp_path, GOOD)
    csv = tmp_path / "p.csv"
    csv.write_bytes(b"\xef\xbb\xbf" + csv.read_bytes())
    path.write_text(path.read_text().replace('file = "p.csv"', f'file = "p.csv"\nencoding = "{encoding}"'))
    register, rejects = rejects_of(path)
    assert list(register.assets["asset_id"]) == ["P-G1"] and rejects.empty


def test_windows_1252_pound_signs(tmp_path):
    path = one_partner(tmp_path, "G1,Café Hub,office,freehold,1000,£100000,340500,366300,,,")
    csv = tmp_path / "p.csv"
    csv.write_bytes(csv.read_text(encoding="utf-8").encode("cp1252"))
    path.write_text(path.read_text().replace('file = "p.csv"', 'file = "p.csv"\nencoding = "cp1252"'))
    register, _ = rejects_of(path)
    assert register.assets.loc[0, "name"] == "Café Hub"
    assert register.assets.loc[0, "running_cost_gbp"] == 100_000
