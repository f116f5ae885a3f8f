"""Each objective as a solver-neutral sparse MILP (minimise ``c·v + offset``).

Variables are columns of one vector: ``y`` (site open) first, then the
objective's own columns. Rows are built as COO triples with numpy and handed
over as a CSC matrix; no Python loop runs over pairs.

Formulations
------------
min-cost
    Strong formulation: Σₛ x = 1 per zone, x ≤ y per pair, Σ w·x ≤ cap·y per
    capacitated site, and Σ cap·y ≥ Σ w when every site has a capacity.
    ``x`` is binary with single sourcing, continuous otherwise.
p-median
    The radius ("covering") formulation (Elloumi 2010; García, Labbé and Marín
    2011): for zone i with sorted distinct costs D_i1 < … < D_iK, a variable
    z_ik ≥ 0 says "no open site within D_ik", with z_ik + Σ_{j: d_ij ≤ D_ik} y_j ≥ 1.
    Each zone's list may be truncated at a radius: the model is then a
    relaxation (a lower bound), exact when every zone has an open site within
    its radius (:func:`estate.locate.solve.solve` grows the radii until it does).
cover
    Σ_{j covers i} y_j ≥ 1 per zone; minimise Σ fixed·y (or Σ y if every fixed cost is 0).
max-cover
    u_i ≤ Σ_{j covers i} y_j, Σ y = p; maximise Σ w·u.
p-center
    Σₛ x = 1, x ≤ y, Σ y = p, T ≥ Σₛ cost·x per zone; minimise T.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from estate.locate.problem import CLOSED, EXTRA, OPEN, X, Y, LocationProblem, SideConstraints


@dataclass
class Milp:
    """A mixed-integer linear programme: minimise ``c·v + offset`` subject to
    ``row_lower ≤ A v ≤ row_upper``, ``col_lower ≤ v ≤ col_upper``, ``v[integer]`` integral.

    ``parts`` names column ranges (e.g. ``{"y": (0, m), "x": (m, m + pairs)}``);
    ``info`` carries what decoding needs.
    """

    c: np.ndarray
    A: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    offset: float = 0.0
    parts: dict[str, tuple[int, int]] = field(default_factory=dict)
    info: dict = field(default_factory=dict)


class _Builder:
    """Accumulates columns and rows as numpy arrays."""

    def __init__(self) -> None:
        self.n_cols = 0
        self.c, self.lo, self.hi, self.integer = [], [], [], []
        self.rows, self.cols, self.vals, self.rlo, self.rhi = [], [], [], [], []
        self.n_rows = 0
        self.parts: dict[str, tuple[int, int]] = {}

    def add_cols(self, name: str, cost, lower, upper, integer: bool) -> np.ndarray:
        cost = np.asarray(cost, dtype=float)
        k = len(cost)
        start = self.n_cols
        self.c.append(cost)
        self.lo.append(np.broadcast_to(np.asarray(lower, float), (k,)))
        self.hi.append(np.broadcast_to(np.asarray(upper, float), (k,)))
        self.integer.append(np.full(k, integer))
        self.n_cols += k
        self.parts[name] = (start, self.n_cols)
        return np.arange(start, self.n_cols)

    def add_rows(self, row_of_entry, col, val, lower, upper, n_new: int) -> None:
        """Rows ``n_rows + row_of_entry`` with entries (col, val) and bounds per new row."""
        self.rows.append(np.asarray(row_of_entry, dtype=np.int64) + self.n_rows)
        self.cols.append(np.asarray(col, dtype=np.int64))
        self.vals.append(np.broadcast_to(np.asarray(val, float), (len(self.cols[-1]),)))
        self.rlo.append(np.broadcast_to(np.asarray(lower, float), (n_new,)))
        self.rhi.append(np.broadcast_to(np.asarray(upper, float), (n_new,)))
        self.n_rows += n_new

    def build(self, offset: float = 0.0, info: dict | None = None) -> Milp:
        cat = lambda parts, dtype=float: np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)  # noqa: E731
        A = sp.coo_matrix((cat(self.vals), (cat(self.rows, np.int64), cat(self.cols, np.int64))),
                          shape=(self.n_rows, self.n_cols)).tocsc()
        A.sum_duplicates()
        return Milp(c=cat(self.c), A=A, row_lower=cat(self.rlo), row_upper=cat(self.rhi), col_lower=cat(self.lo),
                    col_upper=cat(self.hi), integer=cat(self.integer, bool), offset=offset,
                    parts=dict(self.parts), info=info or {})


def _site_columns(b: _Builder, problem: LocationProblem, cost) -> np.ndarray:
    lower = (problem.status == OPEN).astype(float)
    upper = (problem.status != CLOSED).astype(float)
    return b.add_cols("y", cost, lower, upper, integer=True)


def _p_row(b: _Builder, y: np.ndarray, p: int) -> None:
    b.add_rows(np.zeros(len(y)), y, 1.0, p, p, 1)


def _assignment(b: _Builder, problem: LocationProblem, y: np.ndarray, x_cost, binary: bool,
                strong: bool = True) -> np.ndarray:
    """x columns (one per pair), Σ x = 1 per zone, and x ≤ y per pair."""
    pairs = len(problem.pair_zone)
    x = b.add_cols("x", x_cost, 0.0, 1.0, integer=binary)
    b.add_rows(problem.pair_zone, x, 1.0, 1.0, 1.0, problem.n_zones)
    if strong and pairs:
        idx = np.arange(pairs)
        b.add_rows(np.concatenate([idx, idx]), np.concatenate([x, y[problem.pair_site]]),
                   np.concatenate([np.ones(pairs), -np.ones(pairs)]), -np.inf, 0.0, pairs)
    return x


def min_cost(problem: LocationProblem, single_source: bool = False) -> Milp:
    """Fixed costs plus weighted assignment costs, with capacities (see module docstring)."""
    b = _Builder()
    y = _site_columns(b, problem, problem.fixed_cost)
    w = problem.weight[problem.pair_zone]
    x = _assignment(b, problem, y, w * problem.pair_cost, binary=single_source)
    capped = np.flatnonzero(np.isfinite(problem.capacity))
    if len(capped):
        row_of_site = np.full(problem.n_sites, -1)
        row_of_site[capped] = np.arange(len(capped))
        in_capped = row_of_site[problem.pair_site] >= 0
        rows = np.concatenate([row_of_site[problem.pair_site][in_capped], np.arange(len(capped))])
        cols = np.concatenate([x[in_capped], y[capped]])
        vals = np.concatenate([w[in_capped], -problem.capacity[capped]])
        b.add_rows(rows, cols, vals, -np.inf, 0.0, len(capped))
        if len(capped) == problem.n_sites:
            b.add_rows(np.zeros(len(capped)), y, problem.capacity, problem.weight.sum(), np.inf, 1)
    if problem.side is None:
        return b.build()
    return _add_side(b, problem.side, y, x)


def _add_side(b: _Builder, side: SideConstraints, y: np.ndarray, x: np.ndarray) -> Milp:
    """Append a caller's extra columns and rows; ``info["groups"]`` maps each group to its row positions."""
    cost, lower, upper, integer = side.columns()
    extra = b.add_cols("extra", cost, lower, upper, integer=False)
    b.integer[-1] = integer
    groups: dict[str, list[np.ndarray]] = {}
    for block in side.blocks:
        part, index = block["part"], block["index"]
        col = np.where(part == Y, y[np.where(part == Y, index, 0)] if len(y) else 0,
                       np.where(part == X, x[np.where(part == X, index, 0)] if len(x) else 0,
                                extra[np.where(part == EXTRA, index, 0)] if len(extra) else 0))
        groups.setdefault(block["group"], []).append(np.arange(b.n_rows, b.n_rows + block["n_rows"]))
        b.add_rows(block["row"], col, block["value"], block["lower"], block["upper"], block["n_rows"])
    return b.build(offset=side.offset, info={"groups": {g: np.concatenate(r) for g, r in groups.items()}})


