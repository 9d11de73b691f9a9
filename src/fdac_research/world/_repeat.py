"""Repeat proceedings: the same mother back in court in a later case of the world.

Every closed case with a mother gets a time from its final hearing to the mother's next
care proceedings, from a proportional-hazards model (constant hazard, per year)::

    hazard = exp(a + log(recurrence_hazard_ratio) * fdac + 0.5 * severity - h * U)

``a`` is calibrated so that the comparison group's chance of a later case within seven years
is ``WorldConfig.repeat_rate``. Both potential times are drawn with one exponential variate
(common random numbers), so the planted FDAC effect on recurrence is known exactly. A return
that falls inside the world's application window becomes a real later case: the case of
the world whose application date is closest to it (preferring the same court, within 30 days;
else any court within 90 days) is given that mother. The later case keeps its own
circumstances (cohort, substances, severity were drawn for it afresh: a mother's life
changes between proceedings) and its first child becomes a new baby; the mother's identity
carries over with the noise a court sees across cases (a changed surname, a new address),
and sometimes the same partner or an older child of the first case appears again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from fdac_research.world._config import WorldConfig
from fdac_research.world._identity import sample_surnames

__all__ = [
    "Recurrence",
    "draw_recurrence",
    "place_repeats",
    "carry_identities",
    "chain_order",
    "three_year_risks",
]

#: Log-hazard per SD of the case's severity (more severe cases come back sooner).
_SEVERITY = 0.5
#: Matching a drawn return date to a case: same court within this many days, else any court.
_SAME_COURT_DAYS = 30
_ANY_COURT_DAYS = 90
#: Identity changes between a mother's cases (assumptions, not published rates).
_P_SURNAME_CHANGE = 0.15
_P_SAME_ADDRESS = 0.4
_P_SAME_PARTNER = 0.5
_P_SIBLING_AGAIN = 0.25
_YEAR = 365.25
#: No later case (which begins with a new baby) for a mother older than this.
_MAX_MOTHER_AGE = 45


@dataclass
class Recurrence:
    """Drawn return times (years from the final hearing; ``inf`` for no final hearing) and
    the later case each return became (``-1`` where none did)."""

    years_untreated: np.ndarray
    years_treated: np.ndarray
    years: np.ndarray
    hazard_untreated: np.ndarray
    hazard_treated: np.ndarray
    later_case: np.ndarray
    effects: dict[str, Any]


def draw_recurrence(
    cfg: WorldConfig,
    rng: np.random.Generator,
    *,
    fdac: np.ndarray,
    severity: np.ndarray,
    hidden: np.ndarray,
    eligible: np.ndarray,
) -> Recurrence:
    """Potential times to a later case for every case (meaningful where ``eligible``: a
    closed case with a mother)."""
    n = len(fdac)
    base = _SEVERITY * severity - cfg.hidden_confounder * hidden
    log_hr = float(np.log(cfg.recurrence_hazard_ratio))
    comp = eligible & ~fdac
    ref = base[comp] if comp.any() else base[eligible] if eligible.any() else base
    if cfg.repeat_rate > 0:
        a = brentq(lambda x: (1 - np.exp(-7 * np.exp(x + ref))).mean() - cfg.repeat_rate, -30, 10)
    else:
        a = -np.inf
    e = rng.exponential(1.0, n)
    lam0 = np.exp(a + base)
    lam1 = np.exp(a + base + log_hr)
    with np.errstate(divide="ignore"):
        t0, t1 = e / lam0, e / lam1
    years = np.where(fdac, t1, t0)
    years = np.where(eligible, years, np.inf)
    effects: dict[str, Any] = {
        "coefficients": {
            "log_hazard_intercept_per_year": float(a) if np.isfinite(a) else None,
            "fdac_log_hazard": log_hr,
            "severity": _SEVERITY,
            "hidden": -cfg.hidden_confounder,
        },
        "hazard_ratio": float(cfg.recurrence_hazard_ratio),
        "repeat_rate_7y_comparison": float(cfg.repeat_rate),
    }
    return Recurrence(t0, t1, years, lam0, lam1, np.full(n, -1, dtype=np.int64), effects)


def place_repeats(
    rec: Recurrence,
    *,
    final: np.ndarray,
    app: np.ndarray,
    court: np.ndarray,
    has_mother: np.ndarray,
    mother_age: np.ndarray,
    window_end: np.datetime64,
) -> None:
    """Turn each return inside the window into a later case of the world (``rec.later_case``
    and, where the match moved the date, ``rec.years`` are updated in place).

    Returns are placed in date order, so a mother's second return follows her first; a case
    is the later case of at most one earlier case. A later case begins with a new baby, so a
    return after the mother's ``_MAX_MOTHER_AGE`` is not placed (``mother_age`` is her age at
    the earlier case's application).
    """
    finite = np.isfinite(rec.years)
    target = np.full(len(app), np.datetime64("NaT"), dtype="datetime64[D]")
    days = np.where(finite, rec.years * _YEAR, 0).round().astype(np.int64)
    target[finite] = final[finite] + days[finite].astype("timedelta64[D]")
    age_then = mother_age + (target - app).astype("timedelta64[D]").astype(np.int64) / _YEAR
    fertile = np.where(finite, age_then, np.inf) <= _MAX_MOTHER_AGE
    order = np.flatnonzero(finite & (target <= window_end) & fertile)
    order = order[np.argsort(target[order], kind="stable")]
    taken = ~has_mother.copy()  # a later case needs a mother
    app_d = app.astype("datetime64[D]").astype(np.int64)
    # Cases sorted by application date (ties by index): the candidates of a return are the
    # cases applied within _ANY_COURT_DAYS of its target date, one contiguous run of this
    # order, so each return looks at a few hundred cases, not at the whole world.
    by_date = np.argsort(app_d, kind="stable")
    sorted_d = app_d[by_date]
    final_d = final.astype(np.int64)
    for a in order:
        taken[a] = True  # a case is never its own later case
        t = int(target[a].astype(np.int64))
        lo = np.searchsorted(sorted_d, t - _ANY_COURT_DAYS, side="left")
        hi = np.searchsorted(sorted_d, t + _ANY_COURT_DAYS, side="right")
        near = by_date[lo:hi]
        near = near[~taken[near] & (app_d[near] > final_d[a])]
        if not len(near):
            rec.years[a] = np.inf  # no case of the world near the date: never seen again
            continue
        gap = np.abs(app_d[near] - t)
        same = (court[near] == court[a]) & (gap <= _SAME_COURT_DAYS)
        if same.any():
            near, gap = near[same], gap[same]
        # the nearest date; between equally near cases, the lowest index (as argmin over
        # the cases in index order would choose)
        best = np.flatnonzero(gap == gap.min())
        b = int(near[best].min())
        rec.later_case[a] = b
        rec.years[a] = (app_d[b] - int(final_d[a])) / _YEAR
        taken[b] = True
    # returns after the window (or none at all) stay as drawn: censored by the extract


def chain_order(rec: Recurrence, app: np.ndarray) -> np.ndarray:
    """The earlier cases that have a later case, in the later case's application order (so
    a mother's first pair is handled before her second)."""
    pairs = np.flatnonzero(rec.later_case >= 0)
    return pairs[np.argsort(app[rec.later_case[pairs]], kind="stable")]


