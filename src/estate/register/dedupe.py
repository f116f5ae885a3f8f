"""Find the sites several partners hold records of, and keep each site once.

The rule
--------
Two records of **different partners** are the same site when

1. both carry the same UPRN; or
2. they lie within ``distance_m`` of each other **and** their names match:
   ``name_similarity >= threshold``, where the similarity (0-100) is the
   term-frequency-weighted share of the shorter name's words found in the
   other name. Words are weighted by inverse document frequency over the
   whole register, so town names and words such as "station" or "house" count
   for little and distinctive words count for a lot: "Delamere House" and
   "Crewe Jobcentre Plus, Delamere House" score 100, while "Ellesmere Port
   Fire Station" and "Ellesmere Port Police Station" score about 70.

Records with different UPRNs are never merged by rule 2. Matches chain: a
group of records linked by either rule becomes one site. The record kept
(the *lead*) is the freehold one if any, then the larger floor area, then the
partner listed first in the sources. The site takes the lead's figures (the
others' running costs are their own contributions, not the building's), the
union of partners, services and flags, and every merged record is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from estate.register import schema

_STOP_WORDS = frozenset({"the", "and", "of", "at", "in", "on", "for", "a", "to"})
_ABBREVIATIONS = {"hse": "house", "ctr": "centre", "cntr": "centre", "center": "centre",
                  "hq": "headquarters", "jcp": "jobcentre", "bldg": "building", "dept": "department"}
_TENURE_RANK = {"freehold": 0, "leasehold": 1, "licence": 2}


def name_tokens(name: str | None) -> frozenset[str]:
    """The set of normalised words of a site name (lower case, abbreviations expanded)."""
    if not name:
        return frozenset()
    words = re.findall(r"[a-z0-9]+", str(name).lower().replace("&", " and "))
    return frozenset(_ABBREVIATIONS.get(w, w) for w in words if w not in _STOP_WORDS)


def name_similarity(a: list[frozenset[str]], b: list[frozenset[str]],
                    weights: dict[str, float]) -> np.ndarray:
    """Weighted containment of the shorter name's words in the other's, 0-100.

    Parameters
    ----------
    a, b
        Token sets, compared pairwise (``a[i]`` with ``b[i]``).
    weights
        Word weights (inverse document frequency); unknown words weigh the most.
    """
    top = max(weights.values(), default=1.0)
    out = np.zeros(len(a))
    for i, (ta, tb) in enumerate(zip(a, b)):
        wa = sum(weights.get(t, top) for t in ta)
        wb = sum(weights.get(t, top) for t in tb)
        shorter = min(wa, wb)
        if shorter > 0:
            out[i] = 100.0 * sum(weights.get(t, top) for t in ta & tb) / shorter
    return out


def idf_weights(tokens: list[frozenset[str]]) -> dict[str, float]:
    """Inverse document frequency of each word over a list of names: ln(N/df) + 1."""
    counts = pd.Series([t for toks in tokens for t in toks]).value_counts()
    n = max(len(tokens), 1)
    return dict(zip(counts.index, np.log(n / counts.to_numpy()) + 1.0))


@dataclass
class Deduplicated:
    """Result of :func:`deduplicate`.

    ``assets`` has one row per site; ``merges`` follows ``schema.MERGE_COLUMNS``;
    ``kept_id`` maps every input ``asset_id`` to the id of the site it became.
    """

    assets: pd.DataFrame
    merges: pd.DataFrame
    kept_id: pd.Series


def _pairs_same_uprn(frame: pd.DataFrame) -> np.ndarray:
    has = frame["uprn"].notna()
    sub = frame.loc[has, ["uprn", "partner"]].reset_index()
    first = sub.groupby("uprn")["index"].transform("first")
    other = sub["index"] != first
    pairs = np.column_stack([first[other].to_numpy(), sub.loc[other, "index"].to_numpy()])
    partner = frame["partner"].to_numpy()
    return pairs[partner[pairs[:, 0]] != partner[pairs[:, 1]]] if len(pairs) else pairs.reshape(0, 2)


def deduplicate(frame: pd.DataFrame, distance_m: float, threshold: float,
                partner_order: list[str]) -> Deduplicated:
    """Merge records of the same site held by different partners.

    Parameters
    ----------
    frame
        Valid asset rows with ``asset_id``, ``partner``, ``name``, ``uprn``,
        ``easting_m``, ``northing_m``, ``tenure``, ``gia_m2``, flags and ``services``.
    distance_m
        Rule 2's distance (metres).
    threshold
        Rule 2's minimum name similarity (0-100).
    partner_order
        Partner codes in source order, the last tie-break for the lead record.

    Returns
    -------
    Deduplicated
    """
    frame = frame.reset_index(drop=True)
    n = len(frame)
    tokens = [name_tokens(v) for v in frame["name"]]
    weights = idf_weights(tokens)
    xy = frame[["easting_m", "northing_m"]].to_numpy(float)

    near = cKDTree(xy).query_pairs(distance_m, output_type="ndarray") if n else np.empty((0, 2), int)
    partner = frame["partner"].to_numpy()
    uprn, has_uprn = frame["uprn"].to_numpy(object), frame["uprn"].notna().to_numpy()
    near = near[partner[near[:, 0]] != partner[near[:, 1]]]
    i, j = near[:, 0], near[:, 1]
    near = near[~(has_uprn[i] & has_uprn[j] & (uprn[i] != uprn[j]))]
    sim = name_similarity([tokens[i] for i in near[:, 0]], [tokens[j] for j in near[:, 1]], weights)
    by_name = near[sim >= threshold]
    edges = np.vstack([_pairs_same_uprn(frame), by_name]).astype(int)

    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, group = connected_components(graph, directed=False)
    frame["_group"] = group
    frame["_rank_tenure"] = frame["tenure"].map(_TENURE_RANK).fillna(3)
    frame["_rank_partner"] = frame["partner"].map({p: i for i, p in enumerate(partner_order)})
    order = frame.sort_values(["_group", "_rank_tenure", "gia_m2", "_rank_partner", "asset_id"],
                              ascending=[True, True, False, True, True])
    leads = order.drop_duplicates("_group")
    frame["_lead"] = frame["_group"].map(pd.Series(leads.index, index=leads["_group"]))
    kept_id = pd.Series(frame["_group"].map(leads.set_index("_group")["asset_id"]).to_numpy(),
                        index=frame["asset_id"].to_numpy())

    merged = frame[frame.index != frame["_lead"]]
    lead = frame.loc[merged["_lead"].to_numpy()]
    dist = np.hypot(merged["easting_m"].to_numpy() - lead["easting_m"].to_numpy(),
                    merged["northing_m"].to_numpy() - lead["northing_m"].to_numpy())
    same_uprn = merged["uprn"].notna().to_numpy() & (merged["uprn"].to_numpy() == lead["uprn"].to_numpy())
    merges = pd.DataFrame({
        "asset_id": lead["asset_id"].to_numpy(),
        "merged_id": merged["asset_id"].to_numpy(),
        "partner": lead["partner"].to_numpy(),
        "merged_partner": merged["partner"].to_numpy(),
        "rule": np.where(same_uprn, "uprn", "near_name"),
        "distance_m": dist.round(1),
        "name_similarity": name_similarity([tokens[i] for i in merged.index],
                                           [tokens[i] for i in lead.index], weights).round(1),
    }).loc[:, list(schema.MERGE_COLUMNS)]

    kept = frame.loc[frame.index == frame["_lead"]].copy()
    kept["partners"] = kept["partner"]
    kept["merged_from"] = None
    if len(merged):
        # Only sites with merged records need combining; every other site is its own record.
        shared = frame[frame["_lead"].isin(merged["_lead"])]
        groups = shared.groupby("_lead")
        lead_partner = kept.loc[groups.size().index, "partner"]
        others = merged.groupby("_lead")["partner"].agg(lambda p: sorted(set(p)))
        kept.loc[lead_partner.index, "partners"] = [
            ";".join([lead] + [p for p in others[i] if p != lead]) for i, lead in lead_partner.items()]
        kept.loc[lead_partner.index, "merged_from"] = merged.groupby("_lead")["asset_id"].agg(
            lambda ids: ";".join(sorted(ids)))
        for flag in ("listed", "statutory", "must_keep", "sensitive"):
            kept.loc[lead_partner.index, flag] = groups[flag].any()
        kept.loc[lead_partner.index, "services"] = groups["services"].agg(
            lambda s: ";".join(sorted({c for v in s.dropna() for c in str(v).split(";") if c})) or None)
        kept.loc[lead_partner.index, "uprn"] = kept.loc[lead_partner.index, "uprn"].fillna(
            groups["uprn"].first())
    kept = kept.drop(columns=["_group", "_rank_tenure", "_rank_partner", "_lead"])
    return Deduplicated(assets=kept.reset_index(drop=True), merges=merges, kept_id=kept_id)
