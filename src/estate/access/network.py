"""Travel times over a road and path network built from an OpenStreetMap extract.

The ``network`` access engine. It reads an OpenStreetMap XML extract
(``.osm``, optionally ``.osm.bz2`` or ``.osm.gz``) with osmnx, keeps the ways
each mode may use, projects the network to British National Grid and finds
shortest travel times from every demand zone to every site with
:func:`scipy.sparse.csgraph.dijkstra`, run from the sites.

Rules, in one place
-------------------
Ways
    Only ways with a ``highway`` tag are network edges; buildings, land use
    and other ways in the extract are ignored. Ways that do not exist on the
    ground (``highway`` = proposed, construction, abandoned, planned, razed,
    disused, no, platform, raceway, busway, bus_guideway) are never used. A way
    tagged ``access`` = no or private is used only if the mode's own tag
    (below) allows it; a mode's own tag = no or private always excludes it.
car
    Directed: one-way streets (``oneway``, roundabouts) are followed. Not on
    footway, path, cycleway, pedestrian, steps, bridleway, track, corridor,
    elevator, escalator, nor ``area=yes``, unless ``motorcar`` or
    ``motor_vehicle`` = yes/designated/permissive/destination. Own tags, most
    specific first: ``motorcar``, ``motor_vehicle``, ``vehicle``, ``access``.
walk
    Undirected (``oneway`` is ignored). Not on motorway, motorway_link, trunk,
    trunk_link unless ``foot`` = yes/designated/permissive. Own tags: ``foot``,
    ``access``.
cycle
    Undirected (``oneway`` is ignored: contraflow cycling is assumed). Not on
    motorway, motorway_link, steps, corridor, elevator, escalator, and not on
    footway or pedestrian unless ``bicycle`` = yes/designated/permissive. Own
    tags: ``bicycle``, ``vehicle``, ``access``.
Component
    Only the largest weakly connected part of each mode's network is kept, so
    that no point snaps onto an island (a path in a park, a fragment cut by the
    edge of the extract).
Edge times
    Lengths are straight segments between OSM nodes in EPSG:27700 metres (the
    network is not topologically simplified, so every bend stays a node). Walk
    and cycle edges take ``length / speeds_kmh[mode]``. Car edges take
    osmnx's speed per edge (the ``maxspeed`` tag, mph converted; else
    :data:`CAR_DEFAULT_SPEEDS_KMH` by highway type; else
    :data:`CAR_FALLBACK_SPEED_KMH`), *capped* at ``speeds_kmh["car"]``: the
    scenario's car speed is the top speed of the network. Pass a high value
    (for example 130) to drive at the speed limits.
Access legs
    Each zone and each site is snapped to its nearest network node (a k-d
    tree over node coordinates). The straight line from the point to that node
    is travelled at the mode's own speed (``speeds_kmh[mode]``) and added to
    the network time at both ends. Points far from the network (more than
    :data:`FAR_FROM_NETWORK_M`, say) are kept, never dropped: their access leg
    simply makes them slow.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax import SAXException

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from estate._errors import EstateError, SourceError
from estate.access import ACCESS_COLUMNS
from estate.register.schema import BNG

if TYPE_CHECKING:
    import networkx

#: Modes this engine can route.
NETWORK_MODES: tuple[str, ...] = ("car", "walk", "cycle")

_MPH = 1.609344

#: Car speeds (km/h) by OSM highway type for ways without a usable ``maxspeed``
#: tag: typical UK free-flow speeds within the national limits.
CAR_DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "motorway": 70 * _MPH,
    "motorway_link": 40 * _MPH,
    "trunk": 50 * _MPH,
    "trunk_link": 30 * _MPH,
    "primary": 40 * _MPH,
    "primary_link": 30 * _MPH,
    "secondary": 30 * _MPH,
    "secondary_link": 30 * _MPH,
    "tertiary": 30 * _MPH,
    "tertiary_link": 20 * _MPH,
    "unclassified": 30 * _MPH,
    "residential": 20 * _MPH,
    "living_street": 10 * _MPH,
    "service": 10 * _MPH,
    "road": 20 * _MPH,
}
#: Car speed (km/h) for highway types in neither the tags nor the table above.
CAR_FALLBACK_SPEED_KMH: float = 20 * _MPH

#: A point farther than this (metres) from its snapped node is "far from the
#: network". It is kept; its straight access leg makes it slow.
FAR_FROM_NETWORK_M: float = 2000.0

#: Most cells (float64) in one block of Dijkstra results. Sites are routed in
#: blocks so that peak memory stays near ``8 × _MAX_DIJKSTRA_CELLS`` bytes
#: however many sites there are.
_MAX_DIJKSTRA_CELLS: int = 1 << 23

#: Shortest edge time (seconds), so that zero-length edges stay edges.
_MIN_EDGE_SECONDS: float = 1e-6

_NEVER_HIGHWAYS = frozenset(
    {
        "abandoned",
        "bus_guideway",
        "busway",
        "construction",
        "disused",
        "no",
        "planned",
        "platform",
        "proposed",
        "raceway",
        "razed",
    }
)
_NOT_FOR_MODE: dict[str, frozenset[str]] = {
    "car": frozenset(
        {
            "bridleway",
            "corridor",
            "cycleway",
            "elevator",
            "escalator",
            "footway",
            "path",
            "pedestrian",
            "steps",
            "track",
        }
    ),
    "walk": frozenset({"motorway", "motorway_link", "trunk", "trunk_link"}),
    "cycle": frozenset(
        {
            "corridor",
            "elevator",
            "escalator",
            "footway",
            "motorway",
            "motorway_link",
            "pedestrian",
            "steps",
        }
    ),
}
#: The mode's own access tags, most specific first; ``access`` is the last word.
_MODE_TAGS: dict[str, tuple[str, ...]] = {
    "car": ("motorcar", "motor_vehicle", "vehicle"),
    "walk": ("foot",),
    "cycle": ("bicycle", "vehicle"),
}
_YES = frozenset({"yes", "designated", "permissive", "destination"})
_NO = frozenset({"no", "private"})
_EXTRA_WAY_TAGS = ("foot", "bicycle", "motorcar", "motor_vehicle", "vehicle")

# osmnx reads way tags named in a global setting; widen it only while reading.
_OSMNX_SETTINGS_LOCK = threading.Lock()


def load_network(osm_path: str | Path, mode: str) -> networkx.MultiDiGraph:
    """Read the network one mode may use from an OpenStreetMap XML extract.

    The ways kept for each mode, and the treatment of one-way streets, are
    set out in the module docstring. The graph is not topologically
    simplified: every OSM node of a kept way stays a node.

    Parameters
    ----------
    osm_path
        OpenStreetMap XML file (``.osm``, ``.osm.bz2`` or ``.osm.gz``).
    mode
        ``"car"``, ``"walk"`` or ``"cycle"``.

    Returns
    -------
    networkx.MultiDiGraph
        Projected to EPSG:27700: node ``x``/``y`` are eastings/northings in
        metres and edge ``length`` is metres. Walk and cycle graphs hold both
        directions of every way. Car edges also carry ``speed_kph`` (km/h,
        uncapped) and ``travel_time`` (seconds at that speed).

    Raises
    ------
    EstateError
        ``mode`` is not one of :data:`NETWORK_MODES`.
    SourceError
        The file is missing, cannot be read as OSM XML, or has no way the mode
        may use.
    """
    mode = _check_mode(mode)
    path = Path(osm_path)
    _check_file(path)

    import networkx as nx
    import osmnx as ox

    with _OSMNX_SETTINGS_LOCK:
        saved_tags = ox.settings.useful_tags_way
        ox.settings.useful_tags_way = list(dict.fromkeys([*saved_tags, *_EXTRA_WAY_TAGS]))
        try:
            G = ox.graph_from_xml(
                path, bidirectional=mode != "car", simplify=False, retain_all=True
            )
        except (OSError, SyntaxError, ValueError, KeyError, TypeError, SAXException) as exc:
            # SyntaxError covers xml.etree's ParseError; ValueError covers
            # osmnx's "no data" error and undecodable text; KeyError a way
            # whose nodes are not in the file.
            raise SourceError(path, f"cannot read it as OpenStreetMap XML ({exc})") from exc
        finally:
            ox.settings.useful_tags_way = saved_tags

    unusable = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if not _usable(d, mode)]
    G.remove_edges_from(unusable)
    G.remove_nodes_from(list(nx.isolates(G)))
    if G.number_of_edges() == 0:
        raise SourceError(
            path,
            f"no ways usable by {mode} (expected OSM ways tagged 'highway' that {mode} may use)",
        )
    G = ox.truncate.largest_component(G, strongly=False)
    G = ox.projection.project_graph(G, to_crs=BNG)

    # Lengths in BNG metres, like every other distance in estate.
    xy = {n: (d["x"], d["y"]) for n, d in G.nodes(data=True)}
    for u, v, d in G.edges(data=True):
        geometry = d.get("geometry")
        if geometry is not None:
            d["length"] = float(geometry.length)
        else:
            (x0, y0), (x1, y1) = xy[u], xy[v]
            d["length"] = float(np.hypot(x1 - x0, y1 - y0))

    if mode == "car":
        G = ox.routing.add_edge_speeds(
            G, hwy_speeds=CAR_DEFAULT_SPEEDS_KMH, fallback=CAR_FALLBACK_SPEED_KMH
        )
        G = ox.routing.add_edge_travel_times(G)
    return G


def network_times(
    origins: pd.DataFrame,
    sites: pd.DataFrame,
    modes: Sequence[str],
    cutoff_minutes: float,
    osm_path: str | Path,
    speeds_kmh: Mapping[str, float],
) -> pd.DataFrame:
    """Travel times from zones to sites over the OpenStreetMap network.

    Time = access leg at the zone + shortest network time from the zone's
    node to the site's node + access leg at the site (see the module docstring
    for the ways, speeds and access legs). For car the network time follows
    one-way streets from the zone *to* the site. Each mode's network is read
    once per process and reused while the file is unchanged.

    Parameters
    ----------
    origins
        Demand zones: ``zone_id``, ``x_m``, ``y_m`` (EPSG:27700 metres).
    sites
        Sites: ``site_id``, ``x_m``, ``y_m`` (EPSG:27700 metres).
    modes
        Any of ``"car"``, ``"walk"``, ``"cycle"``.
    cutoff_minutes
        Longest time kept (minutes); pairs above it are left out.
    osm_path
        OpenStreetMap XML extract covering the zones and sites.
    speeds_kmh
        Speed per mode (km/h): the walk and cycle speed, the car top speed,
        and the speed of each mode's access legs.

    Returns
    -------
    pandas.DataFrame
        ``zone_id`` (str), ``site_id`` (str), ``mode`` (str), ``minutes``
        (float), one row per pair with ``minutes <= cutoff_minutes``, sorted
        by mode (in the order given), zone and site.

    Raises
    ------
    EstateError
        A mode is not supported or has no positive speed in ``speeds_kmh``; a
        frame lacks a column, has a missing coordinate or a repeated id; the
        cutoff is negative.
    SourceError
        The OSM file is missing, unreadable, or has no way a mode may use.
    """
    wanted = list(dict.fromkeys(_check_mode(m) for m in modes))
    for mode in wanted:
        _check_speed(speeds_kmh, mode)
    cutoff = float(cutoff_minutes)
    if not cutoff >= 0:  # also rejects NaN
        raise EstateError(f"cutoff_minutes must be 0 or more, got {cutoff_minutes!r}")
    path = Path(osm_path)
    _check_file(path)
    zone_ids, zone_xy = _points(origins, "zone_id", "origins")
    site_ids, site_xy = _points(sites, "site_id", "sites")

    frames = []
    if len(zone_ids) and len(site_ids):
        for mode in wanted:
            net = _routing_network(path, mode)
            frame = _mode_times(net, mode, zone_ids, zone_xy, site_ids, site_xy, cutoff, speeds_kmh)
            if len(frame):
                frames.append(frame)
    out = pd.concat(frames, ignore_index=True) if frames else _empty()
    return out.astype({"zone_id": str, "site_id": str, "mode": str, "minutes": "float64"})


# --------------------------------------------------------------------------
# Routing arrays, cached per (file, mode)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _RoutingNetwork:
    """A mode's network as arrays: nodes by position, edges as index pairs."""

    tree: cKDTree  # over node (x, y), EPSG:27700 metres
    n_nodes: int
    edge_from: np.ndarray  # int, node positions
    edge_to: np.ndarray
    length_m: np.ndarray
    speed_kmh: np.ndarray | None  # car only: uncapped edge speeds
    directed: bool


