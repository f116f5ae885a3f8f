"""The attacker: nothing shareable places a sensitive site within 1 km of where it is.

The town (conftest.write_town) has a refuge flagged sensitive, a refuge whose
flag is blank, a refuge service in the catalogue, and a confidential office,
flagged sensitive, 0.78 km from the town hall, that the plan disposes of so its
teams move out. The attacker reads every file the run folder's manifest calls
shareable and tries, for each kind of clue, to place a sensitive site:

* its name, address, UPRN or true id written anywhere;
* its true coordinates (British National Grid or latitude/longitude) anywhere;
* trilateration from travel times to known zones (``access.parquet``);
* zone minima: a zone closer to a service than any known building delivering it;
* move lines: an end that is not a known building, or a building whose teams grew
  by more than the moves it is shown to receive (a hidden team arrived from nearby);
* stand-in locations given to the withheld sites;
* the difference between the zone figures and the aggregate shares.

Each attack is run against the true data from ``restricted/`` too, where it must
succeed: so the attacker is known to work, and its failure on the shareable
files is the proof.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from pyproj import Transformer
from scipy.optimize import least_squares

from estate._io import shareable_files

from conftest import TOWN_ASSETS, TOWN_SECRETS

KM = 1000.0
SPEED_KMH = {"walk": 4.8, "car": 35.0, "public_transport": 18.0}
WAIT = {"public_transport": 10.0}
CIRCUITY = 1.3


def _text_of(path: Path) -> str:
    """Every string an attacker can read in a file, whatever its format."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    if path.suffix == ".gpkg":
        parts = []
        for layer, _ in pyogrio.list_layers(path):
            frame = pyogrio.read_dataframe(path, layer=layer)
            parts.append(frame.drop(columns="geometry", errors="ignore").to_csv())
            if "geometry" in frame:
                parts.append(" ".join(g.wkt for g in frame.geometry if g is not None))
        return "\n".join(parts)
    if path.suffix == ".parquet":
        return pd.read_parquet(path).to_csv()
    return path.read_bytes().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def town(town_plan):
    code, run, printed, errors = town_plan
    assert code == 0, errors
    files = shareable_files(run)
    assert files and not any("restricted" in f.parts for f in files)
    return run, files


def _located(gpkg: Path) -> pd.DataFrame:
    """Assets of a plan.gpkg that have a location: asset_id, x, y."""
    a = gpd.read_file(gpkg, layer="assets")
    a = a[a.geometry.notna() & ~a.geometry.is_empty]
    return pd.DataFrame({"asset_id": a["asset_id"], "x": a.geometry.x, "y": a.geometry.y})


def _near_secret(x: float, y: float, within_m: float = KM) -> list[str]:
    return [k for k, (sx, sy) in TOWN_SECRETS.items() if np.hypot(sx - x, sy - y) < within_m]


def test_the_town_has_what_the_attack_needs(town):
    run, _ = town
    true = gpd.read_file(run / "restricted" / "plan.gpkg", layer="assets").set_index("asset_id")
    assert true.loc[["H-R1", "H-R2", "P-X1"], "sensitive"].all()  # R2's flag is blank: sensitive by its type
    assert true.loc["P-X1", "decision"] == "dispose"
    moves = gpd.read_file(run / "restricted" / "plan.gpkg", layer="moves")
    assert (moves["from_asset_id"] == "P-X1").sum() == 2
    assert set(moves.loc[moves["from_asset_id"] == "P-X1", "to_asset_id"]) == {"C-C1"}  # 0.78 km away


def test_no_name_address_uprn_or_id_of_a_sensitive_site(town):
    run, files = town
    rows = [a for a in TOWN_ASSETS if a[0] in TOWN_SECRETS]
    secrets = [w for a in rows for w in (a[2], a[10], a[11]) if w] + [f"{a[1]}-{a[0]}" for a in rows]
    assert len(secrets) == 12
    restricted = _text_of(run / "restricted" / "register.gpkg")
    assert all(s in restricted for s in secrets)  # the attacker's search does find them there
    for path in files:
        text = _text_of(path)
        for secret in secrets:
            assert secret not in text, f"{secret!r} in {path.relative_to(run)}"


