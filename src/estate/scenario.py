"""Scenario files (``models/*.toml``): typed, checked settings for one planning run.

Every assumption is a named setting whose default is written in the built-in
scenario file, so it can be read and audited there. Paths are relative to the
scenario file. Errors name the file and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from estate._errors import SourceError, SourceErrors
from estate._toml import TomlReader, finite, read_toml
from estate.register import schema

ENGINES = ("straight", "network", "matrix")
#: Travel modes a scenario may name.
MODES = ("walk", "cycle", "car", "public_transport")
STANDARD_RULES = ("share", "no_worse")
#: How far a team may move: any host within ``max_move_km``, or also only within its locality / authority.
MOVE_RULES = ("distance", "locality", "authority")
#: Which assets the plan decides on: those housing at least one team, or every asset.
SCOPES = ("occupied", "buildings", "all")
SOLVERS = ("highs", "cbc")
#: How the solver's start is found: the greedy alone, or the greedy improved one locality at a time.
START_SEARCHES = ("greedy", "localities")
#: Modes the network engine can route on an OpenStreetMap extract.
NETWORK_MODES = ("car", "walk", "cycle")

#: Upper limits on settings, so a typing slip (an extra zero, ``inf``) is an error, not a plan.
MAX_SPEED_KMH = 300.0  # faster than any door-to-door journey on land
MAX_CIRCUITY = 5.0  # road distance is rarely above 2× the straight line (see docs/access)
MAX_MINUTES = 24 * 60.0
MAX_MOVE_KM = 1_000.0
MAX_TIME_LIMIT_SECONDS = 7 * 24 * 3600.0
MAX_RATE_GBP = 1e7  # a cost rate per FTE, m² or FTE-km
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class DataSettings:
    """Where the scenario's inputs are: partner sources and demand zones."""

    sources: Path
    zones: Path
    zones_layer: str | None = None
    zone_id: str = "zone_id"
    population: str = "population"
    population_csv: Path | None = None
    population_csv_id: str | None = None
    origin_x: str | None = None
    origin_y: str | None = None
    study_area_buffer_km: float = 5.0


@dataclass(frozen=True)
class AccessSettings:
    """How travel times are found.

    ``speed_kmh`` gives the modes computed and their speeds; ``circuity`` is
    network distance ÷ straight-line distance for the ``straight`` engine;
    ``wait_minutes`` adds a fixed access/wait time per mode.
    """

    engine: str
    cutoff_minutes: float
    speed_kmh: dict[str, float]
    circuity: float = 1.3
    wait_minutes: dict[str, float] = field(default_factory=dict)
    osm_file: Path | None = None
    matrix_file: Path | None = None


@dataclass(frozen=True)
class Standard:
    """An access standard: ``share`` of population within ``minutes`` by ``mode``,
    or (``rule = "no_worse"``) no zone further from the service than today."""

    mode: str
    rule: str = "share"
    minutes: float | None = None
    share: float | None = None


@dataclass(frozen=True)
class Service:
    """A service in the catalogue and what delivers it.

    ``sensitive``: the service is one of the scenario's sensitive services or
    asset types (a refuge service): its delivery points are sensitive sites, so
    its figures are shared only as rounded totals. Every other service is
    delivered only by public sites and public teams (see ``docs/outputs.md``).
    """

    code: str
    name: str
    services: tuple[str, ...] = ()
    asset_types: tuple[str, ...] = ()
    standard: Standard | None = None
    sensitive: bool = False


@dataclass(frozen=True)
class WorkspaceSettings:
    """How much space a team needs and a building offers.

    A team needs ``fte × desks_per_fte × m2_per_desk`` m² of workspace, plus
    ``front_facing_m2_per_fte × fte`` of public-facing space when it is front
    facing. A building offers ``gia_m2`` × its type's ``share_by_type`` (else
    ``usable_share``), or ``workspace_capacity_fte × m2_per_desk`` where the
    register gives that, and never less than what it houses today.
    """

    m2_per_desk: float = 8.0
    desks_per_fte: float = 0.8
    front_facing_m2_per_fte: float = 6.0
    usable_share: float = 0.8
    share_by_type: dict[str, float] = field(default_factory=dict)

    def usable(self, asset_types: pd.Series) -> np.ndarray:
        """Share of each building's GIA usable as workspace, by its type."""
        return asset_types.map(self.share_by_type).fillna(self.usable_share).to_numpy(float)


@dataclass(frozen=True)
class Guardrail:
    """A partner's limit: at most ``max_disposal_share`` of its in-plan floor area disposed of."""

    partner: str
    max_disposal_share: float


