"""The programme as an auditable workbook (``programme.xlsx``) and CSV tables.

Sheets: Summary, Cash flow, Disposals, Moves, Partner ledger, Sensitivity,
Assumptions and Lines. The workbook is a live model of the costing in
:mod:`estate.finance.programme` (which stays the source of truth): change an
assumption on the Assumptions sheet and every figure that depends on it
recalculates.

* **Values** (shown in blue) are what the costing was built on: the register's
  figures (running cost, market value, backlog, GIA, tenure), the plan's
  phasing (each disposal's exit year, each move's year, FTE, floor area and
  distance) and the assumptions that shape the workbook itself (first year,
  horizon, earliest exit year, the cap on moves a year). Changing one of those
  needs a re-run (``estate finance``); the Assumptions sheet says which.
* **Formulas** (black) are everything else. The Disposals and Moves sheets
  cost each disposal and move from its values and the Assumptions; the Lines
  sheet places those costs in their years with their sign (one line per item,
  year and category, as ``Programme.flows``, plus the lines that are 0 under
  today's assumptions but not under others, e.g. a receipt beyond the horizon
  or an occupancy charge at £0/m²); the Cash flow, Partner ledger,
  Sensitivity and Summary sheets are sums over the Lines sheet.

A line whose drivers the programme does not carry (e.g. a team move folded
with others from a withheld site) is written as its value, marked ``value`` in
its ``source`` column, and the Summary lists how many there are.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from estate._io import FORMULA_STARTS, write_csv
from estate.finance.costs import year_label
from estate.finance.programme import CAPITAL, CASHABLE, CATEGORIES, ONE_OFF, Programme
from estate.scenario import RESIDUAL_METHODS, SHARING_RULES, FinanceSettings

GBP = '£#,##0;[Red]-£#,##0'
FACTOR = "0.0000"
PERCENT = "0.0%"
RATE = "0.00%"
CHANGE = '0%" higher";0%" lower";"as costed"'  # a relative change, with no sign a reader can misread
M2 = "#,##0"
FTE = "#,##0.0"
KM = "#,##0.0"
YEAR = "0"
MONTHS = "0.0"
SHARE = "0.0%"
BOLD = Font(bold=True)
VALUE = Font(color="1F4E9A")  # a value (an input), not a formula
FIXED = Font(color="808080", italic=True)  # an assumption the workbook was built on: re-run to change it
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
INPUT_FILL = PatternFill("solid", fgColor="FFF6D5")

#: Row of each assumption on the Assumptions sheet (row 1 is the header).
_ASSUMPTION_ROWS = {f.name: i + 2 for i, f in enumerate(fields(FinanceSettings)) if f.name != "sensitivity"}
#: Row of each sensitivity bound, ``(name, 0)`` low and ``(name, 1)`` high, after the assumptions.
_SENSITIVITY_ROWS = {(name, k): max(_ASSUMPTION_ROWS.values()) + 1 + 2 * i + k
                     for i, name in enumerate(("receipts", "one_off_costs", "running_cost_saving", "residual_value",
                                               "discount_rate"))
                     for k in (0, 1)}
#: Assumptions that fix the workbook's structure (its years and lines): values, not live.
_FIXED = {
    "first_year": "value: names the years and dates each lease exit; change it in the scenario and re-run",
    "horizon_years": "value: sets the year columns and the lines; change it in the scenario and re-run",
    "earliest_exit_year": "value: fixes each disposal's exit year and each move's year (the phasing); re-run",
    "max_moves_per_year": "value: fixes the phasing; change it in the scenario and re-run",
}
_MEANING = {
    "first_year": "year 0 = financial year starting 1 April of this year",
    "horizon_years": "years costed (0 .. horizon − 1); residual values sit at the end of the last year",
    "discount_rate": "real discount rate (HM Treasury Green Book default 3.5%)",
    "earliest_exit_year": "no exit before this year (0-based)",
    "disposal_cost_share": "fees on a sale, as a share of market value",
    "receipt_lag_months": "a receipt arrives this long after the exit (whole years count)",
    "dilapidations_gbp_per_m2": "leasehold exit cost per m² GIA",
    "relocation_gbp_per_fte": "removals and project management per FTE moved",
    "ict_gbp_per_fte": "ICT per FTE moved",
    "fit_out_gbp_per_m2": "fit-out per m² taken up",
    "excess_travel_gbp_per_fte_km": "excess-travel allowance per FTE per km, a year",
    "excess_travel_years": "years the excess-travel allowance is paid after a move",
    "double_running_months": "months of running cost still paid in the exit year",
    "optimism_bias": "uplift on one-off costs and the excess-travel allowance",
    "backlog_avoided": "a disposal avoids its backlog maintenance (TRUE/FALSE)",
    "residual_value": "value of freeholds held at the end of the horizon: market_value or none",
    "new_space_running_gbp_per_m2": "extra running cost a year per m² a team takes up in a receiving building",
    "reopening_gbp_per_m2": "one-off cost per m² GIA of bringing an empty building back into use",
    "occupancy_charge_gbp_per_m2": "charge a year per m² a guest pays the partner hosting it",
    "max_moves_per_year": "cap on team moves a year (0 = none)",
    "sharing_rule": "partner ledger rule: none, pro-rata or pooled",
}
_FORMATS = {"discount_rate": RATE, "disposal_cost_share": PERCENT, "optimism_bias": PERCENT,
            "receipt_lag_months": MONTHS, "double_running_months": MONTHS, "first_year": YEAR,
            "horizon_years": YEAR, "earliest_exit_year": YEAR, "excess_travel_years": YEAR,
            "max_moves_per_year": YEAR}

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
    "new_lease_avoided": "New leases avoided (space requests met in kept space)",
}
#: Categories costed per disposal, in the order of their columns on the Disposals sheet.
_DISPOSAL_CATEGORIES = ("running_cost_saving", "double_running", "capital_receipt", "backlog_avoided",
                        "residual_value", "lease_exit_cost")

#: Columns of the Lines sheet.
LINE_COLUMNS = ("year", "financial_year", "partner", "category", "item_id", "item", "source", "how", "quantity",
                "unit", "gbp", "pv_gbp")
_L = {name: get_column_letter(i + 1) for i, name in enumerate(LINE_COLUMNS)}


class Formula(str):
    """A formula estate wrote (``=SUM(...)``); every other text is written as text."""


def _a(name: str) -> str:
    """Absolute address of an assumption's value."""
    return f"Assumptions!$B${_ASSUMPTION_ROWS[name]}"


def _bound(name: str, k: int) -> str:
    return f"Assumptions!$B${_SENSITIVITY_ROWS[(name, k)]}"


_UPLIFT = f"(1+{_a('optimism_bias')})"


def _put(ws: Worksheet, row: int, column: int, value: object, fmt: str | None = None, font: Font | None = None):
    """Write one cell. Text from the data is always text, never a formula: a name such as
    ``=HYPERLINK(...)`` is stored as a string and shown with a quote prefix; only
    :class:`Formula` values become formulas. NaN becomes a blank cell."""
    if value is pd.NA or value is pd.NaT:
        value = None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        value = None
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and not isinstance(value, Formula):
        cell.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
    if fmt:
        cell.number_format = fmt
    if font is not None:
        cell.font = font
    return cell


def _f(ws: Worksheet, row: int, column: int, formula: str, fmt: str | None = None, bold: bool = False):
    """Write a formula estate built (never data)."""
    cell = _put(ws, row, column, Formula(formula), fmt)
    if bold:
        cell.font = BOLD
    return cell


