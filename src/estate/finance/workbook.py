"""The programme as an auditable workbook (``programme.xlsx``) and CSV tables.

Sheets: Summary, Cash flow, Disposals, Moves, Partner ledger, Sensitivity,
Assumptions, and Lines (every cash-flow line item). Line items are values;
every total is a live formula over them: the Cash flow sheet sums the Lines
sheet with ``SUMIFS`` by category and year, discounts with factors computed
from the Assumptions sheet's rate, and the Summary sheet points at those
totals. An auditor can trace every headline figure to its lines.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from estate._io import FORMULA_STARTS, write_csv
from estate.finance.programme import CATEGORIES, ONE_OFF, Programme
from estate.scenario import FinanceSettings

GBP = '£#,##0;[Red]-£#,##0'
FACTOR = "0.0000"
PERCENT = "0.0%"
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")

#: Row of each assumption on the Assumptions sheet (row 1 is the header).
_ASSUMPTION_ROWS = {f.name: i + 2 for i, f in enumerate(fields(FinanceSettings)) if f.name != "sensitivity"}

_LABELS = {
    "running_cost_saving": "Running-cost saving",
    "double_running": "Double running",
    "capital_receipt": "Capital receipts (net of disposal costs)",
    "backlog_avoided": "Backlog maintenance avoided",
    "residual_value": "Residual value forgone (freeholds sold, at the end of the horizon)",
    "lease_exit_cost": "Lease exit costs (dilapidations)",
    "move_cost": "Move costs",
    "excess_travel": "Excess-travel allowance",
    "new_space_running": "Running cost of space taken up in receiving buildings",
    "reopening_cost": "Bringing empty buildings back into use",
    "occupancy_charge": "Occupancy charges between partners (sum to 0)",
}


class Formula(str):
    """A formula estate wrote (``=SUM(...)``); every other text is written as text."""


def _put(ws: Worksheet, row: int, column: int, value: object):
    """Write one cell. Text from the data is always text, never a formula: a name such as
    ``=HYPERLINK(...)`` is stored as a string and shown with a quote prefix; only
    :class:`Formula` values become formulas. NaN becomes a blank cell."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        value = None
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and not isinstance(value, Formula):
        cell.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
    return cell


def _header(ws: Worksheet, columns: list[str], row: int = 1) -> None:
    for j, name in enumerate(columns, start=1):
        cell = _put(ws, row, j, name)
        cell.font, cell.fill = BOLD, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = ws.cell(row=row + 1, column=2)


def _widths(ws: Worksheet, minimum: int = 9, maximum: int = 48) -> None:
    for j, column in enumerate(ws.iter_cols(min_row=1, max_row=min(ws.max_row, 200)), start=1):
        longest = max((len(str(c.value)) for c in column if c.value is not None and not str(c.value).startswith("=")),
                      default=minimum)
        ws.column_dimensions[get_column_letter(j)].width = max(minimum, min(maximum, longest + 2))


def _table(ws: Worksheet, frame: pd.DataFrame, money: set[str], totals: set[str] | None = None) -> int:
    """Write ``frame`` from row 1 with a header; money columns in £; a TOTAL row of SUM formulas. Returns its row."""
    columns = list(frame.columns)
    _header(ws, columns)
    for i, record in enumerate(frame.itertuples(index=False), start=2):
        for j, value in enumerate(record, start=1):
            cell = _put(ws, i, j, value)
            if columns[j - 1] in money:
                cell.number_format = GBP
    last = len(frame) + 1
    total_row = last + 1
    if totals is not None and not totals:
        return total_row
    ws.cell(row=total_row, column=1, value="TOTAL").font = BOLD
    for j, name in enumerate(columns, start=1):
        if name in (totals if totals is not None else money):
            letter = get_column_letter(j)
            cell = ws.cell(row=total_row, column=j, value=f"=SUM({letter}2:{letter}{max(last, 2)})")
            cell.font = BOLD
            cell.number_format = GBP if name in money else "#,##0.0"
    return total_row


