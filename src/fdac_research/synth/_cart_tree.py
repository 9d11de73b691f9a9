"""Building blocks of the sequential CART synthesizer (synthpop's ``method = "cart"``).

Each column is synthesised from a decision tree grown on the columns before it (plus any
conditioning columns): a synthetic row is dropped down the tree and takes the value of a
random real member of the leaf it lands in ("donor"), so values are never predicted, only
resampled within homogeneous groups. Continuous values are smoothed with a Gaussian kernel
of the leaf's bandwidth (synthpop ``smoothing = "density"``, bandwidth ``bw.nrd0``), which
also keeps the real extremes out of the release.

Leaf size
---------
synthpop grows every tree to leaves of ``minbucket = 5`` whatever the number of rows. At the
size of a real evaluation (60-160 families per cohort) such trees fit the training families'
idiosyncrasies: a synthetic row then lands in a leaf of five real donors that share its
covariates, which is memorisation (the release's persons sit closer to the training ones than
to unseen real ones, and an attacker infers their secrets) and an over-strong outcome model.
With ``select_leaf`` the smallest leaf is chosen per column from ``min_samples_leaf`` x 1, 2,
4, 8, 16 by cross-validation *on the training rows*, families kept whole in a fold (siblings
share their case's attributes): the Brier score (classification) or squared error (regression)
of each leaf size's tree on the families it did not see, and the largest leaf whose mean loss
is within one standard error of the best (the one-standard-error rule of Breiman, Friedman,
Olshen & Stone 1984, Classification and Regression Trees, section 3.4.3, which rpart's
pruning also uses). A column whose structure generalises keeps small leaves; one whose
apparent structure is noise at this size gets larger ones.

For a categorical or yes/no column the same cross-validation also tries a (ridge-penalised,
scikit-learn's default ``C = 1``) logistic regression on the same predictors, synthpop's
``logreg`` / ``polyreg`` method, and uses it where its loss on unseen families is lower than
the best tree's. A tree needs many rows per leaf to show how an outcome moves with a dozen
covariates; at 60-160 families per cohort it cannot, the synthetic outcome then no longer
depends on the covariates the evaluation adjusts for, and the adjusted FDAC effect drifts to
the unadjusted one (on a 400-family world: mothers' cessation odds ratio 2.2 real, 6.4
synthetic). An additive model of those covariates generalises at this size, and the
cross-validation shows where it does.

References
----------
Nowok, Raab & Dibben (2016), synthpop: Bespoke creation of synthetic data in R. Journal of
Statistical Software 74(11). Reiter (2005), Using CART to generate partially synthetic
public use microdata. Journal of Official Statistics 21(3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

__all__ = ["Encoder", "ColumnTree", "bandwidth_nrd0", "LEAF_FACTORS", "CV_FOLDS", "CV_MAX_ROWS"]

#: Leaf sizes tried by the cross-validation, as multiples of ``min_samples_leaf``.
LEAF_FACTORS = (1, 2, 4, 8, 16)
#: Folds of the cross-validation (families kept whole).
CV_FOLDS = 5
#: Rows the cross-validation uses at most (a sample of whole families beyond): the leaf size
#: chosen on this many rows is kept for the whole column (a leaf that generalises on a sample
#: is no more overfitted on more rows).
CV_MAX_ROWS = 20_000


def bandwidth_nrd0(x: np.ndarray) -> float:
    """Silverman's rule of thumb as R's ``bw.nrd0``: ``0.9 min(sd, IQR/1.34) n^-1/5``.

    Hand-worked for 1, 2, 3, 4 (R: ``bw.nrd0(1:4)``): sd 1.291, IQR 3.25 - 1.75 = 1.5,
    1.5 / 1.34 = 1.1194, 0.9 * 1.1194 * 4^-0.2 = 0.7635.

    >>> round(float(bandwidth_nrd0(np.array([1.0, 2.0, 3.0, 4.0]))), 4)
    0.7635
    """
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 2:
        return 0.0
    sd = float(np.std(x, ddof=1))
    q75, q25 = np.percentile(x, [75, 25])
    lo = min(sd, (q75 - q25) / 1.34)
    if lo <= 0:  # as R: fall back to the sd, then |x[1]|, then 1
        lo = sd or abs(float(x[0])) or 1.0
    return 0.9 * lo * n ** (-0.2)


@dataclass
class Encoder:
    """Numeric design matrix of mixed columns: one-hot categories, 0/1 booleans, numbers
    as floats; missing stays ``NaN`` (scikit-learn trees route it) or all-zero one-hot."""

    categories: dict[str, list[Any]] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)

    def fit(self, df: pd.DataFrame) -> Encoder:
        self.columns = list(df.columns)
        for c in self.columns:
            if _is_categorical(df[c]):
                self.categories[c] = sorted(df[c].dropna().astype(str).unique().tolist())
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        blocks = []
        for c in self.columns:
            v = df[c]
            if c in self.categories:
                s = v.astype(object).where(v.notna(), None)  # type: ignore[call-overload]
                cats = self.categories[c]
                codes = pd.Categorical(s.astype("string"), categories=cats).codes
                onehot = np.zeros((len(df), len(cats)))
                ok = codes >= 0
                onehot[np.flatnonzero(ok), codes[ok]] = 1.0
                blocks.append(onehot)
            else:
                x = pd.Series(v).astype("Float64").to_numpy(dtype=float, na_value=np.nan)
                blocks.append(x.reshape(-1, 1))
        if not blocks:
            return np.zeros((len(df), 0))
        return np.hstack(blocks)


def _is_categorical(v: pd.Series) -> bool:
    return v.dtype == object or isinstance(v.dtype, pd.CategoricalDtype)


class ColumnTree:
    """Synthesise one column from a tree on predictors, sampling donors from its leaves.

    Parameters
    ----------
    kind : {"categorical", "boolean", "integer", "float"}
        The column's synthesis type.
    smooth : bool
        Add Gaussian kernel noise (leaf bandwidth) to continuous donors.
    min_samples_leaf : int
        Smallest leaf (synthpop's ``minbucket``, default 5).
    select_leaf : bool, default False
        Choose the leaf size by cross-validation (see the module docstring); needs
        ``groups`` in :meth:`fit`. ``leaf_`` holds the leaf size used, ``cv_`` the losses.
    """

    def __init__(
        self, kind: str, *, smooth: bool, min_samples_leaf: int, select_leaf: bool = False
    ) -> None:
        self.kind = kind
        self.smooth = smooth
        self.min_samples_leaf = min_samples_leaf
        self.select_leaf = select_leaf

    def fit(
        self,
        X: np.ndarray,  # noqa: N803
        y: pd.Series,
        seed: int,
        groups: np.ndarray | None = None,
    ) -> ColumnTree:
        values = y.reset_index(drop=True)
        self.dtype_ = values.dtype
        self.donors_ = values
        self.leaf_ = self.min_samples_leaf
        self.cv_: dict[str, Any] | None = None
        self.logit_: _Logit | None = None
        if X.shape[1] == 0:
            self.tree_: Any = None
            leaves = np.zeros(len(values), dtype=np.int64)
        else:
            numeric = self.kind in ("integer", "float")
            regress = numeric and bool(values.notna().all())
            target: Any = (
                values.to_numpy(dtype=float) if regress else _class_target(values, numeric)
            )
            if self.select_leaf:
                if groups is None:
                    raise ValueError("select_leaf needs the rows' groups (families)")
                self.leaf_, self.cv_ = select_leaf_size(
                    X, target, np.asarray(groups), regress, self.min_samples_leaf, seed
                )
                if self.cv_.get("method") == "logistic":
                    self.logit_ = _Logit().fit(X, target, values)
            tree: Any = (DecisionTreeRegressor if regress else DecisionTreeClassifier)(
                min_samples_leaf=self.leaf_, random_state=seed
            )
            tree.fit(X, target)
            self.tree_ = tree
            leaves = tree.apply(X)
        order = np.argsort(leaves, kind="stable")
        self.order_ = order
        sorted_leaves = leaves[order]
        self.leaf_ids_, self.starts_, self.counts_ = np.unique(
            sorted_leaves, return_index=True, return_counts=True
        )
        self.bandwidth_ = np.zeros(len(self.leaf_ids_))
        if self.smooth:
            x = values.to_numpy(dtype=float, na_value=np.nan)[order]
            overall = bandwidth_nrd0(x)
            for i, (s, n) in enumerate(zip(self.starts_, self.counts_, strict=True)):
                leaf = x[s : s + n]
                leaf = leaf[np.isfinite(leaf)]
                spread = len(leaf) > 1 and float(np.std(leaf)) > 0
                # a leaf of one repeated value borrows the column's bandwidth
                self.bandwidth_[i] = bandwidth_nrd0(leaf) if spread else overall
        return self

    def sample(self, X: np.ndarray, rng: np.random.Generator) -> pd.Series:  # noqa: N803
        n = len(X)
        if n == 0:  # e.g. a redraw of families none of which has a mother
            return self.donors_.iloc[:0].reset_index(drop=True)
        if self.logit_ is not None:
            return self.logit_.sample(X, rng)
        leaves = np.zeros(n, dtype=np.int64) if self.tree_ is None else self.tree_.apply(X)
        pos = np.searchsorted(self.leaf_ids_, leaves)
        pick = self.starts_[pos] + np.floor(rng.random(n) * self.counts_[pos]).astype(np.int64)
        donors = self.donors_.iloc[self.order_[pick]].reset_index(drop=True)
        if not (self.smooth and self.kind in ("integer", "float")):
            return donors
        x = donors.to_numpy(dtype=float, na_value=np.nan)
        noise = rng.normal(0.0, 1.0, n) * self.bandwidth_[pos]
        x = np.where(np.isnan(x), np.nan, x + noise)
        if self.kind == "integer":
            return pd.Series(pd.array(np.where(np.isnan(x), None, np.round(x)), dtype="Int64"))  # type: ignore[call-overload]
        return pd.Series(np.round(x, 1))


class _Logit:
    """Logistic regression of a class target (standardised predictors, a missing-value
    indicator per predictor with missing values, missing set to the mean); samples a class
    from the predicted probabilities and releases a training row's value of that class."""

    def fit(self, X: np.ndarray, y: np.ndarray, values: pd.Series) -> _Logit:  # noqa: N803
        self.miss_ = np.isnan(X).any(axis=0)
        with np.errstate(invalid="ignore"):
            self.mean_ = np.nan_to_num(np.nanmean(X, axis=0))
            sd = np.nan_to_num(np.nanstd(X, axis=0))
        self.sd_ = np.where(sd > 0, sd, 1.0)
        self.model_ = LogisticRegression(C=1.0, max_iter=1000).fit(self._design(X), y)
        # one training row per class: its value (with the column's dtype) is what is released
        first = pd.Series(np.arange(len(y))).groupby(y).first()
        self.rows_ = np.array([int(first[c]) for c in self.model_.classes_])
        self.values_ = values.reset_index(drop=True)
        return self

    def _design(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        z = np.nan_to_num((X - self.mean_) / self.sd_)
        return np.hstack([z, np.isnan(X[:, self.miss_]).astype(float)])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        return np.asarray(self.model_.predict_proba(self._design(X)))

    def sample(self, X: np.ndarray, rng: np.random.Generator) -> pd.Series:  # noqa: N803
        cum = np.cumsum(self.predict_proba(X), axis=1)
        u = rng.random(len(X))[:, None]
        k = np.minimum((u >= cum).sum(axis=1), cum.shape[1] - 1)
        return self.values_.iloc[self.rows_[k]].reset_index(drop=True)


def _fold_of_groups(groups: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold (0..k-1) of each row, whole groups to a fold, groups dealt at random."""
    uniq, inv = np.unique(groups.astype(str), return_inverse=True)
    rng = np.random.default_rng([seed, 0xF01D])
    fold_of_group = rng.permutation(len(uniq)) % k
    return np.asarray(fold_of_group[inv])


def _loss(tree: Any, X: np.ndarray, y: np.ndarray, regress: bool) -> float:  # noqa: N803
    """Mean squared error (regression) or Brier score (classification) of ``tree`` on
    ``X, y``; a class the tree never saw counts as predicted with probability 0."""
    if regress:
        return float(np.mean((tree.predict(X) - y) ** 2))
    proba = tree.predict_proba(X)
    classes = tree.model_.classes_ if isinstance(tree, _Logit) else tree.classes_
    onehot = (y[:, None] == classes[None, :]).astype(float)
    unseen = 1.0 - onehot.sum(axis=1)  # 1 where y is no class of the tree
    return float(np.mean(((proba - onehot) ** 2).sum(axis=1) + unseen))


def select_leaf_size(
    X: np.ndarray,  # noqa: N803
    y: np.ndarray,
    groups: np.ndarray,
    regress: bool,
    min_leaf: int,
    seed: int,
) -> tuple[int, dict[str, Any]]:
    """The leaf size of one column's tree by grouped cross-validation and the
    one-standard-error rule (see the module docstring).

    Returns the chosen leaf and a record ``{"method", "leaves", "mean", "se", "rows"}``:
    ``"tree"`` or, for a class target whose logistic regression has a lower mean loss than
    the best tree, ``"logistic"``; the leaves tried; the mean loss of each (then of the
    logistic model, for a class target) and its standard error over the folds; rows used.
    With too few rows for two leaves of the smallest size in every training fold,
    ``min_leaf`` is kept (and a tree).
    """
    n = len(y)
    rows = np.arange(n)
    if n > CV_MAX_ROWS:
        uniq = np.unique(groups.astype(str))
        rng = np.random.default_rng([seed, 0x5A3B])
        share = CV_MAX_ROWS / n
        keep = set(rng.choice(uniq, size=max(1, int(len(uniq) * share)), replace=False))
        rows = np.flatnonzero(np.isin(groups.astype(str), list(keep)))
    Xs, ys, gs = X[rows], y[rows], groups[rows]  # noqa: N806
    folds = _fold_of_groups(gs, CV_FOLDS, seed)
    leaves = [min_leaf * f for f in LEAF_FACTORS]
    fold_n = min(int((folds != k).sum()) for k in range(CV_FOLDS))
    leaves = [leaf for leaf in leaves if 2 * leaf <= fold_n]
    if len(leaves) < 2 or len(np.unique(folds)) < CV_FOLDS:
        return min_leaf, {
            "method": "tree",
            "leaves": leaves,
            "mean": [],
            "se": [],
            "rows": len(rows),
        }
    logistic = not regress and len(np.unique(ys)) > 1
    losses = np.zeros((len(leaves) + logistic, CV_FOLDS))
    for k in range(CV_FOLDS):
        tr, te = folds != k, folds == k
        for i, leaf in enumerate(leaves):
            cls = DecisionTreeRegressor if regress else DecisionTreeClassifier
            tree = cls(min_samples_leaf=leaf, random_state=seed).fit(Xs[tr], ys[tr])
            losses[i, k] = _loss(tree, Xs[te], ys[te], regress)
        if logistic:
            if len(np.unique(ys[tr])) > 1:
                model: Any = _Logit().fit(Xs[tr], ys[tr], pd.Series(ys[tr]))
                losses[-1, k] = _loss(model, Xs[te], ys[te], regress)
            else:  # a fold of one class: the logistic model cannot be fitted there
                losses[-1, k] = np.inf
    mean = losses.mean(axis=1)
    se = losses.std(axis=1, ddof=1) / np.sqrt(CV_FOLDS)
    trees = mean[: len(leaves)]
    best = int(np.argmin(trees))
    chosen = max(i for i in range(len(leaves)) if trees[i] <= trees[best] + se[best])
    method = "logistic" if logistic and mean[-1] < trees[best] else "tree"
    record = {
        "method": method,
        "leaves": leaves,
        "mean": [float(v) for v in mean],
        "se": [float(v) for v in se],
        "rows": len(rows),
    }
    return leaves[chosen], record


def _class_target(values: pd.Series, numeric: bool) -> np.ndarray:
    """Class labels for a classification tree: categories (missing as a class), or for a
    numeric column with missing values its deciles plus a missing class."""
    if not numeric:
        return values.astype(object).where(values.notna(), "\x00NA").astype(str).to_numpy()
    x = values.to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(x)
    labels = np.full(len(x), -1, dtype=np.int64)
    if ok.any():
        edges = np.unique(np.quantile(x[ok], np.linspace(0, 1, 11)[1:-1]))
        labels[ok] = np.searchsorted(edges, x[ok], side="right")
    return labels
