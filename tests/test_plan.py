"""The estate model on small estates whose best plan can be worked out by hand.

The finance settings use a 0% discount rate, so present values are plain sums:
an asset exited in year 1 of a 10-year horizon saves 9 years of running cost.
A 10 FTE team needs 10 × 0.8 desks × 8 m² = 64 m²; moving it 1 km costs
((1,500 + 1,000) × 10 + 350 × 64 + 15 × 10 × 1 × 4 years) × 1.2 = £57,600.
Residual values, the running cost of space taken up, reopening and occupancy
charges are off here (``FIN``) and tested on their own below (``FULL``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from estate.access.metrics import accessibility
from estate.finance import asset_options
from estate.plan import PlanError, PlanInfeasible, compile_model, make_plan
from estate.scenario import (AccessSettings, DataSettings, Delivery, DeliveryLimits, FinanceSettings, Guardrail,
                             PlanSettings, Scenario, Service, SpaceRequest, Standard)

FIN = FinanceSettings(discount_rate=0.0, horizon_years=10, earliest_exit_year=1, receipt_lag_months=0.0,
                      disposal_cost_share=0.02, optimism_bias=0.2, double_running_months=0.0,
                      excess_travel_gbp_per_fte_km=15.0, excess_travel_years=4, residual_value="none",
                      new_space_running_gbp_per_m2=0.0, reopening_gbp_per_m2=0.0, occupancy_charge_gbp_per_m2=0.0)
MOVE_10_FTE_1_KM = ((1500 + 1000) * 10 + 350 * 64 + 15 * 10 * 1 * 4) * 1.2
PLAN = PlanSettings(host_asset_types=("office", "community_centre", "police_station", "library"),
                    keep_asset_types=("custody_suite",), fixed_services=("custody",), max_move_km=10.0,
                    gap=0.0, time_limit_seconds=60.0)


def estate(rows: list[dict]) -> gpd.GeoDataFrame:
    """Assets from short rows: id, x_km, y_km and any register column to override."""
    base = {"partner": "P1", "name": "", "address": "", "locality": "Town", "postcode": None, "uprn": None,
            "authority": "E06000050", "asset_type": "office", "tenure": "freehold", "lease_break_date": pd.NaT,
            "lease_expiry_date": pd.NaT, "gia_m2": 200.0, "running_cost_gbp": 50_000.0,
            "backlog_maintenance_gbp": np.nan, "market_value_gbp": 1_000_000.0, "condition": "B",
            "workspace_capacity_fte": np.nan, "listed": False, "statutory": False, "must_keep": False,
            "sensitive": False, "services": ""}
    recs = [{**base, **{k: v for k, v in r.items() if k not in ("x_km", "y_km")}} for r in rows]
    geometry = [Point(400_000 + r["x_km"] * 1000, 370_000 + r["y_km"] * 1000) for r in rows]
    frame = gpd.GeoDataFrame(recs, geometry=geometry, crs="EPSG:27700")
    frame["partners"] = frame["partner"]
    return frame


def teams(rows: list[tuple]) -> pd.DataFrame:
    """Occupiers from (id, asset_id, partner, service, fte[, front_facing]) tuples (back office by default)."""
    return pd.DataFrame([{"occupier_id": r[0], "asset_id": r[1], "partner": r[2], "team": r[0], "service": r[3],
                          "fte": r[4], "front_facing": r[5] if len(r) > 5 else False} for r in rows])


def scenario(plan: PlanSettings = PLAN, services: tuple[Service, ...] = ()) -> Scenario:
    return Scenario(path=Path("test.toml"), name="test", description="", data=DataSettings(Path("."), Path(".")),
                    access=AccessSettings(engine="straight", cutoff_minutes=60.0, speed_kmh={"car": 30.0}),
                    services=services, plan=plan, finance=FIN)


def zones_near(assets: gpd.GeoDataFrame, minutes: dict[tuple[str, str], float],
               population: dict[str, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Zones and an access table given as {(zone, asset): minutes} by car."""
    zones = pd.DataFrame({"zone_id": list(population), "population": list(population.values())})
    access = pd.DataFrame([{"zone_id": z, "site_id": s, "mode": "car", "minutes": m}
                           for (z, s), m in minutes.items()])
    return zones, access


def run(assets, occ, sc, zones=None, access=None):
    if zones is None:
        zones, access = zones_near(assets, {}, {"Z": 1000.0})
    today = accessibility(access, zones, assets, occ, sc.services)
    return make_plan(assets, occ, access, zones, today, sc)


def decision(plan, asset_id: str) -> str:
    return plan.assets.set_index("asset_id").loc[asset_id, "decision"]


def test_a_team_moves_out_of_a_building_worth_disposing_of():
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0},
                     {"asset_id": "B", "x_km": 1, "y_km": 0, "statutory": True, "running_cost_gbp": 10.0}])
    occ = teams([("T", "A", "P1", "back_office", 10.0)])
    plan = run(assets, occ, scenario())
    assert decision(plan, "A") == "dispose" and decision(plan, "B") == "keep"
    assert plan.moves[["occupier_id", "from_asset_id", "to_asset_id"]].values.tolist() == [["T", "A", "B"]]
    npv_by_hand = 50_000 * 9 + 1_000_000 * 0.98 - MOVE_10_FTE_1_KM
    assert plan.summary["npv_gbp"] == pytest.approx(npv_by_hand)
    assert plan.summary["objective"] == pytest.approx(-npv_by_hand)
    assert plan.summary["status"] == "optimal" and plan.summary["gap"] == 0.0
    assert plan.assets.set_index("asset_id").loc["A", "exit_year"] == "2028/29"
    assert plan.summary["annual_saving_gbp"] == 50_000


def test_the_locality_search_improves_a_greedy_start_and_the_solver_reaches_the_same_plan():
    # The greedy closes A first (the larger exit value) and moves T1 into B, 1 km away, rather than C, 2 km
    # away; B has then taken a team in, so the greedy keeps it. Better: both go, both teams into C (statutory,
    # room for both), B's team moving 1 km. The locality search (one locality here) finds that for the
    # start; from the greedy start alone the solver finds it too.
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, "running_cost_gbp": 60_000.0},
                     {"asset_id": "B", "x_km": 1, "y_km": 0},
                     {"asset_id": "C", "x_km": 2, "y_km": 0, "statutory": True, "gia_m2": 400.0}])
    occ = teams([("T1", "A", "P1", "back_office", 10.0), ("T2", "B", "P1", "back_office", 10.0)])
    move_2_km = MOVE_10_FTE_1_KM + 15 * 10 * 1 * 4 * 1.2  # one more km of excess travel for 4 years
    greedy_npv = 60_000 * 9 + 980_000 - MOVE_10_FTE_1_KM
    best_npv = 60_000 * 9 + 980_000 + 50_000 * 9 + 980_000 - move_2_km - MOVE_10_FTE_1_KM
    greedy = run(assets, occ, scenario())
    localities = run(assets, occ, scenario(replace(PLAN, start_search="localities")))
    for plan in (greedy, localities):
        assert [decision(plan, a) for a in "ABC"] == ["dispose", "dispose", "keep"]
        assert plan.summary["npv_gbp"] == pytest.approx(best_npv) and plan.summary["status"] == "optimal"
    for plan in (greedy, localities):
        assert plan.summary["start_search"]["start_objective"] == pytest.approx(-greedy_npv)
    assert greedy.summary["start_search"]["passes"] == []
    assert [p["objective"] for p in localities.summary["start_search"]["passes"]] == [pytest.approx(-best_npv)]


