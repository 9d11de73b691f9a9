"""Memorising "synthesizers" the release gate must refuse: the default model's release with a
share of its families replaced by real training families, each with small nudges (so that no
row is an exact copy).

Nudges (hand-chosen, small against each column's range):

* ``"one"``: the first adult's ``hearings_attended_pct`` moved by 0.1 points (the issue's
  example), or its age by one year when the percentage is missing;
* ``"several"``: every adult one year older and one point more of hearings attended (when
  under 99), the case one week longer (when closed), the eldest child one year older (when
  under 17): each a small move against the column's range, none reordering a family's
  members.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from fdac_research.synth import BaseSynthesizer
from fdac_research.synth._cart import CARTSynthesizer

__all__ = ["NudgingMemoriser", "nudge_copies"]


def nudge_copies(
    train: dict[str, pd.DataFrame], case_ids: list[Any], how: str, prefix: str = "mem"
) -> dict[str, pd.DataFrame]:
    """Copies of the families ``case_ids`` of ``train``, nudged (see the module docstring),
    under new keys ``<prefix><n>``."""
    if how not in ("one", "several"):
        raise ValueError(f"how must be 'one' or 'several', got {how!r}")
    new_key = {c: f"{prefix}{i}" for i, c in enumerate(case_ids)}
    out = {}
    for name in ("cases", "adults", "children"):
        df = train[name][train[name]["case_id"].isin(new_key)].copy()
        df["case_id"] = df["case_id"].map(new_key)
        if "person_id" in df.columns:
            df["person_id"] = [f"{prefix}{name[0]}{i}" for i in range(len(df))]
        out[name] = df.reset_index(drop=True)
    ad, ch, cs = out["adults"], out["children"], out["cases"]
    first_adult = ~ad["case_id"].duplicated()
    if how == "one":
        pct = pd.to_numeric(ad["hearings_attended_pct"], errors="coerce")
        has = first_adult & pct.notna() & (pct <= 99.9)
        ad.loc[has, "hearings_attended_pct"] = pct[has] + 0.1
        rest = first_adult & ~has & ad["age_at_application"].notna()
        ad.loc[rest, "age_at_application"] = ad.loc[rest, "age_at_application"] + 1
    else:
        age = ad["age_at_application"].notna()
        ad.loc[age, "age_at_application"] = ad.loc[age, "age_at_application"] + 1
        pct = pd.to_numeric(ad["hearings_attended_pct"], errors="coerce")
        ok = pct.notna() & (pct < 99)
        ad.loc[ok, "hearings_attended_pct"] = pct[ok] + 1
        closed = cs["duration_weeks"].notna()
        cs.loc[closed, "duration_weeks"] = cs.loc[closed, "duration_weeks"] + 1
        ages = pd.to_numeric(ch["age_at_application"], errors="coerce")
        first_eldest = ages.groupby(ch["case_id"]).idxmax().dropna()
        eldest = ch.index.isin(first_eldest.to_numpy()) & (ages < 17).to_numpy()
        ch.loc[eldest, "age_at_application"] = ages[eldest] + 1
    return out


class NudgingMemoriser(BaseSynthesizer):
    """The default CART model whose release has ``share`` of its families replaced by nudged
    copies of random training families."""

    name: ClassVar[str] = "nudging_memoriser"

    def __init__(self, share: float = 0.1, how: str = "one", seed: int = 0) -> None:
        self.share = share
        self.how = how
        self.seed = seed

    def _fit(self, tables: dict[str, pd.DataFrame]) -> None:
        self.inner_ = CARTSynthesizer(seed=self.seed)
        self.inner_.tail_bounds_ = self.tail_bounds_  # what the base's fit set on self
        self.inner_.conditionals_ = self.conditionals_
        self.inner_._fit(tables)
        self.tables_ = {k: v.copy() for k, v in tables.items()}

    def _sample_raw(self, n_cases: int, seed: int) -> dict[str, pd.DataFrame]:
        raw = self.inner_._sample_raw(n_cases, seed)
        rng = np.random.default_rng([seed, 0x3E3])
        k = int(round(self.share * n_cases))
        ids = self.tables_["cases"]["case_id"].to_numpy()
        picked = list(rng.choice(ids, size=min(k, len(ids)), replace=False))
        gone = set(rng.choice(raw["cases"]["case_id"].to_numpy(), size=len(picked), replace=False))
        copies = nudge_copies(self.tables_, picked, self.how)
        return {
            name: pd.concat(
                [raw[name][~raw[name]["case_id"].isin(gone)], copies[name]], ignore_index=True
            )
            for name in ("cases", "adults", "children")
        }