def _assumptions(ws: Worksheet, settings: FinanceSettings, scenario: str) -> None:
    _header(ws, ["parameter", "value", "meaning"])
    meaning = {
        "first_year": "year 0 = financial year starting 1 April of this year",
        "horizon_years": "years costed (0 .. horizon − 1)",
        "discount_rate": "real discount rate (HM Treasury Green Book default 3.5%)",
        "earliest_exit_year": "no exit before this year (0-based)",
        "disposal_cost_share": "fees on a sale, as a share of market value",
        "receipt_lag_months": "receipt arrives this long after exit",
        "dilapidations_gbp_per_m2": "leasehold exit cost per m² GIA",
        "relocation_gbp_per_fte": "removals and project management per FTE moved",
        "ict_gbp_per_fte": "ICT per FTE moved",
        "fit_out_gbp_per_m2": "fit-out per m² taken up",
        "excess_travel_gbp_per_fte_km": "one-off excess travel per FTE per km",
        "double_running_months": "months of running cost still paid in the exit year",
        "optimism_bias": "uplift on one-off costs",
        "backlog_avoided": "a disposal avoids its backlog maintenance",
        "max_moves_per_year": "cap on team moves a year (0 = none)",
        "sharing_rule": "partner ledger rule",
    }
    for name, row in _ASSUMPTION_ROWS.items():
        value = getattr(settings, name)
        _put(ws, row, 1, name)
        cell = _put(ws, row, 2, value)
        if name in ("discount_rate", "disposal_cost_share", "optimism_bias"):
            cell.number_format = PERCENT
        _put(ws, row, 3, meaning.get(name, ""))
    row = max(_ASSUMPTION_ROWS.values()) + 1
    for f in fields(settings.sensitivity):
        low, high = getattr(settings.sensitivity, f.name)
        ws.cell(row=row, column=1, value=f"sensitivity.{f.name}")
        ws.cell(row=row, column=2, value=f"[{low:g}, {high:g}]")
        ws.cell(row=row, column=3, value="rates" if f.name == "discount_rate" else "relative change, low and high")
        row += 1
    _put(ws, row, 1, "scenario")
    _put(ws, row, 2, scenario)


def _lines(ws: Worksheet, prog: Programme) -> int:
    """The line items; discount factor and PV are formulas. Returns the last data row."""
    flows = prog.flows
    columns = ["year", "financial_year", "partner", "category", "item_id", "item", "gbp", "discount_factor", "pv_gbp"]
    _header(ws, columns)
    rate = f"Assumptions!$B${_ASSUMPTION_ROWS['discount_rate']}"
    for i, rec in enumerate(flows[columns[:7]].itertuples(index=False), start=2):
        for j, value in enumerate(rec, start=1):
            _put(ws, i, j, value)
        ws.cell(row=i, column=7).number_format = GBP
        ws.cell(row=i, column=8, value=f"=1/(1+{rate})^A{i}").number_format = FACTOR
        ws.cell(row=i, column=9, value=f"=G{i}*H{i}").number_format = GBP
    return max(len(flows) + 1, 2)


