"""The estate model: compile the register, teams, access table and scenario onto the location
engine, solve it, and read the solution back as a plan.

* :mod:`~estate.plan.compile`: **sites** are the assets in the plan's scope (by
  default every asset, so an empty building may be disposed of when that pays)
  plus empty host buildings outside it. A site is forced to stay
  (``keep_reason``) when the register flags it statutory, listed or must-keep,
  its type is in ``keep_asset_types``, it houses a team of a ``fixed_services``
  service, its lease cannot end inside the horizon, the scenario names it in
  ``must_keep``, or exiting it is worth nothing (:func:`estate.finance.asset_options`,
  net of its residual value). ``must_exit`` sites are forced to go. **Teams**
  are the engine's zones, weighted by the workspace they need; each is housed
  whole by its home or by a host building within ``max_move_km`` (and the same
  locality or authority, if the rule says so) that could ever hold it and whose
  type suits its service (``plan.suitability``, ``plan.public_facing_asset_types``).
  A move costs its one-off cost, its excess-travel allowance and the extra
  running cost of the space it takes up, all present values. Keeping a site
  forgoes its exit value; the objective's offset subtracts every exit value,
  so the objective is the net present cost against today's estate: ``−NPV``.
* :mod:`~estate.plan.rules`: the rule families (access standards over real
  service points, incompatible services, partner guardrails, reopening empty
  buildings), each adding its own columns, rows and start values.
* :mod:`~estate.plan.diagnose`: why no plan exists, in estate terms, and the solve.
* :mod:`~estate.plan.readback`: the plan's decisions, moves, access after and cash flows.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import pandas as pd

from estate.access.metrics import Accessibility
from estate.plan.compile import compile_model, team_need_m2
from estate.plan.diagnose import explain, solve_model
from estate.plan.model import MOVE_COLUMNS, PLAN_ASSET_COLUMNS, Model, Plan, PlanError, PlanInfeasible
from estate.plan.readback import read_solution
from estate.scenario import Scenario

__all__ = ["MOVE_COLUMNS", "PLAN_ASSET_COLUMNS", "Model", "Plan", "PlanError", "PlanInfeasible", "compile_model",
           "explain", "make_plan", "read_solution", "solve_model", "team_need_m2"]


def make_plan(assets: gpd.GeoDataFrame, occupiers: pd.DataFrame, access: pd.DataFrame, zones: pd.DataFrame,
              today: Accessibility, scenario: Scenario, progress: Callable[[str], None] | None = None,
              live: Callable[[str], None] | None = None) -> Plan:
    """Compile, solve and read back the estate model (see the package docstring); ``live`` gets the
    solver's progress line every few seconds."""
    say = progress or (lambda _m: None)
    say("compiling the estate model")
    model = compile_model(assets, occupiers, access, zones, today, scenario)
    sol = solve_model(model, scenario, zones, progress=say, live=live)
    return read_solution(model, sol, assets, access, zones, today, scenario)
