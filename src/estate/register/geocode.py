"""Place every asset row on British National Grid.

Rows carry coordinates in any CRS, a geometry, a postcode or a UPRN. Postcodes
are looked up in a table in the ONS Postcode Directory layout (``pcds``,
``lat``, ``long``, optionally ``oslaua``); UPRNs in the OS Open UPRN layout.
Every placed point must lie in Great Britain and on land.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from estate._errors import SourceError
from estate._io import atomic_path
from estate.register import schema
from estate.register.ingest import parse_postcode, parse_uprn
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
            raise SourceError(path, f"a {layout} lookup needs this column; found {list(frame.columns)}",
                              row=1, column=column)


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
    try:
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(path, f"cannot read the postcode lookup: {exc}") from None
    _require(header, path, ["pcds", "lat", "long"], "postcode (ONSPD)")
    cols = [c for c in ("pcds", "lat", "long", "oslaua") if c in header.columns]
    table = pd.read_csv(path, usecols=cols, dtype={"pcds": str, "oslaua": str}, encoding="utf-8-sig")
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
    try:
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(path, f"cannot read the UPRN lookup: {exc}") from None
    _require(header, path, ["UPRN"], "UPRN (OS Open UPRN)")
    if {"X_COORDINATE", "Y_COORDINATE"} <= set(header.columns):
        table = pd.read_csv(path, usecols=["UPRN", "X_COORDINATE", "Y_COORDINATE"],
                            dtype={"UPRN": str}, encoding="utf-8-sig")
        e, n = table["X_COORDINATE"].to_numpy(float), table["Y_COORDINATE"].to_numpy(float)
    else:
        _require(header, path, ["LATITUDE", "LONGITUDE"], "UPRN (OS Open UPRN)")
        table = pd.read_csv(path, usecols=["UPRN", "LATITUDE", "LONGITUDE"],
                            dtype={"UPRN": str}, encoding="utf-8-sig")
        e, n = _to_bng(schema.WGS84).transform(table["LONGITUDE"].to_numpy(float),
                                               table["LATITUDE"].to_numpy(float))
    key, _bad = parse_uprn(table["UPRN"])
    out = pd.DataFrame({"easting_m": e, "northing_m": n}, index=pd.Index(key.to_numpy(), name="uprn"))
    out = out[out.index.notna() & np.isfinite(out["easting_m"])]
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
_land_window: tuple[np.ndarray, np.ndarray] | None = None


def _gb_land_window() -> tuple[np.ndarray, np.ndarray]:
    """Great Britain's window of the ``global_land_mask`` 1 km land mask.

    The library loads its whole-globe mask (about 1 GB, 5 s) on import; the
    GB window (a few MB, 26 kB compressed) is cut from it once and cached on
    disk under ``$XDG_CACHE_HOME/estate`` (default ``~/.cache/estate``), keyed
    by the library's version. Returns ``(land, grid)``: ``land[i, j]`` is true
    on land; ``grid`` holds the library's latitude and longitude origin and
    step and the window's first row and column, so indices match the library's.
    """
    global _land_window
    if _land_window is not None:
        return _land_window
    from importlib.metadata import version

    cache_dir = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "estate"
    cache = cache_dir / f"gb_land_{version('global-land-mask')}.npz"
    try:
        with np.load(cache) as saved:
            _land_window = (saved["land"], saved["grid"])
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
    _land_window = (land, grid)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, land=land, grid=grid)
    except OSError:
        pass  # a read-only home only costs the next run the full load again
    return _land_window


def _is_land(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The land mask at WGS84 points, indexed as ``globe.is_land`` does.

    Points outside the GB window count as sea.
    """
    land, (lat0, dlat, lon0, dlon, row0, col0) = _gb_land_window()
    i = ((np.asarray(lat, float) - lat0) / dlat).astype(int) - int(row0)
    j = ((np.asarray(lon, float) - lon0) / dlon).astype(int) - int(col0)
    inside = (i >= 0) & (i < land.shape[0]) & (j >= 0) & (j < land.shape[1])
    out = np.zeros(i.shape, dtype=bool)
    out[inside] = land[i[inside], j[inside]]
    return out


def on_land(easting_m: np.ndarray, northing_m: np.ndarray, tolerance_m: float) -> np.ndarray:
    """True where a BNG point is on land, or within ``tolerance_m`` of land.

    Uses the 1 km land mask of ``global_land_mask`` (GLOBE data); a point counts
    as on land when it, or one of eight points ``tolerance_m`` around it, is
    on land, so that coastal sites are not mistaken for the sea.
    """
    e, n = np.asarray(easting_m, float), np.asarray(northing_m, float)
    to_wgs = _from_bng()
    lon, lat = to_wgs.transform(e, n)
    land = _is_land(lat, lon)
    if tolerance_m > 0 and not land.all():
        idx = np.flatnonzero(~land)
        for angle in np.arange(8) * np.pi / 4:
            lon2, lat2 = to_wgs.transform(e[idx] + tolerance_m * np.cos(angle),
                                          n[idx] + tolerance_m * np.sin(angle))
            land[idx] |= _is_land(lat2, lon2)
    return land


