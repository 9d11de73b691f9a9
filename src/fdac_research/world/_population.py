"""Families, people, confounders, referral to FDAC and outcomes: the causal model.

Every family (care-proceedings case) gets observed confounders (mother's substances, prior
proceedings, mental health, domestic abuse, convictions, age...) and an optional hidden
confounder ``U``. Referral to FDAC depends on both; so do outcomes. The FDAC effect is planted
on the log-odds scale and calibrated so that the *population* (ATE) odds ratio equals the
target, and the intercept so that the comparison group's observed rate equals its target.
Potential outcomes under both arms are drawn with common random numbers and kept as truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

from fdac_research import reference, schema
from fdac_research.world._config import WorldConfig
from fdac_research.world._identity import sample_given, sample_postcodes, sample_surnames
from fdac_research.world._repeat import (
    carry_identities,
    chain_order,
    draw_recurrence,
    place_repeats,
    three_year_risks,
)

__all__ = ["Population", "simulate_population"]

_SUBSTANCE_P = {
    "alcohol": 0.45,
    "cannabis": 0.40,
    "cocaine": 0.25,
    "crack": 0.12,
    "heroin": 0.18,
    "amphetamine": 0.08,
    "benzodiazepines": 0.06,
    "other": 0.03,
}
#: The negative control's own random stream (see simulate_population) and its model: the
#: log-rate of child-protection plans rises with severity and falls with the hidden advantage.
_NEGATIVE_CONTROL_STREAM = 0x4E43
#: Repeat proceedings draw from their own stream too (world/_repeat.py).
_REPEAT_STREAM = 0x5250
_NC_SEVERITY = 0.5
_NC_HIDDEN = -0.8
_ETHNICITY_P = {"White": 0.76, "Mixed": 0.07, "Asian": 0.07, "Black": 0.07, "Other": 0.03}


@dataclass
class Population:
    """The simulated world before it is written out."""

    cases: pd.DataFrame
    people: pd.DataFrame
    effects: dict[str, Any]


def _calibrate(
    base: np.ndarray, treated: np.ndarray, y0_rate: float, odds_ratio: float
) -> tuple[float, float]:
    """Intercept so the comparison group's mean risk is ``y0_rate``; then the treatment
    log-odds so the population odds ratio (mean risk treated vs untreated) is ``odds_ratio``."""
    comp = base[~treated] if (~treated).any() else base
    alpha = brentq(lambda a: expit(a + comp).mean() - y0_rate, -30, 30)
    p0 = expit(alpha + base).mean()
    target_p1 = odds_ratio * p0 / (1 - p0 + odds_ratio * p0)
    tau = brentq(lambda t: expit(alpha + base + t).mean() - target_p1, -20, 20)
    return float(alpha), float(tau)


def _effect_summary(p0: np.ndarray, p1: np.ndarray, treated: np.ndarray) -> dict[str, Any]:
    def summary(mask: np.ndarray) -> dict[str, float]:
        a, b = float(p0[mask].mean()), float(p1[mask].mean())
        return {
            "p_untreated": round(a, 6),
            "p_treated": round(b, 6),
            "risk_difference": round(b - a, 6),
            "odds_ratio": round((b / (1 - b)) / (a / (1 - a)), 6),
        }

    return {"ate": summary(np.ones(len(p0), bool)), "att": summary(treated), "n": int(len(p0))}


def simulate_population(cfg: WorldConfig, rng: np.random.Generator) -> Population:
    """Simulate cases and people (identities, confounders, treatment, outcomes)."""
    n = cfg.n_families
    # --- cases: court, local authority, dates ------------------------------------------
    courts = list(reference.COURTS)
    load = np.array([reference.COURTS[c][2] for c in courts])
    court = rng.choice(np.array(courts, dtype=object), n, p=load / load.sum())
    la = np.empty(n, dtype=object)
    for c in courts:
        idx = np.flatnonzero(court == c)
        la[idx] = rng.choice(np.array(reference.COURTS[c][0], dtype=object), len(idx))
    has_fdac = np.array([reference.COURTS[c][1] for c in court])
    start = np.datetime64(f"{cfg.first_year}-01-01")
    end = min(np.datetime64(f"{cfg.last_year}-12-31"), np.datetime64(cfg.extract_date))
    app = start + rng.integers(0, int((end - start).astype(int)) + 1, n).astype("timedelta64[D]")

    # --- family composition -----------------------------------------------------------
    has_mother = rng.random(n) < 0.96
    has_father = (rng.random(n) < 0.55) | ~has_mother
    has_other = rng.random(n) < 0.06
    n_children = 1 + np.minimum(rng.poisson(0.65, n), 6)

    # --- observed confounders (the mother's, which drive referral and outcomes) --------
    m_age = np.round(19 + rng.gamma(4.0, 2.6, n)).astype(int)
    subs = {s: rng.random(n) < p for s, p in _SUBSTANCE_P.items()}
    none = ~np.any(np.column_stack(list(subs.values())), axis=1)
    subs["alcohol"] |= none & (rng.random(n) < 0.5)
    subs["cannabis"] |= none & ~subs["alcohol"]
    opiate_crack = subs["heroin"] | subs["crack"]
    mental = rng.random(n) < expit(-0.2 + 0.6 * opiate_crack)
    dom_abuse = rng.random(n) < 0.5
    prior = rng.poisson(0.12 + 0.25 * opiate_crack)  # ~20% of cases are repeat proceedings
    convictions = rng.poisson(np.where(opiate_crack, 2.0, 0.6))
    U = rng.standard_normal(n)
    severity = (
        0.6 * opiate_crack
        + 0.5 * (prior > 0)
        + 0.4 * mental
        + 0.3 * dom_abuse
        + 0.25 * (convictions > 2)
        - 0.02 * (m_age - 28)
    )
    severity = (severity - severity.mean()) / severity.std()
    h = cfg.hidden_confounder

    # --- referral to FDAC (only where the court runs one) -----------------------------
    lin_t = -0.6 * severity + h * U
    target = cfg.fdac_share / max(has_fdac.mean(), 1e-9)
    if target >= 0.99:
        raise ValueError(f"fdac_share {cfg.fdac_share} is too high for the share of FDAC courts")
    a_t = brentq(lambda a: expit(a + lin_t[has_fdac]).mean() - target, -30, 30)
    fdac = has_fdac & (rng.random(n) < expit(a_t + lin_t))

    # --- duration, open cases --------------------------------------------------------
    weeks = np.where(fdac, rng.gamma(9.0, 4.3, n), rng.gamma(7.0, 4.4, n)) + 6
    final = app + np.round(weeks * 7).astype("timedelta64[D]")
    closed = final <= np.datetime64(cfg.extract_date)

    # --- mothers' and fathers' cessation: potential outcomes ---------------------------
    effects: dict[str, Any] = {}
    base_m = -0.8 * severity + h * U
    sel = closed & has_mother
    a_m, t_m = _calibrate(
        base_m[sel], fdac[sel], cfg.mother_cessation_comparison, cfg.mother_cessation_odds_ratio
    )
    u_m = rng.random(n)
    m0 = u_m < expit(a_m + base_m)
    m1 = u_m < expit(a_m + base_m + t_m)
    sel = closed & has_mother
    effects["ceased_misuse_mothers"] = _effect_summary(
        expit(a_m + base_m)[sel], expit(a_m + base_m + t_m)[sel], fdac[sel]
    )
    effects["ceased_misuse_mothers"]["coefficients"] = {
        "intercept": a_m,
        "fdac_log_odds": t_m,
        "severity": -0.8,
        "hidden": h,
    }
    f_sev = severity + 0.5 * rng.standard_normal(n)
    base_f = -0.8 * f_sev + h * U
    sel = closed & has_father
    a_f, t_f = _calibrate(
        base_f[sel], fdac[sel], cfg.father_cessation_comparison, cfg.father_cessation_odds_ratio
    )
    u_f = rng.random(n)
    f0, f1 = u_f < expit(a_f + base_f), u_f < expit(a_f + base_f + t_f)
    sel = closed & has_father
    effects["ceased_misuse_fathers"] = _effect_summary(
        expit(a_f + base_f)[sel], expit(a_f + base_f + t_f)[sel], fdac[sel]
    )
    effects["ceased_misuse_fathers"]["coefficients"] = {
        "intercept": a_f,
        "fdac_log_odds": t_f,
        "severity": -0.8,
        "hidden": h,
    }

    # --- repeat proceedings: the same mother in a later case (world/_repeat.py) ----------
    rep_rng = np.random.default_rng([cfg.seed, _REPEAT_STREAM])
    eligible = closed & has_mother
    rec = draw_recurrence(cfg, rep_rng, fdac=fdac, severity=severity, hidden=U, eligible=eligible)
    place_repeats(
        rec,
        final=final.astype("datetime64[D]"),
        app=app.astype("datetime64[D]"),
        court=court,
        has_mother=has_mother,
        mother_age=m_age,
        window_end=end,
    )
    later = rec.later_case
    earlier = np.full(n, -1, dtype=np.int64)
    earlier[later[later >= 0]] = np.flatnonzero(later >= 0)
    # The later case's mother is the earlier case's, so her age follows (in date order, for a
    # mother seen three times); the children's ages below are bounded by it. Severity was
    # drawn with the case's own age: a mother's circumstances change between proceedings.
    for a in chain_order(rec, app.astype("datetime64[D]")):
        b = later[a]
        gap = (app[b] - app[a]).astype("timedelta64[D]").astype(np.int64) / 365.25
        m_age[b] = int(m_age[a] + np.floor(gap))

    cases = pd.DataFrame(
        {
            "case_idx": np.arange(n),
            "court": court,
            "local_authority": la,
            "cohort": np.where(fdac, "fdac", "comparison"),
            "application_date": app,
            "final_hearing_date": np.where(closed, final, np.datetime64("NaT")),
            "closed": closed,
            "n_children": n_children,
            "hidden_confounder": U,
            "severity": severity,
            "later_case_idx": later,
            "earlier_case_idx": earlier,
            "years_to_later_case": np.where(np.isfinite(rec.years), rec.years, np.nan),
            "years_untreated": np.where(eligible, rec.years_untreated, np.nan),
            "years_treated": np.where(eligible, rec.years_treated, np.nan),
        }
    )
    # Process measures (NatCen 2023): contested 4.2% vs 23.8%, expert witness 7.7% vs 96.1%.
    cases["contested_final_hearing"] = _masked(closed, rng.random(n) < np.where(fdac, 0.042, 0.238))
    cases["expert_witness"] = _masked(closed, rng.random(n) < np.where(fdac, 0.077, 0.961))

    # --- people -----------------------------------------------------------------------
    fam_surname = sample_surnames(rng, n)
    ethnicity = rng.choice(
        np.array(list(_ETHNICITY_P), dtype=object), n, p=list(_ETHNICITY_P.values())
    )
    fam_post = sample_postcodes(rng, la)
    rows = []

    def block(mask: np.ndarray, role: str, **cols: Any) -> None:
        idx = np.flatnonzero(mask)
        d = {"case_idx": idx, "role": role}
        d.update(
            {
                k: (v[idx] if isinstance(v, np.ndarray) and len(v) == n else v)
                for k, v in cols.items()
            }
        )
        rows.append(pd.DataFrame(d))

    # --- negative control: child-protection plans before the proceedings began ---------
    # Recorded before the case, so FDAC cannot change it (true effect: none); it depends on
    # the observed severity and on the hidden confounder (families with more of the hidden
    # advantage had fewer plans), so an adjusted "effect" of FDAC on it is the mark of
    # hidden selection. Drawn from its own generator: no other draw of the world moves.
    nc_rng = np.random.default_rng([cfg.seed, _NEGATIVE_CONTROL_STREAM])
    nc_log_rate = np.log(0.8) + _NC_SEVERITY * severity + _NC_HIDDEN * h * U
    cp_plans = nc_rng.poisson(np.exp(nc_log_rate))
    p_any = 1 - np.exp(-np.exp(nc_log_rate))
    effects["any_child_protection_plan_mothers"] = _effect_summary(
        p_any[has_mother], p_any[has_mother], fdac[has_mother]
    )
    effects["any_child_protection_plan_mothers"]["negative_control"] = True
    effects["any_child_protection_plan_mothers"]["coefficients"] = {
        "log_rate_intercept": float(np.log(0.8)),
        "severity": _NC_SEVERITY,
        "hidden": _NC_HIDDEN * h,
        "fdac": 0.0,
    }

    subs_text = _join_flags(subs)
    mother_ceased = np.where(fdac, m1, m0)
    block(
        has_mother,
        "mother",
        sex="F",
        age=m_age,
        substances=subs_text,
        domestic_abuse=dom_abuse,
        mental_health=mental,
        prior_proceedings=prior,
        convictions=convictions,
        child_protection_plans=cp_plans,
        y0=m0,
        y1=m1,
        outcome=mother_ceased,
        own_surname=np.where(rng.random(n) < 0.7, fam_surname, sample_surnames(rng, n)),
    )
    f_subs_mat = {s: rng.random(n) < p * 0.9 for s, p in _SUBSTANCE_P.items()}
    f_subs = _join_flags(f_subs_mat)
    block(
        has_father,
        "father",
        sex="M",
        age=m_age + np.round(rng.gamma(2.0, 1.8, n)).astype(int),
        substances=f_subs,
        domestic_abuse=dom_abuse | (rng.random(n) < 0.1),
        mental_health=rng.random(n) < 0.35,
        prior_proceedings=prior,
        convictions=rng.poisson(1.5 + convictions),
        y0=f0,
        y1=f1,
        outcome=np.where(fdac, f1, f0),
        own_surname=np.where(rng.random(n) < 0.4, fam_surname, sample_surnames(rng, n)),
    )
    o_sex = rng.choice(np.array(["F", "M"], dtype=object), n)
    block(
        has_other,
        "other_carer",
        sex=o_sex,
        age=np.round(30 + rng.gamma(3.0, 6.0, n)).astype(int),
        substances=None,
        domestic_abuse=False,
        mental_health=rng.random(n) < 0.2,
        prior_proceedings=0,
        convictions=rng.poisson(0.5, n),
        own_surname=sample_surnames(rng, n),
    )
    adults = pd.concat(rows, ignore_index=True)
    rows = []
    # children: ages skewed young (many care proceedings start at birth)
    kid_case = np.repeat(np.arange(n), n_children)
    k = len(kid_case)
    kid_age = np.where(
        rng.random(k) < 0.35, 0, np.minimum(rng.integers(0, 17, k), m_age[kid_case] - 16)
    )
    kid_age = np.clip(kid_age, 0, 17)
    # a later case begins with a new baby
    repeat_cases = np.flatnonzero(earlier >= 0)
    kid_age[np.searchsorted(kid_case, repeat_cases)] = 0
    kids = pd.DataFrame(
        {
            "case_idx": kid_case,
            "role": "child",
            "sex": rng.choice(np.array(["F", "M"], dtype=object), k),
            "age": kid_age,
        }
    )
    # Reunification: depends on FDAC, the mother's cessation, severity, infancy and U.
    sev_k, u_k = severity[kid_case], U[kid_case]
    base_r0 = 1.2 * m0[kid_case] - 0.5 * sev_k - 0.4 * (kid_age == 0) + h * u_k
    base_r1 = 1.2 * m1[kid_case] - 0.5 * sev_k - 0.4 * (kid_age == 0) + h * u_k
    closed_k, fdac_k = closed[kid_case], fdac[kid_case]
    comp = closed_k & ~fdac_k
    a_r = brentq(lambda a: expit(a + base_r0[comp]).mean() - cfg.reunification_comparison, -30, 30)
    p0_all = expit(a_r + base_r0[closed_k]).mean()
    target_p1 = (
        cfg.reunification_odds_ratio * p0_all / (1 - p0_all + cfg.reunification_odds_ratio * p0_all)
    )
    t_r = brentq(lambda t: expit(a_r + base_r1[closed_k] + t).mean() - target_p1, -20, 20)
    u_r = rng.random(k)
    r0 = u_r < expit(a_r + base_r0)
    r1 = u_r < expit(a_r + base_r1 + t_r)
    kids["y0"], kids["y1"] = r0, r1
    kids["outcome"] = np.where(fdac_k, r1, r0)
    effects["reunified_children"] = _effect_summary(
        expit(a_r + base_r0)[closed_k], expit(a_r + base_r1 + t_r)[closed_k], fdac_k[closed_k]
    )
    effects["reunified_children"]["coefficients"] = {
        "intercept": a_r,
        "fdac_log_odds_direct": t_r,
        "mother_ceased": 1.2,
        "severity": -0.5,
        "infant": -0.4,
        "hidden": h,
    }
    kids["own_surname"] = np.where(
        rng.random(k) < 0.8, fam_surname[kid_case], sample_surnames(rng, k)
    )

    people = pd.concat([adults, kids], ignore_index=True)
    people["sex"] = people["sex"].astype(object)
    for a in chain_order(rec, app.astype("datetime64[D]")):  # one mother, one ethnicity
        ethnicity[later[a]] = ethnicity[a]
    people["ethnicity"] = ethnicity[people["case_idx"].to_numpy()]
    people.loc[rng.random(len(people)) < 0.08, "ethnicity"] = None
    people["family_name"] = people.pop("own_surname")
    people["given_name"] = sample_given(rng, people["sex"].to_numpy())
    ci = people["case_idx"].to_numpy()
    days = (people["age"].to_numpy() * 365.25 + rng.integers(0, 365, len(people))).astype(int)
    people["date_of_birth"] = (app[ci] - days.astype("timedelta64[D]")).astype("datetime64[D]")
    post = fam_post[ci].copy()
    moved_out = (people["role"].to_numpy() == "father") & (rng.random(len(people)) < 0.4)
    moved_out |= people["role"].to_numpy() == "other_carer"
    post[moved_out] = sample_postcodes(rng, la[ci][moved_out])
    people["postcode"] = post
    people["closed"] = closed[ci]
    people["person_idx"] = np.arange(len(people))
    carry_identities(rep_rng, people, rec, app.astype("datetime64[D]"), la)
    # outcomes for children: orders and placements follow reunification
    is_child = people["role"].to_numpy() == "child"
    people["reunified"] = _masked(is_child, people["outcome"].to_numpy())
    _child_orders(rng, people, is_child)
    # A later case within three years of the final hearing, known once it has happened or
    # once three years of follow-up have passed (else unknown: censored by the extract).
    # Follow-up ends at the last date a later case could be seen (the end of the
    # application window); returns after it are censored.
    placed = later[ci] >= 0
    returned = placed & (rec.years[ci] <= 3)
    followed = (final[ci] + np.timedelta64(int(3 * 365.25), "D")) <= end
    people["returned_to_court_3y"] = _masked(
        is_child & closed[ci] & (returned | followed), returned
    )
    p0, p1 = three_year_risks(rec)
    sel = is_child & eligible[ci]
    if cfg.repeat_rate > 0 and sel.any():  # (no effect to state in a world without returns)
        ret = _effect_summary(p0[ci][sel], p1[ci][sel], fdac[ci][sel])
        ret.update(rec.effects)
        ret["later_cases"] = int((later >= 0).sum())
        ret["follow_up"] = (
            "from the final hearing to the end of the application window (the last "
            "application date a later case can have); a child's return within three years is "
            "unknown while fewer than three years have passed and no later case has begun"
        )
        effects["returned_to_court_3y_children"] = ret
    return Population(cases=cases, people=people, effects=effects)


def _masked(cond: np.ndarray, values: Any) -> np.ndarray:
    """``values`` where ``cond`` holds, ``None`` elsewhere (an object array)."""
    out = np.full(len(cond), None, dtype=object)
    v = np.broadcast_to(np.asarray(values, dtype=object), (len(cond),))
    out[cond] = v[cond]
    return out


def _join_flags(flags: dict[str, np.ndarray]) -> np.ndarray:
    """``;``-joined names of the true flags per row (``None`` where none is true)."""
    out = np.full(len(next(iter(flags.values()))), "", dtype=object)
    for name, mask in flags.items():
        out[mask] = np.where(out[mask] == "", name, out[mask] + ";" + name)
    out[out == ""] = None
    return out


def _child_orders(
    rng: np.random.Generator,
    people: pd.DataFrame,
    is_child: np.ndarray,
) -> None:
    m = len(people)
    reun = people["outcome"].to_numpy().astype(bool)
    age = people["age"].to_numpy()
    placement = _masked(reun, "parent")
    u = rng.random(m)
    p_adopt = np.where(age <= 1, 0.35, np.where(age <= 4, 0.15, 0.02))
    placement[~reun] = np.where(
        u[~reun] < p_adopt[~reun],
        "adoption",
        np.where(
            u[~reun] < p_adopt[~reun] + 0.35,
            "kinship",
            np.where(u[~reun] < 0.95, "foster", "other"),
        ),
    )
    v = rng.random(m)
    order = np.select(
        [placement == "parent", placement == "kinship", placement == "adoption"],
        [
            np.where(
                v < 0.45,
                "supervision_order",
                np.where(v < 0.65, "child_arrangements_order", "no_order"),
            ),
            np.where(v < 0.7, "special_guardianship_order", "child_arrangements_order"),
            "placement_order",
        ],
        "care_order",
    ).astype(object)
    closed = people["closed"].to_numpy()
    people["placement_at_end"] = _masked(is_child & closed, placement)
    people["final_order"] = _masked(is_child & closed, order)
    assert set(pd.unique(order)) <= set(schema.FINAL_ORDERS)
