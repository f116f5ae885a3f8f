"""Independent parts of a MILP: blocks of columns and rows that share no nonzero.

A location model often falls apart into blocks that cannot affect each other: teams that can never
reach each other's buildings, zones served by disjoint sets of sites. Each block can be solved on
its own, and the parts' optima add up to the whole's. This module finds the blocks at the level of
:class:`~estate.locate.formulate.Milp`, so it serves every model the engine builds:

- a column fixed by its bounds (lower = upper, e.g. a site forced open or closed) is a constant: it
  is taken out of the graph, and its share of each row moves into the row's bounds;
- the blocks are the connected components of the graph whose nodes are the other columns and the
  rows, with an edge for each nonzero of ``A`` (a column in no row is a block of its own);
- blocks under :data:`BATCH_COLUMNS` columns are packed together, in the order of their first
  column, into parts of up to that many columns (the solver's start-up per part would cost more than it
  saves); every larger block is a part of its own;
- when one part would hold :data:`NO_SPLIT_SHARE` or more of the free columns, or there is only one
  part, the model is not split (there is nothing to gain), and :attr:`Decomposition.reason` says so.

:func:`combine` adds the parts' objectives and bounds back up. The solver loop itself lives in
:func:`estate.locate.solve._run`, the only place that calls a solver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from estate.locate.formulate import Milp

#: Blocks with fewer columns than this are packed together into parts of up to this many columns.
BATCH_COLUMNS = 2_000
#: A model is not split when one part would hold at least this share of its free columns.
NO_SPLIT_SHARE = 0.95
#: Tolerance for a row over fixed columns only (its activity is a constant to check, not to solve).
ROW_TOLERANCE = 1e-9


@dataclass
class Part:
    """One sub-model: ``milp`` over the whole model's ``columns`` and ``rows`` (positions, ascending).

    ``blocks`` counts the independent blocks packed into it. The sub-model has no offset: the whole
    model's offset and its fixed columns' cost are added once, by :func:`combine`.
    """

    milp: Milp
    columns: np.ndarray
    rows: np.ndarray
    blocks: int


@dataclass
class Decomposition:
    """The parts of a model, smallest first (empty when it is not split, with the ``reason``).

    ``fixed`` holds the columns fixed by their bounds, which belong to no part; ``fixed_values``
    their values. ``constant`` is the objective's share that no sub-model carries: the whole
    model's offset plus the fixed columns' cost. ``blocks`` counts the independent blocks found.
    """

    parts: list[Part]
    fixed: np.ndarray
    fixed_values: np.ndarray
    constant: float
    blocks: int
    n_columns: int
    reason: str = ""

    @property
    def split(self) -> bool:
        """Whether the model is solved in parts."""
        return len(self.parts) > 1

    @staticmethod
    def start_of(part: Part, start: np.ndarray | None) -> np.ndarray | None:
        """The part's slice of a whole-model start (None stays None)."""
        return None if start is None else np.asarray(start, float)[part.columns]

    def assemble(self, part_values: list[np.ndarray]) -> np.ndarray:
        """The whole model's column values from each part's (fixed columns at their bound)."""
        values = np.zeros(self.n_columns)
        values[self.fixed] = self.fixed_values
        for part, v in zip(self.parts, part_values):
            values[part.columns] = v
        return values


def _fixed_columns(milp: Milp) -> np.ndarray:
    """Columns whose bounds leave one value (an integer column only at a whole number)."""
    lo, hi = milp.col_lower, milp.col_upper
    fixed = (lo == hi) & np.isfinite(lo)
    return fixed & (~milp.integer | (lo == np.round(lo)))