@dataclass(frozen=True)
class SpaceRequest:
    """A partner's need for space (``[[plan.space_requests]]``): ``need_m2`` of workspace for
    ``service`` from financial year ``from_year`` (its calendar start year, e.g. 2029 for 2029/30),
    in ``locality`` and/or within ``within_km`` of ``near_m`` (easting, northing in EPSG:27700).
    The plan houses it in kept space when that is worth more than ``new_lease_gbp_per_m2`` a year
    for a new lease (the alternative)."""

    id: str
    partner: str
    service: str
    fte: float
    need_m2: float
    from_year: int
    new_lease_gbp_per_m2: float
    front_facing: bool = False
    locality: str | None = None
    near_m: tuple[float, float] | None = None
    within_km: float | None = None


@dataclass(frozen=True)
class DeliveryLimits:
    """What can be delivered in one financial year (``[plan.delivery]``; 0 = no limit): FTE moved,
    disposals completed, and the market value of the freeholds sold (what the local market absorbs)."""

    fte_moved_per_year: float = 0.0
    disposals_per_year: int = 0
    market_value_gbp_per_year: float = 0.0

    def any(self) -> bool:
        return bool(self.fte_moved_per_year or self.disposals_per_year or self.market_value_gbp_per_year)


@dataclass(frozen=True)
class Delivery:
    """Delivery limits for the whole partnership (``limits``) and per partner (``partners``), and the
    funding rule: with ``funded``, in every year the capital one-off costs paid so far may not exceed
    ``capital_budget_gbp_per_year`` × the years so far plus the net capital receipts received so far."""

    limits: DeliveryLimits = field(default_factory=DeliveryLimits)
    partners: dict[str, DeliveryLimits] = field(default_factory=dict)
    funded: bool = False
    capital_budget_gbp_per_year: float = 0.0

    def any(self) -> bool:
        """Whether any limit or the funding rule applies (and exit years are then decisions)."""
        return self.funded or self.limits.any() or any(p.any() for p in self.partners.values())


@dataclass(frozen=True)
class PlanSettings:
    """What the estate model may decide and the rules it keeps (``[plan]``).

    ``suitability`` maps a team's service code to the building types it may move
    into (a service not listed may move into any host type);
    ``public_facing_asset_types``, when given, are the only types a front-facing
    team may move into. A team may always stay where it is.
    """

    scope: str = "buildings"
    investment_asset_types: tuple[str, ...] = ("land", "car_park", "industrial_unit", "market")
    keep_asset_types: tuple[str, ...] = ()
    host_asset_types: tuple[str, ...] = ()
    fixed_services: tuple[str, ...] = ()
    max_move_km: float = 10.0
    max_destinations: int | None = 20
    move_rule: str = "distance"
    must_keep: tuple[str, ...] = ()
    must_exit: tuple[str, ...] = ()
    incompatible: tuple[tuple[str, str], ...] = ()
    guardrails: tuple[Guardrail, ...] = ()
    time_limit_seconds: float = 900.0
    max_nodes: int | None = None
    start_search: str = "greedy"
    gap: float = 0.005
    solver: str = "highs"
    workspace: WorkspaceSettings = field(default_factory=WorkspaceSettings)
    suitability: dict[str, tuple[str, ...]] = field(default_factory=dict)
    public_facing_asset_types: tuple[str, ...] = ()
    space_requests: tuple[SpaceRequest, ...] = ()
    delivery: Delivery = field(default_factory=Delivery)


#: How the partner ledger shares a programme's receipts and costs.
SHARING_RULES = ("none", "pro-rata", "pooled")
RESIDUAL_METHODS = ("market_value", "none")


@dataclass(frozen=True)
class Sensitivity:
    """Ranges over which the programme's NPV is tested (``[finance.sensitivity]``).

    ``receipts``, ``one_off_costs`` and ``running_cost_saving`` are relative
    changes (low, high), e.g. (−0.3, 0.1) = 30% lower to 10% higher;
    ``discount_rate`` is the low and high rate itself.
    """

    receipts: tuple[float, float] = (-0.3, 0.1)
    one_off_costs: tuple[float, float] = (-0.2, 0.5)
    running_cost_saving: tuple[float, float] = (-0.2, 0.1)
    residual_value: tuple[float, float] = (-0.3, 0.3)
    discount_rate: tuple[float, float] = (0.015, 0.06)


