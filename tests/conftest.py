"""Shared fixtures: a small hand-made set of partner files in every format.

Figures are chosen so results can be checked by hand:
- ALPHA (CSV, UTF-8, BNG, m², £): three sites near Chester.
- BRAVO (CSV, Windows-1252, header on row 3, blank lines, sq ft, £k, WGS84).
- CHARLIE (Excel, sheet "Sites", header on row 2, located by postcode).
- DELTA (GeoJSON, WGS84 points).
- ECHO (GeoPackage, BNG points, located by geometry) and UPRN-only rows in FOXTROT (CSV).
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
from shapely.geometry import Point

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ESTATE_SHARED", REPO.parent / "shared"))

LOOKUP_POSTCODES = """pcds,lat,long,oslaua
CH1 2HJ,53.1910,-2.8916,E06000050
CH1 1AA,53.1900,-2.8900,E06000050
CW1 2BJ,53.0979,-2.4410,E06000049
WA1 1UH,53.3900,-2.5970,E06000007
"""
LOOKUP_UPRNS = """UPRN,X_COORDINATE,Y_COORDINATE,LATITUDE,LONGITUDE
100010001,340600.0,366200.0,53.19,-2.89
100010002,360400.0,388300.0,53.39,-2.597
"""

ALPHA_CSV = """Ref,Site Name,Use,Tenure,GIA,Cost,Value,Easting,Northing,UPRN,Postcode,Listed
A1,Delamere House,Admin Office,FH,1000,"£150,000","£2,000,000",340520,366350,100010001,CH1 2HJ,No
A2,Chester Library,Library,FH,500,"£40,000",,340700,366100,,CH1 1AA,Yes
A3,Hoole Depot,depot,LH,2000,"£60,000",£450k,342000,367000,,,
"""
# Windows-1252, header on row 3 after a title and a blank line, a blank line in the data.
BRAVO_CSV = ("Cheshire Bravo property list\r\n\r\n"
             "ID;Name;Type;Tenure;Area;Running £k;Lat;Lon\r\n"
             "B1;Crewe Jobcentre Plus, Delamere House;office;licence;\"12,500 sq ft\";12.5;53.19101;-2.89160\r\n"
             "\r\n"
             "B2;Crewe Station;police_station;freehold;10764;250;53.0979;-2.4410\r\n")


#: The column names the small hand-written test files use.
BASE_COLUMNS = {"source_id": "Ref", "name": "Name", "asset_type": "Type", "tenure": "Tenure",
                "gia_m2": "GIA", "running_cost_gbp": "Cost"}
BNG_XY = {"method": "xy", "x": "X", "y": "Y", "crs": "EPSG:27700"}


def partner_toml(code: str, file: str, *, columns: dict | None = None, location: dict | None = None,
                 **assets: object) -> str:
    """One ``[[partners]]`` entry of a sources file (``BASE_COLUMNS`` plus ``columns``)."""
    def table(name: str, values: dict) -> str:
        return f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
    return (f"[[partners]]\ncode = {json.dumps(code)}\n"
            + table("partners.assets", {"file": file, **assets})
            + table("partners.assets.location", location or BNG_XY)
            + table("partners.assets.columns", {**BASE_COLUMNS, **(columns or {})}))


def write_alpha(d: Path) -> None:
    (d / "alpha.csv").write_text(ALPHA_CSV, encoding="utf-8")


def write_all(d: Path) -> Path:
    """Write the five-partner fixture into ``d`` and return its partners.toml."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "postcodes.csv").write_text(LOOKUP_POSTCODES, encoding="utf-8")
    (d / "uprns.csv").write_text(LOOKUP_UPRNS, encoding="utf-8")
    write_alpha(d)
    (d / "alpha_teams.csv").write_text(
        "Ref,Team,Service,FTE,Public\nA1,Revenues,back_office,40,No\nA2,Library team,library,6,Yes\n"
        "A9,Ghost team,back_office,3,No\n", encoding="utf-8")
    (d / "bravo.csv").write_bytes(BRAVO_CSV.replace(",", ",").encode("cp1252"))
    (d / "bravo_teams.csv").write_text("ID,Team,Service,FTE\nB1,Work coaches,employment,12\n",
                                       encoding="utf-8")

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Sites"
    ws.append(["Charlie NHS estate"])
    ws.append(["Code", "Site", "Category", "Tenure", "GIA sq m", "Annual cost", "Postcode"])
    ws.append([101, "Crewe Health Centre", "health_centre", "freehold", 800, 96000, "cw1 2bj"])
    ws.append([102, "Warrington Clinic", "clinic", "leasehold", 300, 45000, "WA11UH"])
    book.create_sheet("Notes")
    book.save(d / "charlie.xlsx")

    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.5970, 53.3900]},
         "properties": {"site_ref": "F1", "title": "Warrington Fire Station", "kind": "fire_station",
                        "own": "freehold", "m2": 1200, "cost_gbp": 130000}},
    ]
    (d / "delta.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))

    gdf = gpd.GeoDataFrame({"pid": ["E1"], "pname": ["Birchwood Park Office"], "ptype": ["office"],
                            "ptenure": ["leasehold"], "area": [900.0], "cost": [110000.0]},
                           geometry=[Point(363500, 391500)], crs="EPSG:27700")
    gdf.to_file(d / "echo.gpkg", layer="property", driver="GPKG")

    (d / "foxtrot.csv").write_text(
        "Id,Name,Type,Tenure,Area,Cost,UPRN\nX1,Hoole Clinic,clinic,licence,50,9000,100010002\n",
        encoding="utf-8")

    toml = textwrap.dedent("""
        [register]
        postcode_lookup = "postcodes.csv"
        uprn_lookup = "uprns.csv"
        dedupe_distance_m = 50
        dedupe_name_similarity = 80

        [[partners]]
        code = "ALPHA"
        name = "Alpha Council"
        kind = "council"
        [partners.assets]
        file = "alpha.csv"
        [partners.assets.location]
        method = "xy"
        x = "Easting"
        y = "Northing"
        crs = "EPSG:27700"
        fallback = "postcode"
        [partners.assets.columns]
        source_id = "Ref"
        name = "Site Name"
        asset_type = "Use"
        tenure = "Tenure"
        gia_m2 = "GIA"
        running_cost_gbp = "Cost"
        market_value_gbp = "Value"
        uprn = "UPRN"
        postcode = "Postcode"
        listed = "Listed"
        [partners.assets.values.asset_type]
        "Admin Office" = "office"
        [partners.assets.values.tenure]
        FH = "freehold"
        LH = "leasehold"
        [partners.occupiers]
        file = "alpha_teams.csv"
        [partners.occupiers.columns]
        source_id = "Ref"
        team = "Team"
        service = "Service"
        fte = "FTE"
        front_facing = "Public"

        [[partners]]
        code = "BRAVO"
        kind = "dwp"
        [partners.assets]
        file = "bravo.csv"
        encoding = "cp1252"
        delimiter = ";"
        header_row = 3
        area_unit = "sqft"
        money_unit = "gbp_k"
        [partners.assets.location]
        method = "xy"
        x = "Lon"
        y = "Lat"
        crs = "EPSG:4326"
        [partners.assets.columns]
        source_id = "ID"
        name = "Name"
        asset_type = "Type"
        tenure = "Tenure"
        gia_m2 = "Area"
        running_cost_gbp = "Running £k"
        [partners.occupiers]
        file = "bravo_teams.csv"
        [partners.occupiers.columns]
        source_id = "ID"
        team = "Team"
        service = "Service"
        fte = "FTE"

        [[partners]]
        code = "CHARLIE"
        kind = "nhs"
        [partners.assets]
        file = "charlie.xlsx"
        sheet = "Sites"
        header_row = 2
        [partners.assets.location]
        method = "postcode"
        [partners.assets.columns]
        source_id = "Code"
        name = "Site"
        asset_type = "Category"
        tenure = "Tenure"
        gia_m2 = "GIA sq m"
        running_cost_gbp = "Annual cost"
        postcode = "Postcode"

        [[partners]]
        code = "DELTA"
        kind = "fire"
        [partners.assets]
        file = "delta.geojson"
        [partners.assets.location]
        method = "geometry"
        [partners.assets.columns]
        source_id = "site_ref"
        name = "title"
        asset_type = "kind"
        tenure = "own"
        gia_m2 = "m2"
        running_cost_gbp = "cost_gbp"

        [[partners]]
        code = "ECHO"
        kind = "housing"
        [partners.assets]
        file = "echo.gpkg"
        layer = "property"
        [partners.assets.location]
        method = "geometry"
        [partners.assets.columns]
        source_id = "pid"
        name = "pname"
        asset_type = "ptype"
        tenure = "ptenure"
        gia_m2 = "area"
        running_cost_gbp = "cost"

        [[partners]]
        code = "FOXTROT"
        kind = "nhs"
        [partners.assets]
        file = "foxtrot.csv"
        [partners.assets.location]
        method = "uprn"
        [partners.assets.columns]
        source_id = "Id"
        name = "Name"
        asset_type = "Type"
        tenure = "Tenure"
        gia_m2 = "Area"
        running_cost_gbp = "Cost"
        uprn = "UPRN"
    """)
    path = d / "partners.toml"
    path.write_text(toml, encoding="utf-8")
    return path


def scenario_copy(folder: Path, name: str, *changes: tuple[str, str]) -> Path:
    """The built-in scenario with ``(old, new)`` text changes, written to ``folder/name``;
    its data paths point back into the repository, which it allows itself to read."""
    text = (REPO / "models/cheshire-warrington.toml").read_text()
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    text = text.replace('sources = "../data', f'sources = "{REPO}/data').replace('zones = "../data', f'zones = "{REPO}/data')
    text = text.replace('allowed_folders = [".."]', f'allowed_folders = ["{REPO}"]')
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
def mini_sources(tmp_path: Path) -> Path:
    """Path of the five-partner fixture's partners.toml."""
    return write_all(tmp_path / "mini")


@pytest.fixture
def shared_dir() -> Path:
    """The shared folder (``ESTATE_SHARED``, default ``../shared``); skips if absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared material not found at {SHARED} (set ESTATE_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def sample_plan(tmp_path_factory):
    """`estate plan` on the built-in scenario, run once for the tests below, with a safety time limit
    of 1 s: the plan is then the deterministic start (the greedy), which every property the tests
    check holds for. A default run adds the
    solver's root search (about 2 minutes here, within the 900 s safety limit), measured in
    benchmarks/plan_determinism.py, not in the suite."""
    import contextlib
    import io

    from estate.cli import main

    out = tmp_path_factory.mktemp("plan")
    printed, errors = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
        code = main(["plan", str(REPO / "models/cheshire-warrington.toml"), "--out", str(out / "run"),
                     "--maps", str(out / "maps"), "--time-limit", "1"])
    return code, out, printed.getvalue(), errors.getvalue()


# --------------------------------------------------------------------------
# A small town with sensitive sites, planned end to end in a few seconds
# --------------------------------------------------------------------------

#: Origin of the town's 10 km × 10 km grid (British National Grid metres; on land in Cheshire).
TOWN_ORIGIN = (400_000.0, 370_000.0)
#: (id, partner, name, type, gia m², running £, value £, x km, y km, sensitive, address, uprn, statutory)
TOWN_ASSETS = [
    ("C1", "C", "Town Hall", "office", 3000, 300_000, 5_000_000, 5.0, 5.0, "", "1 Market Square", "", "yes"),
    ("C2", "C", "Civic Offices West", "office", 1500, 250_000, 2_000_000, 2.0, 2.2, "", "2 West Street", "", ""),
    ("C3", "C", "North Offices", "office", 1200, 200_000, 1_500_000, 5.2, 8.3, "", "3 North Road", "", ""),
    ("C4", "C", "South Offices", "office", 1200, 210_000, 1_600_000, 5.1, 2.1, "", "4 South Road", "", ""),
    ("L1", "C", "Library North", "library", 600, 60_000, 500_000, 2.1, 8.1, "", "5 Book Lane", "", ""),
    ("L2", "C", "Library East", "library", 600, 60_000, 500_000, 8.2, 2.3, "", "6 Page Street", "", ""),
    ("L3", "C", "Library North East", "library", 600, 55_000, 500_000, 8.0, 7.9, "", "7 Verse Row", "", ""),
    ("L4", "C", "Central Library", "library", 800, 80_000, 600_000, 3.2, 5.3, "", "8 Shelf Street", "", ""),
    ("H1", "H", "Housing Office", "housing_office", 500, 70_000, 400_000, 7.0, 5.0, "", "9 Key Street", "", ""),
    ("R1", "H", "Larkspur House", "refuge", 400, 30_000, 600_000, 7.35, 6.15, "yes", "12 Hidden Lane",
     "100099000001", ""),
    ("R2", "H", "Foxglove Lodge", "refuge", 350, 28_000, 550_000, 1.65, 3.85, "", "3 Quiet Road",
     "100099000002", ""),
    ("X1", "P", "Orchard Court", "office", 900, 400_000, 3_000_000, 5.6, 5.55, "yes", "Unit 7 Orchard Court",
     "100099000003", ""),
    ("P1", "P", "Police Station", "police_station", 1000, 150_000, 1_200_000, 4.0, 6.5, "", "10 Beat Street", "",
     "yes"),
]
#: (asset id, team, service, fte, front facing)
TOWN_TEAMS = [
    ("C1", "Revenues", "back_office", 30, "no"), ("C2", "Planning", "back_office", 25, "no"),
    ("C3", "Housing options", "housing", 10, "yes"), ("C4", "Benefits", "back_office", 20, "no"),
    ("L1", "Library team", "library", 4, "yes"), ("L2", "Library team", "library", 4, "yes"),
    ("L3", "Library team", "library", 4, "yes"), ("L4", "Library team", "library", 5, "yes"),
    ("H1", "Tenancy team", "housing", 8, "yes"), ("R1", "Refuge support", "refuge", 3, "no"),
    ("R2", "Refuge support", "refuge", 2, "no"), ("X1", "Public protection unit", "back_office", 12, "no"),
    ("X1", "Safeguarding desk", "customer_contact", 6, "yes"), ("P1", "Neighbourhood policing", "policing", 20, "no"),
]
#: The town's sensitive sites: id -> (easting, northing).
TOWN_SECRETS = {a[0]: (TOWN_ORIGIN[0] + a[7] * 1000, TOWN_ORIGIN[1] + a[8] * 1000)
                for a in TOWN_ASSETS if a[3] == "refuge" or a[9] == "yes"}

TOWN_SCENARIO = """
name = "town"
[data]
sources = "town/partners.toml"
zones = "zones.gpkg"
zone_id = "zone_id"
population = "population"
[access]
engine = "straight"
cutoff_minutes = 60.0
circuity = 1.3
[access.speed_kmh]
walk = 4.8
car = 35.0
public_transport = 18.0
[access.wait_minutes]
public_transport = 10.0
[services.library_contact]
name = "Library and customer contact"
services = ["library", "customer_contact"]
asset_types = ["library"]
standard = { mode = "walk", minutes = 30.0, share = 0.3 }
[services.refuge]
name = "Refuge places"
services = ["refuge"]
asset_types = ["refuge"]
standard = { mode = "car", minutes = 20.0, share = 0.5 }
[services.housing]
name = "Housing advice"
services = ["housing"]
asset_types = ["housing_office"]
standard = { mode = "car", minutes = 30.0, share = 0.9 }
[plan]
host_asset_types = ["office", "library", "housing_office", "police_station"]
keep_asset_types = ["refuge"]
fixed_services = ["refuge", "policing"]
max_move_km = 10.0
gap = 0.0
time_limit_seconds = 120.0
"""


def write_town(d: Path, scenario_extra: str = "") -> Path:
    """Write the small town (zones, two partners' files, a scenario) into ``d``; return the scenario.

    Two refuges (one flagged sensitive, one whose flag is blank) and a confidential
    office (flagged sensitive, expensive, 0.78 km from the town hall) whose teams
    move out when the plan disposes of it.
    """
    import csv as _csv

    from shapely.geometry import box

    d.mkdir(parents=True, exist_ok=True)
    x0, y0 = TOWN_ORIGIN
    cells = [(i, j) for j in range(10) for i in range(10)]
    zones = gpd.GeoDataFrame({"zone_id": [f"Z{i}{j}" for i, j in cells],
                              "population": [1000 + 17 * k for k in range(len(cells))]},
                             geometry=[box(x0 + i * 1000, y0 + j * 1000, x0 + (i + 1) * 1000, y0 + (j + 1) * 1000)
                                       for i, j in cells], crs="EPSG:27700")
    zones.to_file(d / "zones.gpkg", layer="zones", driver="GPKG")
    town = d / "town"
    town.mkdir(exist_ok=True)
    by_owner = {a[0]: a[1] for a in TOWN_ASSETS}
    for owner in sorted(set(by_owner.values())):
        with open(town / f"teams_{owner}.csv", "w", newline="", encoding="utf-8") as fh:
            w = _csv.writer(fh)
            w.writerow(["Ref", "Team", "Service", "FTE", "Public"])
            for t in TOWN_TEAMS:
                if by_owner[t[0]] == owner:
                    w.writerow(t)
    partners = []
    for owner in sorted(set(by_owner.values())):
        rows = [a for a in TOWN_ASSETS if a[1] == owner]
        with open(town / f"assets_{owner}.csv", "w", newline="", encoding="utf-8") as fh:
            w = _csv.writer(fh)
            w.writerow(["Ref", "Name", "Type", "Tenure", "GIA", "Cost", "Value", "X", "Y", "Sensitive", "Address",
                        "UPRN", "Statutory"])
            for a in rows:
                w.writerow([a[0], a[2], a[3], "freehold", a[4], a[5], a[6], x0 + a[7] * 1000, y0 + a[8] * 1000,
                            a[9], a[10], a[11], a[12]])
        partners.append(textwrap.dedent(f"""
            [[partners]]
            code = "{owner}"
            kind = "{ {'C': 'council', 'H': 'housing', 'P': 'police'}[owner] }"
            [partners.assets]
            file = "assets_{owner}.csv"
            [partners.assets.location]
            method = "xy"
            x = "X"
            y = "Y"
            crs = "EPSG:27700"
            [partners.assets.columns]
            source_id = "Ref"
            name = "Name"
            asset_type = "Type"
            tenure = "Tenure"
            gia_m2 = "GIA"
            running_cost_gbp = "Cost"
            market_value_gbp = "Value"
            sensitive = "Sensitive"
            address = "Address"
            uprn = "UPRN"
            statutory = "Statutory"
            [partners.occupiers]
            file = "teams_{owner}.csv"
            [partners.occupiers.columns]
            source_id = "Ref"
            team = "Team"
            service = "Service"
            fte = "FTE"
            front_facing = "Public"
            """))
    (town / "partners.toml").write_text("\n".join(partners), encoding="utf-8")
    path = d / "scenario.toml"
    path.write_text(TOWN_SCENARIO + scenario_extra, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def town_plan(tmp_path_factory):
    """The town planned once: (exit code, run folder, printed output, errors)."""
    import contextlib
    import io

    from estate.cli import main

    d = tmp_path_factory.mktemp("town")
    scenario = write_town(d)
    printed, errors = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
        code = main(["plan", str(scenario), "--out", str(d / "run"), "--maps", str(d / "maps")])
    return code, d / "run", printed.getvalue(), errors.getvalue()
