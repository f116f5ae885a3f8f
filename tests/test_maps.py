"""Tests for estate.maps: the register map's layers, legends, markers and privacy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from branca.colormap import StepColormap

from estate import maps
from estate.maps import _base as mb
from estate.register.schema import ASSET_COLUMNS, BNG, WGS84

SECRET_NAME = "Larkspur House Women's Refuge"
SECRET_XY = (352_345.0, 371_234.0)  # well outside the other assets' bounding box

# name, partner, partners, asset_type, gia_m2, running_cost_gbp, x, y
_ROWS = [
    ("Cheap Depot", "CWAC", "CWAC", "depot", 4_000.0, 60_000.0, 340_100.0, 366_100.0),
    ("Dear Clinic", "CWAC", "CWAC;NHS", "clinic", 900.0, 720_000.0, 340_900.0, 366_400.0),
    ("Market Car Park", "CWAC", "CWAC", "car_park", 0.0, 15_000.0, 341_200.0, 366_800.0),
    ("Blacon Police", "POL", "POL", "police_station", 1_500.0, 300_000.0, 338_900.0, 367_700.0),
    ("Fish & Chips <Depot>", "NHS", "NHS", "office", 2_500.0, 250_000.0, 341_800.0, 365_300.0),
    (SECRET_NAME, "CWAC", "CWAC", "refuge", 600.0, 40_000.0, *SECRET_XY),
]


def _assets(rows: list[tuple] = _ROWS) -> gpd.GeoDataFrame:
    """A small register in schema.ASSET_COLUMNS order, the last row sensitive."""
    records = []
    for i, (name, partner, partners, kind, gia, cost, x, y) in enumerate(rows):
        records.append(
            {
                "asset_id": f"{partner}-{i + 1:03d}",
                "partner": partner,
                "partners": partners,
                "name": name,
                "address": f"{i + 1} Example Street",
                "locality": "Chester",
                "postcode": "CH1 1AA",
                "uprn": None,
                "authority": "E06000050",
                "asset_type": kind,
                "tenure": "freehold",
                "lease_break_date": pd.NaT,
                "lease_expiry_date": pd.NaT,
                "gia_m2": gia,
                "running_cost_gbp": cost,
                "backlog_maintenance_gbp": 12_345.0,
                "market_value_gbp": 1_234_567.0,
                "condition": "B",
                "workspace_capacity_fte": None,
                "listed": False,
                "statutory": False,
                "must_keep": False,
                "sensitive": name == SECRET_NAME,
                "services": "back_office;customer_contact",
                "location_method": "xy",
                "source_file": "assets.csv",
                "source_row": i + 2,
                "merged_from": "",
                "geometry": None,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(ASSET_COLUMNS))
    xy = [(r[6], r[7]) for r in rows]
    geometry = gpd.points_from_xy([p[0] for p in xy], [p[1] for p in xy])
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=geometry, crs=BNG)


def _latlon(x: float, y: float) -> tuple[float, float]:
    point = gpd.GeoSeries(gpd.points_from_xy([x], [y]), crs=BNG).to_crs(WGS84).iloc[0]
    return point.y, point.x


def _own(html: str) -> str:
    """The page without the vendored libraries inlined into it."""
    return re.sub(r"<(script|style)>/\* estate vendored: .*?</\1>", "", html, flags=re.S)


def _markers(html: str) -> dict[str, dict]:
    """Markers in a written map, by tooltip text: fill colour, radius and location."""
    found: dict[str, dict] = {}
    for rows in re.findall(r"var rows = (.*);\n", html):
        for row in json.loads(rows):
            found[row[4]] = {"fill": row[3], "radius": row[2], "at": row[:2]}
    return found


def test_layers_legend_and_markers(tmp_path: Path) -> None:
    stats = maps.register_map(_assets(), tmp_path / "register.html")

    assert stats.path == tmp_path / "register.html"
    assert stats.path.is_file()
    assert stats.bytes == stats.path.stat().st_size
    assert (stats.markers, stats.hidden_sensitive) == (5, 1)
    html = stats.path.read_text(encoding="utf-8")
    overlays = re.search(r"overlays\s*:\s*\{(.*?)\}", html, re.S).group(1)
    for name in ("CWAC (3)", "NHS (1)", "POL (1)"):
        assert json.dumps(name) in overlays
    assert overlays.count("feature_group_") == 3
    assert mb.COST_CAPTION in html  # the colour legend's caption
    assert "Floor area (GIA)" in html
    assert "1 sensitive site not shown" in html
    assert len(_markers(html)) == 5
    assert html.count("L.markerClusterGroup(") == 3


def test_sensitive_site_never_in_html(tmp_path: Path) -> None:
    stats = maps.register_map(_assets(), tmp_path / "register.html")
    html = stats.path.read_text(encoding="utf-8")

    assert "larkspur" not in html.lower()
    assert "CWAC-006" not in html and "6 Example Street" not in html
    lat, lon = _latlon(*SECRET_XY)
    for value in (lat, lon):
        for text in (f"{value:.4f}", f"{value:.5f}", str(value)[: str(value).index(".") + 5]):
            assert text not in html
    numbers = np.array([float(n) for n in re.findall(r"-?\d+\.\d{3,}", html)])
    assert not np.any(np.isclose(numbers, lat, atol=1e-3))
    assert not np.any(np.isclose(numbers, lon, atol=1e-3))
    assert "352345" not in html and "371234" not in html


def test_fits_bounds_of_shown_assets_only(tmp_path: Path) -> None:
    html = maps.register_map(_assets(), tmp_path / "m.html").path.read_text(encoding="utf-8")

    html = _own(html)
    bounds = json.loads(re.search(r"\.fitBounds\(\s*(\[\[[-0-9.,\s\[\]]*?\]\])", html, re.S).group(1))
    shown = [_latlon(r[6], r[7]) for r in _ROWS if r[0] != SECRET_NAME]
    lats, lons = zip(*shown, strict=True)
    assert bounds == [pytest.approx([min(lats), min(lons)]), pytest.approx([max(lats), max(lons)])]


def test_colour_and_size(tmp_path: Path) -> None:
    html = maps.register_map(_assets(), tmp_path / "m.html").path.read_text(encoding="utf-8")
    markers = _markers(html)

    cheap, dear = markers["Cheap Depot"], markers["Dear Clinic"]  # £15/m² vs £800/m²
    assert cheap["fill"] != dear["fill"]
    assert cheap["fill"] != mb._NO_DATA_COLOUR != dear["fill"]
    car_park = markers["Market Car Park"]
    assert car_park["fill"] == mb._NO_DATA_COLOUR
    assert car_park["radius"] == mb._RADIUS_PX_RANGE[0]
    assert cheap["radius"] > markers["Blacon Police"]["radius"] > dear["radius"]
    lat, lon = _latlon(340_100.0, 366_100.0)
    assert cheap["at"] == pytest.approx([lat, lon], abs=1e-6)


def test_popup_and_tooltip_are_escaped_and_formatted(tmp_path: Path) -> None:
    html = maps.register_map(_assets(), tmp_path / "m.html").path.read_text(encoding="utf-8")

    assert "Fish &amp; Chips &lt;Depot&gt;" in _markers(html)
    assert "<Depot>" not in html
    assert '"£1,234,567"' in html and '"£12,345"' in html and '"£800/m²/yr"' in html
    assert "back office, customer contact" in html


def test_script_breaking_names_are_neutralised(tmp_path: Path) -> None:
    rows = [("Evil `${alert(1)}` </script>", *_ROWS[0][1:])]
    html = maps.register_map(_assets(rows), tmp_path / "m.html").path.read_text(encoding="utf-8")

    assert "${alert(1)}" not in html
    assert "`${" not in html
    assert html.count("</script>") == html.count("<script")


def test_colours_match_branca_colormap() -> None:
    values = pd.Series([np.nan, -5.0, 0.0, 12.0, 49.9, 50.0, 120.0, 999.0, 1_000.0, 5_000.0])
    cmap = mb._cost_colormap(pd.Series(np.linspace(5, 900, 60)))

    assert isinstance(cmap, StepColormap)
    assert cmap.index[0] == 0 and cmap.index[-1] <= mb._COST_CAP_GBP_M2
    got = mb._colours(values, cmap)
    assert got.iloc[0] == mb._NO_DATA_COLOUR
    for value, colour in zip(values.iloc[1:], got.iloc[1:], strict=True):
        assert colour == cmap.rgb_hex_str(value)


def test_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = Path.write_text

    def half_write(self: Path, text: str, **kwargs: object) -> int:
        real_write(self, "<html><body>half", encoding="utf-8")
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", half_write)
    target = tmp_path / "maps" / "register.html"
    with pytest.raises(OSError, match="disk full"):
        maps.register_map(_assets(), target)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []

    with open(target, "w", encoding="utf-8") as f:
        f.write("previous map")
    with pytest.raises(OSError):
        maps.register_map(_assets(), target)
    assert target.read_text(encoding="utf-8") == "previous map"
    assert list(target.parent.iterdir()) == [target]


def test_creates_parent_directory_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "out" / "demo" / "maps" / "register.html"
    target.parent.mkdir(parents=True)
    target.write_text("old", encoding="utf-8")

    stats = maps.register_map(_assets(), target, title="Cheshire West & <Chester>")
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<title>Cheshire West &amp; &lt;Chester&gt;</title>" in html
    assert list(target.parent.iterdir()) == [target]
    assert stats.bytes == len(html.encode("utf-8"))


@pytest.mark.parametrize("keep", [[], [5]], ids=["empty", "only-sensitive"])
def test_nothing_to_show_still_writes_a_map(tmp_path: Path, keep: list[int]) -> None:
    assets = _assets().iloc[keep]
    stats = maps.register_map(assets, tmp_path / "m.html")

    html = _own(stats.path.read_text(encoding="utf-8"))
    assert (stats.markers, stats.hidden_sensitive) == (0, len(keep))
    assert json.dumps(list(mb.CHESHIRE_CENTRE)) in html
    assert "fitBounds" not in html and "var rows" not in html
    assert mb.COST_CAPTION in html
    assert ("sensitive site not shown" in html) == bool(keep)


def test_sensitive_flag_text_fails_safe(tmp_path: Path) -> None:
    assets = _assets()
    assets["sensitive"] = ["no", "", None, "N", "yes", "unclear"]
    stats = maps.register_map(assets, tmp_path / "m.html")

    assert (stats.markers, stats.hidden_sensitive) == (4, 2)
    assert "2 sensitive sites not shown" in stats.path.read_text(encoding="utf-8")


def test_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sensitive"):
        maps.register_map(_assets().drop(columns="sensitive"), tmp_path / "m.html")
    with pytest.raises(ValueError, match="CRS"):
        maps.register_map(_assets().set_crs(None, allow_override=True), tmp_path / "m.html")
    assert not (tmp_path / "m.html").exists()


def _plan_assets() -> gpd.GeoDataFrame:
    base = _assets()
    plan = base.assign(
        decision=["hub", "keep", "dispose", "dispose", "keep", "keep"][: len(base)],
        exit_year=["", "", "2028/29", "2028/29", "", ""][: len(base)],
        in_plan=True, keep_reason="", partners_after=["CWAC;NHS", "CWAC", "", "", "POL", "CWAC"][: len(base)],
        teams_before=1, teams_after=[2, 1, 0, 0, 1, 1][: len(base)], fte_before=5.0, fte_after=5.0)
    return plan


def test_plan_map_draws_decisions_moves_and_hides_sensitive_sites(tmp_path: Path) -> None:
    assets = _plan_assets()
    secret = assets.loc[assets["sensitive"], "asset_id"].iloc[0]
    ids = assets["asset_id"].tolist()
    moves = pd.DataFrame({"occupier_id": ["T1", "T2"], "team": ["Payroll", "Refuge staff"], "partner": ["CWAC", "CWAC"],
                          "fte": [5.0, 2.0], "from_asset_id": [ids[2], secret], "to_asset_id": [ids[0], ids[0]]})
    summary = {"assets_before": 6, "kept": 4, "hubs": 1, "hubs_today": 0, "disposed": 2, "teams_moved": 2,
               "fte_moved": 7.0, "floor_area_released_m2": 100.0, "annual_saving_gbp": 1e6,
               "capital_receipts_gbp": 2e6, "npv_gbp": 3e6, "horizon_years": 10, "payback_year": "2028/29",
               "status": "optimal", "gap": 0.0}
    stats = maps.plan_map(assets, moves, summary, tmp_path / "plan.html")
    page = stats.path.read_text(encoding="utf-8")
    own = _own(page)
    assert (stats.markers, stats.hidden_sensitive) == (len(assets) - 1, 1)
    rows = json.loads(re.search(r"var rows = (.*?);\s*// \[lat", own).group(1))
    assert sorted(r[2] for r in rows) == sorted(d for d, s in zip(assets["decision"], assets["sensitive"]) if not s)
    lines = json.loads(re.search(r"var moves = (.*?);\s*// \[lat0", own).group(1))
    assert len(lines) == 1 and "Payroll" in lines[0][5]  # the refuge's move is not drawn
    # Disposals carry their exit year for the year filter; kept buildings none.
    assert sorted(r[6] for r in rows if r[2] == "dispose") == ["2028/29"] * sum(
        (assets["decision"] == "dispose") & ~assets["sensitive"])
    assert all(r[6] == "" for r in rows if r[2] != "dispose")
    assert json.loads(re.search(r"var years = (.*?);", own).group(1)) == ["2028/29"]
    assert "Moving in" in own and "Moving out" in own and "The plan in figures" in own
    assert "1 sensitive site not shown" in own and "larkspur" not in page.lower()
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', page)  # every library inlined


def test_access_map_writes_zone_minutes_once(tmp_path: Path) -> None:
    from shapely.geometry import box

    zones = gpd.GeoDataFrame({"zone_id": ["Z1", "Z2"], "population": [100.0, 200.0],
                              "jobs_before_min": [10.0, np.nan], "jobs_after_min": [25.0, 40.0]},
                             geometry=[box(352000, 371000, 353000, 372000), box(353000, 371000, 354000, 372000)],
                             crs=BNG)
    services = [{"code": "jobs", "name": "Jobs", "mode": "car", "rule": "share", "minutes": 20.0, "share": 0.9}]
    stats = maps.access_map(zones, services, _plan_assets(), tmp_path / "access.html")
    own = _own(stats.path.read_text(encoding="utf-8"))
    data = json.loads(re.search(r"var zones = (.*?);\n", own).group(1))
    assert [f["properties"]["t"] for f in data["features"]] == [[[10.0, 25.0]], [[None, 40.0]]]
    assert own.count('"type":"Polygon"') == 2  # geometry written once, styled per view in the browser
    assert "Jobs: 20 min by car for 90%" in own
    assert stats.hidden_sensitive == 1
