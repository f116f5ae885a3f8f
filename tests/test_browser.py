"""The maps and the report in a real browser (headless Chromium, offline), after the bare `estate plan`.

Skipped, with the reason, only when Chromium or its driver is not installed
(`.ci/run` installs Debian's `chromium` and `chromium-driver`).
"""

from __future__ import annotations

import io
import re
import shutil
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
#: Flags for a headless, offline, reproducible Chromium.
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
         "--disable-background-networking", "--disable-extensions", "--no-first-run", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost")
TILES = "tile.openstreetmap.org"


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        pytest.skip(f"Chromium or chromedriver not installed ({CHROMIUM}, {DRIVER}); "
                    "install Debian's chromium and chromium-driver (.ci/run does) to run the browser tests")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in FLAGS:
        options.add_argument(flag)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def _open(browser, path: Path, ready: str) -> list[dict]:
    """Load a page, wait until ``ready`` (a JS expression) is true, return the console log."""
    browser.get_log("browser")  # drop anything left from the previous page
    browser.get(path.as_uri())
    deadline = time.time() + 30
    while not browser.execute_script(f"return document.readyState === 'complete' && ({ready});"):
        assert time.time() < deadline, f"{path.name} did not finish rendering"
        time.sleep(0.2)
    time.sleep(0.5)
    return browser.get_log("browser")


def _errors(log: list[dict]) -> list[str]:
    """JavaScript errors, and failed loads of anything but background tiles (offline by design)."""
    bad = []
    for entry in log:
        if entry["level"] != "SEVERE":
            continue
        if entry.get("source") == "network" and TILES in entry["message"]:
            continue
        bad.append(entry["message"])
    return bad


def _not_blank(browser) -> None:
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB"))
    colours = len(np.unique(image.reshape(-1, 3), axis=0))
    assert colours > 50 and image.std() > 10, f"screenshot looks blank ({colours} colours)"


def _count(browser, selector: str) -> int:
    return browser.execute_script(f"return document.querySelectorAll({selector!r}).length;")


def _text(browser) -> str:
    return browser.execute_script("return document.body.innerText;")


def test_register_map_renders_offline(browser, sample_plan):
    _, out, _, _ = sample_plan
    log = _open(browser, out / "run" / "maps" / "register.html", "document.querySelector('.leaflet-marker-pane')")
    assert not _errors(log)
    assert _count(browser, ".leaflet-control-layers") == 1
    labels = browser.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label')).map(l => l.innerText);")
    assert len(labels) == 12 and any(label.strip().startswith("CWAC") for label in labels)
    assert _count(browser, ".leaflet-control-zoom-fullscreen") == 1
    assert _count(browser, ".leaflet-control-search") == 1
    assert "Running cost per m²" in _text(browser) and "sensitive sites not shown" in _text(browser)
    assert _count(browser, ".marker-cluster") > 10
    _not_blank(browser)


def test_plan_map_renders_filters_and_searches(browser, sample_plan):
    import json

    _, out, _, _ = sample_plan
    s = json.loads((out / "run" / "plan_summary.json").read_text())
    log = _open(browser, out / "run" / "maps" / "plan.html", "document.querySelectorAll('.estate-icon').length > 0")
    assert not _errors(log)
    text = _text(browser)
    assert "The plan in figures" in text and "Decision" in text and "Partner" in text
    assert f"Disposed of ({s['disposed']})" in text
    shown = _count(browser, ".estate-icon")
    ticked = browser.execute_script(
        "return Array.from(document.querySelectorAll('input[data-d]')).filter(b => b.checked)"
        ".map(b => parseInt(b.parentNode.innerText.match(/\\((\\d+)\\)/)[1])).reduce((a, b) => a + b, 0);")
    hidden = int(re.search(r"(\d+) sensitive sites? not shown", text).group(1))
    assert shown == ticked == s["kept"] + s["disposed"] - _count_outside(browser) - hidden
    assert _count(browser, "path.leaflet-interactive") >= s["teams_moved"]
    # Untick "Disposed of": the red triangles go.
    browser.execute_script("var b = document.querySelector('input[data-d=\"dispose\"]'); b.click();")
    time.sleep(0.3)
    assert _count(browser, ".estate-icon") == shown - s["disposed"]
    browser.execute_script("document.querySelector('input[data-d=\"dispose\"]').click();")
    time.sleep(0.3)
    # Untick the first exit year: that year's disposals go, and only they.
    first = pd.DataFrame(s["phasing"]).query("disposals > 0").iloc[0]
    browser.execute_script(f"document.querySelector('input[data-y=\"{first['financial_year']}\"]').click();")
    time.sleep(0.3)
    assert shown - first["disposals"] <= _count(browser, ".estate-icon") < shown
    assert _count(browser, ".leaflet-control-zoom-fullscreen") == 1 and _count(browser, ".leaflet-control-search") == 1
    _not_blank(browser)


def _count_outside(browser) -> int:
    return browser.execute_script(
        "return parseInt(document.querySelector('input[data-d=\"outside\"]').parentNode.innerText"
        ".match(/\\((\\d+)\\)/)[1]);")


