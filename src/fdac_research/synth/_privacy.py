"""Privacy of a synthetic release against the real training data, with held-out real
families as the baseline.

* Exact copies (this module): share of synthetic case rows, adult rows, child rows and whole
  families identical to a real training record, next to the same share for held-out real
  records (how often an unseen real record coincides with a training one by chance).
* Distances and attacks (:func:`fdac_research.risk.synthetic_privacy`): DCR / NNDR against
  the holdout baseline and anonymeter-style singling-out, linkability and inference attacks,
  run on person-level frames (each adult and each child with their case's attributes).
  The training side is subsampled to the holdout's size so that "closer to training than to
  holdout" is 50% for a synthesizer that memorises nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research.synth._copies import exact_copy_rates, family_frame, family_slots

__all__ = ["privacy_report", "person_frame", "ATTACK_SECRETS"]

log = logging.getLogger(__name__)

_CASE_COLUMNS = ("case_id", "cohort", "court", "local_authority", "application_year", "n_children")
#: Secrets of the inference attack per population.
ATTACK_SECRETS = {
    "adults": ("substances", "mental_health", "convictions"),
    "children": ("placement_at_end",),
}


def person_frame(tables: dict[str, pd.DataFrame], population: str) -> pd.DataFrame:
    """Adults or children with their case's attributes, keys dropped, plain dtypes."""
    cases = tables["cases"][list(_CASE_COLUMNS)]
    df = tables[population].merge(cases, on="case_id", how="left", sort=False)
    df = df.drop(columns=["case_id", "person_id"])
    out = {}
    for c in df.columns:
        v = df[c]
        if str(v.dtype) in ("Int64", "Float64"):
            out[c] = v.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        else:
            out[c] = v.astype(object).where(v.notna(), None).to_numpy()  # type: ignore[call-overload]
    return pd.DataFrame(out)


def quasi_identifiers(population: str) -> list[str]:
    """The schema's quasi-identifiers of the population's rows and of their case."""
    qi = [c for c in schema.RESEARCH.table("cases").with_role("quasi_identifier")]
    own = schema.RESEARCH.table(population).with_role("quasi_identifier")
    return qi + [c for c in own if c not in qi]


def near_copies(
    train: dict[str, pd.DataFrame],
    holdout: dict[str, pd.DataFrame],
    synthetic: dict[str, pd.DataFrame],
) -> dict[str, Any]:
    """Record-level near copies (:func:`fdac_research.risk.near_copy_rates`) of whole
    families and of adults, against every training record.

    A family is close to a training family only when its case and every member are; a
    synthesizer that releases real families with a value nudged makes exactly those, and no
    share-based distance test sees a tenth of a release being copies. Children alone are
    not measured: most child rows (7 coarse attributes) coincide with a real one by chance,
    so their near copies show through their families.
    """
    from fdac_research.risk.synthetic import near_copy_rates

    n_ad, n_ch = family_slots(train, holdout, synthetic)
    ft, fh, fs = (family_frame(t, n_ad, n_ch) for t in (train, holdout, synthetic))
    at, ah, as_ = (person_frame(t, "adults") for t in (train, holdout, synthetic))
    return {
        "families": near_copy_rates(ft, fh, fs, list(ft.columns)),
        "adults": near_copy_rates(at, ah, as_, list(at.columns)),
    }


def _sub(df: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(df) <= n:
        return df
    idx = np.sort(rng.choice(len(df), size=n, replace=False))
    return df.iloc[idx].reset_index(drop=True)


def _split_half_dcr(
    train: pd.DataFrame,
    holdout: dict[str, pd.DataFrame],
    population: str,
    columns: list[str],
    seed: int,
) -> dict[str, Any] | None:
    """The DCR share of real unseen people: the persons of half of the held-out families (as
    if released) against the persons of the other half and a training sample of the same
    size. Nothing memorised them, so the share is 0.5 up to the noise of samples of this
    size; ``None`` when either half has fewer than 2 persons.

    The halves are drawn by family, not by person: siblings and partners share their case's
    attributes, and a person split from their sibling would find them as a near neighbour
    (a held-out share far below 0.5 that no release could be judged against).
    """
    from fdac_research.risk.synthetic import distance_metrics

    ids = np.sort(holdout["cases"]["case_id"].astype(str).unique())
    rng = np.random.default_rng([seed, 0xD0C5])
    half = set(rng.permutation(ids)[: len(ids) // 2].tolist())
    parts = []
    for in_a in (True, False):
        sub = {
            n: df[df["case_id"].astype(str).isin(half) == in_a].reset_index(drop=True)
            for n, df in holdout.items()
        }
        parts.append(person_frame(sub, population))
    a, b = parts
    if len(a) < 2 or len(b) < 2:
        return None
    tr = _sub(train, len(b), rng)
    d = distance_metrics(tr, b, a, columns)
    return {"share_closer_to_train": d["share_closer_to_train"], "n": len(a)}


def privacy_report(
    train: dict[str, pd.DataFrame],
    holdout: dict[str, pd.DataFrame],
    synthetic: dict[str, pd.DataFrame],
    *,
    n_attacks: int = 500,
    seed: int = 0,
) -> dict[str, Any]:
    """Exact copies plus ``risk.synthetic_privacy`` per population (adults, children).

    Returns
    -------
    dict
        ``exact_copies`` (``synthetic`` and ``holdout`` rates per table and for families),
        ``near_copies`` (families and adults closer to a training record than real unseen
        ones, :func:`near_copies`) and ``risk`` (per population: distances and attacks as
        :meth:`SyntheticPrivacyResult.to_dict`, plus ``distances_holdout``: the DCR share
        of the persons of half the held-out families against the other half, the held-out figure of the
        gate's DCR check; ``None`` when the risk capability is unavailable, with the reason
        in ``risk_error``).
    """
    out: dict[str, Any] = {
        "exact_copies": {
            "synthetic": exact_copy_rates(synthetic, train),
            "holdout": exact_copy_rates(holdout, train),
        }
    }
    try:
        from fdac_research.risk import synthetic_privacy
    except ImportError as err:  # pragma: no cover - risk ships with the package
        out["risk"] = None
        out["risk_error"] = f"fdac_research.risk.synthetic_privacy unavailable: {err}"
        return out
    out["near_copies"] = near_copies(train, holdout, synthetic)
    rng = np.random.default_rng([seed, 0x9817])
    risk = {}
    for i, pop in enumerate(("adults", "children")):
        ho = person_frame(holdout, pop)
        tr = _sub(person_frame(train, pop), len(ho), rng)
        sy = _sub(person_frame(synthetic, pop), max(len(ho), 1) * 2, rng)
        res = synthetic_privacy(
            tr,
            ho,
            sy,
            quasi_identifiers=quasi_identifiers(pop),
            secret=list(ATTACK_SECRETS[pop]),
            n_attacks=min(n_attacks, len(ho)),
            seed=seed * 10 + i,
        )
        risk[pop] = res.to_dict()
        risk[pop]["distances_holdout"] = _split_half_dcr(
            person_frame(train, pop), holdout, pop, res.distances["columns"], seed * 10 + i
        )
    out["risk"] = risk
    return out