@dataclass(frozen=True)
class FinanceSettings:
    """The cost model's assumptions (``[finance]``); every one is written in the scenario file.

    Years are financial years (April–March) counted from ``first_year`` (year 0,
    discounted at 1); cash in year ``t`` is discounted by ``(1 + discount_rate) ** -t``.
    """

    first_year: int = 2027
    horizon_years: int = 10
    discount_rate: float = 0.035
    earliest_exit_year: int = 1
    disposal_cost_share: float = 0.02
    receipt_lag_months: float = 6.0
    dilapidations_gbp_per_m2: float = 60.0
    relocation_gbp_per_fte: float = 1500.0
    ict_gbp_per_fte: float = 1000.0
    fit_out_gbp_per_m2: float = 350.0
    excess_travel_gbp_per_fte_km: float = 30.0
    excess_travel_years: int = 4
    double_running_months: float = 3.0
    optimism_bias: float = 0.2
    backlog_avoided: bool = True
    residual_value: str = "market_value"
    new_space_running_gbp_per_m2: float = 40.0
    reopening_gbp_per_m2: float = 30.0
    occupancy_charge_gbp_per_m2: float = 150.0
    max_moves_per_year: int = 0
    sharing_rule: str = "none"
    sensitivity: Sensitivity = field(default_factory=lambda: Sensitivity())


@dataclass(frozen=True)
class PrivacySettings:
    """Which sites are sensitive beyond the register's own flag (``[privacy]``).

    A site is sensitive when the register flags it, when its asset type is in
    ``sensitive_asset_types``, or when it delivers (or houses a team of) a
    service in ``sensitive_services``; so a refuge whose flag was left blank is
    still protected. Sensitive sites never appear, directly or by inference, in
    shareable outputs (``docs/outputs.md``). Aggregate access shares that
    sensitive sites touch are rounded to a step of at least
    ``share_rounding_zones`` zones' worth of people.
    """

    sensitive_asset_types: tuple[str, ...] = schema.SENSITIVE_ASSET_TYPES
    sensitive_services: tuple[str, ...] = schema.SENSITIVE_SERVICES
    share_rounding_zones: int = 10


@dataclass(frozen=True)
class EstimateSettings:
    """Benchmark rates for values a partner did not give (``[estimates]``).

    ``running_cost_gbp_per_m2``: annual running cost per m² GIA by asset type,
    used where a partner's register has no running cost (``docs/sources.md``
    gives each rate's source). Types not listed take the ``other`` rate.
    """

    running_cost_gbp_per_m2: dict[str, float] = field(
        default_factory=lambda: dict(schema.BENCHMARK_RUNNING_COST_GBP_PER_M2))


@dataclass(frozen=True)
class Scenario:
    """One scenario file, checked."""

    path: Path
    name: str
    description: str
    data: DataSettings
    access: AccessSettings
    services: tuple[Service, ...]
    plan: PlanSettings = field(default_factory=PlanSettings)
    finance: FinanceSettings = field(default_factory=FinanceSettings)
    privacy: PrivacySettings = field(default_factory=lambda: PrivacySettings())
    estimates: EstimateSettings = field(default_factory=lambda: EstimateSettings())


def _standard(r: TomlReader, table: object, where: str, speeds: dict[str, float]) -> Standard | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        r.fail(where, "expected a table: { mode = ..., minutes = ..., share = ... } or { mode = ..., rule = \"no_worse\" }")
        return None
    r.check_keys(table, where, {"mode", "minutes", "share", "rule"})
    mode = r.text(table, "mode", where, required=True) or "car"
    if mode not in speeds:
        r.fail(f"{where}.mode", f"mode {mode!r} has no speed in [access.speed_kmh] "
               f"(modes with a speed: {sorted(speeds)})")
    rule = r.text(table, "rule", where, choices=STANDARD_RULES, default="share")
    if rule == "no_worse":
        return Standard(mode=mode, rule=rule)
    for key in ("minutes", "share"):
        if key not in table:
            r.fail(f"{where}.{key}", "is required for a share standard")
    return Standard(mode=mode, rule=rule, minutes=r.number(table, "minutes", where, 30.0, minimum=0.0),
                    share=r.number(table, "share", where, 1.0, minimum=0.0, maximum=1.0))


