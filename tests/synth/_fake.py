"""A plausible research dataset (docs/data-contract.md §2) generated from a seed, for tests and for
developing the synthesizers before the governance build exists.

Not the package's world model: a short, independent generator with the dependencies a
synthesizer must keep (FDAC families reunified and ceasing misuse more often, mothers at least
16 years older than their children, orders that follow placements, open cases without
outcomes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fdac_research import reference
from fdac_research.dataset import ResearchData

_ETH = np.array(["White", "Mixed", "Asian", "Black", "Other"], dtype=object)
_SUBS = np.array(["alcohol", "cannabis", "cocaine", "crack", "heroin"], dtype=object)


def fake_research(n_cases: int = 200, seed: int = 0) -> ResearchData:
    """A research dataset of ``n_cases`` families."""
    rng = np.random.default_rng(seed)
    courts = list(reference.COURTS)
    fdac_courts = np.array([reference.COURTS[c][1] for c in courts])
    court_i = rng.integers(0, len(courts), n_cases)
    fdac = fdac_courts[court_i] & (rng.random(n_cases) < 0.55)
    court = np.array(courts, dtype=object)[court_i]
    la = np.array(
        [reference.COURTS[c][0][rng.integers(0, len(reference.COURTS[c][0]))] for c in court],
        dtype=object,
    )
    year = rng.integers(2016, 2025, n_cases)
    open_ = rng.random(n_cases) < np.where(year >= 2024, 0.5, 0.05)
    duration = np.round(rng.gamma(6.0, 7.0 + 1.5 * fdac), 1)
    n_children = 1 + rng.poisson(0.6, n_cases)
    cases = pd.DataFrame(
        {
            "case_id": [f"c{i:05d}" for i in range(n_cases)],
            "cohort": np.where(fdac, "fdac", "comparison").astype(object),
            "court": court,
            "local_authority": la,
            "application_year": pd.array(year, dtype="Int64"),
            "duration_weeks": np.where(open_, np.nan, duration),
            "n_children": pd.array(n_children, dtype="Int64"),
            "contested_final_hearing": pd.array(
                np.where(open_, None, rng.random(n_cases) < np.where(fdac, 0.05, 0.24)),
                dtype="boolean",
            ),
            "expert_witness": pd.array(
                np.where(open_, None, rng.random(n_cases) < np.where(fdac, 0.08, 0.9)),
                dtype="boolean",
            ),
        }
    )
    eth = _ETH[rng.choice(5, n_cases, p=[0.7, 0.1, 0.08, 0.08, 0.04])]
    # children first: the mother's age follows her eldest child's
    kid_case = np.repeat(np.arange(n_cases), n_children)
    k = len(kid_case)
    kid_age = np.where(rng.random(k) < 0.35, 0, rng.integers(0, 16, k))
    eldest = pd.Series(kid_age).groupby(kid_case).max().reindex(range(n_cases)).to_numpy()
    m_age = np.maximum(eldest + 16 + rng.gamma(2.0, 3.0, n_cases).astype(int), 17)
    ceased = rng.random(n_cases) < np.where(fdac, 0.45, 0.28)
    adult_rows = []
    for role, share, sex in (
        ("mother", 1.0, "F"),
        ("father", 0.55, "M"),
        ("other_carer", 0.05, None),
    ):
        has = rng.random(n_cases) < share
        idx = np.flatnonzero(has)
        m = len(idx)
        age = m_age[idx] + (rng.integers(0, 8, m) if role != "mother" else 0)
        subs = np.where(
            rng.random(m) < (0.85 if role == "mother" else 0.6),
            _SUBS[rng.integers(0, 5, m)],
            None,
        ).astype(object)
        two = (rng.random(m) < 0.3) & (subs != None)  # noqa: E711
        subs[two] = subs[two] + ";alcohol"
        subs[two & (subs == "alcohol;alcohol")] = "alcohol"
        ceased_r = (
            ceased[idx] if role == "mother" else rng.random(m) < np.where(fdac[idx], 0.25, 0.08)
        )
        adult_rows.append(
            pd.DataFrame(
                {
                    "case_idx": idx,
                    "role": role,
                    "sex": sex if sex else np.where(rng.random(m) < 0.5, "F", "M"),
                    "age_at_application": age,
                    "ethnicity": np.where(rng.random(m) < 0.06, None, eth[idx]),
                    "substances": subs,
                    "domestic_abuse": rng.random(m) < 0.4,
                    "mental_health": rng.random(m) < 0.35,
                    "prior_proceedings": rng.poisson(0.4, m),
                    "convictions": rng.poisson(np.where(role == "father", 1.5, 0.6), m),
                    "hearings_attended_pct": np.round(
                        100 * rng.beta(np.where(fdac[idx], 6, 3), 2), 1
                    ),
                    "ceased_misuse": np.where(open_[idx], None, ceased_r),
                }
            )
        )
    adults = pd.concat(adult_rows, ignore_index=True).sort_values("case_idx", kind="stable")
    adults.insert(0, "person_id", [f"a{i:06d}" for i in range(len(adults))])
    adults.insert(1, "case_id", cases["case_id"].to_numpy()[adults.pop("case_idx").to_numpy()])
    for c in ("age_at_application", "prior_proceedings", "convictions"):
        adults[c] = adults[c].astype("Int64")
    for c in ("domestic_abuse", "mental_health", "ceased_misuse"):
        adults[c] = adults[c].astype("boolean")
    adults = adults.reset_index(drop=True)
    # child outcomes: reunification follows FDAC and the mother's cessation
    p_reun = 1 / (1 + np.exp(-(-1.4 + 0.6 * fdac[kid_case] + 1.2 * ceased[kid_case])))
    reun = rng.random(k) < p_reun
    u = rng.random(k)
    p_adopt = np.where(kid_age <= 1, 0.35, 0.05)
    place = np.where(
        reun,
        "parent",
        np.where(u < p_adopt, "adoption", np.where(u < p_adopt + 0.35, "kinship", "foster")),
    ).astype(object)
    v = rng.random(k)
    order = np.select(
        [place == "parent", place == "kinship", place == "adoption"],
        [
            np.where(v < 0.5, "supervision_order", "no_order"),
            np.where(v < 0.7, "special_guardianship_order", "child_arrangements_order"),
            "placement_order",
        ],
        "care_order",
    ).astype(object)
    ko = open_[kid_case]
    observable = (year[kid_case] <= 2021) & ~ko
    children = pd.DataFrame(
        {
            "person_id": [f"k{i:06d}" for i in range(k)],
            "case_id": cases["case_id"].to_numpy()[kid_case],
            "sex": np.where(rng.random(k) < 0.5, "F", "M").astype(object),
            "age_at_application": pd.array(kid_age, dtype="Int64"),
            "ethnicity": np.where(rng.random(k) < 0.06, None, eth[kid_case]).astype(object),
            "final_order": np.where(ko, None, order).astype(object),
            "placement_at_end": np.where(ko, None, place).astype(object),
            "reunified": pd.array(np.where(ko, None, reun), dtype="boolean"),
            "returned_to_court_3y": pd.array(
                np.where(observable, rng.random(k) < np.where(reun, 0.35, 0.08), None),
                dtype="boolean",
            ),
        }
    )
    lq = pd.DataFrame(
        {
            "agency": ["police", "health"],
            "n_records": pd.array([5 * n_cases, 4 * n_cases], dtype="Int64"),
            "n_linked": pd.array([n_cases, 2 * n_cases], dtype="Int64"),
            "match_threshold": [0.9, 0.9],
            "precision": [0.98, 0.97],
            "recall": [0.95, 0.96],
        }
    )
    return ResearchData(cases=cases, adults=adults, children=children, linkage_quality=lq)
