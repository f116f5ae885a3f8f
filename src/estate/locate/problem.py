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


class ProblemError(EstateError):
    """The inputs do not make a location problem; the message lists every problem."""


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
            keys = self.pair_zone * max(m, 1) + self.pair_site
            if len(np.unique(keys)) != len(keys):
                problems.append("a (zone, site) pair appears more than once")
        if problems:
            raise ProblemError("; ".join(problems))
