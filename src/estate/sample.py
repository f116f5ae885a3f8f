"""Generate the built-in synthetic Cheshire and Warrington sample estate.

The sample stands in for the joint asset register of the twelve Cheshire and
Warrington public-sector partners: three councils, police, fire, two NHS
bodies, DWP/Jobcentre Plus, three housing trusts and a college. Each partner's
list is written in its own native format and column layout (Excel, CSV in
three encodings, GeoJSON, GeoPackage), with its own units, words and
coordinate system, and ``partners.toml`` describes every file in the format of
``docs/sources.md``.

The data are **entirely synthetic**. The towns, postcode districts and
authority codes are real, but every building, name, postcode, UPRN, cost and
team is drawn at random from a fixed seed. The totals are calibrated to the
partners' published estimates (more than 4,000 assets worth over £2bn costing
over £100m a year; West Cheshire over 1,500 assets costing £40m a year,
including 60 generic offices costing £12.4m that hold 18% of the floor space).

Besides the partner files the generator writes the lookups the register needs
(``postcodes.csv`` in the ONS Postcode Directory layout, ``uprns.csv`` in the
OS Open UPRN layout) and three manifests that record what it planted:
``expected_rejects.csv`` (one deliberately faulty row per fault class),
``expected_merges.csv`` (records of one site held by two partners) and
``expected_near_misses.csv`` (neighbouring buildings that must stay apart).

The same seed also gives synthetic demand zones (:func:`generate_zones`): about
600 LSOA-like polygons tiling the sub-region, concentrated on the towns, whose
populations add up exactly to each authority's Census 2021 total. They are
drawn from their own random stream, so they never change the assets.

Run ``python -m estate.sample --out data/assets --demand-out data/demand`` to
rebuild the committed sample and zones (without ``--demand-out`` only the assets
are written); ``--scale`` multiplies the number of assets and ``--zone-scale`` the
number of zones, for benchmarks.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
from global_land_mask import globe
from pyproj import Transformer
from scipy.spatial import cKDTree

from estate.register import schema

# ==========================================================================
# Settings and calibration targets
# ==========================================================================

#: Seed of the committed sample.
SEED = 20261122
#: The sample's "today": lease dates are drawn relative to it.
BASE_DATE = dt.date(2026, 4, 1)
#: Creation time written into the workbooks (and their zip entries).
FIXED_TIMESTAMP = dt.datetime(2026, 4, 1, 9, 0, 0)

CHESHIRE_EAST = "E06000049"
CHESHIRE_WEST = "E06000050"
WARRINGTON = "E06000007"
AUTHORITIES: dict[str, str] = {
    CHESHIRE_EAST: "Cheshire East",
    CHESHIRE_WEST: "Cheshire West and Chester",
    WARRINGTON: "Warrington",
}

#: Calibration targets at scale 1, over the distinct sites (duplicate records
#: of shared sites and faulty rows excluded). Counts and money scale with ``scale``.
TARGETS: dict[str, float] = {
    "assets": 4150,
    "market_value_gbp": 2.0e9,
    "running_cost_gbp": 100.0e6,
    "cwac_assets": 1500,
    "cwac_running_cost_gbp": 40.0e6,
    "cwac_offices": 60,
    "cwac_office_running_cost_gbp": 12.4e6,
    "cwac_office_floor_share": 0.18,
}

#: The ``[register]`` table of ``partners.toml``.
REGISTER: dict[str, Any] = {
    "postcode_lookup": "postcodes.csv",
    "uprn_lookup": "uprns.csv",
    "dedupe_distance_m": 50.0,
    "dedupe_name_similarity": 80.0,
    "sea_tolerance_m": 1000.0,
}

#: Different partners' distinct sites are kept at least this far apart, so the
#: only records within the de-duplication distance are the planted ones.
MIN_SEPARATION_M = 75.0
#: Shared-site records of a tenant that rely on the name rule lie this close.
NEAR_NAME_JITTER_M = (3.0, 15.0)
#: Postcode centroids of sites located otherwise lie this far from the site.
POSTCODE_JITTER_M = (15.0, 95.0)
SQFT_PER_M2 = 1.0 / 0.09290304

# ==========================================================================
# Geography
# ==========================================================================


@dataclass(frozen=True)
class Town:
    """A real town of the sub-region that assets cluster around."""

    name: str
    lat: float
    lon: float
    authority: str
    weight: float  # relative share of local assets
    spread_km: float  # standard deviation of the urban scatter
    districts: tuple[str, ...]  # real postcode districts (outward codes)


TOWNS: tuple[Town, ...] = (
    # Cheshire West and Chester
    Town("Chester", 53.1934, -2.8931, CHESHIRE_WEST, 16.0, 1.8, ("CH1", "CH2", "CH3", "CH4")),
    Town("Ellesmere Port", 53.2786, -2.9020, CHESHIRE_WEST, 9.0, 1.6, ("CH65", "CH66")),
    Town("Northwich", 53.2590, -2.5180, CHESHIRE_WEST, 8.0, 1.6, ("CW8", "CW9")),
    Town("Winsford", 53.1930, -2.5230, CHESHIRE_WEST, 5.5, 1.3, ("CW7",)),
    Town("Frodsham", 53.2950, -2.7240, CHESHIRE_WEST, 2.0, 0.8, ("WA6",)),
    Town("Neston", 53.2891, -3.0636, CHESHIRE_WEST, 2.0, 0.8, ("CH64",)),
    Town("Helsby", 53.2740, -2.7710, CHESHIRE_WEST, 1.0, 0.6, ("WA6",)),
    Town("Malpas", 53.0194, -2.7656, CHESHIRE_WEST, 0.8, 0.5, ("SY14",)),
    Town("Tarporley", 53.1581, -2.6676, CHESHIRE_WEST, 0.8, 0.5, ("CW6",)),
    Town("Kelsall", 53.2096, -2.7116, CHESHIRE_WEST, 0.6, 0.5, ("CW6",)),
    # Cheshire East
    Town("Crewe", 53.0980, -2.4400, CHESHIRE_EAST, 12.0, 1.8, ("CW1", "CW2")),
    Town("Macclesfield", 53.2600, -2.1250, CHESHIRE_EAST, 10.0, 1.7, ("SK10", "SK11")),
    Town("Congleton", 53.1630, -2.2130, CHESHIRE_EAST, 5.0, 1.3, ("CW12",)),
    Town("Wilmslow", 53.3280, -2.2300, CHESHIRE_EAST, 5.0, 1.2, ("SK9",)),
    Town("Nantwich", 53.0670, -2.5230, CHESHIRE_EAST, 3.5, 1.1, ("CW5",)),
    Town("Sandbach", 53.1440, -2.3620, CHESHIRE_EAST, 3.5, 1.1, ("CW11",)),
    Town("Knutsford", 53.3030, -2.3730, CHESHIRE_EAST, 2.5, 1.0, ("WA16",)),
    Town("Poynton", 53.3500, -2.1200, CHESHIRE_EAST, 2.0, 0.8, ("SK12",)),
    Town("Alsager", 53.0960, -2.3050, CHESHIRE_EAST, 2.0, 0.8, ("ST7",)),
    Town("Middlewich", 53.1920, -2.4440, CHESHIRE_EAST, 2.0, 0.9, ("CW10",)),
    Town("Handforth", 53.3470, -2.2140, CHESHIRE_EAST, 1.2, 0.6, ("SK9",)),
    Town("Holmes Chapel", 53.1990, -2.3560, CHESHIRE_EAST, 1.0, 0.6, ("CW4",)),
    Town("Bollington", 53.2960, -2.0960, CHESHIRE_EAST, 1.0, 0.6, ("SK10",)),
    Town("Disley", 53.3580, -2.0420, CHESHIRE_EAST, 0.6, 0.5, ("SK12",)),
    Town("Audlem", 52.9900, -2.5080, CHESHIRE_EAST, 0.5, 0.5, ("CW3",)),
    # Warrington
    Town("Warrington", 53.3900, -2.5970, WARRINGTON, 14.0, 2.2, ("WA1", "WA2", "WA4", "WA5")),
    Town("Birchwood", 53.4120, -2.5280, WARRINGTON, 2.0, 0.9, ("WA3",)),
    Town("Great Sankey", 53.3920, -2.6410, WARRINGTON, 2.0, 0.9, ("WA5",)),
    Town("Lymm", 53.3810, -2.4770, WARRINGTON, 1.5, 0.8, ("WA13",)),
    Town("Culcheth", 53.4510, -2.5230, WARRINGTON, 1.0, 0.6, ("WA3",)),
    Town("Burtonwood", 53.4290, -2.6540, WARRINGTON, 0.8, 0.5, ("WA5",)),
    Town("Stockton Heath", 53.3720, -2.5800, WARRINGTON, 1.5, 0.8, ("WA4",)),
)

#: Places just outside the three authorities. A point must lie nearer to a town
#: of its own authority than to any of these, which keeps the scatter inside
#: the sub-region (and out of Wales, Merseyside, Greater Manchester, Staffordshire).
NEIGHBOURING_PLACES: tuple[tuple[str, float, float], ...] = (
    ("Liverpool", 53.4084, -2.9916), ("Speke", 53.3460, -2.8560), ("Hale", 53.3350, -2.7990),
    ("Widnes", 53.3616, -2.7335), ("Runcorn", 53.3420, -2.7290), ("Eastham", 53.3140, -2.9640),
    ("Bromborough", 53.3190, -2.9780), ("Heswall", 53.3270, -3.0990), ("Saltney Ferry", 53.1600, -2.9550),
    ("Broughton", 53.1660, -2.9860), ("Queensferry", 53.2030, -3.0230), ("Connah's Quay", 53.2180, -3.0760),
    ("Wrexham", 53.0460, -2.9930), ("Bangor-on-Dee", 52.9980, -2.9130), ("Whitchurch", 52.9690, -2.6820),
    ("Market Drayton", 52.9040, -2.4840), ("Madeley", 52.9920, -2.3400), ("Kidsgrove", 53.0870, -2.2380),
    ("Biddulph", 53.1180, -2.1750), ("Leek", 53.1050, -2.0230), ("Buxton", 53.2590, -1.9110),
    ("Whaley Bridge", 53.3300, -1.9840), ("New Mills", 53.3650, -2.0060), ("Marple", 53.3940, -2.0620),
    ("Hazel Grove", 53.3770, -2.1110), ("Bramhall", 53.3580, -2.1640), ("Cheadle Hulme", 53.3760, -2.1890),
    ("Wythenshawe", 53.3860, -2.2640), ("Hale Barns", 53.3600, -2.3000), ("Altrincham", 53.3870, -2.3490),
    ("Partington", 53.4180, -2.4290), ("Irlam", 53.4420, -2.4220), ("Leigh", 53.4970, -2.5190),
    ("Lowton", 53.4710, -2.5690), ("Golborne", 53.4770, -2.5960), ("Newton-le-Willows", 53.4530, -2.6330),
    ("St Helens", 53.4540, -2.7370), ("Rainhill", 53.4150, -2.7650),
)

#: Deliberately faulty coordinates.
SEA_POINT = (53.5500, -3.4200)  # lat, lon: Liverpool Bay, ~15 km off the coast
FRANCE_POINT = (50.6329, 3.0586)  # lat, lon: Lille

KM_PER_DEG_LAT = 111.2
KM_PER_DEG_LON = 111.2 * math.cos(math.radians(53.2))

_TO_BNG = Transformer.from_crs(schema.WGS84, schema.BNG, always_xy=True)

# ==========================================================================
# Demand zones: targets and layout
# ==========================================================================

#: Census 2021 usual residents of each authority; the zones add up to these exactly.
CENSUS_2021_POPULATION: dict[str, int] = {CHESHIRE_EAST: 398_800, CHESHIRE_WEST: 357_200, WARRINGTON: 210_900}
#: Share of each authority's residents who live in the countryside (rural zones), not the towns.
RURAL_POPULATION_SHARE: dict[str, float] = {CHESHIRE_EAST: 0.20, CHESHIRE_WEST: 0.18, WARRINGTON: 0.06}
#: Typical residents of a zone, and the range every zone keeps to (as LSOAs do).
ZONE_POPULATION = 1600
ZONE_POPULATION_RANGE = (1000, 3000)
#: Zones cover the convex hull of the towns and the sub-region's land up to this far beyond it (m).
ZONE_REACH_M = 9000.0
#: Land (and the sub-region's side of its neighbours) is widened by this much, so coastal assets stay inside (m).
ZONE_COAST_MARGIN_M = 600.0
#: Seeds of town zones lie at least this far apart (m), and within this many scatter widths of the town.
URBAN_SEED_SEPARATION_M = 250.0
URBAN_SEED_MAX_SD = 2.5
#: Seeds of rural zones lie at least this far from any town seed, and start this far from each other (m).
RURAL_SEED_CLEARANCE_M = 1200.0
RURAL_SEED_SEPARATION_M = 4000.0
#: Independent random stream of the zones (``default_rng([seed, ZONE_STREAM])``), so assets are unperturbed.
ZONE_STREAM = 2

# ==========================================================================
# Asset types
# ==========================================================================


@dataclass(frozen=True)
class TypeProfile:
    """How the sample draws one asset type (areas in m², money in £ a year)."""

    gia_m2: float  # median gross internal area; 0 for sites without floor space
    gia_sigma: float  # log-normal spread of the area
    cost: tuple[float, float]  # running cost per m² (per site when gia_m2 == 0), uniform
    value: float  # median market value per m² (per site when gia_m2 == 0)
    backlog: float  # median backlog maintenance per m² at condition B
    teams: tuple[int, int]  # occupier teams per building, inclusive range
    team_fte: float  # median FTE of a team
    desk_m2: float = 0.0  # m² per workstation; 0 = no workspace capacity recorded
    services: tuple[str, ...] = ()  # services delivered; () = the partner kind's office services


TYPE_PROFILES: dict[str, TypeProfile] = {
    "office": TypeProfile(1200, 0.75, (60, 180), 1500, 45, (2, 6), 12, 9.0),
    "customer_contact": TypeProfile(450, 0.5, (54, 95), 1500, 40, (2, 4), 8, 9.0,
                                    ("customer_contact", "customer_contact", "housing", "social_care")),
    "library": TypeProfile(520, 0.6, (40, 73), 1100, 50, (1, 3), 4, 0.0,
                           ("library", "library", "customer_contact", "community")),
    "childrens_centre": TypeProfile(360, 0.5, (40, 73), 1000, 45, (1, 3), 5, 0.0,
                                    ("early_help", "early_help", "health")),
    "community_centre": TypeProfile(260, 0.6, (20, 50), 700, 40, (0, 2), 3, 0.0, ("community", "early_help")),
    "youth_centre": TypeProfile(280, 0.5, (20, 50), 700, 40, (1, 2), 3, 0.0, ("community", "early_help")),
    "leisure_centre": TypeProfile(2200, 0.5, (54, 90), 900, 60, (1, 2), 12, 0.0, ("leisure",)),
    "day_centre": TypeProfile(480, 0.5, (40, 73), 900, 45, (1, 3), 8, 0.0, ("social_care",)),
    "care_home": TypeProfile(1500, 0.4, (81, 130), 1200, 55, (1, 3), 18, 0.0, ("social_care",)),
    "depot": TypeProfile(700, 0.8, (14, 39), 500, 30, (1, 3), 14, 0.0, ("depot_operations",)),
    "museum": TypeProfile(850, 0.7, (40, 78), 1000, 80, (1, 1), 4, 0.0, ("other", "community")),
    "market": TypeProfile(1000, 0.6, (14, 39), 800, 50, (0, 0), 0, 0.0),
    "industrial_unit": TypeProfile(150, 0.8, (7, 22), 600, 20, (0, 0), 0, 0.0),
    "school": TypeProfile(1800, 0.5, (40, 64), 1100, 70, (1, 2), 25, 0.0, ("education",)),
    "college": TypeProfile(2000, 0.7, (40, 64), 1200, 60, (1, 3), 18, 0.0,
                           ("education", "education", "back_office")),
    "police_station": TypeProfile(1200, 0.7, (81, 130), 1300, 60, (2, 5), 14, 10.0,
                                  ("policing", "policing", "police_front_counter", "back_office")),
    "custody_suite": TypeProfile(2200, 0.4, (135, 216), 1500, 70, (1, 2), 20, 0.0, ("custody", "policing")),
    "fire_station": TypeProfile(850, 0.5, (54, 90), 1100, 50, (1, 3), 7, 0.0,
                                ("fire_response", "fire_response", "community")),
    "training_centre": TypeProfile(1100, 0.6, (40, 73), 1000, 45, (1, 2), 6, 0.0, ("education", "other")),
    "hospital": TypeProfile(5000, 0.5, (135, 216), 1800, 120, (3, 6), 35, 0.0, ("health",)),
    "health_centre": TypeProfile(900, 0.6, (81, 130), 1600, 60, (2, 5), 8, 0.0,
                                 ("health", "health", "early_help")),
    "clinic": TypeProfile(380, 0.6, (81, 130), 1500, 50, (1, 3), 5, 0.0, ("health",)),
    "mental_health_unit": TypeProfile(2000, 0.5, (108, 173), 1600, 80, (2, 4), 22, 0.0,
                                      ("health", "health", "social_care")),
    "jobcentre": TypeProfile(700, 0.5, (68, 109), 1300, 40, (2, 4), 11, 9.0,
                             ("employment", "employment", "back_office")),
    "housing_office": TypeProfile(380, 0.5, (54, 86), 1300, 40, (1, 3), 7, 9.0,
                                  ("housing", "housing", "customer_contact")),
    "sheltered_housing": TypeProfile(600, 0.5, (27, 43), 1500, 45, (0, 1), 2, 0.0, ("housing", "social_care")),
    "refuge": TypeProfile(320, 0.3, (27, 50), 1400, 35, (1, 1), 3, 0.0, ("refuge",)),
    "car_park": TypeProfile(0, 0.0, (2000, 30000), 350_000, 0, (0, 0), 0, 0.0),
    "land": TypeProfile(0, 0.0, (0, 4000), 140_000, 0, (0, 0), 0, 0.0),
    "other": TypeProfile(90, 0.9, (13, 84), 800, 40, (0, 0), 0, 0.0),
}

#: Services of generic offices, by partner kind.
OFFICE_SERVICES: dict[str, tuple[str, ...]] = {
    "council": ("back_office", "back_office", "social_care", "early_help", "customer_contact", "housing",
                "education"),
    "police": ("back_office", "policing"),
    "fire": ("back_office", "community"),
    "nhs": ("back_office", "health"),
    "dwp": ("employment", "back_office"),
    "housing": ("housing", "back_office", "community"),
    "college": ("back_office", "education"),
}

#: Share of teams of a service that face the public.
FRONT_FACING: dict[str, float] = {
    "back_office": 0.0, "customer_contact": 0.95, "library": 0.9, "early_help": 0.7, "employment": 0.9,
    "health": 0.8, "social_care": 0.4, "police_front_counter": 1.0, "policing": 0.1, "custody": 0.0,
    "fire_response": 0.1, "housing": 0.6, "education": 0.7, "community": 0.7, "leisure": 0.8,
    "depot_operations": 0.0, "refuge": 0.2, "other": 0.2,
}

TEAM_NAMES: dict[str, tuple[str, ...]] = {
    "back_office": ("Finance", "HR Business Partners", "ICT Service Desk", "Legal Services", "Procurement",
                    "Business Support", "Performance and Intelligence", "Payroll", "Estates Team"),
    "customer_contact": ("Customer Service Advisers", "Contact Centre", "Registrars", "Revenues and Benefits Desk"),
    "library": ("Library Service", "Library Outreach", "Home Library Service"),
    "early_help": ("Early Help Locality Team", "Family Support", "Health Visiting", "Children's Centre Outreach"),
    "employment": ("Work Coaches", "Universal Credit Service", "Disability Employment Advisers",
                   "Youth Employability Hub"),
    "health": ("District Nursing", "Community Mental Health Team", "Podiatry", "Physiotherapy", "GP Practice",
               "Sexual Health Clinic", "Community Paediatrics", "Memory Clinic"),
    "social_care": ("Adult Social Care Locality Team", "Children's Social Work", "Reablement",
                    "Learning Disability Service", "Care Staff"),
    "police_front_counter": ("Front Counter",),
    "policing": ("Neighbourhood Policing Team", "Response Team", "CID", "Roads Policing", "Public Protection Unit"),
    "custody": ("Custody Staff",),
    "fire_response": ("Red Watch", "White Watch", "Blue Watch", "Green Watch", "On-Call Crew"),
    "housing": ("Housing Options", "Neighbourhood Officers", "Income Team", "Tenancy Support", "Scheme Manager"),
    "education": ("Teaching Staff", "Adult Learning", "Apprenticeships Team", "Learning Support"),
    "community": ("Community Development", "Volunteer Coordinators", "Community Safety", "Prevention Team"),
    "leisure": ("Leisure Centre Staff", "Sports Development"),
    "depot_operations": ("Waste Collection Crews", "Highways Maintenance", "Grounds Maintenance", "Fleet Workshop"),
    "refuge": ("Refuge Support Workers",),
    "other": ("Museum Staff", "Facilities Team", "Training Team"),
}

#: Types whose first sites of a partner go one to a town before any town gets a second.
CIVIC_TYPES = frozenset({
    "fire_station", "police_station", "custody_suite", "library", "leisure_centre", "jobcentre",
    "customer_contact", "health_centre", "hospital", "museum", "market", "housing_office",
})
#: Types with statutory duties attached to the building.
STATUTORY_TYPES = frozenset({
    "police_station", "custody_suite", "fire_station", "school", "hospital", "mental_health_unit", "care_home",
})
#: Types more often listed buildings.
HERITAGE_TYPES = frozenset({
    "office", "library", "museum", "market", "customer_contact", "police_station", "school", "community_centre",
})

#: Site names: the first of a type in a town may take the town's name, others a street or house name.
TOWN_NAMES: dict[str, str] = {
    "office": "{town} Town Hall", "customer_contact": "{town} Customer Service Centre", "library": "{town} Library",
    "leisure_centre": "{town} Leisure Centre", "museum": "{town} Museum", "market": "{town} Market Hall",
    "police_station": "{town} Police Station", "custody_suite": "{town} Custody Suite",
    "fire_station": "{town} Fire Station", "training_centre": "{town} Training Centre",
    "hospital": "{town} Community Hospital", "health_centre": "{town} Health Centre",
    "jobcentre": "{town} Jobcentre Plus", "housing_office": "{town} Housing Office",
    "college": "{town} Campus Main Building", "youth_centre": "{town} Youth Centre",
}
OTHER_NAMES: dict[str, tuple[str, ...]] = {
    "office": ("{house} House", "{house} House", "{street} Offices", "{house} Court"),
    "customer_contact": ("{street} Contact Centre",),
    "library": ("{street} Library",),
    "childrens_centre": ("{street} Children's Centre", "{house} Children's Centre"),
    "community_centre": ("{street} Community Centre", "{house} Community Hall", "{street} Village Hall"),
    "youth_centre": ("{street} Youth Centre",),
    "leisure_centre": ("{street} Sports Centre", "{house} Pool"),
    "day_centre": ("{street} Day Centre", "{house} Resource Centre"),
    "care_home": ("{house} Lodge", "{house} Care Home"),
    "depot": ("{street} Depot", "{house} Depot"),
    "museum": ("{house} Heritage Centre",),
    "market": ("{street} Market",),
    "industrial_unit": ("Unit {n}, {house} Business Park", "Unit {n}, {town} Trading Estate",
                        "Unit {n}, {street} Industrial Estate"),
    "school": ("{street} Primary School", "{house} Primary School", "{house} Academy"),
    "college": ("{town} Campus Block {letter}", "{town} Campus {house} Building"),
    "police_station": ("{street} Police Station",),
    "custody_suite": ("{street} Custody Suite",),
    "fire_station": ("{street} Fire Station",),
    "training_centre": ("{house} Training Centre",),
    "hospital": ("{house} Hospital",),
    "health_centre": ("{street} Medical Centre", "{house} Health Centre"),
    "clinic": ("{street} Clinic", "{house} Clinic"),
    "mental_health_unit": ("{house} Unit", "{house} Centre"),
    "jobcentre": ("{street} Jobcentre",),
    "housing_office": ("{street} Housing Office",),
    "sheltered_housing": ("{house} Court", "{house} Gardens", "{house} Close"),
    "refuge": ("Refuge {letter}",),
    "car_park": ("{street} Car Park",),
    "land": ("Land at {street}", "Land off {street}"),
    "other": ("{street} Pavilion", "{street} Public Conveniences", "{street} Allotments Store", "{street} Kiosk"),
}
#: Names of a type particular to a kind of partner (else OTHER_NAMES).
KIND_NAMES: dict[tuple[str, str], tuple[str, ...]] = {
    ("police", "other"): ("{house} Operational Support Unit", "{street} Radio Mast Site", "{town} Dog Section"),
    ("police", "depot"): ("{town} Vehicle Workshop", "{house} Fleet Centre"),
    ("fire", "other"): ("{street} Community Fire Point", "{town} Fire Safety Centre"),
    ("fire", "depot"): ("{house} Workshops", "{town} Equipment Store"),
    ("nhs", "other"): ("{street} Stores", "{house} Estates Compound"),
    ("housing", "other"): ("{street} Garages", "{street} Laundry Block", "{house} Guest Room"),
    ("housing", "depot"): ("{street} Repairs Depot",),
    ("housing", "community_centre"): ("{house} Community Room", "{street} Community Hub"),
}
#: Team names particular to a partner (else TEAM_NAMES).
PARTNER_TEAMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("CWP", "health"): ("Community Mental Health Team", "Memory Clinic", "Crisis Resolution Team",
                        "Early Intervention in Psychosis", "Perinatal Mental Health", "Ward Staff"),
    ("CWP", "social_care"): ("Community Learning Disability Team", "Social Work Team", "Recovery College"),
    ("DWP", "back_office"): ("Operations Support", "Service Leaders", "Partnership Managers"),
    ("FIRE", "back_office"): ("Service Headquarters Staff", "Fleet and Estates", "Control Room Support"),
}
STREETS: tuple[str, ...] = (
    "High Street", "Church Street", "Station Road", "London Road", "Park Lane", "Mill Lane", "Chester Road",
    "Manchester Road", "Victoria Road", "King Street", "Queen Street", "Market Street", "Bridge Street",
    "Water Street", "Crewe Road", "School Lane", "Green Lane", "Moss Lane", "Hall Lane", "Church Lane",
    "New Road", "Wellington Road", "Nelson Street", "Albert Road", "Brook Street", "Castle Street",
    "Hospital Street", "Welsh Row", "Sankey Street", "Winnington Lane", "Delamere Street", "Hoole Road",
    "Liverpool Road", "Nantwich Road", "Macclesfield Road", "Knutsford Road", "Northwich Road",
    "Middlewich Road", "Tarvin Road", "Sealand Road", "Whitby Road", "Overpool Road", "Dingle Lane",
    "Gadbrook Road", "Grange Lane", "Beech Road", "Oak Avenue", "Alderley Road", "Buxton Road", "Bexton Lane",
)
HOUSES: tuple[str, ...] = (
    "Delamere", "Wyvern", "Westfield", "Churchill", "Riverside", "Weaver", "Dane", "Bollin", "Gadbrook",
    "Beech", "Oakfield", "Ashton", "Sandstone", "Eddisbury", "Rookery", "Meadow", "Willow", "Marsh",
    "Heath", "Grange", "Kingsway", "Brunswick", "Vale Royal", "Tatton", "Arley", "Peckforton", "Beeston",
    "Cholmondeley", "Bridgewater", "Lovell", "Crossfield", "Lyme", "Capesthorne", "Rode", "Combermere",
    "Dorfold", "Norton", "Walton", "Daresbury", "Winmarleigh", "Greenbank", "Hartford", "Lindow", "Gawsworth",
)

# ==========================================================================
# Partners
# ==========================================================================


@dataclass(frozen=True)
class Partner:
    """One partner of the sample: what it holds and how its files are written.

    ``assets`` and ``occupiers`` are written to ``partners.toml`` as they are
    (plus ``columns`` and ``values``); ``style`` only tells the writer how to
    render values (it is not part of the description).
    """

    code: str
    name: str
    kind: str
    sites: int  # own sites at scale 1; 0 for councils, sized by calibration
    area: tuple[str, ...]  # authority codes or town names where the partner holds sites
    mix: dict[str, float]  # asset-type weights
    assets: dict[str, Any]
    columns: dict[str, str]
    values: dict[str, dict[str, str]]
    occupiers: dict[str, Any]
    style: dict[str, Any] = field(default_factory=dict)
    tenure: tuple[float, float, float] = (0.83, 0.15, 0.02)  # freehold, leasehold, licence
    uprn_share: float = 0.7
    rural_share: float = 0.1
    spread: float = 1.0  # multiplies the towns' scatter

    @property
    def location_method(self) -> str:
        """How the partner's assets are located: xy, geometry, postcode or uprn."""
        return self.assets["location"]["method"]