def _routing_network(path: Path, mode: str) -> _RoutingNetwork:
    stat = path.stat()
    return _cached_routing_network(str(path.resolve()), stat.st_mtime_ns, stat.st_size, mode)


@lru_cache(maxsize=6)
def _cached_routing_network(
    resolved: str, mtime_ns: int, size: int, mode: str
) -> _RoutingNetwork:
    G = load_network(resolved, mode)
    nodes = list(G.nodes)
    position = {n: i for i, n in enumerate(nodes)}
    node_xy = np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in nodes], dtype=float)
    edges = list(G.edges(data=True))
    edge_from = np.fromiter((position[u] for u, _, _ in edges), dtype=np.int64, count=len(edges))
    edge_to = np.fromiter((position[v] for _, v, _ in edges), dtype=np.int64, count=len(edges))
    length_m = np.fromiter((d["length"] for _, _, d in edges), dtype=float, count=len(edges))
    speed = None
    if mode == "car":
        speed = np.fromiter((d["speed_kph"] for _, _, d in edges), dtype=float, count=len(edges))
    return _RoutingNetwork(
        tree=cKDTree(node_xy),
        n_nodes=len(nodes),
        edge_from=edge_from,
        edge_to=edge_to,
        length_m=length_m,
        speed_kmh=speed,
        directed=mode == "car",
    )


