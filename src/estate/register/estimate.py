"""Estimates for values a partner did not give, flagged wherever they are used.

Today one field is estimable: an asset's annual running cost, as its floor area
× the scenario's benchmark rate for its asset type (``[estimates]``,
``docs/sources.md``). The register marks the assets whose partner gave no
running cost (``running_cost_estimated``); :func:`estimate_running_costs`
fills them in, so an incomplete register still plans, and every output that
shows the figure says it is an estimate.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from estate.register.build import Register


def estimate_running_costs(register: Register, estimates) -> Register:
    """Fill the running cost of every asset flagged ``running_cost_estimated`` with
    ``gia_m2 × estimates.running_cost_gbp_per_m2[asset_type]`` (£ a year).

    Parameters
    ----------
    register
        The joint register.
    estimates
        The scenario's :class:`estate.scenario.EstimateSettings`.

    Returns
    -------
    Register
        A copy with the running costs filled (the flag is kept).
    """
    assets = register.assets
    flagged = assets["running_cost_estimated"].fillna(False).astype(bool).to_numpy()
    if not flagged.any():
        return register
    rates = estimates.running_cost_gbp_per_m2
    rate = assets["asset_type"].map(rates).astype(float).fillna(rates.get("other", np.nan)).to_numpy()
    out = assets.copy()
    cost = pd.to_numeric(out["running_cost_gbp"], errors="coerce").to_numpy(float)
    out["running_cost_gbp"] = np.where(flagged, out["gia_m2"].to_numpy(float) * rate, cost)
    return replace(register, assets=out)
