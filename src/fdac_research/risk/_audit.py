"""Private: the attacker's linear program for a 2-D table with margins, and secondary
(complementary) suppression that defeats it.

The table is held as an extended grid of shape ``(R + 1, C + 1)``: interior cells plus the
row totals (last column), column totals (last row) and grand total (corner). An attacker
knows every published cell exactly (the strongest assumption, so rounding is ignored here)
and that every cell is non-negative. For each suppressed cell we solve
``min x`` and ``max x`` subject to those equations with ``scipy.optimize.linprog``; the
cell is protected when ``max - min`` exceeds the required protection.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

__all__ = ["extend", "cell_bounds", "secondary_suppression"]


def extend(values: np.ndarray) -> np.ndarray:
    """The extended grid: ``values`` with row totals, column totals and the grand total."""
    r, c = values.shape
    out = np.zeros((r + 1, c + 1))
    out[:r, :c] = values
    out[:r, c] = values.sum(axis=1)
    out[r, :c] = values.sum(axis=0)
    out[r, c] = values.sum()
    return out


def _equations(shape: tuple[int, int]) -> list[tuple[list[tuple[int, int]], tuple[int, int]]]:
    """Each equation: interior cells of one line and the margin cell they sum to."""
    rr, cc = shape  # extended shape
    eqs = []
    for i in range(rr):  # rows (the last row is the column-total line)
        eqs.append(([(i, j) for j in range(cc - 1)], (i, cc - 1)))
    for j in range(cc):  # columns (the last column is the row-total line)
        eqs.append(([(i, j) for i in range(rr - 1)], (rr - 1, j)))
    return eqs


def cell_bounds(
    grid: np.ndarray, suppressed: np.ndarray, *, nonnegative: bool = True
) -> dict[tuple[int, int], tuple[float, float]]:
    """Feasible ``(lower, upper)`` of every suppressed cell given the published cells.

    Parameters
    ----------
    grid : numpy.ndarray
        Extended grid (true values).
    suppressed : numpy.ndarray of bool
        Same shape; ``True`` where the cell is not published.
    nonnegative : bool
        The attacker knows every cell is >= 0.
    """
    cells: list[tuple[int, int]] = [(int(i), int(j)) for i, j in np.argwhere(suppressed)]
    if not cells:
        return {}
    pos = {c: k for k, c in enumerate(cells)}
    a_rows = []
    b = []
    for members, total in _equations((int(grid.shape[0]), int(grid.shape[1]))):
        coef = np.zeros(len(cells))
        rhs = 0.0
        involved = False
        for cell in members:
            if cell in pos:
                coef[pos[cell]] += 1.0
                involved = True
            else:
                rhs -= grid[cell]
        if total in pos:
            coef[pos[total]] -= 1.0
            involved = True
        else:
            rhs += grid[total]
        if involved:
            a_rows.append(coef)
            b.append(rhs)
    a_eq = np.array(a_rows) if a_rows else None
    b_eq = np.array(b) if b else None
    bounds = [(0.0 if nonnegative else None, None)] * len(cells)
    out: dict[tuple[int, int], tuple[float, float]] = {}
    for k, cell in enumerate(cells):
        c = np.zeros(len(cells))
        c[k] = 1.0
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        lower = float(lo.fun) if lo.status == 0 else -np.inf
        upper = float(-hi.fun) if hi.status == 0 else np.inf
        if hi.status == 3:  # unbounded above
            upper = np.inf
        if lo.status == 3:
            lower = -np.inf
        out[cell] = (max(lower, 0.0) if nonnegative else lower, upper)
    return out


def _exposed(
    grid: np.ndarray, suppressed: np.ndarray, required: np.ndarray, nonnegative: bool
) -> tuple[list[tuple[int, int]], dict[tuple[int, int], tuple[float, float]]]:
    bounds = cell_bounds(grid, suppressed, nonnegative=nonnegative)
    bad = [c for c, (lo, hi) in bounds.items() if not (hi - lo > required[c] + 1e-9)]
    return bad, bounds


def secondary_suppression(
    grid: np.ndarray,
    primary: np.ndarray,
    required: np.ndarray,
    *,
    nonnegative: bool = True,
    max_rounds: int = 200,
) -> tuple[np.ndarray, dict[tuple[int, int], tuple[float, float]], list[tuple[int, int]]]:
    """Add complementary suppressions until no suppressed cell is pinned down.

    For each exposed cell ``(i, j)`` the cheapest rectangle ``(i, j), (i, m), (k, j), (k, m)``
    of the extended grid is suppressed (cost: total value of the cells newly suppressed,
    cells with value 0 avoided because they cannot move down); the audit is re-run after each
    addition. Returns the final suppression mask, the bounds of every suppressed cell, and
    any cells still exposed (empty on success).
    """
    supp = primary.copy()
    rr, cc = grid.shape
    bad, bounds = _exposed(grid, supp, required, nonnegative)
    for _ in range(max_rounds):
        if not bad:
            break
        i, j = max(bad, key=lambda c: (grid[c], c))  # protect the largest exposed first
        best = None
        for k in range(rr):
            if k == i:
                continue
            for m in range(cc):
                if m == j:
                    continue
                new = [c for c in ((i, m), (k, j), (k, m)) if not supp[c]]
                if any(grid[c] <= 0 for c in new):
                    continue
                cost = (sum(grid[c] for c in new), len(new), k, m)
                if best is None or cost < best[0]:
                    best = (cost, new)
        if best is None or not best[1]:
            # no useful rectangle: suppress the whole row and column of the cell
            for m in range(cc):
                supp[i, m] = True
            for k in range(rr):
                supp[k, j] = True
        else:
            for c in best[1]:
                supp[c] = True
        bad, bounds = _exposed(grid, supp, required, nonnegative)
    return supp, bounds, bad
