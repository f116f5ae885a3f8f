"""The estate model's data: what compiling produces and what reading a solution back gives."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from estate._errors import EstateError
from estate.access.metrics import Accessibility
from estate.finance import Programme
from estate.locate.problem import LocationProblem
from estate.locate.solve import Solution, Start

#: Columns added to the register's assets by the plan (``plan.gpkg`` layer ``assets``).
PLAN_ASSET_COLUMNS = (
    "decision",  # keep | hub | dispose
    "exit_year",  # financial year of a disposal, e.g. "2028/29" (blank when kept)
    "in_plan",  # the plan decided this asset (False: outside its scope and untouched, kept as it is)
    "keep_reason",  # why it had to stay (blank when free to go)
    "partners_after",  # ";"-joined partners of the teams it houses after the plan
    "teams_before", "teams_after",
    "fte_before", "fte_after",
    "capacity_m2",  # workspace it offers (m²)
    "need_m2_after",  # workspace its teams need after the plan (m²)
    "exit_value_pv_gbp",  # what exiting it is worth (present value, net of its residual value), from the cost model
)

#: Columns of the ``moves`` layer (geometry: a line from the old to the new building).
MOVE_COLUMNS = ("occupier_id", "team", "partner", "service", "fte", "need_m2", "from_asset_id", "to_asset_id",
                "to_partner",  # the receiving building's partner (its host)
                "distance_km",  # straight-line distance moved
                "costed_km",  # distance its excess travel is costed at (the move radius for a confidential team)
                "move_year", "financial_year", "move_cost_gbp")


class PlanError(EstateError):
    """The scenario's plan settings do not fit the register (e.g. an unknown asset id)."""


class PlanInfeasible(EstateError):
    """No plan meets every rule; the message says which zones, service or rule stop it."""


@dataclass
class Model:
    """The estate model compiled onto the engine.

    ``sites`` (engine site order): ``asset_id``, ``partner``, ``asset_type``,
    ``status``, ``keep_reason``, ``in_scope``, ``vacant``, ``host``,
    ``exit_value_pv_gbp``, ``capacity_m2``, ``free_m2``, ``x_m``, ``y_m``,
    ``new_lease`` (a space request's new lease, after the assets).
    ``teams`` (engine zone order): the movable occupiers with ``need_m2``,
    ``home`` (site position), ``move_year`` and ``space_request`` (the
    requests come last, each at home in its new lease). ``pairs``: ``team``, ``site``,
    ``distance_km``, ``costed_km``, ``move_cost_gbp`` (undiscounted) and
    ``pv_gbp`` (what the engine charges), aligned with the problem's pair
    arrays. ``rules`` describes each side-constraint group.
    """

    problem: LocationProblem
    sites: pd.DataFrame
    teams: pd.DataFrame
    pairs: pd.DataFrame
    options: pd.DataFrame
    occupiers: pd.DataFrame
    start: Start | None
    rules: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    required_share: dict[str, float] = field(default_factory=dict)
    unreachable: dict[str, np.ndarray] = field(default_factory=dict)
    build_seconds: float = 0.0
    #: Teams whose place decides an access standard (front-facing teams of a service with one).
    serving: np.ndarray | None = None
    #: Each rule family's start values for another solution: ``f(open_sites_mask, destination_site_of_team)``
    #: returns the positions of its extra columns and their values.
    starters: list = field(default_factory=list)
    #: Present value of bringing each empty site back into use (engine site position → £).
    reopening_pv_gbp: dict = field(default_factory=dict)
    #: Today's estate as a start (kept whenever another start would break a rule).
    today_start: Start | None = None
    #: How the start was improved before the solve (:func:`estate.plan.start.improve`).
    search: dict = field(default_factory=dict)
    #: Each empty site's reopening column (engine site position → extra column).
    reopening_columns: dict = field(default_factory=dict)
    #: The earliest year anything could move into each empty site (engine site position → 0-based year).
    reopening_first_year: dict = field(default_factory=dict)
    #: The site each extra column belongs to (−1: none), for the neighbourhood search.
    extra_site: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: The exit-year columns (:mod:`estate.plan.rules.phasing`): ``columns``, ``site``, ``year`` and
    #: their market value, receipt and capital cost; empty without delivery limits.
    phasing: dict = field(default_factory=dict)


@dataclass
class Plan:
    """The estate reading of a solution.

    ``assets``: the register's assets with :data:`PLAN_ASSET_COLUMNS`;
    ``moves``: :data:`MOVE_COLUMNS`; ``occupiers``: teams where they end up;
    ``after``: accessibility after the plan; ``programme``: the costed
    programme (:func:`estate.finance.cost_programme`); ``summary``: the
    headline figures written to ``plan_summary.json``.
    """

    assets: gpd.GeoDataFrame
    moves: pd.DataFrame
    occupiers: pd.DataFrame
    after: Accessibility
    programme: Programme
    solution: Solution
    summary: dict
    notes: list[str]
    requests: pd.DataFrame | None = None  # space requests and their outcome (estate.plan.requests.REQUEST_COLUMNS)
    shared_summary: dict | None = None  # the summary as written for sharing (set when the plan is written)


def flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A boolean column as an array (all false when the frame has no such column)."""
    if column not in frame:
        return np.zeros(len(frame), bool)
    return frame[column].fillna(False).astype(bool).to_numpy()