def _numbers(text: str) -> np.ndarray:
    return np.array([float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", text)] or [np.nan])


def test_no_true_coordinates_anywhere(town):
    run, files = town
    to_wgs = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    secrets = [(x, y, *to_wgs.transform(x, y)) for x, y in TOWN_SECRETS.values()]

    def leaks(numbers: np.ndarray) -> list[tuple]:
        near = lambda v, tol: bool((np.abs(numbers - v) < tol).any())  # noqa: E731
        return [s for s in secrets if (near(s[0], 2) and near(s[1], 2)) or (near(s[2], 2e-5) and near(s[3], 2e-5))]

    assert len(leaks(_numbers(_text_of(run / "restricted" / "register.gpkg")))) == 3  # the scan finds them there
    for path in files:
        assert not leaks(_numbers(_text_of(path))), f"a sensitive site's coordinates in {path.relative_to(run)}"


def _trilaterate(access: pd.DataFrame, origins: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Each site's position from its minutes to zones of known origin (the straight engine's model)."""
    found = {}
    o = origins.set_index("zone_id")
    for site, rows in access.groupby("site_id", observed=True):
        rows = rows[rows["zone_id"].astype(str).isin(o.index)]
        if len(rows) < 3:
            continue
        speed = rows["mode"].astype(str).map(SPEED_KMH).to_numpy() * KM / 60
        wait = rows["mode"].astype(str).map(WAIT).fillna(0.0).to_numpy()
        d = (rows["minutes"].to_numpy(float) - wait) * speed / CIRCUITY
        zx, zy = o.loc[rows["zone_id"].astype(str), "x"].to_numpy(), o.loc[rows["zone_id"].astype(str), "y"].to_numpy()
        start = np.array([zx[np.argmin(d)], zy[np.argmin(d)]])
        fit = least_squares(lambda p: np.hypot(zx - p[0], zy - p[1]) - d, start)
        found[str(site)] = tuple(fit.x)
    return found


def _zone_origins(gpkg: Path) -> pd.DataFrame:
    z = gpd.read_file(gpkg, layer="zones")
    c = z.geometry.representative_point()
    return pd.DataFrame({"zone_id": z["zone_id"].astype(str), "x": c.x, "y": c.y})


def test_trilateration_from_travel_times_fails(town):
    run, files = town
    origins = _zone_origins(run / "plan.gpkg")
    # The attack works on the restricted table: every sensitive site is found to within metres.
    true = _trilaterate(pd.read_parquet(run / "restricted" / "access.parquet"), origins)
    for key, (sx, sy) in TOWN_SECRETS.items():
        site = next(s for s in true if s.endswith(f"-{key}"))
        assert np.hypot(true[site][0] - sx, true[site][1] - sy) < 50
    known = set(_located(run / "plan.gpkg")["asset_id"])
    for path in [f for f in files if f.suffix == ".parquet"]:
        guesses = _trilaterate(pd.read_parquet(path), origins)
        hidden = {s: xy for s, xy in guesses.items() if s not in known}
        for site, (x, y) in hidden.items():
            assert not _near_secret(x, y), f"{path.name}: {site} placed at ({x:.0f}, {y:.0f})"


def _public_minima(zones: pd.DataFrame, known: pd.DataFrame, mode: str) -> pd.Series:
    """Minutes from each zone to its nearest known building (any of them) by ``mode``."""
    speed = SPEED_KMH[mode] * KM / 60
    d = np.hypot(zones["x"].to_numpy()[:, None] - known["x"].to_numpy()[None, :],
                 zones["y"].to_numpy()[:, None] - known["y"].to_numpy()[None, :])
    return pd.Series(WAIT.get(mode, 0.0) + d.min(axis=1) * CIRCUITY / speed, index=zones["zone_id"])


def _zone_minima_attack(zone_minutes: pd.DataFrame, zones: pd.DataFrame, known: pd.DataFrame,
                        modes: dict[str, str]) -> list[tuple[float, float]]:
    """Places found from zones closer to a service than any known building: a hidden site at that
    distance. Such zones are grouped into clusters (zones within 2.5 km of each other), each trilaterated."""
    from scipy.cluster.hierarchy import fcluster, linkage

    found = []
    for service, mode in modes.items():
        for col in [c for c in (f"{service}_before_min", f"{service}_after_min") if c in zone_minutes]:
            reported = zone_minutes.set_index("zone_id")[col].astype(float)
            floor = _public_minima(zones, known, mode).reindex(reported.index)
            closer = reported[(reported < floor - 0.05) & reported.notna()]
            if len(closer) < 3:
                continue
            z = zones.set_index("zone_id").loc[closer.index]
            groups = fcluster(linkage(z[["x", "y"]].to_numpy(), "single"), 2500, "distance")
            speed = SPEED_KMH[mode] * KM / 60
            for g in set(groups):
                part, minutes = z[groups == g], closer[groups == g]
                if len(part) < 3:
                    continue
                d = (minutes.to_numpy() - WAIT.get(mode, 0.0)) * speed / CIRCUITY
                fit = least_squares(lambda p: np.hypot(part["x"] - p[0], part["y"] - p[1]) - d,
                                    [part["x"].iloc[np.argmin(d)], part["y"].iloc[np.argmin(d)]])
                found.append(tuple(fit.x))
    return found


def test_zone_minima_do_not_reveal_a_hidden_site(town):
    run, _ = town
    summary = json.loads((run / "plan_summary.json").read_text())
    modes = {code: a["standard"]["mode"] for code, a in summary["access"].items()}
    zones = _zone_origins(run / "plan.gpkg")
    known = _located(run / "plan.gpkg")
    true = gpd.read_file(run / "restricted" / "plan.gpkg", layer="zones")
    placed = [_near_secret(x, y) for x, y in _zone_minima_attack(true, zones, known, modes)]
    assert {"R1", "R2"} <= {k for p in placed for k in p}  # the refuge service's true figures place both
    shared = gpd.read_file(run / "plan.gpkg", layer="zones")
    assert not any(_near_secret(x, y) for x, y in _zone_minima_attack(shared, zones, known, modes))
    csv = pd.read_csv(run / "access_zones.csv").pivot(index="zone_id", columns="service", values="minutes")
    csv = csv.add_suffix("_before_min").reset_index()
    assert not any(_near_secret(x, y) for x, y in _zone_minima_attack(csv, zones, known, modes))
    # The refuge service is delivered by sensitive sites only: its zone figures are not shared at all.
    assert not [c for c in shared.columns if c.startswith("refuge_")]
    assert "refuge" not in set(pd.read_csv(run / "access_zones.csv")["service"])


def test_no_zone_is_made_worse_under_a_no_worse_standard(tmp_path):
    """A no-worse standard held against figures that count hidden sites would let a zone look worse in the
    shared figures only where a hidden site serves it: a disc around it. The standard counts public sites
    only (the confidential office's customer desk is not a public service point), so none looks worse."""
    from conftest import write_town
    from estate.cli import main

    scenario = write_town(tmp_path)
    text = scenario.read_text().replace('standard = { mode = "walk", minutes = 30.0, share = 0.3 }',
                                        'standard = { mode = "walk", rule = "no_worse" }')
    scenario.write_text(text)
    assert main(["plan", str(scenario), "--out", str(tmp_path / "run"), "--maps", str(tmp_path / "m")]) == 0
    zones = gpd.read_file(tmp_path / "run" / "plan.gpkg", layer="zones")
    before, after = zones["library_contact_before_min"], zones["library_contact_after_min"]
    worse = before.notna() & (after.isna() | (after > before + 1e-6))
    assert not worse.any(), zones.loc[worse, ["zone_id", "library_contact_before_min", "library_contact_after_min"]]
    true = gpd.read_file(tmp_path / "run" / "restricted" / "plan.gpkg", layer="zones")
    assert (true["library_contact_before_min"].fillna(-1) == before.fillna(-1)).all()  # the same figures


def test_move_lines_and_arrivals_do_not_lead_to_a_hidden_site(town):
    run, files = town
    known = _located(run / "plan.gpkg").set_index("asset_id")
    for gpkg in [f for f in files if f.suffix == ".gpkg"]:
        moves = gpd.read_file(gpkg, layer="moves")
        for line in moves.geometry.dropna():
            for x, y in line.coords:
                at_known = (np.hypot(known["x"] - x, known["y"] - y) < 1).any()
                assert at_known or not _near_secret(x, y), f"a move line ends at ({x:.0f}, {y:.0f})"
        hidden = moves[~moves["from_asset_id"].isin(known.index) | ~moves["to_asset_id"].isin(known.index)]
        assert hidden["to_asset_id"].isin(known.index).sum() == 0  # no destination of a hidden team is named
        assert hidden["distance_km"].isna().all() and hidden.geometry.isna().all()
        # Arrivals: a building that gained more FTE than the moves it is shown to receive.
        assets = gpd.read_file(gpkg, layer="assets").set_index("asset_id")
        shown_in = moves.groupby("to_asset_id")["fte"].sum()
        shown_out = moves.groupby("from_asset_id")["fte"].sum()
        for asset_id, row in assets.iterrows():
            if asset_id not in known.index:
                continue
            gained = row["fte_after"] - row["fte_before"]
            explained = shown_in.get(asset_id, 0.0) - shown_out.get(asset_id, 0.0)
            if gained > explained + 1e-6:
                assert not _near_secret(known.loc[asset_id, "x"], known.loc[asset_id, "y"]), (
                    f"{asset_id} gained {gained - explained:g} FTE from nowhere: a hidden team arrived nearby")
    # The same check on the true plan does find the confidential office's destination.
    true_assets = gpd.read_file(run / "restricted" / "plan.gpkg", layer="assets").set_index("asset_id")
    c1 = true_assets.loc["C-C1"]
    shared_c1 = gpd.read_file(run / "plan.gpkg", layer="assets").set_index("asset_id").loc["C-C1"]
    assert c1["fte_after"] - shared_c1["fte_after"] == 18  # the two withheld teams


def test_withheld_sites_have_no_stand_in_location(town):
    run, files = town
    for gpkg in [f for f in files if f.suffix == ".gpkg"]:
        assets = gpd.read_file(gpkg, layer="assets")
        withheld = assets[assets["sensitive"].astype(bool)]
        assert len(withheld) == 3
        assert withheld.geometry.isna().all()
        assert withheld["asset_id"].str.startswith("withheld-").all()
        assert withheld[["address", "locality", "postcode", "uprn"]].isna().all().all()


def test_shares_of_sensitive_services_are_rounded_and_others_exact(town):
    run, _ = town
    summary = json.loads((run / "plan_summary.json").read_text())
    a = summary["access"]["refuge"]
    step = a["rounded_to"]
    assert step >= 0.01
    for key in ("share_before", "share_after"):
        assert abs(a[key] / step - round(a[key] / step)) < 1e-9
    exact = pd.read_csv(run / "restricted" / "access_summary.csv").set_index("service")
    table = pd.read_csv(run / "access_summary.csv").set_index("service")
    for code in ("library_contact", "housing"):  # delivered by public sites only: exact, and the same
        assert "rounded_to" not in summary["access"][code]
        assert exact.loc[code, "share_within"] == table.loc[code, "share_within"]
    assert table.loc["refuge", "zones_failing"] != table.loc["refuge", "zones_failing"]  # withheld (NaN)


def test_hidden_moves_carry_no_distance(town):
    """Costs of moves from a hidden site are worked out at the move radius, so the money columns give no
    distance either: the excess travel of every folded row is rate × FTE × max_move_km."""
    run, _ = town
    assumptions = pd.read_csv(run / "programme_assumptions.csv").set_index("parameter")["value"]
    rate = float(assumptions["excess_travel_gbp_per_fte_km"]) * float(assumptions["excess_travel_years"])
    moves = pd.read_csv(run / "programme_moves.csv")
    hidden = moves[moves["from_asset_id"] == "withheld"]
    assert len(hidden) == 1 and hidden["fte"].iloc[0] == 18
    assert hidden["distance_km"].isna().all()
    km = hidden["excess_travel_gbp"] / (rate * hidden["fte"])
    assert np.allclose(km, 10.0) and np.allclose(hidden["costed_km"], 10.0)  # the town's max_move_km
    true = gpd.read_file(run / "restricted" / "plan.gpkg", layer="moves")
    assert true.loc[true["from_asset_id"] == "P-X1", "distance_km"].max() < 1.0  # the truth: 0.81 km


def test_area_codes_finer_than_an_authority_are_withheld(tmp_path):
    """The zones reused as the register's `areas` layer would give each site the code of its square."""
    import shutil

    from conftest import write_town
    from estate.cli import main

    scenario = write_town(tmp_path)
    shutil.copy(tmp_path / "zones.gpkg", tmp_path / "town" / "squares.gpkg")
    sources = tmp_path / "town" / "partners.toml"
    sources.write_text('[register]\nareas = "squares.gpkg"\nareas_code_column = "zone_id"\n\n' + sources.read_text())
    assert main(["plan", str(scenario), "--out", str(tmp_path / "run"), "--maps", str(tmp_path / "m")]) == 0
    shared = gpd.read_file(tmp_path / "run" / "plan.gpkg", layer="assets")
    assert shared.loc[shared["sensitive"], "authority"].isna().all()
    public = shared.loc[~shared["sensitive"], "authority"].dropna()  # (sites on a square's edge have none)
    assert len(public) >= 5 and public.str.startswith("Z").all()  # public sites keep theirs
    assert shared["source_row"].isna().all()  # no row numbers: their gaps would place a withheld row


def test_register_map_and_sensitive_flag_by_type(town):
    run, _ = town
    register = gpd.read_file(run / "restricted" / "register.gpkg", layer="assets").set_index("asset_id")
    assert register.loc["H-R2", "sensitive"]  # its flag is blank; its type makes it sensitive
    warnings = pd.read_csv(run / "restricted" / "warnings.csv")
    assert warnings["reason"].str.contains("treated as sensitive").any()
    html = (run / "maps" / "register.html").read_text(encoding="utf-8")
    assert "Foxglove" not in html and "3 sensitive sites not shown" in html


def test_a_sensitive_site_never_delivers_a_public_service():
    """By its type, its listed services or its teams: only a sensitive service counts it."""
    from estate.access.metrics import service_sites
    from estate.plan.rules.access import delivers_by_asset as _delivers_by_asset
    from estate.scenario import Service

    assets = pd.DataFrame({"asset_id": ["A", "S"], "asset_type": ["office", "office"],
                           "services": ["customer_contact", "customer_contact"], "sensitive": [False, True]})
    occupiers = pd.DataFrame({"asset_id": ["A", "S", "A"], "service": ["customer_contact"] * 3,
                              "confidential": [False, True, True], "front_facing": True})
    public = Service("contact", "Contact", services=("customer_contact",), asset_types=("office",))
    assert list(service_sites(assets, occupiers, public)) == ["A"]
    assert _delivers_by_asset(assets, public).tolist() == [True, False]
    hidden = Service("refuge", "Refuge", services=("customer_contact",), asset_types=("office",), sensitive=True)
    assert list(service_sites(assets, occupiers, hidden)) == ["A", "S"]
    only_confidential = occupiers.assign(confidential=[True, True, True])
    assert list(service_sites(assets.assign(asset_type="depot", services=""), only_confidential, public)) == []


def test_a_service_mixing_sensitive_and_public_parts_is_refused(tmp_path):
    """Its rule would count the hidden refuges while its public part is shared exactly."""
    from conftest import write_town
    from estate._errors import SourceErrors
    from estate.scenario import load_scenario

    scenario = write_town(tmp_path, '\n[services.safe]\nname = "Safe accommodation and housing"\n'
                                    'services = ["refuge", "housing"]\nstandard = { mode = "walk", rule = "no_worse" }\n')
    with pytest.raises(SourceErrors, match=r"key 'services.safe': mixes sensitive \(refuge\) and public \(housing\)"):
        load_scenario(scenario)


def test_the_shared_summary_keeps_no_count_of_buildings_within_reach(town):
    """The number of team-building options counts the hosts within the move radius of each team's home,
    a confidential one's included: a sweep of radii would trace its place."""
    run, _ = town
    shared = json.loads((run / "plan_summary.json").read_text())["model"]
    assert set(shared) <= {"buildings_free", "buildings_forced_keep", "buildings_must_exit", "movable_teams"}
    assert "team_building_options" in json.loads((run / "restricted" / "run.json").read_text())["model"]
    moves = pd.read_csv(run / "programme_moves.csv")
    assert not {"source_row", "source_file", "home", "fixed", "confidential"} & set(moves.columns)


def test_another_record_beside_a_sensitive_site_is_treated_as_sensitive(tmp_path):
    """A second partner lists the refuge's building under another name and no flag: it would otherwise be
    shared at the refuge's exact place."""
    from conftest import TOWN_ORIGIN, write_town
    from estate.pipeline import compute_access
    from estate.scenario import load_scenario

    scenario = write_town(tmp_path)
    x, y = TOWN_ORIGIN[0] + 7350 + 12, TOWN_ORIGIN[1] + 6150
    assets = tmp_path / "town" / "assets_C.csv"
    assets.write_text(assets.read_text() + f"C9,Flats 2-4 Hidden Lane,office,freehold,300,30000,100000,{x},{y},,,,\n")
    run = compute_access(load_scenario(scenario))
    a = run.register.assets.set_index("asset_id")
    assert a.loc["C-C9", "sensitive"] and "12 m from the sensitive site H-R1" in " ".join(run.register.warnings["reason"])


def _shared_fingerprint(run: Path) -> dict[str, object]:
    """What every shareable file says, timings, dates and the run's own paths aside."""
    out = {}
    for path in shareable_files(run):
        rel = path.relative_to(run).as_posix()
        if path.suffix == ".json":
            value = json.loads(path.read_text())
            for key in ("build_seconds", "solve_seconds", "command", "recosted_with"):
                value.pop(key, None)
            out[rel] = value
        elif path.suffix == ".csv":
            out[rel] = pd.read_csv(path).to_csv()
        elif path.suffix in (".gpkg", ".parquet"):
            out[rel] = _text_of(path)
    return out


def test_moving_a_sensitive_site_changes_nothing_shared(tmp_path):
    """The strongest form of the claim: move the confidential office and both refuges elsewhere in the town
    (every host still within reach) and every shareable table, layer and summary is the same."""
    import csv as _csv

    from conftest import TOWN_ORIGIN, write_town
    from estate.cli import main

    runs = []
    for name, shift in (("here", {}), ("there", {"X1": (2.6, 6.8), "R1": (8.6, 3.3), "R2": (3.4, 1.4)})):
        d = tmp_path / name
        scenario = write_town(d)
        for owner in ("H", "P"):
            path = d / "town" / f"assets_{owner}.csv"
            with open(path, newline="") as fh:
                rows = list(_csv.reader(fh))
            for r in rows[1:]:
                if r[0] in shift:
                    r[7], r[8] = (str(TOWN_ORIGIN[0] + shift[r[0]][0] * 1000), str(TOWN_ORIGIN[1] + shift[r[0]][1] * 1000))
            with open(path, "w", newline="") as fh:
                _csv.writer(fh).writerows(rows)
        assert main(["plan", str(scenario), "--out", str(d / "run"), "--maps", str(d / "maps")]) == 0
        runs.append(d / "run")
    true = [gpd.read_file(r / "restricted" / "plan.gpkg", layer="assets").set_index("asset_id") for r in runs]
    assert true[0].loc["P-X1"].geometry.distance(true[1].loc["P-X1"].geometry) > 2000  # really moved
    first, second = (_shared_fingerprint(r) for r in runs)
    assert first.keys() == second.keys()
    differ = [k for k in first if first[k] != second[k]]
    assert not differ, differ


def test_a_building_reopened_by_a_team_from_a_withheld_site_is_not_named():
    """The reopening line of the building a confidential team moved into would name where it went."""
    from test_finance import FIN, _estate, _moves

    from estate.finance import cost_programme
    from estate.privacy import Redaction

    assets = _estate({"asset_id": "S", "partner": "A", "teams_before": 1, "sensitive": True},
                     {"asset_id": "H", "partner": "B", "decision": "keep", "gia_m2": 500.0, "teams_before": 0,
                      "sensitive": False, "name": "Town Library Annexe"})
    prog = cost_programme(assets, _moves(("CONF1", "A", 10.0, 64.0, "S", "H", 10.0)), FIN)
    assert (prog.flows["item_id"] == "H").any()  # the truth, restricted
    shared = Redaction.of(assets, pd.DataFrame({"occupier_id": ["CONF1"], "asset_id": ["S"]})).programme(prog)
    flows = shared.flows
    assert not (flows["item_id"] == "H").any() and not flows["item"].astype(str).str.contains("Annexe").any()
    assert flows["pv_gbp"].sum() == pytest.approx(prog.flows["pv_gbp"].sum())  # the same totals


def test_a_space_request_table_never_names_a_sensitive_site_when_shared():
    """The model never houses a request in a sensitive site, but the shared table withholds one all the
    same (a hand-made programme that says it did)."""
    from test_finance import FIN, _estate

    from estate.finance import cost_programme
    from estate.privacy import Redaction

    assets = _estate({"asset_id": "S", "partner": "A", "decision": "keep", "teams_before": 1, "sensitive": True},
                     {"asset_id": "H", "partner": "B", "decision": "keep", "teams_before": 1, "sensitive": False})
    requests = pd.DataFrame({"request_id": ["R1", "R2"], "partner": "A", "service": "back_office", "fte": 5.0,
                             "need_m2": 32.0, "from_year": 1, "financial_year": "2028/29",
                             "new_lease_gbp_per_m2": 200.0, "housed_in": ["S", "H"], "host_partner": ["A", "B"],
                             "outcome": ["own space", "another partner's space"],
                             "reason": ["housed in S, its own partner's building", "housed in H, a B building"]})
    prog = cost_programme(assets, pd.DataFrame(columns=["occupier_id", "team", "partner", "fte", "need_m2",
                                                        "from_asset_id", "to_asset_id", "distance_km"]),
                          FIN, requests=requests)
    shared = Redaction.of(assets, pd.DataFrame({"occupier_id": ["T"], "asset_id": ["S"]})).programme(prog).requests
    assert "S" not in set(shared["housed_in"]) and not shared["reason"].str.contains(r"\bS\b").any()
    assert shared.loc[1, "housed_in"] == "H" and prog.requests.loc[0, "housed_in"] == "S"