def _plan(r: TomlReader, plan: dict) -> PlanSettings:
    r.check_keys(plan, "plan", {"scope", "keep_asset_types", "host_asset_types", "fixed_services", "max_move_km", "max_destinations",
                                "move_rule", "must_keep", "must_exit", "incompatible", "guardrails",
                                "time_limit_seconds", "max_nodes", "start_search", "gap", "solver", "workspace", "suitability",
                                "public_facing_asset_types", "investment_asset_types", "space_requests",
                                "delivery"})
    ws = r.table(plan, "workspace", "plan")
    r.check_keys(ws, "plan.workspace", {"m2_per_desk", "desks_per_fte", "front_facing_m2_per_fte", "usable_share",
                                        "share_by_type"})
    by_type = r.table(ws, "share_by_type", "plan.workspace")
    r.check_keys(by_type, "plan.workspace.share_by_type", set(schema.ASSET_TYPES))
    suit = r.table(plan, "suitability", "plan")
    r.check_keys(suit, "plan.suitability", set(schema.SERVICES))
    workspace = WorkspaceSettings(
        m2_per_desk=r.number(ws, "m2_per_desk", "plan.workspace", 8.0, minimum=1e-9, maximum=1000.0),
        desks_per_fte=r.number(ws, "desks_per_fte", "plan.workspace", 0.8, minimum=1e-9, maximum=1.0),
        front_facing_m2_per_fte=r.number(ws, "front_facing_m2_per_fte", "plan.workspace", 6.0, maximum=1000.0),
        usable_share=r.number(ws, "usable_share", "plan.workspace", 0.8, minimum=1e-9, maximum=1.0),
        share_by_type={t: r.number(by_type, t, "plan.workspace.share_by_type", 0.8, maximum=1.0)
                       for t in by_type if t in schema.ASSET_TYPES},
    )
    pairs = []
    incompatible = plan.get("incompatible", [])
    if not isinstance(incompatible, list):
        r.fail("plan.incompatible", "expected a list of service pairs, e.g. [[\"custody\", \"early_help\"]]")
        incompatible = []
    for i, pair in enumerate(incompatible):
        if (not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(v, str) for v in pair)
                or pair[0] == pair[1]):
            r.fail(f"plan.incompatible[{i}]", f"expected two different service codes, got {pair!r}")
            continue
        for v in pair:
            if v not in schema.SERVICES:
                r.fail(f"plan.incompatible[{i}]", f"{v!r} is not one of {list(schema.SERVICES)}")
        pairs.append((pair[0], pair[1]))
    guardrails = []
    for partner, table in r.table(plan, "guardrails", "plan").items():
        where = f"plan.guardrails.{partner}"
        if not isinstance(table, dict):
            r.fail(where, "expected a table such as { max_disposal_share = 0.3 }")
            continue
        r.check_keys(table, where, {"max_disposal_share"})
        guardrails.append(Guardrail(partner, r.number(table, "max_disposal_share", where, 1.0, maximum=1.0)))
    return PlanSettings(
        scope=r.text(plan, "scope", "plan", choices=SCOPES, default="buildings"),
        investment_asset_types=(r.texts(plan, "investment_asset_types", "plan", choices=schema.ASSET_TYPES)
                                if "investment_asset_types" in plan else PlanSettings.investment_asset_types),
        suitability={code: r.texts(suit, code, "plan.suitability", choices=schema.ASSET_TYPES)
                     for code in suit if code in schema.SERVICES},
        public_facing_asset_types=r.texts(plan, "public_facing_asset_types", "plan", choices=schema.ASSET_TYPES),
        keep_asset_types=r.texts(plan, "keep_asset_types", "plan", choices=schema.ASSET_TYPES),
        host_asset_types=r.texts(plan, "host_asset_types", "plan", choices=schema.ASSET_TYPES),
        fixed_services=r.texts(plan, "fixed_services", "plan", choices=schema.SERVICES),
        max_move_km=r.number(plan, "max_move_km", "plan", 10.0, minimum=0.0, maximum=MAX_MOVE_KM),
        max_destinations=(None if plan.get("max_destinations", 20) == 0
                          else r.integer(plan, "max_destinations", "plan", 20, minimum=0)),
        move_rule=r.text(plan, "move_rule", "plan", choices=MOVE_RULES, default="distance"),
        must_keep=r.texts(plan, "must_keep", "plan"),
        must_exit=r.texts(plan, "must_exit", "plan"),
        incompatible=tuple(pairs),
        guardrails=tuple(guardrails),
        time_limit_seconds=r.number(plan, "time_limit_seconds", "plan", 900.0, minimum=1e-9,
                                    maximum=MAX_TIME_LIMIT_SECONDS),
        max_nodes=(None if plan.get("max_nodes", 0) == 0
                   else r.integer(plan, "max_nodes", "plan", 0, minimum=0, maximum=10_000_000) or None),
        start_search=r.text(plan, "start_search", "plan", choices=START_SEARCHES, default="greedy"),
        gap=r.number(plan, "gap", "plan", 0.005, maximum=1.0),
        solver=r.text(plan, "solver", "plan", choices=SOLVERS, default="highs"),
        workspace=workspace,
        space_requests=_space_requests(r, plan.get("space_requests", []), workspace),
        delivery=_delivery(r, r.table(plan, "delivery", "plan")),
    )