def sorted_levels(problem: LocationProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each zone's pairs sorted by cost, with the pair's distinct-cost level.

    Returns ``order`` (pair indices sorted by zone then cost), ``level`` (0-based
    rank of the pair's cost among the zone's distinct costs, aligned with
    ``order``) and ``n_levels`` per zone.
    """
    order = np.lexsort((problem.pair_cost, problem.pair_zone))
    zone, cost = problem.pair_zone[order], problem.pair_cost[order]
    new_zone = np.r_[True, zone[1:] != zone[:-1]]
    new_level = new_zone | np.r_[True, cost[1:] != cost[:-1]]
    counter = np.cumsum(new_level)
    first_counter = np.maximum.accumulate(np.where(new_zone, counter, 0))
    level = counter - first_counter
    n_levels = np.zeros(problem.n_zones, dtype=np.int64)
    np.maximum.at(n_levels, zone, level + 1)
    return order, level, n_levels


def p_median(problem: LocationProblem, p: int, radius_level: np.ndarray | None = None) -> Milp:
    """The radius formulation, each zone truncated at level ``radius_level[i]``
    (0-based; default: every level, the exact model)."""
    order, level, n_levels = sorted_levels(problem)
    top = n_levels - 1 if radius_level is None else np.minimum(radius_level, n_levels - 1)
    zone, site, cost = problem.pair_zone[order], problem.pair_site[order], problem.pair_cost[order]
    keep = level <= top[zone]
    zone, site, cost, level = zone[keep], site[keep], cost[keep], level[keep]
    # Distinct levels per zone: D_i0 < D_i1 < ... < D_i,top.
    is_first = np.r_[True, (zone[1:] != zone[:-1]) | (level[1:] != level[:-1])]
    lvl_zone, lvl_level, lvl_cost = zone[is_first], level[is_first], cost[is_first]
    # z for every level except each zone's last kept one; gap to the next level.
    has_next = np.r_[lvl_zone[1:] == lvl_zone[:-1], False]
    z_zone, z_level = lvl_zone[has_next], lvl_level[has_next]
    gap = lvl_cost[1:][has_next[:-1]] - lvl_cost[:-1][has_next[:-1]]
    w = problem.weight

    b = _Builder()
    y = _site_columns(b, problem, np.zeros(problem.n_sites))
    z = b.add_cols("z", w[z_zone] * gap, 0.0, np.inf, integer=False)
    offset = float((w * np.where(n_levels > 0, _first_cost(problem, order), 0.0)).sum())
    # Chained rows, one per z (zone i, level k): z_ik - z_i,k-1 + Σ_{pairs of i at level k} y ≥ [k = 0].
    # Summed over levels they give Elloumi's z_ik + Σ_{level ≤ k} y ≥ 1 with the same LP optimum,
    # but each pair appears once, so the matrix has O(pairs + levels) entries, not O(pairs × levels).
    stride = n_levels.max() + 1
    z_key = z_zone * stride + z_level
    prev = np.flatnonzero(z_level > 0)
    pair_row = np.searchsorted(z_key, zone * stride + level)
    in_z_rows = level < top[zone]
    b.add_rows(np.concatenate([np.arange(len(z)), prev, pair_row[in_z_rows]]),
               np.concatenate([z, z[prev - 1], y[site[in_z_rows]]]),
               np.concatenate([np.ones(len(z)), -np.ones(len(prev)), np.ones(in_z_rows.sum())]),
               (z_level == 0).astype(float), np.inf, len(z))
    # A zone whose whole list is kept must be served by a site in it: z at its last level is 0.
    full = np.flatnonzero((top == n_levels - 1) & (n_levels > 0))
    at_top = np.isin(zone, full) & (level == top[zone])
    top_row = np.searchsorted(full, zone[at_top])
    with_prev = full[top[full] > 0]
    prev_z = z[np.searchsorted(z_key, with_prev * stride + top[with_prev] - 1)]
    b.add_rows(np.concatenate([top_row, np.searchsorted(full, with_prev)]),
               np.concatenate([y[site[at_top]], prev_z]),
               np.concatenate([np.ones(at_top.sum()), -np.ones(len(with_prev))]),
               (top[full] == 0).astype(float), np.inf, len(full))
    _p_row(b, y, p)
    radius_cost = np.full(problem.n_zones, np.inf)
    last = np.r_[lvl_zone[1:] != lvl_zone[:-1], True]
    radius_cost[lvl_zone[last]] = lvl_cost[last]
    return b.build(offset=offset, info={"radius_level": top, "n_levels": n_levels,
                                        "radius_cost": radius_cost, "z_zone": z_zone, "z_level": z_level,
                                        "lvl_zone": lvl_zone, "lvl_level": lvl_level, "lvl_cost": lvl_cost})


def _first_cost(problem: LocationProblem, order: np.ndarray) -> np.ndarray:
    """Each zone's smallest pair cost (0 for zones with no pair)."""
    out = np.zeros(problem.n_zones)
    zone = problem.pair_zone[order]
    first = np.r_[True, zone[1:] != zone[:-1]] if len(zone) else np.zeros(0, bool)
    out[zone[first]] = problem.pair_cost[order][first]
    return out


def _covering_pairs(problem: LocationProblem, max_cost: float) -> np.ndarray:
    return np.flatnonzero(problem.pair_cost <= max_cost)


def cover(problem: LocationProblem, max_cost: float, zones: np.ndarray | None = None) -> Milp:
    """Set cover: every zone (of the ``zones`` mask, default all) within ``max_cost``
    of an open site, at least fixed cost."""
    b = _Builder()
    fixed = problem.fixed_cost if problem.fixed_cost.any() else np.ones(problem.n_sites)
    y = _site_columns(b, problem, fixed)
    zones = np.ones(problem.n_zones, bool) if zones is None else zones
    row_of_zone = np.cumsum(zones) - 1
    pairs = _covering_pairs(problem, max_cost)
    pairs = pairs[zones[problem.pair_zone[pairs]]]
    b.add_rows(row_of_zone[problem.pair_zone[pairs]], y[problem.pair_site[pairs]], 1.0, 1.0, np.inf,
               int(zones.sum()))
    return b.build(info={"counts_sites": not problem.fixed_cost.any()})


def max_cover(problem: LocationProblem, p: int, max_cost: float) -> Milp:
    """Maximal covering: p sites maximising the weight within ``max_cost`` (as a minimisation of −weight)."""
    b = _Builder()
    y = _site_columns(b, problem, np.zeros(problem.n_sites))
    u = b.add_cols("u", -problem.weight, 0.0, 1.0, integer=False)
    pairs = _covering_pairs(problem, max_cost)
    zones = np.arange(problem.n_zones)
    b.add_rows(np.concatenate([zones, problem.pair_zone[pairs]]),
               np.concatenate([u, y[problem.pair_site[pairs]]]),
               np.concatenate([np.ones(problem.n_zones), -np.ones(len(pairs))]), -np.inf, 0.0, problem.n_zones)
    _p_row(b, y, p)
    return b.build()


def p_center(problem: LocationProblem, p: int) -> Milp:
    """p sites minimising the largest assigned cost."""
    b = _Builder()
    y = _site_columns(b, problem, np.zeros(problem.n_sites))
    x = _assignment(b, problem, y, np.zeros(len(problem.pair_zone)), binary=False)
    t = b.add_cols("t", [1.0], 0.0, np.inf, integer=False)
    zones = np.arange(problem.n_zones)
    b.add_rows(np.concatenate([problem.pair_zone, zones]), np.concatenate([x, np.repeat(t, problem.n_zones)]),
               np.concatenate([problem.pair_cost, -np.ones(problem.n_zones)]), -np.inf, 0.0, problem.n_zones)
    _p_row(b, y, p)
    return b.build()
