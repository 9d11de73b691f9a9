"""Family-level opt-outs: which cases an objection removes, and how removals are reported.

Rules (privacy notices promise that an objection is honoured for the whole family):

* An objection names a person (adult or child) or a case. A case objection makes every person
  named in the case an objector; a person objection makes that person one.
* Every case in which an objector appears is affected: the case the objection was made in and
  any other case in which the same person appears (court persons are matched across cases
  through the crosswalk's ``person_key``). The whole case goes: every adult and every child.
* ``all_research`` removes the affected cases from the research dataset before anything is
  derived; ``external_sharing`` keeps them in the research dataset but removes them from the
  extracts of every external recipient. A case affected by both is simply removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "OptOutResolution",
    "resolve_objections",
    "drop_objectors",
    "objecting_court_people",
    "disclosed_count",
]


@dataclass(frozen=True)
class OptOutResolution:
    """Case references affected by objections (controller side: holds source references).

    Attributes
    ----------
    removed : numpy.ndarray of str
        Cases removed from the research dataset (``all_research``), sorted.
    external_only : numpy.ndarray of str
        Cases kept for internal research but withheld from external recipients, sorted.
    """

    removed: np.ndarray
    external_only: np.ndarray

    def __repr__(self) -> str:  # never show references
        return (
            f"OptOutResolution(removed={disclosed_count(len(self.removed))}, "
            f"external_only={disclosed_count(len(self.external_only))})"
        )


def disclosed_count(n: int, *, base: int = 5, threshold: int = 10) -> str:
    """A count safe to report: rounded to the nearest ``base``; ``"fewer than <threshold>"``
    when under ``threshold``.

    Examples
    --------
    >>> disclosed_count(3), disclosed_count(12), disclosed_count(13), disclosed_count(0)
    ('fewer than 10', '10', '15', 'fewer than 10')
    """
    if n < threshold:
        return f"fewer than {threshold}"
    return str(int(base * np.floor(n / base + 0.5)))


def _affected_cases(
    objections: pd.DataFrame, people: pd.DataFrame, key_of: pd.Series
) -> np.ndarray:
    """Cases holding any objector (one step through ``person_key``)."""
    named_cases = objections["case_ref"].dropna().unique()
    named_people = objections["person_ref"].dropna().unique()
    objectors = people["person_ref"].isin(named_people) | people["case_ref"].isin(named_cases)
    keys = key_of.reindex(people.loc[objectors, "person_ref"]).dropna().unique()
    holds = people["person_key"].isin(keys) | objectors
    return np.sort(people.loc[holds, "case_ref"].unique().astype(str))


def resolve_objections(
    opt_outs: pd.DataFrame, court_people: pd.DataFrame, key_of: pd.Series | None = None
) -> OptOutResolution:
    """Turn an opt-out register into sets of affected cases (see the module docstring).

    Parameters
    ----------
    opt_outs : pandas.DataFrame
        The validated register (``person_ref``, ``case_ref``, ``scope``).
    court_people : pandas.DataFrame
        ``case_ref`` and ``person_ref`` of every court person.
    key_of : pandas.Series, optional
        ``person_ref`` → ``person_key`` (the crosswalk's person across cases); without it
        each court person is only themself.
    """
    people = court_people[["case_ref", "person_ref"]].copy()
    if key_of is None:
        key_of = pd.Series(people["person_ref"].to_numpy(), index=people["person_ref"].to_numpy())
    people["person_key"] = key_of.reindex(people["person_ref"]).to_numpy()
    opt = opt_outs
    removed = _affected_cases(opt[opt["scope"] == "all_research"], people, key_of)
    external = _affected_cases(opt[opt["scope"] == "external_sharing"], people, key_of)
    external = np.setdiff1d(external, removed)
    return OptOutResolution(removed=removed, external_only=external)


def drop_objectors(cw: pd.DataFrame, objecting: set[str], reference: str = "court") -> pd.DataFrame:
    """A crosswalk without the objecting court people (``record_id`` in ``objecting``) and
    every record linked to them, for counts that must leave objecting families out."""
    if not objecting:
        return cw
    court = cw["source"] == reference
    gone = set(cw.loc[court & cw["record_id"].isin(objecting), "person_key"])
    return cw[~cw["person_key"].isin(gone)]


def objecting_court_people(opt_outs: pd.DataFrame, court_people: pd.DataFrame) -> set[str]:
    """``person_ref`` of every court person in a case removed by an ``all_research``
    objection (each court person only themself: no crosswalk yet)."""
    removed = resolve_objections(opt_outs, court_people).removed
    return set(court_people.loc[court_people["case_ref"].isin(removed), "person_ref"])
