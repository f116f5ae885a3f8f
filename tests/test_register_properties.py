"""Property: whatever mix of good and bad rows comes in, no row is lost or counted twice."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from estate.register import build_register, load_sources

from conftest import partner_toml

GOOD = {"gia": "100", "cost": "£20,000", "x": "340500", "type": "office"}
BAD = {
    "gia": ["TBC", "-5", "0"],
    "cost": ["-1", "lots"],
    "x": ["", "abc", "900000"],
    "type": ["warehouse"],
}

row = st.fixed_dictionaries({
    "field": st.sampled_from([None, *BAD]),
    "choice": st.integers(0, 2),
    "dup": st.booleans(),
    "partner": st.sampled_from(["A", "B"]),
    "name": st.sampled_from(["Delamere House", "Town Hall", "Depot"]),
})


def _write(d: Path, rows: list[dict]) -> Path:
    """Two partners' CSVs from ``rows``; returns the sources file."""
    lines = {"A": [], "B": []}
    for i, r in enumerate(rows):
        values = dict(GOOD)
        if r["field"]:
            options = BAD[r["field"]]
            values[r["field"]] = options[r["choice"] % len(options)]
        ref = "R0" if r["dup"] else f"R{i + 1}"
        # Spread sites 200 m apart so only deliberate neighbours are near each other.
        x = values["x"] if r["field"] == "x" else str(340000 + 200 * i)
        lines[r["partner"]].append(f"{ref},{r['name']},{values['type']},freehold,{values['gia']},"
                                  f"\"{values['cost']}\",{x},366300")
    partners = []
    for code, body in lines.items():
        (d / f"{code}.csv").write_text("Ref,Name,Type,Tenure,GIA,Cost,X,Y\n" + "\n".join(body) + "\n")
        partners.append(partner_toml(code, f"{code}.csv"))
    path = d / "partners.toml"
    path.write_text("\n".join(partners))
    return path


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, min_size=1, max_size=12))
def test_rows_in_equal_assets_plus_merged_plus_rejected(rows):
    d = Path(tempfile.mkdtemp())
    try:
        register = build_register(load_sources(_write(d, rows)))
    finally:
        shutil.rmtree(d)
    c = register.counts
    assert c["asset_rows"].sum() == len(rows)
    assert len(rows) == len(register.assets) + len(register.merges) + c["asset_rows_rejected"].sum()
    # Every row with no fault and a unique id survives, as a site or merged into one.
    refs = [("R0" if r["dup"] else f"R{i + 1}", r["partner"]) for i, r in enumerate(rows)]
    survivors = set(register.assets["asset_id"]) | set(register.merges["merged_id"])
    for (ref, partner), r in zip(refs, rows):
        unique = sum(1 for (f, p) in refs if f == ref and p == partner) == 1
        if r["field"] is None and unique:
            assert f"{partner}-{ref}" in survivors
