"""The ``straight`` engine: straight-line distance × circuity ÷ speed, plus a wait.

An approximation, stated as such: it ignores the real road and path network,
rivers, one-way streets and timetables. It is the default because it needs no
data beyond coordinates; use the ``network`` or ``matrix`` engine for real
travel times.

For each mode, ``minutes = wait + distance_m × circuity / (speed_kmh × 1000 / 60)``.
Only pairs within the cutoff are found, with a KD-tree query bounded by the
largest distance that can still arrive in time; no zone × site matrix is built.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from estate._errors import EstateError
from estate.access import ACCESS_COLUMNS


def _categorical(codes: np.ndarray, labels: pd.Index) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=labels)


def straight_times(origins: pd.DataFrame, sites: pd.DataFrame, speeds_kmh: Mapping[str, float],
                   cutoff_minutes: float, circuity: float = 1.3,
                   wait_minutes: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Approximate travel times from zone origins to sites, for every mode, within a cutoff.

    Parameters
    ----------
    origins
        ``zone_id``, ``x_m``, ``y_m`` (EPSG:27700 metres).
    sites
        ``site_id``, ``x_m``, ``y_m``.
    speeds_kmh
        Mode → average speed (km/h); one table is produced per mode.
    cutoff_minutes
        Pairs with more minutes than this are dropped.
    circuity
        Road distance ÷ straight-line distance (≥ 1).
    wait_minutes
        Mode → fixed access and waiting minutes added to every trip.

    Returns
    -------
    pandas.DataFrame
        ``ACCESS_COLUMNS``: ``zone_id``, ``site_id``, ``mode`` (categoricals) and
        ``minutes`` (float32).
    """
    wait_minutes = wait_minutes or {}
    for mode, speed in speeds_kmh.items():
        if not speed or speed <= 0:
            raise EstateError(f"mode {mode!r} has no usable speed ({speed!r} km/h)")
    zone_labels = pd.Index(origins["zone_id"].astype(str))
    site_labels = pd.Index(sites["site_id"].astype(str))
    zone_tree = cKDTree(origins[["x_m", "y_m"]].to_numpy(float))
    site_tree = cKDTree(sites[["x_m", "y_m"]].to_numpy(float))
    parts = []
    for mode, speed in speeds_kmh.items():
        metres_per_minute = speed * 1000.0 / 60.0
        wait = float(wait_minutes.get(mode, 0.0))
        reach_m = (cutoff_minutes - wait) * metres_per_minute / circuity
        if reach_m < 0 or len(zone_labels) == 0 or len(site_labels) == 0:
            continue
        pairs = zone_tree.sparse_distance_matrix(site_tree, reach_m, output_type="ndarray")
        minutes = (wait + pairs["v"] * circuity / metres_per_minute).astype(np.float32)
        keep = minutes <= cutoff_minutes
        parts.append(pd.DataFrame({
            "zone_id": _categorical(pairs["i"][keep], zone_labels),
            "site_id": _categorical(pairs["j"][keep], site_labels),
            # From codes: a list of n mode names would cost seconds and gigabytes at 100 million pairs.
            "mode": pd.Categorical.from_codes(np.full(int(keep.sum()), list(speeds_kmh).index(mode), np.int8),
                                              categories=list(speeds_kmh)),
            "minutes": minutes[keep],
        }))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="category" if c != "minutes" else "float32")
                             for c in ACCESS_COLUMNS})
    return pd.concat(parts, ignore_index=True).loc[:, list(ACCESS_COLUMNS)]
