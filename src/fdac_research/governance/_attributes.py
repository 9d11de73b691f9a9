"""Agency attributes of adults, joined through the crosswalk's ``person_key``.

What "no linked record" means is chosen per attribute, from what being *absent* from that
agency's extract tells us:

========================  ====================  ===========  =====================================
research column           agency / column       aggregate    no linked record means
========================  ====================  ===========  =====================================
``substances``            substance_misuse      union        missing (unknown: the service only
                          / ``substances``                   sees people in treatment)
``domestic_abuse``        domestic_abuse        any          ``false`` (no domestic abuse
                          / ``domestic_abuse``               *recorded*: the extract is a register
                                                             of people the service knows)
``mental_health``         health                any          missing (health holds records of
                          / ``mental_health``                nearly everyone, so absence means
                                                             "not found", not "no condition")
``prior_proceedings``     local_authority       max          missing (the local authority holds
                          / ``prior_proceedings``            every parent in its proceedings, so
                                                             absence means "not found")
``convictions``           police / ``convictions``  max      ``0`` (no police record = no
                                                             convictions recorded)
``child_protection_plans`` local_authority      max          missing (as ``prior_proceedings``;
                          / ``child_protection_plans``       optional: the evaluation's negative
                                                             control)
========================  ====================  ===========  =====================================

Several linked records of one person (duplicates within an agency) are combined with the
aggregate: ``union`` of listed substances, ``any`` for flags (true if any record says true),
``max`` for counts (duplicates of one record must not be added up). When a sources folder has
no extract at all for an agency, its attribute is missing for everyone (absence from an
extract that was never supplied says nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research.dataset import Sources

__all__ = ["AttributeRule", "ATTRIBUTE_RULES", "agency_attributes", "attribute_provenance"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AttributeRule:
    """How one research column of ``adults`` is derived from an agency's records."""

    column: str
    agency: str
    source_column: str
    aggregate: str  # "union" | "any" | "max"
    when_absent: bool | int | None  # value for adults with no linked record; None = missing


ATTRIBUTE_RULES: tuple[AttributeRule, ...] = (
    AttributeRule("substances", "substance_misuse", "substances", "union", None),
    AttributeRule("domestic_abuse", "domestic_abuse", "domestic_abuse", "any", False),
    AttributeRule("mental_health", "health", "mental_health", "any", None),
    AttributeRule("prior_proceedings", "local_authority", "prior_proceedings", "max", None),
    AttributeRule("convictions", "police", "convictions", "max", 0),
    AttributeRule(
        "child_protection_plans", "local_authority", "child_protection_plans", "max", None
    ),
)

_ORDER = {s: i for i, s in enumerate(schema.SUBSTANCES)}


def _union(keys: pd.Series, values: pd.Series) -> pd.Series:
    """Per key, the ``;``-joined union of listed items in contract order (NaN if none)."""
    items = pd.DataFrame({"k": keys.to_numpy(), "v": values.str.split(";").to_numpy()})
    items = items.explode("v")
    items["v"] = items["v"].str.strip()
    items = items[items["v"].notna() & (items["v"] != "")].drop_duplicates()
    if items.empty:
        return pd.Series(dtype=object)
    items["o"] = items["v"].map(_ORDER).fillna(len(_ORDER))
    items = items.sort_values(["k", "o", "v"], kind="stable")
    return items.groupby("k", sort=False)["v"].agg(";".join)


def _one(rule: AttributeRule, linked: pd.DataFrame, adult_keys: pd.Series) -> pd.Series:
    """The research column for each adult (index aligned with ``adult_keys``)."""
    has_record = adult_keys.isin(linked["person_key"]).to_numpy()
    values = linked[rule.source_column]
    if rule.aggregate == "union":
        agg = _union(linked["person_key"], values.astype(object))
        out = pd.Series(adult_keys.map(agg).to_numpy(), dtype=object, index=adult_keys.index)
    else:
        num = pd.to_numeric(values.astype("Float64"), errors="coerce").astype(float)
        agg = num.groupby(linked["person_key"].to_numpy()).max()  # NaN only if all missing
        v = adult_keys.map(agg).to_numpy(dtype=float)
        if rule.when_absent is not None:
            v = np.where(has_record, v, float(rule.when_absent))
        if rule.aggregate == "any":
            flags = pd.Series(v == 1, index=adult_keys.index).astype("boolean")
            out = flags.mask(np.isnan(v))
        else:
            out = pd.Series(v, index=adult_keys.index).astype("Int64")
    return out


def agency_attributes(
    sources: Sources,
    crosswalk: pd.DataFrame,
    adult_keys: pd.Series,
    *,
    min_match_probability: float = 0.0,
) -> pd.DataFrame:
    """The agency columns of ``adults`` for each adult's ``person_key``.

    Parameters
    ----------
    sources : Sources
        Loaded sources (agency extracts).
    crosswalk : pandas.DataFrame
        The checked crosswalk.
    adult_keys : pandas.Series
        The ``person_key`` of each adult (the result has the same index).
    min_match_probability : float
        Agency records linked with a lower ``match_probability`` are ignored.
    """
    out = pd.DataFrame(index=adult_keys.index)
    for rule in ATTRIBUTE_RULES:
        frame = sources.agencies.get(rule.agency)
        if frame is None or rule.source_column not in frame.columns:
            log.warning(
                "no %s extract with column %r: %s is missing for every adult",
                rule.agency,
                rule.source_column,
                rule.column,
            )
            empty = pd.Series([None] * len(adult_keys), index=adult_keys.index, dtype=object)
            if rule.aggregate != "union":
                empty = empty.astype("boolean" if rule.aggregate == "any" else "Int64")
            out[rule.column] = empty
            continue
        cw = crosswalk[
            (crosswalk["source"] == rule.agency)
            & (crosswalk["match_probability"] >= min_match_probability)
        ]
        linked = cw[["record_id", "person_key"]].merge(
            frame[["record_id", rule.source_column]], on="record_id", how="inner"
        )
        linked = linked[linked["person_key"].isin(adult_keys)]
        out[rule.column] = _one(rule, linked, adult_keys)
    return out


def attribute_provenance(sources: Sources) -> dict[str, str]:
    """Where each agency-derived research column came from, or why it is missing for
    everyone (recorded in the research manifest and shown by the reports)."""
    out = {}
    for rule in ATTRIBUTE_RULES:
        frame = sources.agencies.get(rule.agency)
        if frame is None:
            out[rule.column] = (
                f"not supplied: the sources have no agencies/{rule.agency} extract, so "
                f"{rule.column} is missing for every adult"
            )
        elif rule.source_column not in frame.columns:
            out[rule.column] = (
                f"not supplied: agencies/{rule.agency} has no column '{rule.source_column}', "
                f"so {rule.column} is missing for every adult"
            )
        else:
            out[rule.column] = f"from agencies/{rule.agency}, column '{rule.source_column}'"
    return out
