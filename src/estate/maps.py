"""Interactive folium maps of the estate, written as self-contained HTML files.

Maps
----
register_map
    Every partner's assets: one layer per lead partner, markers sized by floor
    area and coloured by running cost per m².

Sensitive assets (``sensitive == True``, e.g. refuges) are never drawn: they
are dropped before anything is rendered, so neither their coordinates nor
their names reach the HTML. The map only states how many were left out.

Markers are drawn in the browser from one compact JSON array per layer
(``_CircleMarkerCluster``) rather than one folium object each: the same
circles, popups and tooltips at a tenth of the file size and a twentieth of
the writing time, which keeps 100,000 assets usable.

The private helpers (base map, legend boxes, colour and size scales, popup
tables, marker clusters, atomic writing) are meant for the plan and access
maps to reuse.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.colormap import StepColormap
from branca.element import Element
from folium.plugins import MarkerCluster
from folium.template import Template
from folium.utilities import camelize

from estate._io import atomic_path
from estate.register.schema import BNG, FALSE_WORDS, WGS84

__all__ = ["MapStats", "register_map"]

# --------------------------------------------------------------------------
# Tunables
# --------------------------------------------------------------------------

#: Map centre (lat, lon, degrees) and zoom used when there is nothing to show.
CHESHIRE_CENTRE: tuple[float, float] = (53.19, -2.58)
_EMPTY_ZOOM = 9
#: Never zoom closer than this when fitting to the assets (one asset, say).
_FIT_MAX_ZOOM = 15

#: Marker radius (px) = _RADIUS_PX_PER_SQRT_M2 * sqrt(gia_m2), clamped to range.
_RADIUS_PX_PER_SQRT_M2 = 0.2
_RADIUS_PX_RANGE: tuple[float, float] = (3.0, 20.0)
#: Floor areas (m²) drawn in the size legend.
_SIZE_LEGEND_M2: tuple[float, ...] = (500.0, 2_000.0, 10_000.0)

#: Colour of assets with no floor area or no running cost (cost per m² undefined).
_NO_DATA_COLOUR = "#9e9e9e"
#: Sequential palette for cost per m² (ColorBrewer YlOrRd, 7 classes).
_COST_PALETTE: tuple[str, ...] = (
    "#ffffb2",
    "#fed976",
    "#feb24c",
    "#fd8d3c",
    "#fc4e2a",
    "#e31a1c",
    "#b10026",
)
#: Upper end of the cost scale (GBP/m²/yr); dearer assets take the top colour.
_COST_CAP_GBP_M2 = 1_000.0
#: Breaks used when there are too few values to take quantiles from (GBP/m²/yr).
_DEFAULT_COST_BREAKS: tuple[float, ...] = (0, 50, 100, 150, 200, 300, 500, 1_000)
COST_CAPTION = "Running cost per m² (£/yr)"

#: Leaflet path options shared by every asset marker (folium spelling).
_MARKER_STYLE: dict[str, object] = {
    "color": "#444444",
    "weight": 0.6,
    "fill": True,
    "fill_opacity": 0.85,
}
#: Leaflet.markercluster options: add markers in chunks so big layers load smoothly.
_CLUSTER_OPTIONS: dict[str, object] = {"chunkedLoading": True, "showCoverageOnHover": False}
_POPUP_MAX_WIDTH_PX = 360
#: Popup table styling, written once in the page header.
_POPUP_CSS = """<style>
.estate-popup{font:12px sans-serif}
.estate-popup b{font-size:13px}
.estate-popup table{border-collapse:collapse;margin-top:4px}
.estate-popup th{text-align:left;padding-right:8px;font-weight:600}
</style>"""

_DASH = "–"

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


@dataclass(frozen=True)
class MapStats:
    """What a map writer produced.

    Attributes
    ----------
    path
        The HTML file written.
    markers
        Number of asset markers drawn.
    hidden_sensitive
        Number of sensitive assets left off the map.
    bytes
        Size of the HTML file (bytes).
    """

    path: Path
    markers: int
    hidden_sensitive: int
    bytes: int


# --------------------------------------------------------------------------
# Public maps
# --------------------------------------------------------------------------


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

    cost_cmap.add_to(fmap)
    legend = _size_legend_html() + (
        f'<div><span style="{_swatch_css(_NO_DATA_COLOUR)}"></span> no floor area or cost</div>'
    )
    if hidden:
        legend += f"<div><b>{_sensitive_note(hidden)}</b></div>"
    _add_box(fmap, legend, corner="bottomleft")

    size = _write_atomic(fmap, path)
    return MapStats(path=Path(path), markers=len(shown), hidden_sensitive=hidden, bytes=size)


# --------------------------------------------------------------------------
# Data preparation
# --------------------------------------------------------------------------


def _split_sensitive(
    frame: gpd.GeoDataFrame, required: Sequence[str]
) -> tuple[gpd.GeoDataFrame, int]:
    """Drop sensitive rows, and rows with no location; return the rest and the number hidden.

    Fails safe: a ``sensitive`` value counts as false only when it is missing,
    ``False``/0 or one of ``schema.FALSE_WORDS``; anything else hides the row.
    The rows returned have a fresh ``RangeIndex``.
    """
    missing = [c for c in (*required, "geometry") if c not in frame.columns]
    if missing:
        raise ValueError(f"map input is missing column(s): {', '.join(missing)}")
    if frame.crs is None:
        raise ValueError(f"map input has no CRS; expected {BNG} (British National Grid)")
    flag = frame["sensitive"]
    if pd.api.types.is_bool_dtype(flag):
        sensitive = flag.fillna(False).to_numpy(dtype=bool)
    else:
        text = flag.astype("string").str.strip().str.lower()
        not_sensitive = flag.isna() | text.isin(FALSE_WORDS | {"0.0"}).fillna(False)
        sensitive = ~not_sensitive.to_numpy(dtype=bool)
    located = ~(frame.geometry.isna() | frame.geometry.is_empty).to_numpy(dtype=bool)
    return frame.loc[~sensitive & located].reset_index(drop=True), int(sensitive.sum())


def _latlon(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (WGS84 degrees) of each row's point (or representative point)."""
    if frame.empty:
        return np.empty(0), np.empty(0)
    geom = frame.geometry
    if not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    geom = gpd.GeoSeries(geom, crs=frame.crs).to_crs(WGS84)
    # 6 decimals of a degree is about 0.1 m: as precise as any register location.
    return geom.y.to_numpy(dtype=float).round(6), geom.x.to_numpy(dtype=float).round(6)


