"""The plan map: kept, hub and disposed buildings, team moves and the headline figures.

Markers have a shape and a colour per decision (hub: purple square, keep: blue
circle, dispose: red triangle; buildings outside the plan: small grey dots,
hidden at first). A panel filters by decision, by partner and by exit (or move) year. Each popup gives
the decision, exit year, receipt, running-cost saving and the teams moving in
or out. Move lines run from the old building to the new one. Sensitive sites
are not drawn, and no move line ends at one.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement
from folium.template import Template

from estate.maps._base import (MapStats, _add_box, _base_map, _complete, _escape_text, _estimated_note, _latlon,
                               _script_json,
                               _split_sensitive)
from estate.wording import headline_figures

#: Decision codes in drawing order: label, colour, shape, shown at first.
DECISIONS: dict[str, tuple[str, str, str, bool]] = {
    "hub": ("Hub (kept, shared by partners)", "#6a3d9a", "square", True),
    "keep": ("Kept", "#1f78b4", "circle", True),
    "dispose": ("Disposed of", "#e31a1c", "triangle", True),
    "outside": ("Outside the plan (no teams; kept)", "#9e9e9e", "dot", False),
}
MOVE_COLOUR = "#ff7f00"

#: Columns of the plan's assets the plan map reads.
PLAN_MAP_COLUMNS = ("asset_id", "partner", "name", "asset_type", "tenure", "gia_m2", "running_cost_gbp",
                 "decision", "exit_year", "in_plan", "keep_reason", "partners_after", "teams_before",
                 "teams_after", "fte_before", "fte_after", "sensitive")


def _svg(shape: str, colour: str, size: int = 14) -> str:
    half = size / 2
    body = {
        "square": f'<rect x="1" y="1" width="{size - 2}" height="{size - 2}"/>',
        "circle": f'<circle cx="{half}" cy="{half}" r="{half - 1}"/>',
        "triangle": f'<polygon points="{half},1 {size - 1},{size - 1} 1,{size - 1}"/>',
        "dot": f'<circle cx="{half}" cy="{half}" r="{half / 2}"/>',
    }[shape]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}">'
            f'<g fill="{colour}" fill-opacity="0.9" stroke="#222" stroke-width="1">{body}</g></svg>')


def _money(value: float) -> str:
    return "–" if value is None or pd.isna(value) else f"£{value:,.0f}"


def _popups(shown: pd.DataFrame, moves: pd.DataFrame, disposals: pd.DataFrame | None) -> list[str]:
    """One escaped HTML popup per shown asset."""
    names = shown.set_index("asset_id")["name"].astype(str).to_dict()
    out_lines = {k: g for k, g in moves.groupby("from_asset_id")} if len(moves) else {}
    in_lines = {k: g for k, g in moves.groupby("to_asset_id")} if len(moves) else {}
    d = disposals.set_index("asset_id") if disposals is not None and len(disposals) else None
    popups = []
    for row in shown.itertuples(index=False):
        code = row.decision if row.in_plan or row.decision == "hub" else "outside"
        rows = [("Decision", DECISIONS[code][0]), ("Asset", row.asset_id), ("Partner", row.partner),
                ("Type", str(row.asset_type).replace("_", " ")), ("Tenure", row.tenure),
                ("Floor area", f"{row.gia_m2:,.0f} m²"),
                ("Running cost", _money(row.running_cost_gbp) + "/yr"
                 + _estimated_note([getattr(row, "running_cost_estimated", False)])[0])]
        if row.decision == "dispose":
            rows.append(("Exit year", row.exit_year or "–"))
            if d is not None and row.asset_id in d.index:
                rows.append(("Net receipt", _money(d.loc[row.asset_id, "receipt_gbp"])))
            rows.append(("Saving", _money(row.running_cost_gbp) + "/yr"))
        elif row.keep_reason:
            rows.append(("Why kept", row.keep_reason))
        if row.partners_after:
            rows.append(("Partners after", str(row.partners_after).replace(";", ", ")))
        rows.append(("Teams", f"{row.teams_before} → {row.teams_after} ({row.fte_before:,.0f} → "
                              f"{row.fte_after:,.0f} FTE)"))
        html = f'<div class="estate-popup"><b>{_escape_text(row.name)}</b><table>'
        html += "".join(f"<tr><th>{_escape_text(k)}</th><td>{_escape_text(v)}</td></tr>" for k, v in rows)
        html += "</table>"
        for title, group, other in (("Moving out", out_lines.get(row.asset_id), "to_asset_id"),
                                    ("Moving in", in_lines.get(row.asset_id), "from_asset_id")):
            if group is None:
                continue
            items = "".join(f"<li>{_escape_text(t)} ({_escape_text(p)}, {f:,.1f} FTE) "
                            f"{'to' if other == 'to_asset_id' else 'from'} {_escape_text(names.get(o, 'another building'))}"
                            f"</li>" for t, p, f, o in zip(group["team"], group["partner"], group["fte"], group[other]))
            html += f"<div><b>{title}</b><ul style='margin:2px 0 0 16px;padding:0'>{items}</ul></div>"
        popups.append(html + "</div>")
    return popups


class _PlanLayers(MacroElement):
    """Markers, move lines and the decision/partner filter, built in the browser from compact rows."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var decisions = {{ this.decisions }};
            var partners = {{ this.partners }};
            var rows = {{ this.rows }};   // [lat, lon, decision, partner index, name, popup, exit year]
            var moves = {{ this.moves }}; // [lat0, lon0, lat1, lon1, partner index, tooltip, financial year]
            var years = {{ this.years }};
            var icons = {};
            Object.keys(decisions).forEach(function (k) {
                icons[k] = L.divIcon({className: 'estate-icon', html: decisions[k].svg,
                                      iconSize: [14, 14], iconAnchor: [7, 7]});
            });
            var state = {d: {}, p: {}, y: {}, moves: true};
            years.forEach(function (y) { state.y[y] = true; });
            Object.keys(decisions).forEach(function (k) { state.d[k] = decisions[k].on; });
            partners.forEach(function (p, i) { state.p[i] = true; });
            var shown = L.layerGroup().addTo(map), lines = L.layerGroup().addTo(map);
            var markers = rows.map(function (r) {
                var m = L.marker([r[0], r[1]], {icon: icons[r[2]], title: r[4], decision: r[2], partner: r[3],
                                                 year: r[6], zIndexOffset: r[2] === 'outside' ? -1000 : 0});
                m.bindPopup(r[5], {maxWidth: 380}).bindTooltip(r[4]);
                m.estateShow = function () { shown.addLayer(m); };
                return m;
            });
            var paths = moves.map(function (v) {
                return L.polyline([[v[0], v[1]], [v[2], v[3]]], {color: '{{ this.move_colour }}', weight: 1.5,
                                   opacity: 0.75, partner: v[4], year: v[6]}).bindTooltip(v[5]);
            });
            function refresh() {
                shown.clearLayers(); lines.clearLayers();
                markers.forEach(function (m) {
                    if (state.d[m.options.decision] && state.p[m.options.partner] &&
                        (!m.options.year || state.y[m.options.year])) shown.addLayer(m);
                });
                if (state.moves) paths.forEach(function (l) {
                    if (state.p[l.options.partner] && (!l.options.year || state.y[l.options.year])) lines.addLayer(l);
                });
            }
            var panel = L.control({position: 'topright'});
            panel.onAdd = function () {
                var div = L.DomUtil.create('div', 'estate-filter leaflet-control-layers leaflet-control-layers-expanded');
                var html = '<b>Decision</b>';
                Object.keys(decisions).forEach(function (k) {
                    html += '<label><input type="checkbox" data-d="' + k + '"' + (state.d[k] ? ' checked' : '') +
                            '> ' + decisions[k].svg + ' ' + decisions[k].label + ' (' + decisions[k].n + ')</label>';
                });
                html += '<label><input type="checkbox" data-m="1" checked> <span style="color:{{ this.move_colour }}">' +
                        '&#9472;&#9472;</span> Team moves (' + moves.length + ')</label><b>Partner</b>';
                partners.forEach(function (p, i) {
                    html += '<label><input type="checkbox" data-p="' + i + '" checked> ' + p + '</label>';
                });
                if (years.length) html += '<b>Exit or move year</b>';
                years.forEach(function (y) {
                    html += '<label><input type="checkbox" data-y="' + y + '" checked> ' + y + '</label>';
                });
                div.innerHTML = html;
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                div.addEventListener('change', function (e) {
                    var t = e.target;
                    if (t.dataset.d) state.d[t.dataset.d] = t.checked;
                    if (t.dataset.p) state.p[t.dataset.p] = t.checked;
                    if (t.dataset.y) state.y[t.dataset.y] = t.checked;
                    if (t.dataset.m) state.moves = t.checked;
                    refresh();
                });
                return div;
            };
            panel.addTo(map);
            window.estateSearchable = (window.estateSearchable || []).concat(markers);
            refresh();
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, decisions: dict, partners: list[str], rows: list, moves: list, years: list[str]) -> None:
        super().__init__()
        self._name = "PlanLayers"
        self.decisions = _script_json(decisions)
        self.partners = _script_json(partners)
        self.rows = _script_json(rows)
        self.moves = _script_json(moves)
        self.years = _script_json(years)
        self.move_colour = MOVE_COLOUR


