"""Sensitive sites in shareable outputs: nothing places them within 1 km.

A sensitive site (a refuge, a confidential office; see
:func:`estate.register.build.mark_sensitive`) keeps its true location, name and
travel times only in the restricted files under ``restricted/``. Two rules of
the model keep the plan itself from pointing at them:

* a service that is not sensitive is delivered only by public sites and by teams
  not housed at a sensitive site today (:func:`estate.access.metrics.public_delivery`),
  so every access figure of it, and every rule the optimiser keeps for it, can be
  worked out from public data alone;
* a confidential team's move is costed at the move radius, not its distance, and
  teams of a sensitive service never move (:mod:`estate.plan`).

Every shareable output is then written through a :class:`Redaction`, which, per output:

* **suppresses** the site's location and identity: no geometry, a pseudonymous
  id (``withheld-01``), and no name, address, locality, postcode, UPRN, source
  reference, or an area code finer than a local authority's;
* **drops** its rows from the shareable travel-time table, so no one can
  trilaterate it from minutes to known zones;
* **aggregates** the team moves that start or end at it into one line per
  partner and financial year, with no geometry, destination or distance, and
  leaves those teams out of the receiving buildings' figures (so the destination
  cannot be read off a building whose FTE grew);
* **withholds** the zone-level figures of sensitive services, and **rounds**
  their aggregate access shares to a step of at least ten zones' worth of people
  (:func:`share_step`).

``docs/outputs.md`` lists every output with its class and the treatment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from estate.access.metrics import by_id


#: What replaces a sensitive site's name, and the stem of its pseudonymous id.
WITHHELD_NAME = "Sensitive site (withheld)"
WITHHELD_ID = "withheld-"
#: What stands for either end of a move with a sensitive end.
WITHHELD_END = "withheld"
#: Asset columns that identify or place a site; blanked for sensitive sites.
IDENTIFYING_COLUMNS = ("address", "locality", "postcode", "uprn", "source_file", "source_row", "merged_from")
#: The model statistics a shareable summary keeps: counts that do not depend on where any site is (the
#: numbers of team-building options, rows and columns count the buildings within reach of each team's
#: home, a confidential one's included, so they stay in ``restricted/run.json``).
SHARED_MODEL_KEYS = ("buildings_free", "buildings_forced_keep", "buildings_must_exit", "movable_teams")
#: Columns of a move a shareable table keeps (the others are the model's own, such as a team's source row).
SHARED_MOVE_COLUMNS = ("occupier_id", "team", "partner", "service", "fte", "need_m2", "from_asset_id",
                       "to_asset_id", "distance_km", "costed_km", "move_year", "financial_year", "in_horizon",
                       "relocation_gbp", "ict_gbp", "fit_out_gbp", "excess_travel_gbp", "optimism_bias_gbp",
                       "move_cost_gbp", "to_partner", "new_space_running_gbp_a_year", "occupancy_charge_gbp_a_year",
                       "geometry")
#: Cash-flow categories whose lines are one team's (folded per partner and year for a team from a withheld site).
MOVE_CATEGORIES = ("move_cost", "excess_travel", "new_space_running", "occupancy_charge")
#: Candidate rounding steps for aggregate shares touched by sensitive sites.
_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0)
#: A rounded share hides the zones only sensitive sites reach among at least this many zones' worth of
#: people (the default of the scenario's ``privacy.share_rounding_zones``).
ZONES_HIDDEN = 10


def share_step(population: np.ndarray, zones: int = ZONES_HIDDEN) -> float:
    """The rounding step of shares touched by sensitive sites: the smallest of 1%, 2%, 5%, … that
    is at least ``zones`` times the largest zone's share of the population."""
    population = np.asarray(population, float)
    total = population.sum()
    if total <= 0 or not len(population):
        return 1.0
    need = zones * population.max() / total
    return next((s for s in _STEPS if s >= need), 1.0)


def rounded(share: float | None, step: float) -> float | None:
    """``share`` rounded to the nearest multiple of ``step``."""
    if share is None or not np.isfinite(share):
        return share
    return round(float(np.round(share / step) * step), 6)


