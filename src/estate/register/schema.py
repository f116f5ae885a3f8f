"""The canonical register schema: column names, types and vocabularies.

Every partner file is normalised into these tables. ``docs/register.md`` is the
human-readable version of this module; keep the two in step.

Tables
------
assets
    One row per site, geometry a point in British National Grid (EPSG:27700).
occupiers
    One row per team or service unit, pointing at an asset by ``asset_id``.
rejects
    One row per problem that made a source row unusable.
warnings
    One row per non-fatal data-quality finding.
merges
    One row per source record folded into another partner's record of the
    same site.
"""

from __future__ import annotations

#: The CRS used for all distance work and stored geometry.
BNG = "EPSG:27700"
#: Longitude/latitude (x = longitude, y = latitude).
WGS84 = "EPSG:4326"

# --------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------

#: Asset types. Lower-case codes; partners map their own words onto these.
ASSET_TYPES: tuple[str, ...] = (
    "office",
    "customer_contact",
    "library",
    "childrens_centre",
    "community_centre",
    "youth_centre",
    "leisure_centre",
    "day_centre",
    "care_home",
    "depot",
    "museum",
    "market",
    "industrial_unit",
    "school",
    "college",
    "police_station",
    "custody_suite",
    "fire_station",
    "training_centre",
    "hospital",
    "health_centre",
    "clinic",
    "mental_health_unit",
    "jobcentre",
    "housing_office",
    "sheltered_housing",
    "refuge",
    "car_park",
    "land",
    "other",
)

#: Asset types that need not have floor space (``gia_m2`` may be 0).
NO_FLOOR_SPACE_TYPES: frozenset[str] = frozenset({"car_park", "land"})

#: Plausible annual running cost per m² of floor space, by asset type (GBP/m²/yr).
#: A row outside its range is kept and listed as a warning, never rejected.
RUNNING_COST_PER_M2_RANGE: dict[str, tuple[float, float]] = {
    "office": (40.0, 450.0),
    "customer_contact": (40.0, 450.0),
    "library": (30.0, 350.0),
    "childrens_centre": (30.0, 350.0),
    "community_centre": (15.0, 300.0),
    "youth_centre": (15.0, 300.0),
    "leisure_centre": (40.0, 500.0),
    "day_centre": (30.0, 350.0),
    "care_home": (60.0, 600.0),
    "depot": (10.0, 250.0),
    "museum": (30.0, 400.0),
    "market": (10.0, 250.0),
    "industrial_unit": (5.0, 200.0),
    "school": (30.0, 300.0),
    "college": (30.0, 300.0),
    "police_station": (60.0, 600.0),
    "custody_suite": (100.0, 900.0),
    "fire_station": (40.0, 450.0),
    "training_centre": (30.0, 400.0),
    "hospital": (100.0, 1000.0),
    "health_centre": (60.0, 600.0),
    "clinic": (60.0, 600.0),
    "mental_health_unit": (80.0, 800.0),
    "jobcentre": (50.0, 450.0),
    "housing_office": (40.0, 450.0),
    "sheltered_housing": (20.0, 300.0),
    "refuge": (20.0, 300.0),
    "other": (5.0, 1000.0),
}

