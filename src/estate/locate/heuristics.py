"""Fast heuristics that give the solver an incumbent and each zone a radius.

p-median: greedy addition, then vertex substitution (Teitz and Bart's
interchange, evaluated with Whitaker's best/second-best bookkeeping) until no
swap improves. Works on a dense zones × sites matrix (unreachable = inf), so
it is used only while that matrix stays small (``DENSE_LIMIT`` cells).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from estate.locate.problem import CLOSED, OPEN, LocationProblem

#: Largest zones × sites matrix the heuristics build (cells).
DENSE_LIMIT = 25_000_000
#: The single-source heuristic's drop and swap steps cost O(sites² × zones) and
#: O(zones²) per pass, so it runs only on problems up to this many cells.
SINGLE_SOURCE_LIMIT = 20_000
#: The site-swap phase improves this many of the best-looking swaps by local moves each pass.
SWAP_TRIES = 5


def dense_costs(problem: LocationProblem) -> np.ndarray | None:
    """The zones × sites cost matrix with ``inf`` for missing pairs, or None when too big."""
    if problem.n_zones * problem.n_sites > DENSE_LIMIT:
        return None
    d = np.full((problem.n_zones, problem.n_sites), np.inf)
    d[problem.pair_zone, problem.pair_site] = problem.pair_cost
    return d


def p_median_heuristic(problem: LocationProblem, p: int, max_passes: int = 50,
                       d: np.ndarray | None = None) -> np.ndarray | None:
    """Open sites of a good p-median solution (greedy, then interchange), or None.

    Returns None when the dense matrix would be too big or no feasible set of
    ``p`` sites serves every zone. ``d`` is the dense cost matrix, if the caller has it.
    """
    d = dense_costs(problem) if d is None else d
    if d is None:
        return None
    w = problem.weight
    allowed = problem.status != CLOSED
    chosen = list(np.flatnonzero(problem.status == OPEN))
    best = np.full(problem.n_zones, np.inf) if not chosen else d[:, chosen].min(axis=1)
    big = 1e18
    while len(chosen) < p:
        cand = d.copy()
        np.minimum(cand, best[:, None], out=cand)
        gain = (w[:, None] * np.where(np.isfinite(cand), cand, big)).sum(axis=0)
        gain[~allowed] = np.inf
        gain[chosen] = np.inf
        j = int(np.argmin(gain))
        if not np.isfinite(gain[j]):
            return None
        chosen.append(j)
        best = np.minimum(best, d[:, j])
    if not np.isfinite(best).all():
        return None
    return p_median_swap(problem, np.array(sorted(chosen)), d, max_passes)


def p_median_swap(problem: LocationProblem, open_sites: np.ndarray, d: np.ndarray, max_passes: int = 50
                  ) -> np.ndarray:
    """Improve a set of open sites by best single swaps until none lowers the cost
    (or ``max_passes``). ``d`` is the dense cost matrix (:func:`dense_costs`)."""
    allowed = problem.status != CLOSED
    fixed = set(np.flatnonzero(problem.status == OPEN))
    open_sites = np.sort(np.asarray(open_sites))
    for _ in range(max_passes):
        improved = _best_swap(d, problem.weight, open_sites, allowed, fixed)
        if improved is None:
            break
        open_sites = improved
    return open_sites


def _best_swap(d: np.ndarray, w: np.ndarray, open_sites: np.ndarray, allowed: np.ndarray,
               fixed: set[int]) -> np.ndarray | None:
    """The best single swap (one site out, one in), if it lowers the cost."""
    sub = d[:, open_sites]
    order = np.argsort(sub, axis=1)
    first = open_sites[order[:, 0]]
    d1 = sub[np.arange(len(sub)), order[:, 0]]
    d2 = sub[np.arange(len(sub)), order[:, 1]] if len(open_sites) > 1 else np.full(len(sub), np.inf)
    current = float((w * d1).sum())
    best_delta, best_pair = -1e-9 * max(1.0, abs(current)), None
    position = {s: k for k, s in enumerate(open_sites)}
    closed = np.flatnonzero(allowed & ~np.isin(np.arange(d.shape[1]), open_sites))
    first_pos = np.array([position[s] for s in first])
    for j in closed:
        dj = d[:, j]
        gain_add = w * np.minimum(dj - d1, 0.0)  # every zone, if j opens
        # Removing open site r: its zones go to min(dj, d2) instead of min(dj, d1).
        loss = w * (np.minimum(dj, d2) - np.minimum(dj, d1))
        loss = np.where(np.isfinite(loss), loss, 1e18)
        per_out = np.bincount(first_pos, weights=loss, minlength=len(open_sites))
        delta = gain_add.sum() + per_out
        for r in fixed:
            if r in position:
                delta[position[r]] = np.inf
        k = int(np.argmin(delta))
        if delta[k] < best_delta:
            best_delta, best_pair = delta[k], (k, j)
    if best_pair is None:
        return None
    k, j = best_pair
    out = open_sites.copy()
    out[k] = j
    return np.sort(out)


def _regret_assign(cost: np.ndarray, weight: np.ndarray, capacity: np.ndarray, open_mask: np.ndarray
                   ) -> np.ndarray | None:
    """Each zone to an open site with room, largest regret first; None if some zone fits nowhere."""
    c = np.where(open_mask[None, :], cost, np.inf)
    part = np.sort(c, axis=1)[:, :2] if c.shape[1] > 1 else np.c_[c, np.full(len(c), np.inf)]
    with np.errstate(invalid="ignore"):  # inf - inf where a zone reaches no open site; replaced below
        regret = np.where(np.isfinite(part[:, 1]), part[:, 1] - part[:, 0], 1e18)
    left = capacity.astype(float).copy()
    site = np.full(len(weight), -1)
    for z in np.argsort(-regret, kind="stable"):
        for j in np.argsort(c[z], kind="stable"):
            if not np.isfinite(c[z, j]):
                return None
            if left[j] >= weight[z] - 1e-9:
                site[z] = j
                left[j] -= weight[z]
                break
        else:
            return None
    return site


def _improve(cost: np.ndarray, weight: np.ndarray, capacity: np.ndarray, open_mask: np.ndarray,
             site: np.ndarray, passes: int = 20) -> np.ndarray:
    """Shift single zones to cheaper open sites with room, and swap pairs of zones, while it pays."""
    site = site.copy()
    zones = np.arange(len(weight))
    for _ in range(passes):
        load = np.bincount(site, weights=weight, minlength=len(capacity))
        improved = False
        for z in zones:
            room = open_mask & (load + weight[z] <= capacity + 1e-9)
            room[site[z]] = False
            gains = cost[z, site[z]] - np.where(room, cost[z], np.inf)
            j = int(np.argmax(gains))
            if gains[j] > 1e-9:
                load[site[z]] -= weight[z]
                load[j] += weight[z]
                site[z] = j
                improved = True
        # Swaps: z1 at a, z2 at b exchange sites when both fit and the total falls.
        a, b = site[:, None], site[None, :]
        delta = cost[zones[:, None], b] + cost[zones[None, :], a] - cost[zones, site][:, None] - cost[zones, site][None, :]
        dw = weight[:, None] - weight[None, :]
        fits = (load[b] + dw <= capacity[b] + 1e-9) & (load[a] - dw <= capacity[a] + 1e-9) & (a != b)
        delta = np.where(fits, delta, np.inf)
        z1, z2 = np.unravel_index(int(np.argmin(delta)), delta.shape)
        if delta[z1, z2] < -1e-9:
            site[z1], site[z2] = site[z2], site[z1]
            improved = True
        if not improved:
            break
    return site


def single_source_heuristic(problem: LocationProblem) -> tuple[np.ndarray, np.ndarray] | None:
    """Open sites and each zone's site for single-source min-cost: regret assignment with
    every usable site open, then drop sites while the total falls, then local moves.

    Returns ``(open_sites, site_of_zone)``, or None when it finds no feasible solution
    or the problem is larger than ``SINGLE_SOURCE_LIMIT`` cells.
    """
    if problem.n_zones * problem.n_sites > SINGLE_SOURCE_LIMIT:
        return None
    d = dense_costs(problem)
    w = problem.weight
    cost = d * w[:, None]
    cap = np.where(np.isfinite(problem.capacity), problem.capacity, w.sum())
    open_mask = problem.status != CLOSED
    site = _regret_assign(cost, w, cap, open_mask)
    if site is None:
        return None

    def total(mask: np.ndarray, s: np.ndarray) -> float:
        return float(problem.fixed_cost[mask].sum() + cost[np.arange(len(w)), s].sum())

    best = total(open_mask, site)
    while True:
        trial_best = None
        for j in np.flatnonzero(open_mask & (problem.status != OPEN)):
            mask = open_mask.copy()
            mask[j] = False
            s = _regret_assign(cost, w, cap, mask)
            if s is not None and (value := total(mask, s)) < best - 1e-9 and (
                    trial_best is None or value < trial_best[0]):
                trial_best = (value, mask, s)
        if trial_best is None:
            break
        best, open_mask, site = trial_best
    site = _improve(cost, w, cap, open_mask, site)
    open_mask, site = _swap_sites(problem, cost, cap, open_mask, site, total)
    open_mask = open_mask & np.isin(np.arange(problem.n_sites), site) | (problem.status == OPEN)
    return np.flatnonzero(open_mask), site


def _swap_sites(problem: LocationProblem, cost: np.ndarray, cap: np.ndarray, open_mask: np.ndarray,
                site: np.ndarray, total: Callable[[np.ndarray, np.ndarray], float], passes: int = 10
                ) -> tuple[np.ndarray, np.ndarray]:
    """Close one open site and open a closed one while that lowers the total.

    Each swap is judged by the regret assignment against the current sites' own
    regret assignment (like with like); the best is kept only if, after local
    moves, it beats the current solution.
    """
    w = problem.weight
    best = total(open_mask, site)
    for _ in range(passes):
        base = _regret_assign(cost, w, cap, open_mask)
        target = total(open_mask, base) if base is not None else np.inf
        trials = []
        shut = np.flatnonzero(open_mask & (problem.status != OPEN))
        for j in np.flatnonzero(~open_mask & (problem.status != CLOSED)):
            for k in shut:
                mask = open_mask.copy()
                mask[k], mask[j] = False, True
                s = _regret_assign(cost, w, cap, mask)
                if s is not None and (value := total(mask, s)) < target - 1e-9:
                    trials.append((value, len(trials), mask, s))
        improved = None
        for _, _, mask, s in sorted(trials, key=lambda t: t[:2])[:SWAP_TRIES]:
            s = _improve(cost, w, cap, mask, s)
            if (value := total(mask, s)) < best - 1e-9 and (improved is None or value < improved[0]):
                improved = (value, mask, s)
        if improved is None:
            break
        best, open_mask, site = improved
    return open_mask, site


def reduce_cover(problem: LocationProblem, max_cost: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Set-cover reductions, repeated until nothing changes.

    1. A zone covered by one usable site forces that site open.
    2. A zone whose covering sites include all of another zone's is implied: dropped.
    3. A site covering a subset of another's zones at no lower cost is dropped (closed),
       and so is a site covering no zone still to cover.
    Zones covered by a forced-open site are dropped too. Steps 2 and 3 are
    :func:`estate.locate.cover_core.superset_rows`, the dominance the large covers' core uses.

    Returns ``(forced_open, kept_zones, kept_sites, counts)`` as boolean masks over
    sites, zones and sites, and the number of each reduction: ``forced_open`` sites,
    ``zones_dropped`` (the zones other than the one that forced each site) and ``sites_dropped``.
    """
    from estate.locate.cover_core import superset_rows

    n, m = problem.n_zones, problem.n_sites
    fixed = problem.fixed_cost if problem.fixed_cost.any() else np.ones(m)
    usable = problem.status != CLOSED
    ok = (problem.pair_cost <= max_cost) & usable[problem.pair_site]
    A = sp.csr_matrix((np.ones(int(ok.sum()), np.int32), (problem.pair_zone[ok], problem.pair_site[ok])),
                      shape=(n, m))
    forced = problem.status == OPEN
    zones = np.ones(n, bool)
    sites = usable.copy()
    newly_forced = 0
    state = None
    while state != (state := (int(zones.sum()), int(sites.sum()), int(forced.sum()))):
        zones &= ~(A @ forced.astype(np.int32) > 0)
        single = np.flatnonzero(zones & (A @ sites.astype(np.int32) == 1))
        if len(single):  # each such zone's one live site is forced open
            live = sp.csr_matrix(A[single].multiply(sites.astype(np.int32)[None, :]))
            live.eliminate_zeros()
            found = np.unique(live.indices)
            newly_forced += int((~forced[found]).sum())
            forced[found] = True
            zones[single] = False
            continue
        alive = np.flatnonzero(zones)
        zones[alive[superset_rows(A[alive][:, sites])]] = False
        free = np.flatnonzero(sites & ~forced)
        by_site = A[np.flatnonzero(zones)][:, free].T.tocsr()
        empty = np.diff(by_site.indptr) == 0
        sites[free[empty | superset_rows(by_site, cost=fixed[free])]] = False
    counts = {"forced_open": newly_forced, "zones_dropped": int(n - zones.sum()) - newly_forced,
              "sites_dropped": int(usable.sum() - sites.sum())}
    return forced, zones, sites, counts


