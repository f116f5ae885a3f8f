"""The cost model: discounting, exit years by tenure, cash flows and payback, checked by hand."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from estate.finance import annuity_factor, asset_options, cost_programme, discount_factor, npv_gbp, payback_year
from estate.scenario import FinanceSettings

FIN = FinanceSettings()  # 3.5%, 10 years from 2027/28, earliest exit year 1


@pytest.mark.parametrize("rate", [0.0, 0.035, 0.1])
@pytest.mark.parametrize("start", [0, 1, 4, 9, 10, 12])
def test_annuity_is_the_sum_of_discount_factors(rate, start):
    fin = replace(FIN, discount_rate=rate)
    by_sum = sum((1 + rate) ** -t for t in range(start, fin.horizon_years))
    assert annuity_factor(np.array([start]), fin)[0] == pytest.approx(by_sum)


def test_green_book_discount_factors():
    # HM Treasury Green Book at 3.5%: year 0 = 1, year 1 = 0.9662, year 10 = 0.7089.
    assert discount_factor(np.array([0, 1, 10]), FIN) == pytest.approx([1.0, 0.9662, 0.7089], abs=5e-5)


def _asset(**kw) -> dict:
    base = {"asset_id": "A", "tenure": "freehold", "lease_break_date": pd.NaT, "lease_expiry_date": pd.NaT,
            "gia_m2": 100.0, "running_cost_gbp": 10_000.0, "market_value_gbp": 500_000.0,
            "backlog_maintenance_gbp": np.nan}
    return {**base, **kw}


def test_exit_years_by_tenure():
    assets = pd.DataFrame([
        _asset(asset_id="free"),
        _asset(asset_id="licence", tenure="licence"),
        _asset(asset_id="break", tenure="leasehold", lease_break_date=pd.Timestamp("2030-09-30")),
        _asset(asset_id="april", tenure="leasehold", lease_break_date=pd.Timestamp("2030-04-01")),
        _asset(asset_id="early-break", tenure="leasehold", lease_break_date=pd.Timestamp("2026-06-30"),
               lease_expiry_date=pd.Timestamp("2033-01-31")),
        _asset(asset_id="long", tenure="leasehold", lease_expiry_date=pd.Timestamp("2050-01-01")),
        _asset(asset_id="no-dates", tenure="leasehold"),
    ])
    opt = asset_options(assets, FIN).set_index("asset_id")
    assert opt["exit_year"].to_dict() == {"free": 1, "licence": 1, "break": 4, "april": 3, "early-break": 6,
                                          "long": -1, "no-dates": -1}
    assert opt.loc["no-dates", "exit_note"] == "leasehold with no break or expiry date in the register"
    assert "no break" in opt.loc["long", "exit_note"]
    assert opt.loc["early-break", "exit_note"] == "leasehold: lease expiry"  # its break has passed by year 1
    # Only freeholds bring receipts; only leaseholds carry dilapidations (60/m² × 1.2).
    assert opt.loc["licence", "receipt_gbp"] == 0 and opt.loc["break", "receipt_gbp"] == 0
    assert opt.loc["free", "receipt_gbp"] == pytest.approx(500_000 * 0.98)
    assert opt.loc["break", "exit_cost_gbp"] == pytest.approx(100 * 60 * 1.2)
    assert opt.loc["long", "exit_value_pv_gbp"] == 0.0


def test_one_disposal_cash_flows_match_the_exit_value():
    fin = replace(FIN, receipt_lag_months=18.0, double_running_months=3.0)
    assets = pd.DataFrame([_asset(backlog_maintenance_gbp=20_000.0, decision="dispose", partner="P", name="A")])
    opt = asset_options(assets, fin)
    prog = cost_programme(assets, pd.DataFrame(columns=["occupier_id", "team", "partner", "fte", "need_m2",
                                                        "from_asset_id", "to_asset_id", "distance_km"]), fin)
    flows = prog.flows
    by_year = flows.groupby(["year", "category"])["gbp"].sum()
    assert by_year[(2, "capital_receipt")] == pytest.approx(490_000)  # exit year 1 + 18 months → year 2
    assert by_year[(1, "backlog_avoided")] == 20_000
    assert by_year[(1, "double_running")] == pytest.approx(-2_500 * (1 + fin.optimism_bias))  # 3 months of £10,000, with OB
    assert (flows["category"] == "running_cost_saving").sum() == 9
    assert npv_gbp(flows) == pytest.approx(opt.loc[0, "exit_value_pv_gbp"])
    assert set(flows["financial_year"]) >= {"2028/29", "2036/37"}
    assert prog.summary["annual_saving_gbp"] == 10_000
    assert prog.summary["cashable_savings_gbp"] == pytest.approx(9 * 10_000 - 3_000)
    # Selling the freehold forgoes its market value at the end of the horizon (year 10, "end 2036/37").
    assert by_year[(10, "residual_value")] == -500_000
    assert prog.summary["residual_value_forgone_pv_gbp"] == pytest.approx(500_000 / 1.035 ** 10)


def test_payback_in_year_four():
    # −100 in year 1, +30, +30, +50: cumulative −100, −70, −40, +10 → pays back in year 4 (2031/32).
    flows = pd.DataFrame({"year": [1, 2, 3, 4], "gbp": [-100.0, 30.0, 30.0, 50.0]})
    assert payback_year(flows, FIN) == 4
    assert payback_year(flows.assign(gbp=[-100.0, 30.0, 30.0, 30.0]), FIN) is None
    assert payback_year(pd.DataFrame({"year": [1], "gbp": [5.0]}), FIN) == 1
    # Back below zero later: payback is when it last turns positive.
    dip = pd.DataFrame({"year": [1, 2, 3], "gbp": [10.0, -20.0, 15.0]})
    assert payback_year(dip, FIN) == 3


def test_textbook_npv_to_the_penny():
    # £1,000 a year for 5 years (years 1–5) at 10%: 3,790.79 (standard annuity tables: 3.7908 × 1,000).
    fin = replace(FIN, discount_rate=0.10, horizon_years=6)
    flows = pd.DataFrame({"year": [1, 2, 3, 4, 5], "gbp": [1000.0] * 5})
    flows["pv_gbp"] = flows["gbp"] * discount_factor(flows["year"].to_numpy(), fin)
    assert round(npv_gbp(flows), 2) == 3790.79


# ---------------------------------------------------------------------------
# Programmes costed by hand
# ---------------------------------------------------------------------------
NO_MOVES = pd.DataFrame(columns=["occupier_id", "team", "partner", "service", "fte", "need_m2", "from_asset_id",
                                 "to_asset_id", "distance_km"])


def _estate(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame([_asset(**{"partner": "P", "name": r.get("asset_id", "A"), "decision": "dispose", **r})
                         for r in rows])


def _moves(*rows: tuple) -> pd.DataFrame:
    """(id, partner, fte, need_m2, from, to, km) tuples."""
    return pd.DataFrame([{"occupier_id": o, "team": o, "partner": p, "service": "back_office", "fte": f,
                          "need_m2": n, "from_asset_id": a, "to_asset_id": b, "distance_km": k}
                         for o, p, f, n, a, b, k in rows])


def test_one_freehold_disposal():
    fin = replace(FIN, double_running_months=0.0)
    prog = cost_programme(_estate({"running_cost_gbp": 10_000.0, "market_value_gbp": 500_000.0}), NO_MOVES, fin)
    # Running costs saved in years 1-9, the net receipt in year 1, less the freehold's market value at
    # the end of year 9 (discounted 10 years), which keeping it would have held (Green Book residual value).
    by_hand = 10_000 * sum(1.035 ** -t for t in range(1, 10)) + 500_000 * 0.98 / 1.035 - 500_000 / 1.035 ** 10
    assert prog.summary["npv_gbp"] == pytest.approx(by_hand, abs=0.005)
    none = cost_programme(_estate({"running_cost_gbp": 10_000.0, "market_value_gbp": 500_000.0}), NO_MOVES,
                          replace(fin, residual_value="none"))
    assert none.summary["npv_gbp"] == pytest.approx(by_hand + 500_000 / 1.035 ** 10, abs=0.005)
    assert prog.summary["payback_year"] == "2028/29"
    assert prog.summary["capital_receipts_gbp"] == pytest.approx(490_000)
    assert prog.disposals.loc[0, "financial_year"] == "2028/29"


def test_one_lease_exit_at_a_break():
    fin = replace(FIN, double_running_months=0.0)
    assets = _estate({"tenure": "leasehold", "lease_break_date": pd.Timestamp("2030-09-30"),
                      "running_cost_gbp": 20_000.0, "gia_m2": 100.0})
    prog = cost_programme(assets, NO_MOVES, fin)
    # Exit 1 April 2031 = year 4; six years saved; dilapidations 100 m² × £60 × 1.2 in year 4; no receipt.
    by_hand = 20_000 * sum(1.035 ** -t for t in range(4, 10)) - 7_200 / 1.035 ** 4
    assert prog.summary["npv_gbp"] == pytest.approx(by_hand, abs=0.005)
    assert prog.summary["capital_receipts_gbp"] == 0.0
    lines = prog.flows.groupby(["year", "category"])["gbp"].sum()
    assert lines[(4, "lease_exit_cost")] == pytest.approx(-7_200)
    assert (prog.flows["year"] >= 4).all()
    assert prog.summary["payback_year"] == "2031/32"


HUB_ESTATE = _estate({"asset_id": "X", "partner": "A", "running_cost_gbp": 30_000.0, "market_value_gbp": 200_000.0},
                     {"asset_id": "Y", "partner": "B", "running_cost_gbp": 40_000.0, "market_value_gbp": 300_000.0},
                     {"asset_id": "H", "partner": "A", "decision": "hub"})
HUB_MOVES = _moves(("TA", "A", 10.0, 64.0, "X", "H", 1.0), ("TB", "B", 20.0, 128.0, "Y", "H", 2.0))
# No residual values, new-space costs or occupancy charges here (they have tests of their own); the
# excess-travel allowance is £15 per FTE-km a year for 4 years, £60 in all.
HUB_FIN = replace(FIN, discount_rate=0.0, double_running_months=0.0, residual_value="none",
                  new_space_running_gbp_per_m2=0.0, occupancy_charge_gbp_per_m2=0.0,
                  excess_travel_gbp_per_fte_km=15.0, excess_travel_years=4)
A_OWN = 30_000 * 9 + 200_000 * 0.98 - 57_600  # 408,400
B_OWN = 40_000 * 9 + 300_000 * 0.98 - ((2500 * 20 + 350 * 128 + 60 * 20 * 2) * 1.2)  # 537,360


def test_moves_into_a_hub_shared_by_two_partners_and_the_ledger():
    prog = cost_programme(HUB_ESTATE, HUB_MOVES, HUB_FIN)
    assert prog.summary["npv_gbp"] == pytest.approx(A_OWN + B_OWN)
    assert prog.moves.set_index("occupier_id")["move_cost_gbp"].to_dict() == pytest.approx(
        {"TA": 57_600, "TB": 116_640})
    own = prog.ledger.set_index("partner")
    assert own.loc["A", "own_net_pv_gbp"] == pytest.approx(A_OWN)
    assert own.loc["B", "own_net_pv_gbp"] == pytest.approx(B_OWN)
    assert (own["transfer_pv_gbp"] == 0).all() and (own["position"] == "net benefit").all()

    pro = cost_programme(HUB_ESTATE, HUB_MOVES, replace(HUB_FIN, sharing_rule="pro-rata")).ledger.set_index("partner")
    total = A_OWN + B_OWN
    assert pro.loc["A", "share"] == pytest.approx(1 / 3) and pro.loc["B", "share"] == pytest.approx(2 / 3)
    assert pro.loc["A", "allocated_net_pv_gbp"] == pytest.approx(total / 3)
    assert pro.loc["A", "transfer_pv_gbp"] == pytest.approx(total / 3 - A_OWN)  # A pays for B: -93,146.67
    assert pro["transfer_pv_gbp"].sum() == pytest.approx(0.0, abs=1e-6)

    pot = cost_programme(HUB_ESTATE, HUB_MOVES, replace(HUB_FIN, sharing_rule="pooled")).ledger.set_index("partner")
    assert pot.loc["Partnership pot", "allocated_net_pv_gbp"] == pytest.approx(total)
    assert pot.loc["A", "transfer_pv_gbp"] == pytest.approx(-A_OWN)


def test_a_programme_that_pays_back_in_year_four():
    # A licence exited in year 1 saves £10,000 a year; its team's move costs £35,000 in year 1:
    # cumulative −25k, −15k, −5k, +5k → payback in year 4 (2031/32).
    fin = replace(FIN, discount_rate=0.0, double_running_months=0.0, optimism_bias=0.0,
                  relocation_gbp_per_fte=3_000.0, ict_gbp_per_fte=500.0, fit_out_gbp_per_m2=0.0,
                  excess_travel_gbp_per_fte_km=0.0, new_space_running_gbp_per_m2=0.0)
    assets = _estate({"asset_id": "L", "tenure": "licence", "running_cost_gbp": 10_000.0},
                     {"asset_id": "H", "decision": "keep"})
    prog = cost_programme(assets, _moves(("T", "P", 10.0, 64.0, "L", "H", 3.0)), fin)
    assert prog.by_year.loc["cumulative"].tolist()[:5] == [0.0, -25_000.0, -15_000.0, -5_000.0, 5_000.0]
    assert prog.summary["payback_year"] == "2031/32"
    assert prog.summary["npv_gbp"] == pytest.approx(90_000 - 35_000)


def test_a_cap_on_moves_a_year_phases_disposals_later():
    assets = _estate(*({"asset_id": f"D{i}", "running_cost_gbp": 10_000.0} for i in range(3)),
                     {"asset_id": "H", "decision": "keep"})
    moves = _moves(*((f"T{i}{j}", "P", 5.0, 32.0, f"D{i}", "H", 1.0) for i in range(3) for j in range(2)))
    free = cost_programme(assets, moves, FIN)
    capped = cost_programme(assets, moves, replace(FIN, max_moves_per_year=3))
    assert free.disposals["exit_year"].tolist() == [1, 1, 1]
    assert capped.disposals["exit_year"].tolist() == [1, 2, 3]
    assert capped.moves.groupby("from_asset_id")["move_year"].unique().map(list).to_dict() == {
        "D0": [1], "D1": [2], "D2": [3]}
    assert capped.summary["npv_gbp"] < free.summary["npv_gbp"]
    assert any("delays 2 disposal(s)" in n for n in capped.notes)


def test_sensitivity_moves_the_npv_by_the_stated_amounts():
    fin = replace(FIN, double_running_months=0.0, residual_value="none")
    prog = cost_programme(_estate({"running_cost_gbp": 10_000.0, "market_value_gbp": 500_000.0}), NO_MOVES, fin)
    t = prog.sensitivity.set_index("assumption")
    receipt_pv = 490_000 / 1.035
    base = prog.summary["npv_gbp"]
    assert t.loc["receipts", "npv_at_low_gbp"] == pytest.approx(base - 0.3 * receipt_pv)
    assert t.loc["receipts", "npv_at_high_gbp"] == pytest.approx(base + 0.1 * receipt_pv)
    assert t.loc["discount_rate", "npv_at_high_gbp"] == pytest.approx(
        10_000 * sum(1.06 ** -t for t in range(1, 10)) + 490_000 / 1.06)
    assert t.index[0] == "receipts"  # the largest swing first
    assert not t["turns_negative"].any()
    # A marginal programme turns negative when one-off costs run 50% over.
    marginal = cost_programme(_estate({"asset_id": "L", "tenure": "licence", "running_cost_gbp": 10_000.0},
                                      {"asset_id": "H", "decision": "keep"}),
                              _moves(("T", "P", 12.0, 60.0, "L", "H", 1.0)),
                              replace(fin, new_space_running_gbp_per_m2=0.0))
    assert marginal.summary["npv_gbp"] > 0 and marginal.summary["npv_turns_negative"]


def test_a_guest_pays_its_host_and_the_host_pays_for_the_space_and_the_reopening():
    # Partner A sells X and moves its team (10 FTE, 64 m², 1 km) into H, partner B's building, empty today.
    fin = replace(FIN, discount_rate=0.0, double_running_months=0.0, optimism_bias=0.0, residual_value="none",
                  relocation_gbp_per_fte=1_500.0, ict_gbp_per_fte=1_000.0, fit_out_gbp_per_m2=350.0,
                  excess_travel_gbp_per_fte_km=15.0, excess_travel_years=4, new_space_running_gbp_per_m2=40.0,
                  reopening_gbp_per_m2=30.0, occupancy_charge_gbp_per_m2=150.0)
    assets = _estate({"asset_id": "X", "partner": "A", "running_cost_gbp": 30_000.0, "market_value_gbp": 200_000.0,
                      "teams_before": 1},
                     {"asset_id": "H", "partner": "B", "decision": "keep", "gia_m2": 200.0, "teams_before": 0})
    prog = cost_programme(assets, _moves(("TA", "A", 10.0, 64.0, "X", "H", 1.0)), fin)
    lines = prog.flows.groupby(["category", "partner"])["gbp"].sum()
    assert lines[("move_cost", "A")] == pytest.approx(-(15_000 + 10_000 + 22_400))  # in year 1
    assert lines[("excess_travel", "A")] == pytest.approx(-15 * 10 * 1 * 4)  # £150 a year, years 1-4
    assert lines[("new_space_running", "B")] == pytest.approx(-40 * 64 * 9)  # the host runs 64 m² more, years 1-9
    assert lines[("reopening_cost", "B")] == pytest.approx(-200 * 30)  # once, in year 1
    assert lines[("occupancy_charge", "A")] == pytest.approx(-150 * 64 * 9)  # the guest pays its host
    assert lines[("occupancy_charge", "B")] == pytest.approx(150 * 64 * 9)
    own = prog.ledger.set_index("partner")["own_net_pv_gbp"]
    assert own["A"] == pytest.approx(270_000 + 196_000 - 47_400 - 600 - 86_400)  # 331,600
    assert own["B"] == pytest.approx(-23_040 - 6_000 + 86_400)  # 57,360: the host no longer carries its guest
    # Charges are transfers: the partnership's NPV is the same without them.
    free = cost_programme(assets, _moves(("TA", "A", 10.0, 64.0, "X", "H", 1.0)),
                          replace(fin, occupancy_charge_gbp_per_m2=0.0))
    assert prog.summary["npv_gbp"] == pytest.approx(free.summary["npv_gbp"]) == pytest.approx(388_960)
    assert prog.summary["buildings_reopened"] == 1
    assert prog.summary["occupancy_charges_gbp_a_year"] == pytest.approx(9_600)
    assert prog.moves["reopens"].tolist() == [True]


def test_excess_travel_stops_at_the_horizon_and_its_present_value_matches_the_lines():
    from estate.finance.costs import move_cost_pv_gbp

    fin = replace(FIN, excess_travel_gbp_per_fte_km=10.0, excess_travel_years=4)
    # A move in year 8 of 10 pays the allowance in years 8 and 9 only.
    assets = _estate({"asset_id": "L", "tenure": "leasehold", "lease_break_date": pd.Timestamp("2035-04-01"),
                      "running_cost_gbp": 1_000.0}, {"asset_id": "H", "decision": "keep"})
    prog = cost_programme(assets, _moves(("T", "P", 2.0, 16.0, "L", "H", 5.0)), fin)
    travel = prog.flows[prog.flows["category"] == "excess_travel"]
    assert travel["year"].tolist() == [8, 9]
    assert travel["gbp"].tolist() == pytest.approx([-10 * 2 * 5 * 1.2] * 2)
    move_pv = -prog.flows.loc[prog.flows["category"].isin(["move_cost", "excess_travel"]), "pv_gbp"].sum()
    assert move_cost_pv_gbp(2.0, 16.0, 5.0, 8, fin) == pytest.approx(move_pv)


def test_a_disposal_that_cannot_exit_keeps_its_teams_and_costs_nothing():
    # Re-costed under assumptions where X's lease runs past the horizon: X is costed as kept, so its
    # team does not move either: no move, travel, new-space or reopening line, and no reopened building.
    assets = _estate({"asset_id": "X", "tenure": "leasehold", "lease_expiry_date": pd.Timestamp("2050-01-01"),
                      "running_cost_gbp": 30_000.0, "teams_before": 1},
                     {"asset_id": "H", "decision": "keep", "gia_m2": 200.0, "teams_before": 0, "partner": "B"})
    prog = cost_programme(assets, _moves(("TA", "P", 10.0, 64.0, "X", "H", 1.0)), FIN)
    assert prog.flows.empty and prog.summary["npv_gbp"] == 0.0 and prog.summary["buildings_reopened"] == 0
    assert not prog.moves["in_horizon"].any()
    assert any("their teams as staying" in n for n in prog.notes)
