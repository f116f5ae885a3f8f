"""Accessibility: minutes from each zone to its nearest site of each service.

``zone_service`` (one row per zone and service with a standard): ``zone_id``,
``service``, ``mode``, ``minutes`` (NaN when no site is within the cutoff) and
``within`` (meets the service's standard). ``summary`` (one row per service):
``service``, ``name``, ``mode``, ``rule``, ``standard_minutes``,
``required_share``, ``sites``, ``population``, ``share_within``,
``zones_failing`` and ``meets``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from estate.scenario import Service


@dataclass
class Accessibility:
    """Accessibility per zone and service, and per service."""

    zone_service: pd.DataFrame
    summary: pd.DataFrame


def public_delivery(assets: pd.DataFrame, occupiers: pd.DataFrame, service: Service
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The assets and teams that may deliver ``service``: for a service that is not sensitive, never a
    sensitive site nor a team housed at one today (``confidential``), so that every access figure of it
    can be worked out from public data alone; for a sensitive service (a refuge service), all of them."""
    if service.sensitive:
        return assets, occupiers
    if "sensitive" in assets:
        assets = assets[~assets["sensitive"].fillna(False).astype(bool).to_numpy()]
    if "confidential" in occupiers:
        occupiers = occupiers[~occupiers["confidential"].fillna(False).astype(bool).to_numpy()]
    return assets, occupiers


def front_facing(occupiers: pd.DataFrame) -> np.ndarray:
    """Teams that serve the public where they sit (``front_facing``): only they make a service point."""
    if "front_facing" not in occupiers:
        return np.zeros(len(occupiers), bool)
    return occupiers["front_facing"].fillna(False).astype(bool).to_numpy()


def service_sites(assets: pd.DataFrame, occupiers: pd.DataFrame, service: Service) -> pd.Index:
    """Ids of the service points of ``service``: assets of one of its asset types, and assets
    housing a front-facing team of one of its service codes. A back-office team never makes a
    service point, and the register's ``services`` list (which names every team's service) does
    not either. Never a sensitive site or a confidential team for a service that is not sensitive
    (:func:`public_delivery`)."""
    assets, occupiers = public_delivery(assets, occupiers, service)
    by_type = assets["asset_type"].isin(service.asset_types)
    serving = occupiers[occupiers["service"].isin(service.services).to_numpy() & front_facing(occupiers)]
    housed = assets["asset_id"].isin(serving["asset_id"])
    return pd.Index(assets.loc[by_type | housed, "asset_id"].astype(str))


def nearest_minutes(access: pd.DataFrame, zone_ids: Sequence[str], site_ids: pd.Index, mode: str) -> pd.Series:
    """Minutes from each zone to its nearest site among ``site_ids`` by ``mode``
    (NaN where none is within the access table's cutoff), indexed by zone id."""
    rows = access[(access["mode"] == mode) & access["site_id"].isin(site_ids)]
    best = rows.groupby("zone_id", observed=True)["minutes"].min()
    best.index = best.index.astype(str)
    return best.reindex(pd.Index(list(zone_ids), name="zone_id")).astype(float)


def accessibility(access: pd.DataFrame, zones: pd.DataFrame, assets: pd.DataFrame, occupiers: pd.DataFrame,
                  services: Sequence[Service], baseline: pd.DataFrame | None = None) -> Accessibility:
    """Measure every service's access standard over the zones.

    Parameters
    ----------
    access
        The access table (``zone_id, site_id, mode, minutes``).
    zones
        Demand zones with ``zone_id`` and ``population``.
    assets, occupiers
        The register's tables (the estate being measured).
    services
        The scenario's catalogue; services without a standard are skipped.
    baseline
        ``zone_service`` of today's estate, for ``no_worse`` standards; when
        None, the estate measured *is* today's, and meets them by definition.

    Returns
    -------
    Accessibility
    """
    zone_ids = zones["zone_id"].astype(str).tolist()
    population = pd.Series(zones["population"].to_numpy(float), index=zone_ids)
    total = population.sum()
    per_zone, summary = [], []
    for service in services:
        standard = service.standard
        if standard is None:
            continue
        sites = service_sites(assets, occupiers, service)
        minutes = nearest_minutes(access, zone_ids, sites, standard.mode)
        if standard.rule == "share":
            within = minutes <= standard.minutes
        elif baseline is None:
            within = pd.Series(True, index=minutes.index)
        else:
            before = (baseline[baseline["service"] == service.code].set_index("zone_id")["minutes"]
                      .reindex(minutes.index))
            within = (minutes <= before + 1e-6) | before.isna()
        share = float(population[within.to_numpy()].sum() / total) if total > 0 else np.nan
        required = standard.share if standard.rule == "share" else 1.0
        per_zone.append(pd.DataFrame({"zone_id": minutes.index, "service": service.code, "mode": standard.mode,
                                      "minutes": minutes.to_numpy(), "within": within.to_numpy()}))
        summary.append({"service": service.code, "name": service.name, "mode": standard.mode,
                        "rule": standard.rule, "standard_minutes": standard.minutes,
                        "required_share": required, "sites": len(sites), "population": total,
                        "share_within": share, "zones_failing": int((~within).sum()),
                        "meets": bool(share >= required - 1e-9)})
    columns = ["zone_id", "service", "mode", "minutes", "within"]
    zone_service = pd.concat(per_zone, ignore_index=True) if per_zone else pd.DataFrame(columns=columns)
    return Accessibility(zone_service=zone_service, summary=pd.DataFrame(summary))


def by_id(ids: pd.Series, of_ids: Callable[[np.ndarray], np.ndarray], missing) -> np.ndarray:
    """``of_ids`` (a function of an array of ids as text) for each row's id. For a categorical column,
    as the access table's ``zone_id`` and ``site_id`` are, it is evaluated once per category, not once
    per row: at a hundred million rows, turning every id into text costs gigabytes. A missing id in a
    categorical column gets ``missing``."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        per_category = np.asarray(of_ids(ids.cat.categories.astype(str).to_numpy()))
        codes = ids.cat.codes.to_numpy()
        return np.where(codes >= 0, per_category[np.maximum(codes, 0)], missing)
    return np.asarray(of_ids(ids.astype(str).to_numpy()))