@pytest.mark.parametrize("flag", [{"listed": True}, {"statutory": True}, {"must_keep": True}])
def test_a_site_that_must_stay_stays(flag):
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, **flag},
                     {"asset_id": "B", "x_km": 1, "y_km": 0, "statutory": True}])
    occ = teams([("T", "A", "P1", "back_office", 10.0)])
    plan = run(assets, occ, scenario())
    assert decision(plan, "A") == "keep"
    assert plan.moves.empty and plan.summary["npv_gbp"] == 0.0


def test_named_must_keep_and_must_exit():
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0},
                     {"asset_id": "B", "x_km": 1, "y_km": 0, "running_cost_gbp": 10.0, "market_value_gbp": 10.0}])
    occ = teams([("T", "A", "P1", "back_office", 10.0), ("U", "B", "P1", "back_office", 10.0)])
    free = run(assets, occ, scenario())
    assert decision(free, "A") == "dispose"
    # Keeping A by name turns the plan round: B (worth almost nothing to sell) goes instead... or nothing does.
    kept = run(assets, occ, scenario(replace(PLAN, must_keep=("A",))))
    assert decision(kept, "A") != "dispose"
    forced = run(assets, occ, scenario(replace(PLAN, must_exit=("B",))))
    assert decision(forced, "B") == "dispose" and decision(forced, "A") != "dispose"
    assert forced.moves["occupier_id"].tolist() == ["U"]


def test_a_lease_without_a_break_in_the_horizon_stays():
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, "tenure": "leasehold",
                      "lease_expiry_date": pd.Timestamp("2045-03-31")},
                     {"asset_id": "B", "x_km": 1, "y_km": 0, "statutory": True}])
    occ = teams([("T", "A", "P1", "back_office", 10.0)])
    plan = run(assets, occ, scenario())
    assert decision(plan, "A") == "keep"
    assert "no break" in plan.assets.set_index("asset_id").loc["A", "keep_reason"]


def test_a_lease_exits_at_its_break_with_dilapidations_and_no_receipt():
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, "tenure": "leasehold",
                      "lease_break_date": pd.Timestamp("2030-09-30"), "gia_m2": 100.0},
                     {"asset_id": "B", "x_km": 1, "y_km": 0, "statutory": True}])
    occ = teams([("T", "A", "P1", "back_office", 10.0)])
    plan = run(assets, occ, scenario())
    # Break on 30 Sep 2030 → exit 1 April 2031, year 4 (2031/32): 6 years saved.
    assert plan.assets.set_index("asset_id").loc["A", "exit_year"] == "2031/32"
    assert plan.summary["npv_gbp"] == pytest.approx(50_000 * 6 - 100 * 60 * 1.2 - MOVE_10_FTE_1_KM)
    assert plan.summary["capital_receipts_gbp"] == 0.0


def test_a_hub_forms_when_two_partners_fit_in_one_building():
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, "partner": "P1", "running_cost_gbp": 20_000.0},
                     {"asset_id": "B", "x_km": 1, "y_km": 0, "partner": "P2", "running_cost_gbp": 60_000.0}])
    occ = teams([("T1", "A", "P1", "back_office", 10.0), ("T2", "B", "P2", "back_office", 10.0)])
    plan = run(assets, occ, scenario())
    assert decision(plan, "A") == "hub" and decision(plan, "B") == "dispose"
    assert plan.assets.set_index("asset_id").loc["A", "partners_after"] == "P1;P2"
    assert plan.summary["hubs"] == 1 and plan.summary["hubs_today"] == 0
    assert plan.summary["npv_gbp"] == pytest.approx(60_000 * 9 + 980_000 - MOVE_10_FTE_1_KM)


def test_no_hub_when_the_building_is_too_small():
    # 128 m² of need; A offers 0.8 × 150 = 120 m². B is bigger but costs more: only B can host both.
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, "gia_m2": 150.0, "running_cost_gbp": 20_000.0},
                     {"asset_id": "B", "x_km": 1, "y_km": 0, "gia_m2": 200.0, "running_cost_gbp": 60_000.0,
                      "partner": "P2"}])
    occ = teams([("T1", "A", "P1", "back_office", 10.0), ("T2", "B", "P2", "back_office", 10.0)])
    plan = run(assets, occ, scenario())
    assert decision(plan, "A") == "dispose" and decision(plan, "B") == "hub"


def test_an_access_standard_forbids_an_otherwise_cheap_disposal():
    # L1 serves zone Z1 alone; disposing of it would pay, but half the people would lose their library.
    assets = estate([{"asset_id": "L1", "x_km": 0, "y_km": 0, "asset_type": "library"},
                     {"asset_id": "L2", "x_km": 5, "y_km": 0, "asset_type": "library", "statutory": True}])
    occ = teams([("T", "L1", "P1", "back_office", 10.0)])
    zones, access = zones_near(assets, {("Z1", "L1"): 10.0, ("Z1", "L2"): 40.0, ("Z2", "L2"): 10.0},
                               {"Z1": 500.0, "Z2": 500.0})
    library = Service("libraries", "Libraries", services=("library",), asset_types=("library",),
                      standard=Standard(mode="car", minutes=20.0, share=0.9))
    no_standard = run(assets, occ, scenario(services=(replace(library, standard=None),)), zones, access)
    assert decision(no_standard, "L1") == "dispose"
    held = run(assets, occ, scenario(services=(library,)), zones, access)
    assert decision(held, "L1") == "keep"
    assert held.summary["access"]["libraries"]["share_after"] == 1.0
    # At 50% the standard allows the disposal again.
    loose = replace(library, standard=Standard(mode="car", minutes=20.0, share=0.5))
    assert decision(run(assets, occ, scenario(services=(loose,)), zones, access), "L1") == "dispose"


def test_a_front_facing_team_carries_its_service_to_its_new_building():
    # The early-help team in C1 must stay within 20 minutes of Z1: H_near qualifies, H_far does not.
    assets = estate([{"asset_id": "C1", "x_km": 0, "y_km": 0, "asset_type": "community_centre"},
                     {"asset_id": "H_near", "x_km": 2, "y_km": 0, "statutory": True},
                     {"asset_id": "H_far", "x_km": 1, "y_km": 0, "statutory": True}])
    occ = teams([("EH", "C1", "P1", "early_help", 10.0, True)])
    zones, access = zones_near(assets, {("Z1", "C1"): 5.0, ("Z1", "H_near"): 15.0, ("Z1", "H_far"): 45.0},
                               {"Z1": 1000.0})
    early = Service("early_help", "Early help", services=("early_help",),
                    standard=Standard(mode="car", minutes=20.0, share=1.0))
    plan = run(assets, occ, scenario(services=(early,)), zones, access)
    assert decision(plan, "C1") == "dispose"
    assert plan.moves["to_asset_id"].tolist() == ["H_near"]  # though H_far is nearer the team's old building
    free = run(assets, occ, scenario(services=(replace(early, standard=None),)), zones, access)
    assert free.moves["to_asset_id"].tolist() == ["H_far"]


