"""The network access engine on a tiny hand-made OpenStreetMap extract.

The streets, in metres east and north of a point in Chester (BNG 340600, 366200)::

    F (400,800) ───── E (800,800)
    │  ╲                 │
    │    ╲ Park Path     │ Ferry Road (D–E–F–C, two-way)
    │      ╲ (footway)   │
    B (0,400) ─ C (400,400) ─▶ D (800,400)     Mill Lane: one-way C → D
    │          North St
    │ West St (A–A1–B)
    A (0,0)

- Walking from A to C follows the L of West Street and North Street (800 m);
  the straight line is 566 m.
- By car, C → D is 400 m down Mill Lane; D → C must go round by Ferry Road
  (1,200 m).
- B → F is 566 m on foot by Park Path; a car goes B → C → F (800 m).
- A building near C is not a street and must be ignored.

Node positions are written as latitude/longitude; expected lengths use the
same positions transformed back to BNG with pyproj, so the engine's lengths
can be checked to within rounding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import CRS, Transformer

from estate._errors import EstateError, SourceError
from estate.access import ACCESS_COLUMNS
from estate.access import network
from estate.access.network import load_network, network_times

ORIGIN_E, ORIGIN_N = 340600.0, 366200.0
# Design positions (metres east, north of the origin).
DESIGN = {
    "A": (0, 0),
    "A1": (0, 200),
    "B": (0, 400),
    "C": (400, 400),
    "D": (800, 400),
    "E": (800, 800),
    "F": (400, 800),
    # building corners
    "H1": (420, 380),
    "H2": (440, 380),
    "H3": (440, 360),
    "H4": (420, 360),
}
IDS = {name: i + 1 for i, name in enumerate(DESIGN)}
RESIDENTIAL_20 = {"highway": "residential", "maxspeed": "20 mph"}
WAYS = [
    (101, ["A", "A1", "B"], {**RESIDENTIAL_20, "name": "West Street"}),
    (102, ["B", "C"], {**RESIDENTIAL_20, "name": "North Street"}),
    (103, ["C", "D"], {**RESIDENTIAL_20, "name": "Mill Lane", "oneway": "yes"}),
    (104, ["D", "E", "F", "C"], {**RESIDENTIAL_20, "name": "Ferry Road"}),
    (105, ["B", "F"], {"highway": "footway", "name": "Park Path"}),
    (106, ["H1", "H2", "H3", "H4", "H1"], {"building": "yes"}),
]

WALK_KMH, CYCLE_KMH = 5.0, 15.0
OSMNX_MPH = 1.60934  # osmnx's own mph → km/h factor for maxspeed tags
SPEEDS = {"walk": WALK_KMH, "cycle": CYCLE_KMH, "car": 100.0}

TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def _latlon() -> dict[str, tuple[float, float]]:
    """(lat, lon) of every node as written to the file (8 decimals)."""
    out = {}
    for name, (dx, dy) in DESIGN.items():
        lon, lat = TO_WGS84.transform(ORIGIN_E + dx, ORIGIN_N + dy)
        out[name] = (round(lat, 8), round(lon, 8))
    return out


LATLON = _latlon()
#: Node positions in BNG metres, as the engine sees them.
P = {name: np.array(TO_BNG.transform(lon, lat)) for name, (lat, lon) in LATLON.items()}


def _length(*names: str) -> float:
    return sum(float(np.hypot(*(P[b] - P[a]))) for a, b in zip(names, names[1:]))


def _osm_xml() -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="hand">']
    for name, (lat, lon) in LATLON.items():
        lines.append(f'  <node id="{IDS[name]}" version="1" lat="{lat:.8f}" lon="{lon:.8f}"/>')
    for way_id, names, tags in WAYS:
        lines.append(f'  <way id="{way_id}" version="1">')
        lines += [f'    <nd ref="{IDS[n]}"/>' for n in names]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def osm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("osm") / "chester.osm"
    path.write_text(_osm_xml(), encoding="utf-8")
    return path


def _zones(**points: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {"zone_id": list(points), "x_m": [p[0] for p in points.values()], "y_m": [p[1] for p in points.values()]}
    )


def _sites(**points: np.ndarray) -> pd.DataFrame:
    return _zones(**points).rename(columns={"zone_id": "site_id"})


def _minutes(table: pd.DataFrame, zone: str, site: str, mode: str) -> float:
    row = table[(table.zone_id == zone) & (table.site_id == site) & (table["mode"] == mode)]
    assert len(row) == 1, f"expected one row for {zone}->{site} by {mode}, got {len(row)}"
    return float(row["minutes"].iloc[0])


def _at(metres: float, kmh: float) -> float:
    """Minutes to cover ``metres`` at ``kmh``."""
    return metres / (kmh / 3.6) / 60.0


# --------------------------------------------------------------------------
# Walking: path length over speed, plus access legs
# --------------------------------------------------------------------------


def test_walk_time_is_path_length_over_speed_plus_access_legs(osm: Path) -> None:
    zone = P["A"] + np.array([-30.0, -40.0])  # 50 m from A
    site = P["C"] + np.array([0.0, 20.0])  # 20 m from C
    table = network_times(_zones(z=zone), _sites(s=site), ["walk"], 60, osm, SPEEDS)

    expected_m = 50.0 + _length("A", "A1", "B", "C") + 20.0
    assert _minutes(table, "z", "s", "walk") == pytest.approx(_at(expected_m, WALK_KMH), rel=1e-6)
    # the L is 800 m by design; the pyproj round trip keeps it within a centimetre
    assert _length("A", "A1", "B", "C") == pytest.approx(800.0, abs=0.01)


def test_network_time_is_longer_than_straight_line(osm: Path) -> None:
    table = network_times(_zones(z=P["A"]), _sites(s=P["C"]), ["walk"], 60, osm, SPEEDS)
    straight_m = float(np.hypot(*(P["C"] - P["A"])))
    minutes = _minutes(table, "z", "s", "walk")
    assert minutes > _at(straight_m, WALK_KMH) * 1.3  # 800 m by road against 566 m
    assert minutes == pytest.approx(_at(_length("A", "B", "C"), WALK_KMH), rel=1e-6)


def test_pairs_beyond_the_cutoff_are_dropped_exactly(osm: Path) -> None:
    zones = _zones(z=P["A"])
    sites = _sites(near=P["B"], far=P["C"])  # 400 m (4.8 min) and 800 m (9.6 min)
    full = network_times(zones, sites, ["walk"], 60, osm, SPEEDS)
    far = _minutes(full, "z", "far", "walk")
    assert _minutes(full, "z", "near", "walk") == pytest.approx(4.8, abs=1e-3)
    assert far == pytest.approx(9.6, abs=1e-3)

    assert set(network_times(zones, sites, ["walk"], 7.0, osm, SPEEDS).site_id) == {"near"}
    assert set(network_times(zones, sites, ["walk"], far, osm, SPEEDS).site_id) == {"near", "far"}
    assert set(network_times(zones, sites, ["walk"], far - 1e-9, osm, SPEEDS).site_id) == {"near"}
    assert network_times(zones, sites, ["walk"], 4.0, osm, SPEEDS).empty


# --------------------------------------------------------------------------
# Cars: one-way streets, speeds, footways
# --------------------------------------------------------------------------


def test_one_way_street_makes_car_time_depend_on_direction(osm: Path) -> None:
    kmh = 20 * OSMNX_MPH  # the streets' maxspeed, under the 100 km/h top speed
    with_flow = network_times(_zones(z=P["C"]), _sites(s=P["D"]), ["car"], 60, osm, SPEEDS)
    against = network_times(_zones(z=P["D"]), _sites(s=P["C"]), ["car"], 60, osm, SPEEDS)

    assert _minutes(with_flow, "z", "s", "car") == pytest.approx(_at(_length("C", "D"), kmh), rel=1e-6)
    assert _minutes(against, "z", "s", "car") == pytest.approx(
        _at(_length("D", "E", "F", "C"), kmh), rel=1e-6
    )


def test_walk_and_cycle_ignore_one_way(osm: Path) -> None:
    table = network_times(_zones(z=P["D"]), _sites(s=P["C"]), ["walk", "cycle"], 60, osm, SPEEDS)
    assert _minutes(table, "z", "s", "walk") == pytest.approx(_at(_length("D", "C"), WALK_KMH), rel=1e-6)
    assert _minutes(table, "z", "s", "cycle") == pytest.approx(_at(_length("D", "C"), CYCLE_KMH), rel=1e-6)


def test_car_speed_caps_the_network(osm: Path) -> None:
    slow = {**SPEEDS, "car": 10.0}  # below the 20 mph limit
    table = network_times(_zones(z=P["C"]), _sites(s=P["D"]), ["car"], 60, osm, slow)
    assert _minutes(table, "z", "s", "car") == pytest.approx(_at(_length("C", "D"), 10.0), rel=1e-6)


def test_footway_is_walkable_but_not_drivable(osm: Path) -> None:
    table = network_times(_zones(z=P["B"]), _sites(s=P["F"]), ["walk", "car"], 60, osm, SPEEDS)
    assert _minutes(table, "z", "s", "walk") == pytest.approx(_at(_length("B", "F"), WALK_KMH), rel=1e-6)
    assert _minutes(table, "z", "s", "car") == pytest.approx(
        _at(_length("B", "C", "F"), 20 * OSMNX_MPH), rel=1e-6
    )

    walk_ways = {d.get("name") for *_, d in load_network(osm, "walk").edges(data=True)}
    car_ways = {d.get("name") for *_, d in load_network(osm, "car").edges(data=True)}
    assert "Park Path" in walk_ways
    assert "Park Path" not in car_ways
    assert "Mill Lane" in car_ways


def test_load_network_is_projected_highways_only(osm: Path) -> None:
    G = load_network(osm, "car")
    assert CRS(G.graph["crs"]).to_epsg() == 27700
    assert IDS["H1"] not in G.nodes  # the building is not a street
    assert all("highway" in d for *_, d in G.edges(data=True))
    x, y = G.nodes[IDS["C"]]["x"], G.nodes[IDS["C"]]["y"]
    assert (x, y) == pytest.approx(tuple(P["C"]), abs=1e-6)
    # one-way: C -> D exists, D -> C does not
    assert G.has_edge(IDS["C"], IDS["D"]) and not G.has_edge(IDS["D"], IDS["C"])
    assert load_network(osm, "walk").has_edge(IDS["D"], IDS["C"])


# --------------------------------------------------------------------------
# The table: schema, several zones and sites, far points
# --------------------------------------------------------------------------


def test_table_schema_and_many_pairs(osm: Path) -> None:
    zones = _zones(a=P["A"], b=P["B"], d=P["D"])
    sites = _sites(c=P["C"], f=P["F"], c2=P["C"] + np.array([5.0, 0.0]))
    table = network_times(zones, sites, ["walk", "car"], 60, osm, SPEEDS)

    assert list(table.columns) == list(ACCESS_COLUMNS)
    assert table["minutes"].dtype == np.float64
    assert all(isinstance(v, str) for col in ("zone_id", "site_id", "mode") for v in table[col])
    assert len(table) == 3 * 3 * 2  # everything is within an hour
    assert not table.duplicated(["zone_id", "site_id", "mode"]).any()
    # two sites snapped to one node differ only by the access leg
    assert _minutes(table, "a", "c2", "walk") - _minutes(table, "a", "c", "walk") == pytest.approx(
        _at(5.0, WALK_KMH), rel=1e-6
    )


def test_sites_routed_in_blocks_give_the_same_table(osm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    zones = _zones(a=P["A"], d=P["D"], e=P["E"])
    sites = _sites(b=P["B"], c=P["C"], d=P["D"], f=P["F"])
    whole = network_times(zones, sites, ["car", "walk"], 4.0, osm, SPEEDS)
    monkeypatch.setattr(network, "_MAX_DIJKSTRA_CELLS", 1)  # one site node per block
    blocks = network_times(zones, sites, ["car", "walk"], 4.0, osm, SPEEDS)
    assert 0 < len(whole) < 3 * 4 * 2  # the cutoff bites
    pd.testing.assert_frame_equal(whole, blocks)


def test_far_zone_is_kept_with_a_long_access_leg(osm: Path) -> None:
    far = P["A"] + np.array([0.0, -3000.0])
    table = network_times(_zones(far=far), _sites(s=P["B"]), ["walk"], 120, osm, SPEEDS)
    assert _minutes(table, "far", "s", "walk") == pytest.approx(
        _at(3000.0 + _length("A", "B"), WALK_KMH), rel=1e-6
    )


def test_no_zones_gives_an_empty_table(osm: Path) -> None:
    zones = _zones()
    table = network_times(zones, _sites(s=P["B"]), ["walk"], 60, osm, SPEEDS)
    assert table.empty and list(table.columns) == list(ACCESS_COLUMNS)


# --------------------------------------------------------------------------
# Errors at the boundary
# --------------------------------------------------------------------------


def test_mode_without_speed_is_an_error(osm: Path) -> None:
    with pytest.raises(EstateError, match="no speed for mode 'cycle'"):
        network_times(_zones(z=P["A"]), _sites(s=P["B"]), ["cycle"], 60, osm, {"walk": 5.0})


def test_unknown_mode_names_the_supported_modes(osm: Path) -> None:
    with pytest.raises(EstateError, match="car, walk, cycle"):
        network_times(_zones(z=P["A"]), _sites(s=P["B"]), ["boat"], 60, osm, {"boat": 10.0})
    with pytest.raises(EstateError, match="public_transport"):
        load_network(osm, "public_transport")


def test_missing_osm_file_is_a_source_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.osm"
    with pytest.raises(SourceError, match="nowhere.osm") as caught:
        network_times(_zones(z=P["A"]), _sites(s=P["B"]), ["walk"], 60, missing, SPEEDS)
    assert caught.value.file == str(missing)


def test_unreadable_osm_file_is_a_source_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm><node id='1' lat='53.19'", encoding="utf-8")
    with pytest.raises(SourceError, match="broken.osm"):
        load_network(broken, "walk")


def test_file_with_no_usable_ways_is_a_source_error(tmp_path: Path) -> None:
    only_path = tmp_path / "paths.osm"
    xml = _osm_xml().replace('k="highway" v="residential"', 'k="highway" v="footway"')
    only_path.write_text(xml, encoding="utf-8")
    with pytest.raises(SourceError, match="no ways usable by car"):
        load_network(only_path, "car")
    assert load_network(only_path, "walk").number_of_edges() > 0


def test_missing_columns_are_an_error(osm: Path) -> None:
    with pytest.raises(EstateError, match="lacks column"):
        network_times(pd.DataFrame({"zone_id": ["z"]}), _sites(s=P["B"]), ["walk"], 60, osm, SPEEDS)
