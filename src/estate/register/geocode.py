"""Place every asset row on British National Grid.

Rows carry coordinates in any CRS, a geometry, a postcode or a UPRN. Postcodes
are looked up in a table in the ONS Postcode Directory layout (``pcds``,
``lat``, ``long``, optionally ``oslaua``); UPRNs in the OS Open UPRN layout.
Every placed point must lie in Great Britain and on land.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from estate._errors import SourceError
from estate._io import atomic_path, require_file
from estate.register import schema
from estate.register.ingest import parse_number, parse_postcode, parse_uprn, text_cells
from estate.register.sources import Location, RegisterSettings
from estate.register.validate import Context, IssueLog, reject_where, warn_where

#: Great Britain's extent in British National Grid (metres).
GB_EASTING_M = (0.0, 700_000.0)
GB_NORTHING_M = (0.0, 1_300_000.0)
#: Great Britain's extent in WGS84 degrees, used to spot swapped latitude and longitude.
GB_LAT = (49.8, 61.0)
GB_LON = (-8.7, 2.0)
#: A postcode centroid further than this from the given coordinates is warned about.
POSTCODE_MISMATCH_M = 1_000.0

_TO_BNG: dict[str, Transformer] = {}


def _to_bng(crs: str) -> Transformer:
    if crs not in _TO_BNG:
        _TO_BNG[crs] = Transformer.from_crs(crs, schema.BNG, always_xy=True)
    return _TO_BNG[crs]


def _from_bng() -> Transformer:
    return Transformer.from_crs(schema.BNG, schema.WGS84, always_xy=True)


@dataclass(frozen=True)
class Lookups:
    """Postcode and UPRN lookups, indexed by normalised key.

    ``postcodes`` has columns ``easting_m, northing_m, authority``;
    ``uprns`` has ``easting_m, northing_m``.
    """

    postcodes: pd.DataFrame | None = None
    uprns: pd.DataFrame | None = None


def _require(frame: pd.DataFrame, path: Path, columns: list[str], layout: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise SourceError(path, f"a {layout} lookup needs this column in its header (it needs "
                              f"{', '.join(columns)})", row=1, column=column)


def _lookup_body(path: Path, what: str, **read) -> pd.DataFrame:
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **read)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise SourceError(path, f"cannot read the {what}: {type(exc).__name__}") from None


def _lookup_header(path: Path, what: str) -> pd.DataFrame:
    """The header of a lookup table, after checking it is a readable regular file."""
    require_file(path, what)
    try:
        return pd.read_csv(path, nrows=0, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(path, f"cannot read the {what}: {type(exc).__name__}") from None


def load_postcode_lookup(path: str | Path) -> pd.DataFrame:
    """Read a postcode lookup in the ONS Postcode Directory layout.

    Parameters
    ----------
    path
        CSV with ``pcds`` (postcode), ``lat`` and ``long`` (WGS84 degrees) and
        optionally ``oslaua`` (local authority code). ONSPD marks postcodes
        with no grid reference with latitude 99.999999; those are left out.

    Returns
    -------
    pandas.DataFrame
        Indexed by normalised postcode; ``easting_m``, ``northing_m``, ``authority``.
    """
    path = Path(path)
    header = _lookup_header(path, "postcode lookup")
    _require(header, path, ["pcds", "lat", "long"], "postcode (ONSPD)")
    cols = [c for c in ("pcds", "lat", "long", "oslaua") if c in header.columns]
    table = _lookup_body(path, "postcode lookup", usecols=cols, dtype={"pcds": str, "oslaua": str})
    key, _bad = parse_postcode(table["pcds"])
    lat = pd.to_numeric(table["lat"], errors="coerce")
    lon = pd.to_numeric(table["long"], errors="coerce")
    ok = key.notna() & lat.between(*GB_LAT) & lon.between(*GB_LON)
    e, n = _to_bng(schema.WGS84).transform(lon[ok].to_numpy(), lat[ok].to_numpy())
    out = pd.DataFrame({"easting_m": e, "northing_m": n,
                        "authority": table.loc[ok, "oslaua"].to_numpy() if "oslaua" in table else None},
                       index=pd.Index(key[ok].to_numpy(), name="postcode"))
    return out[~out.index.duplicated(keep="first")]


def load_uprn_lookup(path: str | Path) -> pd.DataFrame:
    """Read a UPRN lookup in the OS Open UPRN layout.

    Parameters
    ----------
    path
        CSV with ``UPRN`` and either ``X_COORDINATE``/``Y_COORDINATE``
        (EPSG:27700 metres) or ``LATITUDE``/``LONGITUDE`` (WGS84 degrees).

    Returns
    -------
    pandas.DataFrame
        Indexed by UPRN (text); ``easting_m``, ``northing_m``.
    """
    path = Path(path)
    header = _lookup_header(path, "UPRN lookup")
    _require(header, path, ["UPRN"], "UPRN (OS Open UPRN)")
    number = lambda s: pd.to_numeric(s, errors="coerce").to_numpy(float)  # noqa: E731
    if {"X_COORDINATE", "Y_COORDINATE"} <= set(header.columns):
        table = _lookup_body(path, "UPRN lookup", usecols=["UPRN", "X_COORDINATE", "Y_COORDINATE"],
                             dtype={"UPRN": str})
        e, n = number(table["X_COORDINATE"]), number(table["Y_COORDINATE"])
    else:
        _require(header, path, ["LATITUDE", "LONGITUDE"], "UPRN (OS Open UPRN)")
        table = _lookup_body(path, "UPRN lookup", usecols=["UPRN", "LATITUDE", "LONGITUDE"], dtype={"UPRN": str})
        lat, lon = number(table["LATITUDE"]), number(table["LONGITUDE"])
        ok = (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        e, n = _to_bng(schema.WGS84).transform(np.where(ok, lon, np.nan), np.where(ok, lat, np.nan))
    key, _bad = parse_uprn(table["UPRN"])
    out = pd.DataFrame({"easting_m": e, "northing_m": n}, index=pd.Index(key.to_numpy(), name="uprn"))
    out = out[out.index.notna() & np.isfinite(out["easting_m"]) & np.isfinite(out["northing_m"])]
    return out[~out.index.duplicated(keep="first")]


def load_lookups(settings: RegisterSettings) -> Lookups:
    """Load the lookups named in the ``[register]`` settings (either may be absent)."""
    return Lookups(
        postcodes=load_postcode_lookup(settings.postcode_lookup) if settings.postcode_lookup else None,
        uprns=load_uprn_lookup(settings.uprn_lookup) if settings.uprn_lookup else None,
    )


#: The window of the global land mask kept for Great Britain (degrees).
_MASK_LAT = (49.0, 62.0)
_MASK_LON = (-10.0, 3.0)
#: Land regions of the window other than Great Britain, each found as the land mass holding a
#: reference point (lat, lon); smaller islands join the nearest of them or of Great Britain.
REGIONS: dict[str, tuple[float, float]] = {
    "Great Britain": (51.5, -0.12),  # London
    "Ireland": (53.35, -6.26),  # Dublin; the island of Ireland, Northern Ireland included
    "the Isle of Man": (54.2, -4.55),
    "continental Europe": (49.5, 1.0),  # Normandy
    "the Channel Islands": (49.21, -2.13),  # Jersey
}
_GB = 1  # region code of Great Britain in the region grid (0 is the sea)
_land_window: tuple[np.ndarray, np.ndarray] | None = None


def _gb_land_window() -> tuple[np.ndarray, np.ndarray]:
    """Great Britain's window of the ``global_land_mask`` 1 km land mask, with land regions.

    The library loads its whole-globe mask (about 1 GB, 5 s) on import; the
    GB window is cut from it once and cached on disk under
    ``$XDG_CACHE_HOME/estate`` (default ``~/.cache/estate``), keyed by the
    library's version. Returns ``(region, grid)``: ``region[i, j]`` is 0 over
    the sea and otherwise the 1-based position in :data:`REGIONS` of the land
    mass the cell belongs to (connected land, 8-neighbour; islands take the
    nearest region); ``grid`` holds the library's latitude and longitude origin
    and step and the window's first row and column, so indices match the library's.
    """
    global _land_window
    if _land_window is not None:
        return _land_window
    from importlib.metadata import version

    cache_dir = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "estate"
    cache = cache_dir / f"gb_regions_{version('global-land-mask')}.npz"
    try:
        with np.load(cache) as saved:
            _land_window = (saved["region"], saved["grid"])
            return _land_window
    except (OSError, KeyError, ValueError):
        pass
    from global_land_mask import globe

    lat, lon = globe._lat, globe._lon
    rows = np.flatnonzero((lat >= _MASK_LAT[0]) & (lat <= _MASK_LAT[1]))
    cols = np.flatnonzero((lon >= _MASK_LON[0]) & (lon <= _MASK_LON[1]))
    # The library's mask is true over the ocean.
    land = ~globe._mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    grid = np.array([lat[0], lat[1] - lat[0], lon[0], lon[1] - lon[0], rows.min(), cols.min()])
    region = _regions(land, grid)
    _land_window = (region, grid)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, region=region, grid=grid)
    except OSError:
        pass  # a read-only home only costs the next run the full load again
    return _land_window


def _cell(lat: np.ndarray, lon: np.ndarray, grid: np.ndarray, shape: tuple[int, int]
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window row and column of WGS84 points (indexed as ``globe.is_land`` does), and whether inside."""
    lat0, dlat, lon0, dlon, row0, col0 = grid
    with np.errstate(invalid="ignore"):
        fi = (np.asarray(lat, float) - lat0) / dlat - row0
        fj = (np.asarray(lon, float) - lon0) / dlon - col0
    ok = np.isfinite(fi) & np.isfinite(fj)
    i = np.where(ok, fi, -1).astype(int)
    j = np.where(ok, fj, -1).astype(int)
    inside = ok & (i >= 0) & (i < shape[0]) & (j >= 0) & (j < shape[1])
    return i, j, inside


