"""Agency extracts: who each agency holds records about, what it records, and the identifier
errors its records carry relative to the court's."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from fdac_research import reference, schema
from fdac_research.world._config import CorruptionRates, WorldConfig
from fdac_research.world._identity import (
    corrupt_identities,
    random_postcodes,
    sample_given,
    sample_postcodes,
    sample_surnames,
)

__all__ = ["non_case_people", "agency_extracts"]

_PREFIX = {
    "cafcass": "CAF",
    "local_authority": "LA",
    "police": "POL",
    "health": "NHS",
    "education": "EDU",
    "substance_misuse": "SMS",
    "domestic_abuse": "DAS",
}


def _flag(s: pd.Series) -> np.ndarray:
    """A boolean column with missing read as False."""
    return pd.array(s.to_numpy(dtype=object), dtype="boolean").fillna(False).to_numpy(dtype=bool)


def non_case_people(
    cfg: WorldConfig, rng: np.random.Generator, n: int, extract: np.datetime64
) -> pd.DataFrame:
    """People known to agencies who are in no care-proceedings case."""
    las = np.array(list(reference.LOCAL_AUTHORITIES), dtype=object)
    la = rng.choice(las, n)
    sex = rng.choice(np.array(["F", "M"], dtype=object), n)
    child = rng.random(n) < 0.35
    age = np.where(child, rng.integers(0, 18, n), rng.integers(18, 70, n))
    days = (age * 365.25 + rng.integers(0, 365, n)).astype(int)
    subs = np.where(
        rng.random(n) < 0.5, "alcohol", np.where(rng.random(n) < 0.5, "cannabis", "cocaine;crack")
    )
    return pd.DataFrame(
        {
            "role": np.where(child, "child", "adult"),
            "sex": sex,
            "age": age,
            "given_name": sample_given(rng, sex),
            "family_name": sample_surnames(rng, n),
            "date_of_birth": (extract - days.astype("timedelta64[D]")).astype("datetime64[D]"),
            "postcode": sample_postcodes(rng, la),
            "local_authority": la,
            "substances": subs.astype(object),
            "domestic_abuse": rng.random(n) < 0.4,
            "mental_health": rng.random(n) < 0.3,
            "prior_proceedings": rng.poisson(0.1, n),
            "convictions": rng.poisson(1.0, n),
        }
    )


def _coverage(agency: str, p: pd.DataFrame, rng: np.random.Generator, in_case: bool) -> np.ndarray:
    """Probability that ``agency`` holds a record about each person."""
    adult = (p["role"] != "child").to_numpy()
    m = len(p)
    if agency == "cafcass":  # Cafcass is in every public-law case, and in private-law ones
        return np.where(in_case, 0.97, 0.15) * np.ones(m)
    if agency == "local_authority":
        return np.where(adult, 0.9 if in_case else 0.2, 0.95 if in_case else 0.3)
    if agency == "police":
        offends = p["convictions"].fillna(0).to_numpy() > 0
        return np.where(adult, np.where(offends, 0.95, 0.2), 0.0)
    if agency == "health":
        return np.full(m, 0.85 if in_case else 0.6)
    if agency == "education":
        return np.where(~adult & (p["age"].to_numpy() >= 4), 0.9, 0.0)
    if agency == "substance_misuse":
        uses = p["substances"].notna().to_numpy()
        return np.where(adult & uses, 0.85 if in_case else 0.4, 0.0)
    if agency == "domestic_abuse":
        da = _flag(p["domestic_abuse"])
        return np.where(adult, np.where(da, 0.8, 0.03), 0.0)
    raise ValueError(f"unknown agency {agency!r}")


def _known_or(p: pd.DataFrame, column: str, draws: np.ndarray) -> np.ndarray:
    """``p[column]`` where the person has a value, else ``draws``."""
    if column not in p.columns:
        return draws
    known = p[column].to_numpy(dtype=float)
    return np.where(np.isnan(known), draws, known).astype(draws.dtype)


def _attributes(agency: str, p: pd.DataFrame, rng: np.random.Generator) -> dict[str, Any]:
    m = len(p)
    if agency == "cafcass":
        return {"safeguarding_concerns": rng.poisson(1.5, m)}
    if agency == "local_authority":
        return {
            "prior_proceedings": p["prior_proceedings"].fillna(0).to_numpy().astype(int),
            # a mother's plans before her proceedings (the world's negative control); anyone
            # else's are noise
            "child_protection_plans": _known_or(p, "child_protection_plans", rng.poisson(0.8, m)),
        }
    if agency == "police":
        return {
            "convictions": p["convictions"].fillna(0).to_numpy().astype(int),
            "cautions": rng.poisson(0.6, m),
        }
    if agency == "health":
        return {"mental_health": _flag(p["mental_health"])}
    if agency == "education":
        return {
            "school_attendance_pct": np.round(np.clip(100 - rng.gamma(2.0, 6.0, m), 20, 100), 1)
        }
    if agency == "substance_misuse":
        return {
            "substances": p["substances"].to_numpy(),
            "treatment_episodes": 1 + rng.poisson(1.0, m),
        }
    if agency == "domestic_abuse":
        return {"domestic_abuse": _flag(p["domestic_abuse"])}
    raise ValueError(f"unknown agency {agency!r}")


def agency_extracts(
    cfg: WorldConfig,
    rng: np.random.Generator,
    everyone: pd.DataFrame,
    rates: CorruptionRates | None = None,
) -> dict[str, pd.DataFrame]:
    """One extract per agency, with ``record_id`` and ``true_person_id`` (dropped on write).

    ``everyone`` holds court and non-case people with ``true_person_id``, ``in_case``,
    identities (clean) and the attributes agencies record.
    """
    rates = rates or CorruptionRates()
    probs = {k: v * cfg.error_rate for k, v in dataclasses.asdict(rates).items()}
    out = {}
    in_case = everyone["in_case"].to_numpy()
    female_adult = ((everyone["sex"] == "F") & (everyone["role"] != "child")).to_numpy()
    for agency in schema.AGENCIES:
        g = rng.spawn(1)[0]
        cover = np.zeros(len(everyone))
        for flag in (True, False):
            sel = in_case == flag
            cover[sel] = _coverage(agency, everyone[sel], g, flag)
        take = np.flatnonzero(g.random(len(everyone)) < cover)
        dup = take[g.random(len(take)) < probs["duplicate"]]
        rows = np.concatenate([take, dup])
        p = everyone.iloc[rows].reset_index(drop=True)
        other = sample_surnames(g, len(p))
        moved = np.where(
            g.random(len(p)) < 0.7,
            sample_postcodes(g, p["local_authority"].to_numpy()),
            random_postcodes(
                g,
                np.array(["B1", "M1", "L1", "S1", "NE1", "BS1", "CF10", "NG1"], dtype=object),
                len(p),
            ),
        )
        ident = corrupt_identities(
            g,
            p[["given_name", "family_name", "date_of_birth", "sex", "postcode"]],
            probs,
            female_adult[rows],
            other,
            moved,
        )
        # Agencies only record sex for about 95% of people even without "errors".
        ident.loc[g.random(len(p)) < 0.03, "sex"] = None
        frame = pd.DataFrame({"true_person_id": p["true_person_id"].to_numpy()})
        for c in ident.columns:
            frame[c] = ident[c].to_numpy()
        for k, v in _attributes(agency, p, g).items():
            frame[k] = v
        order = g.permutation(len(frame))
        frame = frame.iloc[order].reset_index(drop=True)
        ids = g.choice(10**8, len(frame), replace=False) + 10**8
        frame.insert(0, "record_id", [f"{_PREFIX[agency]}{i}" for i in ids])
        out[agency] = frame
    return out


def attendance_probability(fdac: np.ndarray, severity: np.ndarray) -> np.ndarray:
    """Probability a parent attends a hearing: higher in FDAC, lower with severity."""
    return expit(0.6 + 0.9 * fdac - 0.3 * severity)
