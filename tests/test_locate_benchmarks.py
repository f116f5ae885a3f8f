"""Readers for the published location benchmarks, and solves of a fast subset against their optima.

The benchmark files live in the shared folder (``ESTATE_SHARED``, default
``../shared``); tests that need them skip when it is absent. Hand-made tiny
files check the formats' rules (undirected edges, last duplicate wins, tokens
wrapping across lines, per-customer costs turned into per-unit costs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from estate.locate.instances import (
    FAMILY_DIRS,
    InstanceFormatError,
    load_family,
    published_optima,
    read_cap,
    read_holmberg,
    read_pmed,
)
from estate.locate.solve import solve

# --- hand-made files --------------------------------------------------------------------------

# 4 vertices, p=2. Edge 1-2 first appears with length 5, then reversed as "2 1 2": last wins → 2.
TINY_PMED = """ 4 5 2
 1 2 5
 2 3 3
 3 4 4
 1 4 20
 2 1 2
"""
# d12=2, d23=3, d34=4, d13=2+3=5, d24=3+4=7, d14=min(20, 2+3+4)=9
TINY_PMED_DIST = np.array([[0, 2, 5, 9],
                           [2, 0, 3, 7],
                           [5, 3, 0, 4],
                           [9, 7, 4, 0]], dtype=float)

# 2 warehouses, 3 customers; customer rows wrap across lines on purpose.
TINY_CAP = """ 2 3
 100 10.
 80 20.
 4
 8. 12.
 2 6.
 3.
 5
 10. 25.
"""
# Per unit: allocation cost / demand.
TINY_PER_UNIT = np.array([[8 / 4, 12 / 4], [6 / 2, 3 / 2], [10 / 5, 25 / 5]])

TINY_HOLMBERG = """2 3
100 80
10 20
4 2 5
8 12
6 3
10 25
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _dense(problem) -> np.ndarray:
    out = np.full((problem.n_zones, problem.n_sites), np.nan)
    out[problem.pair_zone, problem.pair_site] = problem.pair_cost
    return out


def test_tiny_pmed_shortest_paths_and_last_duplicate(tmp_path):
    inst = read_pmed(_write(tmp_path, "pmed99.txt", TINY_PMED))
    pr = inst.problem
    assert (inst.name, inst.family, inst.objective, inst.p, inst.single_source) == \
        ("pmed99", "pmed", "p-median", 2, False)
    assert (pr.n_zones, pr.n_sites) == (4, 4)
    assert len(pr.pair_cost) == 16  # all pairs, including the zero self-distances
    np.testing.assert_array_equal(_dense(pr), TINY_PMED_DIST)
    np.testing.assert_array_equal(pr.weight, 1.0)
    np.testing.assert_array_equal(pr.fixed_cost, 0.0)
    assert np.isinf(pr.capacity).all()
    np.testing.assert_array_equal(inst.dense_costs(), TINY_PMED_DIST)


def test_tiny_pmed_wrong_edge_count(tmp_path):
    with pytest.raises(InstanceFormatError, match="expected 18 numbers"):
        read_pmed(_write(tmp_path, "bad.txt", TINY_PMED.replace(" 4 5 2", " 4 6 2")))


def test_tiny_cap_per_unit_costs(tmp_path):
    inst = read_cap(_write(tmp_path, "cap1.txt", TINY_CAP))
    pr = inst.problem
    assert (inst.family, inst.objective, inst.p, inst.single_source) == ("cap", "min-cost", None, False)
    assert (pr.n_zones, pr.n_sites) == (3, 2)
    np.testing.assert_array_equal(pr.capacity, [100, 80])
    np.testing.assert_array_equal(pr.fixed_cost, [10, 20])
    np.testing.assert_array_equal(pr.weight, [4, 2, 5])
    np.testing.assert_allclose(_dense(pr), TINY_PER_UNIT)
    # weight × per-unit cost gives back the file's allocation costs
    np.testing.assert_allclose(pr.weight[:, None] * _dense(pr), [[8, 12], [6, 3], [10, 25]])


def test_cap_literal_capacity_needs_a_value(tmp_path):
    path = _write(tmp_path, "capa.txt", TINY_CAP.replace(" 100 10.", " capacity 10.")
                  .replace(" 80 20.", " capacity 20."))
    with pytest.raises(InstanceFormatError, match="capacity"):
        read_cap(path)
    np.testing.assert_array_equal(read_cap(path, capacity=50).problem.capacity, [50, 50])


def test_tiny_holmberg_per_unit_costs(tmp_path):
    inst = read_holmberg(_write(tmp_path, "p99", TINY_HOLMBERG))
    pr = inst.problem
    assert (inst.name, inst.family, inst.objective, inst.single_source) == ("p99", "holmberg", "min-cost", True)
    assert (pr.n_zones, pr.n_sites) == (3, 2)
    np.testing.assert_array_equal(pr.capacity, [100, 80])
    np.testing.assert_array_equal(pr.fixed_cost, [10, 20])
    np.testing.assert_array_equal(pr.weight, [4, 2, 5])
    np.testing.assert_allclose(_dense(pr), TINY_PER_UNIT)


def test_zero_demand_is_a_format_error(tmp_path):
    with pytest.raises(InstanceFormatError, match="demand"):
        read_holmberg(_write(tmp_path, "p98", TINY_HOLMBERG.replace("4 2 5", "4 0 5")))


# --- the published files ------------------------------------------------------------------------