def _cash_flow(ws: Worksheet, prog: Programme, last: int) -> dict[str, str]:
    """Categories × years by SUMIFS over Lines; returns cell addresses of the totals."""
    h = prog.settings.horizon_years
    rate = f"Assumptions!$B${_ASSUMPTION_ROWS['discount_rate']}"
    years = list(prog.by_year.columns)
    _header(ws, ["Category", *years, "Total"])
    ws.cell(row=2, column=1, value="year index")
    for t in range(h):
        ws.cell(row=2, column=t + 2, value=t)
    total_col = get_column_letter(h + 2)
    rng = lambda col: f"Lines!${col}$2:${col}${last}"  # noqa: E731
    cells = {}
    for i, category in enumerate(CATEGORIES, start=3):
        ws.cell(row=i, column=1, value=_LABELS[category])
        ws.cell(row=i, column=h + 4, value=category)  # the code SUMIFS matches on, beside the table
        for t in range(h):
            col = get_column_letter(t + 2)
            ws.cell(row=i, column=t + 2,
                    value=f'=SUMIFS({rng("G")},{rng("D")},${get_column_letter(h + 4)}{i},{rng("A")},{col}$2)'
                    ).number_format = GBP
        ws.cell(row=i, column=h + 2, value=f"=SUM(B{i}:{get_column_letter(h + 1)}{i})").number_format = GBP
        cells[category] = f"'Cash flow'!{total_col}{i}"
    first, end = 3, 2 + len(CATEGORIES)
    net, cum, dfr, pv, cash = end + 1, end + 2, end + 3, end + 4, end + 5
    for row, label in ((net, "Net cash flow"), (cum, "Cumulative"), (dfr, "Discount factor"),
                       (pv, "Present value"), (cash, "Cashable saving (running saving − double running)")):
        ws.cell(row=row, column=1, value=label).font = BOLD
    for t in range(h):
        col = get_column_letter(t + 2)
        prev = get_column_letter(t + 1)
        ws.cell(row=net, column=t + 2, value=f"=SUM({col}{first}:{col}{end})").number_format = GBP
        ws.cell(row=cum, column=t + 2, value=f"={col}{net}" if t == 0 else f"={prev}{cum}+{col}{net}"
                ).number_format = GBP
        ws.cell(row=dfr, column=t + 2, value=f"=1/(1+{rate})^{col}$2").number_format = FACTOR
        ws.cell(row=pv, column=t + 2, value=f"={col}{net}*{col}{dfr}").number_format = GBP
        ws.cell(row=cash, column=t + 2, value=f"={col}{first}+{col}{first + 1}").number_format = GBP
    for row in (net, pv, cash):
        ws.cell(row=row, column=h + 2, value=f"=SUM(B{row}:{get_column_letter(h + 1)}{row})").number_format = GBP
    ws.cell(row=pv + 2, column=1, value="Net present value").font = BOLD
    ws.cell(row=pv + 2, column=2, value=f"={total_col}{pv}").number_format = GBP
    ws.cell(row=pv + 3, column=1, value="Check: NPV of the line items")
    ws.cell(row=pv + 3, column=2, value=f"=SUM({rng('I')})").number_format = GBP
    ws.column_dimensions["A"].width = 48
    for t in range(h + 1):
        ws.column_dimensions[get_column_letter(t + 2)].width = 15
    cells.update(npv=f"'Cash flow'!B{pv + 2}", cashable=f"'Cash flow'!{total_col}{cash}",
                 net_total=f"'Cash flow'!{total_col}{net}")
    return cells


def _ledger(ws: Worksheet, prog: Programme, last: int, moves_last: int) -> None:
    ledger = prog.ledger
    rule = prog.settings.sharing_rule
    cats = list(CATEGORIES)
    columns = ["partner", *[f"{c}_pv_gbp" for c in cats], "own_net_pv_gbp", "floor_area_moved_m2", "share",
               "allocated_net_pv_gbp", "transfer_pv_gbp", "position"]
    _header(ws, columns)
    rng = lambda col: f"Lines!${col}$2:${col}${last}"  # noqa: E731
    partners = [p for p in ledger["partner"] if p != "Partnership pot"]
    n = len(partners)
    own_col = get_column_letter(len(cats) + 2)
    moved_col, share_col = get_column_letter(len(cats) + 3), get_column_letter(len(cats) + 4)
    alloc_col = get_column_letter(len(cats) + 5)
    total_row = n + 2 + (1 if rule == "pooled" else 0)
    for i, partner in enumerate(partners, start=2):
        _put(ws, i, 1, partner)
        for j, category in enumerate(cats, start=2):
            ws.cell(row=i, column=j, value=f'=SUMIFS({rng("I")},{rng("C")},$A{i},{rng("D")},"{category}")'
                    ).number_format = GBP
        ws.cell(row=i, column=len(cats) + 2, value=f"=SUM(B{i}:{get_column_letter(len(cats) + 1)}{i})"
                ).number_format = GBP
        ws.cell(row=i, column=len(cats) + 3,
                value=f"=SUMIFS(Moves!$F$2:$F${moves_last},Moves!$C$2:$C${moves_last},$A{i})").number_format = "#,##0"
        if rule == "pro-rata":
            ws.cell(row=i, column=len(cats) + 4,
                    value=f"=IF({moved_col}${total_row}=0,0,{moved_col}{i}/{moved_col}${total_row})"
                    ).number_format = PERCENT
            alloc = f"={share_col}{i}*{own_col}${total_row}"
        elif rule == "pooled":
            alloc = "=0"
        else:
            alloc = f"={own_col}{i}"
        ws.cell(row=i, column=len(cats) + 5, value=alloc).number_format = GBP
        ws.cell(row=i, column=len(cats) + 6, value=f"={alloc_col}{i}-{own_col}{i}").number_format = GBP
        ws.cell(row=i, column=len(cats) + 7,
                value=f'=IF({alloc_col}{i}>0.5,"gains",IF({alloc_col}{i}<-0.5,"pays","even"))')
    if rule == "pooled":
        r = n + 2
        ws.cell(row=r, column=1, value="Partnership pot")
        ws.cell(row=r, column=len(cats) + 5, value=f"=SUM({own_col}2:{own_col}{n + 1})").number_format = GBP
        ws.cell(row=r, column=len(cats) + 6, value=f"={alloc_col}{r}").number_format = GBP
    ws.cell(row=total_row, column=1, value="TOTAL").font = BOLD
    for j in range(2, len(cats) + 7):
        if j == len(cats) + 4:
            continue
        letter = get_column_letter(j)
        cell = ws.cell(row=total_row, column=j, value=f"=SUM({letter}2:{letter}{total_row - 1})")
        cell.font, cell.number_format = BOLD, GBP if j != len(cats) + 3 else "#,##0"
    ws.cell(row=total_row + 2, column=1, value=f"Sharing rule: {rule}. Present values; transfer = allocated − own "
                                               "(positive: the partner gains from sharing).")
    _widths(ws, minimum=14)


