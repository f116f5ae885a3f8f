"""Bringing an empty building back into use (``finance.reopening_gbp_per_m2``).

A building that houses no team today and takes one in costs its GIA × the rate
(with optimism bias) once: a binary ``o_s`` with that cost, and
``Σ need·x ≤ capacity · o_s`` over the moves into it. The engine discounts the
cost to the earliest year any of its candidate teams could move; the programme
costs it in the year the first team actually arrives.
"""

from __future__ import annotations

import numpy as np

from estate.finance import discount_factor
from estate.locate.problem import CLOSED, EXTRA, X, SideConstraints
from estate.plan.model import Model
from estate.scenario import Scenario


def add(model: Model, side: SideConstraints, scenario: Scenario) -> None:
    """Add a reopening column and row for each empty building that could take a team in."""
    fin = scenario.finance
    if fin.reopening_gbp_per_m2 <= 0:
        return
    sites, teams, pairs = model.sites, model.teams, model.pairs
    site, team = pairs["site"].to_numpy(), pairs["team"].to_numpy()
    empty = sites["vacant"].to_numpy(bool) & (sites["status"].to_numpy() != CLOSED)
    into = np.flatnonzero(empty[site] & (site != teams["home"].to_numpy()[team]))
    if not len(into):
        return
    targets, row = np.unique(site[into], return_inverse=True)
    first_year = np.full(len(targets), np.inf)
    np.minimum.at(first_year, row, teams["move_year"].to_numpy(float)[team[into]])
    cost = (sites["gia_m2"].to_numpy(float)[targets] * fin.reopening_gbp_per_m2 * (1 + fin.optimism_bias)
            * discount_factor(first_year, fin))
    o = side.add_columns(cost, 0.0, 1.0, integer=True, start=0.0)
    model.reopening_pv_gbp = dict(zip(targets.tolist(), cost.tolist()))
    model.reopening_columns = dict(zip(targets.tolist(), o.tolist()))
    #: The earliest year a team (or space request) could arrive in each, where the funding line counts it.
    model.reopening_first_year = dict(zip(targets.tolist(), first_year.astype(int).tolist()))
    home = teams["home"].to_numpy()

    def values(_open: np.ndarray, dest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return o, np.isin(targets, dest[dest != home]).astype(float)

    model.starters.append(values)
    capacity = np.maximum(sites["free_m2"].to_numpy(float)[targets], 0.0)
    need = teams["need_m2"].to_numpy(float)[team[into]]
    side.add_rows("reopening", np.r_[row, np.arange(len(targets))],
                  np.r_[np.full(len(into), X), np.full(len(targets), EXTRA)],
                  np.r_[into, o], np.r_[need, -capacity], -np.inf, 0.0, len(targets))
    model.rules["reopening"] = (f"an empty building that takes teams in is brought back into use at "
                                f"£{fin.reopening_gbp_per_m2:g}/m² of its floor area")
