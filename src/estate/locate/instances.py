"""Readers for the published facility-location benchmark formats.

Three families, each mapped onto :class:`~estate.locate.problem.LocationProblem`:

- ``pmed``: OR-Library uncapacitated p-median (Beasley 1985), objective ``p-median``;
- ``cap``: OR-Library capacitated warehouse location (Beasley 1988), objective
  ``min-cost`` with capacities, multi-source;
- ``holmberg``: single-source capacitated facility location (Holmberg, Rönnqvist
  and Yuan 1999), objective ``min-cost`` with capacities and single sourcing.

The files are read in place from the shared folder (see :func:`shared_dir`);
they are never copied into the project. Costs in the files are per customer
(the cost of serving *all* of it); :class:`LocationProblem` costs are per unit
of weight, so the readers divide by the demand.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import csgraph_from_dense, shortest_path

from estate.locate.problem import LocationProblem

#: Family name → folder under ``<shared>/benchmarks``.
FAMILY_DIRS = {"pmed": "orlib-pmed", "cap": "orlib-cap", "holmberg": "sscflp-holmberg"}
#: Family name → file name pattern of its instances (the stem is the instance name).
_FAMILY_FILES = {"pmed": re.compile(r"^(pmed\d+)\.txt$"), "cap": re.compile(r"^(cap\d+)\.txt$"),
                 "holmberg": re.compile(r"^(p\d+)$")}


class InstanceFormatError(ValueError):
    """A benchmark file does not match its published format."""


@dataclass
class Instance:
    """One published benchmark instance.

    Attributes
    ----------
    name
        Instance name, e.g. ``"pmed1"``, ``"cap71"``, ``"p1"``.
    family
        ``"pmed"``, ``"cap"`` or ``"holmberg"``.
    problem
        The instance as a :class:`LocationProblem`.
    objective
        ``"p-median"`` or ``"min-cost"``.
    p
        Number of sites to open (p-median only).
    single_source
        Whether each zone must be served wholly by one site.
    optimum
        The published optimal objective, if known.
    """

    name: str
    family: str
    problem: LocationProblem
    objective: str
    p: int | None = None
    single_source: bool = False
    optimum: float | None = None

    def dense_costs(self) -> np.ndarray:
        """Per-unit costs as a dense ``zones × sites`` matrix (``inf`` where no pair).

        Returns
        -------
        numpy.ndarray
            Shape ``(n_zones, n_sites)``.
        """
        pr = self.problem
        out = np.full((pr.n_zones, pr.n_sites), np.inf)
        out[pr.pair_zone, pr.pair_site] = pr.pair_cost
        return out


def _tokens(path: str | os.PathLike) -> np.ndarray:
    """All whitespace-separated tokens of a file, as a numpy array of strings."""
    return np.array(Path(path).read_text().split())


def _numbers(tokens: np.ndarray, path: str | os.PathLike) -> np.ndarray:
    """Tokens as floats; raise :class:`InstanceFormatError` naming the first bad one."""
    try:
        return tokens.astype(float)
    except ValueError:
        bad = next(t for t in tokens if not _is_number(t))
        raise InstanceFormatError(f"{path}: non-numeric token {bad!r}") from None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _expect(path, tokens: np.ndarray, count: int, what: str) -> None:
    if len(tokens) != count:
        raise InstanceFormatError(f"{path}: expected {count} numbers for {what}, found {len(tokens)}")


def _header(path, tokens: np.ndarray, k: int) -> list[int]:
    if len(tokens) < k:
        raise InstanceFormatError(f"{path}: file too short for its {k}-number header")
    head = _numbers(tokens[:k], path)
    if (head != np.round(head)).any() or (head < 0).any():
        raise InstanceFormatError(f"{path}: header {tokens[:k].tolist()} is not {k} non-negative integers")
    return [int(v) for v in head]


def pmed_distances(n: int, edges: np.ndarray) -> np.ndarray:
    """All-pairs shortest-path lengths of an undirected graph.

    Parameters
    ----------
    n
        Number of vertices (``0..n-1``).
    edges
        ``(k, 3)`` array of ``i, j, length`` with 0-based vertices. When an edge
        (in either direction) appears more than once, the last appearance wins.
        Self-loops are ignored.

    Returns
    -------
    numpy.ndarray
        Dense ``n × n`` distances; ``inf`` between disconnected vertices.
    """
    edges = np.asarray(edges, dtype=float).reshape(-1, 3)
    i, j = edges[:, 0].astype(np.int64), edges[:, 1].astype(np.int64)
    lo, hi, length = np.minimum(i, j), np.maximum(i, j), edges[:, 2]
    # Last appearance wins: first occurrence of each key in the reversed list.
    keys = (lo * n + hi)[::-1]
    _, first = np.unique(keys, return_index=True)
    keep = len(keys) - 1 - first
    lo, hi, length = lo[keep], hi[keep], length[keep]
    loop = lo == hi
    lo, hi, length = lo[~loop], hi[~loop], length[~loop]
    dense = np.full((n, n), np.inf)
    dense[lo, hi] = length
    dense[hi, lo] = length
    # null_value=inf keeps zero-length edges as edges.
    graph = csgraph_from_dense(dense, null_value=np.inf)
    return shortest_path(graph, method="D", directed=False)


def read_pmed(path: str | os.PathLike) -> Instance:
    """Read an OR-Library p-median file (``pmed*.txt``).

    Format: ``n m p``, then ``m`` lines ``i j cost`` (1-based, undirected; the
    last appearance of an edge wins). Distances are shortest-path lengths.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    Instance
        Every vertex is a zone of weight 1 and a site with fixed cost 0; the
        pair list holds all ``n²`` pairs (including zero self-distances).
    """
    tokens = _tokens(path)
    n, m, p = _header(path, tokens, 3)
    body = tokens[3:]
    _expect(path, body, 3 * m, f"{m} edges")
    edges = _numbers(body, path).reshape(m, 3)
    ends = edges[:, :2]
    if (ends < 1).any() or (ends > n).any() or (ends != np.round(ends)).any():
        raise InstanceFormatError(f"{path}: an edge names a vertex outside 1..{n}")
    if (edges[:, 2] < 0).any():
        raise InstanceFormatError(f"{path}: negative edge length")
    if not 0 < p <= n:
        raise InstanceFormatError(f"{path}: p={p} outside 1..{n}")
    edges[:, :2] -= 1
    dist = pmed_distances(n, edges)
    problem = LocationProblem.from_cost_matrix(dist)
    problem.meta.update({"source": str(path), "edges": m})
    return Instance(name=Path(path).stem, family="pmed", problem=problem, objective="p-median", p=p)


def read_cap(path: str | os.PathLike, capacity: float | None = None) -> Instance:
    """Read an OR-Library capacitated warehouse location file (``cap*.txt``).

    Format, as one token stream (lines may wrap): ``m n``; ``m`` pairs
    ``capacity fixed_cost``; then per customer its ``demand`` followed by ``m``
    costs of allocating *all* of its demand to each warehouse.

    Parameters
    ----------
    path
        The file.
    capacity
        Capacity to use for every warehouse when the file gives the literal
        word ``capacity`` instead of numbers (as the OR-Library capa/capb/capc
        files do). Ignored when the file gives numbers.

    Returns
    -------
    Instance
        ``min-cost``, multi-source; ``pair_cost = allocation_cost / demand``,
        so ``Σ weight·cost·x`` is the published allocation cost.
    """
    tokens = _tokens(path)
    m, n = _header(path, tokens, 2)
    _expect(path, tokens[2:], 2 * m + n * (1 + m), f"{m} warehouses and {n} customers")
    head = tokens[2:2 + 2 * m].reshape(m, 2)
    cap_tok = head[:, 0]
    literal = np.char.lower(cap_tok.astype(str)) == "capacity"
    if literal.any():
        if capacity is None:
            raise InstanceFormatError(f"{path}: capacities are given as the word 'capacity'; "
                                      "pass capacity= to read_cap")
        cap_tok = np.where(literal, str(float(capacity)), cap_tok)
    caps = _numbers(cap_tok, path)
    fixed = _numbers(head[:, 1], path)
    cust = _numbers(tokens[2 + 2 * m:], path).reshape(n, 1 + m)
    demand, alloc = cust[:, 0], cust[:, 1:]
    if (demand <= 0).any():
        raise InstanceFormatError(f"{path}: customers {(np.flatnonzero(demand <= 0) + 1).tolist()} "
                                  "have demand ≤ 0")
    problem = LocationProblem.from_cost_matrix(alloc / demand[:, None], weight=demand, fixed_cost=fixed,
                                               capacity=caps)
    problem.meta.update({"source": str(path)})
    return Instance(name=Path(path).stem, family="cap", problem=problem, objective="min-cost")


def read_holmberg(path: str | os.PathLike) -> Instance:
    """Read a Holmberg single-source capacitated facility location file (``p1``..``p71``).

    Format, as one token stream: ``m n``; ``m`` capacities; ``m`` opening
    costs; ``n`` demands; ``n × m`` costs, row ``j`` column ``i`` being the cost
    of serving *all* of customer ``j`` from facility ``i``.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    Instance
        ``min-cost`` with ``single_source=True``; ``pair_cost = cost / demand``.
    """
    tokens = _tokens(path)
    m, n = _header(path, tokens, 2)
    _expect(path, tokens[2:], 2 * m + n + n * m, f"{m} facilities and {n} customers")
    values = _numbers(tokens[2:], path)
    caps, fixed, demand = values[:m], values[m:2 * m], values[2 * m:2 * m + n]
    cost = values[2 * m + n:].reshape(n, m)
    if (demand <= 0).any():
        raise InstanceFormatError(f"{path}: customers {(np.flatnonzero(demand <= 0) + 1).tolist()} "
                                  "have demand ≤ 0")
    problem = LocationProblem.from_cost_matrix(cost / demand[:, None], weight=demand, fixed_cost=fixed,
                                               capacity=caps)
    problem.meta.update({"source": str(path)})
    return Instance(name=Path(path).name, family="holmberg", problem=problem, objective="min-cost",
                    single_source=True)


def published_optima(family_dir: str | os.PathLike) -> dict[str, float]:
    """Published optimal objectives of a family folder.

    Parameters
    ----------
    family_dir
        A folder holding ``optimal.csv`` (columns ``instance`` and ``optimal``;
        OR-Library pmed and cap) or ``os`` (one value per line for ``p1``,
        ``p2``, …; Holmberg).

    Returns
    -------
    dict
        Instance name → optimum. Empty when neither file exists.
    """
    folder = Path(family_dir)
    if (folder / "optimal.csv").is_file():
        with open(folder / "optimal.csv", newline="") as fh:
            return {row["instance"].strip(): float(row["optimal"]) for row in csv.DictReader(fh)}
    if (folder / "os").is_file():
        values = (folder / "os").read_text().split()
        return {f"p{k}": float(v) for k, v in enumerate(values, start=1)}
    return {}


def _natural_key(name: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


READERS = {"pmed": read_pmed, "cap": read_cap, "holmberg": read_holmberg}


def family_files(shared: str | os.PathLike, family: str) -> dict[str, Path]:
    """Instance files of a family, by name, in natural order.

    Parameters
    ----------
    shared
        The shared folder (holding ``benchmarks/``).
    family
        ``"pmed"``, ``"cap"`` or ``"holmberg"``.
    """
    if family not in FAMILY_DIRS:
        raise ValueError(f"unknown family {family!r}; expected one of {sorted(FAMILY_DIRS)}")
    folder = Path(shared) / "benchmarks" / FAMILY_DIRS[family]
    if not folder.is_dir():
        raise FileNotFoundError(f"benchmark folder not found: {folder}")
    found = {}
    for path in folder.iterdir():
        match = _FAMILY_FILES[family].match(path.name)
        if match and path.is_file():
            found[match.group(1)] = path
    return {name: found[name] for name in sorted(found, key=_natural_key)}


def load_family(shared_dir: str | os.PathLike, family: str,
                names: Iterable[str] | None = None) -> list[Instance]:
    """Read every instance of a family, with published optima attached.

    Parameters
    ----------
    shared_dir
        The shared folder (holding ``benchmarks/``), e.g. from :func:`shared_dir`.
    family
        ``"pmed"``, ``"cap"`` or ``"holmberg"``.
    names
        Read only these instances (default: all).

    Returns
    -------
    list of Instance
        In natural order (pmed1..pmed40, cap71..cap134, p1..p71).
    """
    shared = shared_dir
    files = family_files(shared, family)
    if names is not None:
        wanted = set(names)
        missing = wanted - set(files)
        if missing:
            raise FileNotFoundError(f"no {family} instance named {sorted(missing, key=_natural_key)}")
        files = {k: v for k, v in files.items() if k in wanted}
    optima = published_optima(Path(shared) / "benchmarks" / FAMILY_DIRS[family])
    instances = []
    for name, path in files.items():
        inst = READERS[family](path)
        inst.name = name
        inst.optimum = optima.get(name)
        instances.append(inst)
    return instances


def shared_dir() -> Path:
    """The shared folder: ``$ESTATE_SHARED``, else ``<repo>/../shared``.

    The repository is the nearest folder above this file holding
    ``pyproject.toml`` (the current directory if there is none).
    """
    env = os.environ.get("ESTATE_SHARED")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    repo = next((d for d in here.parents if (d / "pyproject.toml").is_file()), Path.cwd())
    return repo.parent / "shared"