COUNCIL_MIX: dict[str, float] = {
    "land": 24, "car_park": 8, "industrial_unit": 12, "other": 17, "community_centre": 6.5, "office": 3.2,
    "customer_contact": 0.7, "library": 2.6, "childrens_centre": 2.2, "youth_centre": 1.4,
    "leisure_centre": 0.8, "day_centre": 1.4, "care_home": 0.6, "depot": 1.4, "museum": 0.4, "market": 0.5,
    "school": 0.8,
}
HOUSING_MIX: dict[str, float] = {
    "sheltered_housing": 30, "community_centre": 17, "housing_office": 4, "office": 3, "depot": 2,
    "refuge": 2, "land": 8, "other": 6,
}

_COUNCIL_SERVICES_CE: dict[str, str] = {
    "Corporate Services": "back_office", "Customer Services": "customer_contact", "Libraries": "library",
    "Prevention & Early Help": "early_help", "Adult Social Care": "social_care",
    "Children's Social Care": "social_care", "Communities": "community", "Leisure": "leisure",
    "Environmental Services": "depot_operations", "Education & Skills": "education",
    "Housing Options": "housing", "Public Health": "health", "Culture & Heritage": "other",
}

PARTNERS: tuple[Partner, ...] = (
    Partner(
        code="CEC", name="Cheshire East Council", kind="council", sites=0, area=(CHESHIRE_EAST,),
        mix=COUNCIL_MIX, tenure=(0.8, 0.17, 0.03), uprn_share=0.7, rural_share=0.12,
        assets={
            "file": "cec_asset_register.xlsx", "format": "xlsx", "sheet": "Asset Register", "header_row": 3,
            "area_unit": "sqft", "money_unit": "gbp",
            "location": {"method": "xy", "x": "Easting", "y": "Northing", "crs": schema.BNG,
                         "fallback": "postcode"},
        },
        columns={
            "source_id": "Asset No", "name": "Property Name", "address": "Address Line 1", "locality": "Town",
            "postcode": "Post Code", "uprn": "UPRN", "asset_type": "Asset Category", "tenure": "Tenure",
            "lease_break_date": "Lease Break", "lease_expiry_date": "Lease End", "gia_m2": "GIA (sq ft)",
            "running_cost_gbp": "Running Costs (£)", "backlog_maintenance_gbp": "Backlog Maintenance (£)",
            "market_value_gbp": "Asset Valuation (£)", "condition": "Condition",
            "workspace_capacity_fte": "Desk Capacity", "listed": "Listed Status", "must_keep": "Retain?",
        },
        values={
            "asset_type": {
                "Admin Office": "office", "Customer Service Centre": "customer_contact", "Library": "library",
                "Children's Centre": "childrens_centre", "Community Centre": "community_centre",
                "Youth Centre": "youth_centre", "Leisure Centre": "leisure_centre", "Day Centre": "day_centre",
                "Care Home": "care_home", "Depot": "depot", "Museum": "museum", "Market": "market",
                "Industrial Unit": "industrial_unit", "School": "school", "Car Park": "car_park",
                "Land": "land", "Miscellaneous": "other",
            },
            "tenure": {"Freehold": "freehold", "Leasehold": "leasehold", "Licence": "licence"},
            "condition": {"Good": "A", "Satisfactory": "B", "Poor": "C", "Bad": "D"},
            "listed": {"Grade I": "yes", "Grade II*": "yes", "Grade II": "yes", "Not Listed": "no"},
            "must_keep": {"Retain": "yes", "Review": "no", "Dispose": "no"},
        },
        occupiers={
            "file": "cec_asset_register.xlsx", "format": "xlsx", "sheet": "Occupancy", "header_row": 1,
            "columns": {"source_id": "Asset No", "team": "Team Name", "service": "Service Area", "fte": "FTE",
                        "front_facing": "Public Facing"},
            "values": {"service": _COUNCIL_SERVICES_CE},
        },
        style={
            "id": ("CE", 5), "area": "number", "area_decimals": 0, "money": "mixed_pound", "flag": ("Yes", "No"),
            "xy_decimals": 0, "title": ("Cheshire East Council - Property Asset Register",
                                        "Extract at 1 April 2026. Gross internal areas in square feet; "
                                        "money in pounds."),
            "blank_rows": 1, "no_xy_share": 0.03, "fte_decimals": 1,
        },
    ),
    Partner(
        code="CWAC", name="Cheshire West and Chester Council", kind="council", sites=0, area=(CHESHIRE_WEST,),
        mix=COUNCIL_MIX, tenure=(0.8, 0.17, 0.03), uprn_share=0.8, rural_share=0.12,
        assets={
            "file": "cwac_property_terrier.csv", "format": "csv", "encoding": "cp1252", "header_row": 1,
            "date_format": "%d/%m/%Y", "area_unit": "m2", "money_unit": "gbp",
            "location": {"method": "xy", "x": "Easting", "y": "Northing", "crs": schema.BNG},
        },
        columns={
            "source_id": "Property Ref", "name": "Property Name", "address": "Address", "locality": "Locality",
            "postcode": "Postcode", "uprn": "UPRN", "asset_type": "Use", "tenure": "Tenure",
            "lease_break_date": "Break Date", "lease_expiry_date": "Lease Expiry", "gia_m2": "GIA (m²)",
            "running_cost_gbp": "Annual Running Cost", "backlog_maintenance_gbp": "Backlog (£)",
            "market_value_gbp": "Market Value", "condition": "Condition", "workspace_capacity_fte": "Workstations",
            "listed": "Listed", "statutory": "Statutory", "services": "Services",
        },
        values={
            "asset_type": {
                "Admin Office": "office", "Customer Contact Centre": "customer_contact", "Library": "library",
                "Childrens Centre": "childrens_centre", "Community Centre": "community_centre",
                "Youth Club": "youth_centre", "Leisure Centre": "leisure_centre", "Day Centre": "day_centre",
                "Residential Care Home": "care_home", "Depot": "depot", "Museum": "museum",
                "Market Hall": "market", "Industrial Unit": "industrial_unit", "School": "school",
                "Car Park": "car_park", "Land": "land", "Misc": "other",
            },
            "tenure": {"FH": "freehold", "LH": "leasehold", "LIC": "licence"},
        },
        occupiers={
            "file": "cwac_occupancy.csv", "format": "csv", "encoding": "cp1252", "header_row": 1,
            "columns": {"source_id": "Property Ref", "team": "Team", "service": "Service", "fte": "FTE",
                        "front_facing": "Public facing"},
            "values": {"service": {
                "Business Support": "back_office", "Customer Services": "customer_contact", "Libraries": "library",
                "Early Help": "early_help", "Adults Social Care": "social_care", "Children's Services": "social_care",
                "Communities": "community", "Leisure": "leisure", "Streetscene": "depot_operations",
                "Education": "education", "Housing": "housing", "Public Health": "health", "Museums": "other",
            }},
        },
        style={
            "id": ("P", 5, 10000), "area": "number", "area_decimals": 1, "money": "pound", "flag": ("Y", "N"),
            "xy_decimals": 0, "newline": "\r\n", "blank_lines": 2, "fte_decimals": 1,
        },
    ),
    Partner(
        code="WBC", name="Warrington Borough Council", kind="council", sites=0, area=(WARRINGTON,),
        mix=COUNCIL_MIX, tenure=(0.8, 0.18, 0.02), uprn_share=0.6, rural_share=0.1,
        assets={
            "file": "wbc_property.gpkg", "format": "gpkg", "layer": "property", "area_unit": "m2",
            "money_unit": "gbp", "location": {"method": "geometry"},
        },
        columns={
            "source_id": "prop_id", "name": "site_name", "address": "address", "locality": "area",
            "postcode": "postcode", "uprn": "uprn", "asset_type": "prop_type", "tenure": "tenure",
            "lease_break_date": "brk_date", "lease_expiry_date": "exp_date", "gia_m2": "gia_sqm",
            "running_cost_gbp": "run_cost", "backlog_maintenance_gbp": "backlog", "market_value_gbp": "mkt_value",
            "condition": "cond", "workspace_capacity_fte": "desks", "listed": "listed", "statutory": "statutory",
        },
        values={
            "asset_type": {
                "OFFICE": "office", "CONTACT CENTRE": "customer_contact", "LIBRARY": "library",
                "CHILDRENS CENTRE": "childrens_centre", "COMMUNITY CENTRE": "community_centre",
                "YOUTH CENTRE": "youth_centre", "LEISURE": "leisure_centre", "DAY CENTRE": "day_centre",
                "CARE HOME": "care_home", "DEPOT": "depot", "MUSEUM": "museum", "MARKET": "market",
                "INDUSTRIAL": "industrial_unit", "SCHOOL": "school", "CAR PARK": "car_park", "OPEN LAND": "land",
                "OTHER": "other",
            },
            "tenure": {"F": "freehold", "L": "leasehold", "LIC": "licence"},
            "condition": {"1": "A", "2": "B", "3": "C", "4": "D"},
        },
        occupiers={
            "file": "wbc_occupiers.csv", "format": "csv", "encoding": "utf-8", "header_row": 1,
            "columns": {"source_id": "prop_id", "team": "team", "service": "service", "fte": "fte",
                        "front_facing": "front_facing"},
            "values": {"service": {
                "Corporate": "back_office", "Contact Centre": "customer_contact", "Libraries": "library",
                "Early Help": "early_help", "Adult Care": "social_care", "Childrens Care": "social_care",
                "Communities": "community", "Leisure": "leisure", "Operational Services": "depot_operations",
                "Education": "education", "Housing": "housing", "Public Health": "health", "Heritage": "other",
            }},
        },
        style={"id": ("WBC", 5), "area": "number", "area_decimals": 1, "money": "number", "flag": "int",
               "occupier_flag": ("TRUE", "FALSE"), "fte_decimals": 1},
    ),
    Partner(
        code="POLICE", name="Cheshire Constabulary", kind="police", sites=62, area=(),
        mix={"police_station": 22, "custody_suite": 4, "office": 14, "training_centre": 2, "depot": 3,
             "other": 4, "land": 3},
        tenure=(0.86, 0.12, 0.02), uprn_share=0.5, rural_share=0.05,
        assets={
            "file": "police_estate.csv", "format": "csv", "encoding": "utf-8-sig", "header_row": 1,
            "date_format": "%d-%b-%Y", "area_unit": "sqft", "money_unit": "gbp_k",
            "location": {"method": "xy", "x": "Longitude", "y": "Latitude", "crs": schema.WGS84},
        },
        columns={
            "source_id": "Site Code", "name": "Site Name", "address": "Address", "locality": "Town",
            "postcode": "Postcode", "uprn": "UPRN", "asset_type": "Site Type", "tenure": "Ownership",
            "lease_break_date": "Lease Break", "lease_expiry_date": "Lease End", "gia_m2": "Floor Area",
            "running_cost_gbp": "Running Cost £k", "backlog_maintenance_gbp": "Backlog £k",
            "market_value_gbp": "Valuation £k", "condition": "Condition", "statutory": "Statutory",
        },
        values={
            "asset_type": {
                "Police Station": "police_station", "Custody Suite": "custody_suite",
                "Neighbourhood Office": "office", "Headquarters": "office", "Training Centre": "training_centre",
                "Vehicle Workshop": "depot", "Operational Support": "other", "Land": "land",
            },
            "tenure": {"Owned": "freehold", "Leased": "leasehold", "Licence": "licence"},
            "condition": {"Good": "A", "Fair": "B", "Poor": "C", "Very Poor": "D"},
        },
        occupiers={
            "file": "police_occupancy.csv", "format": "csv", "encoding": "utf-8-sig", "header_row": 1,
            "columns": {"source_id": "Site Code", "team": "Unit", "service": "Function",
                        "fte": "Officers & Staff", "front_facing": "Public Contact"},
            "values": {"service": {
                "Neighbourhood Policing": "policing", "Response": "policing", "Investigations": "policing",
                "Custody": "custody", "Front Counter": "police_front_counter", "Business Support": "back_office",
                "Learning & Development": "education", "Fleet": "depot_operations", "Community Safety": "community",
                "Other": "other",
            }},
        },
        style={"id": ("CC", 4), "area": "mixed_unit", "area_decimals": 0, "money": "number", "flag": ("Yes", "No"),
               "xy_decimals": 6, "fte_decimals": 0},
    ),
    Partner(
        code="FIRE", name="Cheshire Fire and Rescue Service", kind="fire", sites=40, area=(),
        mix={"fire_station": 28, "office": 2, "training_centre": 2, "depot": 3, "other": 3, "land": 2},
        tenure=(0.9, 0.1, 0.0), uprn_share=0.0, rural_share=0.1,
        assets={
            "file": "fire_sites.geojson", "format": "geojson", "area_unit": "m2", "money_unit": "gbp",
            "location": {"method": "geometry"},
        },
        columns={
            "source_id": "station_id", "name": "title", "address": "street", "locality": "town",
            "postcode": "postcode", "asset_type": "category", "tenure": "ownership", "lease_break_date": "lease_break",
            "lease_expiry_date": "lease_end", "gia_m2": "gia_m2", "running_cost_gbp": "annual_cost_gbp",
            "backlog_maintenance_gbp": "backlog_gbp", "market_value_gbp": "value_gbp",
            "condition": "condition_grade", "statutory": "statutory", "services": "services",
        },
        values={
            "asset_type": {
                "Wholetime Station": "fire_station", "Day Crewed Station": "fire_station",
                "On-Call Station": "fire_station", "Headquarters": "office", "Training Centre": "training_centre",
                "Workshops": "depot", "Other": "other", "Land": "land",
            },
            "tenure": {"owned": "freehold", "leased": "leasehold"},
        },
        occupiers={
            "file": "fire_crews.csv", "format": "csv", "encoding": "utf-8", "header_row": 1,
            "columns": {"source_id": "station_id", "team": "watch", "service": "function", "fte": "headcount",
                        "front_facing": "public_facing"},
            "values": {"service": {
                "Emergency Response": "fire_response", "Prevention": "community", "Support Services": "back_office",
                "Training": "education", "Fleet & Workshops": "depot_operations", "Other": "other",
            }},
        },
        style={"id": ("FS", 3), "area": "number", "area_decimals": 0, "money": "number", "flag": "bool",
               "occupier_flag": ("true", "false"), "fte_decimals": 0},
    ),
    Partner(
        code="NHSPS", name="NHS Property Services", kind="nhs", sites=106, area=(),
        mix={"health_centre": 45, "clinic": 35, "office": 12, "hospital": 4, "land": 4, "other": 6},
        tenure=(0.62, 0.33, 0.05), uprn_share=0.5, rural_share=0.05,
        assets={
            "file": "nhsps_properties.xlsx", "format": "xlsx", "sheet": "Properties", "header_row": 1,
            "area_unit": "m2", "money_unit": "gbp", "location": {"method": "postcode"},
        },
        columns={
            "source_id": "Property Code", "name": "Property Name", "address": "Address", "locality": "Town",
            "postcode": "Postcode", "uprn": "UPRN", "asset_type": "Property Type", "tenure": "Tenure",
            "lease_break_date": "Lease Break Date", "lease_expiry_date": "Lease Expiry Date", "gia_m2": "GIA (m²)",
            "running_cost_gbp": "Total Occupancy Cost (£)", "backlog_maintenance_gbp": "Backlog (£)",
            "market_value_gbp": "Market Value (£)", "condition": "Condition",
            "workspace_capacity_fte": "Workspace Capacity",
        },
        values={
            "asset_type": {
                "Health Centre": "health_centre", "Clinic": "clinic", "Office": "office",
                "Community Hospital": "hospital", "Land": "land", "Other": "other",
            },
            "tenure": {"Freehold": "freehold", "Leasehold": "leasehold", "Licence": "licence"},
        },
        occupiers={
            "file": "nhsps_properties.xlsx", "format": "xlsx", "sheet": "Occupiers", "header_row": 1,
            "columns": {"source_id": "Property Code", "team": "Occupier", "service": "Service Line", "fte": "WTE",
                        "front_facing": "Patient Facing"},
            "values": {
                "service": {"General Practice": "health", "Community Services": "health",
                            "Health Visiting": "early_help", "Administration": "back_office", "Other": "other"},
                "front_facing": {"Patient-facing": "yes", "Non-patient": "no"},
            },
        },
        style={"id": ("NP", 5, 10000), "area": "number", "area_decimals": 1, "money": "number",
               "occupier_flag": ("Patient-facing", "Non-patient"), "fte_decimals": 2},
    ),
    Partner(
        code="CWP", name="Cheshire and Wirral Partnership NHS Foundation Trust", kind="nhs", sites=42, area=(),
        mix={"mental_health_unit": 8, "clinic": 18, "office": 10, "hospital": 2, "other": 4},
        tenure=(0.6, 0.35, 0.05), uprn_share=1.0, rural_share=0.05,
        assets={
            "file": "cwp_estate.csv", "format": "csv", "encoding": "utf-8", "header_row": 1, "area_unit": "m2",
            "money_unit": "gbp", "location": {"method": "uprn"},
        },
        columns={
            "source_id": "Site ID", "name": "Site", "address": "Address", "locality": "Town", "postcode": "Postcode",
            "uprn": "UPRN", "asset_type": "Type", "tenure": "Tenure", "lease_break_date": "Break Date",
            "lease_expiry_date": "Expiry Date", "gia_m2": "GIA m2", "running_cost_gbp": "Running Cost",
            "backlog_maintenance_gbp": "Backlog", "market_value_gbp": "Market Value",
            "condition": "Six Facet Condition", "workspace_capacity_fte": "Capacity (WTE)",
        },
        values={
            "asset_type": {
                "Inpatient Unit": "mental_health_unit", "Community Base": "clinic", "Clinic": "clinic",
                "Admin Office": "office", "Hospital": "hospital", "Other": "other",
            },
            "tenure": {"Freehold": "freehold", "Leasehold": "leasehold", "PFI": "leasehold", "Licence": "licence"},
            "condition": {"Cat A": "A", "Cat B": "B", "Cat C": "C", "Cat D": "D"},
        },
        occupiers={
            "file": "cwp_teams.csv", "format": "csv", "encoding": "utf-8", "header_row": 1,
            "columns": {"source_id": "Site ID", "team": "Team", "service": "Service Line", "fte": "WTE",
                        "front_facing": "Patient Facing"},
            "values": {"service": {
                "Community Mental Health": "health", "Inpatient": "health", "Learning Disability": "social_care",
                "Children and Young People": "early_help", "Corporate": "back_office", "Other": "other",
            }},
        },
        style={"id": ("CWP", 3), "area": "number", "area_decimals": 0, "money": "number", "flag": ("Y", "N"),
               "fte_decimals": 2},
    ),
    Partner(
        code="DWP", name="Department for Work and Pensions (Jobcentre Plus)", kind="dwp", sites=4, area=(),
        mix={"jobcentre": 3, "office": 1}, tenure=(0.0, 1.0, 0.0), uprn_share=0.5, rural_share=0.0,
        assets={
            "file": "dwp_jobcentres.csv", "format": "csv", "encoding": "utf-8", "header_row": 2,
            "date_format": "%d/%m/%Y", "area_unit": "sqft", "money_unit": "gbp",
            "location": {"method": "postcode"},
        },
        columns={
            "source_id": "Jobcentre Code", "name": "Office Name", "address": "Address", "locality": "Town",
            "postcode": "Postcode", "uprn": "UPRN", "asset_type": "Building Type", "tenure": "Occupation Type",
            "lease_break_date": "Lease Break", "lease_expiry_date": "Lease Expiry", "gia_m2": "NIA (sq ft)",
            "running_cost_gbp": "Annual Cost (£)", "workspace_capacity_fte": "Workstations",
        },
        values={
            "asset_type": {"Jobcentre": "jobcentre", "Back Office": "office"},
            "tenure": {"Leasehold": "leasehold", "MOTO": "licence", "Freehold": "freehold"},
        },
        occupiers={
            "file": "dwp_teams.csv", "format": "csv", "encoding": "utf-8", "header_row": 1,
            "columns": {"source_id": "Jobcentre Code", "team": "Team", "service": "Service", "fte": "FTE",
                        "front_facing": "Customer Facing"},
            "values": {"service": {
                "Work Coach Team": "employment", "Universal Credit": "employment",
                "Disability Employment Advisers": "employment", "Operations Support": "back_office",
            }},
        },
        style={"id": ("JCP", 3, 100), "area": "thousands", "money": "number", "flag": ("Y", "N"),
               "title": ("DWP Estates: Jobcentre Plus sites in Cheshire and Warrington, April 2026",),
               "fte_decimals": 1},
    ),
    Partner(
        code="WVHT", name="Weaver Vale Housing Trust", kind="housing", sites=75,
        area=("Northwich", "Winsford", "Frodsham"), mix=HOUSING_MIX, tenure=(0.86, 0.12, 0.02),
        uprn_share=0.8, rural_share=0.1,
        assets={
            "file": "wvht_properties.csv", "format": "csv", "encoding": "utf-8", "header_row": 1,
            "date_format": "%d/%m/%Y", "area_unit": "m2", "money_unit": "gbp",
            "location": {"method": "xy", "x": "X", "y": "Y", "crs": schema.BNG},
        },
        columns={
            "source_id": "Ref", "name": "Scheme Name", "address": "Address", "locality": "Town",
            "postcode": "Postcode", "uprn": "UPRN", "asset_type": "Property Use", "tenure": "Tenure",
            "lease_break_date": "Break", "lease_expiry_date": "Expiry", "gia_m2": "Floor Area m2",
            "running_cost_gbp": "Running Cost", "backlog_maintenance_gbp": "Backlog", "market_value_gbp": "Valuation",
            "condition": "Condition", "sensitive": "Confidential",
        },
        values={
            "asset_type": {
                "Housing Office": "housing_office", "Community Room": "community_centre",
                "Community Centre": "community_centre", "Sheltered Scheme": "sheltered_housing",
                "Refuge": "refuge", "Office": "office", "Depot": "depot", "Land": "land", "Garages": "other",
            },
            "tenure": {"Owned": "freehold", "Leased": "leasehold", "Licence": "licence"},
            "condition": {"Good": "A", "Average": "B", "Poor": "C", "Very Poor": "D"},
        },
        occupiers={
            "file": "wvht_teams.csv", "format": "csv", "encoding": "utf-8", "header_row": 1,
            "columns": {"source_id": "Ref", "team": "Team", "service": "Service", "fte": "FTE",
                        "front_facing": "Public Facing"},
            "values": {"service": {
                "Neighbourhoods": "housing", "Income": "housing", "Support": "social_care",
                "Refuge Support": "refuge", "Corporate": "back_office", "Community Investment": "community",
                "Repairs": "depot_operations", "Customer Hub": "customer_contact", "Family Support": "early_help",
            }},
        },
        style={"id": ("WV", 4), "area": "number", "area_decimals": 0, "money": "number", "flag": ("Yes", "No"),
               "xy_decimals": 1, "fte_decimals": 1},
    ),
    Partner(
        code="PPHT", name="Peaks and Plains Housing Trust", kind="housing", sites=75,
        area=("Macclesfield", "Bollington", "Congleton", "Wilmslow", "Handforth", "Poynton", "Disley", "Knutsford"),
        mix=HOUSING_MIX, tenure=(0.86, 0.12, 0.02), uprn_share=0.7, rural_share=0.1,
        assets={
            "file": "ppht_assets.xlsx", "format": "xlsx", "sheet": "Assets", "header_row": 2, "area_unit": "m2",
            "money_unit": "gbp",
            "location": {"method": "xy", "x": "Lon", "y": "Lat", "crs": schema.WGS84},
        },
        columns={
            "source_id": "Asset ID", "name": "Name", "address": "Street", "locality": "Town", "postcode": "Postcode",
            "uprn": "UPRN", "asset_type": "Asset Type", "tenure": "Tenure", "lease_break_date": "Break Date",
            "lease_expiry_date": "Expiry Date", "gia_m2": "Area", "running_cost_gbp": "Running Cost",
            "market_value_gbp": "Market Value", "sensitive": "Sensitive Site",
        },
        values={
            "asset_type": {
                "Housing Office": "housing_office", "Community Centre": "community_centre",
                "Sheltered Scheme": "sheltered_housing", "Refuge": "refuge", "Office": "office",
                "Repairs Depot": "depot", "Land": "land", "Other": "other",
            },
            "tenure": {"Freehold": "freehold", "Leasehold": "leasehold", "Licence": "licence"},
        },
        occupiers={
            "file": "ppht_assets.xlsx", "format": "xlsx", "sheet": "Teams", "header_row": 1,
            "columns": {"source_id": "Asset ID", "team": "Team", "service": "Service", "fte": "FTE",
                        "front_facing": "Customer Facing"},
            "values": {"service": {
                "Housing Management": "housing", "Support & Wellbeing": "social_care", "Refuge": "refuge",
                "Central Services": "back_office", "Communities": "community", "Repairs": "depot_operations",
                "Customer Services": "customer_contact", "Family Support": "early_help",
            }},
        },
        style={"id": ("PP", 4), "area": "mixed_unit", "area_decimals": 0, "money": "number",
               "money.market_value_gbp": "suffix", "flag": ("Y", "N"), "xy_decimals": 6,
               "title": ("Peaks and Plains Housing Trust - non-housing assets",), "fte_decimals": 1},
    ),
    Partner(
        code="TORUS", name="Torus", kind="housing", sites=95, area=(WARRINGTON,),
        mix={**HOUSING_MIX, "sheltered_housing": 38, "car_park": 4}, tenure=(0.86, 0.12, 0.02),
        uprn_share=0.7, rural_share=0.08,
        assets={
            "file": "torus_assets.geojson", "format": "geojson", "area_unit": "m2", "money_unit": "gbp",
            "location": {"method": "geometry"},
        },
        columns={
            "source_id": "asset_ref", "name": "asset_name", "address": "address", "locality": "town",
            "postcode": "postcode", "uprn": "uprn", "asset_type": "use_class", "tenure": "tenure",
            "lease_break_date": "lease_break", "lease_expiry_date": "lease_expiry", "gia_m2": "floor_area_sqm",
            "running_cost_gbp": "running_cost", "market_value_gbp": "market_value", "condition": "condition",
            "sensitive": "restricted",
        },
        values={
            "asset_type": {
                "housing office": "housing_office", "community hub": "community_centre",
                "sheltered scheme": "sheltered_housing", "refuge": "refuge", "office": "office", "depot": "depot",
                "land": "land", "car park": "car_park", "other": "other",
            },
            "tenure": {"owned": "freehold", "leased": "leasehold", "licence": "licence"},
            "condition": {"good": "A", "fair": "B", "poor": "C", "very poor": "D"},
        },
        occupiers={
            "file": "torus_teams.csv", "format": "csv", "encoding": "utf-8", "header_row": 1,
            "columns": {"source_id": "asset_ref", "team": "team", "service": "service", "fte": "fte",
                        "front_facing": "front_facing"},
            "values": {"service": {
                "Neighbourhood Services": "housing", "Support": "social_care", "Refuge Services": "refuge",
                "Group Services": "back_office", "Foundation": "community", "Property Services": "depot_operations",
                "Customer Hub": "customer_contact", "Family Intervention": "early_help",
            }},
        },
        style={"id": ("T", 4), "area": "number", "area_decimals": 1, "money": "number", "flag": ("yes", "no"),
               "occupier_flag": ("yes", "no"), "fte_decimals": 1},
    ),
    Partner(
        code="CCSW", name="Cheshire College South and West", kind="college", sites=24,
        area=("Chester", "Ellesmere Port", "Crewe"),
        mix={"college": 16, "leisure_centre": 2, "office": 2, "training_centre": 2, "childrens_centre": 1,
             "car_park": 1},
        tenure=(0.9, 0.08, 0.02), uprn_share=0.6, rural_share=0.0, spread=0.3,
        assets={
            "file": "ccsw_buildings.csv", "format": "csv", "encoding": "utf-8", "header_row": 1,
            "date_format": "%d/%m/%Y", "area_unit": "m2", "money_unit": "gbp",
            "location": {"method": "xy", "x": "Easting", "y": "Northing", "crs": schema.BNG},
        },
        columns={
            "source_id": "Building Code", "name": "Building", "locality": "Campus", "postcode": "Postcode",
            "uprn": "UPRN", "asset_type": "Use", "tenure": "Tenure", "lease_break_date": "Break",
            "lease_expiry_date": "Expiry", "gia_m2": "GIA (sqm)", "running_cost_gbp": "Running Cost (£)",
            "backlog_maintenance_gbp": "Backlog (£)", "market_value_gbp": "Market Value (£)",
            "condition": "Condition", "services": "Services",
        },
        values={
            "asset_type": {
                "Teaching Block": "college", "Sports Hall": "leisure_centre", "Administration": "office",
                "Training Centre": "training_centre", "Learning Centre": "training_centre",
                "Nursery": "childrens_centre", "Car Park": "car_park",
            },
            "tenure": {"Freehold": "freehold", "Leasehold": "leasehold", "Licence": "licence"},
        },
        occupiers={
            "file": "ccsw_staff.csv", "format": "csv", "encoding": "utf-8", "header_row": 1,
            "columns": {"source_id": "Building Code", "team": "Department", "service": "Service", "fte": "FTE",
                        "front_facing": "Student Facing"},
            "values": {"service": {
                "Curriculum": "education", "Adult & Community Learning": "education", "Sport": "leisure",
                "Nursery": "early_help", "Health & Wellbeing": "health", "Corporate Services": "back_office",
                "Other": "other",
            }},
        },
        style={"id": ("B", 3), "area": "number", "area_decimals": 0, "money": "number", "flag": ("Y", "N"),
               "xy_decimals": 0, "fte_decimals": 1},
    ),
)
PARTNER_BY_CODE: dict[str, Partner] = {p.code: p for p in PARTNERS}
COUNCIL_SHARES: dict[str, float] = {"CEC": 0.62}  # of the councils' sites outside West Cheshire (rest: WBC)