def _v(ws: Worksheet, row: int, column: int, value: object, fmt: str | None = None):
    """Write a value, in the value colour when it is a number."""
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    return _put(ws, row, column, value, fmt, VALUE if number else None)


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


def _num(value) -> float | None:
    """A finite float, or None."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


# ---------------------------------------------------------------------------
# Assumptions
# ---------------------------------------------------------------------------

def _assumptions(ws: Worksheet, settings: FinanceSettings, scenario: str, limits: dict[str, str]) -> None:
    _header(ws, ["parameter", "value", "live", "meaning"])
    for name, row in _ASSUMPTION_ROWS.items():
        value = getattr(settings, name)
        _put(ws, row, 1, name)
        fmt = _FORMATS.get(name, "£#,##0.00" if "_gbp" in name else None)
        if name in _FIXED:
            _put(ws, row, 2, value, fmt, FIXED)
            _put(ws, row, 3, _FIXED[name], font=FIXED)
        else:
            cell = _put(ws, row, 2, value, fmt, VALUE)
            cell.fill = INPUT_FILL
            _put(ws, row, 3, "live" + (f"; {limits[name]}" if name in limits else ""))
        _put(ws, row, 4, _MEANING.get(name, ""))
    for (name, k), row in _SENSITIVITY_ROWS.items():
        low_high = getattr(settings.sensitivity, name)
        _put(ws, row, 1, f"sensitivity.{name} ({'low' if k == 0 else 'high'})")
        cell = _put(ws, row, 2, float(low_high[k]), RATE if name == "discount_rate" else "0%;-0%;0%", VALUE)
        cell.fill = INPUT_FILL
        _put(ws, row, 3, "live")
        _put(ws, row, 4, "rate for the Sensitivity sheet" if name == "discount_rate"
             else "relative change for the Sensitivity sheet (−30% = 30% lower)")
    row = max(_SENSITIVITY_ROWS.values()) + 1
    _put(ws, row, 1, "scenario")
    _put(ws, row, 2, scenario)
    _put(ws, row + 2, 1, "Blue values on a yellow ground are live inputs: change one and every figure that depends on "
                         "it updates. Grey values fixed how the workbook was built: change them in the scenario "
                         "file and re-run `estate finance`.")
    for name, choices in (("residual_value", RESIDUAL_METHODS), ("sharing_rule", SHARING_RULES)):
        dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=False)
        ws.add_data_validation(dv)
        dv.add(f"B{_ASSUMPTION_ROWS[name]}")
    _widths(ws)
    ws.column_dimensions["C"].width = 60


# ---------------------------------------------------------------------------
# Disposals and moves: each one costed from its values and the assumptions
# ---------------------------------------------------------------------------

def _disposal_values(prog: Programme, limits: list[str], live: dict[str, str]) -> pd.DataFrame:
    """The disposals with the register figures their costs are formulas of.

    ``market_value_gbp`` and ``backlog_maintenance_gbp`` are the register's when the programme carries
    them, else recovered from the costing (a net receipt ÷ (1 − disposal cost share), a residual
    value, the backlog avoided); blank when the costing does not reveal them.
    """
    s = prog.settings
    d = prog.disposals.reset_index(drop=True).copy()
    n = len(d)
    tenure = d["tenure"].astype(str).to_numpy() if "tenure" in d else np.full(n, "")
    freehold = tenure == "freehold"
    zeros = np.zeros(n)
    if "market_value_gbp" not in d:
        receipt = d.get("receipt_gbp", pd.Series(zeros)).to_numpy(float)
        residual = d.get("residual_value_gbp", pd.Series(zeros)).to_numpy(float)
        mv = np.full(n, np.nan)
        if s.disposal_cost_share < 1:
            mv = np.where(receipt > 0, receipt / (1 - s.disposal_cost_share), mv)
        mv = np.where(np.isnan(mv) & (residual > 0), residual, mv)
        unknown = freehold & np.isnan(mv) & (d["exit_year"].to_numpy(int) >= 0)
        if unknown.any():
            limits.append(f"{int(unknown.sum())} freehold disposal(s) have no market value in the programme (their "
                          "receipt falls beyond the horizon and no residual value is counted): their receipts and "
                          "residual values stay 0 whatever the assumptions")
            for name in ("receipt_lag_months", "disposal_cost_share", "residual_value"):
                live[name] = "not for freeholds with no market value in the programme (see the Summary)"
        d["market_value_gbp"] = mv
    if "backlog_maintenance_gbp" not in d:
        avoided = d.get("backlog_avoided_gbp", pd.Series(zeros)).to_numpy(float)
        if s.backlog_avoided:
            d["backlog_maintenance_gbp"] = avoided
        else:
            d["backlog_maintenance_gbp"] = np.nan
            if n:
                limits.append("backlog maintenance is not in the programme (costed with backlog_avoided = FALSE): "
                              "setting backlog_avoided to TRUE here adds nothing")
                live["backlog_avoided"] = "but the programme carries no backlog figures: TRUE adds nothing here"
    if "gia_m2" not in d:
        uplift = s.dilapidations_gbp_per_m2 * (1 + s.optimism_bias)
        cost = d.get("exit_cost_gbp", pd.Series(zeros)).to_numpy(float)
        d["gia_m2"] = np.where(cost > 0, cost / uplift, np.nan) if uplift else np.nan
    return d


#: Disposals sheet: value columns (those present), then formula columns.
_D_VALUES = ("asset_id", "name", "partner", "asset_type", "tenure", "gia_m2", "exit_year", "financial_year",
             "exit_note", "running_cost_gbp", "market_value_gbp", "backlog_maintenance_gbp", "running_cost_estimated")
_D_FORMULAS = ("double_running_gbp", "receipt_year", "receipt_gbp", "backlog_avoided_gbp", "exit_cost_gbp",
               "residual_value_gbp", "exit_value_pv_gbp")
_D_FORMATS = {"gia_m2": M2, "exit_year": YEAR, "receipt_year": YEAR, "running_cost_gbp": GBP,
              "market_value_gbp": GBP, "backlog_maintenance_gbp": GBP}


def _disposals_sheet(ws: Worksheet, d: pd.DataFrame, last: int) -> tuple[dict[str, str], int]:
    """One row per disposal: its values, and its costs as formulas. Returns column letters and the TOTAL row."""
    values = [c for c in _D_VALUES if c in d]
    columns = values + list(_D_FORMULAS)
    col = {name: get_column_letter(j) for j, name in enumerate(columns, start=1)}
    _header(ws, columns)
    h = _a("horizon_years")
    lines = f"Lines!${_L['source']}$2:${_L['source']}${last}"
    pv = f"Lines!${_L['pv_gbp']}$2:${_L['pv_gbp']}${last}"
    for i, rec in enumerate(d[values].itertuples(index=False), start=2):
        for j, value in enumerate(rec, start=1):
            _v(ws, i, j, value, _D_FORMATS.get(values[j - 1]))
        c = {k: f"{v}{i}" for k, v in col.items()}
        exit_year, tenure = c["exit_year"], c.get("tenure", '""')
        inside = f"AND({exit_year}>=0,{exit_year}<{h})"
        formulas = {
            "double_running_gbp": (f"=IF({inside},{c['running_cost_gbp']}*{_a('double_running_months')}/12"
                                   f"*{_UPLIFT},0)"),
            "receipt_year": f"=IF({exit_year}>=0,{exit_year}+INT({_a('receipt_lag_months')}/12),-1)",
            "receipt_gbp": (f'=IF(AND({tenure}="freehold",{exit_year}>=0,{c["receipt_year"]}<{h}),'
                            f"{c['market_value_gbp']}*(1-{_a('disposal_cost_share')}),0)"),
            "backlog_avoided_gbp": (f"=IF(AND({inside},OR({_a('backlog_avoided')}=TRUE,"
                                    f"{_a('backlog_avoided')}=\"TRUE\")),{c['backlog_maintenance_gbp']},0)"),
            "exit_cost_gbp": (f'=IF(AND({tenure}="leasehold",{inside}),{c["gia_m2"]}'
                              f"*{_a('dilapidations_gbp_per_m2')}*{_UPLIFT},0)"),
            "residual_value_gbp": (f'=IF(AND({tenure}="freehold",{inside},{_a("residual_value")}="market_value"),'
                                   f"{c['market_value_gbp']},0)"),
            "exit_value_pv_gbp": f'=SUMIFS({pv},{lines},"Disposals row {i}")',
        }
        for name, formula in formulas.items():
            _f(ws, i, columns.index(name) + 1, formula, _D_FORMATS.get(name, GBP))
    total = _totals(ws, columns, len(d), {"gia_m2", "running_cost_gbp", "market_value_gbp", "backlog_maintenance_gbp",
                                          *(c for c in _D_FORMULAS if c != "receipt_year")})
    return col, total


_M_VALUES = ("occupier_id", "team", "partner", "service", "fte", "need_m2", "from_asset_id", "to_asset_id",
             "to_partner", "distance_km", "costed_km", "move_year", "financial_year")
_M_FORMULAS = ("relocation_gbp", "ict_gbp", "fit_out_gbp", "excess_travel_gbp", "optimism_bias_gbp", "move_cost_gbp",
               "new_space_running_gbp_a_year", "occupancy_charge_gbp_a_year")
_M_FORMATS = {"fte": FTE, "need_m2": M2, "distance_km": KM, "costed_km": KM, "move_year": YEAR}


def _move_values(prog: Programme) -> pd.DataFrame:
    """The moves, with the partner that hosts each one (``to_partner``) recovered from the lines
    when the programme does not carry it."""
    m = prog.moves.reset_index(drop=True).copy()
    if "geometry" in m:
        m = pd.DataFrame(m.drop(columns="geometry"))
    m["to_partner"] = (m["to_partner"] if "to_partner" in m else pd.Series(None, index=m.index)).astype(object)
    flows = prog.flows
    unique = ~m["occupier_id"].astype(str).duplicated(keep=False)
    missing = m["to_partner"].isna() & unique
    if missing.any() and len(flows):
        hosts = flows[(flows["category"] == "new_space_running")
                      | ((flows["category"] == "occupancy_charge") & (flows["gbp"] > 0))]
        host = hosts.drop_duplicates("item_id").set_index(hosts.drop_duplicates("item_id")["item_id"].astype(str))
        found = m.loc[missing, "occupier_id"].astype(str).map(host["partner"])
        m.loc[missing, "to_partner"] = found
    return m


def _moves_sheet(ws: Worksheet, m: pd.DataFrame) -> tuple[dict[str, str], int]:
    values = [c for c in _M_VALUES if c in m]
    columns = values + list(_M_FORMULAS)
    col = {name: get_column_letter(j) for j, name in enumerate(columns, start=1)}
    _header(ws, columns)
    km_col = "costed_km" if "costed_km" in m else "distance_km"
    for i, rec in enumerate(m[values].itertuples(index=False), start=2):
        for j, value in enumerate(rec, start=1):
            _v(ws, i, j, value, _M_FORMATS.get(values[j - 1]))
        c = {k: f"{v}{i}" for k, v in col.items()}
        fte, m2 = c["fte"], c["need_m2"]
        km = c.get(km_col, "0")
        years = f"MAX(0,MIN({_a('excess_travel_years')},{_a('horizon_years')}-{c['move_year']}))"
        formulas = {
            "relocation_gbp": f"={_a('relocation_gbp_per_fte')}*{fte}",
            "ict_gbp": f"={_a('ict_gbp_per_fte')}*{fte}",
            "fit_out_gbp": f"={_a('fit_out_gbp_per_m2')}*{m2}",
            "excess_travel_gbp": f"={_a('excess_travel_gbp_per_fte_km')}*{fte}*{km}*{years}",
            "optimism_bias_gbp": (f"=({c['relocation_gbp']}+{c['ict_gbp']}+{c['fit_out_gbp']}"
                                  f"+{c['excess_travel_gbp']})*{_a('optimism_bias')}"),
            "move_cost_gbp": f"=SUM({c['relocation_gbp']}:{c['optimism_bias_gbp']})",
            "new_space_running_gbp_a_year": f"={_a('new_space_running_gbp_per_m2')}*{m2}",
        }
        if pd.notna(m.iloc[i - 2]["to_partner"]):
            formulas["occupancy_charge_gbp_a_year"] = (f'=IF({c["to_partner"]}<>{c["partner"]},'
                                                       f"{_a('occupancy_charge_gbp_per_m2')}*{m2},0)")
        for name, formula in formulas.items():
            _f(ws, i, columns.index(name) + 1, formula, GBP)
    total = _totals(ws, columns, len(m), {"fte", "need_m2", *_M_FORMULAS})
    return col, total


_R_VALUES = ("request_id", "partner", "service", "fte", "need_m2", "from_year", "financial_year",
             "new_lease_gbp_per_m2", "housed_in", "host_partner", "outcome", "reason")
_R_FORMULAS = ("new_lease_avoided_gbp_a_year", "new_space_running_gbp_a_year", "occupancy_charge_gbp_a_year")
_R_FORMATS = {"fte": FTE, "need_m2": M2, "from_year": YEAR, "new_lease_gbp_per_m2": GBP}


def _request_values(prog: Programme) -> pd.DataFrame:
    """The plan's space requests, with blank text where a request is not housed."""
    r = prog.requests.reset_index(drop=True).copy()
    if not len(r):
        return pd.DataFrame(columns=list(_R_VALUES))
    for c in ("housed_in", "host_partner", "reason", "outcome"):
        r[c] = r[c].fillna("").astype(str) if c in r else ""
    return r


