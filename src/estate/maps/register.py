"""The register map: every partner's assets, sized by floor area and coloured by running cost per m²."""

from __future__ import annotations

from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd

from estate.maps._base import (_MARKER_STYLE, _NO_DATA_COLOUR, MapStats, _area, _base_map, _CircleMarkerCluster,
                               _codes, _colours, _complete, _cost_colormap, _cost_per_m2, _escape, _escape_text, _estimated_note,
                               _latlon, _money, _radius_px, _size_legend_html, _split_sensitive, _step_legend_html,
                               _swatch_css)

#: Columns of schema.ASSET_COLUMNS the register map reads.
_REGISTER_MAP_COLUMNS: tuple[str, ...] = (
    "asset_id",
    "partner",
    "partners",
    "name",
    "asset_type",
    "tenure",
    "gia_m2",
    "running_cost_gbp",
    "market_value_gbp",
    "backlog_maintenance_gbp",
    "condition",
    "services",
    "sensitive",
)



def register_map(
    assets: gpd.GeoDataFrame,
    path: str | Path,
    *,
    title: str = "Joint asset register",
) -> MapStats:
    """Write an interactive map of the joint asset register.

    One toggleable layer per lead partner, each clustering its markers so that
    tens of thousands of assets stay responsive. Marker area is proportional to
    floor area (``gia_m2``) and fill colour shows running cost per m²; grey
    markers have no floor area (car parks, land) or no running cost. Sensitive
    assets are never drawn; a note gives their number.

    Parameters
    ----------
    assets
        The register's ``assets`` table (``schema.ASSET_COLUMNS``), point
        geometry in any CRS (normally EPSG:27700).
    path
        Output HTML file; its directory is created. Written atomically: on any
        failure an existing file is left untouched and no partial file remains.
    title
        Heading shown on the map and used as the page title.

    Returns
    -------
    MapStats
        The path written, markers drawn, sensitive assets hidden, file size (bytes).

    Raises
    ------
    ValueError
        If columns the map needs are missing or the frame has no CRS.
    """
    shown, hidden = _split_sensitive(assets, _REGISTER_MAP_COLUMNS)
    lat, lon = _latlon(shown)
    shown = shown.assign(_lat=lat, _lon=lon)

    gia_m2 = pd.to_numeric(shown["gia_m2"], errors="coerce")
    cost_gbp = pd.to_numeric(shown["running_cost_gbp"], errors="coerce")
    cost_per_m2 = _cost_per_m2(cost_gbp, gia_m2)
    cost_cmap = _cost_colormap(cost_per_m2)
    popup_fields = _asset_popup_fields(shown, cost_per_m2)
    shown = shown.assign(
        _radius=_radius_px(gia_m2),
        _colour=_colours(cost_per_m2, cost_cmap),
        _tooltip=_escape(shown["name"]),
    )

    fmap = _base_map(title, lat, lon)
    marker_columns = ["_lat", "_lon", "_radius", "_colour", "_tooltip"]
    partner_codes = shown["partner"].astype("string").str.strip().fillna("").replace("", "(none)")
    for partner, index in shown.groupby(partner_codes, sort=True).groups.items():
        layer = folium.FeatureGroup(name=f"{_escape_text(partner)} ({len(index):,})")
        fields = popup_fields.loc[index]
        rows = pd.concat([shown.loc[index, marker_columns], fields], axis=1).to_numpy().tolist()
        _CircleMarkerCluster(rows, list(fields.columns), _MARKER_STYLE).add_to(layer)
        layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)

    legend = _step_legend_html(cost_cmap) + _size_legend_html() + (
        f'<div><span style="{_swatch_css(_NO_DATA_COLOUR)}"></span> no floor area or cost</div>'
    )
    return _complete(fmap, legend, hidden, path, len(shown))



def _asset_popup_fields(frame: pd.DataFrame, cost_per_m2: pd.Series) -> pd.DataFrame:
    """Escaped, formatted popup values per asset; columns are the row labels."""
    return pd.DataFrame(
        {
            "Asset": _escape(frame["asset_id"]),
            "Partners": _codes(frame["partners"]),
            "Type": _codes(frame["asset_type"]),
            "Tenure": _codes(frame["tenure"]),
            "GIA": _area(frame["gia_m2"]),
            "Running cost": _money(frame["running_cost_gbp"], "/yr") + pd.Series(_estimated_note(
                frame.get("running_cost_estimated", pd.Series(False, index=frame.index))), index=frame.index),
            "Cost per m²": _money(cost_per_m2, "/m²/yr"),
            "Market value": _money(frame["market_value_gbp"]),
            "Backlog": _money(frame["backlog_maintenance_gbp"]),
            "Condition": _escape(frame["condition"], missing="not surveyed"),
            "Services": _codes(frame["services"]),
        },
        index=frame.index,
    )


