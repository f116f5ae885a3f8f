"""Large set covers: reduced-cost fixing around a core, and dominance (no solver here).

A weighted set cover, min c·y subject to A y ≥ 1 with y binary, over an England-sized map (35,000
zones, 20,000 sites, 6.4 million pairs) has an LP bound within 0.5% of its optimum, but HiGHS spends
most of its time on the full model before it finds a good cover: 123 s of 138 s in the measured run
of docs/locate.md, after which its own reduced-cost fixing leaves 12% of the columns. The steps
here do that fixing first, on a much smaller model (Caprara, Fischetti and Toth 1999 use the same
core idea; Beasley 1987 the same fixing):

1. **LP relaxation** (solved by :mod:`estate.locate.solve`): its value ``L`` is a lower bound and
   ``d_j`` each column's reduced cost. A cover that uses column ``j`` costs at least ``L + d_j``.
2. **Core**: the columns the LP uses, the :data:`CORE_COLUMNS` free columns of least reduced cost
   and the incumbent's columns (:func:`core_columns`). A cover found on them is an upper bound ``U``.
3. **Reduced-cost fixing** (:func:`fixed_by_reduced_cost`): a free column with ``d_j > U − L`` is in
   no cover cheaper than ``U``, so it is closed. No better cover is lost.
4. **Dominance** (:func:`dominated`) on what is left: a zone whose covering columns include all of
   another's is covered whenever that one is (its row is dropped), and a column whose zones are a
   subset of another's that costs no more is never needed (it is closed, unless the incumbent uses it).
5. The **restricted model** (:func:`restrict`) is solved from the incumbent. Its optimum is the
   whole model's; its bound, and ``L + d_j`` of every column fixed in step 3, bound the whole
   (:func:`whole_bound`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from estate.locate.formulate import Milp

#: Free columns of least LP reduced cost in the core (besides the LP's support and the incumbent).
#: On the England-sized cover of docs/locate.md, a core of 1,000 gave a cover 0.02% above the
#: optimum in 6.5 s; 2,000 gave the optimum in 29.8 s.
CORE_COLUMNS = 1_000
#: Branch-and-bound nodes for the core: a limit that, unlike the clock, gives the same cover on
#: any machine. The England core of 1,000 was solved at its root node.
CORE_NODES = 200
#: A cover model with at least this many free columns goes through the core and fixing; smaller
#: ones are solved whole (HiGHS alone is then fast, and the LP would only add time).
CORE_MIN_COLUMNS = 4_000
#: Reduced costs come from floating-point duals: a column is fixed only when its reduced cost
#: exceeds ``U − L`` by this much relative to ``max(1, |U|)``.
FIX_TOLERANCE = 1e-7


def is_cover(milp: Milp) -> bool:
    """Whether ``milp`` is a set cover this module can reduce: binary columns of cost ≥ 0, every
    row ``Σ y ≥ 1`` with coefficients 1."""
    A = milp.A
    return bool(milp.integer.all() and (milp.c >= 0).all() and (milp.col_lower >= 0).all()
                and (milp.col_upper <= 1).all() and np.all(milp.row_lower == 1.0)
                and np.isinf(milp.row_upper).all() and (A.data == 1.0).all())


def free_columns(milp: Milp) -> np.ndarray:
    """Boolean mask of the columns the bounds leave free (not forced open, not closed)."""
    return (milp.col_lower < 0.5) & (milp.col_upper > 0.5)


def core_columns(lp_values: np.ndarray, reduced_costs: np.ndarray, free: np.ndarray,
                 incumbent: np.ndarray | None, size: int | None = None) -> np.ndarray:
    """Boolean mask of the core: free columns the LP uses, the ``size`` (default :data:`CORE_COLUMNS`)
    free columns of least reduced cost (ties by position), and the incumbent's (a 0/1 vector over all
    columns, or None)."""
    size = CORE_COLUMNS if size is None else size
    core = free & (lp_values > 1e-9)
    order = np.flatnonzero(free)[np.argsort(reduced_costs[free], kind="stable")]
    core[order[:size]] = True
    if incumbent is not None:
        core |= free & (incumbent > 0.5)
    return core


def fixed_by_reduced_cost(reduced_costs: np.ndarray, lp_bound: float, upper_bound: float,
                          free: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Boolean mask of free columns whose reduced cost exceeds ``upper_bound − lp_bound`` (with
    :data:`FIX_TOLERANCE`): no cover using one of them costs less than ``upper_bound``. Columns in
    ``keep`` (the incumbent's) are never fixed."""
    margin = upper_bound - lp_bound + FIX_TOLERANCE * max(1.0, abs(upper_bound))
    return free & ~keep & (reduced_costs > margin)


def whole_bound(restricted_bound: float | None, lp_bound: float, reduced_costs: np.ndarray,
                fixed: np.ndarray) -> float:
    """A lower bound on the whole model: the restricted model's bound, or less when a cover using a
    column fixed by reduced cost (which costs at least ``lp_bound + d_j``) could be cheaper; never
    less than the LP bound, which holds whatever the restricted solve proved (or None: nothing)."""
    if restricted_bound is None:
        return float(lp_bound)
    outside = lp_bound + reduced_costs[fixed].min() if fixed.any() else np.inf
    return float(max(lp_bound, min(restricted_bound, outside)))