_LIMIT_KEYS = {"fte_moved_per_year", "disposals_per_year", "market_value_gbp_per_year"}


def _limits(r: TomlReader, table: dict, where: str) -> DeliveryLimits:
    return DeliveryLimits(
        fte_moved_per_year=r.number(table, "fte_moved_per_year", where, 0.0, maximum=1e7),
        disposals_per_year=r.integer(table, "disposals_per_year", where, 0, minimum=0, maximum=1_000_000),
        market_value_gbp_per_year=r.number(table, "market_value_gbp_per_year", where, 0.0, maximum=1e13))


def _delivery(r: TomlReader, table: dict) -> Delivery:
    """``[plan.delivery]``: partnership limits, ``funded`` and ``capital_budget_gbp_per_year``, and
    ``[plan.delivery.partners.CODE]`` tables of the same limits for one partner."""
    r.check_keys(table, "plan.delivery", _LIMIT_KEYS | {"funded", "capital_budget_gbp_per_year", "partners"})
    partners = {}
    for code, sub in r.table(table, "partners", "plan.delivery").items():
        where = f"plan.delivery.partners.{code}"
        if not isinstance(sub, dict):
            r.fail(where, "expected a table such as { fte_moved_per_year = 300 }")
            continue
        r.check_keys(sub, where, _LIMIT_KEYS)
        partners[code] = _limits(r, sub, where)
    return Delivery(limits=_limits(r, table, "plan.delivery"), partners=partners,
                    funded=r.flag(table, "funded", "plan.delivery", False),
                    capital_budget_gbp_per_year=r.number(table, "capital_budget_gbp_per_year", "plan.delivery", 0.0,
                                                         maximum=1e13))


_FINANCIAL_YEAR = re.compile(r"^(\d{4})/(\d{2})$")


def _space_requests(r: TomlReader, items: object, ws: WorkspaceSettings) -> tuple[SpaceRequest, ...]:
    """``[[plan.space_requests]]``: each needs an id, partner, service, ``fte`` or ``m2``, a place
    (``locality`` and/or ``near`` with ``within_km``), ``from_year`` ("2029/30") and
    ``new_lease_gbp_per_m2``. A request's FTE need the workspace a team of that size needs."""
    if not isinstance(items, list):
        r.fail("plan.space_requests", "expected an array of tables: [[plan.space_requests]] blocks")
        return ()
    out, seen = [], set()
    for i, t in enumerate(items):
        where = f"plan.space_requests[{i}]"
        if not isinstance(t, dict):
            r.fail(where, "expected a table with id, partner, service, fte or m2, locality or near, from_year "
                   "and new_lease_gbp_per_m2")
            continue
        r.check_keys(t, where, {"id", "partner", "service", "fte", "m2", "front_facing", "locality", "near",
                                "within_km", "from_year", "new_lease_gbp_per_m2"})
        rid = r.text(t, "id", where, required=True) or f"request-{i + 1}"
        where = f"plan.space_requests[{i}] ({rid})"
        if rid in seen:
            r.fail(f"{where}.id", f"{rid!r} is used by an earlier request; each request needs its own id")
        seen.add(rid)
        service = r.text(t, "service", where, required=True, choices=schema.SERVICES) or ""
        front = r.flag(t, "front_facing", where, False)
        if ("fte" in t) == ("m2" in t):
            r.fail(where, "give exactly one of fte (people to house) or m2 (workspace needed)")
        fte = r.number(t, "fte", where, 0.0, minimum=1e-9, maximum=1e6) if "fte" in t else None
        m2 = r.number(t, "m2", where, 0.0, minimum=1e-9, maximum=1e7) if "m2" in t else None
        if fte is not None:
            m2 = fte * ws.desks_per_fte * ws.m2_per_desk + (fte * ws.front_facing_m2_per_fte if front else 0.0)
        elif m2 is not None:  # the FTE such a space seats, for the moves and the ledger
            fte = m2 / (ws.desks_per_fte * ws.m2_per_desk + (ws.front_facing_m2_per_fte if front else 0.0))
        near = t.get("near")
        if near is not None and (not isinstance(near, list) or len(near) != 2
                                 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and finite(v)
                                            for v in near)):
            r.fail(f"{where}.near", f"expected [easting_m, northing_m] in British National Grid (EPSG:27700), "
                   f"got {near!r}")
            near = None
        locality = r.text(t, "locality", where)
        if near is None and locality is None:
            r.fail(where, "say where the space is needed: locality = \"...\" and/or near = [easting_m, "
                   "northing_m] with within_km")
        if "within_km" in t and near is None:
            r.fail(f"{where}.within_km", "goes with near = [easting_m, northing_m]")
        label = r.text(t, "from_year", where, required=True) or ""
        match = _FINANCIAL_YEAR.match(label)
        if label and (not match or (int(match[1]) + 1) % 100 != int(match[2])):
            r.fail(f"{where}.from_year", f"expected a financial year such as \"2029/30\", got {label!r}")
        if "new_lease_gbp_per_m2" not in t:
            r.fail(f"{where}.new_lease_gbp_per_m2", "is required: what a new lease of this space would cost a "
                   "year (£/m², rent, rates and running costs), the alternative the plan weighs")
        out.append(SpaceRequest(
            id=rid, partner=r.text(t, "partner", where, required=True) or "", service=service,
            fte=float(fte or 0.0), need_m2=float(m2 or 0.0), front_facing=front,
            from_year=int(match[1]) if match else 0,
            new_lease_gbp_per_m2=r.number(t, "new_lease_gbp_per_m2", where, 0.0, minimum=1e-9, maximum=MAX_RATE_GBP),
            locality=locality, near_m=(float(near[0]), float(near[1])) if near is not None else None,
            within_km=(r.number(t, "within_km", where, 0.0, minimum=1e-9, maximum=MAX_MOVE_KM)
                       if "within_km" in t else None)))
    return tuple(out)


