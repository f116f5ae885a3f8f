"""Phasing (``[plan.delivery]``): each disposal's exit year is a decision, under what can be
delivered a year and what can be paid for.

For each building that may go, a binary ``w[s, e]`` for each financial year ``e``
its tenure allows (a freehold any year from ``earliest_exit_year``, a leasehold
in the year after its break or its expiry), with ``y_s + Σ_e w[s, e] = 1`` (a
building that must go: ``Σ_e w[s, e] = 1``). Going in ``e`` rather than in the
earliest year ``e0`` costs ``exit value(e0) − exit value(e)`` (running costs
saved for fewer years, the receipt later), less what its teams' moves save by
happening later (their one-off cost and the new space's running cost, discounted
to ``e``; the excess-travel allowance is still discounted from ``e0``, which
``objective_vs_npv_gbp`` shows).

Limits, for each year and for the partnership and any partner with its own:

* **FTE moved**: the FTE of the teams of the buildings disposed of in ``e``,
  plus, in ``earliest_exit_year``, those of teams leaving buildings that stay;
* **disposals**: the number completed in ``e``;
* **market value**: of the freeholds sold in ``e`` (what the local market absorbs).

**Funding, with receipts recycled** (``funded``): in every year ``τ``, the capital
one-off costs paid so far (moves' relocation, ICT and fit-out, dilapidations,
reopening, with optimism bias; cash) may not exceed ``capital_budget_gbp_per_year``
× (τ + 1) plus the net receipts received so far (after the receipt lag). Double
running and the excess-travel allowance are revenue costs, paid from running
budgets, and are not in it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from estate.finance.costs import (asset_options, discount_factor, exit_years_allowed, move_cost_gbp,
                                  new_space_pv_gbp)
from estate.locate.problem import CLOSED, EXTRA, FREE, X, Y, SideConstraints
from estate.plan.model import Model, flag
from estate.scenario import DeliveryLimits, Scenario


def _team_one_off_gbp(teams: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """Each team's move one-off cost, cash with optimism bias: the cost model's move cost with no
    excess travel (relocation and ICT per FTE, fit-out per m²)."""
    return move_cost_gbp(teams["fte"].to_numpy(float), teams["need_m2"].to_numpy(float), 0.0, scenario.finance)


def _reopening_cash_per_m2(scenario: Scenario) -> float:
    """Bringing an empty building back into use, cash per m² of GIA with optimism bias."""
    fin = scenario.finance
    return fin.reopening_gbp_per_m2 * (1 + fin.optimism_bias)


def add(model: Model, side: SideConstraints, assets: pd.DataFrame, scenario: Scenario) -> None:
    """Add the exit-year columns, the delivery-limit rows and the funding rows (none without limits)."""
    delivery, fin = scenario.plan.delivery, scenario.finance
    if not delivery.any():
        return
    sites, teams, pairs = model.sites, model.teams, model.pairs
    h, e_k = fin.horizon_years, fin.earliest_exit_year
    if e_k >= h:  # nothing can be exited inside the horizon: no exit years to choose
        return
    status = sites["status"].to_numpy()
    lease = flag(sites, "new_lease")
    asset_pos = pd.Series(np.arange(len(assets)), index=assets["asset_id"].astype(str))
    cand = np.flatnonzero(((status == FREE) | (status == CLOSED)) & ~lease)
    rows_of = asset_pos.reindex(sites["asset_id"].to_numpy()[cand]).to_numpy()
    allowed = exit_years_allowed(assets.iloc[rows_of].reset_index(drop=True), fin)
    counts = np.fromiter((len(a) for a in allowed), int, count=len(cand))
    col_site = np.repeat(cand, counts)
    col_year = np.concatenate(allowed).astype(int) if len(allowed) else np.zeros(0, int)
    per_col = assets.iloc[np.repeat(rows_of, counts)].reset_index(drop=True)
    at_year = asset_options(per_col, fin, exit_year=col_year)
    e0 = sites["exit_year"].to_numpy()[col_site]
    at_first = sites["exit_value_pv_gbp"].to_numpy(float)[col_site]

    # What each building's movable teams cost to move (cash), and their FTE, by site (and partner).
    real = ~flag(teams, "space_request")
    home = teams["home"].to_numpy()
    one_off = _team_one_off_gbp(teams, scenario)
    need = teams["need_m2"].to_numpy(float)
    fte = teams["fte"].to_numpy(float)
    n = len(sites)
    move_cash = np.bincount(home[real], weights=one_off[real], minlength=n)
    need_at = np.bincount(home[real], weights=need[real], minlength=n)
    shift = (move_cash[col_site] * (discount_factor(col_year, fin) - discount_factor(e0, fin))
             + new_space_pv_gbp(need_at[col_site], col_year, fin) - new_space_pv_gbp(need_at[col_site], e0, fin))
    cost = at_first - at_year["exit_value_pv_gbp"].to_numpy(float) + shift
    w = side.add_columns(cost, 0.0, 1.0, integer=True, start=0.0)

    # Link: y_s + Σ_e w = 1 (a building that must go: Σ_e w = 1).
    link_row = np.searchsorted(cand, col_site)
    free = status[cand] == FREE
    side.add_rows("phasing", np.r_[link_row, np.flatnonzero(free)], np.r_[np.full(len(w), EXTRA), np.full(free.sum(), Y)],
                  np.r_[w, cand[free]], 1.0, 1.0, 1.0, len(cand))

    freehold = per_col["tenure"].to_numpy() == "freehold"
    mv = np.where(freehold, np.nan_to_num(per_col["market_value_gbp"].to_numpy(float)), 0.0)
    model.phasing = {"columns": w, "site": col_site, "year": col_year, "mv": mv,
                     "receipt": at_year["receipt_gbp"].to_numpy(float),
                     "capital": at_year["exit_cost_gbp"].to_numpy(float) + move_cash[col_site]}
    partner = sites["partner"].astype(str).to_numpy()
    team_partner = teams["partner"].astype(str).to_numpy()
    home_pair = np.flatnonzero((pairs["site"].to_numpy() == home[pairs["team"].to_numpy()]) & real[pairs["team"]])
    scopes = [("partnership", delivery.limits, np.ones(len(w), bool), real)]
    scopes += [(code, lim, partner[col_site] == code, real & (team_partner == code))
               for code, lim in delivery.partners.items()]
    years = np.arange(h)
    for name, lim, mine, mine_t in scopes:
        _limit_rows(model, side, lim, name, w, col_year, mv, col_site, mine, home, fte, mine_t, home_pair, pairs,
                    years, e_k)
    if delivery.funded:
        _funding_rows(model, side, move_cash, one_off, home_pair, pairs, real, scenario)
    extra_site = np.full(side.n_cols, -1, dtype=np.int64)
    extra_site[: len(model.extra_site)] = model.extra_site
    extra_site[w] = col_site
    model.extra_site = extra_site
    model.rules["phasing"] = "each disposal goes in one financial year its tenure allows"
    model.rules.update(_rule_texts(delivery))
    model.starters.append(starter(model, scenario))


def _limits_text(lim: DeliveryLimits) -> str:
    parts = [f"{lim.fte_moved_per_year:,.0f} FTE moved" if lim.fte_moved_per_year else "",
             f"{lim.disposals_per_year:,} disposals" if lim.disposals_per_year else "",
             f"£{lim.market_value_gbp_per_year / 1e6:,.1f}m of freeholds sold" if lim.market_value_gbp_per_year else ""]
    return "at most " + ", ".join(p for p in parts if p) + " a year"


def _rule_texts(delivery) -> dict[str, str]:
    """Each delivery rule group in words (the infeasibility diagnosis and the report name them)."""
    out = {}
    if delivery.limits.any():
        out["delivery:partnership"] = f"the partnership's delivery limits: {_limits_text(delivery.limits)}"
    for code, lim in delivery.partners.items():
        if lim.any():
            out[f"delivery:{code}"] = f"{code}'s delivery limits: {_limits_text(lim)}"
    if delivery.funded:
        out["delivery:funding"] = (f"the funding line: capital one-off costs paid from a budget of "
                                   f"£{delivery.capital_budget_gbp_per_year / 1e6:,.1f}m a year plus the receipts "
                                   "received so far")
    return out


def _limit_rows(model: Model, side: SideConstraints, lim: DeliveryLimits, name: str, w, year, mv, site, mine,
                home, fte, mine_t, home_pair, pairs, years, e_k: int) -> None:
    """One row per year for each limit of ``lim`` (0 = none): disposals and market value over the
    scope's own buildings (``mine``), FTE over the scope's teams (``mine_t``) wherever they are."""
    row = np.searchsorted(years, year)
    if lim.disposals_per_year:
        side.add_rows(f"delivery:{name}", row[mine], EXTRA, w[mine], 1.0, -np.inf, float(lim.disposals_per_year),
                      len(years))
    if lim.market_value_gbp_per_year:
        side.add_rows(f"delivery:{name}", row[mine], EXTRA, w[mine], mv[mine], -np.inf,
                      float(lim.market_value_gbp_per_year), len(years))
    if lim.fte_moved_per_year:
        f_site = np.bincount(home[mine_t], weights=fte[mine_t], minlength=len(model.sites))
        # Teams of buildings disposed of in e move in e; in earliest_exit_year also every other team that
        # leaves its home: Σ_t fte (1 − x_home) − Σ_s F_s Σ_e w (those of disposed homes, counted in their year).
        mine_home = home_pair[mine_t[pairs["team"].to_numpy()[home_pair]]]
        k = int(np.searchsorted(years, e_k))
        t_home = pairs["team"].to_numpy()[mine_home]
        upper = np.full(len(years), float(lim.fte_moved_per_year))
        upper[k] -= fte[mine_t].sum()
        side.add_rows(f"delivery:{name}",
                      np.r_[row, np.full(len(w), k), np.full(len(mine_home), k)],
                      np.r_[np.full(len(w), EXTRA), np.full(len(w), EXTRA), np.full(len(mine_home), X)],
                      np.r_[w, w, mine_home], np.r_[f_site[site], -f_site[site], -fte[t_home]],
                      -np.inf, upper, len(years))


def _funding_rows(model: Model, side: SideConstraints, move_cash, one_off, home_pair, pairs, real,
                  scenario: Scenario) -> None:
    """Σ_{e ≤ τ} capital costs − Σ_{e ≤ τ − lag} receipts ≤ budget × (τ + 1), for every year τ, over
    the exit-year columns of ``model.phasing``."""
    fin, delivery, ph = scenario.finance, scenario.plan.delivery, model.phasing
    h, e_k = fin.horizon_years, fin.earliest_exit_year
    lag = int(fin.receipt_lag_months // 12)
    w, site, year, capital, receipt = ph["columns"], ph["site"], ph["year"], ph["capital"], ph["receipt"]
    rows, parts, index, value = [], [], [], []
    upper = delivery.capital_budget_gbp_per_year * (np.arange(h) + 1.0)
    t_home = pairs["team"].to_numpy()[home_pair]
    reopen = model.reopening_columns
    gia = model.sites["gia_m2"].to_numpy(float)
    reopen_cash = _reopening_cash_per_m2(scenario)
    for tau in range(h):
        paid = year <= tau
        got = (year + lag <= tau) & (receipt > 0)
        rows.append(np.full(paid.sum() + got.sum(), tau))
        parts.append(np.full(paid.sum() + got.sum(), EXTRA))
        index.append(np.r_[w[paid], w[got]])
        value.append(np.r_[capital[paid], -receipt[got]])
        if tau >= e_k:  # moves out of buildings that stay, in earliest_exit_year
            rows.append(np.full(len(w) + len(home_pair), tau))
            parts.append(np.r_[np.full(len(w), EXTRA), np.full(len(home_pair), X)])
            index.append(np.r_[w, home_pair])
            value.append(np.r_[-move_cash[site], -one_off[t_home]])
            upper[tau] -= one_off[real].sum()
        # A reopening counts from the earliest year anything could arrive (the programme pays it when
        # the first team or request does, never earlier).
        opened = [s for s in reopen if model.reopening_first_year.get(s, e_k) <= tau]
        rows.append(np.full(len(opened), tau))
        parts.append(np.full(len(opened), EXTRA))
        index.append(np.array([reopen[s] for s in opened], dtype=np.int64))
        value.append(gia[np.array(opened, dtype=np.int64)] * reopen_cash)
    side.add_rows("delivery:funding", np.concatenate(rows), np.concatenate(parts), np.concatenate(index),
                  np.concatenate(value), -np.inf, upper, h)


def schedule(model: Model, scenario: Scenario, is_open: np.ndarray, dest: np.ndarray) -> tuple[dict, list]:
    """Exit years for a start's disposals, greedily: in order of exit value, each goes in the first
    year its tenure allows where every limit and the funding line still hold. Returns the years
    (site → year) and the disposals that fit in no year."""
    ph, fin, delivery = model.phasing, scenario.finance, scenario.plan.delivery
    h, e_k, lag = fin.horizon_years, fin.earliest_exit_year, int(fin.receipt_lag_months // 12)
    if not ph or e_k >= h:
        return {}, []
    sites, teams = model.sites, model.teams
    real = ~flag(teams, "space_request")
    home = teams["home"].to_numpy()
    fte = teams["fte"].to_numpy(float)
    tp = teams["partner"].astype(str).to_numpy()
    partner = sites["partner"].astype(str).to_numpy()
    scopes = {"": delivery.limits, **delivery.partners}
    used = {(k, q): np.zeros(h) for k in scopes for q in ("count", "mv", "fte")}

    def fte_by_scope(mask: np.ndarray) -> dict:
        return {k: fte[mask & ((tp == k) if k else True)].sum() for k in scopes}

    # Moves out of buildings that stay, and reopenings, fall in earliest_exit_year.
    staying_moves = real & (dest != home) & is_open[home]
    for k, v in fte_by_scope(staying_moves).items():
        used[(k, "fte")][e_k] += v
    one_off = _team_one_off_gbp(teams, scenario)
    net = np.zeros(h)  # capital paid less receipts received, by year (not cumulative)
    net[e_k] += one_off[staying_moves].sum()
    arrived = set(dest[dest != home].tolist())  # teams and space requests
    reopen_cash = _reopening_cash_per_m2(scenario)
    for s in model.reopening_columns:
        if s in arrived:
            net[min(model.reopening_first_year.get(s, e_k), h - 1)] += sites["gia_m2"].iat[s] * reopen_cash
    budget = delivery.capital_budget_gbp_per_year * (np.arange(h) + 1.0)

    by_site: dict[int, list[int]] = {}
    for c, s in enumerate(ph["site"]):
        by_site.setdefault(int(s), []).append(c)
    going = [s for s in by_site if not is_open[s]]
    going.sort(key=lambda s: (-sites["exit_value_pv_gbp"].iat[s], s))
    years, unplaced = {}, []
    for s in going:
        movers = real & (home == s)
        f = fte_by_scope(movers)
        placed = False
        for c in sorted(by_site[s], key=lambda c: ph["year"][c]):
            e = int(ph["year"][c])
            ok = True
            for k, lim in scopes.items():
                own = (not k) or partner[s] == k
                if own and lim.disposals_per_year and used[(k, "count")][e] + 1 > lim.disposals_per_year:
                    ok = False
                if own and lim.market_value_gbp_per_year and \
                        used[(k, "mv")][e] + ph["mv"][c] > lim.market_value_gbp_per_year + 1e-6:
                    ok = False
                if lim.fte_moved_per_year and f[k] and used[(k, "fte")][e] + f[k] > lim.fte_moved_per_year + 1e-9:
                    ok = False
            if ok and delivery.funded:
                trial = net.copy()
                trial[e] += ph["capital"][c]
                if e + lag < h:
                    trial[e + lag] -= ph["receipt"][c]
                ok = bool((np.cumsum(trial) <= budget + 1e-6).all())
            if not ok:
                continue
            for k in scopes:
                if (not k) or partner[s] == k:
                    used[(k, "count")][e] += 1
                    used[(k, "mv")][e] += ph["mv"][c]
                used[(k, "fte")][e] += f[k]
            net[e] += ph["capital"][c]
            if e + lag < h:
                net[e + lag] -= ph["receipt"][c]
            years[s] = e
            placed = True
            break
        if not placed:
            unplaced.append(s)
    return years, unplaced


def starter(model: Model, scenario: Scenario):
    """Start values of the exit-year columns for another solution: its disposals, scheduled greedily."""
    ph = model.phasing

    def values(is_open: np.ndarray, dest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        years, _ = schedule(model, scenario, is_open, dest)
        chosen = np.array([years.get(int(s), -99) == y for s, y in zip(ph["site"], ph["year"])], dtype=float)
        return ph["columns"], chosen
    return values
