"""Fast heuristics that give the solver an incumbent and each zone a radius.

p-median: greedy addition, then vertex substitution (Teitz and Bart's
interchange, evaluated with Whitaker's best/second-best bookkeeping) until no
swap improves. Works on a dense zones × sites matrix (unreachable = inf), so
it is used only while that matrix stays small (``DENSE_LIMIT`` cells).
"""

from __future__ import annotations

import numpy as np

from estate.locate.problem import CLOSED, OPEN, LocationProblem

#: Largest zones × sites matrix the heuristics build (cells).
DENSE_LIMIT = 25_000_000


def dense_costs(problem: LocationProblem) -> np.ndarray | None:
    """The zones × sites cost matrix with ``inf`` for missing pairs, or None when too big."""
    if problem.n_zones * problem.n_sites > DENSE_LIMIT:
        return None
    d = np.full((problem.n_zones, problem.n_sites), np.inf)
    d[problem.pair_zone, problem.pair_site] = problem.pair_cost
    return d


def _total(d: np.ndarray, w: np.ndarray, open_sites: np.ndarray) -> float:
    return float((w * d[:, open_sites].min(axis=1)).sum())


def p_median_heuristic(problem: LocationProblem, p: int, max_passes: int = 50) -> np.ndarray | None:
    """Open sites of a good p-median solution (greedy, then interchange), or None.

    Returns None when the dense matrix would be too big or no feasible set of
    ``p`` sites serves every zone.
    """
    d = dense_costs(problem)
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
    open_sites = np.array(sorted(chosen))
    fixed = set(np.flatnonzero(problem.status == OPEN))
    for _ in range(max_passes):
        improved = _best_swap(d, w, open_sites, allowed, fixed)
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
