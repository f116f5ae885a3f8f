"""The public ``estate solve`` CSV contract (see ``DESIGN.md``).

Inputs
------
``sites.csv``: ``site_id``, ``fixed_cost`` (≥ 0, default 0), ``capacity``
(blank = unlimited), ``status`` (``free`` | ``open`` | ``closed``, default free).
``demand.csv``: ``zone_id``, ``weight`` (> 0).
``costs.csv``: ``zone_id``, ``site_id``, ``cost`` per unit of weight; a missing
pair means the zone cannot be served by that site.

Outputs
-------
``open_sites.csv`` (``site_id``), ``assignments.csv`` (``zone_id, site_id, share``)
and ``summary.json`` (objective, bound, gap, status, solver, build_seconds,
solve_seconds, open_sites, and an explanation when infeasible).

:func:`write_problem` writes a problem in the input contract (for benchmarks and tests).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from estate._errors import SourceError, SourceErrors
from estate._io import require_file, write_csv
from estate.locate.problem import STATUS_CODES, LocationProblem, ProblemError
from estate.locate.solve import Solution

_SHOW = 10


def _read(path: Path, required: list[str], optional: list[str] = ()) -> pd.DataFrame:
    try:
        require_file(path, "input")
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except SourceError as exc:
        raise SourceErrors([exc]) from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceErrors([SourceError(path, f"cannot be read as CSV ({type(exc).__name__}: "
                                        f"{str(exc).splitlines()[0][:120]})")]) from None
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SourceErrors([SourceError(path, f"required column is missing; found {list(frame.columns)}",
                                        row=1, column=c) for c in missing])
    for c in optional:
        if c not in frame.columns:
            frame[c] = ""
    return frame.apply(lambda s: s.str.strip())


def _bad(path: Path, frame: pd.DataFrame, mask: pd.Series, column: str, message: str) -> SourceError:
    rows = (np.flatnonzero(mask.to_numpy()) + 2).tolist()
    more = f" and {len(rows) - _SHOW} more" if len(rows) > _SHOW else ""
    values = frame.loc[mask, column].head(_SHOW).tolist()
    return SourceError(path, f"{message}: {values} on rows {rows[:_SHOW]}{more}", column=column)


def _number(frame: pd.DataFrame, column: str, default: float) -> pd.Series:
    text = frame[column]
    return pd.to_numeric(text.where(text != "", str(default)), errors="coerce")


def _fast_costs(path: Path, zone_ids: pd.Series, site_ids: pd.Series
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``costs.csv`` read with pyarrow into zone positions, site positions and costs, or None.

    This is the fast way through a large, well-formed file: ids are dictionary-encoded once (and
    each distinct id stripped, as :func:`_read` strips every cell) and costs parsed as numbers
    straight away. It returns None at the first sign of anything the contract would report (an
    unreadable file, a missing column, a number that does not parse, an unknown id, a negative
    or non-finite cost, a repeated pair), so that :func:`read_problem` reads the file again the
    slow way and names the rows, with exactly the same result and errors.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        require_file(path, "input")  # a pipe or a device is the text reader's to refuse, never read here
        with pa.OSFile(str(path), "rb") as raw:  # no decompression by file name (pandas does none)
            table = pacsv.read_csv(raw, convert_options=pacsv.ConvertOptions(
                column_types={"zone_id": pa.string(), "site_id": pa.string(), "cost": pa.float64()},
                null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False))
        names = [c.strip() for c in table.column_names]  # decoding a header that is not UTF-8 fails here
    except (OSError, SourceError, pa.ArrowException, ValueError):
        return None
    if any(not (pa.types.is_string(c.type) or pa.types.is_floating(c.type) or pa.types.is_integer(c.type)
                or pa.types.is_boolean(c.type)) for c in table.columns):
        return None  # e.g. a column pyarrow read as bytes because it is not UTF-8: the text reader says so
    if len(set(names)) != len(names) or any(c not in names for c in ("zone_id", "site_id", "cost")):
        return None
    columns = dict(zip(names, table.columns))
    if not pa.types.is_floating(columns["cost"].type) or columns["cost"].null_count:
        return None
    positions = []
    for column, ids in (("zone_id", zone_ids), ("site_id", site_ids)):
        if not pa.types.is_string(columns[column].type):  # an empty file gives null-typed columns
            return None
        encoded = columns[column].combine_chunks().dictionary_encode()
        labels = pd.Series(encoded.dictionary.to_pylist(), dtype=object).str.strip()
        known = pd.Index(ids.to_numpy(dtype=object)).get_indexer(labels)
        if (known < 0).any():
            return None
        positions.append(known[encoded.indices.to_numpy(zero_copy_only=False)].astype(np.int64))
    cost = columns["cost"].to_numpy()
    if not (np.isfinite(cost).all() and (cost >= 0).all()):
        return None
    keys = np.sort(positions[0] * max(len(site_ids), 1) + positions[1])
    if (keys[1:] == keys[:-1]).any():
        return None
    return positions[0], positions[1], cost.astype(float)


def read_problem(sites_csv: str | Path, demand_csv: str | Path, costs_csv: str | Path) -> LocationProblem:
    """Read the three CSVs of the contract into a :class:`LocationProblem`.

    ``costs.csv``, which may hold millions of pairs, is read with pyarrow (:func:`_fast_costs`);
    when that finds anything wrong, it is read again cell by cell as text to name the rows.

    Raises
    ------
    SourceErrors
        Every problem found, naming the file, the column and the rows: missing
        columns, unreadable or out-of-range numbers, unknown statuses,
        duplicate ids, and costs naming an unknown zone or site.
    """
    sites_csv, demand_csv, costs_csv = Path(sites_csv), Path(demand_csv), Path(costs_csv)
    sites = _read(sites_csv, ["site_id"], ["fixed_cost", "capacity", "status"])
    demand = _read(demand_csv, ["zone_id", "weight"])
    errors: list[SourceError] = []

    fixed = _number(sites, "fixed_cost", 0.0)
    capacity = pd.to_numeric(sites["capacity"].where(sites["capacity"] != "", "inf"), errors="coerce")
    status = sites["status"].str.lower().where(sites["status"] != "", "free")
    weight = pd.to_numeric(demand["weight"], errors="coerce")
    checks = [
        (sites_csv, sites, sites["site_id"] == "", "site_id", "blank site id"),
        (sites_csv, sites, sites["site_id"].duplicated(keep=False) & (sites["site_id"] != ""), "site_id",
         "site id listed more than once"),
        (sites_csv, sites, ~np.isfinite(fixed) | (fixed < 0), "fixed_cost", "expected a finite number ≥ 0"),
        (sites_csv, sites, capacity.isna() | (capacity < 0), "capacity", "expected a number ≥ 0 or blank"),
        (sites_csv, sites, ~status.isin(STATUS_CODES), "status", f"expected one of {list(STATUS_CODES)}"),
        (demand_csv, demand, demand["zone_id"] == "", "zone_id", "blank zone id"),
        (demand_csv, demand, demand["zone_id"].duplicated(keep=False) & (demand["zone_id"] != ""), "zone_id",
         "zone id listed more than once"),
        (demand_csv, demand, ~np.isfinite(weight) | (weight <= 0), "weight", "expected a finite number > 0"),
    ]
    clean = not any(mask.any() for _, _, mask, _, _ in checks)
    fast = _fast_costs(costs_csv, demand["zone_id"], sites["site_id"]) if clean else None
    if fast is None:
        costs = _read(costs_csv, ["zone_id", "site_id", "cost"])
        cost = pd.to_numeric(costs["cost"], errors="coerce")
        checks += [
            (costs_csv, costs, ~costs["zone_id"].isin(demand["zone_id"]), "zone_id", "zone id not in demand"),
            (costs_csv, costs, ~costs["site_id"].isin(sites["site_id"]), "site_id", "site id not in sites"),
            (costs_csv, costs, ~np.isfinite(cost) | (cost < 0), "cost", "expected a finite number ≥ 0"),
            (costs_csv, costs, costs.duplicated(["zone_id", "site_id"], keep=False), "site_id",
             "(zone, site) pair listed more than once"),
        ]
    for path, frame, mask, column, message in checks:
        if mask.any():
            errors.append(_bad(path, frame, mask, column, message))
    if errors:
        raise SourceErrors(errors)
    if fast is None:
        site_pos = pd.Series(np.arange(len(sites)), index=sites["site_id"])
        zone_pos = pd.Series(np.arange(len(demand)), index=demand["zone_id"])
        fast = (zone_pos[costs["zone_id"]].to_numpy(), site_pos[costs["site_id"]].to_numpy(),
                cost.to_numpy(float))
    pair_zone, pair_site, pair_cost = fast
    return LocationProblem.from_arrays(
        fixed.to_numpy(float), weight.to_numpy(float), pair_zone, pair_site, pair_cost,
        capacity=capacity.to_numpy(float), status=status.map(STATUS_CODES).to_numpy(),
        site_ids=sites["site_id"].to_numpy(), zone_ids=demand["zone_id"].to_numpy())


def _csv_numbers(values: np.ndarray) -> np.ndarray | pd.Series:
    """Numbers for a CSV column: whole numbers as integers, others as floats (pandas writes the
    shortest text that reads back to the same float), infinite ones blank."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if finite.all() and (values == np.round(values)).all() and (np.abs(values) < 2 ** 53).all():
        return values.astype(np.int64)
    if finite.all():
        return values
    return pd.Series([repr(float(v)) if ok else "" for v, ok in zip(values, finite)], dtype=object)


