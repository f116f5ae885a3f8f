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
    assert by_year[(1, "double_running")] == -2_500  # 3 months of £10,000 a year
    assert (flows["category"] == "running_cost_saving").sum() == 9
    assert npv_gbp(flows) == pytest.approx(opt.loc[0, "exit_value_pv_gbp"])
    assert set(flows["financial_year"]) >= {"2028/29", "2036/37"}
    assert prog.summary["annual_saving_gbp"] == 10_000
    assert prog.summary["cashable_savings_gbp"] == 9 * 10_000 - 2_500


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
