"""Demand zones: reading, origins, repairs and rejects; and real ONS geography."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon

from estate._errors import SourceErrors
from estate.access.straight import straight_times
from estate.demand import load_zones

SQUARE = Polygon([(0, 0), (1000, 0), (1000, 1000), (0, 1000)])
# A U shape whose centroid falls in the gap, outside the polygon.
U_SHAPE = Polygon([(2000, 0), (5000, 0), (5000, 3000), (4000, 3000), (4000, 1000), (3000, 1000),
                   (3000, 3000), (2000, 3000)])
BOW_TIE = Polygon([(6000, 0), (7000, 1000), (7000, 0), (6000, 1000)])  # self-intersecting


def write(tmp_path, rows, crs="EPSG:27700", name="zones.gpkg"):
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["code", "pop", "geometry"]), geometry="geometry", crs=crs)
    path = tmp_path / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the missing-CRS case is deliberate
        gdf.to_file(path, driver="GPKG")
    return path


def test_origins_are_inside_and_populations_read(tmp_path):
    path = write(tmp_path, [["A", 100, SQUARE], ["B", 250, U_SHAPE]])
    zones = load_zones(path, zone_id="code", population="pop").zones.set_index("zone_id")
    assert zones["population"].to_dict() == {"A": 100.0, "B": 250.0}
    for zid, geom in (("A", SQUARE), ("B", U_SHAPE)):
        origin = Point(zones.loc[zid, "origin_x_m"], zones.loc[zid, "origin_y_m"])
        assert geom.contains(origin)
    assert not U_SHAPE.contains(U_SHAPE.centroid)  # the case that needs a point on the surface


def test_population_weighted_centroid_is_used_when_given(tmp_path):
    gdf = gpd.GeoDataFrame({"code": ["A"], "pop": [10], "px": [900.0], "py": [100.0]}, geometry=[SQUARE],
                           crs="EPSG:27700")
    gdf.to_file(tmp_path / "z.gpkg")
    zones = load_zones(tmp_path / "z.gpkg", zone_id="code", population="pop", origin_x="px", origin_y="py").zones
    assert (zones.loc[0, "origin_x_m"], zones.loc[0, "origin_y_m"]) == (900.0, 100.0)


def test_invalid_geometry_is_repaired_and_reported(tmp_path):
    path = write(tmp_path, [["A", 100, SQUARE], ["C", 50, BOW_TIE]])
    demand = load_zones(path, zone_id="code", population="pop")
    assert list(demand.zones["zone_id"]) == ["A", "C"]
    assert shapely.is_valid(demand.zones.geometry).all()
    warning = demand.warnings.iloc[0]
    assert warning["zone_id"] == "C" and warning["row"] == 2 and "Self-intersection" in warning["reason"]


@pytest.mark.parametrize("pop, reason", [(0, "greater than 0"), (-5, "greater than 0"), (None, "missing")])
def test_bad_populations_are_rejected(tmp_path, pop, reason):
    path = write(tmp_path, [["A", 100, SQUARE], ["B", pop, U_SHAPE]])
    demand = load_zones(path, zone_id="code", population="pop")
    assert list(demand.zones["zone_id"]) == ["A"]
    reject = demand.rejects.iloc[0]
    assert (reject["file"], reject["zone_id"], reject["row"], reject["column"]) == ("zones.gpkg", "B", 2, "pop")
    assert reason in reject["reason"]


def test_missing_crs_is_an_error(tmp_path):
    path = write(tmp_path, [["A", 100, SQUARE]], crs=None)
    with pytest.raises(SourceErrors, match="no coordinate reference system"):
        load_zones(path, zone_id="code", population="pop")


def test_missing_column_is_an_error(tmp_path):
    path = write(tmp_path, [["A", 100, SQUARE]])
    with pytest.raises(SourceErrors, match="column 'population'"):
        load_zones(path, zone_id="code", population="population")


def test_population_joined_from_csv(tmp_path):
    path = write(tmp_path, [["A", 0, SQUARE], ["B", 0, U_SHAPE]])
    (tmp_path / "pop.csv").write_text("LSOA,people\nA,1600\n")
    demand = load_zones(path, zone_id="code", population="people", population_csv=tmp_path / "pop.csv",
                        population_csv_id="LSOA")
    assert demand.zones["population"].tolist() == [1600.0]
    assert demand.rejects.iloc[0]["zone_id"] == "B" and "missing" in demand.rejects.iloc[0]["reason"]


def test_shapefile_zones(tmp_path):
    gdf = gpd.GeoDataFrame({"code": ["A", "B"], "pop": [10, 20]}, geometry=[SQUARE, U_SHAPE], crs="EPSG:27700")
    gdf.to_file(tmp_path / "zones.shp")
    zones = load_zones(tmp_path / "zones.shp", zone_id="code", population="pop").zones
    assert zones["population"].tolist() == [10.0, 20.0] and zones.crs.to_epsg() == 27700


def test_point_zones(tmp_path):
    gdf = gpd.GeoDataFrame({"code": ["P"], "pop": [5]}, geometry=[Point(53, 2)], crs="EPSG:27700")
    gdf.to_file(tmp_path / "pts.geojson", driver="GeoJSON")
    zones = load_zones(tmp_path / "pts.geojson", zone_id="code", population="pop").zones
    assert (zones.loc[0, "origin_x_m"], zones.loc[0, "origin_y_m"]) == pytest.approx((53, 2))


CENSUS_2021 = {"E06000049": 398_800, "E06000050": 357_200, "E06000007": 210_900}


def test_real_lsoas_of_the_sub_region(shared_dir, tmp_path):
    """Real, irregular LSOA polygons (some multipolygons), each authority's population shared equally."""
    frames = []
    for code, total in CENSUS_2021.items():
        path = shared_dir / f"geography/cheshire-warrington/lsoa_{code}.geojson"
        if not path.exists():
            pytest.skip(f"{path} is absent")
        lsoas = gpd.read_file(path)
        lsoas["population"] = total / len(lsoas)
        frames.append(lsoas)
    all_lsoas = pd.concat(frames, ignore_index=True)
    assert (all_lsoas.geom_type == "MultiPolygon").any()
    all_lsoas.to_file(tmp_path / "lsoas.gpkg")
    demand = load_zones(tmp_path / "lsoas.gpkg", zone_id="LSOA21CD", population="population")
    zones = demand.zones
    assert len(zones) == len(all_lsoas) and demand.rejects.empty
    assert zones["population"].sum() == pytest.approx(sum(CENSUS_2021.values()))
    origins = gpd.points_from_xy(zones["origin_x_m"], zones["origin_y_m"])
    assert shapely.covers(zones.geometry.to_numpy(), origins).all()

    # Access from every real LSOA to three town-centre sites, by straight line.
    sites = pd.DataFrame({"site_id": ["Chester", "Crewe", "Warrington"],
                          "x_m": [340_504.0, 370_568.0, 360_393.0], "y_m": [366_306.0, 355_724.0, 388_295.0]})
    origins_frame = pd.DataFrame({"zone_id": zones["zone_id"], "x_m": zones["origin_x_m"],
                                  "y_m": zones["origin_y_m"]})
    table = straight_times(origins_frame, sites, {"car": 35.0}, 45.0, circuity=1.3)
    nearest = table.groupby("zone_id", observed=True)["minutes"].min()
    nearest.index = nearest.index.astype(str)
    # Independent dense check on this small case: distance to the nearest town x 1.3 / (35 km/h).
    dx = zones["origin_x_m"].to_numpy()[:, None] - sites["x_m"].to_numpy()[None, :]
    dy = zones["origin_y_m"].to_numpy()[:, None] - sites["y_m"].to_numpy()[None, :]
    expected = pd.Series((dx ** 2 + dy ** 2).min(axis=1) ** 0.5 * 1.3 / (35_000 / 60), index=zones["zone_id"])
    assert set(nearest.index) == set(expected[expected <= 45.0].index)
    assert nearest.to_numpy() == pytest.approx(expected[nearest.index].to_numpy(), rel=1e-5)
