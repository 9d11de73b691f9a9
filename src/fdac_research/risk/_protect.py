"""Private: published cells as linear functionals of non-negative base counts, the intruder's
bounds on every suppressed cell, and the cheapest suppression pattern meeting protection
levels.

The model
---------
Every table cell (interior cells, margins, and the cells of linked tables) is a row of a
sparse matrix ``M`` over non-negative *base* variables ``y``: for one 2-D table the base is
its interior cells; for a set of linked tables it is the cover table (the cross-classification
of every variable the tables use). An intruder knows an interval ``[lo, hi]`` for each
published cell (a point when published exactly, ``value ± base/2`` when rounded) and that
``y >= 0``; the feasible interval of a suppressed cell ``t`` is ``min/max M[t] @ y`` over that
polyhedron (linear programs, scipy's HiGHS), or over its integer points (``integer=True``).

Protection levels (as in tau-Argus and sdcTable) are per cell: the intruder's upper bound must
reach ``value + upper`` (UPL), the lower bound must reach down to ``value - lower`` (LPL, capped
at the value: counts are not negative) and the interval must be at least ``sliding`` wide (SPL).

The cheapest pattern
--------------------
:func:`cheapest_pattern` solves the secondary-suppression problem as a mixed-integer program
(Fischetti and Salazar-Gonzalez 2000, *JASA* 95, 916-928): one binary ``s_t`` per cell that may
be suppressed and, for each cell that must be protected, two deviation vectors ``d+`` and
``d-`` of the base, each a witness that the table can move that far: ``x0 + d >= 0``, a
published cell does not move (or moves within its rounding interval), a suppressed cell may
move by at most ``U``. A witness is a feasible table, so a pattern the program accepts is
protected; ``U`` (the largest protection level of the cell) is exact for a 2-D table, whose
deviations are flows, and can only over-protect elsewhere. The pattern is then audited with
:func:`intruder_bounds`, cells found short are added to the program, and it is solved again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

__all__ = [
    "Levels",
    "intruder_bounds",
    "short_of_levels",
    "cheapest_pattern",
    "base_point",
    "TOL",
]

log = logging.getLogger(__name__)

#: Numerical tolerance of the bounds (HiGHS feasibility tolerance is 1e-7).
TOL = 1e-6


@dataclass(frozen=True)
class Levels:
    """Protection levels per cell (same length as the cells): upper (UPL), lower (LPL) and
    sliding (SPL, the least width of the feasible interval)."""

    upper: np.ndarray
    lower: np.ndarray
    sliding: np.ndarray

    @classmethod
    def zeros(cls, n: int) -> Levels:
        """No level on any of ``n`` cells."""
        return cls(np.zeros(n), np.zeros(n), np.zeros(n))


def _csr(m: sparse.sparray | np.ndarray) -> sparse.csr_array:
    return sparse.csr_array(m, dtype=float)


def _system(
    mat: sparse.csr_array, known: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> dict[str, object]:
    """linprog keyword arguments for ``lo <= M[known] @ y <= hi`` (points as equalities)."""
    rows = np.flatnonzero(known)
    point = np.isclose(lo[rows], hi[rows], rtol=0.0, atol=1e-12)
    kw: dict[str, object] = {}
    if point.any():
        kw["A_eq"] = mat[rows[point]]
        kw["b_eq"] = lo[rows[point]]
    if (~point).any():
        a = mat[rows[~point]]
        kw["A_ub"] = sparse.vstack([a, -a]).tocsr()
        kw["b_ub"] = np.concatenate([hi[rows[~point]], -lo[rows[~point]]])
    return kw


def intruder_bounds(
    mat: sparse.csr_array,
    known: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    targets: np.ndarray,
    *,
    integer: bool = False,
    nonnegative: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The intruder's feasible interval of each target cell.

    Parameters
    ----------
    mat : scipy.sparse array, shape (n_cells, n_base)
        Each cell as a linear functional of the non-negative base counts.
    known : numpy.ndarray of bool
        Cells the intruder knows (published).
    lo, hi : numpy.ndarray
        What the intruder knows of each published cell (``lo == hi`` for an exact value).
    targets : numpy.ndarray of int
        Cells whose bounds are wanted.
    integer : bool
        Also use that the base counts are whole numbers (a mixed-integer program per bound;
        only for bounds the linear program finds finite).
    nonnegative : bool
        The base is non-negative (counts; sums of non-negative values). Without it the
        intruder knows only the published cells.

    Returns
    -------
    (lower, upper) : numpy.ndarray
        ``-inf``/``inf`` when unbounded; ``nan`` when the published cells are inconsistent.
    """
    mat = _csr(mat)
    kw = _system(mat, known, lo, hi)
    n = mat.shape[1]
    lb = 0.0 if nonnegative else None
    lower = np.full(len(targets), np.nan)
    upper = np.full(len(targets), np.nan)
    for k, t in enumerate(targets):
        c = mat[[int(t)]].toarray().ravel()
        for sign, out in ((1.0, lower), (-1.0, upper)):
            res = linprog(sign * c, bounds=(lb, None), method="highs", **kw)
            if res.status == 3:
                out[k] = -np.inf * sign
            elif res.status == 0:
                out[k] = sign * float(res.fun)
        if integer:
            for sign, out in ((1.0, lower), (-1.0, upper)):
                if not np.isfinite(out[k]):
                    continue
                out[k] = sign * _integer_optimum(sign * c, mat, known, lo, hi, n, nonnegative)
    return lower, upper