def test_no_worse_standard_keeps_every_zone_as_close_as_today():
    assets = estate([{"asset_id": "P1s", "x_km": 0, "y_km": 0, "asset_type": "police_station"},
                     {"asset_id": "P2s", "x_km": 3, "y_km": 0, "asset_type": "police_station"},
                     {"asset_id": "H", "x_km": 1, "y_km": 0, "statutory": True}])
    occ = teams([("FC1", "P1s", "P1", "police_front_counter", 2.0, True),
                 ("FC2", "P2s", "P1", "police_front_counter", 2.0, True)])
    zones, access = zones_near(assets, {("Z1", "P1s"): 5.0, ("Z1", "H"): 5.0, ("Z1", "P2s"): 20.0,
                                        ("Z2", "P2s"): 5.0, ("Z2", "H"): 12.0},
                               {"Z1": 100.0, "Z2": 100.0})
    counter = Service("counter", "Front counter", services=("police_front_counter",),
                      standard=Standard(mode="car", rule="no_worse"))
    plan = run(assets, occ, scenario(services=(counter,)), zones, access)
    # P1s's team can move to H (Z1 stays at 5 min); P2s's cannot (Z2 would go from 5 to 12 min).
    assert decision(plan, "P1s") == "dispose" and decision(plan, "P2s") == "keep"
    assert plan.summary["access"]["counter"]["share_after"] == 1.0


def test_incompatible_services_never_share_a_building():
    assets = estate([{"asset_id": "CC", "x_km": 0, "y_km": 0, "asset_type": "community_centre"},
                     {"asset_id": "CUST", "x_km": 1, "y_km": 0, "asset_type": "police_station",
                      "statutory": True, "gia_m2": 1000.0},
                     {"asset_id": "OFF", "x_km": 3, "y_km": 0, "statutory": True}])
    occ = teams([("EH", "CC", "P1", "early_help", 10.0), ("CU", "CUST", "P2", "custody", 10.0)])
    apart = run(assets, occ, scenario(replace(PLAN, incompatible=(("custody", "early_help"),))))
    assert apart.moves["to_asset_id"].tolist() == ["OFF"]
    together = run(assets, occ, scenario())
    assert together.moves["to_asset_id"].tolist() == ["CUST"]


def test_incompatible_movable_teams_are_kept_apart():
    # Two movable teams of incompatible services; one host big enough for both, another for one.
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, "running_cost_gbp": 90_000.0},
                     {"asset_id": "B", "x_km": 1, "y_km": 0, "running_cost_gbp": 80_000.0},
                     {"asset_id": "HUB", "x_km": 2, "y_km": 0, "gia_m2": 1000.0, "running_cost_gbp": 10_000.0}])
    occ = teams([("X1", "A", "P1", "housing", 10.0), ("Y1", "B", "P2", "social_care", 10.0)])
    together = run(assets, occ, scenario())
    assert together.summary["disposed"] == 2 and decision(together, "HUB") == "hub"
    apart = run(assets, occ, scenario(replace(PLAN, incompatible=(("housing", "social_care"),))))
    assert apart.summary["disposed"] == 1 and decision(apart, "A") == "dispose"  # A is dearer to keep
    at = apart.occupiers.set_index("occupier_id")["asset_id"]
    assert at["X1"] != at["Y1"]


def test_partner_guardrail_caps_disposals():
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, "running_cost_gbp": 90_000.0},
                     {"asset_id": "B", "x_km": 1, "y_km": 0, "running_cost_gbp": 80_000.0},
                     {"asset_id": "HUB", "x_km": 2, "y_km": 0, "gia_m2": 1000.0, "statutory": True}])
    occ = teams([("X1", "A", "P1", "back_office", 10.0), ("Y1", "B", "P1", "back_office", 10.0)])
    capped = run(assets, occ, scenario(replace(PLAN, guardrails=(Guardrail("P1", 0.5),))))
    # P1 holds A + B + HUB = 1,400 m²: half (700 m²) may go, room for both A and B (200 m² each).
    assert capped.summary["disposed"] == 2
    tight = run(assets, occ, scenario(replace(PLAN, guardrails=(Guardrail("P1", 0.2),))))
    assert tight.summary["disposed"] == 1 and decision(tight, "A") == "dispose"


def test_infeasible_team_with_nowhere_to_go_is_explained():
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0},
                     {"asset_id": "B", "x_km": 1, "y_km": 0, "statutory": True, "gia_m2": 50.0}])
    occ = teams([("Payroll", "A", "P1", "back_office", 40.0)])
    with pytest.raises(PlanInfeasible) as err:
        run(assets, occ, scenario(replace(PLAN, must_exit=("A",))))
    text = str(err.value)
    assert "team 'Payroll' of P1 (40 FTE, 256 m²)" in text and "within 10 km" in text


def test_infeasible_access_standard_names_zones_service_and_people():
    assets = estate([{"asset_id": "J", "x_km": 0, "y_km": 0, "asset_type": "jobcentre"},
                     {"asset_id": "B", "x_km": 1, "y_km": 0, "statutory": True}])
    occ = teams([("Advisers", "J", "P1", "employment", 10.0)])
    zones, access = zones_near(assets, {("Z1", "J"): 10.0, ("Z2", "J"): 10.0}, {"Z1": 600.0, "Z2": 400.0})
    jobs = Service("employment", "Jobcentres", services=("employment",), asset_types=("jobcentre",),
                   standard=Standard(mode="car", minutes=20.0, share=0.8))
    with pytest.raises(PlanInfeasible) as err:
        run(assets, occ, scenario(replace(PLAN, must_exit=("J",)), services=(jobs,)), zones, access)
    text = str(err.value)
    assert "service employment: 2 zones (Z1, Z2; 1,000 people)" in text
    assert "within 20 minutes by car" in text and "must-exit" in text


def test_infeasible_by_a_rule_is_diagnosed():
    # P1 may dispose of nothing, yet A must go: the guardrail is the rule at fault.
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0},
                     {"asset_id": "B", "x_km": 1, "y_km": 0}])
    occ = teams([("T", "A", "P1", "back_office", 10.0), ("U", "B", "P1", "back_office", 10.0)])
    sc = scenario(replace(PLAN, must_exit=("A",), guardrails=(Guardrail("P1", 0.0),)))
    with pytest.raises(PlanInfeasible, match="P1 disposes of at most 0% of its floor area"):
        run(assets, occ, sc)


def test_unknown_asset_ids_in_the_scenario_are_named():
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0}])
    occ = teams([("T", "A", "P1", "back_office", 10.0)])
    with pytest.raises(PlanError, match=r"plan.must_exit.*'NOPE'"):
        run(assets, occ, scenario(replace(PLAN, must_exit=("NOPE",))))
    with pytest.raises(PlanError, match="must also stay"):
        run(assets.assign(listed=True), occ, scenario(replace(PLAN, must_exit=("A",))))


def test_moves_stay_within_the_radius_and_locality():
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0},
                     {"asset_id": "FAR", "x_km": 12, "y_km": 0, "statutory": True},
                     {"asset_id": "OTHER", "x_km": 2, "y_km": 0, "statutory": True, "locality": "Elsewhere"}])
    occ = teams([("T", "A", "P1", "back_office", 10.0)])
    anywhere = run(assets, occ, scenario())
    assert anywhere.moves["to_asset_id"].tolist() == ["OTHER"]
    local = run(assets, occ, scenario(replace(PLAN, move_rule="locality")))
    assert local.moves.empty and decision(local, "A") == "keep"


