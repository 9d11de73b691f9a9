"""People across cases in the research build: families of linked cases, and the recurrence
outcome (a later case of the same family) derived from the linked court records.

Court people are one person across cases when the crosswalk gives them one ``person_key``
(the linkage de-duplicates the court first). From that:

* **family**: cases joined by a shared person (a mother in two cases, and the father of
  either) form one family: the connected components of the case-person graph. The
  analysis clusters its intervals on it.
* **later case**: for a closed case with final hearing ``F``, the first case that names
  any of its people (parent, carer or child) with an application date after ``F``.
  ``years_to_later_case`` is the gap in years (365.25 days); a case that began before
  ``F`` (concurrent proceedings) is not a return.
* **follow-up** ends on ``follow_up_end`` (default: the latest application date among the
  court cases: a later case after it could not have been seen). ``follow_up_years`` is
  ``F`` to that day (0 if after it), empty while the case is open.
* ``returned_to_court_3y`` (given to each child of the case) is true when the later case
  began within three years of ``F``; false when none did and at least three years of
  follow-up have passed; empty otherwise (censored: the window has not ended).
* A later case removed by an objection is not used (nothing of an objecting family feeds a
  derivation): where the family's first later case is removed, the outcome, the gap and the
  follow-up of the earlier case are empty (unknown), and counted in the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["Recurrence", "derive_recurrence", "family_of_cases", "RECURRENCE_YEARS"]

#: The window of ``returned_to_court_3y``.
RECURRENCE_YEARS = 3.0
_YEAR = 365.25


@dataclass(frozen=True)
class Recurrence:
    """Per ``case_ref`` (index): ``years_to_later_case``, ``follow_up_years`` (floats, NaN
    where empty) and ``returned_3y`` (nullable boolean); plus counts for the manifest."""

    table: pd.DataFrame
    follow_up_end: str
    counts: dict[str, int]


def family_of_cases(people: pd.DataFrame) -> pd.Series:
    """Per ``case_ref``: its family, named by the family's smallest ``case_ref``.

    ``people`` holds ``case_ref`` and ``person_key`` (one row per person named in a case).

    Examples
    --------
    >>> people = pd.DataFrame({"case_ref": ["A", "A", "B", "C", "D"],
    ...                        "person_key": ["m", "f", "m", "f", "x"]})
    >>> family_of_cases(people).to_dict()
    {'A': 'A', 'B': 'A', 'C': 'A', 'D': 'D'}
    """
    cases, ci = np.unique(people["case_ref"].astype(str).to_numpy(), return_inverse=True)
    keys, ki = np.unique(people["person_key"].astype(str).to_numpy(), return_inverse=True)
    n = len(cases) + len(keys)
    graph = coo_matrix((np.ones(len(ci)), (ci, len(cases) + ki)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    lab = label[: len(cases)]
    # the smallest case of each component (cases are sorted, so the first seen)
    _, first = np.unique(lab, return_index=True)
    name_of = dict(zip(lab[first], cases[first], strict=True))
    return pd.Series([name_of[x] for x in lab], index=pd.Index(cases, name="case_ref"))


def _next_case(
    people: pd.DataFrame, app: pd.Series, final: pd.Series, allowed: pd.Series
) -> pd.Series:
    """Per closed case: the earliest application date after its final hearing among the
    ``allowed`` cases sharing a person with it (NaT where none)."""
    p = people[["case_ref", "person_key"]].drop_duplicates()
    pairs = p.merge(p, on="person_key", suffixes=("", "_other"))
    pairs = pairs[pairs["case_ref"] != pairs["case_ref_other"]]
    pairs = pairs[pairs["case_ref_other"].map(allowed).fillna(False).astype(bool)]
    after = pairs["case_ref_other"].map(app).to_numpy() > pairs["case_ref"].map(final).to_numpy()
    pairs = pairs[after].assign(other_app=pairs["case_ref_other"].map(app)[after])
    return pairs.groupby("case_ref")["other_app"].min()


def derive_recurrence(
    cases: pd.DataFrame,
    people: pd.DataFrame,
    kept: np.ndarray,
    follow_up_end: str | None = None,
) -> Recurrence:
    """The later case, follow-up and three-year recurrence of every case (module docstring).

    Parameters
    ----------
    cases : DataFrame
        Every court case: ``case_ref``, ``application_date``, ``final_hearing_date``
        (datetimes; NaT while open).
    people : DataFrame
        Every court person: ``case_ref``, ``person_key`` (the crosswalk's person).
    kept : array of str
        Cases in the research dataset (the rest were removed by objections).
    follow_up_end : str, optional
        ISO date follow-up ends; default the latest application date.

    Examples
    --------
    Hand-worked: the mother ``m`` of case A (final hearing 2016-01-01) is named again in
    case B, issued 366 days later (1.002 years). Follow-up ends on the latest application,
    2021-06-01: 1978 days after A's final hearing (5.415 years) and 517 days (1.415 years,
    under three, so censored) after C's.

    >>> cases = pd.DataFrame({"case_ref": ["A", "B", "C", "D"],
    ...     "application_date": pd.to_datetime(
    ...         ["2015-06-01", "2017-01-01", "2019-06-01", "2021-06-01"]),
    ...     "final_hearing_date": pd.to_datetime(["2016-01-01", None, "2020-01-01", None])})
    >>> people = pd.DataFrame({"case_ref": ["A", "B", "C", "D"],
    ...                        "person_key": ["m", "m", "x", "y"]})
    >>> r = derive_recurrence(cases, people, np.array(["A", "B", "C", "D"]))
    >>> r.table.round(3).to_dict("index")["A"]
    {'years_to_later_case': 1.002, 'follow_up_years': 5.415, 'returned_3y': True}
    >>> r.table.loc["C", "returned_3y"] is pd.NA, round(float(r.table.loc["C", "follow_up_years"]), 3)
    (True, 1.415)
    >>> r.follow_up_end
    '2021-06-01'
    """
    c = cases.set_index(cases["case_ref"].astype(str))
    app = pd.to_datetime(c["application_date"])
    final = pd.to_datetime(c["final_hearing_date"])
    end = app.max() if follow_up_end is None else pd.Timestamp(follow_up_end)
    if pd.isna(end):
        raise ValueError("no application date to end follow-up on: give follow_up_end")
    kept_s = pd.Series(c.index.isin(set(kept.astype(str))), index=c.index)
    everyone = pd.Series(True, index=c.index)
    nxt_kept = _next_case(people, app, final, kept_s).reindex(c.index)
    nxt_all = _next_case(people, app, final, everyone).reindex(c.index)
    seen = nxt_kept.notna() & (nxt_kept <= end)
    years = ((nxt_kept - final).dt.days / _YEAR).where(seen)
    follow = ((end - final).dt.days.clip(lower=0) / _YEAR).where(final.notna())
    # the family's first later case was removed by an objection: unknown
    hidden = nxt_all.notna() & (nxt_all <= end) & (nxt_kept.isna() | (nxt_all < nxt_kept))
    hidden &= final.notna()
    returned = pd.Series(pd.NA, index=c.index, dtype="boolean")
    closed = final.notna()
    returned[closed & seen & (years <= RECURRENCE_YEARS)] = True
    no_return = closed & ~(seen & (years <= RECURRENCE_YEARS)) & (follow >= RECURRENCE_YEARS)
    returned[no_return] = False
    returned[hidden] = pd.NA
    years[hidden] = np.nan
    follow[hidden] = np.nan
    table = pd.DataFrame(
        {
            "years_to_later_case": years.astype(float),
            "follow_up_years": follow.astype(float),
            "returned_3y": returned,
        }
    )
    in_kept = kept_s
    counts: dict[str, Any] = {
        "closed_cases": int((closed & in_kept).sum()),
        "with_a_later_case": int((seen & in_kept).sum()),
        "returned_within_3y": int((returned.fillna(False).astype(bool) & in_kept).sum()),
        "censored_3y": int((closed & returned.isna() & in_kept).sum()),
        "later_case_removed_by_objection": int((hidden & in_kept).sum()),
    }
    return Recurrence(table=table, follow_up_end=str(end.date()), counts=counts)