def _xy_in_bng(frame: pd.DataFrame, loc: Location, log: IssueLog, ctx: Context
               ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse and transform the x/y columns; log unreadable and swapped coordinates.

    Returns easting and northing (NaN where the coordinates were rejected) and
    the mask of rows with no coordinates at all.
    """
    x = pd.to_numeric(frame["_x"].astype(str).str.replace(",", "").str.strip(), errors="coerce")
    y = pd.to_numeric(frame["_y"].astype(str).str.replace(",", "").str.strip(), errors="coerce")
    x_blank = frame["_x"].isna() | (frame["_x"].astype(str).str.strip() == "")
    y_blank = frame["_y"].isna() | (frame["_y"].astype(str).str.strip() == "")
    both_blank = x_blank & y_blank
    ctx_x = Context(ctx.partner, ctx.table, ctx.file, {"_x": loc.x, "_y": loc.y})
    reject_where(log, ctx_x, frame, ~x_blank & x.isna(), "_x", f"expected a number in {loc.crs}")
    reject_where(log, ctx_x, frame, ~y_blank & y.isna(), "_y", f"expected a number in {loc.crs}")
    reject_where(log, ctx_x, frame, x_blank & ~y_blank, "_x", "only one of the two coordinates is given")
    reject_where(log, ctx_x, frame, y_blank & ~x_blank, "_y", "only one of the two coordinates is given")
    unusable = pd.Series(False, index=frame.index)
    if CRS.from_user_input(loc.crs).is_geographic:
        lat_ok, lon_ok = y.between(*GB_LAT), x.between(*GB_LON)
        swapped = ~(lat_ok & lon_ok) & x.between(*GB_LAT) & y.between(*GB_LON)
        values = "lon=" + x.astype(str) + ", lat=" + y.astype(str)
        reject_where(log, ctx_x, frame, swapped, "_y",
                     "latitude and longitude appear swapped: the latitude column holds a longitude",
                     values=values)
        outside = x.notna() & y.notna() & ~(lat_ok & lon_ok) & ~swapped
        reject_where(log, ctx_x, frame, outside, "_y", "coordinates are outside Great Britain "
                     f"(latitude {GB_LAT[0]} to {GB_LAT[1]}, longitude {GB_LON[0]} to {GB_LON[1]})",
                     values=values)
        unusable = swapped | outside
    e, n = _to_bng(loc.crs).transform(x.to_numpy(float), y.to_numpy(float))
    e = pd.Series(e, index=frame.index).where(~unusable)
    n = pd.Series(n, index=frame.index).where(~unusable)
    return e, n, both_blank


def locate(frame: pd.DataFrame, loc: Location, file_crs: str | None, lookups: Lookups,
           settings: RegisterSettings, log: IssueLog, ctx: Context) -> pd.DataFrame:
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
        xe, xn, blank = _xy_in_bng(out, loc, log, ctx)
        e, n = xe, xn
        method[:] = "xy"
        needs_fallback = blank
    elif loc.method == "geometry":
        crs = loc.crs or file_crs
        if crs is None:
            raise SourceError(ctx.file, "the file has no coordinate reference system; "
                              "give one with location.crs (e.g. 'EPSG:27700')", column="geometry")
        geoms = out["_geometry"].to_numpy()
        empty = pd.Series(shapely.is_missing(geoms) | shapely.is_empty(geoms), index=out.index)
        points = shapely.point_on_surface(np.where(empty, None, geoms))
        px, py = shapely.get_x(points), shapely.get_y(points)
        ge, gn = _to_bng(crs).transform(px, py)
        e, n = pd.Series(ge, index=out.index), pd.Series(gn, index=out.index)
        method[:] = "geometry"
        needs_fallback = empty
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
        reject_where(log, ctx_loc, out, needs_fallback, column, f"no {what} to place the site",
                     values=pd.Series("", index=out.index))

    placed = e.notna() & n.notna()
    in_gb = e.between(*GB_EASTING_M) & n.between(*GB_NORTHING_M)
    place_col = {"xy": "_y", "geometry": "geometry", "postcode": "postcode", "uprn": "uprn"}
    ctx_place = Context(ctx.partner, ctx.table, ctx.file,
                        {**ctx.columns, "_y": loc.y or "", "geometry": "geometry"})
    values = "E=" + e.round(0).astype("Int64").astype(str) + ", N=" + n.round(0).astype("Int64").astype(str)
    for way, column in place_col.items():
        sel = (method == way) & placed
        reject_where(log, ctx_place, out, sel & ~in_gb, column,
                     "point is outside Great Britain (British National Grid extent)", values=values)
        land = pd.Series(True, index=out.index)
        check = sel & in_gb
        if check.any():
            land[check] = on_land(e[check].to_numpy(), n[check].to_numpy(), settings.sea_tolerance_m)
        reject_where(log, ctx_place, out, check & ~land, column,
                     f"point is in the sea (more than {settings.sea_tolerance_m:.0f} m from land)",
                     values=values)

    out["easting_m"], out["northing_m"], out["location_method"] = e, n, method
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
