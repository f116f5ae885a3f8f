"""Travel-time engines and accessibility, checked against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estate._errors import EstateError, SourceErrors
from estate.access.matrix import read_matrix
from estate.access.metrics import accessibility, nearest_minutes
from estate.access.straight import straight_times
from estate.scenario import Service, Standard

ORIGINS = pd.DataFrame({"zone_id": ["Z1", "Z2"], "x_m": [0.0, 10_000.0], "y_m": [0.0, 0.0]})
SITES = pd.DataFrame({"site_id": ["S1", "S2", "S3"], "x_m": [3_000.0, 4_000.0, 0.0], "y_m": [4_000.0, 0.0, 0.0]})


def as_dict(table: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    return {(str(z), str(s), str(m)): float(v) for z, s, m, v in table.itertuples(index=False)}


def test_straight_minutes_by_hand():
    # Z1 -> S1 is 5,000 m (3-4-5 triangle). Walk 6 km/h = 100 m/min, circuity 1.2: 5,000 * 1.2 / 100 = 60 min.
    # Public transport 30 km/h = 500 m/min plus a 10 min wait: 10 + 5,000 * 1.2 / 500 = 22 min.
    times = as_dict(straight_times(ORIGINS, SITES, {"walk": 6.0, "public_transport": 30.0}, 90.0,
                                   circuity=1.2, wait_minutes={"public_transport": 10.0}))
    assert times[("Z1", "S1", "walk")] == pytest.approx(60.0)
    assert times[("Z1", "S1", "public_transport")] == pytest.approx(22.0)
    assert times[("Z1", "S3", "walk")] == pytest.approx(0.0)  # a site at the origin: 0 minutes, kept
    assert times[("Z1", "S2", "walk")] == pytest.approx(48.0)  # 4,000 m
    assert times[("Z2", "S2", "walk")] == pytest.approx(72.0)  # 6,000 m
    assert times[("Z2", "S3", "public_transport")] == pytest.approx(10 + 10_000 * 1.2 / 500)


def test_straight_cutoff_drops_exactly_the_pairs_beyond_it():
    everything = straight_times(ORIGINS, SITES, {"walk": 6.0}, 10_000.0, circuity=1.2)
    assert len(everything) == 6
    cut = straight_times(ORIGINS, SITES, {"walk": 6.0}, 60.0, circuity=1.2)
    expected = {k for k, v in as_dict(everything).items() if v <= 60.0}
    assert set(as_dict(cut)) == expected
    assert ("Z1", "S1", "walk") in expected  # exactly at the cutoff is kept
    assert ("Z2", "S2", "walk") not in expected


def test_straight_wait_longer_than_cutoff_gives_nothing():
    table = straight_times(ORIGINS, SITES, {"public_transport": 30.0}, 5.0, wait_minutes={"public_transport": 10})
    assert table.empty


def test_straight_mode_with_no_speed():
    with pytest.raises(EstateError, match="'cycle' has no usable speed"):
        straight_times(ORIGINS, SITES, {"cycle": 0.0}, 60.0)


def test_straight_is_sparse_on_a_large_case():
    rng = np.random.default_rng(1)
    origins = pd.DataFrame({"zone_id": [f"Z{i}" for i in range(3000)],
                            "x_m": rng.uniform(0, 100_000, 3000), "y_m": rng.uniform(0, 100_000, 3000)})
    sites = pd.DataFrame({"site_id": [f"S{i}" for i in range(4000)],
                          "x_m": rng.uniform(0, 100_000, 4000), "y_m": rng.uniform(0, 100_000, 4000)})
    table = straight_times(origins, sites, {"walk": 4.8}, 20.0, circuity=1.3)
    # 20 min walking reaches 1,231 m: about pi * 1.231² / 10,000 km² * 4,000 sites = 1.9 per zone.
    assert 0 < len(table) < 0.01 * 3000 * 4000
    assert table["minutes"].max() <= 20.0


def _matrix(tmp_path, rows: str):
    path = tmp_path / "times.csv"
    path.write_text("zone_id,site_id,mode,minutes\n" + rows)
    return path


def test_matrix_reads_and_applies_cutoff(tmp_path):
    path = _matrix(tmp_path, "Z1,S1,car,12.5\nZ2,S1,car,70\nZ1,S2,walk,30\n")
    table = read_matrix(path, ["Z1", "Z2"], ["S1", "S2"], ["car", "walk"], 60.0)
    assert as_dict(table) == {("Z1", "S1", "car"): 12.5, ("Z1", "S2", "walk"): 30.0}


def test_matrix_unknown_ids_are_reported_with_rows(tmp_path):
    path = _matrix(tmp_path, "Z1,S1,car,12\nZ9,S1,car,10\nZ1,S7,car,10\nZ1,S1,tram,5\nZ1,S1,car,soon\n")
    with pytest.raises(SourceErrors) as err:
        read_matrix(path, ["Z1"], ["S1"], ["car"], 60.0)
    text = str(err.value)
    assert "times.csv" in text
    assert "zone id not among the demand zones: ['Z9'] on rows 3" in text
    assert "site id not in the register: ['S7'] on rows 4" in text
    assert "mode not among ['car']: ['tram'] on rows 5" in text
    assert "expected a finite number of minutes ≥ 0: ['soon'] on rows 6" in text


def test_matrix_missing_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("zone,site_id,mode,minutes\n")
    with pytest.raises(SourceErrors, match="column 'zone_id'"):
        read_matrix(path, [], [], ["car"], 60.0)


def test_accessibility_by_hand():
    zones = pd.DataFrame({"zone_id": ["Z1", "Z2", "Z3"], "population": [1000.0, 3000.0, 6000.0]})
    access = pd.DataFrame({"zone_id": ["Z1", "Z2", "Z2", "Z3"], "site_id": ["A", "A", "B", "C"],
                           "mode": ["walk"] * 4, "minutes": [10.0, 25.0, 15.0, 40.0]})
    assets = pd.DataFrame({"asset_id": ["A", "B", "C"], "asset_type": ["library", "office", "library"],
                           "services": [None, "early_help", None]})
    # Front-facing early-help teams at B and C make service points; a back-office one at A does not, nor
    # does B's listing the service.
    occupiers = pd.DataFrame({"asset_id": ["B", "C", "A"], "service": ["early_help"] * 3,
                              "front_facing": [True, True, False]})
    services = [
        Service("lib", "Library", asset_types=("library",), standard=Standard("walk", "share", 20.0, 0.5)),
        Service("eh", "Early help", services=("early_help",), standard=Standard("walk", "share", 20.0, 0.4)),
        Service("office", "Back office", services=("back_office",)),
    ]
    result = accessibility(access, zones, assets, occupiers, services)
    s = result.summary.set_index("service")
    # Library: Z1 10 min (A), Z2 25 min (A), Z3 40 min (C) -> only Z1 within 20: 1,000 / 10,000.
    assert s.loc["lib", "share_within"] == pytest.approx(0.1)
    assert not s.loc["lib", "meets"] and s.loc["lib", "zones_failing"] == 2
    # Early help at B and C (front-facing teams): Z2 15 min -> 3,000 / 10,000; Z1 has no site in reach
    # (A's back-office early-help team, 10 min away, is no service point).
    assert s.loc["eh", "share_within"] == pytest.approx(0.3)
    assert s.loc["eh", "sites"] == 2
    zs = result.zone_service.set_index(["service", "zone_id"])
    assert np.isnan(zs.loc[("eh", "Z1"), "minutes"])
    assert "office" not in set(result.zone_service["service"])  # no standard, not measured


def test_no_worse_standard_against_a_baseline():
    zones = pd.DataFrame({"zone_id": ["Z1", "Z2"], "population": [1.0, 1.0]})
    assets = pd.DataFrame({"asset_id": ["A", "B"], "asset_type": ["police_station"] * 2, "services": [None, None]})
    occupiers = pd.DataFrame({"asset_id": [], "service": []})
    service = [Service("pfc", "Police", asset_types=("police_station",), standard=Standard("car", "no_worse"))]
    today = pd.DataFrame({"zone_id": ["Z1", "Z2", "Z2"], "site_id": ["A", "A", "B"], "mode": "car",
                          "minutes": [5.0, 20.0, 8.0]})
    before = accessibility(today, zones, assets, occupiers, service)
    assert before.summary.loc[0, "share_within"] == 1.0
    # B closes: Z2 now 20 min instead of 8 -> worse off.
    after = accessibility(today[today["site_id"] == "A"], zones, assets[assets["asset_id"] == "A"], occupiers,
                          service, baseline=before.zone_service)
    assert after.summary.loc[0, "share_within"] == 0.5 and after.summary.loc[0, "zones_failing"] == 1


def test_nearest_minutes_ignores_other_modes():
    access = pd.DataFrame({"zone_id": ["Z1", "Z1"], "site_id": ["A", "A"], "mode": ["car", "walk"],
                           "minutes": [5.0, 50.0]})
    assert nearest_minutes(access, ["Z1"], pd.Index(["A"]), "walk").iloc[0] == 50.0


def test_by_id_gives_the_same_per_category_as_per_row():
    """A categorical id column (the access table's) is looked up once per category, with the same answer
    as the same ids as text; a missing id gets the value asked for."""
    from estate.access.metrics import by_id

    lookup = pd.Series([0.0, 1.0, 2.0], index=["a", "b", "c"])
    of_text = lambda text: lookup.reindex(text).to_numpy(float)  # noqa: E731
    text = pd.Series(["c", "x", "a", "b"])
    categorical = pd.Series(pd.Categorical(["c", "x", "a", None], categories=["a", "c", "x"]))
    np.testing.assert_array_equal(by_id(text, of_text, np.nan), [2.0, np.nan, 0.0, 1.0])
    np.testing.assert_array_equal(by_id(categorical, of_text, -1.0), [2.0, np.nan, 0.0, -1.0])
    calls = []
    by_id(categorical, lambda t: calls.append(len(t)) or np.zeros(len(t)), 0.0)
    assert calls == [3]  # once, over the three categories
