"""Plumbing shared by the maps: base map, legends, scales, popups, clusters, offline writing.

Sensitive assets (``sensitive == True``, e.g. refuges) are never drawn: they
are dropped before anything is rendered, so neither their coordinates nor
their names reach the HTML. The map only states how many were left out.

Markers are drawn in the browser from one compact JSON array per layer
(``_CircleMarkerCluster``) rather than one folium object each: the same
circles, popups and tooltips at a tenth of the file size and a twentieth of
the writing time, which keeps 100,000 assets usable.

Every map is one self-contained HTML file: the Leaflet libraries it needs are
inlined from ``estate/static/vendor`` (see its README), so a map opens with no
network. Only the background tiles come from OpenStreetMap when online.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import mimetypes
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.colormap import StepColormap
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen, MarkerCluster, Search
from folium.template import Template
from folium.utilities import camelize

from estate._io import GENERATOR_TAG, atomic_path
from estate.register.schema import BNG, FALSE_WORDS, WGS84


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


def _is_true(value: object) -> bool:
    """A flag as read back from a GeoPackage (bool, numpy bool or 0/1); NaN and None are false."""
    return isinstance(value, (bool, np.bool_, int, np.integer)) and bool(value)


def _estimated_note(flags: Iterable[object]) -> list[str]:
    """" (estimated)" for each running cost that is a benchmark estimate, "" for the others."""
    return [" (estimated)" if _is_true(f) else "" for f in flags]


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


def _step_legend_html(cmap: StepColormap, caption: str | None = None, unit: str = "") -> str:
    """A stepped colour scale as HTML swatches with their ranges (no JavaScript needed)."""
    index = list(cmap.index)
    items = []
    for lo, hi in zip(index[:-1], index[1:]):
        colour = cmap.rgb_hex_str(lo)
        items.append(f'<div><span style="{_swatch_css(colour)};border-radius:2px"></span> '
                     f'{lo:,.0f}–{hi:,.0f}{unit}</div>')
    return f"<div><b>{_escape_text(caption or cmap.caption)}</b></div>" + "".join(items)


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
    # Leaflet alone: the jQuery, Bootstrap and icon-font links folium adds by default are not used.
    fmap.default_js = [js for js in folium.Map.default_js if js[0] == "leaflet"]
    fmap.default_css = [css for css in folium.Map.default_css if css[0] == "leaflet_css"]
    fmap.get_root().title = _escape_text(title)
    fmap.get_root().header.add_child(Element(_POPUP_CSS), name="estate_popup_css")
    fmap.get_root().header.add_child(Element(GENERATOR_TAG), name="estate_generator")
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
                        Object.assign({radius: row[2], fillColor: row[3], row: row, title: row[4]}, style)
                    ).bindPopup(popup, {maxWidth: {{ this.popup_max_width }}})
                     .bindTooltip(row[4], {sticky: true});
                    markers[i].estateCluster = cluster;
                }
                cluster.addLayers(markers);
                window.estateSearchable = (window.estateSearchable || []).concat(markers);
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


class _SearchByName(JSCSSMixin, MacroElement):
    """A search box over every marker registered in ``window.estateSearchable`` (by its ``title``).

    Picking a name zooms to the marker (out of its cluster) and opens its popup.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function (map) {
                var byTitle = {}, records = [], decoder = document.createElement('textarea');
                (window.estateSearchable || []).forEach(function (m) {
                    decoder.innerHTML = m.options.title || '';  // titles are HTML-escaped; search plain text
                    var t = decoder.value;
                    if (!t || byTitle[t]) return;
                    byTitle[t] = m;
                    var ll = m.getLatLng();
                    records.push({title: t, loc: [ll.lat, ll.lng]});
                });
                var search = new L.Control.Search({
                    sourceData: function (text, callResponse) { callResponse(records); return {abort: function () {}}; },
                    propertyName: 'title', propertyLoc: 'loc', initial: false, marker: false, zoom: 17, collapsed: false,
                    textPlaceholder: {{ this.placeholder|tojson }}, position: 'topleft',
                    moveToLocation: function (latlng, title, map) {},
                    buildTip: function (text) {  // as text, never as HTML
                        var tip = document.createElement('a');
                        tip.textContent = text;
                        return tip;
                    }
                });
                search.on('search:locationfound', function (e) {
                    var m = byTitle[e.text];
                    if (!m) return;
                    if (!map.hasLayer(m) && m.estateShow) m.estateShow();
                    if (m.estateCluster && m.estateCluster.zoomToShowLayer) {
                        m.estateCluster.zoomToShowLayer(m, function () { m.openPopup(); });
                    } else {
                        map.setView(m.getLatLng(), 16);
                        m.openPopup();
                    }
                });
                map.addControl(search);
            })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )
    default_js = Search.default_js
    default_css = Search.default_css

    def __init__(self, placeholder: str = "Search by asset name") -> None:
        super().__init__()
        self._name = "SearchByName"
        self.placeholder = placeholder