def _range(r: TomlReader, table: dict, key: str, where: str, default: tuple[float, float],
           minimum: float) -> tuple[float, float]:
    value = table.get(key, list(default))
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        r.fail(f"{where}.{key}", f"expected [low, high], two numbers, got {value!r}")
        return default
    if not all(finite(v) for v in value):
        r.fail(f"{where}.{key}", f"expected [low, high], two finite numbers, got {value!r}")
        return default
    low, high = float(value[0]), float(value[1])
    if low > high or low < minimum:
        r.fail(f"{where}.{key}", f"[{low:g}, {high:g}] must have low ≤ high and low ≥ {minimum:g}")
        return default
    return low, high


def _finance(r: TomlReader, fin: dict) -> FinanceSettings:
    w = "finance"
    r.check_keys(fin, w, set(FinanceSettings.__dataclass_fields__))
    d = FinanceSettings()
    money = {k: r.number(fin, k, w, getattr(d, k), maximum=MAX_RATE_GBP) for k in (
        "dilapidations_gbp_per_m2", "relocation_gbp_per_fte", "ict_gbp_per_fte", "fit_out_gbp_per_m2",
        "excess_travel_gbp_per_fte_km", "new_space_running_gbp_per_m2", "reopening_gbp_per_m2",
        "occupancy_charge_gbp_per_m2")}
    money["receipt_lag_months"] = r.number(fin, "receipt_lag_months", w, d.receipt_lag_months, maximum=120.0)
    horizon = r.integer(fin, "horizon_years", w, d.horizon_years, minimum=1, maximum=100)
    sens = r.table(fin, "sensitivity", w)
    ds = Sensitivity()
    r.check_keys(sens, f"{w}.sensitivity", set(Sensitivity.__dataclass_fields__))
    sensitivity = Sensitivity(**{k: _range(r, sens, k, f"{w}.sensitivity", getattr(ds, k),
                                           0.0 if k == "discount_rate" else -1.0)
                                 for k in Sensitivity.__dataclass_fields__})
    return FinanceSettings(
        first_year=r.integer(fin, "first_year", w, d.first_year, minimum=1990, maximum=2200),
        horizon_years=horizon,
        discount_rate=r.number(fin, "discount_rate", w, d.discount_rate, maximum=1.0),
        earliest_exit_year=r.integer(fin, "earliest_exit_year", w, d.earliest_exit_year, maximum=horizon - 1),
        disposal_cost_share=r.number(fin, "disposal_cost_share", w, d.disposal_cost_share, maximum=1.0),
        double_running_months=r.number(fin, "double_running_months", w, d.double_running_months, maximum=12.0),
        optimism_bias=r.number(fin, "optimism_bias", w, d.optimism_bias, maximum=10.0),
        backlog_avoided=r.flag(fin, "backlog_avoided", w, d.backlog_avoided),
        residual_value=r.text(fin, "residual_value", w, choices=RESIDUAL_METHODS, default=d.residual_value),
        excess_travel_years=r.integer(fin, "excess_travel_years", w, d.excess_travel_years, minimum=1, maximum=100),
        max_moves_per_year=r.integer(fin, "max_moves_per_year", w, d.max_moves_per_year),
        sharing_rule=r.text(fin, "sharing_rule", w, choices=SHARING_RULES, default=d.sharing_rule),
        sensitivity=sensitivity,
        **money,
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file.

    Parameters
    ----------
    path
        A TOML scenario, e.g. ``models/cheshire-warrington.toml``. Paths in it are
        relative to its folder and must lie in that folder (or below it) or in a
        folder listed in ``data.allowed_folders``.

    Returns
    -------
    Scenario

    Raises
    ------
    SourceErrors
        Every problem found, each naming the file and the key.
    """
    path = Path(path)
    doc = read_toml(path)
    errors: list[SourceError] = []
    r = TomlReader(path, errors)
    r.check_keys(doc, "", {"name", "description", "data", "access", "services", "plan", "finance", "privacy",
                           "estimates"})

    data = r.table(doc, "data", "")
    r.check_keys(data, "data", {"sources", "zones", "zones_layer", "zone_id", "population", "population_csv",
                                "population_csv_id", "origin_x", "origin_y", "allowed_folders",
                                "study_area_buffer_km"})
    r.allow_folders(data, "allowed_folders", "data")
    data_settings = DataSettings(
        sources=r.path_of(data, "sources", "data", required=True) or path,
        zones=r.path_of(data, "zones", "data", required=True) or path,
        zones_layer=r.text(data, "zones_layer", "data"),
        zone_id=r.text(data, "zone_id", "data", default="zone_id"),
        population=r.text(data, "population", "data", default="population"),
        population_csv=r.path_of(data, "population_csv", "data"),
        population_csv_id=r.text(data, "population_csv_id", "data"),
        origin_x=r.text(data, "origin_x", "data"),
        origin_y=r.text(data, "origin_y", "data"),
        study_area_buffer_km=r.number(data, "study_area_buffer_km", "data", 5.0, maximum=1000.0),
    )
    if (data_settings.origin_x is None) != (data_settings.origin_y is None):
        r.fail("data.origin_x", "origin_x and origin_y go together")

    acc = r.table(doc, "access", "")
    r.check_keys(acc, "access", {"engine", "cutoff_minutes", "circuity", "speed_kmh", "wait_minutes",
                                 "osm_file", "matrix_file"})
    speeds = {}
    speed_table = r.table(acc, "speed_kmh", "access")
    for mode in speed_table:
        if mode not in MODES:
            r.fail(f"access.speed_kmh.{mode}", f"unknown mode; expected one of {list(MODES)}")
        speeds[mode] = r.number(speed_table, mode, "access.speed_kmh", 1.0, minimum=1e-9, maximum=MAX_SPEED_KMH)
    if not speeds:
        r.fail("access.speed_kmh", "give at least one mode's speed, e.g. walk = 4.8")
    wait_table = r.table(acc, "wait_minutes", "access")
    waits = {m: r.number(wait_table, m, "access.wait_minutes", 0.0, maximum=MAX_MINUTES) for m in wait_table}
    for mode in waits:
        if mode not in speeds:
            r.fail(f"access.wait_minutes.{mode}", f"mode {mode!r} has no speed in [access.speed_kmh]")
    engine = r.text(acc, "engine", "access", choices=ENGINES, default="straight")
    access = AccessSettings(
        engine=engine,
        cutoff_minutes=r.number(acc, "cutoff_minutes", "access", 60.0, minimum=1e-9, maximum=MAX_MINUTES),
        speed_kmh=speeds,
        circuity=r.number(acc, "circuity", "access", 1.3, minimum=1.0, maximum=MAX_CIRCUITY),
        wait_minutes=waits,
        osm_file=r.path_of(acc, "osm_file", "access", required=engine == "network"),
        matrix_file=r.path_of(acc, "matrix_file", "access", required=engine == "matrix"),
    )

    privacy = _privacy(r, r.table(doc, "privacy", ""))
    services = []
    for code, table in r.table(doc, "services", "").items():
        where = f"services.{code}"
        if not isinstance(table, dict):
            r.fail(where, "expected a table")
            continue
        r.check_keys(table, where, {"name", "services", "asset_types", "standard"})
        service = Service(
            code=code,
            name=r.text(table, "name", where, default=code),
            services=r.texts(table, "services", where, choices=schema.SERVICES),
            asset_types=r.texts(table, "asset_types", where, choices=schema.ASSET_TYPES),
            standard=_standard(r, table.get("standard"), f"{where}.standard", speeds),
        )
        hidden = (set(service.services) & set(privacy.sensitive_services)) | (
            set(service.asset_types) & set(privacy.sensitive_asset_types))
        public = (set(service.services) - set(privacy.sensitive_services)) | (
            set(service.asset_types) - set(privacy.sensitive_asset_types))
        if hidden and public:
            r.fail(where, f"mixes sensitive ({', '.join(sorted(hidden))}) and public ({', '.join(sorted(public))}) "
                   "services or asset types; a sensitive service's figures are never shared, so describe its "
                   "public part as a service of its own")
        service = replace(service, sensitive=bool(hidden))
        if not service.services and not service.asset_types:
            r.fail(where, "say what delivers the service: services = [...] and/or asset_types = [...]")
        services.append(service)
    if engine == "network":
        for service in services:
            if service.standard and service.standard.mode not in NETWORK_MODES:
                r.fail(f"services.{service.code}.standard.mode",
                       f"the network engine routes {list(NETWORK_MODES)} only; for {service.standard.mode!r} "
                       "use the matrix engine with times from a timetable tool, or the straight engine")
    plan = _plan(r, r.table(doc, "plan", ""))
    finance = _finance(r, r.table(doc, "finance", ""))
    for i, req in enumerate(plan.space_requests):
        if req.from_year and not 0 <= req.from_year - finance.first_year < finance.horizon_years:
            last = finance.first_year + finance.horizon_years - 1
            r.fail(f"plan.space_requests[{i}] ({req.id}).from_year",
                   f"{req.from_year}/{(req.from_year + 1) % 100:02d} is outside the horizon "
                   f"({finance.first_year}/{(finance.first_year + 1) % 100:02d} to {last}/{(last + 1) % 100:02d})")
    estimates = _estimates(r, r.table(doc, "estimates", ""))
    name = r.text(doc, "name", "", default=path.stem) or path.stem  # a blank name is no name
    if not _NAME.match(name):
        r.fail("name", f"{name!r} names the output folder out/<name>: use letters, digits, '.', '_' or '-', "
               "starting with a letter or digit")
    description = r.text(doc, "description", "", default="")
    if errors:
        raise SourceErrors(errors)
    return Scenario(path=path.resolve(), name=name, description=description, data=data_settings,
                    access=access, services=tuple(services), plan=plan, finance=finance, privacy=privacy,
                    estimates=estimates)


def _privacy(r: TomlReader, table: dict) -> PrivacySettings:
    r.check_keys(table, "privacy", {"sensitive_asset_types", "sensitive_services", "share_rounding_zones"})
    d = PrivacySettings()
    return PrivacySettings(
        share_rounding_zones=r.integer(table, "share_rounding_zones", "privacy", d.share_rounding_zones, minimum=1,
                                       maximum=10_000),
        sensitive_asset_types=(r.texts(table, "sensitive_asset_types", "privacy", choices=schema.ASSET_TYPES)
                               if "sensitive_asset_types" in table else d.sensitive_asset_types),
        sensitive_services=(r.texts(table, "sensitive_services", "privacy", choices=schema.SERVICES)
                            if "sensitive_services" in table else d.sensitive_services),
    )


def _estimates(r: TomlReader, table: dict) -> EstimateSettings:
    r.check_keys(table, "estimates", {"running_cost_gbp_per_m2"})
    rates = dict(schema.BENCHMARK_RUNNING_COST_GBP_PER_M2)
    given = r.table(table, "running_cost_gbp_per_m2", "estimates")
    r.check_keys(given, "estimates.running_cost_gbp_per_m2", set(schema.ASSET_TYPES))
    for asset_type in given:
        if asset_type in schema.ASSET_TYPES:
            rates[asset_type] = r.number(given, asset_type, "estimates.running_cost_gbp_per_m2", rates.get(
                asset_type, 0.0), maximum=10_000.0)
    return EstimateSettings(running_cost_gbp_per_m2=rates)