def test_the_objective_is_the_cost_model_and_the_cash_flows_agree():
    fin = replace(FIN, discount_rate=0.035, receipt_lag_months=6.0)
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, "backlog_maintenance_gbp": 30_000.0},
                     {"asset_id": "B", "x_km": 1, "y_km": 0, "statutory": True}])
    occ = teams([("T", "A", "P1", "back_office", 10.0)])
    sc = replace(scenario(), finance=fin)
    plan = run(assets, occ, sc)
    opt = asset_options(assets, fin).set_index("asset_id").loc["A"]
    # The move's one-off cost falls in year 1; its excess-travel allowance (£15 × 10 FTE × 1 km × 1.2 = £180)
    # in each of years 1-4.
    one_off, travel = MOVE_10_FTE_1_KM - 720.0, 180.0 * sum(1.035 ** -t for t in range(1, 5))
    by_hand = (50_000 * sum(1.035 ** -t for t in range(1, 10)) + 980_000 / 1.035 + 30_000 / 1.035
               - one_off / 1.035 - travel)
    assert opt["exit_value_pv_gbp"] - one_off / 1.035 - travel == pytest.approx(by_hand)
    assert plan.summary["npv_gbp"] == pytest.approx(by_hand)
    assert -plan.summary["objective"] == pytest.approx(plan.programme.flows["pv_gbp"].sum())


def test_status_quo_start_and_model_size_are_sparse():
    assets = estate([{"asset_id": f"S{i}", "x_km": i % 7, "y_km": i // 7} for i in range(40)])
    occ = teams([(f"T{i}", f"S{i}", f"P{i % 3}", "back_office", 5.0) for i in range(40)])
    sc = scenario(replace(PLAN, max_destinations=5))
    zones, access = zones_near(assets, {}, {"Z": 1.0})
    today = accessibility(access, zones, assets, occ, sc.services)
    model = compile_model(assets, occ, access, zones, today, sc)
    assert len(model.pairs) == 40 * 6  # home + 5 nearest hosts each
    assert model.start is not None and len(model.start.pairs) == 40


def test_a_standard_no_delivery_point_can_reach_is_explained_before_solving():
    # Only the early-help team delivers early help. Its building must go, and the one host it can move to
    # is 25 minutes from Z1: Z1 (60% of people) cannot be reached within 20 minutes whatever the plan.
    assets = estate([{"asset_id": "C", "x_km": 0, "y_km": 0, "asset_type": "community_centre"},
                     {"asset_id": "H", "x_km": 8, "y_km": 0, "statutory": True}])
    occ = teams([("EH", "C", "P1", "early_help", 5.0, True)])
    zones, access = zones_near(assets, {("Z1", "C"): 5.0, ("Z1", "H"): 25.0, ("Z2", "C"): 15.0, ("Z2", "H"): 10.0},
                               {"Z1": 600.0, "Z2": 400.0})
    early = Service("early_help", "Early help", services=("early_help",),
                    standard=Standard(mode="car", minutes=20.0, share=0.9))
    with pytest.raises(PlanInfeasible) as err:
        run(assets, occ, scenario(replace(PLAN, must_exit=("C",)), services=(early,)), zones, access)
    assert "service early_help: 1 zones (Z1; 600 people)" in str(err.value)
    assert "once the must-exit sites go, so at most 40.0% can be covered against 90.0% required" in str(err.value)


# ---------------------------------------------------------------------------
# A model an estates surveyor and a finance director accept (each worked by hand)
# ---------------------------------------------------------------------------
def _with(finance: FinanceSettings, plan: PlanSettings = PLAN, services: tuple[Service, ...] = ()) -> Scenario:
    return replace(scenario(plan, services), finance=finance)


def test_a_kept_freehold_keeps_its_residual_value_so_a_cheap_sale_no_longer_pays():
    # A (£5,000 a year, worth £1m) houses T; B is a statutory host. At 0%: selling A brings 9 × 5,000 +
    # 980,000, less the move (57,600). Keeping A keeps a freehold worth £1m at the end of the horizon.
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, "running_cost_gbp": 5_000.0},
                     {"asset_id": "B", "x_km": 1, "y_km": 0, "statutory": True}])
    occ = teams([("T", "A", "P1", "back_office", 10.0)])
    without = run(assets, occ, _with(FIN))
    assert decision(without, "A") == "dispose"
    assert without.summary["npv_gbp"] == pytest.approx(45_000 + 980_000 - MOVE_10_FTE_1_KM)  # 967,400
    valued = run(assets, occ, _with(replace(FIN, residual_value="market_value")))
    # 45,000 + 980,000 − 1,000,000 = 25,000 < 57,600: keeping A is worth more.
    assert decision(valued, "A") == "keep" and valued.summary["npv_gbp"] == 0.0
    assert valued.summary["residual_value_kept_pv_gbp"] == pytest.approx(2_000_000)  # A and B, at 0%
    assert valued.summary["residual_value_forgone_pv_gbp"] == 0.0


def test_a_clinical_team_moves_only_into_a_health_building():
    assets = estate([{"asset_id": "CL", "x_km": 0, "y_km": 0, "asset_type": "clinic"},
                     {"asset_id": "PS", "x_km": 1, "y_km": 0, "asset_type": "police_station", "statutory": True},
                     {"asset_id": "HC", "x_km": 3, "y_km": 0, "asset_type": "health_centre", "statutory": True}])
    occ = teams([("GP", "CL", "P1", "health", 10.0)])
    hosts = replace(PLAN, host_asset_types=(*PLAN.host_asset_types, "health_centre"))
    anywhere = run(assets, occ, scenario(hosts))
    assert anywhere.moves["to_asset_id"].tolist() == ["PS"]  # the nearest host, but a police station
    suited = run(assets, occ, scenario(replace(hosts, suitability={"health": ("health_centre", "clinic")})))
    assert suited.moves["to_asset_id"].tolist() == ["HC"]


def test_a_front_facing_team_moves_only_into_a_public_facing_building():
    assets = estate([{"asset_id": "CC", "x_km": 0, "y_km": 0, "asset_type": "community_centre"},
                     {"asset_id": "OFF", "x_km": 1, "y_km": 0, "statutory": True},
                     {"asset_id": "LIB", "x_km": 2, "y_km": 0, "asset_type": "library", "statutory": True}])
    occ = teams([("EH", "CC", "P1", "early_help", 10.0, True)])
    public = replace(PLAN, public_facing_asset_types=("library", "community_centre"))
    assert run(assets, occ, scenario()).moves["to_asset_id"].tolist() == ["OFF"]
    assert run(assets, occ, scenario(public)).moves["to_asset_id"].tolist() == ["LIB"]


def test_a_building_type_offers_only_its_usable_share_as_workspace():
    # A library of 200 m² offers 160 m² at the default 80%, but 60 m² at 30%: too small for 64 m².
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0},
                     {"asset_id": "LIB", "x_km": 1, "y_km": 0, "asset_type": "library", "statutory": True},
                     {"asset_id": "OFF", "x_km": 4, "y_km": 0, "statutory": True}])
    occ = teams([("T", "A", "P1", "back_office", 10.0)])
    assert run(assets, occ, scenario()).moves["to_asset_id"].tolist() == ["LIB"]
    narrow = replace(PLAN, workspace=replace(PLAN.workspace, share_by_type={"library": 0.3}))
    plan = run(assets, occ, scenario(narrow))
    assert plan.moves["to_asset_id"].tolist() == ["OFF"]
    assert plan.assets.set_index("asset_id").loc["LIB", "capacity_m2"] == pytest.approx(60.0)