def _regions(land: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Label each land cell with its region (see :func:`_gb_land_window`)."""
    from scipy import ndimage

    labels, _ = ndimage.label(land, structure=np.ones((3, 3)))
    region_of_label = np.zeros(labels.max() + 1, dtype=np.int8)
    for code, (lat, lon) in enumerate(REGIONS.values(), start=1):
        i, j, inside = _cell(np.array([lat]), np.array([lon]), grid, land.shape)
        window = labels[max(i[0] - 3, 0):i[0] + 4, max(j[0] - 3, 0):j[0] + 4]
        found = np.bincount(window[window > 0]).argmax() if (window > 0).any() else 0
        if inside[0] and found:
            region_of_label[found] = code
    # Islands take the region of the nearest labelled land (cells are about 0.93 km × 0.53 km at 55°N).
    named = region_of_label[labels] > 0
    _, (ni, nj) = ndimage.distance_transform_edt(~named, sampling=(0.93, 0.53), return_indices=True)
    nearest = region_of_label[labels[ni, nj]]
    region = np.where(land, np.where(named, region_of_label[labels], nearest), 0).astype(np.int8)
    return region


def _region_at(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Region code at WGS84 points; points outside the window count as sea."""
    region, grid = _gb_land_window()
    i, j, inside = _cell(lat, lon, grid, region.shape)
    out = np.zeros(i.shape, dtype=np.int8)
    out[inside] = region[i[inside], j[inside]]
    return out


def _is_land(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The land mask at WGS84 points, indexed as ``globe.is_land`` does (any region).

    Points outside the GB window count as sea.
    """
    return _region_at(lat, lon) > 0


def land_region(easting_m: np.ndarray, northing_m: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Region code (see :data:`REGIONS`; 0 = the sea) of BNG points, allowing for the coast.

    A point counts as in Great Britain when it, or one of eight points
    ``tolerance_m`` around it, is on GB land (so coastal sites are not mistaken
    for the sea); otherwise it takes the region of the land it (or a point
    around it) is on, or 0.
    """
    e, n = np.asarray(easting_m, float), np.asarray(northing_m, float)
    to_wgs = _from_bng()
    lon, lat = to_wgs.transform(e, n)
    region = _region_at(lat, lon)
    if tolerance_m > 0 and (region != _GB).any():
        idx = np.flatnonzero(region != _GB)
        around = []
        for angle in np.arange(8) * np.pi / 4:
            lon2, lat2 = to_wgs.transform(e[idx] + tolerance_m * np.cos(angle), n[idx] + tolerance_m * np.sin(angle))
            around.append(_region_at(lat2, lon2))
        around = np.vstack(around)
        gb_near = (around == _GB).any(axis=0)
        other = np.where(region[idx] > 0, region[idx], around.max(axis=0))
        region[idx] = np.where(gb_near, _GB, other)
    return region


_gb_tree = None


def km_from_great_britain(easting_m: np.ndarray, northing_m: np.ndarray) -> np.ndarray:
    """Distance (km, to about 1 km) from BNG points to the nearest land of Great Britain."""
    global _gb_tree
    if _gb_tree is None:
        from scipy.spatial import cKDTree

        region, grid = _gb_land_window()
        lat0, dlat, lon0, dlon, row0, col0 = grid
        gi, gj = np.nonzero(region == _GB)
        lat = lat0 + (gi + row0 + 0.5) * dlat
        lon = lon0 + (gj + col0 + 0.5) * dlon
        x, y = _to_bng(schema.WGS84).transform(lon, lat)
        _gb_tree = cKDTree(np.c_[x, y])
    d, _ = _gb_tree.query(np.c_[np.asarray(easting_m, float), np.asarray(northing_m, float)])
    return d / 1000.0


# --------------------------------------------------------------------------
# Placing rows
# --------------------------------------------------------------------------

#: Cell text read as "no coordinate" (so the row falls back to its postcode or UPRN, if allowed).
BLANK_WORDS = frozenset({"", "n/a", "na", "none", "null", "nil", "-", "--", "#n/a", "unknown", "tbc"})
_DMS = re.compile(r"[°º'′\"″]|^\s*-?\d+\s+\d+(?:\s+\d+(?:\.\d*)?)?\s*[NSEW]?\s*$", re.IGNORECASE)


def _coordinates(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """A coordinate column as (finite number or NaN, blank mask, written-in-degrees-minutes mask)."""
    plain = text_cells(raw).fillna("")
    blank = plain.str.lower().isin(BLANK_WORDS)
    number, unreadable = parse_number(raw)
    number = number.where(~unreadable)
    dms = ~blank & number.isna() & plain.str.contains(_DMS)
    return number, blank, dms


def _point_text(e: pd.Series, n: pd.Series, prefix: tuple[str, str] = ("E", "N")) -> pd.Series:
    """``E=340500, N=366300`` per row (``?`` where not a finite number)."""
    def one(v: float) -> str:
        return f"{v:.0f}" if np.isfinite(v) else "?"
    return pd.Series([f"{prefix[0]}={one(a)}, {prefix[1]}={one(b)}" for a, b in zip(e, n)], index=e.index,
                     dtype=object)


def _xy_in_bng(frame: pd.DataFrame, loc: Location, log: IssueLog, ctx: Context
               ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse and transform the x/y columns; log unreadable, swapped and untransformable coordinates.

    Returns easting and northing (NaN where the coordinates were rejected) and
    the mask of rows with no coordinates at all (both blank, or words such as ``N/A``).
    """
    x, x_blank, x_dms = _coordinates(frame["_x"])
    y, y_blank, y_dms = _coordinates(frame["_y"])
    both_blank = x_blank & y_blank
    ctx_x = Context(ctx.partner, ctx.table, ctx.file, {"_x": loc.x, "_y": loc.y})
    geographic = CRS.from_user_input(loc.crs).is_geographic
    unit = "decimal degrees" if geographic else f"metres of {loc.crs}"
    for col, value, blank, dms in (("_x", x, x_blank, x_dms), ("_y", y, y_blank, y_dms)):
        reject_where(log, ctx_x, frame, dms, col, "degrees, minutes and seconds are not read; give decimal "
                     "degrees (53.19, not 53°11'24\")", values=frame[col])
        reject_where(log, ctx_x, frame, ~blank & value.isna() & ~dms, col, f"expected a finite number in {unit}",
                     values=frame[col])
    reject_where(log, ctx_x, frame, x_blank & ~y_blank, "_x", "only one of the two coordinates is given",
                 values=frame["_x"])
    reject_where(log, ctx_x, frame, y_blank & ~x_blank, "_y", "only one of the two coordinates is given",
                 values=frame["_y"])
    unusable = x.isna() | y.isna()
    if geographic:
        lat_ok, lon_ok = y.between(*GB_LAT), x.between(*GB_LON)
        swapped = ~(lat_ok & lon_ok) & x.between(*GB_LAT) & y.between(*GB_LON)
        values = _point_text(x, y, ("lon", "lat"))
        reject_where(log, ctx_x, frame, swapped, "_y",
                     "latitude and longitude appear swapped: the latitude column holds a longitude",
                     values=values)
        outside = x.notna() & y.notna() & ~(lat_ok & lon_ok) & ~swapped
        reject_where(log, ctx_x, frame, outside, "_y", "coordinates are outside Great Britain "
                     f"(latitude {GB_LAT[0]} to {GB_LAT[1]}, longitude {GB_LON[0]} to {GB_LON[1]})",
                     values=values)
        unusable |= swapped | outside
    with np.errstate(invalid="ignore", over="ignore"):
        e, n = _to_bng(loc.crs).transform(x.where(~unusable).to_numpy(float), y.where(~unusable).to_numpy(float))
    e = pd.Series(e, index=frame.index)
    n = pd.Series(n, index=frame.index)
    broken = ~unusable & ~(np.isfinite(e) & np.isfinite(n))
    reject_where(log, ctx_x, frame, broken, "_y", f"cannot be transformed from {loc.crs} (outside the range "
                 "that coordinate system covers)", values=_point_text(x, y, ("x", "y")))
    good = ~unusable & ~broken
    return e.where(good), n.where(good), both_blank


def _geometry_points(out: pd.DataFrame, crs: str, log: IssueLog, ctx: Context
                     ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """A point per row from the file's geometry (its point on surface), in BNG.

    Returns easting, northing (NaN where unusable) and the mask of rows with no
    geometry at all (null or empty); invalid or untransformable geometries are
    rejected with the reason.
    """
    geoms = out["_geometry"].to_numpy()
    missing = pd.Series(shapely.is_missing(geoms), index=out.index)
    empty = pd.Series(np.zeros(len(geoms), bool), index=out.index)
    empty[~missing] = shapely.is_empty(geoms[~missing.to_numpy()])
    none = missing | empty
    usable = np.where(none, None, geoms)
    present = ~none.to_numpy()
    nonfinite = present & ~finite_coordinates(usable)
    usable[nonfinite] = None  # NaN or infinite coordinates: no point can be taken (GEOS would fail on them)
    invalid = pd.Series(False, index=out.index)
    checked = present & ~nonfinite
    invalid[checked] = ~shapely.is_valid(usable[checked])
    repaired = usable.copy()
    if invalid.any():
        repaired[invalid.to_numpy()] = shapely.make_valid(usable[invalid.to_numpy()])
    try:
        points = shapely.point_on_surface(repaired)
    except shapely.errors.GEOSException:
        points = np.array([_safe_point(g) for g in repaired], dtype=object)
    px, py = shapely.get_x(points), shapely.get_y(points)
    ctx_g = Context(ctx.partner, ctx.table, ctx.file, {"geometry": "geometry"})
    with np.errstate(invalid="ignore", over="ignore"):
        ge, gn = _to_bng(crs).transform(px, py)
    ge, gn = pd.Series(ge, index=out.index), pd.Series(gn, index=out.index)
    no_point = present & (nonfinite | ~(np.isfinite(px) & np.isfinite(py)))
    reject_where(log, ctx_g, out, pd.Series(no_point, index=out.index), "geometry",
                 "the geometry has no usable point (invalid beyond repair, or coordinates that are not numbers)",
                 values=pd.Series(shapely.get_type_id(usable).astype(str), index=out.index).map(_GEOMETRY_TYPES))
    broken = present & ~no_point & ~(np.isfinite(ge) & np.isfinite(gn)).to_numpy()
    reject_where(log, ctx_g, out, pd.Series(broken, index=out.index), "geometry",
                 f"cannot be transformed from {crs} (coordinates outside the range that coordinate system covers)",
                 values=_point_text(pd.Series(px, index=out.index), pd.Series(py, index=out.index), ("x", "y")))
    warn_where(log, ctx_g, out, invalid & ~pd.Series(no_point | broken, index=out.index), "geometry",
               "invalid geometry repaired before taking its point", values=pd.Series("", index=out.index))
    good = pd.Series(present & ~no_point & ~broken, index=out.index)
    return ge.where(good), gn.where(good), none


def finite_coordinates(geometries: np.ndarray) -> np.ndarray:
    """True for each geometry whose every coordinate is a finite number (None counts as finite)."""
    coords, index = shapely.get_coordinates(geometries, include_z=False, return_index=True)
    bad = np.zeros(len(geometries), bool)
    if len(coords):
        rows = ~np.isfinite(coords).all(axis=1)
        bad[np.unique(index[rows])] = True
    return ~bad


_GEOMETRY_TYPES = {"-1": "missing", "0": "Point", "1": "LineString", "2": "LinearRing", "3": "Polygon",
                   "4": "MultiPoint", "5": "MultiLineString", "6": "MultiPolygon", "7": "GeometryCollection"}


def _safe_point(geometry) -> object:
    """One geometry's point on surface, or None when GEOS cannot find one."""
    if geometry is None:
        return None
    try:
        return shapely.point_on_surface(geometry)
    except shapely.errors.GEOSException:
        return None


@dataclass
class StudyArea:
    """Where a scenario's assets may be: the demand zones' outline grown by a buffer.

    ``outline`` is a (multi)polygon in BNG; ``buffer_m`` the margin; ``label``
    names it in rejects ("the demand zones of zones.gpkg").
    """

    outline: object
    buffer_m: float
    label: str

    def __post_init__(self) -> None:
        self._grown = shapely.buffer(self.outline, self.buffer_m)
        shapely.prepare(self._grown)

    def inside(self, e: np.ndarray, n: np.ndarray) -> np.ndarray:
        """True where BNG points lie within the buffered outline."""
        return shapely.contains_xy(self._grown, np.asarray(e, float), np.asarray(n, float))

    def km_outside(self, e: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Distance (km) from BNG points to the outline (not the buffer)."""
        pts = shapely.points(np.c_[np.asarray(e, float), np.asarray(n, float)])
        return shapely.distance(self.outline, pts) / 1000.0


def locate(frame: pd.DataFrame, loc: Location, file_crs: str | None, lookups: Lookups,
           settings: RegisterSettings, log: IssueLog, ctx: Context, study_area: StudyArea | None = None
           ) -> pd.DataFrame:
    """Give each parsed asset row a BNG point, or reject it.

    Parameters
    ----------
    frame
        Parsed asset rows (output of :func:`estate.register.ingest.parse_table`).
    loc
        The partner's location method.
    file_crs
        The CRS stored in a GeoJSON/GeoPackage file, if any.
    lookups, settings
        Postcode/UPRN lookups and the register settings (sea tolerance).
    log, ctx
        Where rejects and warnings go.
    study_area
        When given, points outside it are rejected with their distance.

    Returns
    -------
    pandas.DataFrame
        ``frame`` with ``easting_m``, ``northing_m``, ``location_method`` and
        ``authority`` (from the postcode lookup, where it gives one).

    Raises
    ------
    SourceError
        A geographic file has no CRS and the description gives none.
    """
    out = frame.copy()
    e = pd.Series(np.nan, index=out.index)
    n = pd.Series(np.nan, index=out.index)
    method = pd.Series(None, index=out.index, dtype=object)
    needs_fallback = pd.Series(False, index=out.index)

    if loc.method == "xy":
        e, n, needs_fallback = _xy_in_bng(out, loc, log, ctx)
        method[:] = "xy"
    elif loc.method == "geometry":
        crs = loc.crs or file_crs
        if crs is None:
            raise SourceError(ctx.file, "the file has no coordinate reference system; "
                              "give one with location.crs (e.g. 'EPSG:27700')", column="geometry")
        e, n, needs_fallback = _geometry_points(out, crs, log, ctx)
        method[:] = "geometry"
    else:
        needs_fallback[:] = True

    way = loc.method if loc.method in ("postcode", "uprn") else loc.fallback
    if way is not None:
        table = lookups.postcodes if way == "postcode" else lookups.uprns
        label = "postcode" if way == "postcode" else "UPRN"
        keys = out[way]
        hit = needs_fallback & keys.isin(table.index)
        found = table.reindex(keys[hit])
        e[hit] = found["easting_m"].to_numpy()
        n[hit] = found["northing_m"].to_numpy()
        method[hit] = way
        lookup_file = Path(getattr(settings, f"{way}_lookup")).name
        reject_where(log, ctx, out, needs_fallback & keys.notna() & ~hit, way,
                     f"{label} not found in {lookup_file}")
        reject_where(log, ctx, out, needs_fallback & keys.isna(), way,
                     f"no usable {label} to locate the site by")
    else:
        what, column = ("coordinates", "_x") if loc.method == "xy" else ("geometry", "geometry")
        ctx_loc = Context(ctx.partner, ctx.table, ctx.file, {"_x": loc.x or "", "geometry": "geometry"})
        reject_where(log, ctx_loc, out, needs_fallback, column,
                     f"no {what} to place the site (set location.fallback = 'postcode' or 'uprn' to place "
                     "such rows by their postcode or UPRN)", values=pd.Series("", index=out.index))

    _check_place(out, e, n, method, loc, settings, log, ctx, study_area)
    placed = e.notna() & n.notna()
    out["easting_m"], out["northing_m"] = e.where(placed), n.where(placed)
    out["location_method"] = method
    out["authority"] = None
    if lookups.postcodes is not None and "postcode" in out:
        pc = lookups.postcodes.reindex(out["postcode"].where(out["postcode"].notna(), ""))
        out["authority"] = pc["authority"].to_numpy()
        if loc.method in ("xy", "geometry"):
            gap = np.hypot(pc["easting_m"].to_numpy() - e.to_numpy(), pc["northing_m"].to_numpy() - n.to_numpy())
            gap = pd.Series(gap, index=out.index)
            far = (method != "postcode") & (gap > POSTCODE_MISMATCH_M)
            warn_where(log, ctx, out, far, "postcode",
                       "the postcode's centroid is " + (gap / 1000).round(1).astype(str)
                       + " km from the given location; check both")
    return out


def _check_place(out: pd.DataFrame, e: pd.Series, n: pd.Series, method: pd.Series, loc: Location,
                 settings: RegisterSettings, log: IssueLog, ctx: Context, study_area: StudyArea | None) -> None:
    """Reject placed points outside Great Britain, in the sea, or outside the study area."""
    placed = e.notna() & n.notna()
    in_extent = e.between(*GB_EASTING_M) & n.between(*GB_NORTHING_M)
    place_col = {"xy": "_y", "geometry": "geometry", "postcode": "postcode", "uprn": "uprn"}
    ctx_place = Context(ctx.partner, ctx.table, ctx.file,
                        {**ctx.columns, "_y": loc.y or "", "geometry": "geometry"})
    values = _point_text(e, n)
    names = list(REGIONS)
    for way, column in place_col.items():
        sel = (method == way) & placed
        if not sel.any():
            continue
        far = pd.Series(np.nan, index=out.index)
        outside = sel & ~in_extent
        if outside.any():
            far[outside] = km_from_great_britain(e[outside].to_numpy(), n[outside].to_numpy())
        reject_where(log, ctx_place, out, outside, column,
                     "point is outside Great Britain (beyond the British National Grid's extent, "
                     + far.round(0).map("{:,.0f}".format) + " km from Great Britain)", values=values)
        check = sel & in_extent
        region = pd.Series(_GB, index=out.index, dtype=np.int8)
        if check.any():
            region[check] = land_region(e[check].to_numpy(), n[check].to_numpy(), settings.sea_tolerance_m)
        sea = check & (region == 0)
        abroad = check & (region > 0) & (region != _GB)
        if (sea | abroad).any():
            far[sea | abroad] = km_from_great_britain(e[sea | abroad].to_numpy(), n[sea | abroad].to_numpy())
        reject_where(log, ctx_place, out, sea, column,
                     f"point is in the sea (more than {settings.sea_tolerance_m:.0f} m from land, "
                     + far.round(1).astype(str) + " km from Great Britain)", values=values)
        reject_where(log, ctx_place, out, abroad, column,
                     "point is in " + region.map(lambda c: names[c - 1] if c > 0 else "").astype(str)
                     + ", outside Great Britain (" + far.round(0).map("{:,.0f}".format) + " km from it); estate "
                     "works in British National Grid, which covers Great Britain only", values=values)
        if study_area is not None:
            ok = check & (region == _GB)
            inside = pd.Series(True, index=out.index)
            if ok.any():
                inside[ok] = study_area.inside(e[ok].to_numpy(), n[ok].to_numpy())
            away = ok & ~inside
            if away.any():
                km = pd.Series(np.nan, index=out.index)
                km[away] = study_area.km_outside(e[away].to_numpy(), n[away].to_numpy())
                swapped = pd.Series(False, index=out.index)
                swapped[away] = study_area.inside(n[away].to_numpy(), e[away].to_numpy())
                hint = np.where(swapped, "; with easting and northing swapped it would be inside: check the "
                                "columns", "")
                reject_where(log, ctx_place, out, away, column,
                             "point is " + km.round(1).astype(str) + f" km outside the study area ({study_area.label} "
                             f"plus {study_area.buffer_m / 1000:g} km)" + pd.Series(hint, index=out.index),
                             values=values)
