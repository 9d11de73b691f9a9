"""Build the pseudonymised research dataset (docs/data-contract.md §2) from the identifiable
sources and the linkage crosswalk."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research.config import ConfigBase
from fdac_research.dataset import (
    EXCLUSIONS_FILE,
    ResearchData,
    Sources,
    load_sources,
    write_research,
)
from fdac_research.exceptions import ContractError, Problem
from fdac_research.governance._attributes import agency_attributes, attribute_provenance
from fdac_research.governance._crosswalk import read_crosswalk, read_linkage_quality
from fdac_research.governance._keys import Pseudonymiser
from fdac_research.governance._optouts import (
    check_every_objection_applied,
    check_out_path,
    disclosed_count,
    resolve_opt_outs,
)
from fdac_research.governance._recurrence import (
    RECURRENCE_YEARS,
    Recurrence,
    derive_recurrence,
    family_of_cases,
)

__all__ = ["BuildConfig", "BuildResult", "build_research", "EXCLUSIONS_FILE"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class BuildConfig(ConfigBase):
    """Options of :func:`build_research` (recorded in the manifest; the key never is).

    Parameters
    ----------
    pseudonym_length : int
        Hex characters of each pseudonym (16 = 64 bits; collisions are checked).
    min_match_probability : float
        Agency records linked with a lower crosswalk ``match_probability`` are ignored.
    report_rounding : int
        Opt-out counts are reported rounded to this base...
    report_threshold : int
        ...and as "fewer than N" below this threshold.
    recurrence : {"auto", "supplied", "derived"}
        Where ``returned_to_court_3y`` comes from: ``supplied`` (``court_outcomes.csv``),
        ``derived`` from the linked court records (a later case of the family within three
        years, :mod:`fdac_research.governance._recurrence`), or ``auto``: supplied when any
        child has a supplied value, else derived. The manifest says which was used.
    follow_up_end : str, optional
        ISO date follow-up for a later case ends; default the latest application date in
        ``court_cases`` (a later case after it could not have been seen).
    """

    pseudonym_length: int = 16
    min_match_probability: float = 0.0
    report_rounding: int = 5
    report_threshold: int = 10
    recurrence: str = "auto"
    follow_up_end: str | None = None

    def _problems(self) -> list[str]:
        p = []
        if not isinstance(self.pseudonym_length, int) or not 16 <= self.pseudonym_length <= 64:
            p.append(
                f"pseudonym_length must be an integer in [16, 64], got {self.pseudonym_length!r}"
            )
        mp = self.min_match_probability
        if not isinstance(mp, (int, float)) or not 0 <= mp <= 1:
            p.append(f"min_match_probability must be in [0, 1], got {mp!r}")
        if not isinstance(self.report_rounding, int) or self.report_rounding < 1:
            p.append(f"report_rounding must be a positive integer, got {self.report_rounding!r}")
        if not isinstance(self.report_threshold, int) or self.report_threshold < 1:
            p.append(f"report_threshold must be a positive integer, got {self.report_threshold!r}")
        if self.recurrence not in ("auto", "supplied", "derived"):
            p.append(f"recurrence must be 'auto', 'supplied' or 'derived', got {self.recurrence!r}")
        if self.follow_up_end is not None:
            try:
                dt.date.fromisoformat(str(self.follow_up_end))
            except ValueError:
                p.append(
                    f"follow_up_end must be an ISO date (YYYY-MM-DD), got {self.follow_up_end!r}"
                )
        return p


@dataclasses.dataclass(frozen=True)
class BuildResult:
    """What :func:`build_research` wrote (no identities, opt-out counts disclosed safely)."""

    folder: Path
    n_cases: int
    n_adults: int
    n_children: int
    removed_all_research: str
    withheld_from_external: str
    key_kind: str
    key_fingerprint: str


def _whole_years(dob: pd.Series, at: pd.Series) -> pd.Series:
    """Completed years from ``dob`` to ``at`` (vectorised; NaT gives missing)."""
    years = at.dt.year - dob.dt.year
    before = (at.dt.month * 100 + at.dt.day) < (dob.dt.month * 100 + dob.dt.day)
    return (years - before.astype(float)).astype("Int64")


def _bounded(values: pd.Series, table: str) -> tuple[pd.Series, int]:
    """Ages outside the contract's range become missing; returns the count blanked."""
    col = schema.RESEARCH.table(table).column("age_at_application")
    bad = values.notna() & ((values < col.minimum) | (values > col.maximum))
    return values.mask(bad), int(bad.sum())