def test_an_empty_building_costs_its_reopening_and_space_costs_its_running():
    # T leaves A. E (1 km) is empty today: reopening it costs 200 m² × £30 × 1.2 = £7,200 once. H (2 km) is
    # in use: one more km of excess travel costs 15 × 10 × 4 × 1.2 = £720. So T goes to H, not E.
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0},
                     {"asset_id": "E", "x_km": 1, "y_km": 0, "statutory": True},
                     {"asset_id": "H", "x_km": 2, "y_km": 0, "statutory": True}])
    occ = teams([("T", "A", "P1", "back_office", 10.0), ("U", "H", "P1", "back_office", 5.0)])
    free = run(assets, occ, _with(FIN))
    assert free.moves["to_asset_id"].tolist() == ["E"]
    costed = run(assets, occ, _with(replace(FIN, reopening_gbp_per_m2=30.0, new_space_running_gbp_per_m2=40.0)))
    assert costed.moves["to_asset_id"].tolist() == ["H"]
    # NPV: A's exit (9 × 50,000 + 980,000), less the 2 km move and 64 m² × £40 × 9 years of running H.
    move_2_km = MOVE_10_FTE_1_KM + 720.0
    assert costed.summary["npv_gbp"] == pytest.approx(450_000 + 980_000 - move_2_km - 40 * 64 * 9)
    assert costed.summary["npv_gbp"] == pytest.approx(-costed.summary["objective"])
    assert costed.summary["buildings_reopened"] == 0
    # Made much cheaper to reopen, E wins again and the programme carries its reopening cost.
    cheap = run(assets, occ, _with(replace(FIN, reopening_gbp_per_m2=1.0, new_space_running_gbp_per_m2=40.0)))
    assert cheap.moves["to_asset_id"].tolist() == ["E"] and cheap.summary["buildings_reopened"] == 1
    lines = cheap.programme.flows.groupby("category")["gbp"].sum()
    assert lines["reopening_cost"] == pytest.approx(-200 * 1.0 * 1.2)
    assert cheap.summary["npv_gbp"] == pytest.approx(-cheap.summary["objective"])


def test_only_front_facing_teams_make_service_points():
    # Z is 5 minutes from O only. O houses an employment team: a back-office one makes no service point.
    assets = estate([{"asset_id": "J", "x_km": 0, "y_km": 0, "asset_type": "jobcentre", "statutory": True},
                     {"asset_id": "O", "x_km": 1, "y_km": 0, "statutory": True}])
    zones, access = zones_near(assets, {("Z", "O"): 5.0, ("Z", "J"): 50.0}, {"Z": 100.0})
    jobs = Service("employment", "Employment", services=("employment",), asset_types=("jobcentre",),
                   standard=Standard(mode="car", minutes=20.0, share=1.0))
    back = accessibility(access, zones, assets, teams([("W", "O", "P1", "employment", 5.0)]), (jobs,))
    front = accessibility(access, zones, assets, teams([("W", "O", "P1", "employment", 5.0, True)]), (jobs,))
    assert back.summary.loc[0, "sites"] == 1 and back.summary.loc[0, "share_within"] == 0.0
    assert front.summary.loc[0, "sites"] == 2 and front.summary.loc[0, "share_within"] == 1.0


def test_a_back_office_team_does_not_carry_a_service_point_to_its_new_building():
    # The employment standard needs a point within 20 min of Z. A front-facing team at W can give one
    # by moving to H (5 min); a back-office team cannot, so with only a back-office team the plan is
    # infeasible and explained.
    assets = estate([{"asset_id": "W", "x_km": 0, "y_km": 0},
                     {"asset_id": "H", "x_km": 1, "y_km": 0, "statutory": True}])
    zones, access = zones_near(assets, {("Z", "W"): 5.0, ("Z", "H"): 5.0}, {"Z": 100.0})
    jobs = Service("employment", "Employment", services=("employment",), asset_types=("jobcentre",),
                   standard=Standard(mode="car", minutes=20.0, share=1.0))
    sc = scenario(replace(PLAN, must_exit=("W",)), services=(jobs,))
    plan = run(assets, teams([("WC", "W", "P1", "employment", 5.0, True)]), sc, zones, access)
    assert plan.summary["access"]["employment"]["sites_after"] == 1
    # Today's share is 0 with a back-office team only; the plan keeps it no worse and creates no point.
    back = run(assets, teams([("WC", "W", "P1", "employment", 5.0)]), sc, zones, access)
    assert back.summary["access"]["employment"]["sites_before"] == 0
    assert back.summary["access"]["employment"]["sites_after"] == 0


def test_an_empty_building_is_disposed_of_when_that_pays():
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, "statutory": True},
                     {"asset_id": "V", "x_km": 1, "y_km": 0, "asset_type": "day_centre"},
                     {"asset_id": "L", "x_km": 2, "y_km": 0, "asset_type": "land"}])
    occ = teams([("T", "A", "P1", "back_office", 10.0)])
    plan = run(assets, occ, scenario())  # default scope: every building, not the empty investment estate
    assert decision(plan, "V") == "dispose" and decision(plan, "L") == "keep"
    assert plan.summary["vacant_disposed"] == 1
    assert plan.summary["npv_gbp"] == pytest.approx(450_000 + 980_000)
    everything = run(assets, occ, scenario(replace(PLAN, scope="all")))
    assert decision(everything, "L") == "dispose"
    kept = run(assets, occ, scenario(replace(PLAN, scope="occupied")))
    assert decision(kept, "V") == "keep"
    assert not kept.assets.set_index("asset_id").loc["V", "in_plan"]


def test_an_empty_building_named_in_must_exit_goes_whatever_the_scope():
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, "statutory": True},
                     {"asset_id": "V", "x_km": 1, "y_km": 0, "asset_type": "industrial_unit",
                      "running_cost_gbp": 0.0, "market_value_gbp": 0.0}])
    occ = teams([("T", "A", "P1", "back_office", 10.0)])
    plan = run(assets, occ, scenario(replace(PLAN, scope="occupied", must_exit=("V",))))
    assert decision(plan, "V") == "dispose"  # though selling it brings nothing


def test_an_empty_host_outside_the_scope_that_takes_teams_in_is_in_the_plan():
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0},
                     {"asset_id": "E", "x_km": 1, "y_km": 0}])
    occ = teams([("T", "A", "P1", "back_office", 10.0)])
    plan = run(assets, occ, scenario(replace(PLAN, scope="occupied")))
    e = plan.assets.set_index("asset_id").loc["E"]
    assert plan.moves["to_asset_id"].tolist() == ["E"]
    assert bool(e["in_plan"]) and e["keep_reason"] == "" and e["decision"] == "keep"


def test_where_incompatible_services_already_share_no_more_of_either_moves_in():
    # S houses a library and an early-help team today (they may not share). E2 leaves X: S is nearest.
    assets = estate([{"asset_id": "S", "x_km": 0, "y_km": 0, "statutory": True, "gia_m2": 1000.0},
                     {"asset_id": "X", "x_km": 1, "y_km": 0},
                     {"asset_id": "H", "x_km": 4, "y_km": 0, "statutory": True}])
    occ = teams([("L1", "S", "P1", "library", 5.0), ("E1", "S", "P1", "early_help", 5.0),
                 ("E2", "X", "P1", "early_help", 10.0)])
    plan = run(assets, occ, scenario(replace(PLAN, incompatible=(("library", "early_help"),))))
    assert plan.moves["to_asset_id"].tolist() == ["H"]
    assert any("already houses both library and early_help" in n for n in plan.notes)


def test_a_tolerance_residue_never_moves_a_team():
    from estate.plan.readback import destinations

    a = pd.DataFrame({"zone": [0, 0, 1], "site": [3, 1, 2], "share": [0.9999999, 1e-7, 1.0]})
    assert destinations(a, 3).tolist() == [3, 2, -1]
    assert destinations(a.iloc[::-1], 3).tolist() == [3, 2, -1]  # whatever the row order


