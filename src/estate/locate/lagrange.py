"""Lagrangian branch-and-bound for the p-median (Christofides and Beasley 1982; Beasley 1993).

Relaxing "every zone is served" with one multiplier λ_i per zone gives, for
any λ, the lower bound

    L(λ) = Σ_i λ_i + Σ_{j ∈ S} ρ_j,        ρ_j = Σ_i min(0, w_i·c_ij − λ_i),

where S holds the forced-open sites and the ``p − |forced|`` free sites with
the smallest ρ. Its maximum over λ equals the LP relaxation of the classic and
the radius formulations, and one evaluation is a single pass over the sparse
pairs. Subgradient steps (Polyak's rule towards the incumbent) find good
multipliers. Then Beasley's penalties bound what opening a site outside S
(``ρ_j − ρ_(k)``) or closing one inside it (``ρ_(k+1) − ρ_j``) would add to
the bound; a site whose penalty lifts the bound past the incumbent is fixed,
which removes most sites at the root. The search branches on one site (open /
closed), best bound first, each child re-optimising λ from its parent's.

Why not HiGHS on the radius model: on OR-Library pmed36 (800 vertices, p = 10)
the LP bound is 1.0% below the optimum; HiGHS needs 171.6 s to close the gap
because each node's LP has about 30,000 rows, while a node here costs a few
milliseconds. Measured figures are in ``docs/locate.md``.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from estate.locate.problem import CLOSED, OPEN, LocationProblem

#: Subgradient iterations at the root and at each node, and how many
#: iterations without a better bound halve the step.
ROOT_ITERATIONS, NODE_ITERATIONS, PATIENCE = 1500, 60, 12


@dataclass
class BranchResult:
    """What the Lagrangian search proved.

    ``open_sites`` are the incumbent's site positions (None if none was found);
    ``bound`` is a proven lower bound on the optimum; ``status`` is
    ``optimal`` (search exhausted: no better solution exists, or none better
    than ``gap`` allows), ``time_limit`` or ``infeasible``.
    """

    open_sites: np.ndarray | None
    objective: float
    bound: float
    status: str
    nodes: int
    root_bound: float
    fixed_closed: int
    fixed_open: int
    seconds: float


class _Pairs:
    """The pairs sorted by zone, then cost; costs are weighted (w_i·c_ij)."""

    def __init__(self, problem: LocationProblem) -> None:
        wc = problem.weight[problem.pair_zone] * problem.pair_cost
        order = np.lexsort((problem.pair_site, wc, problem.pair_zone))
        self.zone, self.site, self.wc = problem.pair_zone[order], problem.pair_site[order], wc[order]
        self.n, self.m = problem.n_zones, problem.n_sites
        #: Whole-number costs make the objective integral: a node whose bound exceeds
        #: ``incumbent - 1`` cannot hold a better solution.
        self.integral = bool(np.all(self.wc == np.round(self.wc))) and bool(np.all(np.abs(self.wc) < 2 ** 52))

    def value(self, is_open: np.ndarray) -> float:
        """Σ_i min over open sites of w_i·c_ij (inf if a zone has none)."""
        idx = np.flatnonzero(is_open[self.site])  # still sorted by zone, then cost
        zone = self.zone[idx]
        first = np.r_[True, zone[1:] != zone[:-1]] if len(idx) else np.zeros(0, bool)
        if first.sum() < self.n:
            return np.inf
        return float(self.wc[idx[first]].sum())


@dataclass
class _Node:
    bound: float
    lam: np.ndarray
    closed: np.ndarray
    opened: np.ndarray
    depth: int


@dataclass
class _View:
    """A node's working data, built once: the pairs that can matter (open-able sites, none
    dearer than a forced-open site), the free sites, the forced-open ones, and how many free
    sites S takes."""

    zone: np.ndarray
    site: np.ndarray
    wc: np.ndarray
    free: np.ndarray
    opened: np.ndarray
    k: int


class _Search:
    """One branch-and-bound run; see the module docstring."""

    def __init__(self, problem: LocationProblem, p: int, gap: float, deadline: float | None,
                 improve: Callable[[np.ndarray], np.ndarray] | None) -> None:
        self.pairs = _Pairs(problem)
        self.p, self.gap, self.deadline, self.improve = p, gap, deadline, improve
        self.ub, self.best = np.inf, None
        self.seen = (np.inf, None)  # the best set S of the root's multipliers, to improve by local search
        self.gap_bound = np.inf  # least bound among nodes closed by the gap rather than by the incumbent

    # -- pruning ---------------------------------------------------------------------------------
    def exact_cut(self) -> float:
        """A node with a bound above this cannot hold a better solution: better by 1 or more
        for whole-number costs, by more than a relative 1e-9 otherwise (so ties do not branch on)."""
        if self.pairs.integral:
            return self.ub - 1.0 + min(0.5, 1e-9 * max(1.0, abs(self.ub)))  # room for rounding in the bound
        return self.ub - 1e-9 * max(1.0, abs(self.ub))

    def pruned(self, bound: float) -> bool:
        """Whether a node with ``bound`` can be closed; records gap closures."""
        if bound > self.exact_cut():
            return True
        if self.gap > 0 and bound >= self.ub - self.gap * abs(self.ub):
            self.gap_bound = min(self.gap_bound, bound)
            return True
        return False

    def offer(self, is_open: np.ndarray) -> float:
        """Keep ``is_open`` (exactly p sites) if it beats the incumbent; returns its cost."""
        value = self.pairs.value(is_open)
        if value < self.ub:
            self.ub, self.best = value, np.flatnonzero(is_open)
        return value

    # -- the Lagrangian --------------------------------------------------------------------------
    def view(self, node: _Node) -> _View:
        """The node's working data (see :class:`_View`)."""
        pr = self.pairs
        keep = ~node.closed[pr.site]
        if node.opened.any():
            cap = np.full(pr.n, np.inf)
            on = node.opened[pr.site]
            np.minimum.at(cap, pr.zone[on], pr.wc[on])
            keep &= pr.wc <= cap[pr.zone]
        opened = np.flatnonzero(node.opened)
        return _View(pr.zone[keep], pr.site[keep], pr.wc[keep], np.flatnonzero(~node.closed & ~node.opened),
                     opened, self.p - len(opened))

    def _evaluate(self, lam: np.ndarray, v: _View):
        """L(λ), the sites S, ρ, and the subgradient."""
        r = v.wc - lam[v.zone]
        neg = r < 0
        rho = np.bincount(v.site[neg], r[neg], minlength=self.pairs.m)
        if 0 < v.k < len(v.free):
            pick = v.free[np.argpartition(rho[v.free], v.k - 1)[:v.k]]
        else:
            pick = v.free[:v.k]
        chosen = np.concatenate([v.opened, pick])
        bound = float(lam.sum() + rho[chosen].sum())
        in_s = np.zeros(self.pairs.m, bool)
        in_s[chosen] = True
        g = 1.0 - np.bincount(v.zone[neg & in_s[v.site]], minlength=self.pairs.n)
        return bound, in_s, rho, g

    def ascend(self, node: _Node, v: _View, iterations: int, mu: float):
        """Subgradient ascent from ``node.lam``. Returns the best bound, its λ,
        how often each site was in S, and whether the node was closed."""
        lam = node.lam.astype(float)
        best, best_lam = -np.inf, lam
        share = np.zeros(self.pairs.m)
        stall, done_iterations = 0, 0
        for it in range(iterations):
            done_iterations = it + 1
            bound, in_s, _, g = self._evaluate(lam, v)
            share += in_s
            if node.depth == 0 and it % 10 == 0 and (value := self.offer(in_s)) < self.seen[0]:
                self.seen = (value, in_s)
            if bound > best + 1e-9 * max(1.0, abs(bound)):
                best, best_lam, stall = bound, lam, 0
            else:
                stall += 1
                if stall >= PATIENCE:
                    mu, stall = mu / 2, 0
            if self.pruned(best):
                return best, best_lam, share / (it + 1), True
            norm = float(g @ g)
            if norm == 0.0:  # S serves every zone exactly once below its multiplier: L(λ) is its cost
                self.offer(in_s)
                return best, best_lam, share / (it + 1), True
            if mu < 1e-3 or (it % 20 == 19 and self.late()):
                break
            target = self.ub if np.isfinite(self.ub) else bound + 0.05 * abs(bound) + 1.0
            lam = np.maximum(lam + mu * max(target - bound, 1e-9 * max(1.0, abs(bound))) / norm * g, 0.0)
        return best, best_lam, share / max(done_iterations, 1), False

    def penalties(self, v: _View, lam: np.ndarray):
        """Bound, S, and each free site's bound if forced the other way."""
        bound, in_s, rho, _ = self._evaluate(lam, v)
        flip = np.full(self.pairs.m, -np.inf)
        in_free = v.free[in_s[v.free]]
        out_free = v.free[~in_s[v.free]]
        if len(in_free) and len(out_free):
            flip[out_free] = bound + rho[out_free] - rho[in_free].max()
            flip[in_free] = bound - rho[in_free] + rho[out_free].min()
        elif len(in_free):  # every free site is needed: closing one leaves fewer than p
            flip[in_free] = np.inf
        return bound, in_s, flip

    def settled(self, opened: np.ndarray, free: np.ndarray) -> bool:
        """Whether a node needs no search: it cannot hold p sites, or holds exactly p (then offered)."""
        n_open, n_free = int(opened.sum()), int(free.sum())
        if n_open > self.p or n_open + n_free < self.p:
            return True
        if n_open == self.p or n_open + n_free == self.p:
            self.offer(opened | free if n_open < self.p else opened)
            return True
        return False

    def late(self) -> bool:
        """Whether the deadline has passed."""
        return self.deadline is not None and time.perf_counter() > self.deadline

    # -- the search ------------------------------------------------------------------------------
    def run(self, lam0: np.ndarray, closed0: np.ndarray, opened0: np.ndarray, bound0: float) -> BranchResult:
        started = time.perf_counter()
        root = _Node(bound0, lam0, closed0, opened0, 0)
        heap: list = [(root.bound, 0, 0, root)]
        counter, nodes = 1, 0
        root_bound, fixed = None, (0, 0)
        timed_out = False
        while heap:
            if self.late():
                timed_out = True
                break
            _, _, _, node = heapq.heappop(heap)
            if self.pruned(node.bound):
                continue
            nodes += 1
            if self.settled(node.opened, ~node.closed & ~node.opened):
                continue
            first = nodes == 1
            v = self.view(node)
            bound, lam, share, done = self.ascend(node, v, ROOT_ITERATIONS if first else NODE_ITERATIONS,
                                                  2.0 if first else 0.5)
            node.lam = lam
            node.bound = max(node.bound, bound)
            if first:
                root_bound = node.bound
            if self.late() and not (done or self.pruned(node.bound)):  # unfinished: its bound still counts
                heapq.heappush(heap, (node.bound, -node.depth, counter, node))
                timed_out = True
                break
            if done or self.pruned(node.bound):
                continue
            if first and self.improve is not None and self.seen[1] is not None:
                self.offer(_mask(self.improve(np.flatnonzero(self.seen[1])), self.pairs.m))
            bound, in_s, flip = self.penalties(v, lam)
            self.offer(in_s)
            free = ~node.closed & ~node.opened
            cut = self.exact_cut()
            close = free & ~in_s & (flip > cut)
            force = free & in_s & (flip > cut)
            node.closed, node.opened = node.closed | close, node.opened | force
            if first:
                fixed = (int(close.sum()), int(force.sum()))
            free &= ~(close | force)
            if self.settled(node.opened, free):
                continue
            # Branch on the free site the multipliers were least sure about.
            cand = np.flatnonzero(free)
            doubt = np.minimum(share[cand], 1.0 - share[cand])
            j = int(cand[np.argmax(doubt)]) if doubt.max() > 0 else int(cand[np.argmin(flip[cand])])
            lam_store = lam.astype(np.float32)
            shut = _Node(max(node.bound, flip[j]) if in_s[j] else node.bound, lam_store,
                         node.closed.copy(), node.opened, node.depth + 1)
            shut.closed[j] = True
            keep = _Node(node.bound if in_s[j] else max(node.bound, flip[j]), lam_store,
                         node.closed, node.opened.copy(), node.depth + 1)
            keep.opened[j] = True
            for child in (shut, keep):
                if not self.pruned(child.bound):
                    heapq.heappush(heap, (child.bound, -child.depth, counter, child))
                    counter += 1
        if timed_out:
            bound = min([self.ub, self.gap_bound] + [item[0] for item in heap])
            status = "time_limit"
        else:
            bound = min(self.ub, self.gap_bound)
            status = "optimal" if self.best is not None else "infeasible"
        if root_bound is None:
            root_bound = bound
        return BranchResult(self.best, self.ub, bound, status, nodes, root_bound, fixed[0], fixed[1],
                            time.perf_counter() - started)


