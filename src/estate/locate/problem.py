"""The generic location problem: sites, demand and sparse assignment costs.

No estate vocabulary lives here. Classic problems (p-median, capacitated
warehouse location, single-source facility location, covering) map onto
:class:`LocationProblem` directly; the estate model compiles into it.

Arrays are indexed by position: sites ``0..m-1``, zones ``0..n-1``. Costs are
a sparse list of ``(zone, site, cost)`` triples; a missing pair means the
zone cannot be served by that site.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from estate._errors import EstateError

#: Site status codes.
FREE, OPEN, CLOSED = 0, 1, -1
STATUS_CODES = {"free": FREE, "open": OPEN, "closed": CLOSED}
OBJECTIVES = ("min-cost", "p-median", "cover", "max-cover", "p-center")
#: How a p-median is solved: Lagrangian branch-and-bound (default), or the radius MIP.
P_MEDIAN_METHODS = ("lagrangian", "radius")


class ProblemError(EstateError):
    """The inputs do not make a location problem; the message lists every problem."""


#: Parts a side-constraint entry may refer to: site columns ``y``, pair columns ``x``, or extra columns.
Y, X, EXTRA = 0, 1, 2


class SideConstraints:
    """Extra columns and rows added to the ``min-cost`` model by a caller.

    Extra columns have a cost, bounds and integrality. A row's entries refer
    to a part (:data:`Y` a site, :data:`X` a pair, :data:`EXTRA` an extra
    column) and a position in it. Each block of rows carries a ``group``
    label, so an infeasible model can be explained by which groups, dropped,
    make it feasible. ``offset`` is added to the objective.
    """

    def __init__(self) -> None:
        self.col_cost: list[np.ndarray] = []
        self.col_lower: list[np.ndarray] = []
        self.col_upper: list[np.ndarray] = []
        self.col_integer: list[np.ndarray] = []
        self.col_start: list[np.ndarray] = []
        self.n_cols = 0
        self.blocks: list[dict] = []
        self.offset = 0.0

    def add_columns(self, cost, lower=0.0, upper=1.0, integer: bool = False, start=0.0) -> np.ndarray:
        """Add extra columns, with their values in a starting solution (``start``); returns their
        positions among the extra columns."""
        cost = np.asarray(cost, dtype=float)
        k = len(cost)
        self.col_start.append(np.broadcast_to(np.asarray(start, float), (k,)).copy())
        self.col_cost.append(cost)
        self.col_lower.append(np.broadcast_to(np.asarray(lower, float), (k,)).copy())
        self.col_upper.append(np.broadcast_to(np.asarray(upper, float), (k,)).copy())
        self.col_integer.append(np.full(k, integer))
        self.n_cols += k
        return np.arange(self.n_cols - k, self.n_cols)

    def add_rows(self, group: str, row, part, index, value, lower, upper, n_rows: int) -> None:
        """Add ``n_rows`` rows ``lower ≤ Σ value · column ≤ upper``; entry ``k`` is in
        row ``row[k]`` (0-based within this block) on column ``index[k]`` of ``part[k]``."""
        row = np.asarray(row, dtype=np.int64)
        self.blocks.append({
            "group": group, "n_rows": int(n_rows), "row": row,
            "part": np.broadcast_to(np.asarray(part, np.int8), row.shape).copy(),
            "index": np.asarray(index, dtype=np.int64),
            "value": np.broadcast_to(np.asarray(value, float), row.shape).copy(),
            "lower": np.broadcast_to(np.asarray(lower, float), (n_rows,)).copy(),
            "upper": np.broadcast_to(np.asarray(upper, float), (n_rows,)).copy(),
        })

    @property
    def groups(self) -> list[str]:
        """Row-group labels, in the order first added."""
        return list(dict.fromkeys(b["group"] for b in self.blocks))

    def without(self, groups: set[str]) -> SideConstraints:
        """A copy with the rows of ``groups`` left out (columns kept)."""
        out = SideConstraints()
        out.col_cost, out.col_lower, out.col_upper, out.col_integer, out.col_start = (
            self.col_cost, self.col_lower, self.col_upper, self.col_integer, self.col_start)
        out.n_cols, out.offset = self.n_cols, self.offset
        out.blocks = [b for b in self.blocks if b["group"] not in groups]
        return out

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Extra columns' cost, lower and upper bounds and integrality."""
        cat = lambda parts, dtype=float: np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)  # noqa: E731
        return cat(self.col_cost), cat(self.col_lower), cat(self.col_upper), cat(self.col_integer, bool)

    def start_values(self) -> np.ndarray:
        """The extra columns' values in the starting solution their callers gave, in column order."""
        return np.concatenate(self.col_start) if self.col_start else np.zeros(0)