# --------------------------------------------------------------------------
# Shortest paths for one mode
# --------------------------------------------------------------------------


def _mode_times(
    net: _RoutingNetwork,
    mode: str,
    zone_ids: np.ndarray,
    zone_xy: np.ndarray,
    site_ids: np.ndarray,
    site_xy: np.ndarray,
    cutoff_minutes: float,
    speeds_kmh: Mapping[str, float],
) -> pd.DataFrame:
    speed_ms = float(speeds_kmh[mode]) / 3.6
    cutoff_s = cutoff_minutes * 60.0

    # Edge seconds; the car network is capped at the scenario's car speed.
    edge_speed_ms = (
        np.minimum(net.speed_kmh, float(speeds_kmh[mode])) / 3.6
        if net.speed_kmh is not None
        else speed_ms
    )
    seconds = np.maximum(net.length_m / edge_speed_ms, _MIN_EDGE_SECONDS)
    # The reversed graph: entry [to, from] is the time of edge from -> to, so a
    # search from a site on it gives times from every node *to* the site.
    reversed_graph = _sparse_graph(net.edge_to, net.edge_from, seconds, net.n_nodes)

    # Snap, and the access legs (seconds) at the mode's own speed.
    zone_dist, zone_node = net.tree.query(zone_xy)
    site_dist, site_node = net.tree.query(site_xy)
    zone_leg = zone_dist / speed_ms
    site_leg = site_dist / speed_ms
    o_nodes, o_of_zone = np.unique(zone_node, return_inverse=True)
    s_nodes, s_of_site = np.unique(site_node, return_inverse=True)
    o_min_leg = np.full(len(o_nodes), np.inf)
    np.minimum.at(o_min_leg, o_of_zone, zone_leg)
    s_min_leg = np.full(len(s_nodes), np.inf)
    np.minimum.at(s_min_leg, s_of_site, site_leg)
    slack = 1e-9 * max(cutoff_s, 1.0)  # float rounding only; the exact test is in minutes

    hits_s, hits_o, hits_t = [], [], []
    block = max(1, _MAX_DIJKSTRA_CELLS // max(net.n_nodes, 1))
    for start in range(0, len(s_nodes), block):
        stop = min(start + block, len(s_nodes))
        limit = cutoff_s - o_min_leg.min() - s_min_leg[start:stop].min() + slack
        if limit < 0:
            continue
        dist = dijkstra(
            reversed_graph,
            directed=net.directed,
            indices=s_nodes[start:stop],
            limit=limit,
        )
        net_s = dist[:, o_nodes]  # (sites in block, zone nodes); inf beyond the limit
        del dist
        total = net_s + s_min_leg[start:stop, None] + o_min_leg[None, :]
        si, oi = np.nonzero(total <= cutoff_s + slack)
        hits_s.append(si + start)
        hits_o.append(oi)
        hits_t.append(net_s[si, oi])
    if not hits_s:
        return _empty()

    hits = pd.DataFrame(
        {
            "s_node": np.concatenate(hits_s),
            "o_node": np.concatenate(hits_o),
            "net_s": np.concatenate(hits_t),
        }
    )
    by_site = pd.DataFrame({"s_node": s_of_site, "site_id": site_ids, "site_leg": site_leg})
    by_zone = pd.DataFrame({"o_node": o_of_zone, "zone_id": zone_ids, "zone_leg": zone_leg})
    pairs = hits.merge(by_site, on="s_node").merge(by_zone, on="o_node")
    minutes = (pairs["zone_leg"] + pairs["net_s"] + pairs["site_leg"]) / 60.0
    out = pd.DataFrame(
        {
            "zone_id": pairs["zone_id"],
            "site_id": pairs["site_id"],
            "mode": mode,
            "minutes": minutes,
        }
    )
    out = out[out["minutes"] <= cutoff_minutes]
    return out.sort_values(["zone_id", "site_id"], kind="stable").reset_index(drop=True)


def _sparse_graph(
    rows: np.ndarray, cols: np.ndarray, seconds: np.ndarray, n: int
) -> csr_matrix:
    """CSR matrix of edge seconds: the fastest of parallel edges, no self-loops."""
    keep = rows != cols
    rows, cols, seconds = rows[keep], cols[keep], seconds[keep]
    order = np.lexsort((seconds, cols, rows))
    rows, cols, seconds = rows[order], cols[order], seconds[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return csr_matrix((seconds[first], (rows[first], cols[first])), shape=(n, n))


# --------------------------------------------------------------------------
# Checks at the boundary
# --------------------------------------------------------------------------


def _usable(data: Mapping[str, Any], mode: str) -> bool:
    """Whether ``mode`` may use an (unsimplified) edge, by its way's tags."""
    highway = data.get("highway")
    if not isinstance(highway, str) or highway in _NEVER_HIGHWAYS:
        return False
    own = next((data[t] for t in _MODE_TAGS[mode] if isinstance(data.get(t), str)), None)
    if own in _NO:
        return False
    explicitly_allowed = own in _YES
    if data.get("access") in _NO and not explicitly_allowed:
        return False
    if mode == "car" and data.get("area") == "yes" and not explicitly_allowed:
        return False
    return highway not in _NOT_FOR_MODE[mode] or explicitly_allowed


def _check_mode(mode: str) -> str:
    if mode not in NETWORK_MODES:
        raise EstateError(
            f"the network engine cannot route mode {mode!r}; "
            f"supported modes are {', '.join(NETWORK_MODES)}"
        )
    return mode


def _check_speed(speeds_kmh: Mapping[str, float], mode: str) -> None:
    speed = speeds_kmh.get(mode)
    if speed is None:
        raise EstateError(
            f"no speed for mode {mode!r} in speeds_kmh "
            f"(given for: {', '.join(map(str, speeds_kmh)) or 'none'})"
        )
    try:
        ok = float(speed) > 0 and np.isfinite(float(speed))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise EstateError(f"speed for mode {mode!r} must be a positive number of km/h, got {speed!r}")


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise SourceError(path, "OpenStreetMap extract not found (expected an .osm XML file)")


def _points(frame: pd.DataFrame, id_column: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Ids (str) and an (n, 2) array of EPSG:27700 metres from a points frame."""
    missing = [c for c in (id_column, "x_m", "y_m") if c not in frame.columns]
    if missing:
        raise EstateError(f"{name} lacks column(s) {', '.join(missing)}")
    ids = frame[id_column].astype(str).to_numpy()
    xy = frame[["x_m", "y_m"]].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        raise EstateError(f"{name} without coordinates (x_m, y_m): {', '.join(ids[bad][:10])}")
    repeated = pd.Series(ids).loc[lambda s: s.duplicated()].unique()
    if len(repeated):
        raise EstateError(f"{name} repeat {id_column}: {', '.join(repeated[:10])}")
    return ids, xy


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "zone_id": pd.Series(dtype=str),
            "site_id": pd.Series(dtype=str),
            "mode": pd.Series(dtype=str),
            "minutes": pd.Series(dtype="float64"),
        }
    )[list(ACCESS_COLUMNS)]
