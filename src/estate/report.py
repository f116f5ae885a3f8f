"""The board report: one HTML file with the plan's headline figures, access, the partner
ledger, charts, the solver's status and every assumption.

It is written from a plan folder's saved outputs (``plan_summary.json`` and the
``programme_*.csv`` tables), so ``estate report PLAN_DIR`` can rebuild it at any
time. Charts are drawn with matplotlib and embedded as PNG images; the page
needs nothing else to open.
"""

from __future__ import annotations

import base64
import html
import io
import json
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from estate._errors import EstateError  # noqa: E402
from estate._io import GENERATOR_TAG, atomic_path  # noqa: E402
from estate.finance import gbp_millions as _m  # noqa: E402
from estate.wording import headline_figures  # noqa: E402

#: Cash-flow categories as the report names them, with chart colours.
_CATEGORIES = {
    "running_cost_saving": ("Running-cost saving", "#1b9e77"),
    "double_running": ("Double running", "#d95f02"),
    "capital_receipt": ("Capital receipts", "#7570b3"),
    "backlog_avoided": ("Backlog avoided", "#66a61e"),
    "lease_exit_cost": ("Lease exit costs", "#e7298a"),
    "move_cost": ("Move costs", "#e6ab02"),
}
_NEEDED = ("plan_summary.json", "programme_cash_flow.csv", "programme_ledger.csv", "programme_sensitivity.csv",
           "programme_assumptions.csv")

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:24px auto;padding:0 18px;color:#222}
h1{font-size:26px;margin-bottom:4px} h2{font-size:19px;margin-top:30px;border-bottom:2px solid #dde4ee}
table{border-collapse:collapse;margin:8px 0 14px} th,td{padding:4px 10px;border-bottom:1px solid #e3e3e3}
th{text-align:left;background:#f3f6fa} td.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0}
.card{border:1px solid #dde4ee;border-radius:6px;padding:10px 14px;min-width:150px;background:#fafcff}
.card b{display:block;font-size:22px} .muted{color:#666;font-size:13px} .bad{color:#b10026;font-weight:600}
img{max-width:100%}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="chart" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _cash_flow_chart(by_year: pd.DataFrame) -> str:
    years = [c for c in by_year.columns if c != "category"]
    table = by_year.set_index("category")[years]
    fig, ax = plt.subplots(figsize=(10, 4.2))
    pos = pd.Series(0.0, index=years)
    neg = pd.Series(0.0, index=years)
    for code, (label, colour) in _CATEGORIES.items():
        if code not in table.index:
            continue
        values = table.loc[code].astype(float) / 1e6
        base = pos.where(values >= 0, neg)
        ax.bar(years, values, bottom=base, label=label, color=colour)
        pos = pos + values.clip(lower=0)
        neg = neg + values.clip(upper=0)
    ax.plot(years, table.loc["cumulative"].astype(float) / 1e6, color="#222", marker="o", label="Cumulative net")
    ax.axhline(0, color="#888", linewidth=0.8)
    ax.set_ylabel("£m (positive = benefit)")
    ax.set_title("Cash-flow profile by financial year")
    ax.legend(fontsize=8, ncol=4, loc="upper left")
    ax.tick_params(axis="x", labelrotation=45)
    return _png(fig)


def _phasing_chart(phasing: list[dict]) -> str:
    """Capital one-off costs paid so far against the funding line (budget + receipts so far), with
    the disposals a year, from ``plan_summary.json``'s ``phasing``."""
    table = pd.DataFrame(phasing)
    fig, ax = plt.subplots(figsize=(10, 3.8))
    years = table["financial_year"]
    ax.bar(years, table["capital_one_off_gbp"] / 1e6, color="#fdbf6f", label="Capital one-off costs in the year")
    ax.plot(years, table["capital_to_date_gbp"] / 1e6, color="#e31a1c", marker="o", label="Capital paid so far")
    ax.plot(years, table["funds_to_date_gbp"] / 1e6, color="#33a02c", marker="s", label="Budget + receipts so far")
    ax.set_ylabel("£m, cash")
    ax.set_title("Phasing: the programme against its funding line")
    right = ax.twinx()
    right.plot(years, table["disposals"], color="#6a3d9a", linestyle="--", marker=".", label="Disposals in the year")
    right.set_ylabel("disposals")
    lines = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(lines, [h.get_label() for h in lines], fontsize=8, loc="upper left")
    ax.tick_params(axis="x", labelrotation=45)
    return _png(fig)


def _partner_chart(ledger: pd.DataFrame) -> str:
    rows = ledger[ledger["partner"] != "Partnership pot"]
    fig, ax = plt.subplots(figsize=(10, 3.6))
    x = range(len(rows))
    ax.bar([i - 0.2 for i in x], rows["own_net_pv_gbp"] / 1e6, width=0.4, label="Own position", color="#1f78b4")
    ax.bar([i + 0.2 for i in x], rows["allocated_net_pv_gbp"] / 1e6, width=0.4, label="Under the sharing rule",
           color="#b2df8a")
    ax.set_xticks(list(x), rows["partner"], rotation=45)
    ax.axhline(0, color="#888", linewidth=0.8)
    ax.set_ylabel("£m, present value")
    ax.set_title("Savings by partner (net present value)")
    ax.legend(fontsize=8)
    return _png(fig)


def _table(frame: pd.DataFrame, numeric: set[str] = frozenset()) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f'<td class="n">{_e(v)}</td>' if c in numeric else f"<td>{_e(v)}</td>"
                                    for c, v in zip(frame.columns, row)) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><tr>{head}</tr>{body}</table>"


def write_report(plan_dir: str | Path, path: str | Path | None = None, *, maps_dir: str = "maps") -> Path:
    """Write ``report.html`` for a plan folder (default ``PLAN_DIR/report.html``).

    Parameters
    ----------
    plan_dir
        A folder written by ``estate plan``.
    path
        Where to write the report.
    maps_dir
        The maps' folder relative to the report, for its links.

    Returns
    -------
    pathlib.Path
    """
    plan_dir = Path(plan_dir)
    missing = [n for n in _NEEDED if not (plan_dir / n).exists()]
    if missing:
        raise EstateError(f"{plan_dir}: missing {', '.join(missing)}; run `estate plan` first")
    s = json.loads((plan_dir / "plan_summary.json").read_text(encoding="utf-8"))
    by_year = pd.read_csv(plan_dir / "programme_cash_flow.csv")
    ledger = pd.read_csv(plan_dir / "programme_ledger.csv")
    sensitivity = pd.read_csv(plan_dir / "programme_sensitivity.csv")
    assumptions = pd.read_csv(plan_dir / "programme_assumptions.csv")
    path = Path(path) if path is not None else plan_dir / "report.html"

    gap = s.get("gap")
    cards = headline_figures(s)
    access_rows = pd.DataFrame([
        {"service": a.get("name", code),
         "standard": (f"{a['standard']['minutes']:g} min by {a['standard']['mode'].replace('_', ' ')}"
                      if "minutes" in a["standard"] else f"no zone worse by {a['standard']['mode'].replace('_', ' ')}"),
         "required": f"{a['required_share']:.1%}", "before": f"{a['share_before']:.1%}",
         "after": f"{a['share_after']:.1%}", "sites": f"{a['sites_before']} → {a['sites_after']}",
         "met": "yes" if a["met"] else "NO"} for code, a in s.get("access", {}).items()])
    led = ledger.assign(**{c: ledger[c].map(_m) for c in ("own_net_pv_gbp", "allocated_net_pv_gbp",
                                                          "transfer_pv_gbp")})
    led = led[["partner", "own_net_pv_gbp", "allocated_net_pv_gbp", "transfer_pv_gbp", "position"]]
    led.columns = ["Partner", "Own position", "Under the rule", "Transfer", "Position"]
    sens = sensitivity.assign(npv_min=sensitivity["npv_min_gbp"].map(_m), npv_max=sensitivity["npv_max_gbp"].map(_m))
    sens = sens[["assumption", "low_setting", "high_setting", "npv_min", "npv_max", "turns_negative"]]
    sens.columns = ["Assumption", "Low", "High", "NPV at worst", "NPV at best", "Turns negative"]
    links = [("Plan map", f"{maps_dir}/plan.html"), ("Access map", f"{maps_dir}/access.html"),
             ("Register map", f"{maps_dir}/register.html"), ("Programme workbook", "programme.xlsx")]
    plan_settings = s.get("plan_settings", {})
    phasing = pd.DataFrame(s.get("phasing") or [])
    if len(phasing):
        phasing = pd.DataFrame({
            "Year": phasing["financial_year"], "Disposals": phasing["disposals"].map("{:,}".format),
            "Freeholds sold (market value)": phasing["market_value_sold_gbp"].map(_m),
            "FTE moved": phasing["fte_moved"].map("{:,.0f}".format), "Receipts": phasing["receipts_gbp"].map(_m),
            "Capital one-off costs": phasing["capital_one_off_gbp"].map(_m),
            "Capital paid so far": phasing["capital_to_date_gbp"].map(_m),
            "Budget + receipts so far": phasing["funds_to_date_gbp"].map(_m),
            "Within limits": phasing["within_limits"].map({True: "yes", False: "NO"})})
    requests_csv = plan_dir / "programme_space_requests.csv"
    requests = pd.read_csv(requests_csv, keep_default_na=False) if requests_csv.exists() else pd.DataFrame()
    if len(requests):
        requests = requests.assign(need_m2=requests["need_m2"].map(lambda v: f"{float(v):,.0f} m²"))
        requests = requests[["request_id", "partner", "service", "need_m2", "financial_year", "outcome", "reason"]]
        requests.columns = ["Request", "Partner", "Service", "Space", "From", "Met by", "Why"]

    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>{GENERATOR_TAG}"
        f"<title>Estate plan report: {_e(s['scenario'])}"
        f"</title><style>{_CSS}</style></head><body>",
        f"<h1>Estate plan: {_e(s['scenario'])}</h1>",
        f"<div class='muted'>Written {date.today():%d %B %Y} by estate for scenario {_e(s['scenario'])}. "
        f"Over {s.get('horizon_years')} years; present values are discounted at {s.get('discount_rate', 0):.1%} "
        "a year (HM Treasury Green Book); every figure says whether it is cash or a present value.</div>",
        "<p>" + " · ".join(f"<a href='{_e(href)}'>{_e(label)}</a>" for label, href in links) + "</p>",
        "<h2>Headline figures</h2><div class='cards'>"
        + "".join(f"<div class='card'><span class='muted'>{_e(k)}</span><b>{_e(v)}</b></div>" for k, v in cards)
        + "</div>",
        "<h2>Access to services, before and after</h2>",
        _table(access_rows) if len(access_rows) else "<p>No service has an access standard.</p>",
        "<h2>Cash flow</h2>", _cash_flow_chart(by_year),
        ("<h2>Phasing: the programme year by year</h2><p>"
         + ("Each disposal's year was chosen by the optimiser under the delivery limits and the funding line "
            "(capital one-off costs paid from the budget plus the receipts received so far; cash). "
            if s.get("exit_years_chosen") else "Each disposal goes in its earliest permitted year (no delivery "
                                                "limits were set). ")
         + "</p>" + _phasing_chart(s["phasing"]) + _table(phasing)) if len(phasing) else "",
        f"<h2>Partner ledger (sharing rule: {_e(s.get('sharing_rule', 'none'))})</h2>", _table(led),
        _partner_chart(ledger),
        ("<h2>Space requests</h2><p>Each partner's request for space, met in the estate's kept space when that "
         "is worth more than a new lease (the alternative, whose cost each request states).</p>" + _table(requests))
        if len(requests) else "",
        "<h2>Sensitivity of the NPV</h2>",
        ("<p class='bad'>The NPV turns negative within the stated ranges.</p>" if s.get("npv_turns_negative")
         else "<p>The NPV stays positive across every stated range.</p>"),
        _table(sens),
        "<h2>How sure is the optimiser?</h2>",
        f"<p>Status <b>{_e(s['status'])}</b>, gap {'n/a' if gap is None else f'{gap:.2%}'} between the plan "
        f"(objective {_m(s['objective'])}, the net present cost against today's estate) and the best proven bound "
        f"({_m(s.get('bound'))}). Solver {_e(s.get('solver'))}; model built in {s.get('build_seconds', 0):.1f} s, "
        f"solved in {s.get('solve_seconds', 0):.1f} s.</p>",
        "<h2>Rules the plan keeps</h2><ul>" + "".join(f"<li>{_e(r)}</li>" for r in s.get("rules", [])) + "</ul>",
        "<h2>Assumptions</h2>",
        _table(assumptions.astype(str)),
        _table(pd.DataFrame({"plan setting": list(plan_settings), "value": [str(v) for v in plan_settings.values()]}))
        if plan_settings else "",
        "<h2>Caveats</h2><ul>"
        + "".join(f"<li>{_e(n)}</li>" for n in s.get("notes", []))
        + f"<li>{_e(s.get('access_caveat', ''))}</li>"
        + (f"<li>{s['running_costs_estimated']:,} assets' running costs are estimates (floor area × a benchmark "
           "rate for the asset type; the partner gave none); they are marked in the workbook and on the maps.</li>"
           if s.get("running_costs_estimated") else "")
        + (f"<li>{s['sensitive_sites']:,} sensitive sites (refuges, confidential offices) are in the figures "
           "but not on the maps or in any list by name or place.</li>" if s.get("sensitive_sites") else "")
        + "<li>Capital receipts use the register's market values; a sale may realise more or less (see the "
          "sensitivity).</li></ul>",
        "</body></html>",
    ]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(parts), encoding="utf-8")
    return path