def _complete(fmap: folium.Map, legend: str, hidden: int, path: str | Path, markers: int) -> MapStats:
    """Add the legend (with the sensitive-site note), the common controls, and write the map."""
    if hidden:
        legend += f"<div><b>{_sensitive_note(hidden)}</b></div>"
    _add_box(fmap, legend, corner="bottomleft")
    _finish(fmap)
    size = _write_atomic(fmap, path)
    return MapStats(path=Path(path), markers=markers, hidden_sensitive=hidden, bytes=size)


def _finish(fmap: folium.Map, search: bool = True) -> None:
    """Add the controls every map has: fullscreen and (when it has markers) search by asset name."""
    Fullscreen(position="topleft", title="Full screen", title_cancel="Leave full screen").add_to(fmap)
    if search:
        _SearchByName().add_to(fmap)


_VENDOR = Path(__file__).resolve().parents[1] / "static" / "vendor"
#: The file each library URL folium writes is replaced by (matched on the URL's last part).
_VENDORED: dict[str, str] = {
    "leaflet.js": "leaflet/leaflet.js",
    "leaflet.css": "leaflet/leaflet.css",
    "leaflet.markercluster.js": "markercluster/leaflet.markercluster.js",
    "MarkerCluster.css": "markercluster/MarkerCluster.css",
    "MarkerCluster.Default.css": "markercluster/MarkerCluster.Default.css",
    "Control.FullScreen.min.js": "fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "fullscreen/Control.FullScreen.css",
    "leaflet-search.min.js": "search/leaflet-search.min.js",
    "leaflet-search.min.css": "search/leaflet-search.min.css",
}
_SCRIPT_TAG = re.compile(r'<script src="(https?://[^"]+)"></script>')
_CSS_TAG = re.compile(r'<link rel="stylesheet" href="(https?://[^"]+)"\s*/>')
_CSS_URL = re.compile(r"url\((['\"]?)([^)'\"#][^)'\"]*)\1\)")


def _vendored(url: str) -> Path:
    name = url.rsplit("/", 1)[-1]
    if name not in _VENDORED:
        raise ValueError(f"the map needs {url}, which estate does not ship; maps must open offline")
    return _VENDOR / _VENDORED[name]


def _data_uri(css_file: Path, ref: str) -> str:
    """A CSS ``url(...)`` target as a data URI (images beside the CSS or in its ``images/`` folder)."""
    name = ref.rsplit("/", 1)[-1]
    for candidate in (css_file.parent / ref, css_file.parent / "images" / name, css_file.parent / name):
        if candidate.is_file():
            kind = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
            return f"url(data:{kind};base64,{base64.b64encode(candidate.read_bytes()).decode()})"
    raise ValueError(f"{css_file} refers to {ref}, which is not vendored")


@functools.lru_cache(maxsize=None)
def _inlined(url: str) -> str:
    """The ``<script>`` or ``<style>`` element that replaces a library link (read once per process)."""
    path = _vendored(url)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".css":
        css = _CSS_URL.sub(lambda m: _data_uri(path, m.group(2)), text)
        return f"<style>/* estate vendored: {path.relative_to(_VENDOR)} */\n{css}</style>"
    code = text.replace("</script", "<\\/script")
    return f"<script>/* estate vendored: {path.relative_to(_VENDOR)} */\n{code}</script>"


def _inline(page: str) -> str:
    """Replace every library link of a rendered map with the vendored file's text."""
    page = _SCRIPT_TAG.sub(lambda m: _inlined(m.group(1)), page)
    return _CSS_TAG.sub(lambda m: _inlined(m.group(1)), page)


def _write_atomic(fmap: folium.Map, path: str | Path) -> int:
    """Render the map with its libraries inlined and save it to ``path`` all-or-nothing
    (see :func:`estate._io.atomic_path`); return bytes written."""
    page = _inline(fmap.get_root().render())
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
        size = tmp.stat().st_size
    return size
