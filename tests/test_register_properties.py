"""Property: whatever mix of good and bad rows comes in, no row is lost or counted twice, and no
hostile file (non-finite numbers, stray quotes, NUL bytes, any encoding or line ending, broken
coordinates or geometries) crashes the build."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from estate.register import build_register, load_sources

from conftest import partner_toml

GOOD = {"gia": "100", "cost": "£20,000", "x": "340500", "type": "office"}
BAD = {
    "gia": ["TBC", "-5", "0"],
    "cost": ["-1", "lots"],
    "x": ["", "abc", "900000"],
    "type": ["warehouse"],
}

row = st.fixed_dictionaries({
    "field": st.sampled_from([None, *BAD]),
    "choice": st.integers(0, 2),
    "dup": st.booleans(),
    "partner": st.sampled_from(["A", "B"]),
    "name": st.sampled_from(["Delamere House", "Town Hall", "Depot"]),
})


def _write(d: Path, rows: list[dict]) -> Path:
    """Two partners' CSVs from ``rows``; returns the sources file."""
    lines = {"A": [], "B": []}
    for i, r in enumerate(rows):
        values = dict(GOOD)
        if r["field"]:
            options = BAD[r["field"]]
            values[r["field"]] = options[r["choice"] % len(options)]
        ref = "R0" if r["dup"] else f"R{i + 1}"
        # Spread sites 200 m apart so only deliberate neighbours are near each other.
        x = values["x"] if r["field"] == "x" else str(340000 + 200 * i)
        lines[r["partner"]].append(f"{ref},{r['name']},{values['type']},freehold,{values['gia']},"
                                  f"\"{values['cost']}\",{x},366300")
    partners = []
    for code, body in lines.items():
        (d / f"{code}.csv").write_text("Ref,Name,Type,Tenure,GIA,Cost,X,Y\n" + "\n".join(body) + "\n")
        partners.append(partner_toml(code, f"{code}.csv"))
    path = d / "partners.toml"
    path.write_text("\n".join(partners))
    return path


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, min_size=1, max_size=12))
def test_rows_in_equal_assets_plus_merged_plus_rejected(rows):
    d = Path(tempfile.mkdtemp())
    try:
        register = build_register(load_sources(_write(d, rows)))
    finally:
        shutil.rmtree(d)
    c = register.counts
    assert c["asset_rows"].sum() == len(rows)
    assert len(rows) == len(register.assets) + len(register.merges) + c["asset_rows_rejected"].sum()
    # Every row with no fault and a unique id survives, as a site or merged into one.
    refs = [("R0" if r["dup"] else f"R{i + 1}", r["partner"]) for i, r in enumerate(rows)]
    survivors = set(register.assets["asset_id"]) | set(register.merges["merged_id"])
    for (ref, partner), r in zip(refs, rows):
        unique = sum(1 for (f, p) in refs if f == ref and p == partner) == 1
        if r["field"] is None and unique:
            assert f"{partner}-{ref}" in survivors


# --------------------------------------------------------------------------
# Hostile files: whatever bytes come in, no crash, and every row and line is accounted for
# --------------------------------------------------------------------------

import csv  # noqa: E402
import json  # noqa: E402

import numpy as np  # noqa: E402

from estate._errors import SourceErrors  # noqa: E402

NASTY = ["", "inf", "-inf", "nan", "NaN", "1e400", "9" * 400, "-0", "1,000", "£1.2m", "12,500 sq ft", "TBC",
         "N/A", '"', '""', 'a"b', "x\x00y", "\t", "=1+1", "@SUM(A1)", "Café", "Łódź", "line\nbreak", ",", ";",
         "53°11'24\"", "340500", "366300", "-2.89", "53.19", "office", "freehold", "leasehold"]
cell = st.one_of(st.sampled_from(NASTY), st.text(max_size=8),
                 st.floats(allow_nan=True, allow_infinity=True).map(repr))
COLUMNS = ["Ref", "Name", "Type", "Tenure", "GIA", "Cost", "X", "Y"]


def _account(register) -> None:
    f = register.files
    assert (f["lines"] == f["header"] + f["blank"] + f["records"] + f["continuation"]).all(), f.to_string()
    c = register.counts
    assert c["asset_rows"].sum() == len(register.assets) + len(register.merges) + c["asset_rows_rejected"].sum()
    numbers = register.assets[["gia_m2", "running_cost_gbp"]].to_numpy(float)
    assert np.isfinite(numbers).all()
    xy = np.c_[register.assets.geometry.x, register.assets.geometry.y]
    assert np.isfinite(xy).all()


