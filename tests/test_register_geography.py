"""The register on real ONS geography: assets take the code of the LSOA they lie in."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from estate._errors import SourceErrors
from estate.register import build_register, load_sources


@pytest.fixture
def lsoas(shared_dir) -> Path:
    """Real LSOA 2021 boundaries of Cheshire West and Chester (WGS84 GeoJSON)."""
    path = shared_dir / "geography/cheshire-warrington/lsoa_E06000050.geojson"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


def _with_areas(sources: Path, areas: Path, column: str) -> Path:
    """The sources file reading ``areas`` from the shared folder, which it must allow explicitly."""
    text = sources.read_text().replace(
        "[register]\n", f'[register]\nareas = "{areas}"\nareas_code_column = "{column}"\n'
        f'allowed_folders = ["{areas.parent}"]\n', 1)
    sources.write_text(text)
    return sources


def test_areas_layer_assigns_real_lsoa_codes(mini_sources, lsoas):
    register = build_register(load_sources(_with_areas(mini_sources, lsoas, "LSOA21CD")))
    assets = register.assets.set_index("asset_id")

    # Independent check: which polygon contains each point, by GeoPandas directly.
    polygons = gpd.read_file(lsoas).to_crs(27700)
    for asset_id in ("ALPHA-A1", "ALPHA-A2", "CHARLIE-102"):
        point = assets.loc[asset_id, "geometry"]
        inside = polygons.loc[polygons.contains(point), "LSOA21CD"]
        expected = inside.iloc[0] if len(inside) else None
        assert assets.loc[asset_id, "authority"] == expected
    # Chester's sites are in Cheshire West and Chester's LSOAs; Warrington's clinic is not.
    assert str(assets.loc["ALPHA-A1", "authority"]).startswith("E01")
    assert pd.isna(assets.loc["CHARLIE-102", "authority"])


def test_areas_layer_with_a_wrong_column_is_an_error(mini_sources, lsoas):
    with pytest.raises(SourceErrors, match="LAD99CD"):
        build_register(load_sources(_with_areas(mini_sources, lsoas, "LAD99CD")))


def test_areas_outside_the_sources_folder_are_refused_unless_allowed(mini_sources, lsoas):
    text = mini_sources.read_text().replace(
        "[register]\n", f'[register]\nareas = "{lsoas}"\nareas_code_column = "LSOA21CD"\n', 1)
    mini_sources.write_text(text)
    with pytest.raises(SourceErrors, match="register.areas.*outside the folders this file may read"):
        load_sources(mini_sources)
