"""Private: a Gower distance for mixed-type records and nearest-neighbour search.

Per column, in ``[0, 1]``:

* numeric: ``|a - b| / range`` (the range of the reference, i.e. real training, data; values
  outside it count as its ends, so a column never counts more than 1);
* categorical: 0 when equal, 1 otherwise; every distinct value is its own category, including
  values the reference data never holds (two different unseen categories differ, and an
  unseen category differs from a missing value);
* missing: **a missing value equals only a missing value** (distance 0 to a missing value,
  1 to any value), for numeric and categorical columns alike.

The distance of two records is the mean over columns (Gower's distance). Records are encoded
so that the L1 distance divided by the number of columns is exactly that: a categorical value
is a one-hot vector of weight 1/2 (missing is one more category); a numeric value ``x`` scaled
to ``f`` in ``[0, 1]`` is ``(f/2, (1-f)/2, 0)`` and a missing one ``(0, 0, 1/2)``, whose L1
distances are ``|f1 - f2|`` between values and 1 between a value and a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["MixedEncoder", "nearest", "encode_all"]

_MISSING = "\x00missing"


def _is_numeric(s: pd.Series) -> bool:
    return bool(
        pd.api.types.is_numeric_dtype(s)
        and not pd.api.types.is_bool_dtype(s)
        and str(s.dtype) != "boolean"
    )


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).map(lambda x: _MISSING if pd.isna(x) else str(x))


@dataclass
class MixedEncoder:
    """Encode frames so that L1 distance / n_columns is the Gower distance above.

    :meth:`fit` learns numeric ranges from the reference frame and the categories of every
    frame given (so that each distinct value, seen in training or not, has its own
    indicator); :meth:`transform` refuses a categorical value it was not fitted with.
    """

    columns: list[str]
    numeric_: dict[str, tuple[float, float]] | None = None  # min, range
    categories_: dict[str, list[str]] | None = None

    def fit(self, ref: pd.DataFrame, *others: pd.DataFrame) -> MixedEncoder:
        """Learn ranges from ``ref`` and categories from ``ref`` and ``others``."""
        self.numeric_, self.categories_ = {}, {}
        for c in self.columns:
            s = ref[c]
            if _is_numeric(s):
                v = pd.to_numeric(s, errors="coerce").astype(float)
                lo, hi = float(v.min()), float(v.max())
                rng = hi - lo if np.isfinite(hi - lo) and hi > lo else 1.0
                self.numeric_[c] = (lo if np.isfinite(lo) else 0.0, rng)
            else:
                seen = set(_text(s))
                for o in others:
                    seen |= set(_text(o[c]))
                self.categories_[c] = sorted(seen - {_MISSING}) + [_MISSING]
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """The encoded matrix (float64)."""
        assert self.numeric_ is not None and self.categories_ is not None
        parts = []
        for c in self.columns:
            s = df[c]
            if c in self.numeric_:
                lo, rng = self.numeric_[c]
                v = pd.to_numeric(s, errors="coerce").astype(float).to_numpy()
                miss = np.isnan(v)
                f = np.clip((np.where(miss, lo, v) - lo) / rng, 0.0, 1.0)
                parts.append(np.where(miss, 0.0, f / 2)[:, None])
                parts.append(np.where(miss, 0.0, (1 - f) / 2)[:, None])
                parts.append(np.where(miss, 0.5, 0.0)[:, None])
            else:
                cats = self.categories_[c]
                codes = pd.Categorical(_text(s), categories=cats).codes
                if (codes < 0).any():
                    raise ValueError(
                        f"column {c!r}: a value the encoder was not fitted with; fit it with "
                        "every frame that will be compared"
                    )
                onehot = np.zeros((len(s), len(cats)))
                onehot[np.arange(len(s)), codes] = 0.5
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
    """Fit on ``ref`` (ranges) and on every frame (categories); encode each of them."""
    enc = MixedEncoder(list(columns)).fit(ref, *others)
    return [enc.transform(ref)] + [enc.transform(o) for o in others]