def _build_or_file_error(path):
    """The register, or None when the file as a whole is refused with a clear SourceErrors."""
    try:
        return build_register(load_sources(path))
    except SourceErrors as exc:
        assert "Traceback" not in str(exc) and str(exc)
        return None


def _csv_line(values: list[str]) -> str:
    """A record with each value written raw (stray quotes and delimiters stay as they are)."""
    return ",".join(values)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(cell, min_size=6, max_size=10), min_size=1, max_size=8),
       quoted=st.booleans(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
       ending=st.sampled_from(["\n", "\r\n", "\r"]))
def test_hostile_csv_never_crashes_and_every_line_is_accounted_for(rows, quoted, encoding, ending):
    d = Path(tempfile.mkdtemp())
    try:
        lines = [",".join(COLUMNS)]
        for i, r in enumerate(rows):
            values = [f"R{i}", *r[1:]]
            if quoted:
                values = ['"' + v.replace('"', '""') + '"' for v in values]
            lines.append(_csv_line(values))
        data = ending.join(lines) + ending
        (d / "p.csv").write_bytes(data.encode(encoding.replace("-sig", ""), errors="replace"))
        (d / "partners.toml").write_text(
            partner_toml("P", "p.csv", columns={"source_id": "Ref", "name": "Name"}, encoding=encoding)
, encoding="utf-8")
        register = _build_or_file_error(d / "partners.toml")
        if register is not None:
            _account(register)
            assert register.files.iloc[0]["lines"] == len(data.replace("\r\n", "\n").replace("\r", "\n").split("\n")) - 1
    finally:
        shutil.rmtree(d)


LATLON = {"method": "xy", "x": "Lon", "y": "Lat", "crs": "EPSG:4326", "fallback": "postcode"}
coordinate = st.one_of(st.sampled_from(["", "N/A", "inf", "nan", "1e400", "53°11'24\"N", "-2 53 30", "-2.8916",
                                        "53.1910", "500", "-91", "0"]),
                       st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(max_size=6))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(coordinate, coordinate, st.sampled_from(["CH1 2HJ", "", "ZZ9 9ZZ", "nope"])),
                min_size=1, max_size=8))
def test_hostile_latitude_longitude_files_never_crash(points):
    d = Path(tempfile.mkdtemp())
    try:
        (d / "pc.csv").write_text("pcds,lat,long\nCH1 2HJ,53.1910,-2.8916\n")
        with open(d / "p.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["Ref", "Name", "Type", "Tenure", "GIA", "Cost", "Lon", "Lat", "Postcode"])
            for i, (lon, lat, pc) in enumerate(points):
                w.writerow([f"R{i}", f"Site {i}", "office", "freehold", "100", "20000", lon, lat, pc])
        (d / "partners.toml").write_text(
            '[register]\npostcode_lookup = "pc.csv"\n'
            + partner_toml("P", "p.csv", columns={"postcode": "Postcode"}, location=LATLON), encoding="utf-8")
        register = _build_or_file_error(d / "partners.toml")
        assert register is not None
        _account(register)
        assert register.counts["asset_rows"].sum() == len(points)
    finally:
        shutil.rmtree(d)


coord = st.one_of(st.floats(min_value=-1e6, max_value=1e6), st.just(float("nan")),
                  st.sampled_from([-2.89, 53.19, 500.0, -500.0, 0.0]))
geometry = st.one_of(
    st.none(),
    st.just({"type": "Point", "coordinates": []}),
    st.tuples(coord, coord).map(lambda c: {"type": "Point", "coordinates": list(c)}),
    st.lists(st.tuples(coord, coord), min_size=4, max_size=6).map(
        lambda ring: {"type": "Polygon", "coordinates": [[list(p) for p in ring] + [list(ring[0])]]}),
    st.just({"type": "Polygon", "coordinates": [[[-2.90, 53.19], [-2.88, 53.20], [-2.88, 53.19], [-2.90, 53.20],
                                                 [-2.90, 53.19]]]}),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(geometry, min_size=1, max_size=6))
def test_hostile_geometries_never_crash(geometries):
    d = Path(tempfile.mkdtemp())
    try:
        features = [{"type": "Feature", "geometry": g,
                     "properties": {"Ref": f"F{i}", "Name": f"Site {i}", "Type": "clinic", "Tenure": "freehold",
                                    "GIA": 100, "Cost": 20000}} for i, g in enumerate(geometries)]
        text = json.dumps({"type": "FeatureCollection", "features": features}).replace("NaN", "null")
        (d / "f.geojson").write_text(text)
        (d / "partners.toml").write_text(partner_toml("P", "f.geojson", location={"method": "geometry"}))
        register = _build_or_file_error(d / "partners.toml")
        if register is not None:
            _account(register)
    finally:
        shutil.rmtree(d)