def _mask(positions: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, bool)
    out[positions] = True
    return out


def p_median_branch_and_bound(problem: LocationProblem, p: int, incumbent: np.ndarray | None = None, *,
                              gap: float = 0.0, deadline: float | None = None,
                              improve: Callable[[np.ndarray], np.ndarray] | None = None) -> BranchResult:
    """Solve the p-median exactly (or to ``gap``) by Lagrangian branch-and-bound.

    Parameters
    ----------
    problem
        Sites (status free / open / closed), zone weights and sparse costs.
    p
        Number of sites to open.
    incumbent
        Positions of ``p`` open sites from a heuristic, if known.
    gap
        Relative gap at which a node may be closed (0 = prove optimality).
    deadline
        ``time.perf_counter()`` value at which to stop with the best bound so far.
    improve
        Local search: open-site positions in, better (or the same) positions out.
        Run once on the best set the root's multipliers pick.
    """
    search = _Search(problem, p, gap, deadline, improve)
    if incumbent is not None:
        search.offer(_mask(incumbent, problem.n_sites))
    pr = search.pairs
    # Start each multiplier at the zone's second-cheapest cost (its cheapest when it has one pair).
    first = np.r_[True, pr.zone[1:] != pr.zone[:-1]]
    starts = np.flatnonzero(first)
    counts = np.diff(np.r_[starts, len(pr.zone)])
    lam0 = np.zeros(problem.n_zones)
    lam0[pr.zone[starts]] = pr.wc[starts + np.minimum(counts - 1, 1)]
    # Every zone at its cheapest pair: a bound that holds before any search.
    return search.run(lam0, problem.status == CLOSED, problem.status == OPEN, float(pr.wc[starts].sum()))