def write_problem(problem: LocationProblem, folder: str | Path) -> None:
    """Write ``problem`` as the contract's ``sites.csv``, ``demand.csv`` and ``costs.csv`` in ``folder``,
    so that :func:`read_problem` reads it back exactly (an unlimited capacity is blank). A problem with
    side constraints cannot be written: the contract has no place for them."""
    if problem.side is not None:
        raise ProblemError("a problem with side constraints cannot be written in the CSV contract")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    status_text = {code: text for text, code in STATUS_CODES.items()}
    pd.DataFrame({"site_id": problem.site_ids, "fixed_cost": _csv_numbers(problem.fixed_cost),
                  "capacity": _csv_numbers(problem.capacity),
                  "status": [status_text[int(v)] for v in problem.status]}).to_csv(folder / "sites.csv", index=False)
    pd.DataFrame({"zone_id": problem.zone_ids, "weight": _csv_numbers(problem.weight)}).to_csv(
        folder / "demand.csv", index=False)
    pd.DataFrame({"zone_id": problem.zone_ids[problem.pair_zone], "site_id": problem.site_ids[problem.pair_site],
                  "cost": _csv_numbers(problem.pair_cost)}).to_csv(folder / "costs.csv", index=False)


def summary_of(solution: Solution) -> dict:
    """The ``summary.json`` content of a solution."""
    def num(v):
        return None if v is None or not np.isfinite(v) else float(v)
    out = {"objective": num(solution.objective), "bound": num(solution.bound), "gap": num(solution.gap),
           "status": solution.status, "solver": solution.solver,
           "build_seconds": round(solution.build_seconds, 4), "solve_seconds": round(solution.solve_seconds, 4),
           "open_sites": int(len(solution.open_sites))}
    if solution.explanation:
        out["explanation"] = solution.explanation
    if solution.stats:
        out["stats"] = {k: (v.item() if hasattr(v, "item") else v) for k, v in solution.stats.items()}
    return out


def write_solution(problem: LocationProblem, solution: Solution, out_dir: str | Path) -> dict:
    """Write ``open_sites.csv``, ``assignments.csv`` and ``summary.json`` into ``out_dir`` (``estate solve``
    writes them into a staging folder that replaces its ``--out`` in one step); return the summary."""
    out_dir = Path(out_dir)
    summary = summary_of(solution)
    open_sites = pd.DataFrame({"site_id": problem.site_ids[solution.open_sites]})
    a = solution.assignments
    assignments = pd.DataFrame({"zone_id": problem.zone_ids[a["zone"].to_numpy(int)],
                                "site_id": problem.site_ids[a["site"].to_numpy(int)],
                                "share": a["share"].to_numpy(float).round(9)})
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(open_sites, out_dir / "open_sites.csv")
    write_csv(assignments, out_dir / "assignments.csv")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