#: Benchmark annual running cost per m² GIA by asset type (GBP/m²/yr), used to estimate the running
#: cost of an asset whose partner gives none (``[estimates]`` of the scenario; sources in docs/sources.md).
#: Cash prices of the source year, not indexed. Three rest on real data or a published study
#: (hospital and mental health unit: NHS ERIC site returns 2014-15 to 2016-17 of the trusts serving
#: the sub-region; school: BCIS via RICS); the rest are stand-ins from the nearest documented type.
#: Every estimate is flagged in every output that uses it.
BENCHMARK_RUNNING_COST_GBP_PER_M2: dict[str, float] = {
    "hospital": 170.0,  # ERIC, general acute sites: median £171 (IQR 148-211), capital charges excluded
    "mental_health_unit": 140.0,  # ERIC, mental health trust sites: median £139 (IQR 118-151)
    "custody_suite": 170.0,  # stand-in: acute hospital (24/7, engineering-heavy)
    "care_home": 165.0,  # ERIC community inpatient hospitals: median £164 (8 site-years)
    "health_centre": 115.0,  # ERIC "aggregate site" community premises: median £116 (a proxy)
    "clinic": 115.0,
    "library": 115.0,  # stand-in: community health premises
    "childrens_centre": 115.0,
    "community_centre": 115.0,
    "youth_centre": 115.0,
    "day_centre": 115.0,
    "museum": 115.0,
    "fire_station": 115.0,
    "office": 190.0,  # Westminster Sustainable Business Forum, council estate "£180-200 per m² per year" (c. 2016)
    "customer_contact": 190.0,  # stand-ins: office
    "housing_office": 190.0,
    "jobcentre": 190.0,
    "police_station": 190.0,
    "training_centre": 190.0,
    "leisure_centre": 190.0,
    "other": 190.0,
    "school": 60.0,  # BCIS study via RICS: "£6,000 per 100m2 of gross internal floor area" a year
    "college": 60.0,  # stand-ins: school
    "depot": 60.0,
    "market": 60.0,
    "industrial_unit": 60.0,
    "sheltered_housing": 60.0,
    "refuge": 60.0,
    "car_park": 0.0,  # no floor area to cost: give the partner's figure
    "land": 0.0,
}

#: Tenure of the partner's interest in the site.
TENURES: tuple[str, ...] = ("freehold", "leasehold", "licence")

#: Condition grades (Government Property Function / RICS convention):
#: A good, B satisfactory, C poor, D bad. Blank means not surveyed.
CONDITIONS: tuple[str, ...] = ("A", "B", "C", "D")

#: What kind of public body a partner is.
PARTNER_KINDS: tuple[str, ...] = (
    "council",
    "police",
    "fire",
    "nhs",
    "dwp",
    "housing",
    "college",
    "other",
)

#: Services delivered by occupiers. The scenario's service catalogue refers to these.
SERVICES: tuple[str, ...] = (
    "back_office",
    "customer_contact",
    "library",
    "early_help",
    "employment",
    "health",
    "social_care",
    "police_front_counter",
    "policing",
    "custody",
    "fire_response",
    "housing",
    "education",
    "community",
    "leisure",
    "depot_operations",
    "refuge",
    "other",
)

#: Asset types and services that make a site sensitive whatever its ``sensitive`` flag says
#: (defaults of the scenario's ``[privacy]`` table): a domestic-abuse refuge's address is
#: confidential by law and practice (Women's Aid; Domestic Abuse Act 2021, Part 4).
SENSITIVE_ASSET_TYPES: tuple[str, ...] = ("refuge",)
SENSITIVE_SERVICES: tuple[str, ...] = ("refuge",)

#: Cell values read as true / false in flag columns (case-insensitive).
#: A blank flag cell reads as false; anything else is rejected.
TRUE_WORDS: frozenset[str] = frozenset({"yes", "y", "true", "t", "1", "x"})
FALSE_WORDS: frozenset[str] = frozenset({"no", "n", "false", "f", "0", ""})

# --------------------------------------------------------------------------
# Source fields: the canonical names a partner description maps columns onto
# --------------------------------------------------------------------------

#: field -> kind. Kinds: id, text, postcode, uprn, vocab, date, area, money, number, flag, list.
ASSET_FIELDS: dict[str, str] = {
    "source_id": "id",
    "name": "text",
    "address": "text",
    "locality": "text",
    "postcode": "postcode",
    "uprn": "uprn",
    "asset_type": "vocab",
    "tenure": "vocab",
    "lease_break_date": "date",
    "lease_expiry_date": "date",
    "gia_m2": "area",
    "running_cost_gbp": "money",
    "backlog_maintenance_gbp": "money",
    "market_value_gbp": "money",
    "condition": "vocab",
    "workspace_capacity_fte": "number",
    "listed": "flag",
    "statutory": "flag",
    "must_keep": "flag",
    "sensitive": "flag",
    "services": "list",
}
ASSET_REQUIRED: tuple[str, ...] = (
    "source_id",
    "name",
    "asset_type",
    "tenure",
    "gia_m2",
    "running_cost_gbp",
)

