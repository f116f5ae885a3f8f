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
    "source_file",
    "source_row",
)

#: Columns of the ``rejects`` and ``warnings`` tables.
ISSUE_COLUMNS: tuple[str, ...] = (
    "partner",
    "table",  # assets | occupiers
    "file",
    "row",  # row number as seen in the file (spreadsheet row, line, or feature number)
    "column",  # the source column (or the canonical field when no column applies)
    "value",
    "reason",
)

MERGE_COLUMNS: tuple[str, ...] = (
    "asset_id",  # the record kept
    "merged_id",  # the record folded into it
    "partner",
    "merged_partner",
    "rule",  # uprn | near_name
    "distance_m",
    "name_similarity",  # 0-100
)