def superset_rows(A: sp.csr_matrix, cost: np.ndarray | None = None) -> np.ndarray:
    """Rows of the 0/1 matrix ``A`` that include another row's set of columns.

    Without ``cost`` (zones over sites): the mask of rows to drop, every row that strictly includes
    another, or equals one of lower position. With ``cost`` (sites over zones, one cost per row): the
    mask of rows **included** in another row whose cost is no higher, strictly lower or on a larger
    set, or, for the same set and cost, of lower position. Either way the rows kept cover every
    relation, since the dropping is acyclic.

    Work: each row is tested only against the rows that share its rarest column, as one sparse
    product per such column, so it is about the number of pairs of rows sharing that column.
    """
    A = sp.csr_matrix(A, dtype=np.int32)
    n = A.shape[0]
    size = np.diff(A.indptr)
    drop = np.zeros(n, bool)
    if n == 0 or A.nnz == 0:
        return drop
    by_col = A.tocsc()
    rarity = np.diff(by_col.indptr)[A.indices]
    row_of = np.repeat(np.arange(n), size)
    order = np.lexsort((rarity, row_of))  # each row's entries, rarest column first
    nonempty = np.flatnonzero(size > 0)
    pivot = A.indices[order][A.indptr[nonempty]]
    groups = np.argsort(pivot, kind="stable")
    rows, pivots = nonempty[groups], pivot[groups]
    edges = np.flatnonzero(np.r_[True, pivots[1:] != pivots[:-1], True])
    for a, b in zip(edges[:-1], edges[1:]):
        small = rows[a:b]
        column = pivots[a]
        others = by_col.indices[by_col.indptr[column]:by_col.indptr[column + 1]]
        shared = (A[others] @ A[small].T).toarray()
        big_at, small_at = np.nonzero(shared == size[small][None, :])  # small ⊆ big
        big, sub = others[big_at], small[small_at]
        real = big != sub
        big, sub = big[real], sub[real]
        if cost is None:
            hit = (size[big] > size[sub]) | (big > sub)
            drop[big[hit]] = True
        else:
            cheaper = (cost[big] < cost[sub]) | ((cost[big] == cost[sub])
                                                 & ((size[big] > size[sub]) | (big < sub)))
            drop[sub[cheaper]] = True
    return drop


@dataclass
class Dominance:
    """What :func:`dominated` found: ``rows`` kept (mask over the rows), ``columns`` closed (mask
    over the columns), and how many rows were covered by forced-open columns, how many were dominated
    and how many columns were closed."""

    rows: np.ndarray
    columns: np.ndarray
    rows_covered: int
    rows_dropped: int
    columns_dropped: int


def dominated(milp: Milp, open_columns: np.ndarray, keep: np.ndarray,
              to_cover: np.ndarray | None = None) -> Dominance:
    """Rows and columns of the cover ``milp`` that can go, given the columns that stay free
    (``open_columns``, a mask); rows covered by a column forced open are dropped first (``to_cover``,
    the :func:`uncovered_rows` mask, when the caller has it). Columns in ``keep`` are never closed.
    One pass of each (a second pass finds little: on the England-sized cover, 1,796 rows after 11,145)."""
    A = milp.A.tocsc()
    rows = (uncovered_rows(milp) if to_cover is None else to_cover).copy()
    covered = ~rows
    cols = np.flatnonzero(open_columns)
    sub = A[:, cols].tocsr()[np.flatnonzero(rows)]
    row_drop = superset_rows(sub)
    rows[np.flatnonzero(rows)[row_drop]] = False
    sub = sub[~row_drop]
    col_drop = superset_rows(sub.T.tocsr(), cost=milp.c[cols]) & ~keep[cols]
    columns = np.zeros(len(milp.c), bool)
    columns[cols[col_drop]] = True
    return Dominance(rows, columns, int(covered.sum()), int(row_drop.sum()), int(col_drop.sum()))


def uncovered_rows(milp: Milp) -> np.ndarray:
    """Boolean mask of the rows no forced-open column covers (the rows still to cover)."""
    forced = np.flatnonzero(milp.col_lower > 0.5)
    return ~(np.asarray(milp.A.tocsc()[:, forced].sum(axis=1)).ravel() > 0)


def restrict(milp: Milp, rows: np.ndarray, columns: np.ndarray) -> Milp:
    """The cover over the kept ``rows`` and the free ``columns`` (masks), its offset the cost of the
    columns forced open; ``info["columns"]`` holds the original position of each column."""
    cols = np.flatnonzero(columns)
    A = milp.A.tocsc()[:, cols].tocsr()[np.flatnonzero(rows)].tocsc()
    forced = milp.col_lower > 0.5
    return Milp(c=milp.c[cols], A=A, row_lower=milp.row_lower[rows], row_upper=milp.row_upper[rows],
                col_lower=np.zeros(len(cols)), col_upper=np.ones(len(cols)), integer=np.ones(len(cols), bool),
                offset=milp.offset + float(milp.c[forced].sum()), parts={"y": (0, len(cols))},
                info={"columns": cols})


def expand(milp: Milp, restricted: Milp, values: np.ndarray) -> np.ndarray:
    """Values over the whole model's columns from the restricted model's: forced-open columns 1,
    the restricted ones as solved, every other 0."""
    full = (milp.col_lower > 0.5).astype(float)
    full[restricted.info["columns"]] = np.round(values)
    return full
