"""Private: one 2-D table with margins as a cell system, the intruder's bounds on its
suppressed cells, and secondary suppression that meets protection levels.

The table is held as an extended grid of shape ``(R + 1, C + 1)``: interior cells plus the
row totals (last column), column totals (last row) and grand total (corner); cell ``(i, j)``
is row ``i * (C + 1) + j`` of :func:`grid_matrix`, a functional of the ``R * C`` interior
cells. An intruder knows every published cell exactly (the strongest assumption, so rounding
is ignored here) and that every cell is non-negative.

:func:`protect_grid` finds the cheapest pattern with the mixed-integer program of
:mod:`fdac_research.risk._protect`; when the program finds no pattern in its time limit,
:func:`greedy_suppression` (a rectangle heuristic) is used instead. Either way the pattern is
audited with the intruder's linear programs before it is returned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from fdac_research.risk._protect import (
    Levels,
    cheapest_pattern,
    intruder_bounds,
    short_of_levels,
)

__all__ = [
    "extend",
    "grid_matrix",
    "cell_bounds",
    "GridProtection",
    "protect_grid",
    "greedy_suppression",
    "short_cells",
]

log = logging.getLogger(__name__)

Bounds = dict[tuple[int, int], tuple[float, float]]


def extend(values: np.ndarray) -> np.ndarray:
    """The extended grid: ``values`` with row totals, column totals and the grand total."""
    r, c = values.shape
    out = np.zeros((r + 1, c + 1))
    out[:r, :c] = values
    out[:r, c] = values.sum(axis=1)
    out[r, :c] = values.sum(axis=0)
    out[r, c] = values.sum()
    return out


def grid_matrix(r: int, c: int) -> sparse.csr_array:
    """Every cell of the extended ``(r + 1, c + 1)`` grid as a sum of interior cells."""
    rows, cols = [], []
    for i in range(r + 1):
        for j in range(c + 1):
            t = i * (c + 1) + j
            for a in range(r) if i == r else (i,):
                for b in range(c) if j == c else (j,):
                    rows.append(t)
                    cols.append(a * c + b)
    data = np.ones(len(rows))
    return sparse.csr_array((data, (rows, cols)), shape=((r + 1) * (c + 1), r * c))


def cell_bounds(grid: np.ndarray, suppressed: np.ndarray, *, nonnegative: bool = True) -> Bounds:
    """Feasible ``(lower, upper)`` of every suppressed cell given the published cells.

    Parameters
    ----------
    grid : numpy.ndarray
        Extended grid (true values).
    suppressed : numpy.ndarray of bool
        Same shape; ``True`` where the cell is not published.
    nonnegative : bool
        The intruder knows every cell is >= 0.
    """
    rr, cc = grid.shape
    flat = grid.ravel()
    known = ~suppressed.ravel()
    targets = np.flatnonzero(~known)
    if not len(targets):
        return {}
    lo, hi = intruder_bounds(
        grid_matrix(rr - 1, cc - 1), known, flat, flat, targets, nonnegative=nonnegative
    )
    out: Bounds = {}
    for t, a, b in zip(targets, lo, hi, strict=True):
        a = max(float(a), 0.0) if nonnegative else float(a)
        out[(int(t) // cc, int(t) % cc)] = (a, float(b))
    return out


def short_cells(
    grid: np.ndarray, bounds: Bounds, levels: Levels, floor: float
) -> list[tuple[int, int]]:
    """The suppressed cells (keys of ``bounds``) whose interval falls short of ``levels``."""
    cc = grid.shape[1]
    cells = sorted(bounds)
    if not cells:
        return []
    idx = np.array([i * cc + j for i, j in cells])
    lo = np.array([bounds[c][0] for c in cells])
    hi = np.array([bounds[c][1] for c in cells])
    short = short_of_levels(grid.ravel(), lo, hi, levels, idx, floor=floor)
    return [c for c, s in zip(cells, short, strict=True) if s]


@dataclass
class GridProtection:
    """A protected suppression pattern of one table."""

    suppressed: np.ndarray  # bool, extended grid shape
    bounds: Bounds  # intruder's interval of every suppressed cell
    short: list[tuple[int, int]]  # cells still short of their levels (empty on success)
    method: str  # "mip", "mip (time limit)" or "greedy"


def protect_grid(
    grid: np.ndarray,
    primary: np.ndarray,
    levels: Levels,
    *,
    floor: float,
    nonnegative: bool = True,
    time_limit: float = 60.0,
) -> GridProtection:
    """The cheapest secondary suppression of ``grid`` that meets ``levels`` (flattened grid
    order) for every suppressed cell; cost one per cell, ties to the smaller values."""
    rr, cc = grid.shape
    flat = grid.ravel()
    scale = float(np.abs(flat).max()) + 1.0
    cost = 1.0 + np.abs(flat) / (scale * flat.size)
    res = cheapest_pattern(
        grid_matrix(rr - 1, cc - 1),
        flat,
        grid[:-1, :-1].ravel(),
        free=~primary.ravel(),
        fixed_supp=primary.ravel(),
        known_lo=flat,
        known_hi=flat,
        levels=levels,
        cost=cost,
        floor=floor,
        time_limit=time_limit,
        nonnegative=nonnegative,
    )
    if res.suppressed is not None:
        supp = res.suppressed.reshape(grid.shape)
        bounds = cell_bounds(grid, supp, nonnegative=nonnegative)
        method = "mip" if res.optimal else "mip (time limit)"
    else:
        log.warning("secondary suppression: no pattern from the program; rectangle heuristic")
        supp, bounds = greedy_suppression(
            grid, primary, levels, floor=floor, nonnegative=nonnegative
        )
        method = "greedy"
    return GridProtection(supp, bounds, short_cells(grid, bounds, levels, floor), method)


def greedy_suppression(
    grid: np.ndarray,
    primary: np.ndarray,
    levels: Levels,
    *,
    floor: float,
    nonnegative: bool = True,
    max_rounds: int = 400,
) -> tuple[np.ndarray, Bounds]:
    """Add complementary suppressions until every suppressed cell meets its levels.

    For each short cell ``(i, j)`` the cheapest rectangle ``(i, j), (i, m), (k, j), (k, m)``
    of the extended grid is suppressed (cost: total value of the cells newly suppressed,
    cells with value 0 avoided because they cannot move down); the audit is re-run after each
    addition. When no rectangle helps, the cell's whole row and column go.
    """
    supp = primary.copy()
    rr, cc = grid.shape
    bounds = cell_bounds(grid, supp, nonnegative=nonnegative)
    bad = short_cells(grid, bounds, levels, floor)
    for _ in range(max_rounds):
        if not bad:
            break
        i, j = max(bad, key=lambda c: (grid[c], c))  # protect the largest short cell first
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
            supp[i, :] = True
            supp[:, j] = True
        else:
            for c in best[1]:
                supp[c] = True
        bounds = cell_bounds(grid, supp, nonnegative=nonnegative)
        bad = short_cells(grid, bounds, levels, floor)
    return supp, bounds