@dataclass
class LocationProblem:
    """Sites, demand zones and sparse assignment costs.

    Attributes
    ----------
    site_ids, zone_ids
        Labels, in index order.
    fixed_cost
        Cost of opening each site (≥ 0).
    capacity
        Capacity of each site in units of weight (``inf`` = unlimited).
    status
        ``FREE`` (0), ``OPEN`` (1, forced open) or ``CLOSED`` (-1, forced closed).
    weight
        Demand of each zone (> 0).
    pair_zone, pair_site, pair_cost
        The sparse cost list: cost per unit of weight of serving ``pair_zone``
        from ``pair_site``. Pairs are unique.
    meta
        Free-form notes about where the problem came from (e.g. its source file).
    side
        Optional :class:`SideConstraints` for the ``min-cost`` objective.
    """

    site_ids: np.ndarray
    zone_ids: np.ndarray
    fixed_cost: np.ndarray
    capacity: np.ndarray
    status: np.ndarray
    weight: np.ndarray
    pair_zone: np.ndarray
    pair_site: np.ndarray
    pair_cost: np.ndarray
    meta: dict = field(default_factory=dict)
    side: SideConstraints | None = None

    @property
    def n_sites(self) -> int:
        """Number of candidate sites."""
        return len(self.site_ids)

    @property
    def n_zones(self) -> int:
        """Number of demand zones."""
        return len(self.zone_ids)

    @classmethod
    def from_arrays(cls, fixed_cost, weight, pair_zone, pair_site, pair_cost, *, capacity=None, status=None,
                    site_ids=None, zone_ids=None) -> LocationProblem:
        """Build from numpy-like arrays (positions, not labels). Checks the inputs."""
        m, n = len(fixed_cost), len(weight)
        problem = cls(
            site_ids=np.asarray(site_ids if site_ids is not None else [str(i + 1) for i in range(m)], dtype=object),
            zone_ids=np.asarray(zone_ids if zone_ids is not None else [str(i + 1) for i in range(n)], dtype=object),
            fixed_cost=np.asarray(fixed_cost, dtype=float),
            capacity=np.full(m, np.inf) if capacity is None else np.asarray(capacity, dtype=float),
            status=np.zeros(m, dtype=np.int8) if status is None else np.asarray(status, dtype=np.int8),
            weight=np.asarray(weight, dtype=float),
            pair_zone=np.asarray(pair_zone, dtype=np.int64),
            pair_site=np.asarray(pair_site, dtype=np.int64),
            pair_cost=np.asarray(pair_cost, dtype=float),
        )
        problem.check()
        return problem

    @classmethod
    def from_cost_matrix(cls, costs: np.ndarray, *, weight=None, fixed_cost=None, capacity=None,
                         max_cost: float = np.inf) -> LocationProblem:
        """Build from a dense ``zones × sites`` matrix; entries above ``max_cost`` or
        not finite are left out (the zone cannot be served by that site)."""
        costs = np.asarray(costs, dtype=float)
        n, m = costs.shape
        zone, site = np.nonzero(np.isfinite(costs) & (costs <= max_cost))
        return cls.from_arrays(np.zeros(m) if fixed_cost is None else fixed_cost,
                               np.ones(n) if weight is None else weight, zone, site, costs[zone, site],
                               capacity=capacity)

    def check(self) -> None:
        """Raise :class:`ProblemError` listing every inconsistency."""
        problems = []
        m, n = self.n_sites, self.n_zones
        for name, arr, size in (("fixed_cost", self.fixed_cost, m), ("capacity", self.capacity, m),
                                ("status", self.status, m), ("weight", self.weight, n)):
            if len(arr) != size:
                problems.append(f"{name} has {len(arr)} entries for {size}")
        if (self.fixed_cost < 0).any() or not np.isfinite(self.fixed_cost).all():
            problems.append("fixed costs must be finite and ≥ 0")
        if (self.capacity < 0).any():
            problems.append("capacities must be ≥ 0")
        if (self.weight <= 0).any() or not np.isfinite(self.weight).all():
            problems.append("weights must be finite and > 0")
        if len({len(self.pair_zone), len(self.pair_site), len(self.pair_cost)}) != 1:
            problems.append("pair arrays differ in length")
        elif len(self.pair_zone):
            if self.pair_zone.min() < 0 or self.pair_zone.max() >= n:
                problems.append("a pair names a zone out of range")
            if self.pair_site.min() < 0 or self.pair_site.max() >= m:
                problems.append("a pair names a site out of range")
            if not np.isfinite(self.pair_cost).all() or (self.pair_cost < 0).any():
                problems.append("pair costs must be finite and ≥ 0")
            keys = np.sort(self.pair_zone * max(m, 1) + self.pair_site)  # a sort: np.unique's hash is slower
            if (keys[1:] == keys[:-1]).any():
                problems.append("a (zone, site) pair appears more than once")
        if self.side is not None:
            problems += self._check_side(m, len(self.pair_zone))
        if problems:
            raise ProblemError("; ".join(problems))

    def _check_side(self, m: int, pairs: int) -> list[str]:
        side, problems = self.side, []
        size = {Y: m, X: pairs, EXTRA: side.n_cols}
        for b in side.blocks:
            for part, n in size.items():
                idx = b["index"][b["part"] == part]
                if len(idx) and (idx.min() < 0 or idx.max() >= n):
                    problems.append(f"side constraints {b['group']!r} refer to a column out of range")
            if len(b["row"]) and (b["row"].min() < 0 or b["row"].max() >= b["n_rows"]):
                problems.append(f"side constraints {b['group']!r} have an entry outside their rows")
            if not np.isfinite(b["value"]).all():
                problems.append(f"side constraints {b['group']!r} have a non-finite coefficient")
        return problems
