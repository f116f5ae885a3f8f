"""Demand zones: where people are, and where their trips start.

Zones are any polygon or point layer (GeoPackage, GeoJSON, shapefile) with a
zone id and a population, or a population joined from a CSV. Each zone's
travel origin is its population-weighted centroid when the layer gives one,
otherwise a point guaranteed to lie inside the polygon.

The ``zones`` frame (EPSG:27700) has columns ``zone_id`` (str), ``population``
(float, > 0), ``origin_x_m``, ``origin_y_m`` (the travel origin) and the
zone's ``geometry``. Rejected zones and repaired geometries are reported in
``rejects`` and ``warnings`` (columns ``file, zone_id, row, column, value, reason``;
``row`` is the feature number in the file).
"""

from __future__ import annotations

import warnings as _warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from estate._errors import SourceError, SourceErrors
from estate._io import require_file
from estate.register import schema
from estate.register.geocode import finite_coordinates

ZONE_ISSUE_COLUMNS = ("file", "zone_id", "row", "column", "value", "reason")
#: More people than this in one zone is a units or column slip (Greater London has about 8.9 million).
MAX_ZONE_POPULATION = 10_000_000.0


@dataclass
class Demand:
    """Demand zones and what was rejected or repaired on the way in."""

    zones: gpd.GeoDataFrame
    rejects: pd.DataFrame
    warnings: pd.DataFrame


def _issues(frame: pd.DataFrame, mask: pd.Series, column: str, values: pd.Series, reason) -> pd.DataFrame:
    mask = mask.fillna(False).astype(bool)
    return pd.DataFrame({"zone_id": frame.loc[mask, "zone_id"].astype(str), "row": frame.loc[mask, "_row"],
                         "column": column, "value": values[mask].astype(str),
                         "reason": reason[mask] if isinstance(reason, pd.Series) else reason})


def _population_from_csv(zones: pd.DataFrame, path: Path, id_column: str, population: str) -> pd.Series:
    try:
        require_file(path, "population table")
        table = pd.read_csv(path, dtype={id_column: str})
    except SourceError as exc:
        raise SourceErrors([exc]) from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceErrors([SourceError(path, f"cannot read the population table ({type(exc).__name__})")]) from None
    for column in (id_column, population):
        if column not in table.columns:
            raise SourceErrors([SourceError(path, "the column is missing from its header", row=1, column=column)])
    dup = table[id_column].duplicated(keep=False)
    if dup.any():
        rows = (np.flatnonzero(dup) + 2).tolist()[:10]
        raise SourceErrors([SourceError(path, f"zone ids appear more than once (rows {rows})",
                                        column=id_column)])
    return zones["zone_id"].map(table.set_index(id_column)[population])


