"""Incompatible services (``plan.incompatible``): two services whose teams may not share a building.

At a building where both could end up, a binary ``h`` lets teams of A in
(``Σ x_A ≤ |A| h``) or teams of B (``Σ x_B ≤ |B| (1 − h)``), never both. A
building where they already share today, or where a team of one stays
whatever happens, takes no more teams of the other (nor, where they share, of
either): today's arrangement is left as it is, and never made worse.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from estate.locate.problem import EXTRA, X, SideConstraints
from estate.plan.model import Model
from estate.scenario import PlanSettings


def drop_moves_into_clashes(pairs: pd.DataFrame, teams: pd.DataFrame, sites: pd.DataFrame,
                            occ: pd.DataFrame, plan: PlanSettings) -> pd.DataFrame:
    """The pairs without moves into a building where a team that stays delivers an incompatible
    service, or where two incompatible services already share."""
    if not plan.incompatible:
        return pairs
    site_pos = pd.Series(np.arange(len(sites)), index=sites["asset_id"])
    service = teams["service"].to_numpy()[pairs["team"]]
    moving = pairs["site"].to_numpy() != teams["home"].to_numpy()[pairs["team"]]
    site = pairs["site"].to_numpy()

    def at(frame: pd.DataFrame, code: str) -> np.ndarray:
        return site_pos.reindex(frame.loc[frame["service"] == code, "asset_id"]).dropna().astype(int).to_numpy()

    fixed = occ[occ["fixed"]]
    drop = np.zeros(len(pairs), bool)
    for a, b in plan.incompatible:
        for here, mover in ((a, b), (b, a)):
            drop |= moving & (service == mover) & np.isin(site, at(fixed, here))
        sharing_today = np.intersect1d(at(occ, a), at(occ, b))
        drop |= moving & np.isin(service, (a, b)) & np.isin(site, sharing_today)
    return pairs[~drop].reset_index(drop=True)


def _starter(h: np.ndarray, sites: np.ndarray, of_a: np.ndarray):
    """Start values of ``h`` for another solution: 1 where a team of A ends up (let A in), else 0."""
    def values(_open: np.ndarray, dest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return h, np.isin(sites, dest[of_a]).astype(float)
    return values


def add(model: Model, side: SideConstraints, plan: PlanSettings) -> None:
    """Add the rows keeping each incompatible pair of services apart, starting from today's estate."""
    teams, pairs = model.teams, model.pairs
    service = teams["service"].to_numpy()[pairs["team"].to_numpy()]
    site = pairs["site"].to_numpy()
    home = site == teams["home"].to_numpy()[pairs["team"].to_numpy()]
    for a, b in plan.incompatible:
        in_a, in_b = np.flatnonzero(service == a), np.flatnonzero(service == b)
        both = np.intersect1d(site[in_a], site[in_b])
        label = f"incompatible:{a}+{b}"
        model.rules[label] = f"{a} and {b} teams never share a building"
        today_a = np.isin(both, site[in_a[home[in_a]]])
        today_b = np.isin(both, site[in_b[home[in_b]]])
        shared = both[today_a & today_b]  # no team of either may move in (pairs dropped): left as it is
        for s in shared:
            model.notes.append(f"{model.sites['asset_id'].iat[s]} already houses both {a} and {b} teams; "
                               "it keeps them but takes no more of either")
        keep = ~(today_a & today_b)
        both, today_a = both[keep], today_a[keep]
        if not len(both):
            continue
        h = side.add_columns(np.zeros(len(both)), 0.0, 1.0, integer=True, start=today_a)
        model.starters.append(_starter(h, both, teams["service"].to_numpy() == a))
        ea, eb = in_a[np.isin(site[in_a], both)], in_b[np.isin(site[in_b], both)]
        ra, rb = np.searchsorted(both, site[ea]), np.searchsorted(both, site[eb])
        big_a = np.bincount(ra, minlength=len(both)).astype(float)
        big_b = np.bincount(rb, minlength=len(both)).astype(float)
        # Σ x_A ≤ |A| h ;  Σ x_B + |B| h ≤ |B|
        side.add_rows(label, np.r_[ra, np.arange(len(both))], np.r_[np.full(len(ea), X), np.full(len(both), EXTRA)],
                      np.r_[ea, h], np.r_[np.ones(len(ea)), -big_a], -np.inf, 0.0, len(both))
        side.add_rows(label, np.r_[rb, np.arange(len(both))], np.r_[np.full(len(eb), X), np.full(len(both), EXTRA)],
                      np.r_[eb, h], np.r_[np.ones(len(eb)), big_b], -np.inf, big_b, len(both))
