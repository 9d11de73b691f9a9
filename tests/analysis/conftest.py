"""Simulated research datasets with a known treatment effect, built from a seed in code."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from fdac_research.dataset import ResearchData

TAU = 0.9  # true conditional log-odds ratio of FDAC on reunification and on cessation


@dataclass
class Simulated:
    research: ResearchData
    truth: dict[str, dict[str, dict[str, float]]]  # effects.json layout
    hidden: pd.Series  # the hidden confounder by case_id


def _summary(p1: np.ndarray, p0: np.ndarray) -> dict[str, float]:
    a, b = float(p0.mean()), float(p1.mean())
    return {
        "p_untreated": a,
        "p_treated": b,
        "risk_difference": b - a,
        "odds_ratio": (b / (1 - b)) / (a / (1 - a)),
    }


def simulate_research(
    seed: int, n_cases: int = 1500, tau: float = TAU, hidden: float = 0.0
) -> Simulated:
    """Families where the mother's severity drives both FDAC referral and outcomes.

    Every confounder is observed (and is a covariate of ``analysis_frame``), the models are
    main-effects logistic, so adjusted estimators are consistent and the naive one is not.
    With ``hidden > 0`` an unobserved family factor ``U`` (returned in ``Simulated.hidden``,
    by case) raises FDAC referral and both outcomes by ``hidden`` log-odds per SD.
    Children of one family share a family random effect (clustering). Truth is the average
    of the true risks under both arms over the rows with a known outcome.
    """
    rng = np.random.default_rng(seed)
    n = n_cases
    case_id = np.array([f"C{i:05d}" for i in range(n)], dtype=object)
    heroin = rng.random(n) < 0.25
    alcohol = rng.random(n) < 0.45
    cannabis = rng.random(n) < 0.4
    mental = rng.random(n) < 0.4
    dom = rng.random(n) < 0.5
    prior = rng.poisson(0.3 + 0.4 * heroin)
    conv = rng.poisson(np.where(heroin, 2.0, 0.7))
    age = np.round(22 + rng.gamma(4.0, 2.5, n)).astype(int)
    n_children = 1 + np.minimum(rng.poisson(0.7, n), 4)
    year = rng.integers(2015, 2021, n)
    U = rng.standard_normal(n)
    lin_t = -0.1 - 1.0 * heroin - 0.6 * mental - 0.6 * prior + 0.3 * alcohol + hidden * U
    fdac = rng.random(n) < expit(lin_t)
    closed = rng.random(n) < 0.9
    subs = np.array(
        [
            ";".join(s for s, f in (("alcohol", a), ("cannabis", c), ("heroin", h)) if f) or None
            for a, c, h in zip(alcohol, cannabis, heroin, strict=True)
        ],
        dtype=object,
    )
    subs_missing = rng.random(n) < 0.05
    subs_obs = np.where(subs_missing, None, subs)
    age_obs = np.where(rng.random(n) < 0.05, np.nan, age)
    cases = pd.DataFrame(
        {
            "case_id": case_id,
            "cohort": np.where(fdac, "fdac", "comparison").astype(object),
            "court": rng.choice(np.array(["Court A", "Court B", "Court C"], dtype=object), n),
            "local_authority": rng.choice(np.array(["LA 1", "LA 2"], dtype=object), n),
            "application_year": pd.array(year, dtype="Int64"),
            "duration_weeks": np.where(closed, rng.gamma(8, 5, n), np.nan),
            "n_children": pd.array(n_children, dtype="Int64"),
            "contested_final_hearing": pd.array(
                np.where(closed, rng.random(n) < 0.2, None), dtype="boolean"
            ),
            "expert_witness": pd.array(
                np.where(closed, rng.random(n) < 0.5, None), dtype="boolean"
            ),
        }
    )
    # mothers (all cases) and fathers (half); cessation outcome
    base_m = -0.6 - 1.0 * heroin - 0.5 * mental - 0.4 * prior + 0.4 * alcohol + hidden * U
    u = rng.random(n)
    m0, m1 = u < expit(base_m), u < expit(base_m + tau)
    ceased = np.where(fdac, m1, m0)
    mothers = pd.DataFrame(
        {
            "person_id": [f"M{i:05d}" for i in range(n)],
            "case_id": case_id,
            "role": "mother",
            "sex": "F",
            "age_at_application": pd.array(age_obs, dtype="Float64").astype("Int64"),
            "ethnicity": "White",
            "substances": subs_obs,
            "domestic_abuse": pd.array(dom, dtype="boolean"),
            "mental_health": pd.array(mental, dtype="boolean"),
            "prior_proceedings": pd.array(prior, dtype="Int64"),
            "convictions": pd.array(conv, dtype="Int64"),
            "hearings_attended_pct": rng.uniform(40, 100, n),
            "ceased_misuse": pd.array(np.where(closed, ceased, None), dtype="boolean"),
        }
    )
    has_f = rng.random(n) < 0.5
    fathers = mothers[has_f].copy()
    fathers["person_id"] = [f"F{i:05d}" for i in np.flatnonzero(has_f)]
    fathers["role"], fathers["sex"] = "father", "M"
    fathers["ceased_misuse"] = pd.array([None] * int(has_f.sum()), dtype="boolean")
    adults = pd.concat([mothers, fathers], ignore_index=True)
    # children, with a family random effect
    k_case = np.repeat(np.arange(n), n_children)
    k = len(k_case)
    kid_age = np.where(rng.random(k) < 0.3, 0, rng.integers(1, 17, k))
    family = rng.normal(0, 1.0, n)[k_case] + hidden * U[k_case]
    base_r = (
        -0.4
        - 1.1 * heroin[k_case]
        - 0.6 * mental[k_case]
        - 0.5 * prior[k_case]
        + 0.3 * alcohol[k_case]
        - 0.5 * (kid_age == 0)
    )
    # The family effect is known to the simulation: the true marginal risks average over it.
    ur = rng.random(k)
    r0, r1 = ur < expit(base_r + family), ur < expit(base_r + family + tau)
    reunified = np.where(fdac[k_case], r1, r0)
    children = pd.DataFrame(
        {
            "person_id": [f"K{i:06d}" for i in range(k)],
            "case_id": case_id[k_case],
            "sex": rng.choice(np.array(["F", "M"], dtype=object), k),
            "age_at_application": pd.array(kid_age, dtype="Int64"),
            "ethnicity": "White",
            "final_order": None,
            "placement_at_end": None,
            "reunified": pd.array(np.where(closed[k_case], reunified, None), dtype="boolean"),
            "returned_to_court_3y": pd.array([None] * k, dtype="boolean"),
        }
    )
    kc = closed[k_case]
    fk = fdac[k_case]
    p0k, p1k = expit(base_r + family)[kc], expit(base_r + family + tau)[kc]
    p0m, p1m = expit(base_m)[closed], expit(base_m + tau)[closed]
    truth = {
        "reunified_children": {
            "ate": _summary(p1k, p0k),
            "att": _summary(p1k[fk[kc]], p0k[fk[kc]]),
        },
        "ceased_misuse_mothers": {
            "ate": _summary(p1m, p0m),
            "att": _summary(p1m[fdac[closed]], p0m[fdac[closed]]),
        },
    }
    research = ResearchData(cases=cases, adults=adults, children=children)
    return Simulated(research=research, truth=truth, hidden=pd.Series(U, index=case_id))


@pytest.fixture(scope="session")
def simulated() -> Simulated:
    """A 1,500-family simulated research dataset (seed 2024) with known effects."""
    return simulate_research(2024)


@pytest.fixture(scope="session")
def simulated_hidden() -> Simulated:
    """The same design with a strong hidden family factor (1.2 log-odds per SD)."""
    return simulate_research(2024, hidden=1.2)
