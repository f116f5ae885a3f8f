"""The access map: per service, minutes from each zone to its nearest site, before and after the plan.

For each service with a standard there are three views, one shown at a time:
*before* and *after* colour zones by minutes to the nearest site (grey: no
site within the access table's cutoff), with zones beyond the standard
outlined in black dashes (for a "no worse" standard, the after view outlines
zones further than today); *change* shows only the zones the plan makes worse,
shaded by how many minutes they lose. Polygons are simplified and written once,
with every view styled in the browser from the same data.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from folium.template import Template

from estate.maps._base import (MapStats, _base_map, _complete, _escape_text, _latlon, _script_json, _split_sensitive,
                               _swatch_css)
from estate.register.schema import WGS84

#: Minute bins and their colours (ColorBrewer YlGnBu reversed: short trips dark).
MINUTE_BREAKS: tuple[float, ...] = (10, 20, 30, 45, 60)
MINUTE_COLOURS: tuple[str, ...] = ("#253494", "#2c7fb8", "#41b6c4", "#a1dab4", "#ffffcc", "#fdae61")
UNREACHED_COLOUR = "#bdbdbd"
#: Minutes lost, for the change view.
WORSE_BREAKS: tuple[float, ...] = (2, 5, 10)
WORSE_COLOURS: tuple[str, ...] = ("#fcbba1", "#fb6a4a", "#de2d26", "#a50f15")
#: Polygon simplification tolerance (metres, in EPSG:27700) and coordinate decimals (≈1 m).
SIMPLIFY_M = 40.0
DECIMALS = 5


class _AccessLayers(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var zones = {{ this.zones }};
            var services = {{ this.services }};
            var breaks = {{ this.breaks }}, colours = {{ this.colours }};
            var worseBreaks = {{ this.worse_breaks }}, worseColours = {{ this.worse_colours }};
            function minuteColour(v) {
                if (v === null) return '{{ this.unreached }}';
                for (var i = 0; i < breaks.length; i++) if (v <= breaks[i]) return colours[i];
                return colours[colours.length - 1];
            }
            function worseColour(d) {
                for (var i = 0; i < worseBreaks.length; i++) if (d <= worseBreaks[i]) return worseColours[i];
                return worseColours[worseColours.length - 1];
            }
            function fmt(v) { return v === null ? 'no site within reach' : v.toFixed(1) + ' min'; }
            function beyond(s, b, a, view) {
                var v = view === 'before' ? b : a;
                if (s.rule === 'no_worse') return view === 'after' && b !== null && (a === null || a > b + 1e-6);
                return v === null || v > s.minutes;
            }
            var base = {}, first = null;
            services.forEach(function (s, k) {
                ['before', 'after', 'change'].forEach(function (view) {
                    var layer = L.geoJSON(zones, {
                        style: function (f) {
                            var t = f.properties.t[k], b = t[0], a = t[1];
                            if (view === 'change') {
                                var worse = b !== null && (a === null || a > b + 1e-6);
                                var lost = a === null ? 99 : a - b;
                                return {weight: 0.4, color: '#666', fillOpacity: worse ? 0.8 : 0.15,
                                        fillColor: worse ? worseColour(lost) : '#f0f0f0'};
                            }
                            var out = beyond(s, b, a, view);
                            return {weight: out ? 1.6 : 0.4, color: out ? '#000' : '#666',
                                    dashArray: out ? '4 3' : null, fillOpacity: 0.7,
                                    fillColor: minuteColour(view === 'before' ? b : a)};
                        },
                        onEachFeature: function (f, l) {
                            var t = f.properties.t[k];
                            l.bindTooltip('<b>' + f.properties.id + '</b> (' + f.properties.pop.toLocaleString() +
                                          ' people)<br>' + s.name + '<br>before: ' + fmt(t[0]) + '<br>after: ' + fmt(t[1]));
                        }
                    });
                    var label = s.name + ': ' + {before: 'before', after: 'after the plan',
                                                 change: 'zones made worse'}[view];
                    base[label] = layer;
                    if (!first) first = layer;
                });
            });
            if (first) first.addTo(map);
            var overlays = {};
            overlays[{{ this.buildings_label }}] = window.estateBuildings;
            L.control.layers(base, overlays, {collapsed: false}).addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, zones: dict, services: list[dict], buildings_label: str) -> None:
        super().__init__()
        self._name = "AccessLayers"
        self.zones = _script_json(zones)
        self.services = _script_json(services)
        self.breaks = _script_json(list(MINUTE_BREAKS))
        self.colours = _script_json(list(MINUTE_COLOURS))
        self.worse_breaks = _script_json(list(WORSE_BREAKS))
        self.worse_colours = _script_json(list(WORSE_COLOURS))
        self.unreached = UNREACHED_COLOUR
        self.buildings_label = _script_json(buildings_label)


class _Buildings(MacroElement):
    """Kept buildings as small dots (an overlay, off at first), searchable by name."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var rows = {{ this.rows }};
            var markers = rows.map(function (r) {
                return L.circleMarker([r[0], r[1]], {radius: 3, color: '#333', weight: 0.6, fillColor: r[3],
                                                     fillOpacity: 0.9, title: r[2]}).bindTooltip(r[2]);
            });
            window.estateBuildings = L.layerGroup(markers);
            window.estateSearchable = (window.estateSearchable || []).concat(markers);
            var map = {{ this._parent.get_name() }};
            markers.forEach(function (m) {
                m.estateShow = function () { if (!map.hasLayer(window.estateBuildings)) window.estateBuildings.addTo(map); };
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, rows: list) -> None:
        super().__init__()
        self._name = "Buildings"
        self.rows = _script_json(rows)


def _zones_json(zones: gpd.GeoDataFrame, services: list[dict]) -> dict:
    """Simplified zone polygons (WGS84) with id, population and [before, after] minutes per service."""
    g = zones.to_crs("EPSG:27700").geometry.simplify(SIMPLIFY_M, preserve_topology=True).to_crs(WGS84)
    g = g.set_precision(10 ** -DECIMALS)
    features = []
    times = []
    for s in services:
        b = zones[f"{s['code']}_before_min"].to_numpy(float)
        a = zones[f"{s['code']}_after_min"].to_numpy(float)
        times.append((np.round(b, 1), np.round(a, 1)))
    geo = g.__geo_interface__["features"] if len(g) else []
    for i, feature in enumerate(geo):
        t = [[None if np.isnan(b[i]) else float(b[i]), None if np.isnan(a[i]) else float(a[i])] for b, a in times]
        features.append({"type": "Feature", "geometry": feature["geometry"],
                         "properties": {"id": _escape_text(zones["zone_id"].iat[i]),
                                        "pop": float(zones["population"].iat[i]), "t": t}})
    return {"type": "FeatureCollection", "features": features}


def access_map(zones: gpd.GeoDataFrame, services: list[dict], assets: gpd.GeoDataFrame, path: str | Path, *,
               title: str = "Access to services, before and after the plan") -> MapStats:
    """Write the access map.

    Parameters
    ----------
    zones
        Demand zones (``plan.gpkg`` layer ``zones``): ``zone_id``,
        ``population``, polygons, and ``<service>_before_min`` /
        ``<service>_after_min`` for each service.
    services
        One dict per service with a standard: ``code``, ``name``, ``mode``,
        ``rule`` (``share`` or ``no_worse``), ``minutes`` and ``share``.
    assets
        The plan's assets; kept buildings (not sensitive) are drawn as a
        searchable overlay.
    path
        Output HTML file, written atomically.

    Returns
    -------
    MapStats
    """
    services = [s for s in services if f"{s['code']}_before_min" in zones and f"{s['code']}_after_min" in zones]
    data = _zones_json(zones, services)
    kept = assets[assets["decision"] != "dispose"] if "decision" in assets else assets
    shown, hidden = _split_sensitive(kept, ("asset_id", "name", "sensitive"))
    lat, lon = _latlon(shown)
    colour = np.where(shown.get("decision", pd.Series("keep", index=shown.index)) == "hub", "#6a3d9a", "#1f78b4")
    rows = [[a, b, _escape_text(n), c] for a, b, n, c in zip(lat, lon, shown["name"], colour)]
    bounds = zones.to_crs(WGS84).total_bounds if len(zones) else None
    fmap = _base_map(title, np.array([bounds[1], bounds[3]]) if bounds is not None else lat,
                     np.array([bounds[0], bounds[2]]) if bounds is not None else lon)
    _Buildings(rows).add_to(fmap)
    label = f"Buildings after the plan ({len(shown):,})"
    _AccessLayers(data, [{**s, "name": _escape_text(s["name"])} for s in services], label).add_to(fmap)

    edges = [0, *MINUTE_BREAKS]
    items = [f'<div><span style="{_swatch_css(c)};border-radius:2px"></span> '
             f'{lo:g}–{hi:g} min</div>' for lo, hi, c in zip(edges[:-1], edges[1:], MINUTE_COLOURS)]
    items.append(f'<div><span style="{_swatch_css(MINUTE_COLOURS[-1])};border-radius:2px"></span> over '
                 f'{MINUTE_BREAKS[-1]:g} min</div>')
    items.append(f'<div><span style="{_swatch_css(UNREACHED_COLOUR)};border-radius:2px"></span> no site within '
                 'reach</div>')
    standards = "".join(
        f"<div>{_escape_text(s['name'])}: "
        + (f"{s['minutes']:g} min by {s['mode'].replace('_', ' ')} for {s['share']:.0%}" if s["rule"] == "share"
           else f"no zone further by {s['mode'].replace('_', ' ')} than today") + "</div>" for s in services)
    worse_edges = [0, *WORSE_BREAKS]
    worse = "".join(f'<span style="{_swatch_css(c)};border-radius:2px"></span> '
                    f'{"+" + format(lo, "g") + "–" + format(hi, "g") if i < len(WORSE_BREAKS) else "over +" + format(worse_edges[-1], "g")} '
                    for i, (lo, hi, c) in enumerate(zip(worse_edges, [*WORSE_BREAKS, None], WORSE_COLOURS)))
    legend = ("<div><b>Minutes to the nearest site</b></div>" + "".join(items)
              + '<div style="margin-top:4px"><span style="display:inline-block;width:14px;height:10px;'
                'border:1.6px dashed #000;vertical-align:middle"></span> beyond the standard</div>'
              + f"<div><b>Zones made worse</b> (minutes lost)</div><div>{worse}</div>"
              + f"<div style='margin-top:4px'><b>Standards</b></div>{standards}")
    return _complete(fmap, legend, hidden, path, len(shown))
