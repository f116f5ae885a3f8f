"""The built-in sample's synthetic demand zones (data/demand/zones.gpkg).

The zones must add up to the Census 2021 population of each authority, tile
the sub-region without overlaps, hold their population-weighted centroid, and
be exactly what the seeded generator writes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from estate import sample
from estate.sample import generate_zones

from conftest import REPO

DEMAND = REPO / "data" / "demand"
CENSUS_2021 = {"E06000049": 398_800, "E06000050": 357_200, "E06000007": 210_900}


@pytest.fixture(scope="module")
def zones():
    return pyogrio.read_dataframe(DEMAND / "zones.gpkg", layer="zones")


def _towns_bng() -> tuple[np.ndarray, np.ndarray]:
    lon = np.array([t.lon for t in sample.TOWNS])
    lat = np.array([t.lat for t in sample.TOWNS])
    return sample._TO_BNG.transform(lon, lat)


def test_populations_add_up_to_the_census_totals(zones):
    assert zones["population"].dtype.kind == "i"
    totals = zones.groupby("authority")["population"].sum().to_dict()
    assert totals == CENSUS_2021
    assert set(zones["authority"]) == set(CENSUS_2021)
    # LSOA-like: about 600 zones of 1,000 to 3,000 residents, typically about 1,600.
    assert 550 <= len(zones) <= 650
    assert zones["population"].between(1000, 3000).all()
    assert 1400 <= zones["population"].median() <= 1800


def test_ids_names_and_columns(zones):
    assert list(zones.columns) == ["zone_id", "name", "authority", "population", "rural", "pwc_easting",
                                   "pwc_northing", "geometry"]
    assert zones["zone_id"].is_unique and zones["name"].is_unique
    assert zones["zone_id"].str.fullmatch(r"E060000(49|50|07)Z\d{4}").all()
    assert (zones["zone_id"].str[:9] == zones["authority"]).all()
    assert zones["name"].str.fullmatch(r"[A-Za-z ]+ \d{3}").all()
    assert zones.crs.to_epsg() == 27700


def test_rural_zones_are_fewer_and_larger(zones):
    rural = zones[zones["rural"]]
    town = zones[~zones["rural"]]
    assert 0 < len(rural) < len(town) / 3
    assert rural.geometry.area.median() > 5 * town.geometry.area.median()


def test_polygons_are_valid_and_do_not_overlap(zones):
    geoms = zones.geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    assert not shapely.is_empty(geoms).any()
    assert set(shapely.get_type_id(geoms)) <= {3, 6}  # (multi)polygons
    union = shapely.union_all(geoms)
    assert shapely.area(geoms).sum() == pytest.approx(union.area, rel=1e-3)
    # Rounded to the metre.
    coords = shapely.get_coordinates(geoms)
    assert np.array_equal(coords, np.round(coords))


def test_population_weighted_centroid_lies_inside_its_zone(zones):
    x, y = zones["pwc_easting"].to_numpy(), zones["pwc_northing"].to_numpy()
    assert shapely.contains_xy(zones.geometry.to_numpy(), x, y).all()


def test_every_town_lies_in_a_zone_of_its_own_authority(zones):
    x, y = _towns_bng()
    geoms = zones.geometry.to_numpy()
    for town, tx, ty in zip(sample.TOWNS, x, y):
        hit = np.flatnonzero(shapely.contains_xy(geoms, tx, ty))
        assert len(hit) == 1, town.name
        assert zones["authority"].iloc[hit[0]] == town.authority, town.name


def test_zones_cover_the_towns_and_the_assets_around_them(zones):
    union = shapely.union_all(zones.geometry.to_numpy())
    x, y = _towns_bng()
    hull = shapely.convex_hull(shapely.multipoints(np.c_[x, y]))
    assert union.covers(hull)
    # Every postcode and UPRN of the sample estate (the assets' locations) lies in a zone.
    postcodes = pd.read_csv(REPO / "data" / "assets" / "postcodes.csv")
    px, py = sample._TO_BNG.transform(postcodes["long"].to_numpy(), postcodes["lat"].to_numpy())
    assert shapely.contains_xy(union, px, py).all()
    uprns = pd.read_csv(REPO / "data" / "assets" / "uprns.csv")
    assert shapely.contains_xy(union, uprns["X_COORDINATE"].to_numpy(), uprns["Y_COORDINATE"].to_numpy()).all()


def test_generator_reproduces_the_committed_zones(zones, tmp_path):
    summary = generate_zones(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "zones.gpkg"]
    assert (tmp_path / "README.md").read_bytes() == (DEMAND / "README.md").read_bytes()
    # GeoPackages carry write timestamps; compare their contents instead.
    again = pyogrio.read_dataframe(tmp_path / "zones.gpkg", layer="zones")
    pd.testing.assert_frame_equal(pd.DataFrame(zones).drop(columns="geometry"),
                                  pd.DataFrame(again).drop(columns="geometry"))
    assert shapely.equals_exact(zones.geometry.to_numpy(), again.geometry.to_numpy(), tolerance=0).all()
    assert summary["zones"] == len(zones)
    assert summary["population"] == sum(CENSUS_2021.values())
    for code, total in CENSUS_2021.items():
        assert summary[f"population_{code}"] == total


def test_a_different_seed_gives_different_zones_with_the_same_totals(tmp_path):
    summary = generate_zones(tmp_path, seed=sample.SEED + 1)
    other = pyogrio.read_dataframe(tmp_path / "zones.gpkg", layer="zones")
    assert other.groupby("authority")["population"].sum().to_dict() == CENSUS_2021
    committed = pyogrio.read_dataframe(DEMAND / "zones.gpkg", layer="zones")
    assert len(other) != len(committed) or not other["population"].equals(committed["population"])
    assert summary["population"] == sum(CENSUS_2021.values())


def test_readme_states_the_zones_are_synthetic_and_how_to_rebuild_them():
    text = (DEMAND / "README.md").read_text(encoding="utf-8")
    assert "synthetic" in text
    assert "python -m estate.sample --out data/assets --demand-out data/demand" in text
    for total in ("398,800", "357,200", "210,900"):
        assert total in text
    assert "LSOA" in text and "Census 2021" in text


def test_command_line_writes_the_zones_only_when_asked(tmp_path, capsys):
    assert sample.main(["--out", str(tmp_path / "assets")]) == 0
    assert not (tmp_path / "demand").exists()
    assert sample.main(["--out", str(tmp_path / "assets"), "--demand-out", str(tmp_path / "demand")]) == 0
    assert (tmp_path / "demand" / "zones.gpkg").is_file()
    assert "population_E06000050" in capsys.readouterr().out