def _cost_per_m2(cost_gbp: pd.Series, gia_m2: pd.Series) -> pd.Series:
    """Annual running cost per m² (GBP/m²/yr); NaN where there is no floor area or cost."""
    return (cost_gbp / gia_m2.where(gia_m2 > 0)).astype(float)


def _radius_px(gia_m2: pd.Series) -> pd.Series:
    """Marker radius (px) with area proportional to floor area (m²), clamped to a visible range."""
    r = _RADIUS_PX_PER_SQRT_M2 * np.sqrt(gia_m2.clip(lower=0).fillna(0.0).astype(float))
    return r.clip(*_RADIUS_PX_RANGE).round(1)


def _nice(value: float) -> float:
    """Round a break (GBP/m²) to a number a reader can take in at a glance."""
    step = 1 if value < 20 else 5 if value < 100 else 10 if value < 500 else 50
    return float(round(value / step) * step)


def _cost_colormap(cost_per_m2: pd.Series, caption: str = COST_CAPTION) -> StepColormap:
    """A stepped colour scale for cost per m² (GBP/m²/yr) with rounded quantile breaks.

    Breaks sit at rounded sextiles of the finite values, from 0 to a cap at the
    98th percentile (at most ``_COST_CAP_GBP_M2``); values above the cap take
    the top colour. Fixed breaks are used when there are too few values.
    """
    values = cost_per_m2[np.isfinite(cost_per_m2)].clip(lower=0)
    breaks: list[float] = []
    if len(values) >= 2 * len(_COST_PALETTE):
        cap = _nice(min(float(values.quantile(0.98)), _COST_CAP_GBP_M2))
        inner = values.quantile(np.linspace(0, 1, len(_COST_PALETTE))[1:-1]).map(_nice)
        breaks = sorted({0.0, *(b for b in inner if 0 < b < cap), cap})
    if len(breaks) < 3:
        breaks = list(_DEFAULT_COST_BREAKS)
    n = len(breaks) - 1
    pick = np.linspace(0, len(_COST_PALETTE) - 1, n).round().astype(int)
    colours = [_COST_PALETTE[i] for i in pick]
    return StepColormap(colours, index=breaks, vmin=breaks[0], vmax=breaks[-1], caption=caption)