def load_zones(path: str | Path, *, zone_id: str = "zone_id", population: str = "population",
               layer: str | None = None, population_csv: str | Path | None = None,
               population_csv_id: str | None = None, origin_x: str | None = None,
               origin_y: str | None = None) -> Demand:
    """Read demand zones and their populations.

    Parameters
    ----------
    path
        Polygon or point layer with a CRS.
    zone_id, population
        Column names in the layer (``population`` in the CSV when ``population_csv`` is given).
    layer
        Layer name, for files holding several.
    population_csv, population_csv_id
        Optional CSV giving each zone's population, keyed by ``population_csv_id``
        (default: the ``zone_id`` column name).
    origin_x, origin_y
        Optional columns with each zone's population-weighted centroid, in the
        layer's CRS.

    Returns
    -------
    Demand

    Raises
    ------
    SourceErrors
        The file cannot be read, has no CRS, or lacks a named column.
    """
    path = Path(path)
    try:
        require_file(path, "demand zones")
        with _warnings.catch_warnings():  # NaN coordinates warn as they are read; such zones are rejected below
            _warnings.filterwarnings("ignore", message="invalid value encountered", category=RuntimeWarning)
            gdf = pyogrio.read_dataframe(path, layer=layer)
    except SourceError as exc:
        raise SourceErrors([exc]) from None
    except Exception as exc:  # pyogrio's DataSourceError and friends
        raise SourceErrors([SourceError(path, f"cannot read the demand zones ({type(exc).__name__})")]) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or "geometry" not in gdf:
        raise SourceErrors([SourceError(path, "has no geometry: demand zones must be a polygon or point layer "
                                        "(GeoPackage, GeoJSON or shapefile); a population table goes in "
                                        "population_csv", column="geometry")])
    if gdf.crs is None:
        raise SourceErrors([SourceError(path, "the layer has no coordinate reference system; "
                                        "save it with one (e.g. EPSG:27700)", column="geometry")])
    needed = [zone_id] + ([population] if population_csv is None else []) + [c for c in (origin_x, origin_y) if c]
    missing = [c for c in needed if c not in gdf.columns]
    if missing:
        raise SourceErrors([SourceError(path, "the column is missing from the layer", column=c) for c in missing])
    frame = pd.DataFrame({"zone_id": gdf[zone_id].astype(str).str.strip(), "_row": np.arange(len(gdf)) + 1})
    if population_csv is not None:
        frame["population"] = pd.to_numeric(
            _population_from_csv(frame, Path(population_csv), population_csv_id or zone_id, population),
            errors="coerce")
        raw_population = frame["population"]
    else:
        raw_population = gdf[population]
        frame["population"] = pd.to_numeric(raw_population, errors="coerce")

    frame["population"] = frame["population"].astype(float)
    finite = np.isfinite(frame["population"])
    rejects = [
        _issues(frame, ~finite, population, raw_population, "population missing or not a finite number"),
        _issues(frame, finite & (frame["population"] <= 0), population, raw_population,
                "population must be greater than 0"),
        _issues(frame, finite & (frame["population"] > MAX_ZONE_POPULATION), population, raw_population,
                f"population above {MAX_ZONE_POPULATION:,.0f}: larger than any city (check the column)"),
    ]
    dup = frame["zone_id"].duplicated(keep=False)
    rejects.append(_issues(frame, dup, zone_id, frame["zone_id"], "zone id used by more than one zone"))
    geoms = gdf.geometry.to_crs(schema.BNG).to_numpy()
    nonfinite = ~finite_coordinates(geoms)
    geoms = np.where(nonfinite, None, geoms)
    rejects.append(_issues(frame, pd.Series(nonfinite, index=frame.index), "geometry", frame["zone_id"],
                           "the zone's coordinates are not all finite numbers (or lie outside the range of its CRS)"))
    empty = pd.Series(shapely.is_missing(geoms) | shapely.is_empty(geoms), index=frame.index)
    rejects.append(_issues(frame, empty & ~pd.Series(nonfinite, index=frame.index), "geometry", frame["zone_id"],
                           "zone has no geometry"))
    empty |= pd.Series(nonfinite, index=frame.index)

    invalid = pd.Series(~shapely.is_valid(geoms), index=frame.index) & ~empty
    reasons = pd.Series(shapely.is_valid_reason(geoms), index=frame.index)
    warnings = [_issues(frame, invalid, "geometry", reasons, "invalid geometry repaired: " + reasons)]
    geoms = np.where(invalid, shapely.make_valid(geoms), geoms)

    if origin_x:
        pts = gpd.GeoSeries(gpd.points_from_xy(pd.to_numeric(gdf[origin_x], errors="coerce"),
                                               pd.to_numeric(gdf[origin_y], errors="coerce")),
                            crs=gdf.crs).to_crs(schema.BNG).to_numpy()
        no_origin = pd.Series(shapely.is_empty(pts) | ~np.isfinite(shapely.get_x(pts)), index=frame.index)
        rejects.append(_issues(frame, no_origin & ~empty, origin_x, gdf[origin_x],
                               "population-weighted centroid missing or not a number"))
        outside = pd.Series(~shapely.covers(geoms, pts), index=frame.index) & ~no_origin & ~empty
        warnings.append(_issues(frame, outside, origin_x, gdf[origin_x],
                                "population-weighted centroid lies outside the zone"))
        origins = pts
    else:
        origins = shapely.point_on_surface(np.where(empty, None, geoms))

    rejects = pd.concat(rejects, ignore_index=True).assign(file=path.name).loc[:, list(ZONE_ISSUE_COLUMNS)]
    warnings = pd.concat(warnings, ignore_index=True).assign(file=path.name).loc[:, list(ZONE_ISSUE_COLUMNS)]
    keep = ~frame["_row"].isin(rejects["row"])
    zones = gpd.GeoDataFrame({
        "zone_id": frame["zone_id"], "population": frame["population"].astype(float),
        "origin_x_m": shapely.get_x(origins), "origin_y_m": shapely.get_y(origins),
    }, geometry=gpd.GeoSeries(geoms, crs=schema.BNG), crs=schema.BNG)
    return Demand(zones=zones.loc[keep].reset_index(drop=True), rejects=rejects,
                  warnings=warnings.reset_index(drop=True))