@dataclass(frozen=True)
class Sharing:
    """Tenancies of one partner inside other partners' buildings (shared sites)."""

    tenant: str
    records: int  # at scale 1
    leads: tuple[str, ...]  # partners whose buildings they sit in
    lead_types: tuple[str, ...]
    asset_type: str  # the tenant's own classification of its space
    uprn_name: str  # name when the records share a UPRN
    near_name: str  # name when only the name rule joins them; contains the lead's name
    lease_share: float  # share of tenancies that are leases (the rest are licences)


_CIVIC_LEADS = ("office", "customer_contact", "library", "community_centre", "childrens_centre")
SHARED_SITES: tuple[Sharing, ...] = (
    Sharing("DWP", 14, ("CEC", "CWAC", "WBC"), ("office", "customer_contact", "library"), "jobcentre",
            "{town} Jobcentre Plus", "{town} Jobcentre Plus, {lead}", 0.5),
    Sharing("POLICE", 10, ("CEC", "CWAC", "WBC"), _CIVIC_LEADS, "office",
            "{town} Police Post", "{town} Neighbourhood Policing Team, {lead}", 0.2),
    Sharing("NHSPS", 14, ("CEC", "CWAC", "WBC"), _CIVIC_LEADS, "clinic",
            "{town} Community Clinic", "{town} Clinic, {lead}", 0.3),
    Sharing("CWP", 6, ("CEC", "CWAC", "WBC"), ("office", "community_centre", "day_centre"), "clinic",
            "{town} Community Mental Health Base", "CWP Community Team, {lead}", 0.3),
    Sharing("CWP", 2, ("NHSPS",), ("health_centre",), "clinic",
            "{town} Memory Clinic", "{town} Memory Clinic, {lead}", 0.0),
    Sharing("WVHT", 5, ("CWAC",), _CIVIC_LEADS, "housing_office",
            "Weaver Vale Housing Office {town}", "Weaver Vale Housing Drop-in, {lead}", 0.2),
    Sharing("PPHT", 5, ("CEC",), _CIVIC_LEADS, "housing_office",
            "Peaks and Plains Housing Office {town}", "Peaks and Plains Drop-in, {lead}", 0.2),
    Sharing("TORUS", 6, ("WBC",), _CIVIC_LEADS, "housing_office",
            "Torus Neighbourhood Office {town}", "Torus Neighbourhood Hub, {lead}", 0.2),
    Sharing("CCSW", 3, ("CWAC", "CEC"), ("library", "community_centre"), "training_centre",
            "{town} Adult Learning", "Adult Learning Centre, {lead}", 0.0),
)