#: Area codes kept for a sensitive site: a local authority's (unitary, district, metropolitan, London
#: borough, Welsh or Scottish council area), never a finer area an ``areas`` layer may give.
_AUTHORITY_CODE = re.compile(r"^(E06|E07|E08|E09|W06|S12)\d{6}$")


@dataclass
class Redaction:
    """What shareable outputs withhold, built from the register's true assets and today's teams.

    ``pseudonym`` maps each sensitive asset id to its withheld id; ``teams``
    holds the occupier ids of the teams housed at sensitive sites today;
    ``services`` the codes of the scenario's sensitive services; ``step`` the
    rounding step of their access shares.
    """

    pseudonym: dict[str, str]
    teams: frozenset[str]
    services: frozenset[str] = frozenset()
    step: float = 0.01

    @classmethod
    def of(cls, assets: pd.DataFrame, occupiers: pd.DataFrame, population: np.ndarray | None = None,
           zones: int = ZONES_HIDDEN, services: Sequence = ()) -> Redaction:
        """The redaction of an estate: its sensitive assets (``sensitive`` true), their teams, and the
        sensitive ones of ``services``; shares are rounded to hide among ``zones`` zones' worth of
        ``population``."""
        sensitive = assets["sensitive"].fillna(False).astype(bool).to_numpy()
        ids = sorted(assets.loc[sensitive, "asset_id"].astype(str))
        width = max(2, len(str(len(ids))))
        pseudonym = {a: f"{WITHHELD_ID}{i:0{width}d}" for i, a in enumerate(ids, start=1)}
        teams = frozenset(occupiers.loc[occupiers["asset_id"].isin(pseudonym), "occupier_id"].astype(str))
        step = share_step(population, zones) if population is not None else 0.01
        return cls(pseudonym=pseudonym, teams=teams, services=frozenset(s.code for s in services if s.sensitive),
                   step=step)

    def __bool__(self) -> bool:
        return bool(self.pseudonym)

    # -- text ---------------------------------------------------------------
    def text(self, value: str) -> str:
        """Free text with every sensitive asset id replaced by its pseudonym."""
        if not self.pseudonym or not isinstance(value, str):
            return value
        pattern = _id_pattern(tuple(sorted(self.pseudonym, key=len, reverse=True)))
        return pattern.sub(lambda m: self.pseudonym[m.group(0)], value)

    def deep_text(self, value):
        """:meth:`text` applied to every string inside nested dicts and lists."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.deep_text(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.deep_text(v) for v in value]
        return value

    def ids_in(self, series: pd.Series) -> pd.Series:
        """Asset ids with sensitive ones replaced by their pseudonyms."""
        return series.map(lambda v: self.pseudonym.get(v, v) if isinstance(v, str) else v)

    # -- assets ---------------------------------------------------------------
    def assets(self, assets: gpd.GeoDataFrame, occupiers_after: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
        """A shareable copy of a register's or plan's assets.

        Sensitive rows keep their figures (floor area, costs, decision) but get a
        pseudonymous id, the withheld name, no geometry, no identifying columns,
        and no area code finer than a local authority's. No row keeps its
        ``source_row`` (the gaps would say where a withheld row sits in its
        partner's file). Given the plan's teams after, the other buildings' team
        figures (``teams_after``, ``fte_after``, ``need_m2_after``,
        ``partners_after``) and hub decisions leave out teams that came from
        sensitive sites. Adds ``location_note``.
        """
        out = assets.copy()
        if "source_row" in out:
            out["source_row"] = pd.Series([None] * len(out), index=out.index, dtype=object)
        secret = out["asset_id"].isin(self.pseudonym).to_numpy()
        out["location_note"] = np.where(secret, "location withheld (sensitive site)", "")
        if not secret.any():
            return out
        if occupiers_after is not None and "teams_after" in out:
            out = self._without_withheld_teams(out, occupiers_after)
        for column in IDENTIFYING_COLUMNS:
            if column in out:
                out[column] = out[column].astype(object)
                out.loc[secret, column] = None
        if "authority" in out:
            out["authority"] = out["authority"].astype(object)
            fine = secret & ~out["authority"].astype(str).str.match(_AUTHORITY_CODE).to_numpy(bool)
            out.loc[fine, "authority"] = None
        out.loc[secret, "name"] = WITHHELD_NAME
        out["asset_id"] = self.ids_in(out["asset_id"])
        geometry = out.geometry.to_numpy().copy()
        geometry[secret] = None
        return out.set_geometry(gpd.GeoSeries(geometry, index=out.index, crs=out.crs))

    def _without_withheld_teams(self, out: gpd.GeoDataFrame, after: pd.DataFrame) -> gpd.GeoDataFrame:
        moved_in = after[after["occupier_id"].astype(str).isin(self.teams) & ~after["asset_id"].isin(self.pseudonym)]
        if moved_in.empty:
            return out
        public = after[~after["occupier_id"].astype(str).isin(self.teams)]
        hosts = out["asset_id"].isin(moved_in["asset_id"]).to_numpy()
        ids = out.loc[hosts, "asset_id"]
        mine = public[public["asset_id"].isin(ids)]
        out.loc[hosts, "teams_after"] = ids.map(mine.groupby("asset_id").size()).fillna(0).astype(int).to_numpy()
        out.loc[hosts, "fte_after"] = ids.map(mine.groupby("asset_id")["fte"].sum()).fillna(0.0).to_numpy()
        if "need_m2_after" in out and "need_m2" in mine:
            out.loc[hosts, "need_m2_after"] = ids.map(mine.groupby("asset_id")["need_m2"].sum()).fillna(0.0).to_numpy()
        out["partners_after"] = out["partners_after"].astype(object)
        partners = ids.map(mine.groupby("asset_id")["partner"].agg(lambda p: ";".join(sorted(set(p))))).fillna("")
        out.loc[hosts, "partners_after"] = partners.to_numpy()
        if "decision" in out:
            kept = hosts & (out["decision"] != "dispose").to_numpy()
            many = out["partners_after"].fillna("").str.split(";").map(lambda p: len([x for x in p if x]) >= 2)
            out.loc[kept, "decision"] = np.where(many[kept], "hub", "keep")
        return out

    # -- moves ----------------------------------------------------------------
    def moves(self, moves: pd.DataFrame) -> pd.DataFrame:
        """Moves with a sensitive end folded into one row per partner and year (no geometry,
        destination or distance; FTE, floor area and costs summed); only the columns of
        :data:`SHARED_MOVE_COLUMNS` are kept."""
        moves = moves[[c for c in moves.columns if c in SHARED_MOVE_COLUMNS]]
        if moves.empty or not self.pseudonym:
            return moves
        ends = moves["from_asset_id"].isin(self.pseudonym) | moves["to_asset_id"].isin(self.pseudonym)
        if not ends.any():
            return moves
        hidden = pd.DataFrame(moves[ends.to_numpy()].drop(columns="geometry", errors="ignore"))
        keys = [c for c in ("partner", "move_year", "financial_year") if c in hidden]
        sums = [c for c in hidden.columns if c in ("fte", "need_m2") or c.endswith(("_gbp", "_gbp_a_year"))]
        same = [c for c in ("in_horizon", "costed_km") if c in hidden]  # the same for every move of one year
        folded = hidden.groupby(keys, sort=True).agg(**{c: (c, "sum") for c in sums},
                                                     **{c: (c, "first") for c in same},
                                                     teams=("occupier_id", "size")).reset_index()
        folded["occupier_id"] = WITHHELD_END
        folded["team"] = folded["teams"].map(lambda n: f"{n} team{'s' if n != 1 else ''} moving from or to "
                                             "withheld sites")
        folded["service"] = WITHHELD_END
        folded["from_asset_id"] = folded["to_asset_id"] = WITHHELD_END
        folded["distance_km"] = np.nan
        folded = folded.drop(columns="teams").reindex(columns=hidden.columns)
        shown = moves[~ends.to_numpy()]
        if isinstance(moves, gpd.GeoDataFrame):
            folded = gpd.GeoDataFrame(folded, geometry=gpd.GeoSeries([None] * len(folded), crs=moves.crs))
            return gpd.GeoDataFrame(pd.concat([shown, folded], ignore_index=True), geometry="geometry",
                                    crs=moves.crs)
        return pd.concat([shown, folded], ignore_index=True)

    def flows(self, flows: pd.DataFrame, reopened_by_withheld: set[str] = frozenset()) -> pd.DataFrame:
        """Cash-flow line items: sensitive disposals under their pseudonym and the withheld name;
        the lines of moves with a sensitive end, and the reopening of a building whose first team
        came from a withheld site (which would name where it went), folded into one line per year,
        partner and category."""
        if flows.empty or not self.pseudonym:
            return flows
        out = flows.copy()
        disposal = out["item_id"].isin(self.pseudonym)
        out.loc[disposal, "item"] = WITHHELD_NAME
        reopening = (out["category"] == "reopening_cost") & out["item_id"].astype(str).isin(reopened_by_withheld)
        out["item_id"] = self.ids_in(out["item_id"])
        move = (out["category"].isin(MOVE_CATEGORIES) & out["item_id"].astype(str).isin(self.teams)) | reopening
        if move.any():
            hidden = out[move]
            folded = hidden.groupby(["year", "financial_year", "partner", "category", "discount_factor"],
                                    sort=True).agg(gbp=("gbp", "sum"), pv_gbp=("pv_gbp", "sum"),
                                                   n=("item_id", "size")).reset_index()
            folded["item_id"] = WITHHELD_END
            folded["item"] = folded["n"].map(lambda n: f"{n} line{'s' if n != 1 else ''} of team moves from "
                                             "withheld sites")
            out = pd.concat([out[~move], folded.drop(columns="n")], ignore_index=True)
            order = {c: i for i, c in enumerate(dict.fromkeys(flows["category"]))}
            out = out.assign(_c=out["category"].map(order)).sort_values(
                ["year", "_c", "partner", "item_id"], kind="stable").drop(columns="_c").reset_index(drop=True)
        return out[list(flows.columns)]

    def disposals(self, disposals: pd.DataFrame) -> pd.DataFrame:
        """The programme's disposals, sensitive ones under their pseudonym and the withheld name."""
        if disposals.empty or not self.pseudonym:
            return disposals
        out = disposals.copy()
        secret = out["asset_id"].isin(self.pseudonym)
        if "name" in out:
            out.loc[secret, "name"] = WITHHELD_NAME
        out["asset_id"] = self.ids_in(out["asset_id"])
        return out

    def programme(self, prog):
        """A shareable copy of a costed :class:`~estate.finance.programme.Programme` (same totals)."""
        moves = self.moves(prog.moves)
        if not self.pseudonym:
            return replace(prog, moves=moves)
        if "from_asset_id" in moves:
            moves = moves.assign(from_asset_id=self.ids_in(moves["from_asset_id"]),
                                 to_asset_id=self.ids_in(moves["to_asset_id"]))
        reopened = prog.moves.get("reopens", pd.Series(False, index=prog.moves.index)).fillna(False).astype(bool)
        by_withheld = prog.moves.loc[reopened & prog.moves["occupier_id"].astype(str).isin(self.teams), "to_asset_id"]
        requests = prog.requests
        if len(requests):  # never housed in a sensitive site (hosts exclude them); withheld all the same if one were
            requests = requests.assign(housed_in=self.ids_in(requests["housed_in"]),
                                       reason=requests["reason"].map(self.text))
        return replace(prog, disposals=self.disposals(prog.disposals), moves=moves,
                       flows=self.flows(prog.flows, reopened_by_withheld=set(by_withheld.astype(str))),
                       notes=[self.text(n) for n in prog.notes], requests=requests)

    # -- access ---------------------------------------------------------------
    def access(self, access: pd.DataFrame) -> pd.DataFrame:
        """The travel-time table without the rows of sensitive sites."""
        if not self.pseudonym:
            return access
        sensitive = by_id(access["site_id"], lambda text: np.isin(text, list(self.pseudonym)), False)
        out = access[~sensitive.astype(bool)].reset_index(drop=True)
        if isinstance(out["site_id"].dtype, pd.CategoricalDtype):
            out["site_id"] = out["site_id"].cat.remove_unused_categories()
        return out

    def zone_service(self, zone_service: pd.DataFrame) -> pd.DataFrame:
        """Zone-level access figures without those of sensitive services (their only sites are sensitive)."""
        if zone_service.empty or not self.services:
            return zone_service
        return zone_service[~zone_service["service"].isin(self.services)].reset_index(drop=True)

    def zones(self, zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The zones layer without the columns of sensitive services."""
        drop = [c for c in zones.columns for code in self.services
                if c.startswith(f"{code}_before_") or c.startswith(f"{code}_after_")]
        return zones.drop(columns=drop)

    def summary_table(self, summary: pd.DataFrame) -> pd.DataFrame:
        """An access summary (one row per service) with sensitive services' shares rounded and their
        failing-zone counts withheld."""
        if not self.services or summary.empty:
            return summary
        out = summary.copy()
        hit = out["service"].isin(self.services)
        out["share_within"] = out["share_within"].astype(float)
        out.loc[hit, "share_within"] = [rounded(v, self.step) for v in out.loc[hit, "share_within"]]
        out["zones_failing"] = out["zones_failing"].astype(object)
        out.loc[hit, "zones_failing"] = None
        out["rounded_to"] = np.where(hit, self.step, np.nan)
        return out

    def plan_summary(self, summary: dict, standards: dict[str, float | None]) -> dict:
        """``plan_summary.json`` for sharing: ids replaced, the scenario file named without its folder,
        sensitive services' shares rounded (in the figures and in the rule and note texts that quote them)."""
        out = self.deep_text(summary)
        if out.get("scenario_file"):
            out["scenario_file"] = Path(out["scenario_file"]).name
        if isinstance(out.get("model"), dict):  # the model's size counts each team's reachable buildings
            out["model"] = {k: v for k, v in out["model"].items() if k in SHARED_MODEL_KEYS}
        access = out.get("access", {})
        names = {}
        for code in self.services & set(access):
            a = access[code]
            for key in ("share_before", "share_after"):
                a[key] = rounded(a.get(key), self.step)
            if standards.get(code) is None or abs(a.get("required_share", 0) - standards[code]) > 1e-9:
                a["required_share"] = rounded(a.get("required_share"), self.step)  # held at today's share
            a["rounded_to"] = self.step
            names[a.get("name", code)] = standards.get(code)
        if names:
            for key in ("rules", "notes"):
                out[key] = [_round_quoted(t, names, self.step) for t in out.get(key, [])]
        return out


def _round_quoted(text: str, names: dict[str, float | None], step: float) -> str:
    """Percentages quoted in a text about a touched service, rounded (the standard itself is left as it is)."""
    name = next((n for n in names if text.startswith(f"{n}:")), None)
    if name is None:
        return text
    standard = names[name]

    def one(m: re.Match) -> str:
        value = float(m.group(1)) / 100
        if standard is not None and abs(value - standard) < 1e-9:
            return m.group(0)
        return f"about {rounded(value, step):.0%}"
    return re.sub(r"(\d+(?:\.\d+)?)%", one, text)


_PATTERNS: dict[tuple[str, ...], re.Pattern] = {}


def _id_pattern(ids: tuple[str, ...]) -> re.Pattern:
    if ids not in _PATTERNS:
        _PATTERNS.clear()
        _PATTERNS[ids] = re.compile("|".join(rf"(?<![\w-]){re.escape(i)}(?![\w-])" for i in ids))
    return _PATTERNS[ids]