def decompose(milp: Milp, batch_columns: int | None = None, no_split_share: float | None = None) -> Decomposition:
    """Split ``milp`` into independent parts (see the module docstring).

    Parameters
    ----------
    milp
        The whole model.
    batch_columns
        Blocks under this many columns are packed together (default :data:`BATCH_COLUMNS`).
    no_split_share
        The model is not split when one part would hold this share of its free columns or more
        (default :data:`NO_SPLIT_SHARE`).

    Returns
    -------
    Decomposition
        Its ``parts`` are empty when the model is not split, and ``reason`` says why.
    """
    batch_columns = BATCH_COLUMNS if batch_columns is None else batch_columns
    no_split_share = NO_SPLIT_SHARE if no_split_share is None else no_split_share
    n_rows, n_cols = milp.A.shape
    fixed_mask = _fixed_columns(milp)
    fixed = np.flatnonzero(fixed_mask)
    free = np.flatnonzero(~fixed_mask)
    fixed_values = milp.col_lower[fixed]
    constant = float(milp.offset + milp.c[fixed] @ fixed_values)

    def whole(reason: str, blocks: int) -> Decomposition:
        return Decomposition([], fixed, fixed_values, constant, blocks, n_cols, reason)

    if len(free) == 0:
        return whole("every column is fixed by its bounds", 0)
    A = milp.A.tocsc()
    if (A.data == 0).any():  # an explicit zero links nothing
        A = A.copy()
        A.eliminate_zeros()
    shift = A[:, fixed] @ fixed_values if len(fixed) else np.zeros(n_rows)
    row_lower, row_upper = milp.row_lower - shift, milp.row_upper - shift
    F = (A[:, free] if len(fixed) else A).tocoo()  # rows × free columns
    # Nodes: rows 0..n_rows-1, then the free columns.
    graph = sp.coo_matrix((np.ones(F.nnz, np.int8), (F.row, n_rows + F.col)),
                          shape=(n_rows + len(free), n_rows + len(free)))
    _, label = connected_components(graph, directed=False)
    row_label, col_label = label[:n_rows], label[n_rows:]
    row_used = np.zeros(n_rows, bool)
    row_used[F.row] = True
    # A row over fixed columns only is a constant: it holds, or the whole model is infeasible.
    lonely = np.flatnonzero(~row_used)
    scale = ROW_TOLERANCE * np.maximum(1.0, np.abs(shift[lonely]))
    broken = lonely[(row_lower[lonely] > scale) | (row_upper[lonely] < -scale)]
    # Blocks: the labels that hold a free column, numbered in the order of their first column.
    labels, first, col_block = np.unique(col_label, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(labels), np.int64)
    rank[order] = np.arange(len(labels))
    col_block = rank[col_block.ravel()]
    n_blocks = len(labels)
    block_of_label = np.full(label.max() + 1, -1, np.int64)
    block_of_label[labels] = rank
    row_block = np.where(row_used, block_of_label[row_label], -1)
    if len(broken):
        return whole(f"row {int(broken[0])} holds fixed columns only and is broken by them: solved whole, "
                     "so the solver reports it", n_blocks)
    if n_blocks == 1:
        return whole("one block: nothing to split", 1)
    size = np.bincount(col_block, minlength=n_blocks)
    part_of_block = np.empty(n_blocks, np.int64)
    n_parts, batch, batch_size = 0, -1, 0
    for b in range(n_blocks):  # blocks in order of their first column
        if size[b] >= batch_columns:
            part_of_block[b] = n_parts
            n_parts += 1
            continue
        if batch < 0 or batch_size + size[b] > batch_columns:
            batch, batch_size = n_parts, 0
            n_parts += 1
        part_of_block[b] = batch
        batch_size += size[b]
    col_part = part_of_block[col_block]
    part_columns = np.bincount(col_part, minlength=n_parts)
    largest = int(part_columns.max())
    if n_parts == 1:
        return whole(f"{n_blocks:,} blocks, all small enough to solve as one", n_blocks)
    if largest >= no_split_share * len(free):
        return whole(f"{n_blocks:,} blocks, but one holds {largest:,} of the {len(free):,} free columns "
                     f"({largest / len(free):.1%}): nothing to gain from splitting", n_blocks)
    row_part = np.where(row_block >= 0, part_of_block[np.maximum(row_block, 0)], -1)
    blocks_in_part = np.bincount(part_of_block, minlength=n_parts)
    # Sort free columns and rows by part once; each part is then a contiguous run.
    col_order = np.argsort(col_part, kind="stable")
    col_start = np.r_[0, np.cumsum(part_columns)]
    used_rows = np.flatnonzero(row_part >= 0)
    row_order = used_rows[np.argsort(row_part[used_rows], kind="stable")]
    row_start = np.r_[0, np.cumsum(np.bincount(row_part[used_rows], minlength=n_parts))]
    row_position = np.zeros(n_rows, np.int64)
    for k in range(n_parts):
        rows_k = row_order[row_start[k]:row_start[k + 1]]
        row_position[rows_k] = np.arange(len(rows_k))
    parts = []
    for k in range(n_parts):
        cols = free[col_order[col_start[k]:col_start[k + 1]]]
        rows = row_order[row_start[k]:row_start[k + 1]]
        sub = A[:, cols]  # every nonzero of these columns lies in this part's rows
        sub = sp.csc_matrix((sub.data, row_position[sub.indices], sub.indptr), shape=(len(rows), len(cols)))
        parts.append(Part(Milp(c=milp.c[cols], A=sub, row_lower=row_lower[rows], row_upper=row_upper[rows],
                               col_lower=milp.col_lower[cols], col_upper=milp.col_upper[cols],
                               integer=milp.integer[cols]),
                          cols, rows, int(blocks_in_part[k])))
    parts.sort(key=lambda part: (len(part.columns), part.columns[0]))  # smallest first
    return Decomposition(parts, fixed, fixed_values, constant, n_blocks, n_cols)


def combine(objectives: list[float | None], bounds: list[float | None], constant: float
            ) -> tuple[float | None, float | None]:
    """The whole model's objective and bound from its parts': each a sum plus ``constant``.

    The objective is None when any part has none, and so is the bound. The whole's relative gap is
    not any part's: :func:`estate.locate.solve._gap` computes it from the two sums. When every
    part's objective and bound have the same sign, the gap of the sums (before ``constant``) is at
    most the largest part's; with mixed signs it can be larger: parts at +100 ≥ 90 and −100 ≥ −110,
    each within 10%, sum to 0 ≥ −20, a relative gap of 1.
    """
    objective = None if any(v is None for v in objectives) else float(sum(objectives)) + constant
    bound = None if any(v is None for v in bounds) else float(sum(bounds)) + constant
    return objective, bound