#: Neighbouring buildings of different partners that must stay separate:
#: (partner, type, name) twice, the town and the distance between them in metres.
NEAR_MISSES: tuple[tuple[tuple[str, str, str], tuple[str, str, str], str, float], ...] = (
    (("FIRE", "fire_station", "Ellesmere Port Fire Station"),
     ("POLICE", "police_station", "Ellesmere Port Police Station"), "Ellesmere Port", 40.0),
    (("CWAC", "library", "Northwich Library"), ("NHSPS", "health_centre", "Northwich Health Centre"),
     "Northwich", 30.0),
    (("CEC", "market", "Crewe Market Hall"), ("CCSW", "college", "Crewe Campus Main Building"), "Crewe", 45.0),
    (("WBC", "car_park", "Warrington Bus Station Car Park"),
     ("TORUS", "housing_office", "Warrington Central Housing Office"), "Warrington", 35.0),
    (("CWAC", "leisure_centre", "Winsford Lifestyle Centre"), ("WVHT", "community_centre", "Winsford Community Hub"),
     "Winsford", 25.0),
)


@dataclass(frozen=True)
class Fault:
    """One deliberately faulty row: the partner, the field spoiled and the written value."""

    fault: str
    partner: str
    field: str  # canonical field, or "x"/"y"/"geometry" for coordinates
    asset_type: str
    value: str = ""  # the cell written (where a literal is needed)
    rows: int = 1


FAULTS: tuple[Fault, ...] = (
    Fault("non_numeric_area", "CEC", "gia_m2", "community_centre", "TBC"),
    Fault("bad_flag", "CEC", "listed", "library", "Locally Listed"),
    Fault("negative_cost", "CWAC", "running_cost_gbp", "depot"),
    Fault("zero_area", "WBC", "gia_m2", "office"),
    Fault("swapped_lat_lon", "POLICE", "y", "police_station"),
    Fault("outside_gb", "FIRE", "geometry", "fire_station"),
    Fault("unknown_postcode", "NHSPS", "postcode", "clinic"),
    Fault("unknown_uprn", "CWP", "uprn", "clinic"),
    Fault("bad_date", "DWP", "lease_break_date", "jobcentre", "31/02/2027"),
    Fault("duplicate_id", "WVHT", "source_id", "community_centre", rows=2),
    Fault("unknown_asset_type", "PPHT", "asset_type", "other", "Garage Block"),
    Fault("in_sea", "TORUS", "geometry", "community_centre"),
    Fault("missing_name", "CCSW", "name", "college", ""),
)
#: An occupier row pointing at a site id the partner does not list.
UNKNOWN_SITE: tuple[str, str] = ("CWAC", "P99999")

#: Running costs per m² put far outside their type's range (warnings, not rejects).
OUTLIERS: tuple[tuple[str, str, float], ...] = (
    ("CEC", "industrial_unit", 2.6), ("NHSPS", "clinic", 0.25), ("TORUS", "community_centre", 2.3),
    ("POLICE", "office", 0.3),
)

_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_CONDITIONS = np.array(["A", "B", "C", "D"], dtype=object)
_CONDITION_P = (0.2, 0.45, 0.25, 0.1)
_CONDITION_BACKLOG = {"A": 0.2, "B": 1.0, "C": 2.2, "D": 4.0}
_UPRN_BASE = {CHESHIRE_EAST: 100010000000, WARRINGTON: 100011000000, CHESHIRE_WEST: 100012000000}

# ==========================================================================
# Public API
# ==========================================================================