def test_a_rule_whose_relaxation_only_ran_out_of_time_is_not_named_as_the_cause(monkeypatch):
    from estate.locate.solve import Solution
    from estate.plan import diagnose

    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0}, {"asset_id": "B", "x_km": 1, "y_km": 0}])
    occ = teams([("T", "A", "P1", "back_office", 10.0), ("U", "B", "P1", "back_office", 10.0)])
    sc = scenario(replace(PLAN, guardrails=(Guardrail("P1", 0.0),)))
    zones, access = zones_near(assets, {}, {"Z": 1.0})
    model = compile_model(assets, occ, access, zones, accessibility(access, zones, assets, occ, ()), sc)
    stopped = Solution("time_limit", None, None, None, "highs", 0.0, 30.0, np.zeros(0, int),
                       pd.DataFrame(columns=["zone", "site", "share"]))
    monkeypatch.setattr(diagnose, "solve", lambda *a, **k: stopped)
    text = diagnose._diagnose(model, sc)
    assert "becomes possible without" not in text
    assert "could not be settled in the time allowed" in text and "P1 disposes of at most 0%" in text


def test_the_greedy_start_never_puts_incompatible_teams_from_one_building_together():
    # A houses a housing and a social-care team today (incompatible, left as they are); closing A must not
    # send both to the cheap HUB. The start keeps every row of the model.
    from estate.locate import formulate
    from estate.locate.solve import _start_values
    from estate.plan.start import keeps_every_row

    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, "running_cost_gbp": 90_000.0},
                     {"asset_id": "HUB", "x_km": 1, "y_km": 0, "gia_m2": 1000.0, "running_cost_gbp": 10_000.0},
                     {"asset_id": "O", "x_km": 2, "y_km": 0, "statutory": True}])
    occ = teams([("X1", "A", "P1", "housing", 10.0), ("Y1", "A", "P2", "social_care", 10.0)])
    sc = scenario(replace(PLAN, incompatible=(("housing", "social_care"),)))
    zones, access = zones_near(assets, {}, {"Z": 1.0})
    model = compile_model(assets, occ, access, zones, accessibility(access, zones, assets, occ, ()), sc)
    milp = formulate.min_cost(model.problem, single_source=True)
    assert keeps_every_row(milp, _start_values(milp, model.start))
    plan = run(assets, occ, sc)
    assert sorted(plan.moves["to_asset_id"]) == ["HUB", "O"]  # apart, and A goes


def test_a_team_whose_home_has_no_locality_is_held_to_the_radius_only():
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, "locality": None},
                     {"asset_id": "B", "x_km": 1, "y_km": 0, "statutory": True}])
    occ = teams([("T", "A", "P1", "back_office", 10.0)])
    plan = run(assets, occ, scenario(replace(PLAN, move_rule="locality")))
    assert plan.moves["to_asset_id"].tolist() == ["B"] and decision(plan, "A") == "dispose"


# --- Space requests ------------------------------------------------------------------------------------------
# At 0%, a request needed from 2029/30 (year 2 of 10) needs its space for 8 years; 10 FTE need 64 m².
FROM_2029 = 8


def _request(**kw) -> SpaceRequest:
    base = {"id": "R1", "partner": "P2", "service": "back_office", "fte": 10.0, "need_m2": 64.0, "from_year": 2029,
            "new_lease_gbp_per_m2": 200.0, "locality": "Town"}
    return SpaceRequest(**{**base, **kw})


def _p2_elsewhere() -> dict:
    """Partner P2's own building, statutory, in another town (so it cannot house a request in Town)."""
    return {"asset_id": "P2HQ", "x_km": 50, "y_km": 0, "partner": "P2", "statutory": True, "locality": "Elsewhere"}


def test_a_space_request_is_met_in_another_partners_kept_space_with_its_charge():
    # K (P1) stays and has room. Housing R there avoids a lease of 200 × 64 × 8 = £102,400 and costs P1
    # 40 × 64 × 8 = £20,480 of running; P2 pays P1 150 × 64 × 8 = £76,800 of occupancy charges.
    assets = estate([{"asset_id": "K", "x_km": 0, "y_km": 0, "statutory": True}, _p2_elsewhere()])
    occ = teams([("U", "K", "P1", "back_office", 5.0)])
    fin = replace(FIN, new_space_running_gbp_per_m2=40.0, occupancy_charge_gbp_per_m2=150.0)
    plan = run(assets, occ, _with(fin, replace(PLAN, space_requests=(_request(),))))
    req = plan.requests.set_index("request_id").loc["R1"]
    assert (req["housed_in"], req["host_partner"], req["outcome"], req["financial_year"]) == \
        ("K", "P1", "a hub", "2029/30")
    assert decision(plan, "K") == "hub" and plan.moves.empty
    lease, running, charge = 200 * 64 * FROM_2029, 40 * 64 * FROM_2029, 150 * 64 * FROM_2029
    assert plan.summary["npv_gbp"] == pytest.approx(lease - running)  # £81,920
    assert plan.summary["npv_gbp"] == pytest.approx(-plan.summary["objective"])
    ledger = plan.programme.ledger.set_index("partner")["own_net_pv_gbp"]
    assert ledger["P2"] == pytest.approx(lease - charge) and ledger["P1"] == pytest.approx(charge - running)
    lines = plan.programme.flows
    avoided = lines[lines["category"] == "new_lease_avoided"]
    assert avoided["financial_year"].iloc[0] == "2029/30" and len(avoided) == FROM_2029
    assert plan.summary["space_requests"] == {"requested": 1, "met": 1, "new_lease_avoided_gbp_a_year": 200 * 64}


def test_a_space_request_that_no_building_suits_takes_a_new_lease_and_says_why():
    assets = estate([{"asset_id": "K", "x_km": 0, "y_km": 0, "statutory": True}, _p2_elsewhere()])
    occ = teams([("U", "K", "P1", "back_office", 5.0)])
    plan_settings = replace(PLAN, suitability={"health": ("clinic", "health_centre")},
                            space_requests=(_request(service="health"),))
    plan = run(assets, occ, scenario(plan_settings))
    req = plan.requests.iloc[0]
    assert req["outcome"] == "new lease" and req["housed_in"] == ""
    assert "suits health teams" in req["reason"] and "in Town" in req["reason"]
    assert plan.summary["npv_gbp"] == 0.0 and decision(plan, "K") == "keep"
    # Nor does a building with too little room take it: K offers 160 m², U uses 32 m², R asks for 200 m².
    big = run(assets, occ, scenario(replace(PLAN, space_requests=(_request(fte=31.25, need_m2=200.0),))))
    assert big.requests.iloc[0]["outcome"] == "new lease" and "200 m² free" in big.requests.iloc[0]["reason"]