def _colours(values: pd.Series, cmap: StepColormap) -> pd.Series:
    """Hex colour per value from a step colour map (vectorised); grey where NaN."""
    index = np.asarray(cmap.index, dtype=float)
    palette = np.array([cmap.rgb_hex_str(x) for x in index[:-1]], dtype=object)
    arr = values.to_numpy(dtype=float)
    k = np.clip(np.searchsorted(index, arr, side="right") - 1, 0, len(palette) - 1)
    out = np.where(np.isfinite(arr), palette[k], _NO_DATA_COLOUR)
    return pd.Series(out, index=values.index, dtype=object)


# --------------------------------------------------------------------------
# Text and HTML
# --------------------------------------------------------------------------


def _escape_text(text: object) -> str:
    """HTML-escape text that is also safe inside a JavaScript template literal."""
    return (
        html.escape(str(text), quote=True)
        .replace("`", "&#96;")
        .replace("$", "&#36;")
        .replace("\\", "&#92;")
    )


def _escape(series: pd.Series, missing: str = _DASH) -> pd.Series:
    """Escape each value with :func:`_escape_text`; blank or missing values become ``missing``."""
    text = series.astype("string").str.strip().fillna("")
    return text.map(_escape_text).where(text != "", missing).astype(object)


def _codes(series: pd.Series) -> pd.Series:
    """``"a_b;c"`` lists of codes as readable, escaped ``"a b, c"`` text."""
    return _escape(series.astype("string").str.replace("_", " ").str.replace(";", ", "))


def _money(series: pd.Series, suffix: str = "") -> pd.Series:
    """Format amounts (GBP) as ``£1,234,567``; missing values become a dash."""
    values = pd.to_numeric(series, errors="coerce")
    return pd.Series([_DASH if pd.isna(v) else f"£{v:,.0f}{suffix}" for v in values],
                     index=series.index, dtype=object)


def _area(series: pd.Series) -> pd.Series:
    """Format floor areas (m²) as ``1,234 m²``; missing values become a dash."""
    values = pd.to_numeric(series, errors="coerce")
    return pd.Series([_DASH if pd.isna(v) else f"{v:,.0f} m²" for v in values],
                     index=series.index, dtype=object)


def _asset_popup_fields(frame: pd.DataFrame, cost_per_m2: pd.Series) -> pd.DataFrame:
    """Escaped, formatted popup values per asset; columns are the row labels."""
    return pd.DataFrame(
        {
            "Asset": _escape(frame["asset_id"]),
            "Partners": _codes(frame["partners"]),
            "Type": _codes(frame["asset_type"]),
            "Tenure": _codes(frame["tenure"]),
            "GIA": _area(frame["gia_m2"]),
            "Running cost": _money(frame["running_cost_gbp"], "/yr"),
            "Cost per m²": _money(cost_per_m2, "/m²/yr"),
            "Market value": _money(frame["market_value_gbp"]),
            "Backlog": _money(frame["backlog_maintenance_gbp"]),
            "Condition": _escape(frame["condition"], missing="not surveyed"),
            "Services": _codes(frame["services"]),
        },
        index=frame.index,
    )


def _sensitive_note(hidden: int) -> str:
    """The note saying how many sensitive assets are left off the map."""
    sites = "site" if hidden == 1 else "sites"
    return f"{hidden:,} sensitive {sites} not shown"


def _swatch_css(colour: str, size_px: float = 10.0) -> str:
    """Inline CSS for a round legend swatch."""
    return (
        f"display:inline-block;width:{size_px}px;height:{size_px}px;border-radius:50%;"
        f"background:{colour};border:1px solid #444;vertical-align:middle"
    )


def _size_legend_html(areas_m2: Iterable[float] = _SIZE_LEGEND_M2) -> str:
    """Legend of reference circles drawn with the same radius scale as the markers."""
    areas = pd.Series(list(areas_m2), dtype=float)
    radii = _radius_px(areas)
    height = 2 * float(radii.max()) + 4
    items = []
    for area, r in zip(areas, radii, strict=True):
        d = 2 * r + 2
        items.append(
            f'<div style="display:inline-block;text-align:center;margin-right:8px">'
            f'<svg width="{d:.0f}" height="{height:.0f}"><circle cx="{d / 2:.1f}" '
            f'cy="{height / 2:.1f}" r="{r:.1f}" fill="#bbbbbb" stroke="#444" stroke-width="0.6"/>'
            f"</svg><br>{area:,.0f} m²</div>"
        )
    return "<div><b>Floor area (GIA)</b></div><div>" + "".join(items) + "</div>"


