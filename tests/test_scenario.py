"""Scenario files: the built-in one loads; mistakes name the file and the key."""

from __future__ import annotations

import pytest

from estate._errors import SourceErrors
from estate.scenario import load_scenario

from conftest import REPO, scenario_copy

BUILT_IN = REPO / "models" / "cheshire-warrington.toml"


def test_built_in_scenario_loads():
    s = load_scenario(BUILT_IN)
    assert s.name == "cheshire-warrington"
    assert s.access.engine == "straight" and s.access.speed_kmh["walk"] == 4.8
    assert s.access.wait_minutes == {"public_transport": 10.0}
    codes = {svc.code: svc for svc in s.services}
    assert {"employment", "early_help", "library_contact", "health_care", "police_front_counter",
            "back_office"} <= set(codes)
    assert codes["back_office"].standard is None
    assert codes["police_front_counter"].standard.rule == "no_worse"
    assert s.data.sources == (REPO / "data/assets/partners.toml").resolve()


@pytest.mark.parametrize(
    "old, new, expect",
    [
        ('mode = "car", rule', 'mode = "tram", rule', "'tram' has no speed"),
        ("cycle = 15.0\n", "", None),
        ('engine = "straight"', 'engine = "teleport"', "access.engine"),
        ("circuity = 1.3", "circuity = 0.5", "access.circuity"),
        ("share = 0.90 }", "share = 1.5 }", "share"),
        ('asset_types = ["jobcentre"]', 'asset_types = ["castle"]', "'castle'"),
        ("car = 35.0", "car = -35.0", "access.speed_kmh.car"),
        ("cutoff_minutes = 60.0", "cutoff_minutes = 0", "cutoff_minutes"),
        ("discount_rate = 0.035", "discount_rate = -0.01", "finance.discount_rate"),
        ("horizon_years = 10", "horizon_years = 0", "finance.horizon_years"),
        ("disposal_cost_share = 0.02", "disposal_cost_share = 1.5", "finance.disposal_cost_share"),
        ("optimism_bias = 0.2 ", "optimism_bias = \"high\" ", "finance.optimism_bias"),
        ("backlog_avoided = true", "backlog_avoided = 1", "finance.backlog_avoided"),
        ("first_year = 2027", "first_year = 2027\nfirst_yaer = 2028", "finance.first_yaer"),
        ('scope = "buildings"', 'scope = "some"', "plan.scope"),
        ('move_rule = "distance"', 'move_rule = "nearby"', "plan.move_rule"),
        ('solver = "highs"', 'solver = "gurobi"', "plan.solver"),
        ("desks_per_fte = 0.8", "desks_per_fte = 1.5", "plan.workspace.desks_per_fte"),
        ('["custody", "early_help"]', '["custody", "custody"]', "plan.incompatible[0]"),
        ('["custody", "library"]', '["custody", "knitting"]', "'knitting'"),
        ('keep_asset_types = ["hospital"', 'keep_asset_types = ["castle"', "plan.keep_asset_types"),
        ("# POLICE = { max_disposal_share = 0.5 }", "POLICE = { max_disposal_share = 2 }",
         "plan.guardrails.POLICE.max_disposal_share"),
        ("gap = 0.005", "gap = -1", "plan.gap"),
        ('start_search = "greedy"', 'start_search = "locality"', "'plan.start_search': 'locality' is not one of "
                                                                 "['greedy', 'localities']; did you mean 'localities'?"),
        ('start_search = "greedy"', 'start_search = ""', "'plan.start_search': is empty; expected one of "
                                                         "['greedy', 'localities']"),
        ('start_search = "greedy"', "start_search = 1", "'plan.start_search': expected text, got 1; expected one of"),
        ('solver = "highs"', 'solver = ""', "'plan.solver': is empty"),
        ('sharing_rule = "none"', 'sharing_rule = "fair"', "finance.sharing_rule"),
        ("receipts = [-0.3, 0.1]", "receipts = [0.1, -0.3]", "finance.sensitivity.receipts"),
        ("discount_rate = [0.015, 0.06]", "discount_rate = [-0.01, 0.06]", "finance.sensitivity.discount_rate"),
        ("max_moves_per_year = 0", "max_moves_per_year = -5", "finance.max_moves_per_year"),
        ("double_running_months = 3.0", "double_running_months = 13", "finance.double_running_months"),
    ],
)
def test_bad_scenarios_name_the_key(tmp_path, old, new, expect):
    path = scenario_copy(tmp_path, "s.toml", (old, new))
    if expect is None:
        load_scenario(path)  # dropping a mode no standard uses is fine
        return
    with pytest.raises(SourceErrors) as err:
        load_scenario(path)
    assert "s.toml" in str(err.value) and expect in str(err.value)