def _requests_sheet(ws: Worksheet, r: pd.DataFrame) -> dict[str, str]:
    """One row per space request: what it asked for and where it is housed (values), and what it
    avoids and costs a year (formulas of the Assumptions)."""
    columns = list(_R_VALUES) + list(_R_FORMULAS)
    col = {name: get_column_letter(j) for j, name in enumerate(columns, start=1)}
    _header(ws, columns)
    for i, rec in enumerate(r[list(_R_VALUES)].itertuples(index=False), start=2):
        for j, value in enumerate(rec, start=1):
            _v(ws, i, j, value, _R_FORMATS.get(_R_VALUES[j - 1]))
        c = {k: f"{v}{i}" for k, v in col.items()}
        housed = f'{c["housed_in"]}<>""'
        formulas = {
            "new_lease_avoided_gbp_a_year": f"=IF({housed},{c['new_lease_gbp_per_m2']}*{c['need_m2']},0)",
            "new_space_running_gbp_a_year": f"=IF({housed},{_a('new_space_running_gbp_per_m2')}*{c['need_m2']},0)",
            "occupancy_charge_gbp_a_year": (f"=IF(AND({housed},{c['host_partner']}<>{c['partner']}),"
                                            f"{_a('occupancy_charge_gbp_per_m2')}*{c['need_m2']},0)"),
        }
        for name, formula in formulas.items():
            _f(ws, i, columns.index(name) + 1, formula, GBP)
    _totals(ws, columns, len(r), {"fte", "need_m2", *_R_FORMULAS})
    _put(ws, len(r) + 4, 1, "A space request housed in kept space avoids its new lease (new_lease_gbp_per_m2, a value "
                            "from the scenario) and costs its host the running cost of the space; the requester "
                            "pays the host an occupancy charge when they are different partners. Where each is "
                            "housed is the plan's decision (a value).")
    return col