def cover_greedy(problem: LocationProblem, max_cost: float, zones: np.ndarray | None = None) -> np.ndarray | None:
    """Open sites of a set cover found greedily, or None when some zone cannot be covered.

    Forced-open sites first; then, while a zone (of the ``zones`` mask, default all) is uncovered,
    the usable site of least fixed cost per newly covered zone (Chvátal's rule, with lazily
    updated ratios in a heap); then each chosen free site, dearest first, is closed when every
    zone it covers is covered by another. Fixed costs of 0 everywhere count sites (cost 1 each).
    Sparse throughout: O(pairs) to set up, O(zones a site covers) per ratio update.
    """
    n, m = problem.n_zones, problem.n_sites
    fixed = problem.fixed_cost if problem.fixed_cost.any() else np.ones(m)
    usable = problem.status != CLOSED
    ok = (problem.pair_cost <= max_cost) & usable[problem.pair_site]
    by_site = sp.csc_matrix((np.ones(int(ok.sum()), np.int8), (problem.pair_zone[ok], problem.pair_site[ok])),
                            shape=(n, m))
    zone_of, start = by_site.indices, by_site.indptr
    wanted = np.ones(n, bool) if zones is None else np.asarray(zones, bool)
    forced = np.flatnonzero(problem.status == OPEN)
    need = wanted & ~(by_site[:, forced].sum(axis=1, dtype=np.int64).A1 > 0)
    running = np.r_[0, np.cumsum(need[zone_of], dtype=np.int64)]
    gain = running[start[1:]] - running[start[:-1]]  # zones still to cover, per site
    free = usable & (problem.status != OPEN) & (gain > 0)
    heap = [(fixed[j] / gain[j], int(j)) for j in np.flatnonzero(free)]
    heapq.heapify(heap)
    chosen, left = [], int(need.sum())
    while left and heap:
        _, j = heapq.heappop(heap)
        covered = zone_of[start[j]:start[j + 1]]
        g = int(need[covered].sum())
        if g == 0:
            continue
        ratio = fixed[j] / g
        if heap and ratio > heap[0][0] + 1e-12 * max(1.0, ratio):
            heapq.heappush(heap, (ratio, j))  # its ratio rose since it was pushed: look again later
            continue
        chosen.append(j)
        need[covered] = False
        left -= g
    if left:
        return None
    chosen = np.array(chosen, dtype=np.int64)
    count = by_site[:, np.concatenate([forced, chosen])].sum(axis=1, dtype=np.int64).A1  # open sites per zone
    keep = np.ones(len(chosen), bool)
    for k in np.argsort(-fixed[chosen], kind="stable"):
        covered = zone_of[start[chosen[k]]:start[chosen[k] + 1]]
        covered = covered[wanted[covered]]
        if (count[covered] >= 2).all():
            keep[k] = False
            count[covered] -= 1
    return np.sort(np.concatenate([forced, chosen[keep]]))