OCCUPIER_FIELDS: dict[str, str] = {
    "source_id": "id",
    "team": "text",
    "service": "vocab",
    "fte": "number",
    "front_facing": "flag",
}
OCCUPIER_REQUIRED: tuple[str, ...] = ("source_id", "team", "service", "fte")

#: Controlled vocabularies by field.
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "asset_type": ASSET_TYPES,
    "tenure": TENURES,
    "condition": CONDITIONS,
    "service": SERVICES,
}

# --------------------------------------------------------------------------
# Output tables
# --------------------------------------------------------------------------

#: Columns of the ``assets`` layer, in order (geometry last).
ASSET_COLUMNS: tuple[str, ...] = (
    "asset_id",  # "<partner>-<source_id>" of the record kept
    "partner",  # code of the partner whose record was kept (the lead)
    "partners",  # ";"-joined codes of every partner holding a record of the site
    "name",
    "address",
    "locality",
    "postcode",
    "uprn",
    "authority",  # local authority code (ONS), from the areas layer or postcode lookup
    "asset_type",
    "tenure",
    "lease_break_date",
    "lease_expiry_date",
    "gia_m2",
    "running_cost_gbp",  # annual, all-in cost of occupation
    "backlog_maintenance_gbp",
    "market_value_gbp",
    "condition",
    "workspace_capacity_fte",
    "listed",
    "statutory",
    "must_keep",
    "sensitive",
    "services",  # ";"-joined service codes delivered at the site
    "running_cost_estimated",  # True: the partner gave no running cost; estimated from a benchmark rate
    "location_method",  # xy | geometry | postcode | uprn
    "source_file",
    "source_row",
    "merged_from",  # ";"-joined asset ids folded into this one
    "geometry",
)

OCCUPIER_COLUMNS: tuple[str, ...] = (
    "occupier_id",  # "<partner>-<source file stem>-<row>"
    "asset_id",
    "partner",
    "team",
    "service",
    "fte",
    "front_facing",
    "confidential",  # housed at a sensitive site today: the team never counts as a public service point
    "source_file",
    "source_row",
)

#: Columns of the ``rejects`` and ``warnings`` tables.
ISSUE_COLUMNS: tuple[str, ...] = (
    "partner",
    "table",  # assets | occupiers
    "file",
    "row",  # row number as seen in the file (spreadsheet row, first line of a CSV record, or feature number)
    "column",  # the partner's column (or columns joined, or the description's constant)
    "field",  # the canonical field (schema name), "location" or "row" (the record as a whole)
    "value",
    "reason",
)

#: The most a value can plausibly be, per canonical field: anything above is a units or typing
#: slip (an extra zero, pence for pounds, sq ft for m²) and is rejected. Each limit is far above
#: any real public building's figure.
FIELD_MAXIMUM: dict[str, float] = {
    "gia_m2": 2_000_000.0,
    "running_cost_gbp": 500_000_000.0,
    "backlog_maintenance_gbp": 5_000_000_000.0,
    "market_value_gbp": 20_000_000_000.0,
    "workspace_capacity_fte": 100_000.0,
    "fte": 50_000.0,
}
FIELD_MAXIMUM_WHY: dict[str, str] = {
    "gia_m2": "the largest building in the world has about 1.76 million m²",
    "running_cost_gbp": "a whole sub-region's estate costs about £100m a year to run",
    "backlog_maintenance_gbp": "the NHS's backlog for all of England was about £13.8bn in 2023/24",
    "market_value_gbp": "a whole sub-region's estate is worth about £2bn",
    "workspace_capacity_fte": "the largest UK office buildings hold about 20,000 desks",
    "fte": "no team is larger than the largest employer's site",
}

MERGE_COLUMNS: tuple[str, ...] = (
    "asset_id",  # the record kept
    "merged_id",  # the record folded into it
    "partner",
    "merged_partner",
    "rule",  # uprn | near_name
    "distance_m",
    "name_similarity",  # 0-100
)