def _integer_optimum(
    c: np.ndarray,
    mat: sparse.csr_array,
    known: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    n: int,
    nonnegative: bool,
) -> float:
    rows = np.flatnonzero(known)
    cons = [LinearConstraint(mat[rows], lo[rows], hi[rows])] if len(rows) else []
    lb = 0.0 if nonnegative else -np.inf
    res = milp(c, constraints=cons, integrality=np.ones(n), bounds=Bounds(lb, np.inf))
    if res.status != 0 or res.fun is None:
        return np.nan
    return float(res.fun)


def short_of_levels(
    values: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    levels: Levels,
    cells: np.ndarray,
    *,
    floor: float,
) -> np.ndarray:
    """Which of ``cells`` have an interval short of their protection levels (bool per cell).

    A cell is protected when ``upper >= value + UPL``, ``lower <= value - min(LPL, value)``
    and ``upper - lower >= max(SPL, floor)`` (``floor`` > 0: an interval narrower than one
    person, for counts, pins the cell). A cell with no upper or lower level needs no value
    (cells of other tables: only their width is required). Unknown bounds count as short.
    """
    v = values[cells]
    up = levels.upper[cells]
    low = levels.lower[cells]
    width = upper - lower
    need = np.maximum(levels.sliding[cells], floor)
    with np.errstate(invalid="ignore"):
        ok_up = (up <= 0) | (upper >= v + up - TOL)
        ok_low = (low <= 0) | (lower <= v - np.minimum(low, np.maximum(v, 0.0)) + TOL)
        ok = ok_up & ok_low & (width >= need - TOL) & ~np.isnan(lower) & ~np.isnan(upper)
    return ~ok


