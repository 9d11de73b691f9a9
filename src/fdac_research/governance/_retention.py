"""Retention rules as config, and which cases are due for deletion on a given date.

A rule says how long something is kept after an *anchor* date of a case:

``youngest_child_birth``
    the date of birth of the youngest child named in the case (``years: 22`` keeps the
    records until that child is 22);
``case_closure``
    the final hearing date (open cases are never due);
``application``
    the application date.

A case whose anchor is unknown (open case, no child, missing date of birth) is counted as
*undetermined* and is never reported as due: deletion needs a positive reason. The report
holds counts; the case references due are kept apart and shown only on request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research.config import ConfigBase
from fdac_research.dataset import load_sources
from fdac_research.exceptions import ConfigError

__all__ = ["RetentionRules", "RetentionReport", "retention_due", "DEFAULT_RULES", "ANCHORS"]

ANCHORS = ("youngest_child_birth", "case_closure", "application")
_RULE_KEYS = {"name", "holds", "anchor", "years"}

DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {
        "name": "identifiable_sources",
        "holds": "court and agency records with identities (controller side)",
        "anchor": "youngest_child_birth",
        "years": 22,
    },
    {
        "name": "research_dataset",
        "holds": "pseudonymised research dataset and anonymised archive",
        "anchor": "case_closure",
        "years": 10,
    },
)


@dataclasses.dataclass(frozen=True)
class RetentionRules(ConfigBase):
    """A set of retention rules.

    Parameters
    ----------
    rules : list of dict
        Each ``{name, holds, anchor, years}``: what the rule covers (``holds``), the anchor
        date (one of :data:`ANCHORS`) and how many whole years after it the data are kept.
    """

    rules: tuple[dict[str, Any], ...] = DEFAULT_RULES

    def _problems(self) -> list[str]:
        p: list[str] = []
        if not isinstance(self.rules, (list, tuple)) or not self.rules:
            return ["rules: a non-empty list of rules is required"]
        names = []
        for i, r in enumerate(self.rules):
            where = f"rules[{i}]"
            if not isinstance(r, Mapping):
                p.append(f"{where}: expected a mapping, got {r!r}")
                continue
            extra = sorted(set(r) - _RULE_KEYS)
            missing = sorted(_RULE_KEYS - set(r))
            if extra:
                p.append(f"{where}: unknown key(s) {extra}; allowed: {sorted(_RULE_KEYS)}")
            if missing:
                p.append(f"{where}: missing key(s) {missing}")
            name = r.get("name")
            if not isinstance(name, str) or not name:
                p.append(f"{where}.name: a non-empty name is required")
            names.append(name)
            if "anchor" in r and r["anchor"] not in ANCHORS:
                p.append(f"{where}.anchor: must be one of {ANCHORS}, got {r['anchor']!r}")
            y = r.get("years")
            if "years" in r and (not isinstance(y, int) or isinstance(y, bool) or not 0 < y <= 120):
                p.append(f"{where}.years: must be a whole number of years in 1..120, got {y!r}")
        dups = sorted({n for n in names if isinstance(n, str) and names.count(n) > 1})
        if dups:
            p.append(f"rules: names must be unique, repeated: {dups}")
        return p


@dataclasses.dataclass(frozen=True)
class RetentionReport:
    """Counts per rule (``summary``) and, kept apart, the case references due.

    ``repr`` and ``summary`` never show references; :meth:`due_refs` returns them for a
    controller who needs to act on them.
    """

    as_of: str
    summary: pd.DataFrame
    _due: Mapping[str, tuple[str, ...]] = dataclasses.field(repr=False)

    def due_refs(self, rule: str) -> tuple[str, ...]:
        """Case references due for deletion under ``rule`` (identifiable: handle with care)."""
        return self._due[rule]


def _anchors(cases: pd.DataFrame, people: pd.DataFrame) -> dict[str, pd.Series]:
    kids = people[people["role"] == "child"]
    youngest = kids.groupby("case_ref")["date_of_birth"].max()
    # A child whose date of birth is missing makes "youngest" unknown for the whole case.
    unknown = kids.loc[kids["date_of_birth"].isna(), "case_ref"].unique()
    youngest[youngest.index.isin(unknown)] = pd.NaT
    refs = cases["case_ref"]
    return {
        "youngest_child_birth": pd.Series(refs.map(youngest).to_numpy(), index=refs.to_numpy()),
        "case_closure": pd.Series(cases["final_hearing_date"].to_numpy(), index=refs.to_numpy()),
        "application": pd.Series(cases["application_date"].to_numpy(), index=refs.to_numpy()),
    }


def retention_due(
    sources: Path | str, as_of: str | dt.date, rules: RetentionRules | None = None
) -> RetentionReport:
    """Which cases each rule says are due for deletion on ``as_of``.

    A case is due when ``anchor + years <= as_of`` (calendar years, so a child born on
    29 February reaches 22 on 1 March when the year is not a leap year).

    Examples
    --------
    >>> import tempfile
    >>> from fdac_research.world import generate_world
    >>> d = tempfile.mkdtemp() + "/w"
    >>> _ = generate_world(d, n_families=50, seed=1)
    >>> r = retention_due(d, "2060-01-01")
    >>> list(r.summary.columns)[:3]
    ['rule', 'holds', 'anchor']
    """
    rules = rules or RetentionRules()
    try:
        day = pd.Timestamp(dt.date.fromisoformat(str(as_of)))
    except ValueError as err:
        raise ConfigError(
            "retention check", [f"as_of must be an ISO date YYYY-MM-DD, got {as_of!r}"]
        ) from err
    s = load_sources(sources)
    anchors = _anchors(s.court_cases, s.court_people)
    rows, due = [], {}
    for r in rules.rules:
        anchor = anchors[r["anchor"]]
        until = anchor + pd.DateOffset(years=int(r["years"]))
        known = until.notna().to_numpy()
        is_due = known & (until <= day).to_numpy()
        later = until[known & ~is_due]
        due[r["name"]] = tuple(np.sort(anchor.index[is_due].astype(str)))
        rows.append(
            {
                "rule": r["name"],
                "holds": r["holds"],
                "anchor": r["anchor"],
                "years": int(r["years"]),
                "n_cases": len(anchor),
                "n_due": int(is_due.sum()),
                "n_not_yet_due": int(len(later)),
                "n_undetermined": int((~known).sum()),
                "next_due": later.min().date().isoformat() if len(later) else "",
            }
        )
    return RetentionReport(as_of=day.date().isoformat(), summary=pd.DataFrame(rows), _due=due)
