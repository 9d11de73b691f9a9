"""The synthesizer contract shared by every model (template method: ``fit``/``sample`` are
public and check their inputs; ``_fit``/``_sample_raw`` are per model)."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from fdac_research.dataset import ResearchData
from fdac_research.exceptions import NotFittedError
from fdac_research.synth._categories import apply_category_codes, learn_category_codes
from fdac_research.synth._enforce import (
    DEFAULT_MIN_TAIL_COUNT,
    enforce_rules,
    learn_conditionals,
    learn_tail_bounds,
    relabel_keys,
)
from fdac_research.synth._metadata import DATA_TABLES, prepare_research, synth_columns

__all__ = ["BaseSynthesizer", "check_seed", "check_scale", "check_min_tail_count"]

log = logging.getLogger(__name__)


def check_seed(seed: object, name: str = "seed") -> int:
    """``seed`` as a non-negative int; ``ValueError`` naming the parameter otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed!r}")
    return int(seed)


def check_scale(scale: object) -> float:
    """``scale`` as a positive finite float; ``ValueError`` otherwise."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.number)):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    return float(scale)


def check_min_tail_count(k: object) -> int:
    """``min_tail_count`` as an int >= 1; ``ValueError`` naming the parameter otherwise."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"min_tail_count must be an integer >= 1, got {k!r}")
    return int(k)


class BaseSynthesizer:
    """Base of the research-dataset synthesizers.

    Subclasses set :attr:`name` and implement ``_fit(tables)`` and
    ``_sample_raw(n_cases, seed) -> dict of DataFrame``. The base validates input, learns
    the conditionals used to enforce the contract's rules, and turns raw samples into a
    :class:`~fdac_research.dataset.ResearchData` with rules enforced and fresh keys.

    Every released number is top- and bottom-coded at the k-th largest and k-th smallest
    training value of its column (``k`` is the synthesizer's ``min_tail_count`` parameter,
    default :data:`~fdac_research.synth._enforce.DEFAULT_MIN_TAIL_COUNT` = 10, also for
    subclasses that do not offer it), so a released extreme equals a real one only when at
    least ``k`` training records hold it. Likewise every category that fewer than ``k``
    training families hold (``min_category_count``, default 10) is coded before the model
    sees it (:mod:`fdac_research.synth._categories`), so no rare category reaches a release.

    Attributes
    ----------
    n_cases_ : int
        Cases in the training data (``scale=1`` samples this many).
    conditionals_ : dict
        P(placement) and P(order | placement) used to repair rule violations.
    tail_bounds_ : dict
        ``{table: {column: (low_k, high_k)}}``, the top/bottom codes. Real values: kept in
        the fitted object only, never written to a release or report.
    category_codes_ : dict
        ``{table: {column: {rare value: code}}}``. Real rare values: kept in the fitted
        object only.
    """

    name: ClassVar[str] = "base"

    def fit(self, research: ResearchData) -> BaseSynthesizer:
        """Fit on a research dataset (``cases``, ``adults``, ``children``); returns ``self``.

        Raises
        ------
        ContractError
            Missing tables or columns, empty tables, duplicate keys, orphan rows.
        """
        k = check_min_tail_count(getattr(self, "min_tail_count", DEFAULT_MIN_TAIL_COUNT))
        kc = check_min_tail_count(getattr(self, "min_category_count", DEFAULT_MIN_TAIL_COUNT))
        tables = prepare_research(research)
        self.category_codes_ = learn_category_codes(tables, kc)
        tables = apply_category_codes(tables, self.category_codes_)
        self.tail_bounds_ = learn_tail_bounds(tables, k)
        coded = self.category_codes_.get("children", {})
        self.conditionals_ = learn_conditionals(
            tables, exclude={c: set(coded.get(c, {})) for c in ("placement_at_end", "final_order")}
        )
        self._fit(tables)
        self.n_cases_ = int(len(tables["cases"]))
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_cases_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(research) first"
            )

    def sample_raw(self, scale: float = 1.0, seed: int = 0) -> dict[str, pd.DataFrame]:
        """The model's own output before rules are enforced (for measuring violations)."""
        self._check_fitted()
        scale = check_scale(scale)
        seed = check_seed(seed)
        n_cases = max(1, int(round(scale * self.n_cases_)))
        raw = self._sample_raw(n_cases, seed)
        return {n: raw[n].reset_index(drop=True) for n in DATA_TABLES}

    def sample(self, scale: float = 1.0, seed: int = 0) -> ResearchData:
        """A synthetic research dataset with ``scale`` times the training cases.

        Parameters
        ----------
        scale : float
            Size relative to the training data (number of cases).
        seed : int
            The same seed gives identical output.

        Returns
        -------
        ResearchData
            ``cases``, ``adults``, ``children`` with every rule of
            :data:`fdac_research.synth.RULES` enforced and synthetic keys.
        """
        raw = self.sample_raw(scale, seed)
        return self.finalise(raw, seed)

    def finalise(self, raw: dict[str, pd.DataFrame], seed: int) -> ResearchData:
        """Enforce the rules on ``raw`` and give it fresh keys."""
        self._check_fitted()
        rng = np.random.default_rng([check_seed(seed), 0x5E7])
        raw = apply_category_codes(raw, getattr(self, "category_codes_", {}))
        fixed = relabel_keys(enforce_rules(raw, self.conditionals_, rng, self.tail_bounds_))
        ordered = {n: fixed[n][synth_columns(n)] for n in DATA_TABLES}
        return ResearchData(
            cases=ordered["cases"], adults=ordered["adults"], children=ordered["children"]
        )

    # -- per model -----------------------------------------------------------------
    def _fit(self, tables: dict[str, pd.DataFrame]) -> None:
        raise NotImplementedError

    def _sample_raw(self, n_cases: int, seed: int) -> dict[str, pd.DataFrame]:
        raise NotImplementedError

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments (for reports and manifests)."""
        return {
            k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