def _totals(ws: Worksheet, columns: list[str], n: int, summed: set[str]) -> int:
    """A TOTAL row of SUM formulas under ``n`` data rows. Returns its row."""
    row = n + 2
    ws.cell(row=row, column=1, value="TOTAL").font = BOLD
    for j, name in enumerate(columns, start=1):
        if name in summed:
            letter = get_column_letter(j)
            fmt = {"fte": FTE, "need_m2": M2, "gia_m2": M2}.get(name, GBP)
            _f(ws, row, j, f"=SUM({letter}2:{letter}{row - 1})" if n else "=0", fmt, bold=True)
    return row


# ---------------------------------------------------------------------------
# Lines: each line a formula of its disposal's or move's costs
# ---------------------------------------------------------------------------

def _candidate_lines(prog: Programme, d: pd.DataFrame, m: pd.DataFrame, dcol: dict[str, str],
                     mcol: dict[str, str], requests: pd.DataFrame | None = None,
                     rcol: dict[str, str] | None = None) -> pd.DataFrame:
    """Every line the costing makes, or would make under other assumptions, with its formula and its
    value under the programme's own (``value``, for checking against ``prog.flows``)."""
    s = prog.settings
    h = s.horizon_years
    uplift = 1 + s.optimism_bias
    rows: list[dict] = []

    def add(year, partner, category, item_id, item, source, how, formula, value, year_formula=None,
            quantity=None, unit=None):
        rows.append({"year": int(year), "year_formula": year_formula, "partner": partner, "category": category,
                     "item_id": item_id, "item": item, "source": source, "how": how, "quantity": quantity,
                     "unit": unit, "formula": formula, "value": float(value)})

    for k, r in d.iterrows():
        exit_year = int(r["exit_year"])
        if not 0 <= exit_year < h:
            continue
        i = k + 2
        ref = {name: f"Disposals!${letter}${i}" for name, letter in dcol.items()}
        src = f"Disposals row {i}"
        aid, name, partner = r["asset_id"], r.get("name", r["asset_id"]), r["partner"]
        running = _num(r["running_cost_gbp"]) or 0.0
        tenure = str(r.get("tenure", ""))
        mv = _num(r.get("market_value_gbp")) or 0.0
        for t in range(exit_year, h):
            add(t, partner, "running_cost_saving", aid, name, src, "running cost a year (register)",
                f"={ref['running_cost_gbp']}", running)
        add(exit_year, partner, "double_running", aid, name, src,
            "−running cost × double_running_months ÷ 12 × (1 + optimism_bias)",
            f"=-{ref['double_running_gbp']}", -running * s.double_running_months / 12 * uplift)
        if tenure == "freehold":
            receipt_year = exit_year + int(s.receipt_lag_months // 12)
            add(receipt_year, partner, "capital_receipt", aid, name, src,
                "market value × (1 − disposal_cost_share), in exit year + receipt_lag_months ÷ 12 (0 beyond the "
                "horizon)", f"={ref['receipt_gbp']}", mv * (1 - s.disposal_cost_share) if receipt_year < h else 0.0,
                year_formula=f"={ref['receipt_year']}")
        backlog = _num(r.get("backlog_maintenance_gbp")) or 0.0
        add(exit_year, partner, "backlog_avoided", aid, name, src, "backlog maintenance (register) if backlog_avoided",
            f"={ref['backlog_avoided_gbp']}", backlog if s.backlog_avoided else 0.0)
        if tenure == "freehold":
            add(h, partner, "residual_value", aid, name, src,
                "−market value at the end of the horizon if residual_value = market_value",
                f"=-{ref['residual_value_gbp']}", -mv if s.residual_value == "market_value" else 0.0)
        if tenure == "leasehold":
            gia = _num(r.get("gia_m2")) or 0.0
            add(exit_year, partner, "lease_exit_cost", aid, name, src,
                "−GIA × dilapidations_gbp_per_m2 × (1 + optimism_bias)", f"=-{ref['exit_cost_gbp']}",
                -gia * s.dilapidations_gbp_per_m2 * uplift)

    km_col = "costed_km" if "costed_km" in m else "distance_km"
    for k, r in m.iterrows():
        move_year = int(r["move_year"])
        if not 0 <= move_year < h:
            continue
        i = k + 2
        ref = {name: f"Moves!${letter}${i}" for name, letter in mcol.items()}
        src = f"Moves row {i}"
        oid, team, partner = r["occupier_id"], r["team"], r["partner"]
        fte, m2 = _num(r["fte"]) or 0.0, _num(r["need_m2"]) or 0.0
        km = _num(r.get(km_col)) if km_col in m else 0.0
        add(move_year, partner, "move_cost", oid, team, src,
            "−((relocation + ICT per FTE) × FTE + fit-out per m² × m²) × (1 + optimism_bias)",
            f"=-({ref['relocation_gbp']}+{ref['ict_gbp']}+{ref['fit_out_gbp']})*{_UPLIFT}",
            -((s.relocation_gbp_per_fte + s.ict_gbp_per_fte) * fte + s.fit_out_gbp_per_m2 * m2) * uplift)
        travel = f"{_a('excess_travel_gbp_per_fte_km')}*{ref['fte']}*{ref[km_col] if km_col in ref else 0}*{_UPLIFT}"
        for t in range(move_year, h):
            add(t, partner, "excess_travel", oid, team, src,
                "−rate × FTE × km × (1 + optimism_bias), for excess_travel_years from the move",
                f"=IF({t}-{ref['move_year']}<{_a('excess_travel_years')},-{travel},0)",
                -s.excess_travel_gbp_per_fte_km * fte * (km if km is not None else np.nan) * uplift
                if t - move_year < s.excess_travel_years else 0.0)
        host = r.get("to_partner")
        if pd.isna(host):
            continue
        for t in range(move_year, h):
            add(t, host, "new_space_running", oid, team, src, "−new_space_running_gbp_per_m2 × m² taken up (host)",
                f"=-{ref['new_space_running_gbp_a_year']}", -s.new_space_running_gbp_per_m2 * m2)
        if host != partner:
            charge = max(0.0, s.occupancy_charge_gbp_per_m2 * m2)
            for t in range(move_year, h):
                charged = ref["occupancy_charge_gbp_a_year"]
                add(t, partner, "occupancy_charge", oid, team, src,
                    "−occupancy_charge_gbp_per_m2 × m² (guest pays)", f"=-MAX(0,{charged})", -charge)
                add(t, host, "occupancy_charge", oid, team, src,
                    "+occupancy_charge_gbp_per_m2 × m² (host receives)", f"=MAX(0,{charged})", charge)

    for k, q in (requests if requests is not None else pd.DataFrame()).iterrows():
        first, host, partner = int(q["from_year"]), q["host_partner"], q["partner"]
        if not q["housed_in"] or not 0 <= first < h:
            continue
        i = k + 2
        ref = {name: f"'Space requests'!${letter}${i}" for name, letter in rcol.items()}
        src, rid, item = f"Space requests row {i}", q["request_id"], f"space request {q['request_id']}"
        m2 = float(q["need_m2"])
        charge = s.occupancy_charge_gbp_per_m2 * m2 if host != partner else 0.0
        for t in range(first, h):
            add(t, partner, "new_lease_avoided", rid, item, src, "+new_lease_gbp_per_m2 × m² (the lease not taken)",
                f"={ref['new_lease_avoided_gbp_a_year']}", float(q["new_lease_gbp_per_m2"]) * m2)
            add(t, host, "new_space_running", rid, item, src, "−new_space_running_gbp_per_m2 × m² taken up (host)",
                f"=-{ref['new_space_running_gbp_a_year']}", -s.new_space_running_gbp_per_m2 * m2)
            if host != partner:
                add(t, partner, "occupancy_charge", rid, item, src, "−occupancy_charge_gbp_per_m2 × m² (guest pays)",
                    f"=-MAX(0,{ref['occupancy_charge_gbp_a_year']})", -charge)
                add(t, host, "occupancy_charge", rid, item, src, "+occupancy_charge_gbp_per_m2 × m² (host receives)",
                    f"=MAX(0,{ref['occupancy_charge_gbp_a_year']})", charge)

    # A reopening's building is not in the programme; its GIA is recovered from the costed line.
    per_m2 = s.reopening_gbp_per_m2 * uplift
    flows = prog.flows
    for r in flows[flows["category"] == "reopening_cost"].itertuples(index=False):
        if not per_m2:
            break
        add(r.year, r.partner, "reopening_cost", r.item_id, r.item, "this line",
            "−GIA × reopening_gbp_per_m2 × (1 + optimism_bias)", None, r.gbp, quantity=-r.gbp / per_m2,
            unit="m² GIA")
    return pd.DataFrame(rows, columns=["year", "year_formula", "partner", "category", "item_id", "item", "source",
                                       "how", "quantity", "unit", "formula", "value"])


def _reconcile(lines: pd.DataFrame, prog: Programme) -> tuple[pd.DataFrame, int]:
    """The candidate lines of each item that reproduce ``prog.flows``; where they do not (the
    programme lacks an item's drivers), the item's lines from ``prog.flows`` as values. Returns the
    lines and how many are values."""
    h = prog.settings.horizon_years
    flows = prog.flows.assign(_key=prog.flows["item_id"].astype(str))
    lines = lines.assign(_key=lines["item_id"].astype(str))
    inside = (lines["year"] < h) | ((lines["category"] == "residual_value") & (lines["year"] == h))
    by = ["category", "_key", "partner", "year"]
    made = lines[inside].groupby(by, dropna=False)["value"].sum()
    costed = flows.groupby(by, dropna=False)["gbp"].sum()
    both = pd.concat([made[made != 0].rename("made"), costed[costed != 0].rename("costed")], axis=1)
    same = np.isclose(both["made"].to_numpy(float), both["costed"].to_numpy(float), rtol=1e-9, atol=1e-6)
    bad = set(both.index[~same].droplevel(["partner", "year"])) if len(both) else set()  # NaN is never the same

    def item_in_bad(frame: pd.DataFrame) -> np.ndarray:
        return np.array([k in bad for k in zip(frame["category"], frame["_key"])], dtype=bool)

    keep = ~item_in_bad(lines)
    values = [flows[item_in_bad(flows)]] if bad else []
    out = [lines[keep]]
    if values:
        v = pd.concat(values, ignore_index=True)
        out.append(pd.DataFrame({"year": v["year"].astype(int), "year_formula": None, "partner": v["partner"],
                                 "category": v["category"], "item_id": v["item_id"], "item": v["item"],
                                 "source": "value", "how": "value: its drivers are not in the programme",
                                 "quantity": None, "unit": None, "formula": None, "value": v["gbp"].astype(float)}))
    n_values = sum(len(x) for x in values)
    result = pd.concat(out, ignore_index=True).drop(columns="_key")
    order = {c: i for i, c in enumerate(CATEGORIES)}
    result = result.assign(_c=result["category"].map(order), _id=result["item_id"].astype(str),
                           _p=result["partner"].astype(str))
    result = result.sort_values(["year", "_c", "_p", "_id"], kind="stable").drop(columns=["_c", "_id", "_p"])
    return result.reset_index(drop=True), n_values


def _lines_sheet(ws: Worksheet, lines: pd.DataFrame, settings: FinanceSettings) -> int:
    """Write the lines; returns the last data row."""
    _header(ws, list(LINE_COLUMNS))
    h = settings.horizon_years
    labels = f"'Cash flow'!$B$1:${get_column_letter(h + 2)}$1"
    col = {name: j for j, name in enumerate(LINE_COLUMNS, start=1)}
    rate = _a("discount_rate")
    for i, r in enumerate(lines.itertuples(index=False), start=2):
        if isinstance(r.year_formula, str):
            _f(ws, i, col["year"], r.year_formula, YEAR)
            _f(ws, i, col["financial_year"],
               f'=IF(A{i}>={_a("horizon_years")},"after the horizon",INDEX({labels},1,A{i}+1))')
        else:
            _v(ws, i, col["year"], r.year, YEAR)
            _put(ws, i, col["financial_year"], year_label(r.year, settings))
        for name in ("partner", "category", "item_id", "item", "source", "how", "unit"):
            _put(ws, i, col[name], getattr(r, name))
        if _num(r.quantity) is not None:
            _v(ws, i, col["quantity"], float(r.quantity), M2)
        g = _L["gbp"]
        if isinstance(r.formula, str):
            _f(ws, i, col["gbp"], r.formula, GBP)
        elif r.category == "reopening_cost" and _num(r.quantity) is not None:
            _f(ws, i, col["gbp"], f"=-{_L['quantity']}{i}*{_a('reopening_gbp_per_m2')}*{_UPLIFT}", GBP)
        else:
            _v(ws, i, col["gbp"], r.value, GBP)
        _f(ws, i, col["pv_gbp"], f"={g}{i}/(1+{rate})^A{i}", GBP)  # discounted to year 0
    _widths(ws)
    ws.column_dimensions[_L["how"]].width = 40
    return max(len(lines) + 1, 2)


def _rng(name: str, last: int) -> str:
    c = _L[name]
    return f"Lines!${c}$2:${c}${last}"


# ---------------------------------------------------------------------------
# Cash flow, ledger, sensitivity
# ---------------------------------------------------------------------------

def _cash_flow(ws: Worksheet, prog: Programme, last: int) -> dict[str, str]:
    """Categories × years (and the end of the horizon) by SUMIFS over Lines; returns cell addresses."""
    s = prog.settings
    h = s.horizon_years
    rate = _a("discount_rate")
    labels = [year_label(t, s) for t in range(h + 1)]
    _header(ws, ["Category", *labels, "Total"])
    ws.cell(row=2, column=1, value="year index")
    for t in range(h + 1):
        _put(ws, 2, t + 2, t, YEAR)
    end_col = get_column_letter(h + 2)  # year h: the end of the horizon (residual values)
    last_year_col = get_column_letter(h + 1)  # year h − 1
    total_col = get_column_letter(h + 3)
    code_col = get_column_letter(h + 5)
    _put(ws, 1, h + 5, "category")
    cells = {}
    for i, category in enumerate(CATEGORIES, start=3):
        _put(ws, i, 1, _LABELS[category])
        _put(ws, i, h + 5, category)  # the code SUMIFS matches on, beside the table
        for t in range(h + 1):
            col = get_column_letter(t + 2)
            _f(ws, i, t + 2, f"=SUMIFS({_rng('gbp', last)},{_rng('category', last)},${code_col}{i},"
                             f"{_rng('year', last)},{col}$2)", GBP)
        _f(ws, i, h + 3, f"=SUM(B{i}:{end_col}{i})", GBP)
        cells[category] = f"'Cash flow'!{total_col}{i}"
    first, end = 3, 2 + len(CATEGORIES)
    net, cum, dfr, pv, cash, pays = end + 1, end + 2, end + 3, end + 4, end + 5, end + 6
    rows = {name: first + i for i, name in enumerate(CATEGORIES)}
    for row, label in ((net, "Net cash flow"), (cum, "Cumulative"), (dfr, "Discount factor"), (pv, "Present value"),
                       (cash, "Cashable saving (running saving − double running − new space run + new leases avoided)"),
                       (pays, "Pays back from this year (1 = cumulative > 0 and stays ≥ 0; residual values "
                              "excluded)")):
        _put(ws, row, 1, label).font = BOLD
    for t in range(h + 1):
        col = get_column_letter(t + 2)
        prev = get_column_letter(t + 1)
        _f(ws, net, t + 2, f"=SUM({col}{first}:{col}{end})", GBP)
        _f(ws, cum, t + 2, f"={col}{net}" if t == 0 else f"={prev}{cum}+{col}{net}", GBP)
        _f(ws, dfr, t + 2, f"=1/(1+{rate})^{col}$2", FACTOR)
        _f(ws, pv, t + 2, f"={col}{net}*{col}{dfr}", GBP)
        _f(ws, cash, t + 2, "=" + "+".join(f"{col}{rows[c]}" for c in CASHABLE), GBP)
        if t < h:
            _f(ws, pays, t + 2, f"=IF(AND({col}{cum}>0.000001,MIN({col}{cum}:${last_year_col}${cum})>=-0.000001),1,0)",
               YEAR)
    for row in (net, pv, cash):
        _f(ws, row, h + 3, f"=SUM(B{row}:{end_col}{row})", GBP)
    r = pays + 2
    _put(ws, r, 1, "Net present value").font = BOLD
    _f(ws, r, 2, f"={total_col}{pv}", GBP, bold=True)
    _put(ws, r + 1, 1, "Check: NPV of the line items")
    _f(ws, r + 1, 2, f"=SUM({_rng('pv_gbp', last)})", GBP)
    _put(ws, r + 2, 1, "Net cash over the horizon (residual values are not cash)")
    _f(ws, r + 2, 2, f"=SUM(B{net}:{last_year_col}{net})", GBP)
    _put(ws, r + 3, 1, "Payback year")
    _f(ws, r + 3, 2, f'=IFERROR(INDEX($B$1:${last_year_col}$1,1,MATCH(1,B{pays}:{last_year_col}{pays},0)),'
                     f'"not within the horizon")')
    ws.column_dimensions["A"].width = 48
    for t in range(h + 2):
        ws.column_dimensions[get_column_letter(t + 2)].width = 15
    cells.update(npv=f"'Cash flow'!B{r}", cashable=f"'Cash flow'!{total_col}{cash}",
                 net_total=f"'Cash flow'!B{r + 2}", payback=f"'Cash flow'!B{r + 3}")
    return cells


def _ledger(ws: Worksheet, partners: list[str], last: int, moves: dict[str, str], moves_last: int) -> dict[str, int]:
    """Each partner's present values by category and its position under the (live) sharing rule."""
    cats = list(CATEGORIES)
    columns = ["partner", *[f"{c}_pv_gbp" for c in cats], "own_net_pv_gbp", "floor_area_moved_m2", "share",
               "allocated_net_pv_gbp", "transfer_pv_gbp", "position", "in_ledger"]
    col = {name: get_column_letter(j) for j, name in enumerate(columns, start=1)}
    _header(ws, columns)
    rule = _a("sharing_rule")
    n = len(partners)
    pot, total_row = n + 2, n + 3
    own, moved, share, alloc = col["own_net_pv_gbp"], col["floor_area_moved_m2"], col["share"], \
        col["allocated_net_pv_gbp"]
    counted = col["in_ledger"]

    def m_rng(name: str) -> str:
        letter = moves[name]  # looked up by header name: the Moves sheet's columns depend on the programme
        return f"Moves!${letter}$2:${letter}${max(moves_last, 2)}"

    rows = {}
    for i, partner in enumerate(partners, start=2):
        rows[partner] = i
        _put(ws, i, 1, partner)
        for j, category in enumerate(cats, start=2):
            _f(ws, i, j, f'=SUMIFS({_rng("pv_gbp", last)},{_rng("partner", last)},$A{i},'
                         f'{_rng("category", last)},"{category}")', GBP)
        _f(ws, i, len(cats) + 2, f"=SUM(B{i}:{get_column_letter(len(cats) + 1)}{i})", GBP)
        _f(ws, i, len(cats) + 3, f"=SUMIFS({m_rng('need_m2')},{m_rng('partner')},$A{i})" if moves_last > 1
           else "=0", M2)
        # Pro-rata: shares of the floor area moved; with none moved, equal shares among the partners in the ledger.
        _f(ws, i, len(cats) + 4, f'=IF({rule}="pro-rata",IF({moved}${total_row}=0,{counted}{i}/{counted}${total_row},'
                                 f'{moved}{i}/{moved}${total_row}),"")', SHARE)
        _f(ws, i, len(cats) + 5, f'=IF({rule}="pro-rata",{share}{i}*{own}${total_row},'
                                 f'IF({rule}="pooled",0,{own}{i}))', GBP)
        _f(ws, i, len(cats) + 6, f"={alloc}{i}-{own}{i}", GBP)
        _f(ws, i, len(cats) + 7, f'=IF({alloc}{i}>0.5,"net benefit",IF({alloc}{i}<-0.5,"net cost","neutral"))')
        # A partner counts in the ledger when it has a line that is not 0, or a team that moves.
        has_moves = f"COUNTIFS({m_rng('partner')},$A{i})>0" if moves_last > 1 else "FALSE"
        _f(ws, i, len(cats) + 8, f'=IF(OR(COUNTIFS({_rng("partner", last)},$A{i},{_rng("gbp", last)},"<>0")>0,'
                                 f"{has_moves}),1,0)", YEAR)
    _put(ws, pot, 1, "Partnership pot")
    _f(ws, pot, len(cats) + 5, f'=IF({rule}="pooled",{own}{total_row},0)', GBP)
    _f(ws, pot, len(cats) + 6, f"={alloc}{pot}", GBP)
    _f(ws, pot, len(cats) + 7, f'=IF({rule}="pooled",IF({alloc}{pot}>0.5,"net benefit",IF({alloc}{pot}<-0.5,'
                               f'"net cost","neutral")),"pooled rule only")')
    _put(ws, total_row, 1, "TOTAL").font = BOLD
    for name in columns[1:]:
        if name in ("share", "position"):
            continue
        letter = col[name]
        _f(ws, total_row, columns.index(name) + 1, f"=SUM({letter}2:{letter}{total_row - 1})",
           M2 if name in ("floor_area_moved_m2", "in_ledger") else GBP, bold=True)
    _put(ws, total_row + 2, 1, "Sharing rule: see Assumptions (live). Present values; transfer = allocated − own "
                               "(positive: the partner gains from sharing). none: each partner keeps its own; "
                               "pro-rata: the total shared by floor area moved (equally when none is moved); "
                               "pooled: everything goes into the partnership pot. in_ledger: 1 when the partner has a "
                               "line that is not 0 or a team that moves (the equal shares count these).")
    _widths(ws, minimum=14)
    return rows


def _sensitivity(ws: Worksheet, prog: Programme, last: int, npv: str) -> str:
    """NPV with each assumption at the low and high end of its range, as formulas. Returns the
    range of ``npv_min_gbp``."""
    columns = ["assumption", "base_npv_gbp", "base_setting", "low_setting", "high_setting", "npv_at_low_gbp",
               "npv_at_high_gbp", "npv_min_gbp", "npv_max_gbp", "swing_gbp", "turns_negative", "rank"]
    _header(ws, columns)
    groups = {"receipts": ["capital_receipt"], "one_off_costs": list(ONE_OFF),
              "running_cost_saving": ["running_cost_saving"], "residual_value": ["residual_value"]}
    order = list(prog.sensitivity["assumption"]) if len(prog.sensitivity) else [*groups, "discount_rate"]
    order += [a for a in [*groups, "discount_rate"] if a not in order]
    n = len(order)
    for i, name in enumerate(order, start=2):
        _put(ws, i, 1, name)
        _f(ws, i, 2, f"={npv}", GBP)
        if name == "discount_rate":
            _f(ws, i, 3, f"={_a('discount_rate')}", RATE)
            _f(ws, i, 4, f"={_bound(name, 0)}", RATE)
            _f(ws, i, 5, f"={_bound(name, 1)}", RATE)
            for j, k in ((6, 0), (7, 1)):  # every line re-discounted at the low and the high rate
                _f(ws, i, j, f"=SUMPRODUCT({_rng('gbp', last)},1/(1+{_bound(name, k)})^{_rng('year', last)})", GBP)
        else:
            _put(ws, i, 3, "as costed")
            _f(ws, i, 4, f"={_bound(name, 0)}", CHANGE)
            _f(ws, i, 5, f"={_bound(name, 1)}", CHANGE)
            pv = "+".join(f'SUMIFS({_rng("pv_gbp", last)},{_rng("category", last)},"{c}")' for c in groups[name])
            _f(ws, i, 6, f"=B{i}+D{i}*({pv})", GBP)
            _f(ws, i, 7, f"=B{i}+E{i}*({pv})", GBP)
        _f(ws, i, 8, f"=MIN(F{i}:G{i})", GBP)
        _f(ws, i, 9, f"=MAX(F{i}:G{i})", GBP)
        _f(ws, i, 10, f"=I{i}-H{i}", GBP)
        _f(ws, i, 11, f"=H{i}<0")
        _f(ws, i, 12, f"=RANK(J{i},$J$2:$J${n + 1})", YEAR)
    _put(ws, n + 3, 1, "NPV of the same plan with one assumption at a time at the low and high end of its range "
                       "(the sensitivity rows of the Assumptions sheet). receipts, one_off_costs, running_cost_saving "
                       "and residual_value scale those lines' present value; discount_rate re-discounts every line. "
                       "Rows are in order of swing as costed; rank gives the order after any change.")
    _widths(ws, minimum=12)
    return f"Sensitivity!$H$2:$H${n + 1}"


# ---------------------------------------------------------------------------
# The workbook
# ---------------------------------------------------------------------------

def _phasing_sheet(ws: Worksheet, prog: Programme, last: int, dcol: dict[str, str], d_last: int,
                   mcol: dict[str, str], m_last: int, delivery: dict) -> None:
    """The programme year by year against the delivery limits and the funding line, as formulas of the
    Disposals, Moves and Lines sheets (the limits and the capital budget are values from the scenario)."""
    h = prog.settings.horizon_years
    columns = ["year", "financial_year", "disposals", "market_value_sold_gbp", "fte_moved", "receipts_gbp",
               "capital_one_off_gbp", "capital_to_date_gbp", "budget_to_date_gbp", "funds_to_date_gbp",
               "headroom_gbp", "disposals_limit", "market_value_limit_gbp", "fte_moved_limit", "within_limits"]
    col = {name: get_column_letter(j) for j, name in enumerate(columns, start=1)}
    _header(ws, columns)
    limits = delivery.get("limits", {}) if delivery else {}
    budget = float(delivery.get("capital_budget_gbp_per_year", 0.0)) if delivery else 0.0
    funded = bool(delivery.get("funded")) if delivery else False
    foot = h + 4
    _put(ws, foot, 1, "capital budget a year (value: [plan.delivery] of the scenario; 0 = none)")
    _v(ws, foot, 4, budget, GBP)
    _put(ws, foot + 1, 1, "funding line applies (value)")
    _v(ws, foot + 1, 4, funded)

    def d_rng(name: str) -> str | None:
        return f"Disposals!${dcol[name]}$2:${dcol[name]}${max(d_last, 2)}" if name in dcol and d_last >= 2 else None

    def m_rng(name: str) -> str | None:
        return f"Moves!${mcol[name]}$2:${mcol[name]}${max(m_last, 2)}" if name in mcol and m_last >= 2 else None

    for t in range(h):
        i = t + 2
        c = {k: f"{v}{i}" for k, v in col.items()}
        _put(ws, i, 1, t, YEAR)
        _put(ws, i, 2, year_label(t, prog.settings))
        ey, mv, tenure = d_rng("exit_year"), d_rng("market_value_gbp"), d_rng("tenure")
        _f(ws, i, 3, f"=COUNTIFS({ey},{c['year']})" if ey else "=0", YEAR)
        _f(ws, i, 4, f'=SUMIFS({mv},{ey},{c["year"]},{tenure},"freehold")' if ey and mv and tenure else "=0", GBP)
        fte, my = m_rng("fte"), m_rng("move_year")
        _f(ws, i, 5, f"=SUMIFS({fte},{my},{c['year']})" if fte and my else "=0", FTE)
        line = f"{_rng('gbp', last)},{_rng('year', last)},{c['year']},{_rng('category', last)}"
        _f(ws, i, 6, f'=SUMIFS({line},"capital_receipt")', GBP)
        _f(ws, i, 7, "=-(" + "+".join(f'SUMIFS({line},"{k}")' for k in CAPITAL) + ")", GBP)
        _f(ws, i, 8, f"=SUM($G$2:{c['capital_one_off_gbp']})", GBP)
        _f(ws, i, 9, f"=$D${foot}*({c['year']}+1)", GBP)
        _f(ws, i, 10, f"={c['budget_to_date_gbp']}+SUM($F$2:{c['receipts_gbp']})", GBP)
        _f(ws, i, 11, f"={c['funds_to_date_gbp']}-{c['capital_to_date_gbp']}", GBP)
        for j, key, fmt in ((12, "disposals_per_year", YEAR), (13, "market_value_gbp_per_year", GBP),
                            (14, "fte_moved_per_year", FTE)):
            _v(ws, i, j, float(limits.get(key, 0) or 0), fmt)
        checks = [f"OR({c['disposals_limit']}=0,{c['disposals']}<={c['disposals_limit']})",
                  f"OR({c['market_value_limit_gbp']}=0,{c['market_value_sold_gbp']}<={c['market_value_limit_gbp']}+0.001)",
                  f"OR({c['fte_moved_limit']}=0,{c['fte_moved']}<={c['fte_moved_limit']}+0.000001)",
                  f"OR(NOT($D${foot + 1}),{c['headroom_gbp']}>=-0.001)"]
        _f(ws, i, 15, f'=IF(AND({",".join(checks)}),"yes","NO")')
    _put(ws, foot + 3, 1, "Cash. Capital one-off costs: move costs (relocation, ICT, fit-out), dilapidations and reopening, "
                          "with optimism bias; funds so far = the capital budget made available so far + the net receipts "
                          "received so far. Limits are the partnership's (0 = none); a partner's own limits are checked "
                          "in plan_summary.json. Limits and budget are values from [plan.delivery] of the scenario.")
    _widths(ws, minimum=12)


def write_workbook(prog: Programme, path: Path, *, scenario: str = "", plan_summary: dict | None = None) -> None:
    """Write ``programme.xlsx`` (see the module docstring) to ``path``."""
    s = prog.settings
    limits: list[str] = []
    assumption_limits: dict[str, str] = {}
    d = _disposal_values(prog, limits, assumption_limits)
    m = _move_values(prog)
    r = _request_values(prog)

    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    sheets = {name: wb.create_sheet(name) for name in ("Cash flow", "Phasing", "Disposals", "Moves", "Partner ledger",
                                                       "Sensitivity", "Assumptions", "Lines")}
    if len(r):
        sheets["Space requests"] = wb.create_sheet("Space requests", index=wb.sheetnames.index("Moves") + 1)
    # Column letters first (the Lines sheet refers to them), then the lines (the sheets refer to their rows).
    dcol = {name: get_column_letter(j) for j, name in
            enumerate([c for c in _D_VALUES if c in d] + list(_D_FORMULAS), start=1)}
    mcol = {name: get_column_letter(j) for j, name in
            enumerate([c for c in _M_VALUES if c in m] + list(_M_FORMULAS), start=1)}
    rcol = {name: get_column_letter(j) for j, name in enumerate(list(_R_VALUES) + list(_R_FORMULAS), start=1)}
    lines, n_values = _reconcile(_candidate_lines(prog, d, m, dcol, mcol, r, rcol), prog)
    if n_values:
        limits.append(f"{n_values} line(s) are values, not formulas: the programme does not carry their drivers "
                      "(see the source column of the Lines sheet)")
    unhosted = int((m["to_partner"].isna() & (m["move_year"] < s.horizon_years)).sum()) if len(m) else 0
    if unhosted:
        limits.append(f"{unhosted} move(s) have no receiving partner in the programme: their new-space running "
                      "costs and occupancy charges are values")
        assumption_limits.update(new_space_running_gbp_per_m2="not for moves with no receiving partner",
                                 occupancy_charge_gbp_per_m2="not for moves with no receiving partner")
    if not (s.reopening_gbp_per_m2 * (1 + s.optimism_bias)):
        limits.append("reopening_gbp_per_m2 was 0 in the costing, so the workbook cannot tell which buildings (if "
                      "any) are brought back into use: raising it here adds nothing")
        assumption_limits["reopening_gbp_per_m2"] = "only for the reopenings costed"

    _assumptions(sheets["Assumptions"], s, scenario, assumption_limits)
    last = _lines_sheet(sheets["Lines"], lines, s)
    _, d_total = _disposals_sheet(sheets["Disposals"], d, last)
    _widths(sheets["Disposals"])
    _, m_total = _moves_sheet(sheets["Moves"], m)
    _widths(sheets["Moves"])
    if len(r):
        _requests_sheet(sheets["Space requests"], r)
        _widths(sheets["Space requests"])
    cells = _cash_flow(sheets["Cash flow"], prog, last)
    partners = sorted({str(p) for p in lines["partner"].dropna()} | {str(p) for p in m.get("partner", [])
                                                                     if pd.notna(p)}
                      | {str(p) for p in prog.ledger["partner"] if p != "Partnership pot"})
    _ledger(sheets["Partner ledger"], partners, last, mcol, m_total - 1)
    _phasing_sheet(sheets["Phasing"], prog, last, dcol, d_total - 1, mcol, m_total - 1,
                   (plan_summary or {}).get("delivery") or {})
    npv_min = _sensitivity(sheets["Sensitivity"], prog, last, cells["npv"])

    d_last = d_total - 1
    running, exit_year = dcol["running_cost_gbp"], dcol["exit_year"]
    lines_pv, lines_cat = _rng("pv_gbp", last), _rng("category", last)
    saving = (f'=SUMIFS(Disposals!{running}2:{running}{d_last},Disposals!{exit_year}2:{exit_year}{d_last},'
              f'"<"&{_a("horizon_years")},Disposals!{exit_year}2:{exit_year}{d_last},">=0")' if len(d) else "=0")
    rows = [
        ("Scenario", scenario, None, "value"),
        ("Disposals", Formula(f"=COUNTA(Disposals!A2:A{d_last})" if len(d) else "=0"), "#,##0", "formula"),
        ("Team moves", Formula(f"=COUNTA(Moves!A2:A{m_total - 1})" if len(m) else "=0"), "#,##0", "formula"),
        ("Steady-state annual running-cost saving", Formula(saving), GBP, "formula"),
        ("Cashable savings over the horizon", Formula(f"={cells['cashable']}"), GBP, "formula"),
        ("Capital receipts", Formula(f"={cells['capital_receipt']}"), GBP, "formula"),
        ("One-off costs", Formula("=-(" + "+".join(cells[c] for c in ONE_OFF) + ")"), GBP, "formula"),
        ("Residual value forgone (present value)",
         Formula(f'=-SUMIFS({lines_pv},{lines_cat},"residual_value")'), GBP, "formula"),
        ("Net cash over the horizon", Formula(f"={cells['net_total']}"), GBP, "formula"),
        ("Net present value", Formula(f"={cells['npv']}"), GBP, "formula"),
        ("Payback year", Formula(f"={cells['payback']}"), None, "formula"),
        ("Sharing rule", Formula(f"={_a('sharing_rule')}"), None, "formula"),
        ("NPV turns negative within the sensitivity ranges", Formula(f'=IF(MIN({npv_min})<0,"yes","no")'), None,
         "formula"),
    ]
    if plan_summary:
        gap = plan_summary.get("gap")
        rows += [("Optimiser status", plan_summary.get("status"), None, "value: from the optimiser run"),
                 ("Optimiser gap", gap, PERCENT if gap is not None else None, "value: from the optimiser run"),
                 ("Optimiser objective (net present cost = −NPV when moves are not capped)",
                  plan_summary.get("objective"), GBP, "value: from the optimiser run, under the scenario's "
                                                      "assumptions")]
    _header(summary, ["Headline", "Value", "Basis"])
    for i, (label, value, fmt, basis) in enumerate(rows, start=2):
        _put(summary, i, 1, label)
        if isinstance(value, Formula):
            _put(summary, i, 2, value, fmt)
        else:
            _v(summary, i, 2, value, fmt)
        _put(summary, i, 3, basis)
    note = len(rows) + 3
    texts = [
        "Every figure marked formula updates when an assumption on the Assumptions sheet changes (rates, unit "
        "costs, optimism bias, fees, lags, months of double running, the backlog and residual-value settings, the "
        "sharing rule and the sensitivity ranges): follow it to the Cash flow sheet and the Lines sheet, whose "
        "lines are formulas of the Disposals and Moves sheets and the Assumptions.",
        "Values (blue), not formulas: the register's figures (running cost, market value, backlog, GIA, tenure), "
        "the plan's phasing (each disposal's exit year, each move's year, its FTE, floor area and distance), the "
        "reopened buildings' GIA, and the first year, horizon, earliest exit year and cap on moves a year, which "
        "fix the years and lines of this workbook (change those in the scenario and re-run `estate finance`). "
        "Optimiser figures are values from the optimiser run.",
    ]
    texts += [f"Limit: {t}" for t in limits]
    texts += [f"Note: {t}" for t in prog.notes]
    for k, text in enumerate(texts):
        _put(summary, note + k, 1, text)
    summary.column_dimensions["A"].width = 70
    summary.column_dimensions["B"].width = 22
    summary.column_dimensions["C"].width = 30
    wb.save(path)


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
    if len(prog.requests):
        tables["space_requests"] = prog.requests
    for name, table in tables.items():
        path = out_dir / f"programme_{name}.csv"
        write_csv(table, path)
        paths.append(path)
    return paths
