"""Each file format, unit and CRS conversion, geocoding, de-duplication and the row count."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from estate.register import build_register, load_sources, read_register, write_register_files
from estate.register.dedupe import deduplicate, idf_weights, name_similarity, name_tokens
from estate.register.ingest import SQFT_TO_M2, parse_area, parse_money, parse_postcode


@pytest.fixture
def mini(mini_sources):
    return build_register(load_sources(mini_sources))


def asset(register, asset_id: str) -> pd.Series:
    rows = register.assets[register.assets["asset_id"] == asset_id]
    assert len(rows) == 1, f"{asset_id} not in {list(register.assets['asset_id'])}"
    return rows.iloc[0]


def test_every_format_is_read(mini):
    ids = set(mini.assets["asset_id"])
    # B1 is merged into A1 (a shared site); every other record is its own site.
    assert ids == {"ALPHA-A1", "ALPHA-A2", "ALPHA-A3", "BRAVO-B2", "CHARLIE-101", "CHARLIE-102",
                   "DELTA-F1", "ECHO-E1", "FOXTROT-X1"}
    methods = mini.assets.set_index("asset_id")["location_method"]
    assert methods["ALPHA-A1"] == "xy" and methods["CHARLIE-101"] == "postcode"
    assert methods["DELTA-F1"] == "geometry" and methods["ECHO-E1"] == "geometry"
    assert methods["FOXTROT-X1"] == "uprn"
    assert mini.assets.crs.to_epsg() == 27700


def test_units_are_converted(mini):
    # BRAVO: bare numbers in sq ft and £k. 10,764 sq ft = 1,000.0 m²; 250 (£k) = £250,000.
    b2 = asset(mini, "BRAVO-B2")
    assert b2["gia_m2"] == pytest.approx(10764 * 0.09290304)
    assert b2["gia_m2"] == pytest.approx(1000.0, abs=0.01)
    assert b2["running_cost_gbp"] == 250_000
    # ALPHA: "£150,000", "£2,000,000" and "£450k" in pounds.
    a1, a3 = asset(mini, "ALPHA-A1"), asset(mini, "ALPHA-A3")
    assert a1["running_cost_gbp"] == 150_000 and a1["market_value_gbp"] == 2_000_000
    assert a3["market_value_gbp"] == 450_000
    assert pd.isna(asset(mini, "ALPHA-A2")["market_value_gbp"])  # blank stays unknown, not 0


def test_coordinates_are_transformed_to_british_national_grid(mini):
    # Warrington fire station given in WGS84 (53.3900 N, 2.5970 W) is at about E 360,393 N 388,295.
    f1 = asset(mini, "DELTA-F1").geometry
    assert f1.x == pytest.approx(360_393, abs=5) and f1.y == pytest.approx(388_295, abs=5)
    # ECHO's GeoPackage is already in BNG: untouched.
    e1 = asset(mini, "ECHO-E1").geometry
    assert (e1.x, e1.y) == (363_500, 391_500)


def test_geocoding_by_postcode_and_uprn(mini):
    # CHARLIE's "cw1 2bj" normalises to CW1 2BJ, looked up at 53.0979 N 2.4410 W.
    c1 = asset(mini, "CHARLIE-101")
    assert c1["postcode"] == "CW1 2BJ" and c1["authority"] == "E06000049"
    assert c1.geometry.x == pytest.approx(370_568, abs=5)
    assert asset(mini, "CHARLIE-102")["postcode"] == "WA1 1UH"
    x1 = asset(mini, "FOXTROT-X1").geometry
    assert (x1.x, x1.y) == (360_400.0, 388_300.0)


def test_shared_site_is_merged_with_its_occupiers(mini):
    a1 = asset(mini, "ALPHA-A1")
    assert a1["partners"] == "ALPHA;BRAVO" and a1["merged_from"] == "BRAVO-B1"
    assert a1["services"] == "back_office;employment"
    assert a1["running_cost_gbp"] == 150_000  # the lead's figures, not the tenant's added on
    teams = mini.occupiers[mini.occupiers["asset_id"] == "ALPHA-A1"]
    assert set(teams["partner"]) == {"ALPHA", "BRAVO"}
    merge = mini.merges.iloc[0]
    assert (merge["asset_id"], merge["merged_id"], merge["rule"]) == ("ALPHA-A1", "BRAVO-B1", "near_name")


def test_row_numbers_count_header_offsets_and_blank_lines(mini_sources):
    text = mini_sources.read_text()
    mini_sources.write_text(text.replace('area_unit = "sqft"', 'area_unit = "m2"'))
    d = mini_sources.parent
    raw = (d / "bravo.csv").read_bytes().replace(b"B2;Crewe Station;police_station;freehold;10764",
                                                 b"B2;Crewe Station;police_station;freehold;lots")
    (d / "bravo.csv").write_bytes(raw)
    register = build_register(load_sources(mini_sources))
    rej = register.rejects
    # title (1), blank (2), header (3), B1 (4), blank (5), B2 (6)
    assert list(rej.loc[rej["partner"] == "BRAVO", "row"]) == [6]


def test_rows_in_equal_assets_plus_merged_plus_rejected(mini):
    c = mini.counts
    assert c["asset_rows"].sum() == len(mini.assets) + len(mini.merges) + c["asset_rows_rejected"].sum()
    assert c["occupier_rows"].sum() == len(mini.occupiers) + c["occupier_rows_rejected"].sum()
    ghost = mini.rejects[mini.rejects["table"] == "occupiers"].iloc[0]
    assert (ghost["file"], ghost["row"], ghost["column"]) == ("alpha_teams.csv", 4, "Ref")


def test_register_round_trips_through_geopackage(mini, tmp_path):
    path = write_register_files(mini, tmp_path / "out")
    back = read_register(path)
    assert list(back.assets["asset_id"]) == list(mini.assets["asset_id"])
    assert back.assets.crs.to_epsg() == 27700
    assert back.assets["gia_m2"].sum() == pytest.approx(mini.assets["gia_m2"].sum())
    assert len(back.occupiers) == len(mini.occupiers) and len(back.rejects) == len(mini.rejects)
    assert (tmp_path / "out" / "rejects.csv").exists()


@pytest.mark.parametrize(
    "cell, unit, expected",
    [("1161", "m2", 1161.0), ("1,161.5", "m2", 1161.5), ("12,500 sq ft", "m2", 12500 * SQFT_TO_M2),
     ("12500 sqft", "m2", 12500 * SQFT_TO_M2), ("100", "sqft", 100 * SQFT_TO_M2), ("250 m2", "sqft", 250.0),
     ("250 m²", "sqft", 250.0), ("40 sq m", "sqft", 40.0)],
)
def test_parse_area(cell, unit, expected):
    value, bad = parse_area(pd.Series([cell], dtype=object), unit)
    assert not bad[0] and value[0] == pytest.approx(expected)


@pytest.mark.parametrize(
    "cell, unit, expected",
    [("£1,234,000", "gbp", 1_234_000), ("1234000", "gbp", 1_234_000), ("£450k", "gbp", 450_000),
     ("£1.2m", "gbp", 1_200_000), ("(1,234)", "gbp", -1234), ("12.5", "gbp_k", 12_500),
     ("£1.5m", "gbp_k", 1_500_000), ("3", "gbp_m", 3_000_000), (1234.5, "gbp", 1234.5)],
)
def test_parse_money(cell, unit, expected):
    value, bad = parse_money(pd.Series([cell], dtype=object), unit)
    assert not bad[0] and value[0] == pytest.approx(expected)


@pytest.mark.parametrize("cell", ["TBC", "£", "12,500 acres", "1.2.3"])
def test_unreadable_numbers_are_flagged(cell):
    assert parse_area(pd.Series([cell], dtype=object), "m2")[1][0]
    assert parse_money(pd.Series([cell], dtype=object), "gbp")[1][0]


@given(st.integers(min_value=0, max_value=10**11))
def test_money_formatted_with_pound_sign_and_commas_round_trips(pounds):
    value, bad = parse_money(pd.Series([f"£{pounds:,}"], dtype=object), "gbp")
    assert not bad[0] and value[0] == pounds


def test_postcodes_normalise():
    value, bad = parse_postcode(pd.Series(["ch1 2hj", " WA11UH ", "SW1A 1AA", "nonsense", None], dtype=object))
    assert list(value[:3]) == ["CH1 2HJ", "WA1 1UH", "SW1A 1AA"]
    assert list(bad) == [False, False, False, True, False]


def test_name_similarity_discounts_common_words():
    names = ["Delamere House", "Crewe Jobcentre Plus, Delamere House", "Ellesmere Port Fire Station",
             "Ellesmere Port Police Station", "Ellesmere Port Library", "Chester Police Station",
             "Ellesmere Port Civic Hall", "Northwich Fire Station"]
    tokens = [name_tokens(n) for n in names]
    w = idf_weights(tokens)
    same = name_similarity([tokens[0]], [tokens[1]], w)[0]
    campus = name_similarity([tokens[2]], [tokens[3]], w)[0]
    assert same == 100.0
    assert campus < 80.0


def _records(rows):
    frame = pd.DataFrame(rows, columns=["asset_id", "partner", "name", "uprn", "easting_m", "northing_m",
                                        "tenure", "gia_m2"])
    for flag in ("listed", "statutory", "must_keep", "sensitive"):
        frame[flag] = False
    frame["services"] = None
    return frame


def test_dedupe_rules():
    frame = _records([
        ["A-1", "A", "Delamere House", None, 0.0, 0.0, "freehold", 900.0],
        ["B-1", "B", "Jobcentre Plus Delamere House", None, 10.0, 0.0, "licence", 100.0],  # near + name
        ["C-1", "C", "Something Else Entirely", "7", 5000.0, 0.0, "leasehold", 50.0],
        ["A-2", "A", "Old Town Hall", "7", 9000.0, 0.0, "freehold", 800.0],  # same UPRN as C-1, far away
        ["A-3", "A", "Fire Station", None, 20000.0, 0.0, "freehold", 500.0],
        ["B-3", "B", "Police Station", None, 20030.0, 0.0, "freehold", 500.0],  # near, different name
        ["A-4", "A", "Delamere House", "1", 30000.0, 0.0, "freehold", 500.0],
        ["B-4", "B", "Delamere House", "2", 30005.0, 0.0, "freehold", 500.0],  # different UPRNs
        ["A-5", "A", "Twin Block", None, 40000.0, 0.0, "freehold", 500.0],
        ["A-6", "A", "Twin Block", None, 40005.0, 0.0, "freehold", 500.0],  # same partner: kept apart
        ["B-7", "B", "Far House", None, 50000.0, 0.0, "freehold", 500.0],
        ["C-7", "C", "Far House", None, 50060.0, 0.0, "freehold", 500.0],  # 60 m > 50 m
    ])
    result = deduplicate(frame, distance_m=50, threshold=80, partner_order=["A", "B", "C"])
    merged = {(m.asset_id, m.merged_id, m.rule) for m in result.merges.itertuples()}
    assert merged == {("A-1", "B-1", "near_name"), ("A-2", "C-1", "uprn")}
    assert len(result.assets) == len(frame) - 2
    assert result.kept_id["B-1"] == "A-1" and result.kept_id["C-1"] == "A-2"
    lead = result.assets.set_index("asset_id").loc["A-2"]
    assert lead["partners"] == "A;C"


def test_gb_land_window_matches_global_land_mask():
    """The cached GB window answers exactly as the library's whole-globe mask."""
    import numpy as np
    from global_land_mask import globe

    from estate.register.geocode import _is_land

    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(49.0, 62.0, 50_000), rng.uniform(-10.0, 3.0, 50_000)
    assert np.array_equal(_is_land(lat, lon), globe.is_land(lat, lon))
    assert not _is_land(np.array([40.0]), np.array([-3.0]))[0]  # outside the window: sea