def test_the_optimiser_weighs_a_sale_against_the_lease_a_request_would_avoid():
    # A is P1's empty office, free to go: selling it is worth 9 × 10,000 + 500,000 × 0.98 = £580,000.
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0, "running_cost_gbp": 10_000.0,
                      "market_value_gbp": 500_000.0}, _p2_elsewhere()])
    occ = teams([("V", "P2HQ", "P2", "back_office", 5.0)])
    fin = replace(FIN, new_space_running_gbp_per_m2=40.0, reopening_gbp_per_m2=30.0)
    cheap = run(assets, occ, _with(fin, replace(PLAN, space_requests=(_request(),))))
    # The lease it would avoid (£102,400 less £20,480 of running) is worth less than the sale.
    assert decision(cheap, "A") == "dispose" and cheap.summary["npv_gbp"] == pytest.approx(580_000)
    assert cheap.requests.iloc[0]["outcome"] == "new lease"
    assert "1 are worth more sold than the new lease it would save (£102k present value)" in \
        cheap.requests.iloc[0]["reason"]
    # At £2,000/m² the lease is worth £1,024,000: A stays to house R (reopened, 200 m² × £30 × 1.2).
    dear = run(assets, occ, _with(fin, replace(PLAN, space_requests=(_request(new_lease_gbp_per_m2=2000.0),))))
    assert decision(dear, "A") == "keep" and dear.requests.iloc[0]["housed_in"] == "A"
    assert dear.requests.iloc[0]["outcome"] == "another partner's space"
    assert dear.summary["npv_gbp"] == pytest.approx(2000 * 64 * 8 - 40 * 64 * 8 - 200 * 30 * 1.2)
    assert dear.summary["npv_gbp"] == pytest.approx(-dear.summary["objective"])
    assert dear.summary["buildings_reopened"] == 1


def test_a_space_request_near_a_point_is_housed_within_its_distance():
    # Two kept offices: N (P1's) 2 km from the point, F (P2's own) 5 km. Within 3 km only N may take it;
    # within 1 km of a point next to F, only F.
    assets = estate([{"asset_id": "N", "x_km": 2, "y_km": 0, "statutory": True},
                     {"asset_id": "F", "x_km": 5, "y_km": 0, "statutory": True, "partner": "P2"}])
    occ = teams([("U", "N", "P1", "back_office", 5.0)])
    fin = replace(FIN, new_space_running_gbp_per_m2=40.0, occupancy_charge_gbp_per_m2=150.0)
    point = (400_000.0, 370_000.0)
    anywhere = run(assets, occ, _with(fin, replace(PLAN, space_requests=(
        _request(locality=None, near_m=point, within_km=10.0),))))
    assert anywhere.requests.iloc[0]["housed_in"] in ("N", "F")  # same cost to the partnership either way
    within = run(assets, occ, _with(fin, replace(PLAN, space_requests=(
        _request(locality=None, near_m=point, within_km=3.0),))))
    assert within.requests.iloc[0]["housed_in"] == "N"
    own = run(assets, occ, _with(fin, replace(PLAN, space_requests=(
        _request(locality=None, near_m=(405_000.0, 370_000.0), within_km=1.0),))))
    assert own.requests.iloc[0][["housed_in", "outcome"]].tolist() == ["F", "own space"]


def test_a_space_request_naming_an_unknown_partner_or_locality_is_an_error():
    assets = estate([{"asset_id": "K", "x_km": 0, "y_km": 0, "statutory": True}])
    occ = teams([("U", "K", "P1", "back_office", 5.0)])
    with pytest.raises(PlanError, match=r"space_requests\[0\] \(R1\)\.partner: 'P9' is not a partner"):
        run(assets, occ, scenario(replace(PLAN, space_requests=(_request(partner="P9"),))))
    with pytest.raises(PlanError, match=r"locality: 'Twon' is no asset's locality"):
        run(assets, occ, scenario(replace(PLAN, space_requests=(_request(partner="P1", locality="Twon"),))))
    with pytest.raises(PlanError, match="sensitive service"):
        run(assets, occ, scenario(replace(PLAN, space_requests=(_request(partner="P1", service="refuge"),))))


# --- Phasing: exit years are decisions under delivery limits and the funding line ---------------------------

def _phased(limits: DeliveryLimits = DeliveryLimits(), finance: FinanceSettings = FIN, **delivery) -> Scenario:
    return _with(finance, replace(PLAN, delivery=Delivery(limits=limits, **delivery)))


def _years(plan) -> dict:
    return plan.programme.disposals.set_index("asset_id")["financial_year"].to_dict()


def test_one_disposal_a_year_puts_the_dearer_building_first():
    # A and B are empty offices worth £1m each; A costs £50,000 a year to run, B £30,000. At 0%, delaying
    # a disposal by a year loses its running cost for that year, so A goes in 2028/29 and B in 2029/30.
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0},
                     {"asset_id": "B", "x_km": 3, "y_km": 0, "running_cost_gbp": 30_000.0},
                     {"asset_id": "K", "x_km": 1, "y_km": 0, "statutory": True}])
    occ = teams([("U", "K", "P1", "back_office", 5.0)])
    free = run(assets, occ, _with(FIN))
    assert _years(free) == {"A": "2028/29", "B": "2028/29"}
    assert free.summary["npv_gbp"] == pytest.approx(9 * 50_000 + 9 * 30_000 + 2 * 980_000)
    paced = run(assets, occ, _phased(DeliveryLimits(disposals_per_year=1)))
    assert _years(paced) == {"A": "2028/29", "B": "2029/30"}
    assert paced.summary["npv_gbp"] == pytest.approx(9 * 50_000 + 8 * 30_000 + 2 * 980_000)
    assert paced.summary["npv_gbp"] == pytest.approx(-paced.summary["objective"])
    # The market can absorb £1.5m of sales a year: the same phasing.
    market = run(assets, occ, _phased(DeliveryLimits(market_value_gbp_per_year=1_500_000.0)))
    assert _years(market) == {"A": "2028/29", "B": "2029/30"}


def test_fte_moved_a_year_spreads_the_moves_and_their_disposals():
    # A and B each house a 10 FTE team that moves 1 km or 2 km to host H. With at most 15 FTE moved a
    # year, only one building empties a year: A (£50,000 a year) first, then B (£30,000).
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0},
                     {"asset_id": "B", "x_km": 2, "y_km": 0, "running_cost_gbp": 30_000.0},
                     {"asset_id": "H", "x_km": 1, "y_km": 0, "statutory": True, "gia_m2": 400.0}])
    occ = teams([("TA", "A", "P1", "back_office", 10.0), ("TB", "B", "P1", "back_office", 10.0)])
    free = run(assets, occ, _with(FIN))
    paced = run(assets, occ, _phased(DeliveryLimits(fte_moved_per_year=15.0)))
    assert _years(free) == {"A": "2028/29", "B": "2028/29"}
    assert _years(paced) == {"A": "2028/29", "B": "2029/30"}
    moves = paced.programme.moves.set_index("occupier_id")["financial_year"].to_dict()
    assert moves == {"TA": "2028/29", "TB": "2029/30"}
    assert paced.summary["npv_gbp"] == pytest.approx(free.summary["npv_gbp"] - 30_000)  # B runs a year longer
    # A partner's own limit binds the same way.
    partner = run(assets, occ, _phased(partners={"P1": DeliveryLimits(fte_moved_per_year=15.0)}))
    assert _years(partner) == {"A": "2028/29", "B": "2029/30"}


