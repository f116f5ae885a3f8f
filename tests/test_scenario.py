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
    assert ("custody", "early_help") in s.plan.incompatible
    assert s.plan.workspace.desks_per_fte == 0.8
