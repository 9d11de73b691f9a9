"""Numerical building blocks: a Newton logistic fit, its influence functions, and the
arrays the estimators work on (kept private; the estimators are the public face)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import numpy as np
from scipy.special import expit
from threadpoolctl import threadpool_limits

__all__ = ["Arrays", "arrays", "fit_logistic", "beta_influence", "subset", "single_threaded"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


def single_threaded(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` with BLAS limited to one thread.

    The matrices here are small (rows x tens of covariates): a threaded BLAS is slower on them
    (by 100x on a loaded 2-core machine) and its summation order can vary with the thread
    count, which would break byte-identical results.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class Arrays:
    """Outcome, treatment, standardised covariates (with intercept) and cluster codes."""

    y: np.ndarray
    t: np.ndarray
    Z: np.ndarray  # [1, standardised covariates]
    groups: np.ndarray

    @property
    def n(self) -> int:
        return len(self.y)


def arrays(y: np.ndarray, t: np.ndarray, X: np.ndarray, groups: np.ndarray) -> Arrays:
    """Standardise ``X`` (constant columns left centred) and add an intercept."""
    mean = X.mean(axis=0) if X.shape[1] else np.zeros(0)
    sd = X.std(axis=0) if X.shape[1] else np.zeros(0)
    sd = np.where(sd > 0, sd, 1.0)
    Z = np.column_stack([np.ones(len(y)), (X - mean) / sd])
    return Arrays(y=y.astype(float), t=t.astype(float), Z=Z, groups=groups)


def subset(a: Arrays, rows: np.ndarray, groups: np.ndarray | None = None) -> Arrays:
    """Rows of ``a`` (for the bootstrap: rows may repeat, ``groups`` are the new clusters)."""
    return Arrays(
        y=a.y[rows], t=a.t[rows], Z=a.Z[rows], groups=a.groups[rows] if groups is None else groups
    )


def fit_logistic(
    Z: np.ndarray,
    y: np.ndarray,
    *,
    ridge: float = 1e-6,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Maximum-likelihood logistic regression by Newton-Raphson with step halving.

    A tiny ridge penalty (``ridge``, not on the intercept; covariates are standardised)
    keeps the fit finite under separation; it changes well-posed fits negligibly.

    Returns
    -------
    beta, fitted probabilities, converged
    """
    k = Z.shape[1]
    pen = np.full(k, ridge)
    pen[0] = 0.0
    beta = np.zeros(k)

    def objective(b: np.ndarray) -> float:
        eta = Z @ b
        return float(np.sum(y * eta - np.logaddexp(0.0, eta)) - 0.5 * np.sum(pen * b * b))

    current = objective(beta)
    converged = False
    for _ in range(max_iter):
        p = expit(Z @ beta)
        grad = Z.T @ (y - p) - pen * beta
        hess = (Z * (p * (1 - p))[:, None]).T @ Z + np.diag(pen)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        scale = 1.0
        while scale > 1e-10:
            trial = objective(beta + scale * step)
            if trial >= current - 1e-12:
                break
            scale /= 2
        beta = beta + scale * step
        previous, current = current, objective(beta)
        if np.max(np.abs(scale * step)) < tol or abs(current - previous) < tol * (1 + abs(current)):
            converged = True
            break
    if not converged:
        log.warning("logistic regression did not converge (separation or near-separation?)")
    return beta, expit(Z @ beta), converged


def beta_influence(Z: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Influence functions of logistic coefficients, shape (n, k): ``n H^-1 Z_i (y_i - p_i)``.

    So that ``beta_hat - beta ≈ mean of rows``; ``H`` is the observed information.
    """
    n = len(y)
    hess = (Z * (p * (1 - p))[:, None]).T @ Z
    scores = Z * (y - p)[:, None]
    return np.asarray(n * scores @ np.linalg.pinv(hess, rcond=1e-10, hermitian=True))
