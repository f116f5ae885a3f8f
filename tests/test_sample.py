"""The built-in Cheshire and Warrington sample: calibration, planted faults, shared sites.

The manifests under data/assets/ are written by the generator that planted the
faults and shared sites, so they are knowledge independent of the ingest code.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import pandas as pd
import pytest

from estate.maps import register_map
from estate.register import build_register, load_sources
from estate.register.build import authority_summary
from estate.sample import generate

from conftest import REPO

ASSETS = REPO / "data" / "assets"
CWAC_AREA = "E06000050"


@pytest.fixture(scope="module")
def sample():
    return build_register(load_sources(ASSETS / "partners.toml"))


def test_calibrated_to_the_partners_published_figures(sample):
    a = sample.assets
    assert len(a) >= 4000
    assert a["market_value_gbp"].sum() == pytest.approx(2e9, rel=0.10)
    assert a["running_cost_gbp"].sum() == pytest.approx(100e6, rel=0.10)
    by_area = authority_summary(sample)
    assert by_area.loc[CWAC_AREA, "assets"] == pytest.approx(1500, rel=0.10)
    assert by_area.loc[CWAC_AREA, "running_cost_gbp"] == pytest.approx(40e6, rel=0.10)
    assert by_area.loc[CWAC_AREA, "office_share_of_gia"] == pytest.approx(0.18, abs=0.02)
    assert set(by_area.index) == {"E06000049", "E06000050", "E06000007"}


def test_partners_and_contents(sample):
    a = sample.assets
    assert a["partner"].nunique() >= 10
    assert (a["tenure"] == "leasehold").any() and a["lease_break_date"].notna().any()
    assert a.loc[a["asset_type"].isin(["fire_station", "police_station", "custody_suite"]), "statutory"].all()
    assert a["sensitive"].sum() >= 3
    assert (a["partners"].str.contains(";")).sum() >= 50  # shared sites
    assert sample.occupiers["fte"].sum() > 10_000
    assert set(a["location_method"]) == {"xy", "geometry", "postcode", "uprn"}


def test_exactly_the_planted_faults_are_rejected(sample):
    expected = pd.read_csv(ASSETS / "expected_rejects.csv")
    key = ["partner", "table", "file", "row", "column"]
    got = set(map(tuple, sample.rejects[key].drop_duplicates().astype(str).to_numpy()))
    want = set(map(tuple, expected[key].astype(str).to_numpy()))
    assert got == want


def test_exactly_the_planted_shared_sites_are_merged(sample):
    expected = pd.read_csv(ASSETS / "expected_merges.csv")
    key = ["asset_id", "merged_id", "rule"]
    assert set(map(tuple, sample.merges[key].to_numpy())) == set(map(tuple, expected[key].to_numpy()))
    near = pd.read_csv(ASSETS / "expected_near_misses.csv")
    ids = set(sample.assets["asset_id"])
    assert set(near["asset_id"]) <= ids and set(near["other_id"]) <= ids


def test_no_row_is_lost(sample):
    c = sample.counts
    assert c["asset_rows"].sum() == len(sample.assets) + len(sample.merges) + c["asset_rows_rejected"].sum()
    assert c["occupier_rows"].sum() == len(sample.occupiers) + c["occupier_rows_rejected"].sum()
    assert sample.occupiers["asset_id"].isin(sample.assets["asset_id"]).all()


def test_sensitive_sites_are_not_in_the_map(sample, tmp_path):
    import json
    import re

    import numpy as np

    html = register_map(sample.assets, tmp_path / "register.html").path.read_text(encoding="utf-8")
    secret = sample.assets[sample.assets["sensitive"]].to_crs(4326)
    assert len(secret) >= 3
    markers = np.array([row[:2] for rows in re.findall(r"var rows = (.*);\n", html)
                        for row in json.loads(rows)])
    assert len(markers) == len(sample.assets) - len(secret)
    for _, site in secret.iterrows():
        assert site["name"] not in html and site["asset_id"] not in html
        assert f"{site.geometry.y:.6f}" not in html and f"{site.geometry.x:.6f}" not in html
        # No marker anywhere near its true place (0.0005° is about 50 m).
        gap = np.abs(markers - [site.geometry.y, site.geometry.x]).max(axis=1)
        assert gap.min() > 0.0005


def test_generator_reproduces_the_committed_files(tmp_path):
    generate(tmp_path)
    committed = {p.name for p in ASSETS.iterdir()}
    assert committed == {p.name for p in tmp_path.iterdir()}
    text_like = sorted(n for n in committed if not n.endswith(".gpkg"))
    _, mismatch, errors = filecmp.cmpfiles(ASSETS, tmp_path, text_like, shallow=False)
    assert mismatch == [] and errors == []
    # GeoPackages carry write timestamps; compare their contents instead.
    import pyogrio

    for name in sorted(n for n in committed if n.endswith(".gpkg")):
        a = pyogrio.read_dataframe(ASSETS / name)
        b = pyogrio.read_dataframe(Path(tmp_path) / name)
        pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))