def generate(out_dir: Path, seed: int = SEED, scale: float = 1.0) -> dict:
    """Generate the synthetic sample and write it into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Directory to write into (created if missing). Existing sample files
        are overwritten.
    seed : int
        Seed of the random generator; the same seed gives byte-identical
        CSV, GeoJSON, TOML, Markdown and xlsx files (the GeoPackage differs
        only in GDAL's internal timestamps).
    scale : float
        Multiplies the number of assets, tenancies and teams (25 gives about
        100,000 assets, for benchmarks). The planted faults and near misses
        are not scaled.

    Returns
    -------
    dict
        Counts and calibrated totals of the distinct sites: ``assets``,
        ``records``, ``shared_records``, ``faulty_rows``, ``occupiers``,
        ``fte``, ``market_value_gbp``, ``running_cost_gbp``, ``cwac_assets``,
        ``cwac_running_cost_gbp``, ``cwac_offices``,
        ``cwac_office_running_cost_gbp`` and ``cwac_office_floor_share``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    towns = _town_table()

    recs = _draw_sites(rng, towns, scale)
    _place(rng, recs, towns, rounds=30 if scale <= 2 else 3)
    _name_sites(rng, recs)
    _draw_attributes(rng, recs)
    _calibrate(recs, scale)
    recs, merges = _add_tenants(rng, recs, towns, scale)
    pc_lookup, uprn_lookup = _assign_identifiers(rng, recs)
    occupiers = _draw_occupiers(rng, recs)

    rejects = _write_partner_files(rng, out_dir, recs, occupiers)
    _write_csv(out_dir / REGISTER["postcode_lookup"], list(pc_lookup.columns), pc_lookup.values.tolist())
    _write_csv(out_dir / REGISTER["uprn_lookup"], list(uprn_lookup.columns), uprn_lookup.values.tolist())
    (out_dir / "partners.toml").write_text(_partners_toml(), encoding="utf-8", newline="\n")
    merges_df = _merge_manifest(recs, merges)
    near_df = _near_miss_manifest(recs)
    _write_csv(out_dir / "expected_rejects.csv", list(rejects.columns), rejects.values.tolist())
    _write_csv(out_dir / "expected_merges.csv", list(merges_df.columns), merges_df.values.tolist())
    _write_csv(out_dir / "expected_near_misses.csv", list(near_df.columns), near_df.values.tolist())

    summary = _summary(recs, occupiers, rejects)
    (out_dir / "README.md").write_text(_readme(summary, rejects, merges_df, near_df, recs, seed, scale),
                                       encoding="utf-8", newline="\n")
    return summary


def generate_zones(out_dir: Path, seed: int = SEED, scale: float = 1.0) -> dict:
    """Generate the synthetic demand zones and write them into ``out_dir``.

    The zones stand in for LSOAs: about 600 polygons tiling the sub-region,
    each with a population and a population-weighted centroid. Their seed
    points are drawn around the real towns, as densely as the towns' weights
    say, so a town zone holds about ``ZONE_POPULATION`` residents; fewer, larger
    rural zones cover the countryside. Each zone is the Voronoi cell of its
    seed point clipped to the sub-region (the convex hull of the towns, and
    their authorities' land up to ``ZONE_REACH_M`` beyond it), and belongs to
    the authority of its seed's town. The populations add up exactly to each
    authority's Census 2021 total (``CENSUS_2021_POPULATION``).

    The draws use their own random stream (``default_rng([seed, ZONE_STREAM])``),
    so generating zones never changes the assets of :func:`generate`.

    Parameters
    ----------
    out_dir : Path
        Directory to write into (created if missing): ``zones.gpkg`` (layer
        ``zones``) and ``README.md`` are overwritten.
    seed : int
        Seed of the sample; the same seed gives the same zones (the
        GeoPackage differs only in GDAL's internal timestamps).
    scale : float
        Multiplies the number of zones (10 gives about 6,000, for
        benchmarks): a zone holds ``ZONE_POPULATION / scale`` residents
        typically, within ``ZONE_POPULATION_RANGE / scale``, and seeds lie
        ``1 / sqrt(scale)`` times as far apart. The populations still add up to
        the Census 2021 totals, and scale 1 gives the committed zones.

    Returns
    -------
    dict
        ``zones``, ``urban_zones``, ``rural_zones``, ``population``, per
        authority ``zones_<code>`` and ``population_<code>``, the smallest,
        median and largest zone population (``population_min``,
        ``population_median``, ``population_max``) and the area covered,
        ``area_km2``.

    Notes
    -----
    The layer (EPSG:27700, coordinates rounded to 1 m) has columns ``zone_id``
    (str, authority code + ``Z`` + 4 digits), ``name`` (town and number),
    ``authority`` (ONS code), ``population`` (int, residents), ``rural``
    (bool), ``pwc_easting`` and ``pwc_northing`` (m, the population-weighted
    centroid: the zone's seed point, inside its polygon) and the polygon.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, ZONE_STREAM])
    towns = _town_table()
    region = _zone_region(towns)
    if not scale > 0:
        raise ValueError(f"scale must be positive, not {scale!r}")
    seeds = _zone_seeds(rng, towns, region, scale)
    seeds["population"] = _zone_populations(rng, seeds, towns, scale)
    zones = _zone_frame(seeds, towns, region)
    path = out_dir / "zones.gpkg"
    if path.exists():
        path.unlink()
    zones.to_file(path, layer="zones", driver="GPKG", engine="pyogrio")
    summary = _zone_summary(zones)
    (out_dir / "README.md").write_text(_zone_readme(summary, zones, seed, scale), encoding="utf-8", newline="\n")
    return summary


def _print_summary(summary: dict) -> None:
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        shown = f"{value:,.3f}" if isinstance(value, float) and value < 10 else (
            f"{value:,.0f}" if isinstance(value, (int, float)) else value)
        print(f"{key:<{width}}  {shown}")


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m estate.sample --out data/assets [--demand-out data/demand] [--seed N] [--scale X]
    [--zone-scale Z]``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status, 0 on success.
    """
    parser = argparse.ArgumentParser(prog="python -m estate.sample",
                                     description="Write the synthetic Cheshire and Warrington sample estate.")
    parser.add_argument("--out", type=Path, default=Path("data/assets"), help="output directory")
    parser.add_argument("--demand-out", type=Path, default=None,
                        help="also write the synthetic demand zones (zones.gpkg) into this directory")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of assets (default 1)")
    parser.add_argument("--zone-scale", type=float, default=1.0,
                        help="multiply the number of demand zones (default 1)")
    args = parser.parse_args(argv)
    _print_summary(generate(args.out, seed=args.seed, scale=args.scale))
    print(f"written to {args.out}")
    if args.demand_out is not None:
        _print_summary(generate_zones(args.demand_out, seed=args.seed, scale=args.zone_scale))
        print(f"written to {args.demand_out}")
    return 0


# ==========================================================================
# Sites: how many, of what, where
# ==========================================================================


def _town_table() -> pd.DataFrame:
    towns = pd.DataFrame([t.__dict__ for t in TOWNS])
    towns["x_km"] = towns.lon * KM_PER_DEG_LON
    towns["y_km"] = towns.lat * KM_PER_DEG_LAT
    return towns


def _area_towns(partner: Partner, towns: pd.DataFrame) -> np.ndarray:
    """Indices of the towns a partner holds sites in."""
    if not partner.area:
        return np.arange(len(towns))
    mask = towns.authority.isin(partner.area) | towns.name.isin(partner.area)
    return np.flatnonzero(mask.to_numpy())


def _apportion(weights: dict[str, float], n: int) -> np.ndarray:
    """Split ``n`` over the keys in proportion to the weights (largest remainder)."""
    keys = list(weights)
    if n <= 0:
        return np.array([], dtype=object)
    w = np.array([weights[k] for k in keys], dtype=float)
    quota = w / w.sum() * n
    counts = np.floor(quota).astype(int)
    order = np.argsort(-(quota - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return np.repeat(np.array(keys, dtype=object), counts)


def _choose_towns(rng: np.random.Generator, allowed: np.ndarray, towns: pd.DataFrame,
                  types: np.ndarray) -> np.ndarray:
    """Draw a town per site by weight; civic types go one to a town first."""
    w = towns.weight.to_numpy()[allowed]
    w = w / w.sum()
    out = np.empty(len(types), dtype=int)
    for t in sorted(set(types)):
        sel = np.flatnonzero(types == t)
        k = min(len(sel), len(allowed)) if t in CIVIC_TYPES else 0
        first = rng.choice(allowed, size=k, replace=False, p=w) if k else np.array([], dtype=int)
        rest = rng.choice(allowed, size=len(sel) - k, p=w)
        out[sel] = np.concatenate([first, rest])
    return out


def _partner_frame(rng: np.random.Generator, partner: Partner, types: np.ndarray, towns: pd.DataFrame,
                   role: str = "site") -> pd.DataFrame:
    town = _choose_towns(rng, _area_towns(partner, towns), towns, types)
    return pd.DataFrame({
        "partner": partner.code, "kind": partner.kind, "role": role, "asset_type": types.astype(object),
        "town": town, "rural": rng.random(len(types)) < partner.rural_share,
        "name": pd.Series([None] * len(types), dtype=object), "pair": -1, "pair_member": -1,
        "fault": "", "fault_group": -1,
    })


def _fixed_frame(partner: Partner, towns: pd.DataFrame) -> pd.DataFrame:
    """The near-miss buildings of a partner (always present, never moved)."""
    rows = []
    for pair, (a, b, town, _) in enumerate(NEAR_MISSES):
        for member, (code, atype, name) in enumerate((a, b)):
            if code == partner.code:
                rows.append({"partner": code, "kind": partner.kind, "role": "site", "asset_type": atype,
                             "town": int(np.flatnonzero(towns.name == town)[0]), "rural": False, "name": name,
                             "pair": pair, "pair_member": member, "fault": "", "fault_group": -1})
    frame = pd.DataFrame(rows, columns=["partner", "kind", "role", "asset_type", "town", "rural", "name", "pair",
                                        "pair_member", "fault", "fault_group"])
    return frame.astype({"town": int, "rural": bool, "pair": int, "pair_member": int, "fault_group": int,
                         "name": object})


def _draw_sites(rng: np.random.Generator, towns: pd.DataFrame, scale: float) -> pd.DataFrame:
    """Distinct sites of every partner, and the faulty rows, before placement."""
    authority = towns.authority.to_numpy()
    frames = []
    for p in PARTNERS:
        if p.kind == "council":
            continue
        fixed = _fixed_frame(p, towns)
        types = _apportion(p.mix, round(p.sites * scale) - len(fixed))
        frames.append(pd.concat([fixed, _partner_frame(rng, p, rng.permutation(types), towns)],
                                ignore_index=True))
    others = pd.concat(frames, ignore_index=True)
    in_west = authority[others.town.to_numpy()] == CHESHIRE_WEST

    # The councils fill up to the calibrated counts: West Cheshire to 1,500
    # sites and 60 offices (all partners together), the rest to 4,150.
    n_total = round(TARGETS["assets"] * scale)
    n_west = round(TARGETS["cwac_assets"] * scale) - int(in_west.sum())
    n_west_offices = round(TARGETS["cwac_offices"] * scale) - int((in_west & (others.asset_type == "office")).sum())
    n_rest = n_total - len(others) - n_west
    councils = []
    for p in PARTNERS:
        if p.kind != "council":
            continue
        fixed = _fixed_frame(p, towns)
        if p.area == (CHESHIRE_WEST,):
            mix = {k: v for k, v in p.mix.items() if k != "office"}
            types = np.concatenate([np.repeat(np.array(["office"], dtype=object), n_west_offices),
                                    _apportion(mix, n_west - n_west_offices - len(fixed))])
        else:
            n_cec = round(n_rest * COUNCIL_SHARES["CEC"])
            types = _apportion(p.mix, (n_cec if p.code == "CEC" else n_rest - n_cec) - len(fixed))
        councils.append(pd.concat([fixed, _partner_frame(rng, p, rng.permutation(types), towns)],
                                  ignore_index=True))

    faults = []
    for group, f in enumerate(FAULTS):
        p = PARTNER_BY_CODE[f.partner]
        frame = _partner_frame(rng, p, np.array([f.asset_type] * f.rows, dtype=object), towns, role="fault")
        frame["fault"] = f.fault
        frame["fault_group"] = group
        frame["rural"] = False
        faults.append(frame)

    order = {p.code: i for i, p in enumerate(PARTNERS)}
    recs = pd.concat(councils + [others] + faults, ignore_index=True)
    recs["porder"] = recs.partner.map(order)
    recs = recs.sort_values(["porder"], kind="stable").reset_index(drop=True)
    recs["authority"] = authority[recs.town.to_numpy()]
    recs["locality"] = towns.name.to_numpy()[recs.town.to_numpy()]
    return recs


def _valid_points(lat: np.ndarray, lon: np.ndarray, town: np.ndarray, towns: pd.DataFrame,
                  places: cKDTree, place_authority: np.ndarray, max_km: np.ndarray) -> np.ndarray:
    """On land (with a margin) and nearer to a town of the site's own authority than to anywhere else."""
    ok = globe.is_land(lat, lon)
    for dlat, dlon in ((0.005, 0.0), (-0.005, 0.0), (0.0, 0.008), (0.0, -0.008)):
        ok &= globe.is_land(lat + dlat, lon + dlon)
    _, nearest = places.query(np.c_[lon * KM_PER_DEG_LON, lat * KM_PER_DEG_LAT])
    ok &= place_authority[nearest] == towns.authority.to_numpy()[town]
    dx = lon * KM_PER_DEG_LON - towns.x_km.to_numpy()[town]
    dy = lat * KM_PER_DEG_LAT - towns.y_km.to_numpy()[town]
    return ok & (np.hypot(dx, dy) <= max_km)


def _scatter(rng: np.random.Generator, recs: pd.DataFrame, idx: np.ndarray, towns: pd.DataFrame) -> None:
    """Draw positions for the records ``idx`` around their towns, resampling invalid ones."""
    places_xy = np.r_[towns[["x_km", "y_km"]].to_numpy(),
                      np.array([[lon * KM_PER_DEG_LON, lat * KM_PER_DEG_LAT] for _, lat, lon in NEIGHBOURING_PLACES])]
    places = cKDTree(places_xy)
    place_authority = np.r_[towns.authority.to_numpy(), np.array([""] * len(NEIGHBOURING_PLACES))].astype(object)
    spread = np.array([PARTNER_BY_CODE[c].spread for c in recs.partner.to_numpy()[idx]])
    town = recs.town.to_numpy()[idx]
    rural = recs.rural.to_numpy()[idx]
    urban_sd = towns.spread_km.to_numpy()[town] * spread
    sd = np.where(rural, np.maximum(3.0, 2.5 * towns.spread_km.to_numpy()[town]), urban_sd)
    max_km = np.where(rural, 8.0, 3.0 * sd)
    lat = np.full(len(idx), np.nan)
    lon = np.full(len(idx), np.nan)
    todo = np.arange(len(idx))
    for _ in range(200):
        if not todo.size:
            break
        dx, dy = rng.normal(0.0, 1.0, (2, todo.size)) * sd[todo]
        la = towns.lat.to_numpy()[town[todo]] + dy / KM_PER_DEG_LAT
        lo = towns.lon.to_numpy()[town[todo]] + dx / KM_PER_DEG_LON
        ok = _valid_points(la, lo, town[todo], towns, places, place_authority, max_km[todo])
        lat[todo[ok]], lon[todo[ok]] = la[ok], lo[ok]
        todo = todo[~ok]
    if todo.size:  # practically never: fall back to the town centre
        lat[todo] = towns.lat.to_numpy()[town[todo]]
        lon[todo] = towns.lon.to_numpy()[town[todo]]
    recs.loc[idx, "lat"] = lat
    recs.loc[idx, "lon"] = lon


def _offset(lat: np.ndarray, lon: np.ndarray, dist_m: np.ndarray, bearing: np.ndarray) -> tuple[np.ndarray,
                                                                                                  np.ndarray]:
    dy = dist_m * np.cos(bearing) / 1000.0
    dx = dist_m * np.sin(bearing) / 1000.0
    return lat + dy / KM_PER_DEG_LAT, lon + dx / (KM_PER_DEG_LAT * np.cos(np.radians(lat)))


def _update_bng(recs: pd.DataFrame, idx: np.ndarray | None = None) -> None:
    idx = recs.index.to_numpy() if idx is None else idx
    x, y = _TO_BNG.transform(recs.lon.to_numpy()[idx], recs.lat.to_numpy()[idx])
    recs.loc[idx, "x"] = x
    recs.loc[idx, "y"] = y


def _place(rng: np.random.Generator, recs: pd.DataFrame, towns: pd.DataFrame, rounds: int) -> None:
    """Scatter every site, pin the near-miss pairs and keep other partners' sites apart."""
    recs["lat"] = np.nan
    recs["lon"] = np.nan
    member = recs.pair_member.to_numpy()
    free = np.flatnonzero(member != 1)
    _scatter(rng, recs, free, towns)
    for pair, (_, _, _, dist) in enumerate(NEAR_MISSES):
        a = np.flatnonzero((recs.pair == pair).to_numpy() & (member == 0))
        b = np.flatnonzero((recs.pair == pair).to_numpy() & (member == 1))
        for _ in range(50):
            la, lo = _offset(recs.lat.to_numpy()[a], recs.lon.to_numpy()[a], np.array([dist]),
                             rng.uniform(0, 2 * np.pi, 1))
            if globe.is_land(la, lo).all():
                break
        recs.loc[b, "lat"] = la
        recs.loc[b, "lon"] = lo
    _update_bng(recs)
    pinned = member >= 0
    partner = recs.porder.to_numpy()
    pair = recs.pair.to_numpy()
    for _ in range(rounds):
        xy = recs[["x", "y"]].to_numpy()
        pairs = cKDTree(xy).query_pairs(MIN_SEPARATION_M, output_type="ndarray")
        if not len(pairs):
            break
        i, j = pairs[:, 0], pairs[:, 1]
        clash = (partner[i] != partner[j]) & ~((pair[i] >= 0) & (pair[i] == pair[j]))
        i, j = i[clash], j[clash]
        if not i.size:
            break
        move = np.unique(np.where(pinned[j], i, j))
        move = move[~pinned[move]]
        _scatter(rng, recs, move, towns)
        _update_bng(recs, move)


def _fill(template: str, rng: np.random.Generator, town: str, street: str) -> str:
    return template.format(town=town, street=street, house=HOUSES[rng.integers(len(HOUSES))],
                           n=int(rng.integers(1, 40)), letter="ABCDEFGHJK"[rng.integers(10)])


def _name_sites(rng: np.random.Generator, recs: pd.DataFrame) -> None:
    """Give every site a name and an address."""
    names = recs.name.to_numpy(dtype=object).copy()
    used: set[tuple[str, str, str]] = {
        (p, t, loc) for p, t, loc, n in zip(recs.partner, recs.asset_type, recs.locality, names) if not _blank(n)}
    streets = rng.integers(len(STREETS), size=len(recs))
    numbers = rng.integers(1, 240, size=len(recs))
    address = np.empty(len(recs), dtype=object)
    for i, (p, k, t, loc, rural) in enumerate(zip(recs.partner, recs.kind, recs.asset_type, recs.locality,
                                                  recs.rural)):
        if _blank(names[i]):
            key = (p, t, loc)
            town_name = t in TOWN_NAMES and key not in used and not rural
            if town_name and (t != "office" or (k == "council" and rng.random() < 0.4)):
                names[i] = TOWN_NAMES[t].format(town=loc)
                used.add(key)
            else:
                options = KIND_NAMES.get((k, t), OTHER_NAMES[t])
                names[i] = _fill(options[rng.integers(len(options))], rng, loc, STREETS[streets[i]])
        street = STREETS[streets[i]]
        address[i] = f"Land off {street}" if t == "land" else (
            street if t == "car_park" else f"{numbers[i]} {street}")
    recs["name"] = names
    recs["address"] = address


# ==========================================================================
# Attributes and calibration
# ==========================================================================


def _profile(recs: pd.DataFrame, attr: str) -> np.ndarray:
    return recs.asset_type.map({t: getattr(p, attr) for t, p in TYPE_PROFILES.items()}).to_numpy()


def _date_after(base: np.ndarray, lo_days: int, hi_days: int, rng: np.random.Generator) -> np.ndarray:
    return base + rng.integers(lo_days, hi_days, size=len(base)).astype("timedelta64[D]")


def _draw_attributes(rng: np.random.Generator, recs: pd.DataFrame) -> None:
    """Draw floor area, tenure, dates, condition, flags and per-m² rates."""
    n = len(recs)
    atype = recs.asset_type.to_numpy()
    med, sig = _profile(recs, "gia_m2").astype(float), _profile(recs, "gia_sigma").astype(float)
    gia = np.where(med > 0, np.clip(med * np.exp(sig * rng.normal(size=n)), 25, 40000), 0.0)
    recs["gia_m2"] = np.round(gia, 0)

    shares = np.array([PARTNER_BY_CODE[c].tenure for c in recs.partner])
    u = rng.random(n)
    tenure = np.where(u < shares[:, 0], "freehold", np.where(u < shares[:, 0] + shares[:, 1], "leasehold",
                                                              "licence")).astype(object)
    tenure[atype == "refuge"] = "freehold"
    recs["tenure"] = tenure
    _draw_lease_dates(rng, recs)

    cond = rng.choice(_CONDITIONS, size=n, p=_CONDITION_P)
    cond[(rng.random(n) < 0.05) | np.isin(atype, list(schema.NO_FLOOR_SPACE_TYPES))] = None
    recs["condition"] = cond

    cost_lo = np.array([TYPE_PROFILES[t].cost[0] for t in atype])
    cost_hi = np.array([TYPE_PROFILES[t].cost[1] for t in atype])
    recs["cost_rate"] = rng.uniform(cost_lo, cost_hi)
    recs["value_rate"] = _profile(recs, "value").astype(float) * np.exp(0.35 * rng.normal(size=n))
    cond_factor = np.array([_CONDITION_BACKLOG.get(c, 1.0) if c else 1.0 for c in cond])
    recs["backlog_rate"] = _profile(recs, "backlog").astype(float) * cond_factor * np.exp(0.5 * rng.normal(size=n))
    recs["desk_rate"] = rng.uniform(0.85, 1.15, size=n)
    valued = np.array(["market_value_gbp" in PARTNER_BY_CODE[c].columns for c in recs.partner])
    recs["value_held"] = valued & ((tenure == "freehold") | ((tenure == "leasehold") & (rng.random(n) < 0.35)))

    heritage = np.isin(atype, list(HERITAGE_TYPES))
    recs["listed"] = rng.random(n) < np.where(heritage, 0.08, 0.01)
    recs["statutory"] = np.isin(atype, list(STATUTORY_TYPES))
    recs["must_keep"] = recs.statutory | recs.listed | (rng.random(n) < 0.12)
    recs["sensitive"] = atype == "refuge"
    recs["outlier"] = False
    for code, t, factor in OUTLIERS:
        cand = np.flatnonzero((recs.partner == code).to_numpy() & (atype == t) & (recs.role == "site").to_numpy()
                              & (recs.pair < 0).to_numpy())
        if cand.size:
            i = cand[0]
            lo, hi = schema.RUNNING_COST_PER_M2_RANGE[t]
            recs.loc[i, "cost_rate"] = hi * factor if factor > 1 else lo * factor
            recs.loc[i, "outlier"] = True

    # The planted faults that live in the values themselves.
    fault = recs.fault.to_numpy()
    recs.loc[fault == "zero_area", "gia_m2"] = 0.0
    recs.loc[fault == "bad_date", "tenure"] = "leasehold"
    _draw_lease_dates(rng, recs, fault == "bad_date")
    recs.loc[fault == "missing_name", "name"] = ""


def _draw_lease_dates(rng: np.random.Generator, recs: pd.DataFrame, only: np.ndarray | None = None) -> None:
    """Break and expiry dates for leaseholds: most have a break, many inside ten years."""
    n = len(recs)
    lease = (recs.tenure == "leasehold").to_numpy()
    has_break = lease & (rng.random(n) < 0.7)
    if only is not None:
        has_break = only & lease
    base = np.full(n, np.datetime64(BASE_DATE, "D"))
    brk = _date_after(base, 60, 365 * 14, rng)
    exp_after_break = _date_after(brk, 365, 365 * 12, rng)
    exp_only = _date_after(base, 400, 365 * 25, rng)
    nat = np.datetime64("NaT", "D")
    brk = np.where(has_break, brk, nat)
    exp = np.where(has_break, exp_after_break, np.where(lease, exp_only, nat))
    if only is None:
        recs["lease_break_date"] = brk
        recs["lease_expiry_date"] = exp
    else:
        recs.loc[only, "lease_break_date"] = brk[only]
        recs.loc[only, "lease_expiry_date"] = exp[only]


def _rate_bounds(atype: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ranges = schema.RUNNING_COST_PER_M2_RANGE
    lo = np.array([ranges[t][0] * 1.05 if t in ranges else -np.inf for t in atype])
    hi = np.array([ranges[t][1] * 0.95 if t in ranges else np.inf for t in atype])
    return lo, hi


def _calibrate(recs: pd.DataFrame, scale: float) -> None:
    """Rescale floor areas, running costs and values of the distinct sites to the targets."""
    site = (recs.role == "site").to_numpy()
    west = site & (recs.authority == CHESHIRE_WEST).to_numpy()
    office = (recs.asset_type == "office").to_numpy()
    gia = recs.gia_m2.to_numpy().copy()

    share = TARGETS["cwac_office_floor_share"]
    o, r = gia[west & office].sum(), gia[west & ~office].sum()
    gia[west & office] = np.round(gia[west & office] * share * r / ((1 - share) * o), 0)
    recs["gia_m2"] = gia
    recs.attrs["office_area_factor"] = share * r / ((1 - share) * o)

    floor = gia > 0
    rate = recs.cost_rate.to_numpy().copy()
    lo, hi = _rate_bounds(recs.asset_type.to_numpy())
    keep = ~recs.outlier.to_numpy()
    groups = (
        (west & office, TARGETS["cwac_office_running_cost_gbp"] * scale),
        (west & ~office, (TARGETS["cwac_running_cost_gbp"] - TARGETS["cwac_office_running_cost_gbp"]) * scale),
        (site & ~west, (TARGETS["running_cost_gbp"] - TARGETS["cwac_running_cost_gbp"]) * scale),
    )
    factors = []
    for it in range(8):
        for mask, target in groups:
            cost = np.where(floor, rate * gia, rate)
            f = target / cost[mask].sum()
            rate[mask] *= f
            if it == 0:
                factors.append(f)
        if it < 7:
            clip = keep & floor
            rate[clip] = np.clip(rate[clip], lo[clip], hi[clip])
    recs.attrs["cost_factors"] = factors
    cost = np.where(floor, rate * gia, rate)
    recs["cost_rate"] = rate
    recs["running_cost_gbp"] = np.round(cost, 0)

    value = np.where(floor, recs.value_rate * gia, recs.value_rate)
    value = np.where(recs.tenure == "leasehold", value * 0.4, value)
    f = TARGETS["market_value_gbp"] * scale / value[site & recs.value_held.to_numpy()].sum()
    recs.attrs["value_factor"] = f
    recs["market_value_gbp"] = np.where(recs.value_held, np.round(value * f, -2), np.nan)
    backlog = np.where(floor, recs.backlog_rate * gia, np.nan)
    recs["backlog_maintenance_gbp"] = np.round(backlog, -2)
    desk = _profile(recs, "desk_m2").astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        recs["workspace_capacity_fte"] = np.where(desk > 0, np.round(gia / desk * recs.desk_rate), np.nan)


# ==========================================================================
# Shared sites
# ==========================================================================


def _add_tenants(rng: np.random.Generator, recs: pd.DataFrame, towns: pd.DataFrame,
                 scale: float) -> tuple[pd.DataFrame, list[tuple[int, int, str]]]:
    """Add the other partners' records of shared sites; return (records, [(lead, tenant, rule)])."""
    site = (recs.role == "site").to_numpy()
    xy = recs[["x", "y"]].to_numpy()
    dist, _ = cKDTree(xy[site]).query(xy, k=2)
    isolated = dist[:, 1] >= 100.0
    eligible = site & (recs.pair < 0).to_numpy() & ~recs.outlier.to_numpy() & (recs.gia_m2 >= 250).to_numpy() \
        & (recs.tenure == "freehold").to_numpy()
    state = {"uprn": set(), "no_uprn": set(), "tenants": {}}
    rows, merges = [], []
    next_index = len(recs)
    for share in SHARED_SITES:
        tenant = PARTNER_BY_CODE[share.tenant]
        area_towns = set(_area_towns(tenant, towns))
        cand = np.flatnonzero(eligible & recs.partner.isin(share.leads).to_numpy()
                              & recs.asset_type.isin(share.lead_types).to_numpy()
                              & recs.town.isin(area_towns).to_numpy())
        cand = rng.permutation(cand)
        cand = cand[np.argsort(~isolated[cand], kind="stable")]  # isolated buildings first
        leads = _lead_order(rng, cand, state)
        n = round(share.records * scale)
        for k in range(n):
            rule = "uprn" if k % 2 == 0 else "near_name"
            needs_no_uprn = rule == "near_name" and tenant.location_method == "uprn"
            lead = _pick_lead(leads, share.tenant, rule, needs_no_uprn, state)
            if lead is None:
                break
            row = recs.loc[lead].to_dict()
            town = row["locality"]
            row.update(
                partner=tenant.code, kind=tenant.kind, role="tenant", lead=lead, rule=rule,
                asset_type=share.asset_type, rural=False, pair=-1, pair_member=-1, fault="", fault_group=-1,
                outlier=False, listed=False, statutory=False, must_keep=False, sensitive=False,
                name=(share.uprn_name if rule == "uprn" else share.near_name).format(town=town, lead=row["name"]),
            )
            gia = max(40.0, round(row["gia_m2"] * rng.uniform(0.08, 0.3)))
            lo, hi = TYPE_PROFILES[share.asset_type].cost
            row.update(gia_m2=gia, cost_rate=rng.uniform(lo, hi), value_held=False, market_value_gbp=np.nan,
                       backlog_maintenance_gbp=np.nan, tenure="leasehold" if rng.random() < share.lease_share
                       else "licence")
            row["running_cost_gbp"] = round(gia * row["cost_rate"])
            desk = TYPE_PROFILES[share.asset_type].desk_m2
            row["workspace_capacity_fte"] = round(gia / desk) if desk else np.nan
            jitter = rng.uniform(*NEAR_NAME_JITTER_M) if rule == "near_name" else rng.uniform(0.0, 30.0)
            if tenant.location_method == "postcode" or (tenant.location_method == "uprn" and rule == "uprn"):
                jitter = 0.0  # located by the lead's postcode centroid or the shared UPRN
            la, lo_ = _offset(np.array([row["lat"]]), np.array([row["lon"]]), np.array([jitter]),
                              rng.uniform(0, 2 * np.pi, 1))
            row["lat"], row["lon"] = float(la[0]), float(lo_[0])
            rows.append(row)
            merges.append((lead, next_index, rule))
            next_index += 1
    tenants = pd.DataFrame(rows)
    if len(tenants):
        _draw_lease_dates(rng, tenants)
    recs = pd.concat([recs, tenants], ignore_index=True)
    recs["lead"] = recs["lead"].fillna(-1).astype(int) if "lead" in recs else -1
    recs["rule"] = recs["rule"].fillna("") if "rule" in recs else ""
    recs["porder"] = recs.partner.map({p.code: i for i, p in enumerate(PARTNERS)})
    recs["lead_uprn"] = ""
    recs.loc[list(state["uprn"]), "lead_uprn"] = "yes"
    recs.loc[list(state["no_uprn"]), "lead_uprn"] = "no"
    _update_bng(recs)
    return recs, merges


def _lead_order(rng: np.random.Generator, cand: np.ndarray, state: dict) -> Iterator[int]:
    """Candidate leads: buildings without tenants first (a shared one is taken a quarter of the time, making
    hubs), then any."""
    for c in cand:
        if not state["tenants"].get(int(c)) or rng.random() < 0.25:
            yield int(c)
    yield from (int(c) for c in cand)


def _pick_lead(leads: Iterator[int], tenant: str, rule: str, needs_no_uprn: bool, state: dict) -> int | None:
    """The next lead building for a tenancy, honouring the UPRN constraints of earlier picks."""
    for lead in leads:
        tenants = state["tenants"].setdefault(lead, set())
        if tenant in tenants or len(tenants) >= 3:
            continue
        if rule == "uprn" and lead in state["no_uprn"]:
            continue
        if needs_no_uprn and (lead in state["uprn"] or tenants):
            continue
        if lead in state["no_uprn"] and state["tenants"][lead]:
            continue  # keep buildings whose UPRN is withheld to one tenant
        tenants.add(tenant)
        if rule == "uprn":
            state["uprn"].add(lead)
        if needs_no_uprn:
            state["no_uprn"].add(lead)
        return lead
    return None


# ==========================================================================
# Identifiers: postcodes, UPRNs, source ids
# ==========================================================================


def _inward(i: np.ndarray) -> np.ndarray:
    letters = np.array(list(_INWARD_LETTERS), dtype=object)
    return (i // 400).astype(str).astype(object) + letters[(i // 20) % 20] + letters[i % 20]


def _assign_identifiers(rng: np.random.Generator, recs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Postcodes, UPRNs, fallback rows and source ids; returns the two lookups."""
    n = len(recs)
    own = (recs.role != "tenant").to_numpy()
    lead = recs.lead.to_numpy()
    method = np.array([PARTNER_BY_CODE[c].location_method for c in recs.partner])

    # CEC rows without coordinates, geocoded by postcode (never leads or near misses).
    no_xy = np.zeros(n, dtype=bool)
    for p in PARTNERS:
        share = p.style.get("no_xy_share", 0.0)
        if share:
            is_lead = np.isin(np.arange(n), lead[lead >= 0])
            cand = (recs.partner == p.code).to_numpy() & (recs.role == "site").to_numpy() & (recs.pair < 0).to_numpy() \
                & ~is_lead
            no_xy |= cand & (rng.random(n) < share)
    recs["no_xy"] = no_xy

    # Postcodes: one per distinct site, from the real districts of its town.
    districts = np.empty(n, dtype=object)
    town, pick = recs.town.to_numpy(), rng.random(n)
    for t, spec in enumerate(TOWNS):
        sel = town == t
        districts[sel] = np.array(spec.districts, dtype=object)[(pick[sel] * len(spec.districts)).astype(int)]
    postcode = np.empty(n, dtype=object)
    for d in sorted(set(districts[own])):
        sel = np.flatnonzero(own & (districts == d))
        postcode[sel] = d + " " + _inward(rng.permutation(4000)[np.arange(len(sel)) % 4000])
    tenant = ~own
    postcode[tenant] = postcode[lead[tenant]]
    recs["postcode"] = postcode

    # Postcode centroids: exact where the postcode locates the site, else within ~100 m.
    exact = (method == "postcode") | no_xy | np.isin(np.arange(n), lead[lead >= 0]) | (recs.pair >= 0).to_numpy()
    jitter = np.where(exact, 0.0, rng.uniform(*POSTCODE_JITTER_M, size=n))
    pla, plo = _offset(recs.lat.to_numpy(), recs.lon.to_numpy(), jitter, rng.uniform(0, 2 * np.pi, n))
    land = globe.is_land(pla, plo)
    pla, plo = np.where(land, pla, recs.lat), np.where(land, plo, recs.lon)
    pc = pd.DataFrame({"pcds": postcode[own], "lat": np.round(pla[own], 6), "long": np.round(plo[own], 6),
                       "oslaua": recs.authority.to_numpy()[own]})
    fault = recs.fault.to_numpy()
    if (fault == "unknown_postcode").any():
        i = np.flatnonzero(fault == "unknown_postcode")[0]
        taken = set(pc.pcds)
        order = [districts[i]] + sorted(set(districts) - {districts[i]})
        code = next(f"{d} {c}" for d in order for c in _inward(np.arange(3999, -1, -1)) if f"{d} {c}" not in taken)
        pc = pc[pc.pcds != postcode[i]]
        recs.loc[i, "postcode"] = code
    pc = pc.drop_duplicates("pcds").sort_values("pcds", kind="stable").reset_index(drop=True)

    # UPRNs: unique per distinct site; tenants carry the lead's UPRN when the rule is "uprn".
    uprn = np.zeros(n, dtype=np.int64)
    for la_code, base in _UPRN_BASE.items():
        sel = np.flatnonzero(own & (recs.authority == la_code).to_numpy())
        uprn[sel] = base + rng.choice(1_000_000, size=len(sel), replace=False)
    uprn[tenant] = uprn[lead[tenant]]
    share = np.array([PARTNER_BY_CODE[c].uprn_share for c in recs.partner])
    has = rng.random(n) < share
    has[np.array(["uprn" not in PARTNER_BY_CODE[c].columns for c in recs.partner])] = False
    lead_uprn = recs.lead_uprn.to_numpy()
    has[lead_uprn == "yes"] = True
    has[lead_uprn == "no"] = False
    rule = recs.rule.to_numpy()
    has[tenant] = (rule[tenant] == "uprn") | (method[tenant] == "uprn")
    has[(method == "uprn")] = True
    has[fault != ""] = False
    has[fault == "unknown_uprn"] = True
    uprn[fault == "unknown_uprn"] = 100019999999 - rng.integers(1000)
    recs["uprn"] = np.where(has, uprn, 0)
    # The UPRN's point is the building: the lead's, or the tenant's own when only the tenant records it.
    cov = has & (fault != "unknown_uprn")
    u = pd.DataFrame({"UPRN": uprn[cov], "lat": recs.lat.to_numpy()[cov], "lon": recs.lon.to_numpy()[cov],
                      "own": own[cov]}).sort_values(["UPRN", "own"], ascending=[True, False], kind="stable")
    u = u.drop_duplicates("UPRN")
    ux, uy = _TO_BNG.transform(u.lon.to_numpy(), u.lat.to_numpy())
    uprns = pd.DataFrame({"UPRN": u.UPRN.to_numpy(), "X_COORDINATE": np.round(ux, 2),
                          "Y_COORDINATE": np.round(uy, 2), "LATITUDE": np.round(u.lat.to_numpy(), 7),
                          "LONGITUDE": np.round(u.lon.to_numpy(), 7)}).reset_index(drop=True)

    # The faulty coordinates.
    for f, (la, lo) in (("in_sea", SEA_POINT), ("outside_gb", FRANCE_POINT)):
        recs.loc[fault == f, "lat"] = la
        recs.loc[fault == f, "lon"] = lo
    _update_bng(recs)
    _assign_source_ids(rng, recs)
    return pc, uprns


def _assign_source_ids(rng: np.random.Generator, recs: pd.DataFrame) -> None:
    """File order and source ids per partner; faulty rows sit in the later part of each file."""
    recs["file_order"] = -1
    recs["source_id"] = ""
    for p in PARTNERS:
        idx = np.flatnonzero((recs.partner == p.code).to_numpy())
        faulty = idx[(recs.fault.to_numpy()[idx] != "")]
        normal = rng.permutation(idx[(recs.fault.to_numpy()[idx] == "")])
        order = list(normal)
        for i in faulty:
            order.insert(int(rng.integers(int(0.4 * len(order)) + 1, len(order) + 1)), i)
        prefix, width, *start = p.style["id"]
        first = start[0] if start else 0
        width = max(width, len(str(first + len(order))))
        ids = [f"{prefix}{first + k + 1:0{width}d}" for k in range(len(order))]
        recs.loc[order, "file_order"] = np.arange(len(order))
        recs.loc[order, "source_id"] = ids
        group_of = recs.fault_group.to_numpy()
        position = {i: k for k, i in enumerate(order)}
        for group in sorted(set(group_of[faulty]) - {-1}):
            members = sorted(faulty[group_of[faulty] == group], key=position.get)
            if len(members) > 1:  # a duplicated id: every row after the first repeats the first's id
                recs.loc[members[1:], "source_id"] = recs.at[members[0], "source_id"]
    recs["asset_id"] = recs.partner + "-" + recs.source_id


# ==========================================================================
# Occupiers
# ==========================================================================


def _draw_occupiers(rng: np.random.Generator, recs: pd.DataFrame) -> pd.DataFrame:
    """Teams in every occupied building, with service, FTE and public-facing flag."""
    teams = _profile(recs, "teams")
    lo, hi = np.array([t[0] for t in teams]), np.array([t[1] for t in teams])
    n_teams = np.where((recs.role != "fault").to_numpy(), rng.integers(lo, hi + 1), 0)
    tenant_office = (recs.asset_type == "office").to_numpy() & (recs.role == "tenant").to_numpy()
    n_teams[tenant_office] = np.minimum(n_teams[tenant_office], 2)
    rec = np.repeat(np.arange(len(recs)), n_teams)
    atype = recs.asset_type.to_numpy()[rec]
    kind = recs.kind.to_numpy()[rec]
    service = np.empty(len(rec), dtype=object)
    for t in sorted(set(atype)):
        for k in sorted(set(kind[atype == t])):
            sel = np.flatnonzero((atype == t) & (kind == k))
            options = TYPE_PROFILES[t].services or OFFICE_SERVICES[k]
            service[sel] = np.array(options, dtype=object)[rng.integers(len(options), size=sel.size)]
    fte_med = _profile(recs, "team_fte").astype(float)[rec]
    fte = np.maximum(0.5, fte_med * np.exp(0.6 * rng.normal(size=len(rec))))
    front = rng.random(len(rec)) < np.array([FRONT_FACING[s] for s in service])
    team = np.empty(len(rec), dtype=object)
    seen: dict[tuple[int, str], int] = {}
    partner = recs.partner.to_numpy()[rec]
    for i, (r, p, s) in enumerate(zip(rec, partner, service)):
        names = PARTNER_TEAMS.get((p, s), TEAM_NAMES[s])
        name = names[rng.integers(len(names))]
        count = seen.get((r, name), 0) + 1
        seen[(r, name)] = count
        team[i] = name if count == 1 else f"{name} {count}"
    occ = pd.DataFrame({"rec": rec, "team": team, "service": service, "fte": fte, "front_facing": front})
    rank = {s: k for k, s in enumerate(schema.SERVICES)}
    held = occ[["rec", "service"]].drop_duplicates().assign(rank=lambda d: d.service.map(rank))
    services = held.sort_values(["rec", "rank"]).groupby("rec").service.agg(";".join)
    recs["services"] = recs.index.map(services).fillna("")
    return occ


# ==========================================================================
# Rendering values the partner's way
# ==========================================================================


def _inverse(mapping: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for word, canon in mapping.items():
        out.setdefault(canon, []).append(word)
    return out


def _words(values: np.ndarray, mapping: dict[str, str] | None, rng: np.random.Generator) -> np.ndarray:
    """Canonical codes → the partner's words (a random synonym where it has several)."""
    out = np.array([None if _blank(v) else v for v in values], dtype=object)
    if not mapping:
        return out
    for canon, words in _inverse(mapping).items():
        sel = np.flatnonzero(values == canon)
        out[sel] = np.array(words, dtype=object)[rng.integers(len(words), size=sel.size)]
    return out


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT


def _blank(v: Any) -> bool:
    return _missing(v) or v == ""


def _py(v: Any) -> Any:
    """A plain Python value for writers (numpy scalars become int/float/bool, NaN becomes None)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _render_area(m2: np.ndarray, partner: Partner, unit: str, rng: np.random.Generator) -> np.ndarray:
    v = m2 * SQFT_PER_M2 if unit == "sqft" else m2
    style, dec = partner.style.get("area", "number"), partner.style.get("area_decimals", 0)
    v = np.round(v, dec)
    out = np.array([int(x) if dec == 0 else float(x) for x in v], dtype=object)
    if style == "thousands":
        out = np.array([f"{x:,.0f}" for x in v], dtype=object)
    elif style == "mixed_unit":
        label = " sq ft" if unit == "sqft" else " m2"
        sel = np.flatnonzero(rng.random(len(v)) < 0.35)
        out[sel] = [f"{v[i]:,.0f}{label}" for i in sel]
    return out


def _render_money(gbp: np.ndarray, partner: Partner, field: str, unit: str,
                  rng: np.random.Generator) -> np.ndarray:
    style = partner.style.get(f"money.{field}", partner.style.get("money", "number"))
    divisor = {"gbp": 1.0, "gbp_k": 1e3, "gbp_m": 1e6}[unit]
    dec = {"gbp": 0, "gbp_k": 1, "gbp_m": 3}[unit]
    out = np.empty(len(gbp), dtype=object)
    pounds = rng.random(len(gbp)) < (0.3 if style == "mixed_pound" else 1.0)
    for i, x in enumerate(gbp):
        if _missing(x):
            out[i] = None
        elif style == "suffix":
            out[i] = f"£{x / 1e6:.2f}m" if x >= 1e6 else f"£{x / 1e3:.1f}k"
        elif style in ("pound", "mixed_pound") and pounds[i]:
            out[i] = f"£{x / divisor:,.{dec}f}"
        else:
            y = round(x / divisor, dec)
            out[i] = int(y) if dec == 0 else y
    return out


def _render_flag(values: np.ndarray, partner: Partner, mapping: dict[str, str] | None, style: Any,
                 rng: np.random.Generator) -> np.ndarray:
    if mapping:
        return _words(np.where(values.astype(bool), "yes", "no").astype(object), mapping, rng)
    if style == "bool":
        return np.array([bool(v) for v in values], dtype=object)
    if style == "int":
        return np.array([int(bool(v)) for v in values], dtype=object)
    yes, no = style
    return np.where(values.astype(bool), yes, no).astype(object)


def _render_dates(values: np.ndarray, fmt: str | None) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        if pd.isna(v):
            out[i] = None
        else:
            d = pd.Timestamp(v).date()
            out[i] = d if fmt is None else d.strftime(fmt)
    return out


def _render(field: str, kind: str, values: np.ndarray, partner: Partner, desc: dict, mapping: dict | None,
            flag_style: Any, fmt: str, rng: np.random.Generator) -> np.ndarray:
    """One column of partner cells from canonical values."""
    if kind in ("id", "text", "postcode"):
        return np.array([None if _missing(v) or v == "" else str(v) for v in values], dtype=object)
    if kind == "uprn":
        if fmt in ("csv", "xlsx"):
            return np.array([int(v) if v else None for v in values], dtype=object)
        return np.array([str(int(v)) if v else None for v in values], dtype=object)
    if kind == "vocab":
        return _words(values, mapping, rng)
    if kind == "date":
        date_format = desc.get("date_format", None if fmt == "xlsx" else "%Y-%m-%d")
        return _render_dates(values, date_format)
    if kind == "area":
        return _render_area(values.astype(float), partner, desc.get("area_unit", "m2"), rng)
    if kind == "money":
        return _render_money(values.astype(float), partner, field, desc.get("money_unit", "gbp"), rng)
    if kind == "number":
        dec = partner.style.get("fte_decimals", 1) if field == "fte" else 0
        return np.array([None if _missing(v) else (int(round(v)) if dec == 0 else round(float(v), dec))
                         for v in values], dtype=object)
    if kind == "flag":
        return _render_flag(values, partner, mapping, flag_style, rng)
    if kind == "list":
        return np.array([v or None for v in values], dtype=object)
    raise ValueError(f"unknown field kind {kind!r}")


def _asset_table(partner: Partner, recs: pd.DataFrame, rng: np.random.Generator) -> tuple[list[str], list[list],
                                                                                           dict[str, np.ndarray]]:
    """Header, rows and geometry of a partner's asset file (records in file order)."""
    desc = partner.assets
    fmt = desc["format"]
    header, cols = [], []
    for f, column in partner.columns.items():
        vals = recs[f].to_numpy() if f in recs else np.full(len(recs), None, dtype=object)
        header.append(column)
        cols.append(_render(f, schema.ASSET_FIELDS[f], vals, partner, desc, partner.values.get(f),
                            partner.style.get("flag", ("Y", "N")), fmt, rng))
    loc = desc["location"]
    geometry = {}
    if loc["method"] == "xy":
        wgs = loc["crs"] == schema.WGS84
        x = recs.lon.to_numpy() if wgs else recs.x.to_numpy()
        y = recs.lat.to_numpy() if wgs else recs.y.to_numpy()
        dec = partner.style.get("xy_decimals", 0)
        no_xy = recs.no_xy.to_numpy()
        for name, v in ((loc["x"], x), (loc["y"], y)):
            header.append(name)
            cols.append(np.array([None if skip else (int(round(c)) if dec == 0 else round(float(c), dec))
                                  for c, skip in zip(v, no_xy)], dtype=object))
    elif loc["method"] == "geometry":
        geometry = {"lon": recs.lon.to_numpy(), "lat": recs.lat.to_numpy(), "x": recs.x.to_numpy(),
                    "y": recs.y.to_numpy()}

    # Cells spoiled on purpose.
    col_of = {f: header.index(c) for f, c in partner.columns.items()}
    if loc["method"] == "xy":
        col_of["x"], col_of["y"] = header.index(loc["x"]), header.index(loc["y"])
    for i, fault in enumerate(recs.fault.to_numpy()):
        spec = next((f for f in FAULTS if f.fault == fault), None)
        if spec is None:
            continue
        if fault == "swapped_lat_lon":
            xi, yi = col_of["x"], col_of["y"]
            cols[xi][i], cols[yi][i] = cols[yi][i], cols[xi][i]
        elif fault == "negative_cost":
            cols[col_of[spec.field]][i] = f"({recs.running_cost_gbp.to_numpy()[i]:,.0f})"
        elif spec.value and spec.field in col_of:
            cols[col_of[spec.field]][i] = spec.value
    rows = [list(r) for r in zip(*cols)] if cols else []
    return header, rows, geometry


def _occupier_table(partner: Partner, recs: pd.DataFrame, occ: pd.DataFrame,
                    rng: np.random.Generator) -> tuple[list[str], list[list]]:
    desc = partner.occupiers
    occ = occ.assign(source_id=recs.source_id.to_numpy()[occ.rec.to_numpy()])
    header, cols = [], []
    for f, column in desc["columns"].items():
        header.append(column)
        cols.append(_render(f, schema.OCCUPIER_FIELDS[f], occ[f].to_numpy(), partner, desc,
                            desc.get("values", {}).get(f), partner.style.get("occupier_flag", ("Yes", "No")),
                            desc.get("format", "csv"), rng))
    return header, [list(r) for r in zip(*cols)]


# ==========================================================================
# Writers: one per file format
# ==========================================================================


def _cell_text(v: Any) -> str:
    v = _py(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)


def _write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8", newline: str = "\n",
               title: tuple[str, ...] = (), blank_after: tuple[int, ...] = ()) -> list[int]:
    """Write a CSV file; return the line number of every data row."""
    lines = []
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, lineterminator=newline)
        for t in title:
            w.writerow([t])
        w.writerow(header)
        line = len(title) + 1
        for k, row in enumerate(rows):
            line += 1
            w.writerow([_cell_text(v) for v in row])
            lines.append(line)
            if k in blank_after:
                fh.write(newline)
                line += 1
    return lines


class _StableZip(zipfile.ZipFile):
    """A zip file whose entries carry a fixed timestamp, so workbooks are reproducible."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):  # noqa: D102
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=FIXED_TIMESTAMP.timetuple()[:6])
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):  # noqa: D102
        with open(filename, "rb") as fh:
            self.writestr(arcname or Path(filename).name, fh.read(), compress_type, compresslevel)


def _write_xlsx(path: Path, sheets: list[dict]) -> list[list[int]]:
    """Write a workbook (write-only mode); return the spreadsheet row of every data row per sheet."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook(write_only=True)
    wb.properties.creator = "estate.sample (synthetic data)"
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.modified = FIXED_TIMESTAMP
    all_rows = []
    for sh in sheets:
        ws = wb.create_sheet(sh["sheet"])
        header_row = sh.get("header_row", 1)
        titles = list(sh.get("title", ()))
        for r in range(header_row - 1):
            ws.append([titles[r]] if r < len(titles) else [])
        ws.append(sh["header"])
        numbers, row_no = [], header_row
        blank_after = set(sh.get("blank_after", ()))
        for k, row in enumerate(sh["rows"]):
            cells = []
            for v in row:
                if isinstance(v, dt.date):
                    c = WriteOnlyCell(ws, value=v)
                    c.number_format = "DD/MM/YYYY"
                    cells.append(c)
                else:
                    cells.append(_py(v))
            ws.append(cells)
            row_no += 1
            numbers.append(row_no)
            if k in blank_after:
                ws.append([])
                row_no += 1
        all_rows.append(numbers)
    archive = _StableZip(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()
    return all_rows


def _write_geojson(path: Path, name: str, header: list[str], rows: list[list], lon: np.ndarray,
                   lat: np.ndarray) -> list[int]:
    """Write WGS84 points as GeoJSON, one feature per line; return feature numbers."""
    lines = ['{', '"type": "FeatureCollection",', f'"name": {json.dumps(name)},', '"features": [']
    for k, row in enumerate(rows):
        props = {h: _py(v) for h, v in zip(header, row)}
        feat = {"type": "Feature", "properties": props,
                "geometry": {"type": "Point", "coordinates": [round(float(lon[k]), 6), round(float(lat[k]), 6)]}}
        lines.append(json.dumps(feat, ensure_ascii=False) + ("," if k < len(rows) - 1 else ""))
    lines += [']', '}', '']
    path.write_text("\n".join(lines), encoding="utf-8", newline="\n")
    return list(range(1, len(rows) + 1))


def _write_gpkg(path: Path, layer: str, header: list[str], rows: list[list], x: np.ndarray,
                y: np.ndarray) -> list[int]:
    """Write BNG points as a GeoPackage layer; return feature numbers."""
    import geopandas as gpd
    import shapely

    cols = list(zip(*rows)) if rows else [[] for _ in header]
    data = {}
    for h, c in zip(header, cols):
        c = list(c)
        if all(isinstance(v, (int, float)) or v is None for v in c) and not all(v is None for v in c):
            data[h] = pd.array([np.nan if v is None else float(v) for v in c], dtype="float64") \
                if any(v is None or isinstance(v, float) for v in c) else pd.array(c, dtype="int64")
        else:
            data[h] = pd.Series([None if _py(v) is None else str(v) for v in c], dtype=object)
    gdf = gpd.GeoDataFrame(data, geometry=shapely.points(x, y), crs=schema.BNG)
    if path.exists():
        path.unlink()
    gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    return list(range(1, len(rows) + 1))


def _write_partner_files(rng: np.random.Generator, out_dir: Path, recs: pd.DataFrame,
                         occ: pd.DataFrame) -> pd.DataFrame:
    """Write every partner's files; return the expected rejects with their row numbers."""
    rejects = []
    for p in PARTNERS:
        orow_no: list[int] = []
        mine = recs[recs.partner == p.code].sort_values("file_order")
        header, rows, geom = _asset_table(p, mine, rng)
        p_occ = occ[recs.partner.to_numpy()[occ.rec.to_numpy()] == p.code].copy()
        p_occ["order"] = recs.file_order.to_numpy()[p_occ.rec.to_numpy()]
        p_occ = p_occ.sort_values(["order"], kind="stable")
        oheader, orows = _occupier_table(p, recs, p_occ, rng)
        unknown_at = -1
        if p.code == UNKNOWN_SITE[0]:
            unknown_at = int(rng.integers(len(orows) // 3, len(orows)))
            bad = list(orows[unknown_at])
            bad[oheader.index(p.occupiers["columns"]["source_id"])] = UNKNOWN_SITE[1]
            orows.insert(unknown_at, bad)

        a, o = p.assets, p.occupiers
        n = len(rows)
        blank_after = tuple(int(n * q) for q in (0.2, 0.35)[: p.style.get("blank_lines", 0)]) + \
            tuple(int(n * 0.3) for _ in range(p.style.get("blank_rows", 0)))
        if a["format"] == "csv":
            row_no = _write_csv(out_dir / a["file"], header, rows, a.get("encoding", "utf-8"),
                                p.style.get("newline", "\n"), p.style.get("title", ()), blank_after)
        elif a["format"] == "xlsx":
            sheets = [{"sheet": a["sheet"], "header_row": a.get("header_row", 1), "title": p.style.get("title", ()),
                       "header": header, "rows": rows, "blank_after": blank_after}]
            if o["file"] == a["file"]:
                sheets.append({"sheet": o["sheet"], "header_row": o.get("header_row", 1), "header": oheader,
                               "rows": orows})
            numbers = _write_xlsx(out_dir / a["file"], sheets)
            row_no = numbers[0]
            orow_no = numbers[1] if len(numbers) > 1 else []
        elif a["format"] == "geojson":
            row_no = _write_geojson(out_dir / a["file"], Path(a["file"]).stem, header, rows, geom["lon"],
                                    geom["lat"])
        else:
            row_no = _write_gpkg(out_dir / a["file"], a["layer"], header, rows, geom["x"], geom["y"])
        if o["file"] != a["file"]:
            orow_no = _write_csv(out_dir / o["file"], oheader, orows, o.get("encoding", "utf-8"),
                                 p.style.get("newline", "\n"))

        loc = a["location"]
        for k, fault in enumerate(mine.fault.to_numpy()):
            if not fault:
                continue
            spec = next(f for f in FAULTS if f.fault == fault)
            column = {"x": loc.get("x"), "y": loc.get("y"), "geometry": "geometry"}.get(
                spec.field, p.columns.get(spec.field))
            rejects.append((p.code, "assets", a["file"], row_no[k], column, fault))
        if unknown_at >= 0:
            rejects.append((p.code, "occupiers", o["file"], orow_no[unknown_at], o["columns"]["source_id"],
                            "unknown_site"))
    return pd.DataFrame(rejects, columns=["partner", "table", "file", "row", "column", "fault"])


# ==========================================================================
# partners.toml
# ==========================================================================


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(str(v), ensure_ascii=False)


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").isalnum() and k.isascii() else json.dumps(k, ensure_ascii=False)


def _toml_table(name: str, items: dict[str, Any]) -> list[str]:
    return ["", f"[{name}]"] + [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in items.items()]


def _partners_toml() -> str:
    """The source descriptions of every partner (docs/sources.md format)."""
    lines = ["# Partner source descriptions for the built-in synthetic sample (see docs/sources.md).",
             "# Written by `python -m estate.sample`; the data they describe are synthetic.",
             *_toml_table("register", REGISTER)]
    for p in PARTNERS:
        lines += ["", "[[partners]]", f"code = {_toml_value(p.code)}", f"name = {_toml_value(p.name)}",
                  f"kind = {_toml_value(p.kind)}"]
        lines += _toml_table("partners.assets", {k: v for k, v in p.assets.items() if k != "location"})
        lines += _toml_table("partners.assets.location", p.assets["location"])
        lines += _toml_table("partners.assets.columns", p.columns)
        for f, mapping in p.values.items():
            lines += _toml_table(f"partners.assets.values.{f}", mapping)
        o = p.occupiers
        lines += _toml_table("partners.occupiers", {k: v for k, v in o.items() if k not in ("columns", "values")})
        lines += _toml_table("partners.occupiers.columns", o["columns"])
        for f, mapping in o.get("values", {}).items():
            lines += _toml_table(f"partners.occupiers.values.{f}", mapping)
    return "\n".join(lines) + "\n"


# ==========================================================================
# Demand zones
# ==========================================================================

_TO_WGS84 = Transformer.from_crs(schema.BNG, schema.WGS84, always_xy=True)


def _lonlat_to_bng(geom: Any, step_deg: float = 0.002) -> Any:
    """Transform a lon/lat geometry to BNG, densified first so straight edges stay true."""
    import shapely

    def to_bng(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(_TO_BNG.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(shapely.segmentize(geom, step_deg), to_bng)


def _place_points_km(towns: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The towns and their neighbouring places in the km plane of :func:`_valid_points`, and their authorities."""
    xy = np.r_[towns[["x_km", "y_km"]].to_numpy(),
               np.array([[lon * KM_PER_DEG_LON, lat * KM_PER_DEG_LAT] for _, lat, lon in NEIGHBOURING_PLACES])]
    authority = np.r_[towns.authority.to_numpy(), np.array([""] * len(NEIGHBOURING_PLACES))].astype(object)
    return xy, authority


def _land_lonlat(west: float, south: float, east: float, north: float) -> Any:
    """The land of ``global_land_mask`` in a lon/lat box, as the union of its 30-arc-second cells."""
    import shapely

    step = 1.0 / 120.0  # the mask's grid; cell (i, j) spans lat (90-(i+1)s, 90-is], lon [-180+js, -180+(j+1)s)
    i0, i1 = int((90.0 - north) / step), int((90.0 - south) / step) + 1
    j0, j1 = int((west + 180.0) / step), int((east + 180.0) / step) + 1
    i = np.arange(i0, i1)
    j = np.arange(j0, j1)
    lat = 90.0 - (i + 0.5) * step
    lon = -180.0 + (j + 0.5) * step
    land = globe.is_land(np.repeat(lat, len(j)), np.tile(lon, len(i))).reshape(len(i), len(j))
    boxes = []
    for r, row in enumerate(land):
        edges = np.flatnonzero(np.diff(np.r_[0, row.astype(np.int8), 0]))
        for start, stop in zip(edges[::2], edges[1::2]):
            boxes.append(shapely.box(-180.0 + (j0 + start) * step, 90.0 - (i0 + r + 1) * step,
                                     -180.0 + (j0 + stop) * step, 90.0 - (i0 + r) * step))
    return shapely.union_all(boxes)


def _zone_region(towns: pd.DataFrame) -> Any:
    """The area the zones tile (EPSG:27700 polygon).

    The convex hull of the towns, and beyond it, up to ``ZONE_REACH_M``, the land
    nearer to a town of the three authorities than to any neighbouring place
    (the rule the assets are scattered by), all widened by ``ZONE_COAST_MARGIN_M``.
    """
    import shapely

    tx, ty = _TO_BNG.transform(towns.lon.to_numpy(), towns.lat.to_numpy())
    hull = shapely.convex_hull(shapely.multipoints(np.c_[tx, ty]))

    # The sub-region's side of the neighbouring places, in the km plane, back to lon/lat.
    xy, authority = _place_points_km(towns)
    frame = shapely.box(*(xy.min(axis=0) - 200.0), *(xy.max(axis=0) + 200.0))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=frame, ordered=True))
    own = shapely.union_all(cells[authority != ""])
    own = shapely.transform(own, lambda p: p / [KM_PER_DEG_LON, KM_PER_DEG_LAT])

    reach = hull.buffer(ZONE_REACH_M)
    west, south = _TO_WGS84.transform(reach.bounds[0], reach.bounds[1])
    east, north = _TO_WGS84.transform(reach.bounds[2], reach.bounds[3])
    box = shapely.box(west - 0.1, south - 0.1, east + 0.1, north + 0.1)
    land = shapely.intersection(_land_lonlat(west - 0.1, south - 0.1, east + 0.1, north + 0.1), box)
    land = _lonlat_to_bng(land).buffer(ZONE_COAST_MARGIN_M).simplify(ZONE_COAST_MARGIN_M / 4)
    own = _lonlat_to_bng(shapely.intersection(own, box)).buffer(ZONE_COAST_MARGIN_M, join_style="mitre")
    beyond = shapely.intersection(reach, shapely.intersection(land, own))
    region = shapely.union(hull.buffer(ZONE_COAST_MARGIN_M), beyond)
    # One piece without holes: enclaves are filled, detached islets dropped.
    part = max(shapely.get_parts(region), key=lambda g: g.area)
    return shapely.set_precision(shapely.polygons(shapely.get_exterior_ring(part)), 1.0)


def _split_integer(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers in proportion to ``weights`` (largest remainder)."""
    quota = np.asarray(weights, dtype=float) / np.sum(weights) * total
    counts = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - counts), kind="stable")
    counts[order[: total - int(counts.sum())]] += 1
    return counts


def _town_populations(towns: pd.DataFrame) -> tuple[np.ndarray, dict[str, int]]:
    """Residents of each town (by weight within its authority) and each authority's rural residents."""
    town_pop = np.zeros(len(towns), dtype=np.int64)
    rural = {}
    for code, total in CENSUS_2021_POPULATION.items():
        urban = round(total * (1.0 - RURAL_POPULATION_SHARE[code]))
        idx = np.flatnonzero(towns.authority.to_numpy() == code)
        town_pop[idx] = _split_integer(urban, towns.weight.to_numpy()[idx])
        rural[code] = total - urban
    return town_pop, rural


def _zone_count(population: int, scale: float = 1.0) -> int:
    return max(1, round(population / (ZONE_POPULATION / scale)))


def _far_enough(xy: np.ndarray, accepted: list[np.ndarray], min_m: float) -> bool:
    if not accepted:
        return True
    return bool(np.min(np.hypot(*(np.asarray(accepted) - xy).T)) >= min_m)


def _zone_seeds(rng: np.random.Generator, towns: pd.DataFrame, region: Any, scale: float = 1.0) -> pd.DataFrame:
    """Seed points of the zones (EPSG:27700, whole metres): town seeds first, then rural ones.

    Every town's first seed is the town centre, so each town lies in a zone of
    its own; the others scatter around it like the assets do. Rural seeds are
    spread over the rest of the sub-region's land, a quota per authority.
    With ``scale`` zones, seeds of either kind lie ``1 / sqrt(scale)`` times as
    far apart (the rural seeds' clearance from the towns is not scaled).
    """
    import shapely

    town_pop, rural_pop = _town_populations(towns)
    xy_km, place_authority = _place_points_km(towns)
    places = cKDTree(xy_km)
    cx, cy = _TO_BNG.transform(towns.lon.to_numpy(), towns.lat.to_numpy())
    centres = np.round(np.c_[cx, cy])
    accepted: list[np.ndarray] = [c for c in centres]
    town_of = list(range(len(towns)))
    spacing = 1.0 / math.sqrt(scale)

    for t in range(len(towns)):
        need = _zone_count(int(town_pop[t]), scale) - 1
        sd = towns.spread_km[t]
        for _ in range(round(200 * max(1.0, scale))):
            if need <= 0:
                break
            dx, dy = rng.normal(0.0, sd, (2, 64))
            lat = towns.lat[t] + dy / KM_PER_DEG_LAT
            lon = towns.lon[t] + dx / KM_PER_DEG_LON
            ok = _valid_points(lat, lon, np.full(64, t), towns, places, place_authority,
                               np.full(64, URBAN_SEED_MAX_SD * sd))
            x, y = _TO_BNG.transform(lon, lat)
            ok &= shapely.contains_xy(region, x, y)
            for p in np.round(np.c_[x, y][ok]):
                if need > 0 and _far_enough(p, accepted, URBAN_SEED_SEPARATION_M * spacing):
                    accepted.append(p)
                    town_of.append(t)
                    need -= 1
        if need > 0:
            raise RuntimeError(f"could not place the zones of {towns.name[t]}")
    n_urban = len(accepted)

    quota = {code: _zone_count(n, scale) for code, n in rural_pop.items()}
    separation = RURAL_SEED_SEPARATION_M * spacing
    x0, y0, x1, y1 = region.bounds
    urban = cKDTree(np.asarray(accepted))
    rural: list[np.ndarray] = []
    for attempt in range(2000):
        if not any(quota.values()):
            break
        if attempt and attempt % 40 == 0:
            separation *= 0.9
        x = rng.uniform(x0, x1, 256)
        y = rng.uniform(y0, y1, 256)
        lon, lat = _TO_WGS84.transform(x, y)
        _, nearest = places.query(np.c_[lon * KM_PER_DEG_LON, lat * KM_PER_DEG_LAT])
        ok = shapely.contains_xy(region, x, y) & globe.is_land(lat, lon) & (place_authority[nearest] != "")
        near_urban, _ = urban.query(np.c_[x, y])
        ok &= near_urban >= RURAL_SEED_CLEARANCE_M
        for k in np.flatnonzero(ok):
            code = place_authority[nearest[k]]
            p = np.round([x[k], y[k]])
            if quota[code] > 0 and _far_enough(p, rural, separation):
                rural.append(p)
                town_of.append(int(nearest[k]))
                quota[code] -= 1
    if any(quota.values()):
        raise RuntimeError(f"could not place the rural zones: {quota} left")

    xy = np.asarray(accepted + rural)
    town = np.asarray(town_of)
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "town": town,
                         "authority": towns.authority.to_numpy()[town],
                         "rural": np.arange(len(xy)) >= n_urban})


def _zone_populations(rng: np.random.Generator, seeds: pd.DataFrame, towns: pd.DataFrame,
                      scale: float = 1.0) -> np.ndarray:
    """Residents of each zone: each town's and each authority's rural total, split unevenly.

    The split keeps every zone within ``ZONE_POPULATION_RANGE / scale``; the totals are exact.
    """
    town_pop, rural_pop = _town_populations(towns)
    groups = [(np.flatnonzero(~seeds.rural.to_numpy() & (seeds.town.to_numpy() == t)), int(town_pop[t]))
              for t in range(len(towns))]
    groups += [(np.flatnonzero(seeds.rural.to_numpy() & (seeds.authority.to_numpy() == code)), n)
               for code, n in rural_pop.items()]
    population = np.zeros(len(seeds), dtype=np.int64)
    lo, hi = (bound / scale for bound in ZONE_POPULATION_RANGE)
    for idx, total in groups:
        weights = np.clip(rng.lognormal(0.0, 0.22, len(idx)), 0.6, 1.7)
        for _ in range(20):
            split = _split_integer(total, weights)
            if len(idx) == 1 or (split.min() >= lo and split.max() <= hi):
                break
            weights = np.sqrt(weights)  # evener
        population[idx] = split
    return population


def _zone_frame(seeds: pd.DataFrame, towns: pd.DataFrame, region: Any) -> Any:
    """Voronoi cells of the seeds clipped to the region, named, numbered and checked."""
    import geopandas as gpd
    import shapely

    pts = shapely.points(seeds[["x", "y"]].to_numpy())
    x0, y0, x1, y1 = region.bounds
    frame = shapely.box(x0 - 10_000, y0 - 10_000, x1 + 10_000, y1 + 10_000)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame, ordered=True))
    assert len(cells) == len(pts) and shapely.contains(cells, pts).all()
    geoms = shapely.intersection(cells, region, grid_size=1.0)
    mixed = np.flatnonzero(shapely.get_type_id(geoms) == 7)  # a polygon with a stray line or point
    for i in mixed:  # (happens with the denser seeds of a scale above 1): keep the polygon parts
        parts = shapely.get_parts(geoms[i])
        geoms[i] = shapely.union_all(parts[np.isin(shapely.get_type_id(parts), (3, 6))], grid_size=1.0)
    geoms = _reattach_fragments(geoms, pts)

    authority = seeds.authority.to_numpy()
    order = np.lexsort((seeds.x.to_numpy(), -seeds.y.to_numpy(), seeds.rural.to_numpy(), seeds.town.to_numpy()))
    names = np.empty(len(seeds), dtype=object)
    ids = np.empty(len(seeds), dtype=object)
    per_town: dict[int, int] = {}
    per_authority: dict[str, int] = {}
    for i in order:  # towns in TOWNS order; their town zones north to south, then their rural ones
        t = int(seeds.town[i])
        per_town[t] = per_town.get(t, 0) + 1
        per_authority[authority[i]] = per_authority.get(authority[i], 0) + 1
        names[i] = f"{towns.name[t]} {per_town[t]:03d}"
        ids[i] = f"{authority[i]}Z{per_authority[authority[i]]:04d}"
    zones = gpd.GeoDataFrame({
        "zone_id": ids, "name": names, "authority": authority,
        "population": seeds.population.to_numpy().astype(np.int64), "rural": seeds.rural.to_numpy(),
        "pwc_easting": seeds.x.to_numpy().astype(float), "pwc_northing": seeds.y.to_numpy().astype(float),
    }, geometry=geoms, crs=schema.BNG)
    zones = zones.sort_values("zone_id", kind="stable").reset_index(drop=True)

    g = zones.geometry.to_numpy()
    assert shapely.is_valid(g).all() and not shapely.is_empty(g).any()
    assert (shapely.get_type_id(g) == 3).all(), "every zone is one polygon"
    assert shapely.contains_xy(g, zones.pwc_easting.to_numpy(), zones.pwc_northing.to_numpy()).all()
    return zones


def _reattach_fragments(geoms: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Give each piece of a clipped cell cut off from its seed to the neighbour it shares most border with."""
    import shapely

    geoms = geoms.copy()
    fragments = []
    for i in np.flatnonzero(shapely.get_num_geometries(geoms) > 1):
        parts = shapely.get_parts(geoms[i])
        home = shapely.contains(parts, pts[i])
        geoms[i] = parts[home][0]
        fragments += [(i, p) for p in parts[~home]]
    for i, piece in fragments:
        shared = shapely.length(shapely.intersection(shapely.boundary(geoms), piece.boundary, grid_size=1.0))
        shared[i] = 0.0
        j = int(np.argmax(shared))
        target = j if shared[j] > 0 else i
        geoms[target] = shapely.union(geoms[target], piece, grid_size=1.0)
    return geoms


def _zone_summary(zones: Any) -> dict:
    pop = zones.population.to_numpy()
    summary: dict[str, Any] = {
        "zones": int(len(zones)),
        "urban_zones": int((~zones.rural).sum()),
        "rural_zones": int(zones.rural.sum()),
        "population": int(pop.sum()),
    }
    for code in AUTHORITIES:
        summary[f"zones_{code}"] = int((zones.authority == code).sum())
        summary[f"population_{code}"] = int(pop[(zones.authority == code).to_numpy()].sum())
    summary["population_min"] = int(pop.min())
    summary["population_median"] = float(np.median(pop))
    summary["population_max"] = int(pop.max())
    summary["area_km2"] = float(round(zones.geometry.area.sum() / 1e6, 1))
    return summary


def _zone_readme(summary: dict, zones: Any, seed: int, scale: float = 1.0) -> str:
    command = "python -m estate.sample --out data/assets --demand-out data/demand" + (
        f" --zone-scale {scale:g}" if scale != 1 else "")
    typical = ZONE_POPULATION / scale
    lo, hi = (bound / scale for bound in ZONE_POPULATION_RANGE)
    lines = [
        "# Built-in sample demand zones: Cheshire and Warrington (synthetic)", "",
        "**The zones in this folder are synthetic.** The towns, their positions and the local authority codes "
        "are real, and each authority's population is its Census 2021 total, but the zone polygons and their "
        "populations are made up. `zones.gpkg` (layer `zones`, EPSG:27700) is generated together with the "
        f"sample estate by `{command}` from seed {seed}; "
        "do not edit it by hand.", "",
        "## How they are made", "",
        "The zones stand in for LSOAs. Seed points are drawn around the sample's towns, as densely as the towns' "
        f"weights say, so a town zone holds about {typical:,.0f} residents; fewer, larger rural zones cover "
        "the countryside. Each zone is the Voronoi cell of its seed point, clipped to the sub-region (the convex "
        "hull of the towns, and the authorities' land up to "
        f"{ZONE_REACH_M / 1000:.0f} km beyond it), so the zones tile it without gaps or overlaps; a zone belongs "
        "to the authority of its seed's town, and its seed point is its population-weighted centroid. Every "
        f"zone holds between {lo:,.0f} and {hi:,.0f} residents, and the "
        "populations add up exactly to each authority's Census 2021 total:", "",
        "| authority | code | Census 2021 population | zones | town zones | rural zones |",
        "|---|---|---|---|---|---|",
    ]
    for code, name in AUTHORITIES.items():
        mine = zones[zones.authority == code]
        lines.append(f"| {name} | {code} | {summary[f'population_{code}']:,} | {len(mine)} | "
                     f"{int((~mine.rural).sum())} | {int(mine.rural.sum())} |")
    lines += [
        f"| **total** | | **{summary['population']:,}** | **{summary['zones']}** | **{summary['urban_zones']}** "
        f"| **{summary['rural_zones']}** |", "",
        f"Zone populations run from {summary['population_min']:,} to {summary['population_max']:,} (median "
        f"{summary['population_median']:,.0f}); the zones cover {summary['area_km2']:,.0f} km². Coordinates are "
        "rounded to the metre.", "",
        "## Columns", "",
        "| column | meaning |", "|---|---|",
        "| `zone_id` | authority code, `Z` and a 4-digit number, e.g. `E06000050Z0001` |",
        "| `name` | nearest town and a number, e.g. `Chester 012` (town zones north to south, then rural ones) |",
        "| `authority` | ONS local authority code |",
        "| `population` | residents (integer) |",
        "| `rural` | true for the countryside zones |",
        "| `pwc_easting`, `pwc_northing` | population-weighted centroid, EPSG:27700 metres, inside the zone |",
        "", "Read them with `estate.demand.load_zones(\"data/demand/zones.gpkg\", origin_x=\"pwc_easting\", "
        "origin_y=\"pwc_northing\")`.", "",
        "## Real data", "",
        "Real users supply their own zones instead: the ONS Lower Layer Super Output Area (LSOA 2021) boundary "
        "polygons with their Census 2021 usual-resident populations, and the ONS population-weighted centroids "
        "where available. Any polygon or point layer with a zone id and a population works.", "",
    ]
    return "\n".join(lines)


# ==========================================================================
# Manifests, summary and README
# ==========================================================================


def _merge_manifest(recs: pd.DataFrame, merges: list[tuple[int, int, str]]) -> pd.DataFrame:
    rows = []
    for lead, tenant, rule in merges:
        d = math.hypot(recs.x[lead] - recs.x[tenant], recs.y[lead] - recs.y[tenant])
        rows.append((recs.asset_id[lead], recs.asset_id[tenant], recs.partner[lead], recs.partner[tenant], rule,
                     round(d, 1)))
    df = pd.DataFrame(rows, columns=["asset_id", "merged_id", "partner", "merged_partner", "rule", "distance_m"])
    return df.sort_values(["asset_id", "merged_id"], kind="stable").reset_index(drop=True)


def _near_miss_manifest(recs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for pair in range(len(NEAR_MISSES)):
        a = recs[(recs.pair == pair) & (recs.pair_member == 0)].iloc[0]
        b = recs[(recs.pair == pair) & (recs.pair_member == 1)].iloc[0]
        rows.append((a.asset_id, b.asset_id, a.partner, b.partner, round(math.hypot(a.x - b.x, a.y - b.y), 1),
                     a["name"], b["name"]))
    return pd.DataFrame(rows, columns=["asset_id", "other_id", "partner", "other_partner", "distance_m", "name",
                                       "other_name"])


def _summary(recs: pd.DataFrame, occ: pd.DataFrame, rejects: pd.DataFrame) -> dict:
    site = recs[recs.role == "site"]
    west = site[site.authority == CHESHIRE_WEST]
    offices = west[west.asset_type == "office"]
    counted = recs.role.to_numpy()[occ.rec.to_numpy()] != "fault"
    return {
        "assets": int(len(site)),
        "records": int(len(recs)),
        "shared_records": int((recs.role == "tenant").sum()),
        "faulty_rows": int(len(rejects)),
        "occupiers": int(counted.sum()),
        "fte": float(round(occ.fte[counted].sum(), 1)),
        "market_value_gbp": float(site.market_value_gbp.sum()),
        "running_cost_gbp": float(site.running_cost_gbp.sum()),
        "cwac_assets": int(len(west)),
        "cwac_running_cost_gbp": float(west.running_cost_gbp.sum()),
        "cwac_offices": int(len(offices)),
        "cwac_office_running_cost_gbp": float(offices.running_cost_gbp.sum()),
        "cwac_office_floor_share": float(round(offices.gia_m2.sum() / west.gia_m2.sum(), 4)),
    }


_FAULT_TEXT: dict[str, str] = {
    "non_numeric_area": "area is not a number (`TBC`)",
    "bad_flag": "flag word with no mapping (`Locally Listed`)",
    "negative_cost": "negative running cost (`(12,345)` style)",
    "zero_area": "office with zero floor area",
    "swapped_lat_lon": "latitude and longitude swapped",
    "outside_gb": "point outside Great Britain (Lille, France)",
    "unknown_postcode": "postcode not in the lookup (postcode-located partner)",
    "unknown_uprn": "UPRN not in the lookup (UPRN-located partner)",
    "bad_date": "unparseable date (`31/02/2027`)",
    "duplicate_id": "the same id on two rows (both rejected)",
    "unknown_asset_type": "asset type with no mapping (`Garage Block`)",
    "in_sea": "point in Liverpool Bay, far from land",
    "missing_name": "required name is blank",
    "unknown_site": "occupier row for a site id the partner does not list",
}


def _crs_text(p: Partner) -> str:
    loc = p.assets["location"]
    if loc["method"] == "xy":
        text = f"{loc['crs']} columns `{loc['x']}`/`{loc['y']}`"
        return text + (f", else {loc['fallback']}" if loc.get("fallback") else "")
    if loc["method"] == "geometry":
        return "EPSG:4326 point geometry" if p.assets["format"] == "geojson" else "EPSG:27700 point geometry"
    return f"{loc['method']} lookup"


def _readme(summary: dict, rejects: pd.DataFrame, merges: pd.DataFrame, near: pd.DataFrame,
            recs: pd.DataFrame, seed: int, scale: float) -> str:
    s = summary
    lines = [
        "# Built-in sample: Cheshire and Warrington (synthetic)", "",
        "**Every record in this folder is synthetic.** The towns, postcode districts and local authority codes "
        "are real; every building, name, postcode, UPRN, cost, valuation and team is made up. The folder is "
        f"generated by `python -m estate.sample --out data/assets` from seed {seed}"
        + (f" at scale {scale:g}" if scale != 1 else "") + "; do not edit it by hand.", "",
        "## What it is calibrated to", "",
        "The totals reproduce the Cheshire and Warrington partners' estimates of *more than 4,000 assets worth "
        "over £2bn costing over £100m a year*, and for West Cheshire *over 1,500 assets costing £40m a year "
        "including 60 generic offices costing £12.4m holding 18% of floor space*. Figures over the distinct sites "
        "(duplicate records of shared sites and faulty rows excluded), as generated:", "",
        "| measure | target | sample |", "|---|---|---|",
        f"| distinct assets | > 4,000 | {s['assets']:,} |",
        f"| market value | > £2bn | £{s['market_value_gbp'] / 1e9:.3f}bn |",
        f"| annual running cost | > £100m | £{s['running_cost_gbp'] / 1e6:.2f}m |",
        f"| West Cheshire (E06000050) assets | > 1,500 | {s['cwac_assets']:,} |",
        f"| West Cheshire running cost | £40m | £{s['cwac_running_cost_gbp'] / 1e6:.2f}m |",
        f"| West Cheshire generic offices | 60 | {s['cwac_offices']} |",
        f"| their running cost | £12.4m | £{s['cwac_office_running_cost_gbp'] / 1e6:.2f}m |",
        f"| their share of floor space | 18% | {s['cwac_office_floor_share']:.1%} |", "",
        f"There are {s['records']:,} asset rows in all: the distinct sites, {s['shared_records']} duplicate records "
        f"of shared sites and {s['faulty_rows'] - 1} faulty asset rows. {s['occupiers']:,} occupier teams hold "
        f"{s['fte']:,.0f} FTE. Values are rounded in each file's own units, so totals read back from the files "
        "differ from these by rounding only.", "",
        "## Partners and files", "",
        "| code | partner | assets file | format | location | units | occupiers |", "|---|---|---|---|---|---|---|",
    ]
    for p in PARTNERS:
        a, o = p.assets, p.occupiers
        fmt = a["format"] + (f" ({a['encoding']})" if "encoding" in a else "") + (
            f", sheet `{a['sheet']}`" if "sheet" in a else "") + (f", layer `{a['layer']}`" if "layer" in a else "")
        if a.get("header_row", 1) != 1:
            fmt += f", header on row {a['header_row']}"
        occ = f"`{o['file']}`" + (f", sheet `{o['sheet']}`" if "sheet" in o else "")
        n = int((recs.partner == p.code).sum())
        lines.append(f"| {p.code} | {p.name} ({n} rows) | `{a['file']}` | {fmt} | {_crs_text(p)} | area "
                     f"{a['area_unit']}, money {a['money_unit']} | {occ} |")
    lines += [
        "", "Every asset row carries a postcode. `postcodes.csv` follows the ONS Postcode Directory layout "
        "(`pcds, lat, long, oslaua`) and covers every postcode used; `uprns.csv` follows OS Open UPRN "
        "(`UPRN, X_COORDINATE, Y_COORDINATE, LATITUDE, LONGITUDE`). Assets are scattered around real towns on "
        "land inside the three authorities. Six housing-trust sites are refuges flagged sensitive.", "",
        "## Planted problems", "",
        "Each row below must be rejected by `estate register` with the file, row and column given "
        "(`expected_rejects.csv`). Row numbers are as a user sees them: spreadsheet rows and file lines "
        "(title rows, the header and blank lines count) or 1-based feature numbers.", "",
        "| partner | file | row | column | fault | expected reason |", "|---|---|---|---|---|---|",
    ]
    for r in rejects.itertuples():
        lines.append(f"| {r.partner} | `{r.file}` | {r.row} | `{r.column}` | {r.fault} | {_FAULT_TEXT[r.fault]} |")
    blanks = [p for p in PARTNERS if p.style.get("blank_lines") or p.style.get("blank_rows")]
    outliers = recs[recs.outlier]
    lines += [
        "", "Blank lines, which are skipped rather than rejected: "
        + "; ".join(f"`{p.assets['file']}` ({p.style.get('blank_lines', 0) + p.style.get('blank_rows', 0)})"
                    for p in blanks) + ".", "",
        "Running costs per m² far outside their type's range (warnings, not rejects): "
        + "; ".join(f"{r.asset_id} ({r.asset_type}, £{r.running_cost_gbp / r.gia_m2:,.0f}/m²)"
                    for r in outliers.itertuples()) + ".", "",
        "## Shared sites", "",
        f"{len(merges)} records describe a building another partner also lists (`expected_merges.csv`): "
        f"{int((merges.rule == 'uprn').sum())} share the lead's UPRN, and "
        f"{int((merges.rule == 'near_name').sum())} have no UPRN in one of the two records but lie within 20 m "
        "and contain the lead's name (for example a council's *Delamere House* and DWP's "
        "*Crewe Jobcentre Plus, Delamere House*). The lead is the owner's record (freehold, earlier in "
        "`partners.toml`); the tenant's figures are its own costs and are not part of the totals above.", "",
        f"{len(near)} pairs of neighbouring buildings of different partners share only town or generic words and "
        "must stay separate (`expected_near_misses.csv`):", "",
    ]
    for r in near.itertuples():
        lines.append(f"- {r.name} ({r.asset_id}) and {r.other_name} ({r.other_id}), {r.distance_m:.0f} m apart")
    lines += ["", "No other records of different partners lie within "
              f"{MIN_SEPARATION_M:.0f} m of each other.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
