"""How the plan's figures are said to people: one wording for the plan map's panel and the board
report. Every money figure says whether it is cash (undiscounted) or a present value."""

from __future__ import annotations

from estate.finance import gbp_millions

#: Solver statuses in words.
STATUS_WORDS = {
    "optimal": "proven best plan",
    "feasible": "a plan within the stated gap of the best possible",
    "time_limit": "stopped by the safety time limit before the gap was proved; the plan is the deterministic "
                  "start, with the gap shown",
    "stopped": "the solver stopped early",
    "infeasible": "no plan meets every rule",
}


def headline_figures(summary: dict) -> list[tuple[str, str]]:
    """The plan's headline figures as (label, text), from ``plan_summary.json``."""
    gap = summary.get("gap")
    years = summary.get("horizon_years", "")
    rows = [
        ("Assets", f"{summary['assets_before']:,} → {summary['kept']:,} kept"),
        ("Disposed of", f"{summary['disposed']:,}"
         + (f" ({summary['vacant_disposed']:,} empty today)" if summary.get("vacant_disposed") else "")),
        ("Hubs", f"{summary['hubs']:,} ({summary.get('hubs_today', 0):,} shared today)"),
        ("Teams moved", f"{summary.get('teams_moved', 0):,} ({summary.get('fte_moved', 0):,.0f} FTE)"),
        ("Floor area released", f"{summary.get('floor_area_released_m2', 0):,.0f} m²"),
        ("Annual saving (cash, a year once all disposals are done)", gbp_millions(summary["annual_saving_gbp"])),
        (f"Capital receipts (cash over {years} years)", gbp_millions(summary["capital_receipts_gbp"])),
        (f"One-off costs (cash over {years} years)", gbp_millions(summary.get("one_off_costs_gbp"))),
        ("Residual value forgone (present value)", gbp_millions(summary.get("residual_value_forgone_pv_gbp"))),
        (f"NPV (present value over {years} years)", gbp_millions(summary["npv_gbp"])),
        ("Payback", summary.get("payback_year") or "not within the horizon"),
        ("Optimiser", f"{STATUS_WORDS.get(summary['status'], summary['status'])}, gap "
                      f"{'n/a' if gap is None else f'{gap:.2%}'}"),
    ]
    if summary.get("occupancy_charges_gbp_a_year"):
        rows.insert(-2, ("Occupancy charges between partners (cash a year)",
                         gbp_millions(summary["occupancy_charges_gbp_a_year"])))
    requests = summary.get("space_requests") or {}
    if requests.get("requested"):
        rows.insert(-2, ("Space requests met in kept space", f"{requests['met']} of {requests['requested']} (new leases "
                         f"avoided: {gbp_millions(requests['new_lease_avoided_gbp_a_year'])} a year)"))
    return rows