# --------------------------------------------------------------------------
# Map plumbing
# --------------------------------------------------------------------------


def _base_map(title: str, lat: np.ndarray, lon: np.ndarray) -> folium.Map:
    """A light base map with a scale bar and title, fitted to the given points.

    With no points the map is centred on Cheshire.
    """
    fmap = folium.Map(location=CHESHIRE_CENTRE, zoom_start=_EMPTY_ZOOM, control_scale=True)
    fmap.get_root().title = _escape_text(title)
    fmap.get_root().header.add_child(Element(_POPUP_CSS), name="estate_popup_css")
    if len(lat):
        bounds = [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]
        fmap.fit_bounds(bounds, max_zoom=_FIT_MAX_ZOOM)
    _add_box(fmap, f'<b style="font-size:15px">{_escape_text(title)}</b>', corner="topcenter")
    return fmap


_CORNER_CSS: dict[str, str] = {
    "topleft": "top:10px;left:50px",
    "topcenter": "top:10px;left:50%;transform:translateX(-50%)",
    "bottomleft": "bottom:24px;left:10px",
    "bottomright": "bottom:24px;right:10px",
}


def _add_box(fmap: folium.Map, inner_html: str, corner: str = "bottomleft") -> None:
    """Float a white box of (already escaped) HTML over a corner of the map."""
    style = (
        f"position:fixed;{_CORNER_CSS[corner]};z-index:9999;background:rgba(255,255,255,0.92);"
        "padding:6px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,0.3);"
        "font:12px sans-serif"
    )
    fmap.get_root().html.add_child(Element(f'<div style="{style}">{inner_html}</div>'))


class _CircleMarkerCluster(MarkerCluster):
    """A marker cluster whose circle markers are built in the browser from compact rows.

    Each row is ``[lat, lon, radius_px, fill_colour, tooltip_html, *field_html]``;
    the popup is a table of ``labels`` against the fields, built when opened.
    All text must already be HTML-escaped.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.markerClusterGroup({{ this.options|tojavascript }});
            (function (cluster) {
                var labels = {{ this.labels_json }};
                var style = {{ this.style_json }};
                var rows = {{ this.rows_json }};
                function popup(layer) {
                    var row = layer.options.row;
                    var html = '<div class="estate-popup"><b>' + row[4] + '</b><table>';
                    for (var j = 0; j < labels.length; j++) {
                        html += '<tr><th>' + labels[j] + '</th><td>' + row[5 + j] + '</td></tr>';
                    }
                    return html + '</table></div>';
                }
                var markers = new Array(rows.length);
                for (var i = 0; i < rows.length; i++) {
                    var row = rows[i];
                    markers[i] = L.circleMarker(
                        [row[0], row[1]],
                        Object.assign({radius: row[2], fillColor: row[3], row: row}, style)
                    ).bindPopup(popup, {maxWidth: {{ this.popup_max_width }}})
                     .bindTooltip(row[4], {sticky: true});
                }
                cluster.addLayers(markers);
            })({{ this.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self, rows: list[list[object]], labels: Sequence[str], style: dict[str, object]
    ) -> None:
        super().__init__(control=False, options=_CLUSTER_OPTIONS)
        self._name = "CircleMarkerCluster"
        self.rows_json = _script_json(rows)
        self.labels_json = _script_json(list(labels))
        self.style_json = _script_json({camelize(k): v for k, v in style.items()})
        self.popup_max_width = _POPUP_MAX_WIDTH_PX


def _script_json(value: object) -> str:
    """Compact JSON that is safe to embed in an HTML ``<script>`` element."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _write_atomic(fmap: folium.Map, path: str | Path) -> int:
    """Save the map to ``path`` all-or-nothing (see :func:`estate._io.atomic_path`); return bytes written."""
    with atomic_path(path) as tmp:
        fmap.save(str(tmp))
        size = tmp.stat().st_size
    return size