def write_workbook(prog: Programme, path: Path, *, scenario: str = "", plan_summary: dict | None = None) -> None:
    """Write ``programme.xlsx`` (see the module docstring) to ``path``."""
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    sheets = {name: wb.create_sheet(name) for name in ("Cash flow", "Disposals", "Moves", "Partner ledger",
                                                       "Sensitivity", "Assumptions", "Lines")}
    _assumptions(sheets["Assumptions"], prog.settings, scenario)
    last = _lines(sheets["Lines"], prog)
    cells = _cash_flow(sheets["Cash flow"], prog, last)

    d = prog.disposals
    dcols = [c for c in ("asset_id", "name", "partner", "asset_type", "tenure", "gia_m2", "exit_year",
                         "financial_year", "exit_note", "running_cost_gbp", "double_running_gbp", "receipt_gbp",
                         "receipt_year", "backlog_avoided_gbp", "exit_cost_gbp", "exit_value_pv_gbp",
                         "running_cost_estimated") if c in d]
    dmoney = {"running_cost_gbp", "double_running_gbp", "receipt_gbp", "backlog_avoided_gbp", "exit_cost_gbp",
              "exit_value_pv_gbp"}
    d_total = _table(sheets["Disposals"], d[dcols], dmoney, dmoney | {"gia_m2"})
    _widths(sheets["Disposals"])
    m = prog.moves
    mcols = ["occupier_id", "team", "partner", "service", "fte", "need_m2", "from_asset_id", "to_asset_id",
             "distance_km", "costed_km", "move_year", "financial_year", "relocation_gbp", "ict_gbp", "fit_out_gbp",
             "excess_travel_gbp", "optimism_bias_gbp", "move_cost_gbp"]
    mcols = [c for c in mcols if c in m]
    mmoney = {"relocation_gbp", "ict_gbp", "fit_out_gbp", "excess_travel_gbp", "optimism_bias_gbp", "move_cost_gbp"}
    m_total = _table(sheets["Moves"], m[mcols], mmoney, mmoney | {"fte", "need_m2"})
    ws = sheets["Moves"]
    first_cost = mcols.index("relocation_gbp") + 1
    cost_col = mcols.index("move_cost_gbp") + 1
    for i in range(2, len(m) + 2):  # the total of each move is a formula over its components
        a, b = get_column_letter(first_cost), get_column_letter(cost_col - 1)
        ws.cell(row=i, column=cost_col, value=f"=SUM({a}{i}:{b}{i})").number_format = GBP
    _widths(ws)
    _ledger(sheets["Partner ledger"], prog, last, max(m_total - 1, 2))
    s = prog.sensitivity
    _table(sheets["Sensitivity"], s, {"base_npv_gbp", "npv_at_low_gbp", "npv_at_high_gbp", "npv_min_gbp",
                                      "npv_max_gbp", "swing_gbp"}, set())
    sheets["Sensitivity"].cell(row=len(s) + 3, column=1,
                               value="NPV of the same plan with one assumption at a time at the low and high end "
                                     "of its range (finance.sensitivity); largest swing first.")
    _widths(sheets["Sensitivity"], minimum=12)

    h_row = _ASSUMPTION_ROWS["horizon_years"]
    rows = [
        ("Scenario", scenario, None),
        ("Disposals", Formula(f"=COUNTA(Disposals!A2:A{max(d_total - 1, 2)})"), "#,##0"),
        ("Team moves", Formula(f"=COUNTA(Moves!A2:A{max(m_total - 1, 2)})"), "#,##0"),
        ("Steady-state annual running-cost saving", Formula(
            f'=SUMIFS(Disposals!{_col(dcols, "running_cost_gbp")}2:{_col(dcols, "running_cost_gbp")}{max(d_total - 1, 2)},'
            f'Disposals!{_col(dcols, "exit_year")}2:{_col(dcols, "exit_year")}{max(d_total - 1, 2)},'
            f'"<"&Assumptions!B{h_row},'
            f'Disposals!{_col(dcols, "exit_year")}2:{_col(dcols, "exit_year")}{max(d_total - 1, 2)},">=0")'), GBP),
        ("Cashable savings over the horizon", Formula(f"={cells['cashable']}"), GBP),
        ("Capital receipts", Formula(f"={cells['capital_receipt']}"), GBP),
        ("One-off costs", Formula("=-(" + "+".join(cells[c] for c in ONE_OFF) + ")"), GBP),
        ("Net cash over the horizon", Formula(f"={cells['net_total']}"), GBP),
        ("Net present value", Formula(f"={cells['npv']}"), GBP),
        ("Payback year", prog.summary["payback_year"] or "not within the horizon", None),
        ("Sharing rule", prog.settings.sharing_rule, None),
        ("NPV turns negative within the sensitivity ranges", "yes" if prog.summary["npv_turns_negative"] else "no",
         None),
    ]
    if plan_summary:
        gap = plan_summary.get("gap")
        rows += [("Optimiser status", plan_summary.get("status"), None),
                 ("Optimiser gap", gap, PERCENT if gap is not None else None),
                 ("Optimiser objective (net present cost = −NPV when moves are not capped)",
                  plan_summary.get("objective"), GBP)]
    _header(summary, ["Headline", "Value"])
    for i, (label, value, fmt) in enumerate(rows, start=2):
        _put(summary, i, 1, label)
        cell = _put(summary, i, 2, value)
        if fmt:
            cell.number_format = fmt
    summary.cell(row=len(rows) + 3, column=1,
                 value="Every figure above is a formula over the sheets behind it: follow it to the Cash flow, "
                       "Disposals and Moves sheets and the Lines sheet of line items.")
    summary.column_dimensions["A"].width = 70
    summary.column_dimensions["B"].width = 22
    for note_row, note in enumerate(prog.notes, start=len(rows) + 4):
        _put(summary, note_row, 1, f"Note: {note}")
    _widths(sheets["Assumptions"])
    _widths(sheets["Lines"])
    wb.save(path)


