"""Sensitive sites in public outputs: never at their true location.

A sensitive asset (``sensitive == True``, e.g. a domestic-abuse refuge) keeps
its true point in the restricted working file ``register.gpkg`` only. Every
export meant to be shared shows it at the centre of the other assets of its
locality (or authority, or the whole register), with its name, address,
postcode and UPRN withheld.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely import points

#: What replaces a sensitive asset's name.
WITHHELD_NAME = "Sensitive site (location withheld)"


def public_view(assets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy of ``assets`` safe to publish (see the module docstring).

    Adds ``location_note``: blank, or where a sensitive site is shown instead.
    """
    out = assets.copy()
    sensitive = out["sensitive"].fillna(False).to_numpy(bool)
    out["location_note"] = ""
    if not sensitive.any():
        return out
    others = out[~sensitive]
    x, y = others.geometry.x, others.geometry.y
    fallback = (float(x.mean()), float(y.mean())) if len(others) else (0.0, 0.0)
    by = {key: (x.groupby(others[key]).mean(), y.groupby(others[key]).mean()) for key in ("locality", "authority")}
    xs, ys, notes = [], [], []
    for _, row in out[sensitive].iterrows():
        for key in ("locality", "authority"):
            mx, my = by[key]
            if row[key] in mx.index:
                xs.append(mx[row[key]]), ys.append(my[row[key]])
                notes.append(f"withheld: shown at the centre of {key} {row[key]}")
                break
        else:
            xs.append(fallback[0]), ys.append(fallback[1])
            notes.append("withheld: shown at the centre of the register")
    geometry = out.geometry.to_numpy().copy()
    geometry[sensitive] = points(np.c_[xs, ys])
    out = out.set_geometry(gpd.GeoSeries(geometry, index=out.index, crs=out.crs))
    out.loc[sensitive, "location_note"] = notes
    for column in ("address", "postcode", "uprn"):
        if column in out:
            out.loc[sensitive, column] = None
    out.loc[sensitive, "name"] = WITHHELD_NAME
    return out
