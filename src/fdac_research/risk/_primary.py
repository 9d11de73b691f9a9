"""Private: primary sensitivity rules of a table and the protection levels of its cells.

Cells are those of the extended grid (interior, row totals, column totals, grand total; see
:mod:`fdac_research.risk._audit`), reasons one string per cell: ``"ok"``, ``"threshold"``,
``"zero"``, ``"p_percent"`` or ``"dominance"``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from fdac_research.risk._audit import extend
from fdac_research.risk._protect import Levels

if TYPE_CHECKING:
    from fdac_research.risk.tables import TableRules, TableSpec

__all__ = ["primary_reasons", "protection_levels"]

log = logging.getLogger(__name__)


def primary_reasons(
    spec: TableSpec, vals: np.ndarray, grid: np.ndarray, rules: TableRules
) -> np.ndarray:
    """Why each cell of the extended grid must be suppressed (``"ok"`` when it need not).

    Threshold: a cell counting more than zero but fewer than ``threshold`` people (or
    contributors, for magnitudes; margins included). Zero: an empty cell when zeros are
    disclosive. For magnitude interior cells, the p%-rule (the rest after the two largest
    contributions below ``p%`` of the largest, as ACRO's p-ratio ``<``) and (n, k)-dominance
    (the ``n`` largest above ``k%`` of the cell; ``>=`` with ``dominance_inclusive``, as ACRO).
    """
    r, c = vals.shape
    reasons = np.full(grid.shape, "ok", dtype=object)
    if spec.kind == "magnitude":
        n_int = spec.n_contributors.to_numpy(dtype=float)  # type: ignore[union-attr]
        ngrid = extend(n_int)
    else:
        ngrid = grid
    below = (ngrid > 0) & (ngrid < rules.threshold)
    reasons[below] = "threshold"
    if rules.zeros_disclosive:
        reasons[(ngrid == 0) & (reasons == "ok")] = "zero"
    if spec.kind != "magnitude":
        return reasons
    lg = spec.largest.to_numpy(dtype=float)  # type: ignore[union-attr]
    sg = spec.second.to_numpy(dtype=float)  # type: ignore[union-attr]
    inner = reasons[:r, :c]
    if rules.p_percent is not None:
        rest = vals - lg - sg
        unsafe = (n_int > 0) & (rest < rules.p_percent / 100.0 * lg)
        inner[unsafe & (inner == "ok")] = "p_percent"
    if rules.dominance_n is not None and rules.dominance_k is not None:
        top = lg if rules.dominance_n == 1 else lg + sg
        if rules.dominance_n > 2:
            log.warning(
                "dominance_n > 2 uses the two largest contributions only (a lower bound on the top n)"
            )
        share = rules.dominance_k / 100.0 * vals
        over = top >= share - 1e-12 * np.abs(share) if rules.dominance_inclusive else top > share
        unsafe = (vals > 0) & over
        inner[unsafe & (inner == "ok")] = "dominance"
    return reasons


def protection_levels(
    spec: TableSpec,
    vals: np.ndarray,
    grid: np.ndarray,
    reasons: np.ndarray,
    rules: TableRules,
) -> Levels:
    """Upper, lower and sliding protection levels of every cell of the extended grid.

    Sliding (every cell, applied when it is suppressed): the larger of the rules' sliding
    level and ``protection_percent`` of the value. Upper and lower (primary cells):
    ``upper/lower_protection_percent`` of the value and, for a magnitude cell unsafe under
    the p%-rule or dominance, the upper level the rule implies (tau-Argus):
    ``p/100 * x1 - (X - x1 - x2)`` and ``(100/k) * (x1 + x2) - X`` (``x1`` for ``n = 1``).
    """
    r, c = vals.shape
    x = np.abs(grid)
    sliding = np.maximum(rules.sliding_level(spec.kind), rules.protection_percent / 100.0 * x)
    primary = reasons != "ok"
    upper = np.where(primary, rules.upper_protection_percent / 100.0 * x, 0.0)
    lower = np.where(primary, rules.lower_protection_percent / 100.0 * x, 0.0)
    if spec.kind == "magnitude":
        lg = spec.largest.to_numpy(dtype=float)  # type: ignore[union-attr]
        sg = spec.second.to_numpy(dtype=float)  # type: ignore[union-attr]
        inner_up = upper[:r, :c]
        why = reasons[:r, :c]
        if rules.p_percent is not None:
            need = rules.p_percent / 100.0 * lg - (vals - lg - sg)
            inner_up[why == "p_percent"] = np.maximum(inner_up, need)[why == "p_percent"]
        if rules.dominance_n is not None and rules.dominance_k is not None:
            top = lg if rules.dominance_n == 1 else lg + sg
            need = 100.0 / rules.dominance_k * top - vals
            inner_up[why == "dominance"] = np.maximum(inner_up, need)[why == "dominance"]
    return Levels(upper=upper.ravel(), lower=lower.ravel(), sliding=sliding.ravel())