def test_access_map_renders_every_view(browser, sample_plan):
    import json

    _, out, _, _ = sample_plan
    s = json.loads((out / "run" / "plan_summary.json").read_text())
    log = _open(browser, out / "run" / "maps" / "access.html",
                "document.querySelectorAll('path.leaflet-interactive').length > 0")
    assert not _errors(log)
    radios = _count(browser, ".leaflet-control-layers-base input")
    assert radios == 3 * len(s["access"])
    assert _count(browser, "path.leaflet-interactive") == 602  # one polygon per zone in the view shown
    text = _text(browser)
    assert "Minutes to the nearest site" in text and "beyond the standard" in text and "zones made worse" in text
    # Switch to the last view (a "zones made worse" layer): still 602 polygons, no errors.
    browser.execute_script("var r = document.querySelectorAll('.leaflet-control-layers-base input'); r[r.length - 1].click();")
    time.sleep(0.3)
    assert _count(browser, "path.leaflet-interactive") == 602
    assert not _errors(browser.get_log("browser"))
    _not_blank(browser)


def test_report_renders_with_its_charts(browser, sample_plan):
    _, out, _, _ = sample_plan
    log = _open(browser, out / "run" / "report.html", "document.images.length >= 2")
    assert not _errors(log)
    text = _text(browser)
    for heading in ("Headline figures", "Access to services, before and after", "Partner ledger", "Cash flow",
                    "Sensitivity of the NPV", "How sure is the optimiser?", "Assumptions"):
        assert heading in text
    assert browser.execute_script("return Array.from(document.images).every(i => i.complete && i.naturalWidth > 300);")
    links = browser.execute_script("return Array.from(document.links).map(a => a.getAttribute('href'));")
    assert {"maps/plan.html", "maps/access.html", "maps/register.html", "programme.xlsx"} <= set(links)
    for link in ("maps/plan.html", "maps/access.html", "maps/register.html", "programme.xlsx"):
        assert (out / "run" / link).exists()
    _not_blank(browser)


def test_no_sensitive_site_coordinates_in_any_html_output(sample_plan):
    _, out, _, _ = sample_plan
    register = gpd.read_file(out / "run" / "restricted" / "register.gpkg", layer="assets")
    secret = register[register["sensitive"]]
    assert len(secret) == 6
    wgs = secret.to_crs("EPSG:4326").geometry
    pages = sorted((out / "run").glob("**/*.html")) + sorted((out / "maps").glob("*.html"))
    assert {p.name for p in pages} >= {"register.html", "plan.html", "access.html", "report.html"}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        # Every two numbers written as a coordinate pair ("a, b", as in [lat, lon] and GeoJSON [lon, lat]),
        # and every lat/lng written as keys; two numbers of different markers are not a pair.
        found = re.findall(r"(?=(-?\d+\.\d{3,})\s*,\s*(-?\d+\.\d{3,}))", text)
        found += re.findall(r'"?lat"?\s*:\s*(-?\d+\.\d{3,})\s*,\s*"?(?:lng|lon)"?\s*:\s*(-?\d+\.\d{3,})', text)
        pairs = np.array(found, dtype=float).reshape(-1, 2)
        for x, y, lon, lat, name, postcode in zip(secret.geometry.x, secret.geometry.y, wgs.x, wgs.y,
                                                  secret["name"], secret["postcode"]):
            for a, b in ((lat, lon), (lon, lat)):  # [lat, lon] in markers, [lon, lat] in GeoJSON
                near = (np.abs(pairs[:, 0] - a) < 5e-4) & (np.abs(pairs[:, 1] - b) < 5e-4)
                assert not near.any(), (page.name, name)
            assert f"{x:.0f}" not in text and f"{y:.0f}" not in text, (page.name, name)
            assert name not in text, (page.name, name)
            if isinstance(postcode, str) and postcode:
                assert postcode not in text, (page.name, name)


def test_search_by_asset_name_opens_its_popup(browser, sample_plan):
    import geopandas as gpd
    from selenium.webdriver.common.by import By

    _, out, _, _ = sample_plan
    assets = gpd.read_file(out / "run" / "plan.gpkg", layer="assets")
    unique = ~assets["name"].duplicated(keep=False)
    hub = assets[(assets["decision"] == "hub") & ~assets["sensitive"] & unique].iloc[0]
    _open(browser, out / "run" / "maps" / "plan.html", "document.querySelectorAll('.estate-icon').length > 0")
    box = browser.find_element(By.CSS_SELECTOR, ".leaflet-control-search input.search-input")
    box.send_keys(hub["name"])
    deadline = time.time() + 10
    while not _count(browser, ".search-tip"):
        assert time.time() < deadline, "no search suggestions"
        time.sleep(0.2)
    tips = browser.find_elements(By.CSS_SELECTOR, ".search-tip")
    next(t for t in tips if t.text == hub["name"]).click()
    deadline = time.time() + 15
    popup = ""
    while hub["name"] not in popup:  # the map zooms to the building, then opens its popup
        assert time.time() < deadline, f"the popup did not open (last seen: {popup!r})"
        time.sleep(0.2)
        popup = browser.execute_script(
            "var p = document.querySelector('.leaflet-popup-content'); return p ? p.textContent : '';")
    assert "Hub (kept, shared by partners)" in popup