_FILTER_CSS = """<style>
.estate-filter{font:12px sans-serif;max-height:70vh;overflow:auto;padding:6px 10px}
.estate-filter label{display:block;margin:1px 0;white-space:nowrap}
.estate-filter svg{vertical-align:middle}
.estate-icon{background:none;border:none}
</style>"""


def _summary_html(summary: dict) -> str:
    rows = headline_figures(summary)
    body = "".join(f"<tr><th style='text-align:left;padding-right:8px'>{_escape_text(k)}</th>"
                   f"<td>{_escape_text(v)}</td></tr>" for k, v in rows)
    return f"<div><b>The plan in figures</b></div><table>{body}</table>"


def plan_map(assets: gpd.GeoDataFrame, moves: gpd.GeoDataFrame, summary: dict, path: str | Path, *,
             disposals: pd.DataFrame | None = None, title: str = "Estate plan: hubs, disposals and moves") -> MapStats:
    """Write the interactive plan map.

    Parameters
    ----------
    assets
        The plan's assets (``plan.gpkg`` layer ``assets``: register columns plus
        ``decision``, ``exit_year``, ``in_plan``, ``keep_reason``,
        ``partners_after``, team and FTE counts), point geometry.
    moves
        The plan's moves (``occupier_id, team, partner, fte, from_asset_id,
        to_asset_id``); lines are drawn between the assets' points.
    summary
        ``plan_summary.json`` as a dict, for the headline panel.
    path
        Output HTML file, written atomically.
    disposals
        Optional programme disposals (``asset_id``, ``receipt_gbp``) for the popups.

    Returns
    -------
    MapStats
    """
    shown, hidden = _split_sensitive(assets, PLAN_MAP_COLUMNS)
    lat, lon = _latlon(shown)
    shown = shown.assign(_lat=lat, _lon=lon)
    mv = pd.DataFrame(moves.drop(columns="geometry", errors="ignore"))
    # Only moves between buildings on the map are drawn: never one to or from a sensitive (withheld) site.
    mv = mv[mv["from_asset_id"].isin(shown["asset_id"]) & mv["to_asset_id"].isin(shown["asset_id"])] if len(mv) \
        else mv
    code = np.where(shown["in_plan"].to_numpy(bool) | (shown["decision"] == "hub").to_numpy(), shown["decision"],
                    "outside")
    partners = sorted(shown["partner"].astype(str).unique())
    pidx = {p: i for i, p in enumerate(partners)}
    popups = _popups(shown, mv, disposals)
    exit_label = np.where(code == "dispose", shown["exit_year"].fillna("").astype(str), "")
    rows = [[a, b, c, pidx[str(p)], _escape_text(n), h, y] for a, b, c, p, n, h, y in
            zip(shown["_lat"], shown["_lon"], code, shown["partner"], shown["name"], popups, exit_label)]
    at = shown.set_index("asset_id")[["_lat", "_lon"]]
    names = shown.set_index("asset_id")["name"].astype(str)
    lines = []
    if len(mv):
        p0, p1 = at.loc[mv["from_asset_id"]].to_numpy(), at.loc[mv["to_asset_id"]].to_numpy()
        move_year = (mv["financial_year"].fillna("").astype(str) if "financial_year" in mv
                     else pd.Series("", index=mv.index))
        for (a, b), (c, d), partner, team, fte, f, t, y in zip(p0, p1, mv["partner"], mv["team"], mv["fte"],
                                                               mv["from_asset_id"], mv["to_asset_id"], move_year):
            tip = _escape_text(f"{team} ({partner}, {fte:,.1f} FTE): {names[f]} → {names[t]}" + (f", {y}" if y else ""))
            lines.append([a, b, c, d, pidx.get(str(partner), 0), tip, y])
    counts = pd.Series(code).value_counts()
    decisions = {k: {"label": label, "svg": _svg(shape, colour), "on": on, "n": int(counts.get(k, 0))}
                 for k, (label, colour, shape, on) in DECISIONS.items()}

    fmap = _base_map(title, lat, lon)
    fmap.get_root().header.add_child(Element(_FILTER_CSS), name="estate_filter_css")
    years = sorted({r[6] for r in rows if r[6]} | {v[6] for v in lines if v[6]})
    _PlanLayers(decisions, partners, rows, lines, years).add_to(fmap)
    legend = "<div><b>Decision</b></div>" + "".join(
        f"<div>{d['svg']} {_escape_text(d['label'])}</div>" for d in decisions.values())
    legend += f'<div><span style="color:{MOVE_COLOUR}">&#9472;&#9472;</span> team move (old → new building)</div>'
    _add_box(fmap, _summary_html(summary), corner="bottomright")
    return _complete(fmap, legend, hidden, path, len(shown))

