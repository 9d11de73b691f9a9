"""Assemble and write a synthetic world: a sources folder of the contract plus ``truth/``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research._io import atomic_dir, write_json, write_table
from fdac_research._progress import progress
from fdac_research.dataset import load_sources
from fdac_research.exceptions import ContractError, Problem
from fdac_research.objections import drop_objectors, objecting_court_people
from fdac_research.truth import read_truth_links
from fdac_research.validation import check_folder
from fdac_research.world._agencies import agency_extracts, attendance_probability, non_case_people
from fdac_research.world._config import WorldConfig
from fdac_research.world._population import simulate_population

__all__ = ["generate_world", "truth_crosswalk", "WorldSummary"]

log = logging.getLogger(__name__)

WorldSummary = dict[str, Any]


def _unique_ids(rng: np.random.Generator, n: int, prefix: str, digits: int) -> np.ndarray:
    nums = rng.choice(10**digits - 10 ** (digits - 1), n, replace=False) + 10 ** (digits - 1)
    return np.array([f"{prefix}{x}" for x in nums], dtype=object)


def _hearings(
    rng: np.random.Generator, cases: pd.DataFrame, extract: np.datetime64
) -> pd.DataFrame:
    app = cases["application_date"].to_numpy(dtype="datetime64[D]")
    final = cases["final_hearing_date"].to_numpy(dtype="datetime64[D]")
    end = np.where(np.isnat(final), extract, final)
    fdac = (cases["cohort"] == "fdac").to_numpy()
    n = len(cases)
    parts = []

    def add(idx: np.ndarray, dates: np.ndarray, kind: str) -> None:
        parts.append(pd.DataFrame({"case_idx": idx, "date": dates, "kind": kind}))

    add(np.arange(n), app + rng.integers(5, 15, n).astype("timedelta64[D]"), "first_hearing")
    n_cm = 1 + rng.poisson(1.0, n)
    idx = np.repeat(np.arange(n), n_cm)
    span = (end - app).astype(int)[idx]
    add(
        idx,
        app[idx] + (rng.random(len(idx)) * 0.6 * span + 14).astype(int).astype("timedelta64[D]"),
        "case_management",
    )
    add(
        np.arange(n),
        app + (0.75 * (end - app).astype(int)).astype(int).astype("timedelta64[D]"),
        "issues_resolution",
    )
    closed = ~np.isnat(final)
    add(np.flatnonzero(closed), final[closed], "final_hearing")
    # FDAC: fortnightly judge-led reviews without lawyers (non-lawyer reviews).
    n_rev = np.where(fdac, np.maximum(((end - app).astype(int) - 21) // 14, 0), 0)
    idx = np.repeat(np.arange(n), n_rev)
    k = np.arange(len(idx)) - np.repeat(np.cumsum(n_rev) - n_rev, n_rev)
    add(idx, app[idx] + (21 + 14 * k).astype("timedelta64[D]"), "fdac_review")
    h = pd.concat(parts, ignore_index=True)
    h = h[h["date"].to_numpy(dtype="datetime64[D]") <= extract]
    ci = h["case_idx"].to_numpy()
    p = attendance_probability(fdac[ci], cases["severity"].to_numpy()[ci])
    h["parent_attended"] = rng.random(len(h)) < p
    return h.sort_values(["case_idx", "date", "kind"], kind="stable").reset_index(drop=True)


def _opt_outs(
    rng: np.random.Generator,
    cfg: WorldConfig,
    cases: pd.DataFrame,
    people: pd.DataFrame,
    extract: np.datetime64,
) -> pd.DataFrame:
    n = len(cases)
    m = int(round(cfg.opt_out_rate * n))
    chosen = np.sort(rng.choice(n, m, replace=False)) if m else np.array([], dtype=int)
    rows = []
    first_adult = people[people["role"] != "child"].groupby("case_idx")["person_ref"].first()
    first_child = people[people["role"] == "child"].groupby("case_idx")["person_ref"].first()
    for c in chosen:
        u = rng.random()
        scope = "all_research" if rng.random() < 0.75 else "external_sharing"
        app = cases["application_date"].to_numpy(dtype="datetime64[D]")[c]
        date = min(app + np.timedelta64(int(rng.integers(0, 400)), "D"), extract)
        if u < 0.4 and c in first_adult.index:
            rows.append((first_adult[c], "", date, scope))
        elif u < 0.7 and c in first_child.index:
            rows.append((first_child[c], "", date, scope))
        else:
            rows.append(("", cases["case_ref"].iloc[c], date, scope))
    return pd.DataFrame(rows, columns=["person_ref", "case_ref", "received_date", "scope"])


def generate_world(
    out: Path | str, config: WorldConfig | None = None, **overrides: Any
) -> WorldSummary:
    """Generate a synthetic world into ``out`` (a sources folder plus ``truth/``).

    Parameters
    ----------
    out : path
        Folder to write; replaced atomically (nothing is half-written on failure).
    config : WorldConfig, optional
        The world's parameters; keyword ``overrides`` replace individual fields.

    Returns
    -------
    dict
        Counts of what was written and the planted effects.

    Examples
    --------
    >>> import tempfile
    >>> from fdac_research.world import generate_world
    >>> summary = generate_world(tempfile.mkdtemp() + "/w", n_families=50, seed=1)
    >>> summary["n_cases"]
    50
    """
    cfg = config or WorldConfig()
    if overrides:
        cfg = WorldConfig.from_dict({**cfg.to_dict(), **overrides})
    root = np.random.SeedSequence(cfg.seed)
    rng_pop, rng_ids, rng_noise, rng_ag, rng_h, rng_opt = (
        np.random.default_rng(s) for s in root.spawn(6)
    )
    extract = np.datetime64(cfg.extract_date)
    steps = iter(progress(range(6), desc="generate world", total=6))
    next(steps, None)
    pop = simulate_population(cfg, rng_pop)
    cases, people = pop.cases, pop.people
    cases["case_ref"] = _unique_ids(rng_ids, len(cases), "FD", 8)
    people["case_ref"] = cases["case_ref"].to_numpy()[people["case_idx"].to_numpy()]
    people["person_ref"] = _unique_ids(rng_ids, len(people), "CP", 9)
    n_noise = int(round(cfg.non_case_ratio * len(people)))
    next(steps, None)
    noise = non_case_people(cfg, rng_noise, n_noise, extract)
    tids = _unique_ids(rng_ids, len(people) + n_noise, "T", 9)
    # one true person per person_idx: a mother in two cases has one id in both
    people["true_person_id"] = tids[: len(people)][people["person_idx"].to_numpy()]
    noise["true_person_id"] = tids[len(people) :]
    people["local_authority"] = cases["local_authority"].to_numpy()[people["case_idx"].to_numpy()]
    # agencies hold one person once (as they are in their latest case), not once per case
    app_of = cases["application_date"].to_numpy()[people["case_idx"].to_numpy()]
    latest = (
        people.assign(_app=app_of)
        .sort_values(["_app", "case_idx"], kind="stable")
        .drop_duplicates("person_idx", keep="last")
        .drop(columns="_app")
        .sort_index()
    )
    everyone = pd.concat(
        [latest.assign(in_case=True), noise.assign(in_case=False)], ignore_index=True, sort=False
    )
    next(steps, None)
    extracts = agency_extracts(cfg, rng_ag, everyone)
    next(steps, None)
    hearings = _hearings(rng_h, cases, extract)
    hearings["case_ref"] = cases["case_ref"].to_numpy()[hearings["case_idx"].to_numpy()]
    opt = _opt_outs(rng_opt, cfg, cases, people, extract)
    next(steps, None)

    # Outcome recording: cessation is unknown for some parents (fathers' data less complete).
    adult = people["role"] != "child"
    ceased = people["outcome"].where(
        adult & people["closed"] & people["role"].isin(["mother", "father"])
    )
    unknown = rng_opt.random(len(people)) < np.where(people["role"] == "father", 0.35, 0.08)
    ceased = ceased.where(~unknown)
    outcomes = pd.DataFrame(
        {
            "person_ref": people["person_ref"],
            "ceased_misuse": ceased.astype("boolean"),
            "final_order": people["final_order"],
            "placement_at_end": people["placement_at_end"],
            "returned_to_court_3y": (
                people["returned_to_court_3y"]
                if cfg.supply_recurrence
                else pd.Series(None, index=people.index, dtype=object)
            ).astype("boolean"),
        }
    )
    with atomic_dir(Path(out)) as tmp:
        write_table(
            cases[[c.name for c in schema.SOURCES.table("court_cases").columns]].assign(
                contested_final_hearing=cases["contested_final_hearing"].astype("boolean"),
                expert_witness=cases["expert_witness"].astype("boolean"),
            ),
            tmp / "court_cases.csv",
        )
        write_table(people[schema.SOURCES.table("court_people").names], tmp / "court_people.csv")
        write_table(outcomes, tmp / "court_outcomes.csv")
        write_table(hearings[["case_ref", "date", "kind", "parent_attended"]], tmp / "hearings.csv")
        write_table(opt, tmp / "opt_outs.csv")
        links = []
        for agency, frame in extracts.items():
            write_table(frame.drop(columns="true_person_id"), tmp / "agencies" / f"{agency}.csv")
            links.append(
                pd.DataFrame(
                    {
                        "agency": agency,
                        "record_id": frame["record_id"],
                        "true_person_id": frame["true_person_id"],
                    }
                )
            )
        truth = tmp / "truth"
        is_person_outcome = people["closed"] & people["role"].isin(["mother", "father", "child"])
        write_table(
            pd.DataFrame(
                {
                    "person_ref": people["person_ref"],
                    "true_person_id": people["true_person_id"],
                    "case_ref": people["case_ref"],
                    "role": people["role"],
                    "hidden_confounder": cases["hidden_confounder"]
                    .to_numpy()[people["case_idx"].to_numpy()]
                    .round(6),
                    "potential_outcome_untreated": people["y0"]
                    .where(is_person_outcome)
                    .astype("boolean"),
                    "potential_outcome_treated": people["y1"]
                    .where(is_person_outcome)
                    .astype("boolean"),
                }
            ),
            truth / "people.csv",
        )
        write_table(pd.concat(links, ignore_index=True), truth / "agency_links.csv")
        write_table(_recurrence_truth(cases, cfg), truth / "recurrence.csv")
        summary: WorldSummary = {
            "n_cases": int(len(cases)),
            "n_fdac": int((cases["cohort"] == "fdac").sum()),
            "n_court_people": int(len(people)),
            "n_non_case_people": int(n_noise),
            "n_people": int(len(people) + n_noise),
            "n_agency_records": {a: int(len(f)) for a, f in extracts.items()},
            "n_hearings": int(len(hearings)),
            "n_opt_outs": int(len(opt)),
            "n_repeat_cases": int((cases["earlier_case_idx"] >= 0).sum()),
            "n_people_in_several_cases": int(
                people.groupby("true_person_id")["case_ref"].nunique().gt(1).sum()
            ),
        }
        write_json(
            {
                "contract_version": schema.CONTRACT_VERSION,
                "config": cfg.to_dict(),
                "effects": pop.effects,
                "counts": summary,
                "notes": [
                    "Effects are population-level over closed cases: 'ate' averages potential-outcome "
                    "risks over everyone, 'att' over FDAC cases only; odds ratios are marginal.",
                    "reunified_children: a child living with a parent at the end of proceedings.",
                    "hidden_confounder (truth/people.csv) raises both referral to FDAC and good outcomes "
                    "with strength config.hidden_confounder (log-odds per SD).",
                    "returned_to_court_3y_children: the case's mother in a later case of the world "
                    "within three years of the final hearing (truth/recurrence.csv); hazard_ratio "
                    "is the planted FDAC effect on the hazard, conditional on severity.",
                ],
            },
            truth / "effects.json",
        )
        next(steps, None)
        check_folder(tmp, "sources")
    summary["effects"] = pop.effects
    log.info("wrote world with %d cases to %s", summary["n_cases"], out)
    return summary


def _recurrence_truth(cases: pd.DataFrame, cfg: WorldConfig) -> pd.DataFrame:
    """Per case: its mother's later case (if the world placed one), the realised and the two
    potential times to it in years from the final hearing, and the follow-up available."""
    ref = cases["case_ref"].to_numpy()
    later = cases["later_case_idx"].to_numpy()
    final = cases["final_hearing_date"].to_numpy(dtype="datetime64[D]")
    end = min(np.datetime64(f"{cfg.last_year}-12-31"), np.datetime64(cfg.extract_date))
    # follow-up ends with the application window (no later case can be seen after it)
    follow = np.where(
        np.isnat(final), np.nan, np.maximum((end - final).astype(np.int64), 0) / 365.25
    )
    placed = later >= 0
    later_ref = np.full(len(ref), None, dtype=object)
    later_ref[placed] = ref[later[placed]]
    return pd.DataFrame(
        {
            "case_ref": ref,
            "later_case_ref": later_ref,
            "years_to_later_case": np.where(
                placed, cases["years_to_later_case"].to_numpy(), np.nan
            ).round(4),
            "years_untreated": _finite(cases["years_untreated"]),
            "years_treated": _finite(cases["years_treated"]),
            "follow_up_years": np.round(follow, 4),
        }
    )


def _finite(values: pd.Series) -> np.ndarray:
    """Rounded years; empty for never (an infinite time: no hazard at all)."""
    v = values.to_numpy(dtype=float)
    return np.where(np.isfinite(v), v, np.nan).round(4)


def truth_crosswalk(sources: Path | str, out: Path | str) -> Path:
    """Write a crosswalk (docs/ARCHITECTURE.md layout) from a synthetic world's ``truth/``.

    For tests and for stages developed without running linkage: every court person and every
    agency record, keyed by its true person.
    """
    sources = Path(sources)
    links = read_truth_links(sources)
    if links.frame is None:
        raise ContractError(
            str(sources),
            [
                Problem(
                    "truth/", None, None, None, f"a synthetic world's truth files ({links.note})"
                )
            ],
        )
    truth = links.frame
    cw = pd.DataFrame(
        {"source": truth["source"], "record_id": truth["record_id"], "person_key": truth["true_id"]}
    )
    cw["match_probability"] = 1.0
    # counts leave out families who objected to all research, as linkage's do
    s = load_sources(sources)
    counted = drop_objectors(cw, objecting_court_people(s.opt_outs, s.court_people))
    court_keys = set(counted.loc[counted["source"] == "court", "person_key"])
    agency = counted[counted["source"] != "court"]
    quality = (
        agency.assign(linked=agency["person_key"].isin(court_keys))
        .rename(columns={"source": "agency"})
        .groupby("agency", sort=True)["linked"]
        .agg(n_records="size", n_linked="sum")
        .reset_index()
    )
    quality["match_threshold"] = 1.0
    quality["precision"] = 1.0
    quality["recall"] = 1.0
    out = Path(out)
    with atomic_dir(out) as tmp:
        write_table(cw, tmp / "crosswalk.csv")
        write_table(quality, tmp / "linkage_quality.csv")
    return out