def _cases(
    kept: pd.DataFrame, people: pd.DataFrame, ids: pd.Series, families: pd.Series, rec: Recurrence
) -> pd.DataFrame:
    app, final = kept["application_date"], kept["final_hearing_date"]
    n_children = people[people["role"] == "child"].groupby("case_ref").size()
    r = rec.table.reindex(kept["case_ref"].astype(str))
    return pd.DataFrame(
        {
            "case_id": ids.to_numpy(),
            "cohort": kept["cohort"].to_numpy(),
            "court": kept["court"].to_numpy(),
            "local_authority": kept["local_authority"].to_numpy(),
            "application_year": app.dt.year.astype("Int64").array,
            "duration_weeks": ((final - app).dt.days / 7).round(1).to_numpy(),
            "n_children": kept["case_ref"].map(n_children).fillna(0).astype("Int64").array,
            "contested_final_hearing": kept["contested_final_hearing"].astype("boolean").array,
            "expert_witness": kept["expert_witness"].astype("boolean").array,
            "family_id": kept["case_ref"].astype(str).map(families).to_numpy(),
            "years_to_later_case": r["years_to_later_case"].round(2).to_numpy(),
            "follow_up_years": r["follow_up_years"].round(2).to_numpy(),
        }
    )


def _attendance(hearings: pd.DataFrame) -> pd.Series:
    """Per case_ref: percent of hearings (with attendance recorded) a parent attended."""
    att = hearings["parent_attended"].astype("Float64")
    g = att.groupby(hearings["case_ref"].to_numpy())
    pct = 100 * g.sum() / g.count()
    return pct.astype(float).round(1)


def _recurrence_source(s: Sources, config: BuildConfig) -> str:
    """``supplied`` or ``derived`` (see :class:`BuildConfig`)."""
    if config.recurrence != "auto":
        return config.recurrence
    people = s.court_people.set_index("person_ref")["role"]
    kids = s.court_outcomes[s.court_outcomes["person_ref"].map(people).eq("child").to_numpy()]
    return "supplied" if kids["returned_to_court_3y"].notna().any() else "derived"


