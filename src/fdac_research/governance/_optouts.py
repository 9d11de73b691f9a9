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
from pathlib import Path

import numpy as np
import pandas as pd

from fdac_research.dataset import Sources
from fdac_research.exceptions import ConfigError

__all__ = ["OptOutResolution", "resolve_opt_outs", "disclosed_count", "check_out_path"]


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


def check_out_path(out: Path | str, *inputs: Path | str) -> None:
    """Refuse an output folder that is, or contains, one of the ``inputs`` (it would be
    replaced wholesale by the atomic write)."""
    o = Path(out).resolve()
    for i in inputs:
        r = Path(i).resolve()
        if o == r or o in r.parents:
            raise ConfigError(
                "output folder", [f"{o} would replace the input folder {r}; choose another --out"]
            )


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


def resolve_opt_outs(sources: Sources, crosswalk: pd.DataFrame) -> OptOutResolution:
    """Turn the opt-out register into sets of affected cases (see the module docstring).

    Parameters
    ----------
    sources : Sources
        Loaded (validated) sources; the register is ``sources.opt_outs``.
    crosswalk : pandas.DataFrame
        The checked crosswalk (:func:`read_crosswalk`).
    """
    court = crosswalk[crosswalk["source"] == "court"]
    key_of = pd.Series(court["person_key"].to_numpy(), index=court["record_id"].to_numpy())
    people = sources.court_people[["case_ref", "person_ref"]].copy()
    people["person_key"] = key_of.reindex(people["person_ref"]).to_numpy()
    opt = sources.opt_outs
    removed = _affected_cases(opt[opt["scope"] == "all_research"], people, key_of)
    external = _affected_cases(opt[opt["scope"] == "external_sharing"], people, key_of)
    external = np.setdiff1d(external, removed)
    return OptOutResolution(removed=removed, external_only=external)