def test_standard_naming_a_mode_with_no_speed(tmp_path):
    path = scenario_copy(tmp_path, "s.toml", ("public_transport = 18.0\n", ""))
    with pytest.raises(SourceErrors) as err:
        load_scenario(path)
    assert "mode 'public_transport' has no speed in [access.speed_kmh]" in str(err.value)
    assert "services.employment.standard.mode" in str(err.value)


def test_network_engine_cannot_serve_a_public_transport_standard(tmp_path):
    (tmp_path / "x.osm").write_text("<osm/>")
    path = scenario_copy(tmp_path, "s.toml", ('engine = "straight"', 'engine = "network"\nosm_file = "x.osm"'))
    with pytest.raises(SourceErrors, match="network engine routes"):
        load_scenario(path)


def test_built_in_plan_and_finance_settings():
    s = load_scenario(BUILT_IN)
    assert s.finance.discount_rate == 0.035 and s.finance.horizon_years == 10
    assert s.plan.gap == 0.005 and s.plan.solver == "highs" and s.plan.max_move_km == 10.0
    assert s.plan.start_search == "greedy"
    assert ("custody", "early_help") in s.plan.incompatible
    assert s.plan.workspace.desks_per_fte == 0.8


def test_built_in_space_requests():
    s = load_scenario(BUILT_IN)
    by_id = {r.id: r for r in s.plan.space_requests}
    dwp = by_id["SR-DWP-WINSFORD"]
    assert (dwp.partner, dwp.service, dwp.locality, dwp.from_year, dwp.front_facing) == \
        ("DWP", "employment", "Winsford", 2029, True)
    assert dwp.need_m2 == pytest.approx(20 * 0.8 * 8 + 20 * 6)  # desks and public space, as for a team
    police = by_id["SR-POLICE-CREWE"]
    assert police.near_m == (370500.0, 355900.0) and police.within_km == 3.0 and police.locality is None


_REQUEST = 'id = "SR-POLICE-CREWE"'


@pytest.mark.parametrize("old, new, expect", [
    ("fte = 12 ", "m2 = 100\nfte = 12 ", "give exactly one of fte (people to house) or m2"),
    ('from_year = "2028/29"', 'from_year = "2028"', "from_year': expected a financial year such as \"2029/30\", got '2028'"),
    ('from_year = "2028/29"', 'from_year = "2028/30"', "expected a financial year"),
    ('from_year = "2028/29"', 'from_year = "2040/41"', "2040/41 is outside the horizon (2027/28 to 2036/37)"),
    ("near = [370500.0, 355900.0]", "near = [370500.0]", "near': expected [easting_m, northing_m]"),
    ("near = [370500.0, 355900.0]    # Crewe town centre", "", "within_km': goes with near"),
    ("new_lease_gbp_per_m2 = 250.0\n", "\n", "new_lease_gbp_per_m2': is required"),
    ('service = "policing"', 'service = "poliicing"', "did you mean 'policing'?"),
    ('id = "SR-POLICE-CREWE"', 'id = "SR-DWP-WINSFORD"', "is used by an earlier request"),
    ("within_km = 3.0", "within_km = 3.0\nbudget = 5", "plan.space_requests[1].budget': unknown key"),
])
def test_bad_space_requests_name_the_request_and_key(tmp_path, old, new, expect):
    # The change applies within the second request (the block from its id on).
    tail = (REPO / "models/cheshire-warrington.toml").read_text().split(_REQUEST)[1]
    block = _REQUEST + tail
    path = scenario_copy(tmp_path, "s.toml", (block, block.replace(old, new, 1)))
    with pytest.raises(SourceErrors) as err:
        load_scenario(path)
    assert "s.toml" in str(err.value) and expect in str(err.value), str(err.value)


def test_start_search_defaults_to_the_greedy_and_takes_the_locality_search(tmp_path):
    without = load_scenario(scenario_copy(tmp_path, "a.toml", ('start_search = "greedy"', "")))
    localities = load_scenario(scenario_copy(tmp_path, "b.toml", ('start_search = "greedy"',
                                                                  'start_search = "localities"')))
    assert without.plan.start_search == "greedy" and localities.plan.start_search == "localities"