def _research_tables(
    s: Sources,
    crosswalk: pd.DataFrame,
    keep: np.ndarray,
    pseudo: Pseudonymiser,
    config: BuildConfig,
) -> tuple[ResearchData, dict[str, Any], dict[str, Any]]:
    kept = s.court_cases[s.court_cases["case_ref"].isin(keep)].reset_index(drop=True)
    people = s.court_people[s.court_people["case_ref"].isin(keep)].reset_index(drop=True)
    outcomes = s.court_outcomes.set_index("person_ref")
    hearings = s.hearings[s.hearings["case_ref"].isin(keep)]
    case_id = pd.Series(
        pseudo.pseudonyms("case", kept["case_ref"].to_numpy()), index=kept["case_ref"]
    )
    people["person_id"] = pseudo.pseudonyms("person", people["person_ref"].to_numpy())
    people["case_id"] = people["case_ref"].map(case_id).to_numpy()
    court = crosswalk[crosswalk["source"] == "court"].set_index("record_id")["person_key"]
    # people across cases: the crosswalk's court person; families are cases joined by one
    # (among the kept cases only: a removed family's case joins nothing)
    people["person_key"] = people["person_ref"].map(court).to_numpy()
    people["individual_id"] = pseudo.pseudonyms("individual", people["person_key"].to_numpy())
    fam_root = family_of_cases(people[["case_ref", "person_key"]])
    families = pd.Series(
        pseudo.pseudonyms("family", fam_root.to_numpy()), index=fam_root.index.astype(str)
    )
    everyone = s.court_people.assign(person_key=s.court_people["person_ref"].map(court))
    rec = derive_recurrence(
        s.court_cases[["case_ref", "application_date", "final_hearing_date"]],
        everyone[["case_ref", "person_key"]],
        keep,
        config.follow_up_end,
    )
    rec_source = _recurrence_source(s, config)
    app = people["case_ref"].map(kept.set_index("case_ref")["application_date"])
    people["age"] = _whole_years(people["date_of_birth"], app)
    out = people.join(outcomes, on="person_ref")
    child = (out["role"] == "child").to_numpy()
    a, c = out[~child], out[child]
    age_a, blank_a = _bounded(a["age"], "adults")
    age_c, blank_c = _bounded(c["age"], "children")
    attrs = agency_attributes(
        s,
        crosswalk,
        a["person_ref"].map(court),
        min_match_probability=config.min_match_probability,
    )
    adults = pd.DataFrame(
        {
            "person_id": a["person_id"],
            "case_id": a["case_id"],
            "individual_id": a["individual_id"],
            "role": a["role"],
            "sex": a["sex"],
            "age_at_application": age_a,
            "ethnicity": a["ethnicity"],
            **{k: attrs[k] for k in attrs.columns},
            "hearings_attended_pct": a["case_ref"].map(_attendance(hearings)),
            "ceased_misuse": a["ceased_misuse"].astype("boolean"),
        }
    )
    placement = c["placement_at_end"]
    is_open = c["case_ref"].map(kept.set_index("case_ref")["final_hearing_date"]).isna()
    if rec_source == "supplied":
        returned = c["returned_to_court_3y"].astype("boolean")
    else:
        returned = c["case_ref"].astype(str).map(rec.table["returned_3y"]).astype("boolean")
    children = pd.DataFrame(
        {
            "person_id": c["person_id"],
            "case_id": c["case_id"],
            "individual_id": c["individual_id"],
            "sex": c["sex"],
            "age_at_application": age_c,
            "ethnicity": c["ethnicity"],
            "final_order": c["final_order"],
            "placement_at_end": placement,
            "reunified": (placement == "parent").astype("boolean").mask(placement.isna() | is_open),
            "returned_to_court_3y": returned,
        }
    )
    cases = _cases(kept, people, case_id, families, rec)
    # Row order follows the pseudonyms (source order could reveal dates or references).
    data = ResearchData(
        cases=cases.sort_values("case_id", kind="stable").reset_index(drop=True),
        adults=adults.sort_values(["case_id", "person_id"], kind="stable").reset_index(drop=True),
        children=children.sort_values(["case_id", "person_id"], kind="stable").reset_index(
            drop=True
        ),
    )
    quality = {
        "ages_out_of_contract_range_blanked": blank_a + blank_c,
        "adults_without_age": int(age_a.isna().sum()),
        "children_without_age": int(age_c.isna().sum()),
    }
    many = people.groupby("person_key")["case_ref"].nunique()
    recurrence = {
        "returned_to_court_3y": (
            "supplied (court_outcomes.csv)"
            if rec_source == "supplied"
            else "derived from the linked court records"
        ),
        "window_years": RECURRENCE_YEARS,
        # (no date: the research side holds none; the year is enough to read the counts)
        "follow_up_end": (
            "the latest application date in court_cases"
            if config.follow_up_end is None
            else "config.follow_up_end"
        ),
        "follow_up_end_year": int(rec.follow_up_end[:4]),
        "definition": (
            "a later case naming any person of the case (the crosswalk's court person), "
            "issued after the final hearing; unknown (empty) while fewer than "
            f"{RECURRENCE_YEARS:g} years of follow-up have passed without one"
        ),
        "counts": {
            **rec.counts,
            "people_in_several_cases": int((many > 1).sum()),
            "families_of_several_cases": int(
                pd.Series(families.reindex(kept["case_ref"].astype(str)).to_numpy())
                .value_counts()
                .gt(1)
                .sum()
            ),
        },
    }
    return data, quality, recurrence


def _disclosed_recurrence(rec: dict[str, Any], shown: Any) -> dict[str, Any]:
    """The recurrence block of the manifest with its counts disclosed safely."""
    return {**rec, "counts": {k: shown(v) for k, v in rec["counts"].items()}}