def test_receipts_recycled_pay_for_the_moves_a_year_later():
    # F is an empty freehold worth £1m whose receipt arrives a year after its sale; L (worth nothing)
    # houses a 10 FTE team whose move costs (2,500 × 10 + 350 × 64) × 1.2 = £56,880 of capital. With no
    # capital budget, the move waits for F's receipt: F goes in 2028/29, L in 2029/30. With £60,000 a
    # year of budget, L goes in 2028/29 too.
    fin = replace(FIN, receipt_lag_months=12.0)
    assets = estate([{"asset_id": "F", "x_km": 0, "y_km": 0, "running_cost_gbp": 10_000.0},
                     {"asset_id": "L", "x_km": 2, "y_km": 0, "market_value_gbp": 0.0},
                     {"asset_id": "H", "x_km": 1, "y_km": 0, "statutory": True}])
    occ = teams([("TL", "L", "P1", "back_office", 10.0)])
    free = run(assets, occ, _with(fin))
    assert _years(free) == {"F": "2028/29", "L": "2028/29"}
    unfunded = run(assets, occ, _phased(finance=fin, funded=True))
    assert _years(unfunded) == {"F": "2028/29", "L": "2029/30"}
    assert unfunded.summary["npv_gbp"] == pytest.approx(free.summary["npv_gbp"] - 50_000)
    budget = run(assets, occ, _phased(finance=fin, funded=True, capital_budget_gbp_per_year=60_000.0))
    assert _years(budget) == {"F": "2028/29", "L": "2028/29"}
    # The budget builds up from year 0: £25,000 a year makes £50,000 by 2028/29, short of £56,880, so L
    # still waits for 2029/30; £30,000 a year makes £60,000 by 2028/29, enough.
    short = run(assets, occ, _phased(finance=fin, funded=True, capital_budget_gbp_per_year=25_000.0))
    assert _years(short) == {"F": "2028/29", "L": "2029/30"}
    enough = run(assets, occ, _phased(finance=fin, funded=True, capital_budget_gbp_per_year=30_000.0))
    assert _years(enough) == {"F": "2028/29", "L": "2028/29"}


def test_the_greedy_start_schedules_its_disposals_within_every_limit():
    # Three empty offices and one disposal a year under a funding line: the greedy start gives each a year
    # (A, the dearest to run, first) and keeps every row of the model.
    from estate.locate import formulate
    from estate.locate.solve import _start_values
    from estate.plan.start import keeps_every_row

    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0},
                     {"asset_id": "B", "x_km": 3, "y_km": 0, "running_cost_gbp": 30_000.0},
                     {"asset_id": "C", "x_km": 5, "y_km": 0, "running_cost_gbp": 20_000.0},
                     {"asset_id": "K", "x_km": 1, "y_km": 0, "statutory": True}])
    occ = teams([("U", "K", "P1", "back_office", 5.0)])
    sc = _phased(DeliveryLimits(disposals_per_year=1), funded=True)
    zones, access = zones_near(assets, {}, {"Z": 1000.0})
    model = compile_model(assets, occ, access, zones, accessibility(access, zones, assets, occ, sc.services), sc)
    milp = formulate.min_cost(model.problem, single_source=True)
    assert keeps_every_row(milp, _start_values(milp, model.start))
    ph = model.phasing
    chosen = model.start.extra[ph["columns"]] > 0.5
    years = dict(zip(model.sites["asset_id"].to_numpy()[ph["site"][chosen]], ph["year"][chosen]))
    assert years == {"A": 1, "B": 2, "C": 3}


def test_must_go_buildings_get_exit_years_and_a_lease_its_only_one():
    # F (freehold, £90,000 a year) and L (a lease whose break allows only 2028/29) must both go, one
    # disposal a year: L takes 2028/29, its only year, and F 2029/30, though F is worth more going first.
    assets = estate([{"asset_id": "F", "x_km": 4, "y_km": 0, "running_cost_gbp": 90_000.0},
                     {"asset_id": "L", "x_km": 5, "y_km": 0, "tenure": "leasehold", "market_value_gbp": 0.0,
                      "lease_break_date": pd.Timestamp("2028-04-01"), "lease_expiry_date": pd.Timestamp("2045-01-01")},
                     {"asset_id": "K", "x_km": 1, "y_km": 0, "statutory": True}])
    occ = teams([("U", "K", "P1", "back_office", 5.0)])
    sc = _with(FIN, replace(PLAN, must_exit=("F", "L"), delivery=Delivery(limits=DeliveryLimits(disposals_per_year=1))))
    plan = run(assets, occ, sc)
    assert _years(plan) == {"L": "2028/29", "F": "2029/30"} and plan.summary["status"] == "optimal"
    # The greedy order (F first) fits L in no year, so no start keeps every rule: the solver starts
    # from nothing rather than from a broken plan.
    assert plan.summary["start_search"]["start_kept_every_rule"] is False
    # F alone must go: today's estate, with F's exit year, is a start that keeps every rule. L still
    # goes at its break (9 × £50,000 less dilapidations beats the £90,000 F loses by waiting a year).
    alone = run(assets, occ, _with(FIN, replace(sc.plan, must_exit=("F",))))
    assert alone.summary["start_search"]["start_kept_every_rule"]
    assert _years(alone) == {"L": "2028/29", "F": "2029/30"}


def test_a_reopening_for_a_space_request_counts_against_the_funding_line_from_its_first_year():
    # A request from 2027/28 could reopen empty E (200 m² × £30 × 1.2 = £7,200) in year 0, when the
    # budget so far is £5,000: the plan may not do it then, so the programme never crosses the line.
    from estate.finance import phasing_table

    fin = replace(FIN, receipt_lag_months=12.0, reopening_gbp_per_m2=30.0)
    assets = estate([{"asset_id": "K", "x_km": 1, "y_km": 0, "statutory": True},
                     {"asset_id": "E", "x_km": 0, "y_km": 0, "statutory": True}])
    occ = teams([("U", "K", "P1", "back_office", 15.0)])
    req = _request(partner="P1", fte=15.625, need_m2=100.0, new_lease_gbp_per_m2=2000.0, from_year=2027)
    sc = _with(fin, replace(PLAN, space_requests=(req,),
                            delivery=Delivery(funded=True, capital_budget_gbp_per_year=5_000.0)))
    plan = run(assets, occ, sc)
    assert plan.requests.iloc[0]["outcome"] == "new lease"
    assert phasing_table(plan.programme, sc.plan.delivery)["within_limits"].all()
    # With £8,000 a year it can: E is reopened for it in 2027/28, inside the line.
    richer = replace(sc, plan=replace(sc.plan, delivery=Delivery(funded=True, capital_budget_gbp_per_year=8_000.0)))
    housed = run(assets, occ, richer)
    assert housed.requests.iloc[0]["housed_in"] == "E" and housed.summary["buildings_reopened"] == 1
    assert phasing_table(housed.programme, richer.plan.delivery)["within_limits"].all()


def test_the_programme_keeps_the_plans_exit_years_over_the_old_moves_cap():
    # With delivery limits the optimiser phases the programme; finance.max_moves_per_year (a cap the
    # costing used to apply afterwards) would re-phase it, so it is not applied on top, and it says so.
    assets = estate([{"asset_id": "A", "x_km": 0, "y_km": 0},
                     {"asset_id": "B", "x_km": 2, "y_km": 0, "running_cost_gbp": 30_000.0},
                     {"asset_id": "H", "x_km": 1, "y_km": 0, "statutory": True, "gia_m2": 400.0}])
    occ = teams([("TA", "A", "P1", "back_office", 10.0), ("TB", "B", "P1", "back_office", 10.0)])
    plan = run(assets, occ, _phased(DeliveryLimits(fte_moved_per_year=25.0),
                                    finance=replace(FIN, max_moves_per_year=1)))
    assert _years(plan) == {"A": "2028/29", "B": "2028/29"}
    assert plan.summary["npv_gbp"] == pytest.approx(-plan.summary["objective"])
    assert any("max_moves_per_year is not applied" in n for n in plan.summary["notes"])
