"""The programme workbook is a live model an auditor can change: recalculated with the `formulas`
library after changing an assumption, it agrees with the Python costing under the same change."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

formulas = pytest.importorskip("formulas")
from openpyxl import load_workbook  # noqa: E402

from estate.finance import cost_programme, sensitivity_table  # noqa: E402
from estate.finance.workbook import write_workbook  # noqa: E402
from estate.scenario import FinanceSettings  # noqa: E402

# A short horizon keeps the workbook small and the recalculations fast.
FIN = FinanceSettings(first_year=2027, horizon_years=6, discount_rate=0.035, earliest_exit_year=1,
                      double_running_months=3.0, optimism_bias=0.2, receipt_lag_months=6.0,
                      excess_travel_gbp_per_fte_km=30.0, excess_travel_years=4, sharing_rule="pro-rata")


def _asset(**kw) -> dict:
    base = {"asset_id": "A", "name": kw.get("asset_id", "A"), "partner": "P", "decision": "dispose",
            "tenure": "freehold", "lease_break_date": pd.NaT, "lease_expiry_date": pd.NaT, "gia_m2": 100.0,
            "running_cost_gbp": 10_000.0, "market_value_gbp": 500_000.0, "backlog_maintenance_gbp": np.nan,
            "teams_before": 1}
    return {**base, **kw}


def _moves(*rows: tuple, service: bool = True) -> pd.DataFrame:
    """(id, partner, fte, need_m2, from, to, km) tuples."""
    columns = ["occupier_id", "team", "partner", "service", "fte", "need_m2", "from_asset_id", "to_asset_id",
               "distance_km"]
    out = pd.DataFrame([dict(zip(columns, (o, o, p, "back_office", f, n, a, b, k))) for o, p, f, n, a, b, k in rows],
                       columns=columns)
    return out if service else out.drop(columns="service")


# Two partners. A sells freehold X (with backlog); B gives up leasehold Y at its break (1 April 2030,
# year 3). A's team TA moves into A's own building H; B's team TB moves into H as A's guest; A's team
# TC moves into E, B's building, empty today, which B brings back into use.
ESTATE = pd.DataFrame([
    _asset(asset_id="X", partner="A", running_cost_gbp=30_000.0, market_value_gbp=200_000.0,
           backlog_maintenance_gbp=20_000.0),
    _asset(asset_id="Y", partner="B", tenure="leasehold", lease_break_date=pd.Timestamp("2030-04-01"),
           running_cost_gbp=40_000.0, market_value_gbp=np.nan, gia_m2=300.0),
    _asset(asset_id="H", partner="A", decision="keep", teams_before=2),
    _asset(asset_id="E", partner="B", decision="keep", gia_m2=200.0, teams_before=0),
])
MOVES = _moves(("TA", "A", 10.0, 64.0, "X", "H", 1.0), ("TB", "B", 20.0, 128.0, "Y", "H", 2.0),
               ("TC", "A", 5.0, 32.0, "X", "E", 3.0))

# Space requests: B's R1 is housed in A's H from 2029/30 (a guest: occupancy charge), A's R2 in its own H
# from 2031/32, and A's R3 takes a new lease (nothing in the programme).
REQUESTS = pd.DataFrame({
    "request_id": ["R1", "R2", "R3"], "partner": ["B", "A", "A"], "service": "back_office", "fte": [8.0, 4.0, 2.0],
    "need_m2": [51.2, 25.6, 12.8], "from_year": [2, 4, 1], "financial_year": ["2029/30", "2031/32", "2028/29"],
    "new_lease_gbp_per_m2": [200.0, 250.0, 300.0], "housed_in": ["H", "H", ""], "host_partner": ["A", "A", ""],
    "outcome": ["a hub", "a hub", "new lease"], "reason": ["", "", "no room"]})

SUMMARY = {"Net present value": "npv_gbp", "Capital receipts": "capital_receipts_gbp",
           "One-off costs": "one_off_costs_gbp", "Cashable savings over the horizon": "cashable_savings_gbp",
           "Residual value forgone (present value)": "residual_value_forgone_pv_gbp",
           "Steady-state annual running-cost saving": "annual_saving_gbp", "Payback year": "payback_year"}


class Book:
    """A written workbook, loaded once into a `formulas` model and recalculated on demand."""

    def __init__(self, prog, folder):
        self.path = folder / "programme.xlsx"  # the file name is part of every cell key
        write_workbook(prog, self.path, scenario="test")
        self.wb = load_workbook(self.path)
        self.model = formulas.ExcelModel().loads(str(self.path)).finish()
        self.rows = {self.wb["Assumptions"].cell(row=r, column=1).value: r
                     for r in range(2, self.wb["Assumptions"].max_row + 1)}
        self.values = {}

    def key(self, sheet: str, ref: str) -> str:
        return f"'[programme.xlsx]{sheet.upper()}'!{ref}"

    def calculate(self, **changes) -> Book:
        """Recalculate with assumptions changed, named as in column A of the Assumptions sheet
        (``optimism_bias=0.5``; ``**{"sensitivity.receipts (low)": -0.5}`` for a sensitivity bound)."""
        inputs = {self.key("Assumptions", f"B{self.rows[name]}"): value for name, value in changes.items()}
        self.values = self.model.calculate(inputs=inputs) if inputs else self.model.calculate()
        return self

    def get(self, sheet: str, ref: str):
        cell = self.wb[sheet][ref]
        if isinstance(cell.value, str) and cell.data_type == "f":
            value = self.values[self.key(sheet, ref)].value[0, 0]
            return value.item() if hasattr(value, "item") else value
        return cell.value

    def summary(self) -> dict:
        ws = self.wb["Summary"]
        return {ws.cell(row=r, column=1).value: self.get("Summary", f"B{r}") for r in range(2, ws.max_row + 1)
                if ws.cell(row=r, column=2).value is not None}

    def table(self, sheet: str, key: str) -> dict[str, dict]:
        """Rows of a sheet by the value in column ``key`` (to the TOTAL row)."""
        ws = self.wb[sheet]
        header = [c.value for c in ws[1]]
        out = {}
        for r in range(2, ws.max_row + 1):
            name = ws.cell(row=r, column=header.index(key) + 1).value
            if name in (None, "TOTAL"):
                break
            out[name] = {h: self.get(sheet, ws.cell(row=r, column=j).coordinate)
                         for j, h in enumerate(header, start=1) if h}
        return out


def _check_summary(book: Book, prog) -> None:
    shown = book.summary()
    for label, key in SUMMARY.items():
        expect = prog.summary[key]
        if isinstance(expect, str) or expect is None:
            assert shown[label] == (expect or "not within the horizon"), label
        else:
            assert shown[label] == pytest.approx(expect, rel=1e-9, abs=1e-6), label
    assert shown["NPV turns negative within the sensitivity ranges"] == (
        "yes" if prog.summary["npv_turns_negative"] else "no")


def _check_ledger(book: Book, prog) -> None:
    shown = book.table("Partner ledger", "partner")
    expect = prog.ledger.set_index("partner")
    for partner, row in expect.iterrows():
        got = shown[partner]
        for column, value in row.items():
            if column == "position":
                assert got[column] == value, (partner, column)
            elif column == "share" and value != value:
                assert got[column] in ("", None), partner
            elif column.endswith(("_gbp", "_m2")) or column == "share":
                assert (got[column] or 0.0) == pytest.approx(value, rel=1e-9, abs=1e-6), (partner, column)
    for partner, got in shown.items():  # partners the costing does not list have nothing
        if partner not in expect.index:
            assert not got["in_ledger"] and got["allocated_net_pv_gbp"] == pytest.approx(0.0), partner


def _check_sensitivity(book: Book, table: pd.DataFrame) -> None:
    shown = book.table("Sensitivity", "assumption")
    for row in table.itertuples(index=False):
        got = shown[row.assumption]
        for column in ("base_npv_gbp", "npv_at_low_gbp", "npv_at_high_gbp", "npv_min_gbp", "npv_max_gbp",
                       "swing_gbp"):
            assert got[column] == pytest.approx(getattr(row, column), rel=1e-9, abs=1e-6), (row.assumption, column)
        assert bool(got["turns_negative"]) == bool(row.turns_negative)
    swings = table.set_index("assumption")["swing_gbp"]
    for name, got in shown.items():  # rank 1 = the largest swing
        assert got["rank"] == 1 + (swings > swings[name] + 1e-6).sum(), name


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    prog = cost_programme(ESTATE, MOVES, FIN, requests=REQUESTS)
    # The estate exercises every category: a reopening, occupancy charges both ways, dilapidations, backlog,
    # space requests met in kept space.
    assert set(prog.flows["category"]) == {"running_cost_saving", "double_running", "capital_receipt",
                                           "backlog_avoided", "residual_value", "lease_exit_cost", "move_cost",
                                           "excess_travel", "new_space_running", "reopening_cost",
                                           "occupancy_charge", "new_lease_avoided"}
    return prog, Book(prog, tmp_path_factory.mktemp("live"))


def test_recalculating_the_workbook_reproduces_the_costing(book):
    prog, wb = book
    wb.calculate()
    _check_summary(wb, prog)
    _check_ledger(wb, prog)
    _check_sensitivity(wb, prog.sensitivity)
    # The Cash flow sheet is prog.by_year, with a column for the end of the horizon (residual values).
    ws = wb.wb["Cash flow"]
    labels = [c.value for c in ws[1]][1:prog.settings.horizon_years + 2]
    assert labels == list(prog.by_year.columns) and labels[-1] == "end 2032/33"
    codes = {ws.cell(row=r, column=prog.settings.horizon_years + 5).value: r for r in range(3, 15)}
    assert len(codes) == 12 and "new_lease_avoided" in codes
    for category, r in codes.items():
        got = [wb.get("Cash flow", ws.cell(row=r, column=j).coordinate) for j in range(2, len(labels) + 2)]
        assert got == pytest.approx(prog.by_year.loc[category].tolist(), abs=1e-6), category
    # Each disposal's and each move's costs are formulas equal to the costing's.
    disposals = wb.table("Disposals", "asset_id")
    for row in prog.disposals.itertuples(index=False):
        for column in ("double_running_gbp", "receipt_gbp", "receipt_year", "backlog_avoided_gbp", "exit_cost_gbp",
                       "residual_value_gbp", "exit_value_pv_gbp"):
            assert disposals[row.asset_id][column] == pytest.approx(getattr(row, column), abs=1e-6), column
    moves = wb.table("Moves", "occupier_id")
    for row in prog.moves.itertuples(index=False):
        for column in ("relocation_gbp", "ict_gbp", "fit_out_gbp", "excess_travel_gbp", "optimism_bias_gbp",
                       "move_cost_gbp", "new_space_running_gbp_a_year", "occupancy_charge_gbp_a_year"):
            assert moves[row.occupier_id][column] == pytest.approx(getattr(row, column), abs=1e-6), column
    # Each space request's yearly figures are formulas; R1 (B in A's building) pays an occupancy charge.
    requests = wb.table("Space requests", "request_id")
    assert requests["R1"]["new_lease_avoided_gbp_a_year"] == pytest.approx(200.0 * 51.2)
    assert requests["R1"]["occupancy_charge_gbp_a_year"] == pytest.approx(150.0 * 51.2)
    assert requests["R2"]["occupancy_charge_gbp_a_year"] == 0 and requests["R3"]["new_lease_avoided_gbp_a_year"] == 0
    avoided = prog.flows[prog.flows["category"] == "new_lease_avoided"].groupby("item_id")["gbp"].sum()
    assert avoided.to_dict() == pytest.approx({"R1": 200.0 * 51.2 * 4, "R2": 250.0 * 25.6 * 2})


def test_every_number_is_a_formula_or_labelled_a_value(book):
    prog, wb = book
    ws = wb.wb["Lines"]
    header = [c.value for c in ws[1]]
    gbp, source = header.index("gbp") + 1, header.index("source") + 1
    for r in range(2, ws.max_row + 1):
        cell = ws.cell(row=r, column=gbp)
        assert cell.data_type == "f" or ws.cell(row=r, column=source).value == "value", cell.coordinate
        assert cell.number_format.startswith("£")
    summary = wb.wb["Summary"]
    for r in range(2, summary.max_row + 1):
        value, basis = summary.cell(row=r, column=2), summary.cell(row=r, column=3).value
        if value.value is not None:
            assert (value.data_type == "f") == (basis == "formula"), summary.cell(row=r, column=1).value
    notes = " ".join(str(summary.cell(row=r, column=1).value) for r in range(2, summary.max_row + 1))
    assert "Values (blue), not formulas" in notes and "horizon" in notes and "phasing" in notes
    assumptions = wb.wb["Assumptions"]
    for r in range(2, assumptions.max_row + 1):
        name, live = assumptions.cell(row=r, column=1).value, assumptions.cell(row=r, column=3).value
        if name and name != "scenario" and assumptions.cell(row=r, column=2).value is not None:
            assert live.startswith(("live", "value:")), name
    assert assumptions.cell(row=wb.rows["horizon_years"], column=3).value.startswith("value:")
    assert assumptions.cell(row=wb.rows["optimism_bias"], column=3).value == "live"
    # Every number on every sheet, value or formula, has a number format of its own.
    wb.calculate()
    for sheet in wb.wb.worksheets:
        for row in sheet.iter_rows(min_row=2):
            for c in row:
                value = wb.get(sheet.title, c.coordinate) if c.value is not None else None
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    assert c.number_format != "General", (sheet.title, c.coordinate)


CHANGES = [
    {"optimism_bias": 0.5},
    {"disposal_cost_share": 0.1},
    {"receipt_lag_months": 18.0},  # X's receipt moves from year 1 to year 2
    {"discount_rate": 0.06},
    {"residual_value": "none"},
    {"occupancy_charge_gbp_per_m2": 0.0},
    {"fit_out_gbp_per_m2": 500.0},
    {"double_running_months": 6.0},
    {"backlog_avoided": False, "excess_travel_years": 2, "excess_travel_gbp_per_fte_km": 50.0,
     "dilapidations_gbp_per_m2": 90.0, "relocation_gbp_per_fte": 2_000.0, "ict_gbp_per_fte": 800.0,
     "new_space_running_gbp_per_m2": 55.0, "reopening_gbp_per_m2": 45.0},
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: "+".join(c))
def test_changing_an_assumption_recalculates_like_the_costing(book, change):
    _, wb = book
    expect = cost_programme(ESTATE, MOVES, replace(FIN, **change), requests=REQUESTS)
    wb.calculate(**change)
    _check_summary(wb, expect)
    _check_ledger(wb, expect)
    _check_sensitivity(wb, expect.sensitivity)


def test_lines_that_are_zero_today_come_alive(tmp_path):
    # A sells X and its team moves in with B. Costed with no double running, no new-space cost, no
    # occupancy charge and X's receipt beyond the horizon (it counts 0): the costing has no such lines,
    # but the workbook keeps them, so raising the assumption brings them in.
    assets = pd.DataFrame([_asset(asset_id="X", partner="A", running_cost_gbp=30_000.0, market_value_gbp=200_000.0),
                           _asset(asset_id="H", partner="B", decision="keep")])
    moves = _moves(("TA", "A", 10.0, 64.0, "X", "H", 1.0))
    base = replace(FIN, double_running_months=0.0, occupancy_charge_gbp_per_m2=0.0, receipt_lag_months=66.0,
                   new_space_running_gbp_per_m2=0.0)
    prog = cost_programme(assets, moves, base)
    assert not prog.flows["category"].isin(["double_running", "occupancy_charge", "capital_receipt",
                                            "new_space_running"]).any()
    wb = Book(prog, tmp_path).calculate()
    _check_summary(wb, prog)
    change = {"double_running_months": 3.0, "occupancy_charge_gbp_per_m2": 150.0, "receipt_lag_months": 6.0,
              "new_space_running_gbp_per_m2": 40.0}
    expect = cost_programme(assets, moves, replace(base, **change))
    assert set(expect.flows["category"]) >= {"double_running", "occupancy_charge", "capital_receipt",
                                             "new_space_running"}
    wb.calculate(**change)
    _check_summary(wb, expect)
    _check_ledger(wb, expect)
    assert wb.summary()["Capital receipts"] == pytest.approx(196_000)


def test_the_sensitivity_table_follows_its_ranges(book):
    prog, wb = book
    sens = replace(FIN.sensitivity, receipts=(-0.5, 0.2), one_off_costs=(-0.1, 1.0), running_cost_saving=(-0.4, 0.0),
                   residual_value=(-0.5, 0.5), discount_rate=(0.0, 0.08))
    wb.calculate(**{"sensitivity.receipts (low)": -0.5, "sensitivity.receipts (high)": 0.2,
                    "sensitivity.one_off_costs (low)": -0.1, "sensitivity.one_off_costs (high)": 1.0,
                    "sensitivity.running_cost_saving (low)": -0.4, "sensitivity.running_cost_saving (high)": 0.0,
                    "sensitivity.residual_value (low)": -0.5, "sensitivity.residual_value (high)": 0.5,
                    "sensitivity.discount_rate (low)": 0.0, "sensitivity.discount_rate (high)": 0.08})
    expect = sensitivity_table(prog.flows, replace(FIN, sensitivity=sens))
    assert not np.allclose(expect.set_index("assumption").loc[list(prog.sensitivity["assumption"]), "swing_gbp"],
                           prog.sensitivity["swing_gbp"])  # the change matters
    _check_sensitivity(wb, expect)


def test_pro_rata_with_no_floor_area_moved_splits_equally(tmp_path):
    assets = pd.DataFrame([_asset(asset_id="X", partner="A", running_cost_gbp=30_000.0),
                           _asset(asset_id="Y", partner="B", running_cost_gbp=10_000.0, market_value_gbp=0.0)])
    prog = cost_programme(assets, _moves(), replace(FIN, horizon_years=3))
    assert prog.ledger["share"].tolist() == [0.5, 0.5]
    wb = Book(prog, tmp_path).calculate()
    _check_ledger(wb, prog)
    shown = wb.table("Partner ledger", "partner")
    assert shown["A"]["allocated_net_pv_gbp"] == pytest.approx(prog.summary["npv_gbp"] / 2)
    # The sharing rule is live too.
    for rule in ("none", "pooled"):
        expect = cost_programme(assets, _moves(), replace(FIN, horizon_years=3, sharing_rule=rule))
        _check_ledger(wb.calculate(sharing_rule=rule), expect)
        pot = wb.table("Partner ledger", "partner")["Partnership pot"]
        assert pot["allocated_net_pv_gbp"] == pytest.approx(prog.summary["npv_gbp"] if rule == "pooled" else 0.0)


def test_a_programme_as_shared_finds_its_columns_by_name_and_labels_its_values(tmp_path):
    # A programme as shared: no service column and no costed_km (the Moves sheet's columns shift: the
    # ledger looks them up by name), no receiving partner on the moves (recovered from the lines), and
    # one move's distance withheld (its excess-travel lines can only be values).
    moves = _moves(("TA", "A", 10.0, 64.0, "X", "H", 1.0), ("TB", "B", 20.0, 128.0, "Y", "H", 2.0),
                   ("TC", "A", 5.0, 32.0, "X", "E", 3.0), service=False)
    prog = cost_programme(ESTATE, moves, FIN)
    assert "service" not in prog.moves and "costed_km" not in prog.moves
    shared = replace(prog, moves=prog.moves.drop(columns=["to_partner"]).assign(
        distance_km=lambda m: np.where(m["occupier_id"] == "TB", np.nan, m["distance_km"])))
    wb = Book(shared, tmp_path).calculate()
    _check_summary(wb, prog)
    _check_ledger(wb, prog)
    assert wb.table("Partner ledger", "partner")["B"]["floor_area_moved_m2"] == 128.0
    ws = wb.wb["Lines"]
    header = [c.value for c in ws[1]]
    rows = [{h: ws.cell(row=r, column=j).value for j, h in enumerate(header, start=1)}
            for r in range(2, ws.max_row + 1)]
    values = [r for r in rows if r["source"] == "value"]
    assert values and {(r["category"], r["item_id"]) for r in values} == {("excess_travel", "TB")}
    assert all(isinstance(r["gbp"], (int, float)) for r in values)
    assert any(r["category"] == "occupancy_charge" and str(r["gbp"]).startswith("=") for r in rows)
    notes = " ".join(str(wb.wb["Summary"].cell(row=r, column=1).value) for r in range(2, wb.wb["Summary"].max_row + 1))
    assert f"{len(values)} line(s) are values" in notes
    # Still live where it can be: a change of optimism bias moves everything but TB's travel lines.
    expect = cost_programme(ESTATE, moves, replace(FIN, optimism_bias=0.5))
    travel = prog.flows[(prog.flows["category"] == "excess_travel") & (prog.flows["item_id"] == "TB")]["pv_gbp"].sum()
    wb.calculate(optimism_bias=0.5)
    assert wb.summary()["Net present value"] == pytest.approx(expect.summary["npv_gbp"] - travel * (1.5 / 1.2 - 1))


def test_workbook_totals_are_live_formulas_equal_to_the_costing(book):
    # (Moved from tests/test_finance.py, on this module's estate.)
    prog, wb = book
    wb.calculate()
    assert wb.wb.sheetnames == ["Summary", "Cash flow", "Phasing", "Disposals", "Moves", "Space requests",
                                "Partner ledger", "Sensitivity", "Assumptions", "Lines"]
    summary = {r[0].value: r[1] for r in wb.wb["Summary"].iter_rows(min_row=2) if r[0].value}
    for label in ("Net present value", "Capital receipts", "One-off costs", "Steady-state annual running-cost saving",
                  "Cashable savings over the horizon", "Residual value forgone (present value)"):
        assert str(summary[label].value).startswith("="), label
        assert summary[label].number_format.startswith("£")
    assert wb.summary()["Steady-state annual running-cost saving"] == pytest.approx(70_000)
    ledger = wb.wb["Partner ledger"]
    header = [c.value for c in ledger[1]]
    for r in ledger.iter_rows(min_row=2, max_row=3):
        for column in ("own_net_pv_gbp", "allocated_net_pv_gbp", "transfer_pv_gbp", "floor_area_moved_m2", "share"):
            assert str(r[header.index(column)].value).startswith("=")


def test_the_phasing_sheet_recalculates_like_the_phasing_table(tmp_path):
    """The Phasing sheet's year-by-year figures are formulas of the Disposals, Moves and Lines sheets;
    recalculated, they equal :func:`phasing_table`, and the funding check follows the budget."""
    from dataclasses import asdict

    from estate.finance import phasing_table
    from estate.scenario import Delivery, DeliveryLimits

    prog = cost_programme(ESTATE, MOVES, FIN, requests=REQUESTS)
    delivery = Delivery(limits=DeliveryLimits(disposals_per_year=1, fte_moved_per_year=12.0), funded=True,
                        capital_budget_gbp_per_year=50_000.0)
    path = tmp_path / "programme.xlsx"
    write_workbook(prog, path, scenario="test", plan_summary={"delivery": asdict(delivery)})
    wb = load_workbook(path)
    values = formulas.ExcelModel().loads(str(path)).finish().calculate()
    ws = wb["Phasing"]
    header = [c.value for c in ws[1]]

    def cell(r: int, name: str):
        ref = ws.cell(row=r, column=header.index(name) + 1)
        if ref.data_type != "f":
            return ref.value
        value = values[f"'[programme.xlsx]PHASING'!{ref.coordinate}"].value[0, 0]
        return value.item() if hasattr(value, "item") else value

    expect = phasing_table(prog, delivery)
    for r, row in enumerate(expect.itertuples(index=False), start=2):
        for name in ("disposals", "market_value_sold_gbp", "fte_moved", "receipts_gbp", "capital_one_off_gbp",
                     "capital_to_date_gbp", "budget_to_date_gbp", "funds_to_date_gbp", "headroom_gbp"):
            assert cell(r, name) == pytest.approx(getattr(row, name), abs=1e-6), (row.financial_year, name)
        assert cell(r, "within_limits") == ("yes" if row.within_limits else "NO"), row.financial_year
    # This programme was costed without the limits: X's two teams (15 FTE) move in 2028/29 and Y's (20 FTE)
    # in 2030/31, each over 12 a year.
    assert expect["within_limits"].tolist() == [True, False, True, False, True, True]
    assert expect.loc[1, "fte_moved"] == 15.0 and expect.loc[3, "fte_moved"] == 20.0