def build_research(
    sources: Path | str,
    linkdir: Path | str,
    out: Path | str,
    *,
    key: bytes,
    key_kind: str = "secret",
    config: BuildConfig | None = None,
) -> BuildResult:
    """Build the research dataset of docs/data-contract.md §2 into ``out`` (atomically).

    Parameters
    ----------
    sources : path
        Identifiable sources folder (docs/data-contract.md §1).
    linkdir : path
        Linkage output holding ``crosswalk.csv`` and ``linkage_quality.csv``.
    out : path
        Research folder to write; replaced only when everything succeeded.
    key : bytes
        The pseudonymisation key (:func:`load_key`); never written anywhere.
    key_kind : {"secret", "demo"}
        Recorded in the manifest (with the key's irreversible fingerprint).
    config : BuildConfig, optional
        Options.

    Returns
    -------
    BuildResult

    Notes
    -----
    * ``case_id = HMAC(key, "case|" + case_ref)`` and
      ``person_id = HMAC(key, "person|" + person_ref)``, hex truncated to
      ``config.pseudonym_length``; collisions are checked.
    * Objections are applied first (see :mod:`fdac_research.governance._optouts`): removed
      cases never enter any derivation. Cases withheld from external recipients are listed
      by ``case_id`` only in ``_governance/external_exclusions.csv``, which
      :func:`write_extract` reads.
    * Agency attributes follow :data:`ATTRIBUTE_RULES` (what "no linked record" means is
      documented per attribute there).
    * Derived: ``age_at_application`` in whole years (ages outside the contract's range are
      blanked and counted in the manifest), ``application_year``, ``duration_weeks``
      (to 0.1 week), ``n_children``, ``hearings_attended_pct`` (share of the case's hearings
      with ``parent_attended`` recorded at which a parent attended, given to every adult of
      the case), ``reunified`` (``placement_at_end == "parent"``; empty while the case is open or the
      placement is unknown).
    """
    config = config or BuildConfig()
    if key_kind not in ("secret", "demo"):
        raise ValueError(f"key_kind must be 'secret' or 'demo', got {key_kind!r}")
    check_out_path(out, sources, linkdir)
    pseudo = Pseudonymiser(key, length=config.pseudonym_length)
    s = load_sources(sources)
    crosswalk = read_crosswalk(linkdir, s)
    lq = read_linkage_quality(linkdir)
    unknown = sorted(set(lq["agency"]) - set(s.agencies))
    if unknown:
        raise ContractError(
            f"linkage quality {Path(linkdir) / 'linkage_quality.csv'}",
            [
                Problem(
                    "linkage_quality.csv",
                    "agency",
                    None,
                    unknown[0],
                    f"an agency present in the sources ({', '.join(sorted(s.agencies))})",
                    len(unknown),
                )
            ],
        )
    opt = resolve_opt_outs(s, crosswalk)
    check_every_objection_applied(s, opt)
    keep = np.setdiff1d(s.court_cases["case_ref"].to_numpy(dtype=str), opt.removed)
    data, quality, recurrence = _research_tables(s, crosswalk, keep, pseudo, config)
    data.linkage_quality = lq
    excluded = pd.DataFrame(
        {"case_id": np.sort(pseudo.pseudonyms("case", opt.external_only)).astype(object)}
    )

    def shown(n: int) -> str:
        return disclosed_count(n, base=config.report_rounding, threshold=config.report_threshold)

    removed, withheld = shown(len(opt.removed)), shown(len(opt.external_only))
    manifest = {
        "stage": "governance.build",
        "config": config.to_dict(),
        "key": {"kind": key_kind, "fingerprint": pseudo.fingerprint},
        "counts": {
            "cases": len(data.cases),
            "adults": len(data.adults),
            "children": len(data.children),
        },
        "opt_outs": {
            "cases_removed_all_research": removed,
            "cases_withheld_from_external_recipients": withheld,
            "reporting": (
                f"rounded to the nearest {config.report_rounding}; "
                f"'fewer than {config.report_threshold}' below {config.report_threshold}"
            ),
        },
        "data_quality": {
            **quality,
            "postcodes_read_as_missing": sum(n.count for n in s.notes if n.column == "postcode"),
        },
        "attributes": attribute_provenance(s),
        "recurrence": _disclosed_recurrence(recurrence, shown),
        "source_columns_not_used": {k: sorted(v.columns) for k, v in sorted(s.extras.items())},
        "external_exclusions": EXCLUSIONS_FILE,
        "use": (
            "internal research only: holds families who objected to external sharing; "
            "external recipients receive extracts (fdac-research extract), never this folder"
        ),
    }
    folder = write_research(data, out, manifest=manifest, extra_tables={EXCLUSIONS_FILE: excluded})
    log.info(
        "research dataset: %d cases, %d adults, %d children; opted-out cases removed: %s; "
        "withheld from external recipients: %s",
        len(data.cases),
        len(data.adults),
        len(data.children),
        removed,
        withheld,
    )
    return BuildResult(
        folder=Path(folder),
        n_cases=len(data.cases),
        n_adults=len(data.adults),
        n_children=len(data.children),
        removed_all_research=removed,
        withheld_from_external=withheld,
        key_kind=key_kind,
        key_fingerprint=pseudo.fingerprint,
    )