def _header(path: Path, k: int) -> list[int]:
    return [int(float(t)) for t in path.read_text().split()[:k]]


def test_pmed1_size(shared_dir):
    path = shared_dir / "benchmarks" / FAMILY_DIRS["pmed"] / "pmed1.txt"
    assert _header(path, 3) == [100, 200, 5]
    inst = load_family(shared_dir, "pmed", ["pmed1"])[0]
    pr = inst.problem
    assert (pr.n_zones, pr.n_sites, inst.p, inst.optimum) == (100, 100, 5, 5819)
    assert len(pr.pair_cost) == 100 * 100
    dist = inst.dense_costs()
    np.testing.assert_array_equal(dist, dist.T)
    np.testing.assert_array_equal(np.diag(dist), 0)
    assert np.isfinite(dist).all()


@pytest.mark.parametrize("name, m, n", [("cap71", 16, 50), ("cap131", 50, 50)])
def test_cap_sizes(shared_dir, name, m, n):
    path = shared_dir / "benchmarks" / FAMILY_DIRS["cap"] / f"{name}.txt"
    assert _header(path, 2) == [m, n]
    inst = load_family(shared_dir, "cap", [name])[0]
    pr = inst.problem
    assert (pr.n_sites, pr.n_zones, inst.p, inst.single_source) == (m, n, None, False)
    assert len(pr.pair_cost) == m * n
    assert (pr.weight > 0).all() and np.isfinite(pr.capacity).all()


@pytest.mark.parametrize("name, m, n", [("p1", 10, 50), ("p71", 30, 200)])
def test_holmberg_sizes(shared_dir, name, m, n):
    path = shared_dir / "benchmarks" / FAMILY_DIRS["holmberg"] / name
    assert _header(path, 2) == [m, n]
    inst = load_family(shared_dir, "holmberg", [name])[0]
    pr = inst.problem
    assert (pr.n_sites, pr.n_zones, inst.single_source) == (m, n, True)
    assert len(pr.pair_cost) == m * n


def test_published_optima(shared_dir):
    bench = shared_dir / "benchmarks"
    pmed = published_optima(bench / FAMILY_DIRS["pmed"])
    cap = published_optima(bench / FAMILY_DIRS["cap"])
    holm = published_optima(bench / FAMILY_DIRS["holmberg"])
    assert (len(pmed), len(cap), len(holm)) == (40, 12, 71)
    assert (pmed["pmed1"], pmed["pmed40"]) == (5819, 5128)
    assert cap["cap71"] == pytest.approx(932615.75)
    assert (holm["p1"], holm["p71"]) == (8848, 25540)


def test_load_family_natural_order(shared_dir):
    names = [inst.name for inst in load_family(shared_dir, "cap")]
    assert names == ["cap71", "cap72", "cap73", "cap74", "cap101", "cap102", "cap103", "cap104",
                     "cap131", "cap132", "cap133", "cap134"]
    holm = load_family(shared_dir, "holmberg")
    assert [i.name for i in holm[:3]] + [holm[-1].name] == ["p1", "p2", "p3", "p71"]
    assert all(i.optimum is not None for i in holm)


def test_load_family_unknown_name(shared_dir):
    with pytest.raises(FileNotFoundError, match="pmed99"):
        load_family(shared_dir, "pmed", ["pmed99"])


# --- solving a fast subset against the published optima ---------------------------------------

# pmed9 and pmed10: the greedy + interchange heuristic misses the optimum, the root's multipliers
# lead the local search to it. pmed16 and pmed38: the Lagrangian bound at the root is 0.9% and
# 0.4% below the optimum, so the search has to branch (59 and 179 nodes when measured).
FAST = ([("pmed", f"pmed{k}") for k in (1, 2, 3, 4, 5, 9, 10, 16, 38)]
        + [("cap", name) for name in ("cap71", "cap72", "cap73", "cap74", "cap101")]
        + [("holmberg", f"p{k}") for k in (1, 2, 3, 4, 5, 25)])
#: The radius MIP is kept as a second, independent p-median method.
RADIUS = [("pmed", f"pmed{k}") for k in range(1, 6)]


def _check_optimum(inst, result) -> None:
    name = inst.name
    assert result.status == "optimal", f"{name}: status {result.status}, objective {result.objective}"
    tol = 1e-6 * max(1.0, inst.optimum) + 0.5
    assert abs(result.objective - inst.optimum) <= tol, \
        f"{name}: objective {result.objective} vs published {inst.optimum}"
    assert result.gap == 0.0 and result.bound == pytest.approx(result.objective, abs=tol)


@pytest.mark.parametrize("family, name", FAST, ids=[name for _, name in FAST])
def test_solve_reaches_published_optimum(shared_dir, family, name):
    inst = load_family(shared_dir, family, [name])[0]
    # No time limit: a slower machine takes longer, but cannot change the outcome.
    result = solve(inst.problem, inst.objective, p=inst.p, single_source=inst.single_source, gap=0.0)
    _check_optimum(inst, result)
    if name in ("pmed16", "pmed38"):
        assert result.stats["nodes"] > 1 and result.stats["root_bound"] < inst.optimum - 1


@pytest.mark.parametrize("family, name", RADIUS, ids=[name for _, name in RADIUS])
def test_radius_mip_reaches_published_optimum(shared_dir, family, name):
    inst = load_family(shared_dir, family, [name])[0]
    result = solve(inst.problem, inst.objective, p=inst.p, gap=0.0, method="radius")
    _check_optimum(inst, result)
    assert result.solver == "highs"
