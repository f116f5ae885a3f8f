"""The scaled estate of ``benchmarks/estate_10x.py``, generated small: its counts scale with the
sample's, it is seeded and repeatable, it is reused when already there, and its scenario is the
built-in one pointed at it with the partnership-wide delivery limits scaled. No timings."""

from __future__ import annotations

import importlib.util

import pyogrio
import pytest

from estate import sample
from estate.scenario import load_scenario

from conftest import REPO

SCALE = 0.5


def _benchmark():
    spec = importlib.util.spec_from_file_location("estate_10x", REPO / "benchmarks" / "estate_10x.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _benchmark()


@pytest.fixture(scope="module")
def twice(bench, tmp_path_factory):
    folders = [tmp_path_factory.mktemp(f"estate{k}") for k in range(2)]
    return folders, [bench.generate(folder, scale=SCALE) for folder in folders]


def _files(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def test_counts_scale_with_the_sample(twice):
    (folder, _), (info, _) = twice
    committed = pyogrio.read_info(REPO / "data" / "demand" / "zones.gpkg", layer="zones")["features"]
    assert info["assets"]["assets"] == pytest.approx(SCALE * sample.TARGETS["assets"], rel=0.01)
    assert info["zones"]["zones"] == pytest.approx(SCALE * committed, rel=0.05)
    assert pyogrio.read_info(folder / "demand" / "zones.gpkg", layer="zones")["features"] == info["zones"]["zones"]
    assert info["zones"]["population"] == sum(sample.CENSUS_2021_POPULATION.values())
    assert (info["seed"], info["scale"]) == (sample.SEED, SCALE)


def test_the_same_seed_gives_the_same_files(twice):
    (a, b), (first, second) = twice
    assert _files(a) == _files(b)
    for name in _files(a):
        if name.suffix == ".gpkg":  # GeoPackages carry GDAL's write timestamps: compare their contents
            layer = pyogrio.list_layers(a / name)[0][0]
            left = pyogrio.read_dataframe(a / name, layer=layer)
            right = pyogrio.read_dataframe(b / name, layer=layer)
            assert left.drop(columns="geometry").equals(right.drop(columns="geometry")), name
            assert left.geometry.geom_equals_exact(right.geometry, tolerance=0).all(), name
        elif name.name != "estate.json":  # it records the seconds the generation took
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    def timeless(info):  # the seconds the generation took are the one figure that differs
        return {k: v for k, v in info.items() if k != "generate_seconds"}

    assert timeless(first) == timeless(second)


def test_a_generated_folder_is_reused(bench, twice):
    (folder, _), (info, _) = twice
    before = (folder / "assets" / "partners.toml").stat().st_mtime_ns
    assert bench.generate(folder, scale=SCALE) == info
    assert (folder / "assets" / "partners.toml").stat().st_mtime_ns == before


def test_the_scenario_is_the_built_in_one_at_scale(bench, twice):
    (folder, _), (info, _) = twice
    scaled = load_scenario(folder / info["scenario"])
    base = load_scenario(REPO / "models" / "cheshire-warrington.toml")
    assert scaled.data.sources == folder / "assets" / "partners.toml"
    assert scaled.data.zones == folder / "demand" / "zones.gpkg"
    assert (scaled.plan.gap, scaled.plan.time_limit_seconds) == (bench.GAP, bench.TIME_LIMIT_SECONDS)
    for key in bench.SCALED_DELIVERY_KEYS:
        where = "limits" if key != "capital_budget_gbp_per_year" else None
        mine, theirs = ((getattr(s.plan.delivery, where) if where else s.plan.delivery) for s in (scaled, base))
        assert getattr(mine, key) == pytest.approx(getattr(theirs, key) * SCALE), key
    assert scaled.plan.delivery.funded == base.plan.delivery.funded
    assert scaled.services == base.services
    assert (scaled.plan.max_move_km, scaled.plan.max_nodes) == (base.plan.max_move_km, base.plan.max_nodes)
    assert scaled.finance == base.finance


def test_command_line_scales_the_zones(tmp_path):
    assert sample.main(["--out", str(tmp_path / "assets"), "--scale", "0.1", "--demand-out", str(tmp_path / "demand"),
                        "--zone-scale", str(SCALE)]) == 0
    zones = pyogrio.read_dataframe(tmp_path / "demand" / "zones.gpkg", layer="zones")
    committed = pyogrio.read_info(REPO / "data" / "demand" / "zones.gpkg", layer="zones")["features"]
    assert len(zones) == pytest.approx(SCALE * committed, rel=0.05)
    assert zones["population"].sum() == sum(sample.CENSUS_2021_POPULATION.values())
    assert f"--zone-scale {SCALE:g}" in (tmp_path / "demand" / "README.md").read_text(encoding="utf-8")
