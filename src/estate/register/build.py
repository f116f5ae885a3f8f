"""Build the joint register from every partner's file, and save it.

``build_register`` runs ingest → parse → validate → geocode for each partner,
then de-duplicates shared sites across partners and attaches the occupiers.
Every source row ends up in exactly one place: an asset, a merge into
another partner's record of the same site, or the rejects table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from scipy.spatial import cKDTree

from estate._errors import SourceError, SourceErrors
from estate._io import write_csv
from estate.register import schema
from estate.register.dedupe import deduplicate
from estate.register.geocode import StudyArea, load_lookups, locate
from estate.register.ingest import LINE_ACCOUNT, parse_table, read_table
from estate.register.sources import PartnerSource, Sources
from estate.register.validate import Context, IssueLog, check_assets, check_occupiers, reject_where

LAYERS = ("assets", "occupiers", "rejects", "warnings", "merges", "files")

#: Columns of the ``files`` table: every file read and the account of its lines
#: (``lines = header + blank + records + continuation``, see :data:`estate.register.ingest.LINE_ACCOUNT`).
FILE_COLUMNS = ("partner", "table", "file", "format", "lines", "header", "blank", "records", "continuation")


@dataclass
class Register:
    """The joint register: the tables of ``schema`` plus per-partner counts.

    ``counts`` has one row per partner: ``asset_rows`` read, ``asset_rows_rejected``,
    ``merged`` (records folded into another partner's), ``occupier_rows``,
    ``occupier_rows_rejected`` and ``warnings``. ``files`` has one row per file
    read (:data:`FILE_COLUMNS`).
    """

    assets: gpd.GeoDataFrame
    occupiers: pd.DataFrame
    rejects: pd.DataFrame
    warnings: pd.DataFrame
    merges: pd.DataFrame
    counts: pd.DataFrame
    files: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(FILE_COLUMNS)))


def _display(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _file_row(p: PartnerSource, table: str, source, raw, name: str) -> dict:
    return {"partner": p.code, "table": table, "file": name, "format": source.format,
            **{k: int(raw.lines.get(k, 0)) for k in LINE_ACCOUNT}}


def _partner_assets(p: PartnerSource, sources: Sources, lookups, log: IssueLog, files: list[dict],
                    study_area: StudyArea | None) -> tuple[pd.DataFrame, pd.Series]:
    """Valid, placed asset rows of one partner, and the ids of every row read."""
    ctx = Context(p.code, "assets", _display(p.assets.file, sources.path.parent), p.assets.columns)
    raw = read_table(p.assets, log, ctx)
    files.append(_file_row(p, "assets", p.assets, raw, ctx.file))
    parsed = parse_table(raw, p.assets, log, ctx, schema.ASSET_FIELDS, schema.ASSET_REQUIRED)
    check_assets(parsed, log, ctx)
    placed = locate(parsed, p.assets.location, raw.crs, lookups, sources.settings, log, ctx, study_area)
    placed = placed.drop(columns=[c for c in ("_x", "_y", "_geometry") if c in placed.columns])
    placed["partner"] = p.code
    placed["asset_id"] = p.code + "-" + placed["source_id"].astype(str)
    placed["source_file"] = ctx.file
    placed["source_row"] = placed["_row"]
    ok = ~placed["_row"].isin(log.rejected_rows(p.code, "assets"))
    return placed.loc[ok], placed["asset_id"]


def _partner_occupiers(p: PartnerSource, sources: Sources, log: IssueLog, files: list[dict],
                       valid_ids: set[str], all_ids: set[str]) -> tuple[pd.DataFrame, int]:
    """Valid occupier rows of one partner (pointing at its own asset ids), and rows read."""
    src = p.occupiers
    ctx = Context(p.code, "occupiers", _display(src.file, sources.path.parent), src.columns)
    raw = read_table(src, log, ctx)
    files.append(_file_row(p, "occupiers", src, raw, ctx.file))
    occ = parse_table(raw, src, log, ctx, schema.OCCUPIER_FIELDS, schema.OCCUPIER_REQUIRED)
    check_occupiers(occ, log, ctx)
    site = p.code + "-" + occ["source_id"].astype(str)
    known = occ["source_id"].notna()
    # Membership in a set of Python strings: object dtype hashes them in C (pandas' Arrow strings
    # convert every member to a scalar first, 20× slower at 100,000 ids).
    read, valid = site.astype(object).isin(all_ids), site.astype(object).isin(valid_ids)
    reject_where(log, ctx, occ, known & read & ~valid, "source_id", "its site was rejected (see the assets rejects)")
    reject_where(log, ctx, occ, known & ~read, "source_id",
                 f"no asset with this id in {_display(p.assets.file, sources.path.parent)}")
    occ["asset_id"] = site
    occ["partner"] = p.code
    occ["occupier_id"] = p.code + "-" + Path(src.file).stem + "-" + occ["_row"].astype(str)
    occ["source_file"] = ctx.file
    occ["source_row"] = occ["_row"]
    ok = ~occ["_row"].isin(log.rejected_rows(p.code, "occupiers"))
    return occ.loc[ok], len(occ)


def sensitive_neighbours(assets: pd.DataFrame, sensitive: pd.Series, distance_m: float
                         ) -> tuple[pd.Series, pd.Series]:
    """Records within ``distance_m`` (the shared-site radius) of a sensitive site, and why.

    Another partner's record of the same building under another name or UPRN is not merged with it,
    and would be shared at the sensitive site's exact place; so every such neighbour is treated as
    sensitive too, with a warning naming the site, for the estates team to check.
    """
    near = pd.Series(False, index=assets.index)
    reason = pd.Series("", index=assets.index, dtype=object)
    hidden = np.flatnonzero(sensitive.to_numpy())
    if not len(hidden) or distance_m <= 0:
        return near, reason
    xy = assets[["easting_m", "northing_m"]].to_numpy(float)
    tree = cKDTree(xy[hidden])
    d, k = tree.query(xy, distance_upper_bound=distance_m)
    hit = np.isfinite(d) & ~sensitive.to_numpy()
    near[hit] = True
    ids = assets["asset_id"].to_numpy()[hidden]
    reason[hit] = [f"it lies {dist:.0f} m from the sensitive site {ids[j]}, and may be another record of the same "
                   "building (if it is not, its own partner can say so by moving it to its true place)"
                   for dist, j in zip(d[hit], k[hit])]
    return near, reason


def mark_sensitive(assets: pd.DataFrame, asset_types: tuple[str, ...], services: tuple[str, ...]
                   ) -> tuple[pd.Series, pd.Series]:
    """Which assets are sensitive: flagged, of a sensitive type, or delivering (or housing a team of)
    a sensitive service. Returns the mask and, for the ones the flag missed, the reason."""
    flagged = assets["sensitive"].fillna(False).astype(bool)
    by_type = assets["asset_type"].isin(asset_types)
    codes = assets["services"].fillna("").astype(str).str.split(";")
    by_service = codes.map(lambda c: bool(set(c) & set(services))).astype(bool)
    reason = pd.Series("", index=assets.index, dtype=object)
    reason[by_service] = "it delivers or houses a sensitive service (" + codes[by_service].map(
        lambda c: ", ".join(sorted(set(c) & set(services)))) + ")"
    reason[by_type] = "its asset type (" + assets.loc[by_type, "asset_type"].astype(str) + ") is sensitive"
    sensitive = flagged | by_type | by_service
    return sensitive, reason.where(sensitive & ~flagged, "")


def _areas(assets: gpd.GeoDataFrame, path: Path, column: str) -> pd.Series:
    """Code of the polygon of ``path`` each asset lies in (None outside all)."""
    try:
        areas = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio's DataSourceError and friends
        raise SourceError(path, f"cannot read the areas layer: {exc}") from None
    if column not in areas.columns:
        raise SourceError(path, "the areas layer has no such column (see register.areas_code_column)", column=column)
    if areas.crs is None:
        raise SourceError(path, "the areas layer has no coordinate reference system", column="geometry")
    joined = gpd.sjoin(assets[["geometry"]], areas[[column, "geometry"]].to_crs(schema.BNG),
                       how="left", predicate="within")
    return joined[~joined.index.duplicated()][column].astype(object).where(lambda s: s.notna(), None)


def build_register(sources: Sources, progress: Callable[[str], None] | None = None, *,
                   study_area: StudyArea | None = None,
                   sensitive_asset_types: tuple[str, ...] = schema.SENSITIVE_ASSET_TYPES,
                   sensitive_services: tuple[str, ...] = schema.SENSITIVE_SERVICES) -> Register:
    """Build the joint register from the partners' own files.

    Parameters
    ----------
    sources
        Partner descriptions (see :func:`estate.register.sources.load_sources`).
    progress
        Called with a short message as each partner is read.
    study_area
        When given, assets outside it are rejected with their distance.
    sensitive_asset_types, sensitive_services
        Assets of these types, or delivering (or housing teams of) these
        services, are marked sensitive whatever their flag says.

    Returns
    -------
    Register

    Raises
    ------
    SourceErrors
        Files that cannot be used at all (missing, unreadable, wrong sheet,
        missing column). They are all collected before raising.
    """
    say = progress or (lambda _msg: None)
    log = IssueLog()
    errors: list[SourceError] = []
    try:
        lookups = load_lookups(sources.settings)
    except SourceError as exc:
        raise SourceErrors([exc]) from None

    parts, rows_read, all_ids, files = [], {}, set(), []
    for p in sources.partners:
        say(f"reading {p.code} assets from {p.assets.file.name}")
        try:
            frame, ids = _partner_assets(p, sources, lookups, log, files, study_area)
        except SourceError as exc:
            errors.append(exc)
            continue
        parts.append(frame)
        rows_read[p.code] = len(ids)
        all_ids |= set(ids.dropna())
    if errors:
        raise SourceErrors(errors)

    valid = pd.concat(parts, ignore_index=True)
    say(f"de-duplicating {len(valid):,} records")
    dedup = deduplicate(valid, sources.settings.dedupe_distance_m, sources.settings.dedupe_name_similarity,
                        [p.code for p in sources.partners])
    assets = dedup.assets

    occ_parts, occ_read = [], {}
    valid_ids = set(dedup.kept_id.index)
    for p in sources.partners:
        if p.occupiers is None:
            continue
        say(f"reading {p.code} occupiers from {p.occupiers.file.name}")
        try:
            frame, occ_read[p.code] = _partner_occupiers(p, sources, log, files, valid_ids, all_ids)
        except SourceError as exc:
            errors.append(exc)
            continue
        occ_parts.append(frame)
    if errors:
        raise SourceErrors(errors)

    occupiers = (pd.concat(occ_parts, ignore_index=True) if occ_parts
                 else pd.DataFrame(columns=list(schema.OCCUPIER_COLUMNS)))
    occupiers["asset_id"] = occupiers["asset_id"].map(dedup.kept_id)
    occupiers["confidential"] = False  # set below, once the sites' sensitivity is known
    occupiers = occupiers.loc[:, list(schema.OCCUPIER_COLUMNS)].reset_index(drop=True)

    served = occupiers.groupby("asset_id")["service"].agg(lambda s: set(s.dropna()))
    listed = assets["services"].map(lambda v: set(str(v).split(";")) if isinstance(v, str) else set())
    joined = [lst | served.get(a, set()) for a, lst in zip(assets["asset_id"], listed)]
    assets["services"] = [";".join(sorted(s)) if s else None for s in joined]
    sensitive, why = mark_sensitive(assets, sensitive_asset_types, sensitive_services)
    near, near_why = sensitive_neighbours(assets, sensitive, sources.settings.dedupe_distance_m)
    sensitive, why = sensitive | near, why.where(~near, near_why)
    assets["sensitive"] = sensitive.to_numpy()
    occupiers["confidential"] = occupiers["asset_id"].isin(set(assets.loc[sensitive.to_numpy(), "asset_id"]))
    made = why != ""
    if made.any():
        lead = assets.loc[made]
        for partner, group in lead.groupby("partner"):
            log.add("warning", partner=partner, table="assets", file=str(group["source_file"].iloc[0]),
                    rows=group["source_row"].to_numpy(), column="(sensitive flag)", field_name="sensitive",
                    values=group["asset_type"].astype(str).to_numpy(),
                    reason=("treated as sensitive: " + why[group.index]
                            + ", though the register does not flag it").to_numpy())

    geo = gpd.GeoDataFrame(assets, geometry=gpd.points_from_xy(assets["easting_m"], assets["northing_m"]),
                           crs=schema.BNG)
    if sources.settings.areas is not None:
        try:
            geo["authority"] = _areas(geo, sources.settings.areas, sources.settings.areas_code_column)
        except SourceError as exc:
            raise SourceErrors([exc]) from None
    if "running_cost_estimated" not in geo:
        geo["running_cost_estimated"] = False
    geo["running_cost_estimated"] = geo["running_cost_estimated"].fillna(False).astype(bool)
    geo = geo.loc[:, list(schema.ASSET_COLUMNS)]
    geo = geo.sort_values("asset_id", kind="stable").reset_index(drop=True)

    rejects, warnings = log.frame("reject"), log.frame("warning")
    # Warnings are for rows that were kept; a rejected row's reasons are in rejects.
    rejected_keys = set(zip(rejects["partner"], rejects["table"], rejects["row"]))
    kept_rows = [k not in rejected_keys for k in zip(warnings["partner"], warnings["table"], warnings["row"])]
    warnings = warnings.loc[kept_rows].reset_index(drop=True)
    counts = pd.DataFrame({"partner": [p.code for p in sources.partners]}).set_index("partner")
    counts["asset_rows"] = pd.Series(rows_read)
    counts["asset_rows_rejected"] = rejects[rejects["table"] == "assets"].groupby("partner")["row"].nunique()
    counts["merged"] = dedup.merges.groupby("merged_partner").size()
    counts["occupier_rows"] = pd.Series(occ_read, dtype="float64")
    counts["occupier_rows_rejected"] = (
        rejects[rejects["table"] == "occupiers"].groupby("partner")["row"].nunique())
    counts["warnings"] = warnings.groupby("partner").size()
    counts = counts.fillna(0).astype("int64")
    return Register(assets=geo, occupiers=occupiers, rejects=rejects, warnings=warnings,
                    merges=dedup.merges, counts=counts,
                    files=pd.DataFrame(files, columns=list(FILE_COLUMNS)))


def write_register_files(register: Register, folder: str | Path) -> Path:
    """Write ``register.gpkg`` (layers assets, occupiers, rejects, warnings, merges, files) and the
    rejects, warnings and merges as CSV into ``folder``; returns the GeoPackage's path.

    These are restricted files: they hold sensitive sites at their true location
    and rejected rows' raw values. Callers write them into a run folder's
    ``restricted/`` (see :class:`estate._io.OutputFolder`).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    gpkg = folder / "register.gpkg"
    tables = {"rejects": register.rejects, "warnings": register.warnings, "merges": register.merges}
    pyogrio.write_dataframe(register.assets, gpkg, layer="assets", driver="GPKG")
    for name, frame in {"occupiers": register.occupiers, **tables, "files": register.files}.items():
        pyogrio.write_dataframe(frame, gpkg, layer=name, driver="GPKG")
    for name, frame in tables.items():
        write_csv(frame, folder / f"{name}.csv")
    return gpkg


def read_register(path: str | Path) -> Register:
    """Read a ``register.gpkg`` written by :func:`write_register_files`, given the file or a run
    folder holding ``restricted/register.gpkg``."""
    path = Path(path)
    if path.is_dir():
        path = path / "restricted" / "register.gpkg"
    if not path.exists():
        raise SourceError(path, "no register here; run `estate register` first")
    try:
        present = {name for name, _ in pyogrio.list_layers(path)}
        layers = {name: pyogrio.read_dataframe(path, layer=name) for name in LAYERS if name in present}
    except Exception as exc:  # pyogrio's DataSourceError and friends
        raise SourceError(path, f"cannot read the register ({type(exc).__name__}); is it a register.gpkg "
                          "estate wrote?") from None
    if "assets" not in layers:
        raise SourceError(path, "has no 'assets' layer; is it a register.gpkg estate wrote?")
    tables = {k: pd.DataFrame(v) for k, v in layers.items() if k != "assets"}
    return Register(assets=layers["assets"], counts=pd.DataFrame(), **tables)


def quality_summary(register: Register) -> pd.DataFrame:
    """Per-partner data-quality summary, with a total row.

    Columns: ``assets`` (sites the partner leads), ``gia_m2``, ``running_cost_gbp``,
    ``market_value_gbp``, ``rows``, ``rejected``, ``merged``, ``warnings``.
    """
    a = register.assets
    by = a.groupby("partner").agg(assets=("asset_id", "size"), gia_m2=("gia_m2", "sum"),
                                  running_cost_gbp=("running_cost_gbp", "sum"),
                                  market_value_gbp=("market_value_gbp", "sum"))
    c = register.counts
    table = pd.DataFrame(index=c.index).join(by).fillna(0)
    table["rows"] = c["asset_rows"]
    table["rejected"] = c["asset_rows_rejected"]
    table["merged"] = c["merged"]
    table["warnings"] = c["warnings"]
    table.loc["TOTAL"] = table.sum()
    return table


def authority_summary(register: Register) -> pd.DataFrame:
    """Per local authority: assets, running cost, and generic offices' share of floor area."""
    a = register.assets.assign(authority=register.assets["authority"].fillna("(unknown)"))
    office_m2 = a["gia_m2"].where(a["asset_type"] == "office", 0.0)
    table = a.assign(office_m2=office_m2).groupby("authority").agg(
        assets=("asset_id", "size"), running_cost_gbp=("running_cost_gbp", "sum"),
        market_value_gbp=("market_value_gbp", "sum"), gia_m2=("gia_m2", "sum"),
        offices=("asset_type", lambda s: int((s == "office").sum())), office_m2=("office_m2", "sum"))
    table["office_share_of_gia"] = np.where(table["gia_m2"] > 0, table["office_m2"] / table["gia_m2"], 0.0)
    return table.drop(columns="office_m2")