def carry_identities(
    rng: np.random.Generator, people: pd.DataFrame, rec: Recurrence, app: np.ndarray, la: np.ndarray
) -> None:
    """Give each later case the earlier case's mother (and sometimes partner and an older
    child), in place: identity columns and ``person_idx`` (the true person)."""
    role = people["role"].to_numpy()
    case = people["case_idx"].to_numpy()
    pairs = chain_order(rec, app)
    if not len(pairs):
        return
    first: dict[tuple[int, str], int] = {}
    rows_of: dict[tuple[int, str], np.ndarray] = {}
    groups: dict[Any, Any] = people.groupby(["case_idx", "role"]).indices
    for (c, r), idx in groups.items():
        rows_of[(int(c), str(r))] = np.asarray(idx)
        first[(int(c), str(r))] = int(idx[0])
    ident = ["given_name", "family_name", "date_of_birth", "ethnicity", "person_idx"]
    cols = {c: people[c].to_numpy(copy=True) for c in [*ident, "postcode", "sex", "age"]}
    prior = people["prior_proceedings"].to_numpy(copy=True)
    changed: list[int] = []
    u = rng.random((len(pairs), 5))
    new_surname = sample_surnames(rng, len(pairs))
    for j, a in enumerate(pairs):
        b = int(rec.later_case[a])
        ma, mb = first.get((int(a), "mother")), first.get((b, "mother"))
        if ma is None or mb is None:
            continue
        for c in ident:
            cols[c][mb] = cols[c][ma]
        changed.append(mb)
        if u[j, 0] < _P_SURNAME_CHANGE:  # married, or back to a maiden name
            cols["family_name"][mb] = new_surname[j]
        if la[a] == la[b] and u[j, 1] < _P_SAME_ADDRESS:
            cols["postcode"][mb] = cols["postcode"][ma]
        prior[mb] = max(int(np.nan_to_num(prior[mb])), int(np.nan_to_num(prior[ma])) + 1)
        fa, fb = first.get((int(a), "father")), first.get((b, "father"))
        if fa is not None and fb is not None and u[j, 2] < _P_SAME_PARTNER:
            for c in ident:
                cols[c][fb] = cols[c][fa]
            changed.append(fb)
        kids_a, kids_b = rows_of.get((int(a), "child")), rows_of.get((b, "child"))
        if (
            kids_a is not None
            and kids_b is not None
            and len(kids_b) > 1
            and u[j, 3] < _P_SIBLING_AGAIN
        ):
            dob = cols["date_of_birth"][kids_a].astype("datetime64[D]")
            young = kids_a[(app[b] - dob).astype(np.int64) < 17 * _YEAR]
            if len(young):
                k = int(young[int(u[j, 4] * len(young))])
                for c in [*ident, "sex"]:
                    cols[c][kids_b[1]] = cols[c][k]
                changed.append(int(kids_b[1]))
    for c, v in cols.items():
        people[c] = v
    people["prior_proceedings"] = prior
    rows = np.array(changed, dtype=np.int64)
    dob = people["date_of_birth"].to_numpy(dtype="datetime64[D]")[rows]
    age = people["age"].to_numpy(copy=True)
    age[rows] = np.floor((app[case[rows]] - dob).astype(np.int64) / _YEAR).astype(int)
    people["age"] = age
    assert (role == people["role"].to_numpy()).all()


def three_year_risks(rec: Recurrence) -> tuple[np.ndarray, np.ndarray]:
    """Each case's modelled chance of a later case within three years, untreated and
    treated (from the hazards, not from one draw)."""
    return 1 - np.exp(-3 * rec.hazard_untreated), 1 - np.exp(-3 * rec.hazard_treated)
