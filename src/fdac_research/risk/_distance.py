"""Private: a Gower-like distance for mixed-type records and nearest-neighbour search.

Numeric columns are scaled by their range in the reference (real training) data, so a
difference of the whole range counts 1; a categorical mismatch counts 1 (one-hot
indicators weighted 1/2 each under the L1 metric); a missing value is its own category
(numeric: an indicator of weight 1, the value filled with the reference median). The
distance is the L1 distance divided by the number of columns: Gower's distance in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["MixedEncoder", "nearest"]


def _is_numeric(s: pd.Series) -> bool:
    return bool(
        pd.api.types.is_numeric_dtype(s)
        and not pd.api.types.is_bool_dtype(s)
        and str(s.dtype) != "boolean"
    )


@dataclass
class MixedEncoder:
    """Encode frames so that L1 distance / n_columns is Gower's distance."""

    columns: list[str]
    numeric_: dict[str, tuple[float, float, float]] | None = None  # min, range, median
    categories_: dict[str, list[str]] | None = None

    def fit(self, ref: pd.DataFrame) -> MixedEncoder:
        """Learn ranges and categories from the reference frame."""
        self.numeric_, self.categories_ = {}, {}
        for c in self.columns:
            s = ref[c]
            if _is_numeric(s):
                v = pd.to_numeric(s, errors="coerce").astype(float)
                lo, hi = float(v.min()), float(v.max())
                rng = hi - lo if np.isfinite(hi - lo) and hi > lo else 1.0
                med = float(v.median()) if v.notna().any() else 0.0
                self.numeric_[c] = (lo if np.isfinite(lo) else 0.0, rng, med)
            else:
                self.categories_[c] = sorted(s.dropna().astype(str).unique().tolist())
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """The encoded matrix (float64)."""
        assert self.numeric_ is not None and self.categories_ is not None
        parts = []
        for c in self.columns:
            s = df[c]
            if c in self.numeric_:
                lo, rng, med = self.numeric_[c]
                v = pd.to_numeric(s, errors="coerce").astype(float).to_numpy()
                miss = np.isnan(v)
                parts.append(((np.where(miss, med, v) - lo) / rng)[:, None])
                parts.append(miss.astype(float)[:, None])
            else:
                cats = self.categories_[c]
                text = s.astype(object).map(lambda x: None if pd.isna(x) else str(x))
                codes = pd.Categorical(text, categories=cats).codes
                onehot = np.zeros((len(s), len(cats) + 1))
                # unseen and missing values share the extra indicator
                onehot[np.arange(len(s)), np.where(codes < 0, len(cats), codes)] = 0.5
                parts.append(onehot)
        return np.hstack(parts) if parts else np.zeros((len(df), 0))


def nearest(
    ref: np.ndarray, query: np.ndarray, n_columns: int, k: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Gower distances and indices of the ``k`` nearest ``ref`` rows of each ``query`` row."""
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(ref))
    nn = NearestNeighbors(n_neighbors=k, metric="manhattan", algorithm="auto", n_jobs=1).fit(ref)
    dist, idx = nn.kneighbors(query, n_neighbors=k)
    return dist / max(n_columns, 1), idx


def encode_all(
    columns: Sequence[str], ref: pd.DataFrame, *others: pd.DataFrame
) -> list[np.ndarray]:
    """Fit on ``ref`` and encode ``ref`` and each of ``others``."""
    enc = MixedEncoder(list(columns)).fit(ref)
    return [enc.transform(ref)] + [enc.transform(o) for o in others]