def _col(columns: list[str], name: str) -> str:
    return get_column_letter(columns.index(name) + 1)


def write_programme(prog: Programme, out_dir: Path, *, scenario: str = "",
                    plan_summary: dict | None = None) -> list[Path]:
    """Write ``programme.xlsx`` and the same tables as CSV (``programme_*.csv``) into ``out_dir``
    (a run's staging folder, see :class:`estate._io.OutputFolder`). Returns the paths."""
    out_dir = Path(out_dir)
    paths = [out_dir / "programme.xlsx"]
    write_workbook(prog, paths[0], scenario=scenario, plan_summary=plan_summary)
    summary = pd.DataFrame({"headline": list(prog.summary), "value": list(prog.summary.values())})
    assumptions = pd.DataFrame({"parameter": [f.name for f in fields(prog.settings)],
                                "value": [getattr(prog.settings, f.name) for f in fields(prog.settings)]})
    tables = {"summary": summary, "cash_flow": prog.by_year.rename_axis("category").reset_index(),
              "lines": prog.flows, "disposals": prog.disposals, "moves": prog.moves, "ledger": prog.ledger,
              "sensitivity": prog.sensitivity, "assumptions": assumptions}
    for name, table in tables.items():
        path = out_dir / f"programme_{name}.csv"
        write_csv(table, path)
        paths.append(path)
    return paths