def base_point(
    mat: sparse.csr_array,
    exact: np.ndarray,
    exact_values: np.ndarray,
    known: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> np.ndarray | None:
    """Some ``y >= 0`` with ``M[exact] @ y = exact_values`` and the known cells inside their
    intervals (``None`` when there is none: the tables contradict each other)."""
    mat = _csr(mat)
    rows = np.flatnonzero(exact)
    eq_a = mat[rows]
    kw = _system(mat, known & ~exact, lo, hi)
    a_eq = sparse.vstack([eq_a, kw["A_eq"]]).tocsr() if "A_eq" in kw else eq_a
    b_eq = np.concatenate([exact_values, kw["b_eq"]]) if "b_eq" in kw else exact_values
    res = linprog(
        np.zeros(mat.shape[1]),
        A_eq=a_eq,
        b_eq=b_eq,
        A_ub=kw.get("A_ub"),
        b_ub=kw.get("b_ub"),
        bounds=(0, None),
        method="highs",
    )
    if res.status != 0:
        return None
    return np.asarray(res.x, dtype=float)


def _program(
    mat: sparse.csr_array,
    x0: np.ndarray,
    free: np.ndarray,
    fixed_supp: np.ndarray,
    slack_lo: np.ndarray,
    slack_hi: np.ndarray,
    levels: Levels,
    values: np.ndarray,
    protect: np.ndarray,
    cost: np.ndarray,
    floor: float,
    spread: float,
    nonnegative: bool,
) -> tuple[np.ndarray, LinearConstraint, Bounds, np.ndarray]:
    """The mixed-integer program: variables ``[s (free cells), (d+, d-) per protected cell]``."""
    n_cells, m = mat.shape
    free_idx = np.flatnonzero(free)
    pub_idx = np.flatnonzero(~free & ~fixed_supp)
    nf = len(free_idx)
    pos_free = np.full(n_cells, -1)
    pos_free[free_idx] = np.arange(nf)
    c_pub = sparse.coo_array(mat[pub_idx])
    c_free = sparse.coo_array(mat[free_idx])
    prot = np.flatnonzero(protect)
    width = nf + 2 * m * len(prot)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lows: list[np.ndarray] = []
    highs: list[np.ndarray] = []
    var_lo = [np.zeros(nf)]
    var_hi = [np.ones(nf)]
    r0 = 0

    def add(r: np.ndarray, c: np.ndarray, v: np.ndarray) -> None:
        rows.append(r + r0)
        cols.append(c)
        vals.append(v)

    for k, p in enumerate(prot):
        v = values[p]
        upl = float(levels.upper[p])
        lpl = float(min(levels.lower[p], max(v, 0.0))) if levels.lower[p] > 0 else 0.0
        spl = float(max(levels.sliding[p], floor))
        big = spread * max(upl, lpl, spl)
        for side in (0, 1):
            col0 = nf + (2 * k + side) * m
            # published cells stay put (within their rounding slack)
            add(c_pub.row, c_pub.col + col0, c_pub.data)
            lows.append(slack_lo[pub_idx])
            highs.append(slack_hi[pub_idx])
            r0 += len(pub_idx)
            # a free cell moves only when suppressed: -big s_t <= M_t d <= big s_t
            for sign in (-1.0, 1.0):
                add(c_free.row, c_free.col + col0, c_free.data)
                add(np.arange(nf), np.arange(nf), np.full(nf, sign * big))
                lows.append(np.zeros(nf) if sign > 0 else np.full(nf, -np.inf))
                highs.append(np.full(nf, np.inf) if sign > 0 else np.zeros(nf))
                r0 += nf
            var_lo.append(-x0 if nonnegative else np.full(m, -big))
            var_hi.append(np.full(m, big))
        # the witnesses reach the levels when the cell is suppressed
        row_p = sparse.coo_array(mat[[int(p)]])
        plus0, minus0 = nf + 2 * k * m, nf + (2 * k + 1) * m
        add(np.zeros(row_p.nnz, dtype=int), row_p.col + plus0, row_p.data)
        add(np.ones(row_p.nnz, dtype=int), row_p.col + minus0, -row_p.data)
        add(np.full(row_p.nnz, 2), row_p.col + plus0, row_p.data)
        add(np.full(row_p.nnz, 2), row_p.col + minus0, -row_p.data)
        if fixed_supp[p]:
            lows.append(np.array([upl, lpl, spl]))
        else:
            j = pos_free[p]
            add(np.arange(3), np.full(3, j), -np.array([upl, lpl, spl]))
            lows.append(np.zeros(3))
        highs.append(np.full(3, np.inf))
        r0 += 3
    a = sparse.csr_array(
        (
            np.concatenate(vals) if vals else np.zeros(0),
            (
                np.concatenate(rows) if rows else np.zeros(0, int),
                np.concatenate(cols) if cols else np.zeros(0, int),
            ),
        ),
        shape=(r0, width),
    )
    cons = LinearConstraint(
        a,
        np.concatenate(lows) if lows else np.zeros(0),
        np.concatenate(highs) if highs else np.zeros(0),
    )
    bounds = Bounds(np.concatenate(var_lo), np.concatenate(var_hi))
    c = np.concatenate([cost[free_idx], np.zeros(width - nf)])
    integrality = np.concatenate([np.ones(nf), np.zeros(width - nf)])
    return c, cons, bounds, integrality


@dataclass
class PatternResult:
    """What :func:`cheapest_pattern` found."""

    suppressed: np.ndarray | None  # bool per cell; None: no pattern meets the levels
    optimal: bool  # proved cheapest (False: time limit reached, best pattern found)
    rounds: int
    lower: np.ndarray  # intruder bounds of every cell (nan where published)
    upper: np.ndarray


def cheapest_pattern(
    mat: sparse.csr_array,
    values: np.ndarray,
    x0: np.ndarray,
    *,
    free: np.ndarray,
    fixed_supp: np.ndarray,
    known_lo: np.ndarray,
    known_hi: np.ndarray,
    levels: Levels,
    cost: np.ndarray,
    floor: float,
    spread: float = 1.0,
    time_limit: float = 60.0,
    max_rounds: int = 8,
    nonnegative: bool = True,
) -> PatternResult:
    """The cheapest suppression pattern in which every suppressed cell meets its levels.

    Parameters
    ----------
    mat : scipy.sparse array (n_cells, n_base)
        Cells as functionals of the base.
    values : numpy.ndarray
        True value of every cell (``M @ x0`` for the cells whose value matters; cells of
        other tables that are suppressed may hold anything: only their width is required).
    x0 : numpy.ndarray
        A base point consistent with every true value of the cells being decided and with
        what is published of the others.
    free : bool array
        Cells the program may suppress.
    fixed_supp : bool array
        Cells suppressed whatever happens (primary cells, other tables' suppressed cells).
    known_lo, known_hi : numpy.ndarray
        For the other cells (published and not free): what the intruder knows of them.
    levels : Levels
        Protection levels; imposed on every suppressed cell.
    cost : numpy.ndarray
        Cost of suppressing each free cell.
    floor : float
        Least width of any suppressed cell's interval (1 for counts).
    spread : float
        Bound on a witness's movement per cell, in multiples of the cell's largest level.
    time_limit : float
        Seconds per mixed-integer solve; the best pattern found so far is used after it.
    max_rounds : int
        Solve-and-audit rounds before giving up.
    nonnegative : bool
        The base is non-negative (see :func:`intruder_bounds`).
    """
    mat = _csr(mat)
    n_cells = mat.shape[0]
    slack_lo = np.zeros(n_cells)
    slack_hi = np.zeros(n_cells)
    other = ~free & ~fixed_supp
    mx = mat @ x0
    slack_lo[other] = known_lo[other] - mx[other]
    slack_hi[other] = known_hi[other] - mx[other]
    protect = fixed_supp.copy()
    optimal = True
    lower = np.full(n_cells, np.nan)
    upper = np.full(n_cells, np.nan)
    for rounds in range(1, max_rounds + 1):
        c, cons, bounds, integrality = _program(
            mat,
            x0,
            free,
            fixed_supp,
            slack_lo,
            slack_hi,
            levels,
            values,
            protect,
            cost,
            floor,
            spread,
            nonnegative,
        )
        res = milp(
            c,
            constraints=cons,
            integrality=integrality,
            bounds=bounds,
            options={"time_limit": time_limit, "mip_rel_gap": 1e-6},
        )
        if res.x is None:
            log.info("secondary suppression: no pattern meets the levels (status %s)", res.status)
            return PatternResult(None, res.status == 2, rounds, lower, upper)
        optimal = optimal and res.status == 0
        s = np.zeros(n_cells, dtype=bool)
        s[np.flatnonzero(free)] = np.round(res.x[: int(free.sum())]) > 0.5
        supp = fixed_supp | s
        known = ~supp
        lo = np.where(known, np.where(other, known_lo, values), np.nan)
        hi = np.where(known, np.where(other, known_hi, values), np.nan)
        cells = np.flatnonzero(supp)
        lower[:] = np.nan
        upper[:] = np.nan
        lower[cells], upper[cells] = intruder_bounds(
            mat, known, lo, hi, cells, nonnegative=nonnegative
        )
        short = short_of_levels(values, lower[cells], upper[cells], levels, cells, floor=floor)
        missing = cells[short & ~protect[cells]]
        if not short.any():
            return PatternResult(supp, optimal, rounds, lower, upper)
        if not len(missing):  # a witness the audit does not confirm: numerical trouble
            log.warning("secondary suppression: the audit disagrees with the program")
            return PatternResult(None, False, rounds, lower, upper)
        protect[missing] = True
    return PatternResult(None, False, max_rounds, lower, upper)
