"""Partner guardrails (``plan.guardrails``): a partner disposes of at most a share of the floor area
of its assets in the plan's scope."""

from __future__ import annotations

import numpy as np

from estate.locate.problem import CLOSED, FREE, Y, SideConstraints
from estate.plan.model import Model
from estate.scenario import PlanSettings


def add(model: Model, side: SideConstraints, plan: PlanSettings) -> None:
    """Add one row per guardrail: ``Σ_free gia·y ≥ Σ_free gia + must-exit gia − share × total``."""
    sites = model.sites
    gia = sites["gia_m2"].to_numpy()
    status = sites["status"].to_numpy()
    for g in plan.guardrails:
        mine = (sites["partner"].to_numpy() == g.partner) & sites["in_scope"].to_numpy(bool)
        if not mine.any():
            continue
        free = np.flatnonzero(mine & (status == FREE))
        total, closed = gia[mine].sum(), gia[mine & (status == CLOSED)].sum()
        label = f"guardrail:{g.partner}"
        side.add_rows(label, np.zeros(len(free)), Y, free, gia[free],
                      gia[free].sum() + closed - g.max_disposal_share * total, np.inf, 1)
        model.rules[label] = f"{g.partner} disposes of at most {g.max_disposal_share:.0%} of its floor area"
