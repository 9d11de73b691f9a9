"""An intruder's audit of published tables, written for the tests independently of the
library's optimiser and of its cover-table code.

The intruder reads every published table of one population. Unknowns: the number of people
in every cell of the full cross-classification of all variables the tables use, each
variable taking its listed categories plus "something else", each multi-valued variable any
set of its categories. What the intruder knows:

* every published cell: its value (or, rounded to base ``b``, a whole number within
  ``[v - b/2, v + b/2)``), as a sum of unknowns;
* every unknown is a whole number >= 0;
* structural zeros: a table without a subset lists a category of each of its variables for
  every person (no "something else"; for a multi-valued variable, at least one category);
  inside a table's subset the same holds for its variables; an exclusive category of a
  multi-valued variable is held alone.

Each suppressed cell is minimised and maximised with ``scipy.optimize.linprog`` (HiGHS) and,
with ``integer=True``, over whole numbers: ``scipy.optimize.milp``, unless the linear
program's optimum is already a whole-number point (then it is the integer optimum).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

ELSE = "<something else>"


@dataclass
class Published:
    """One published table as the intruder sees it."""

    name: str
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    row_labels: list[tuple[str, ...]]
    col_labels: list[tuple[str, ...]]
    grid: np.ndarray  # (R+1, C+1) with margins; nan where suppressed
    round_base: int | None = None
    subset: str | None = None
    multi: frozenset[str] = field(default_factory=frozenset)
    exclusive: frozenset[str] = field(default_factory=frozenset)


def from_frame(
    name: str,
    published: pd.DataFrame,
    rows: tuple[str, ...],
    cols: tuple[str, ...],
    **kw: object,
) -> Published:
    """A published table (margins last, ``[c]`` suppressed) as :class:`Published`."""
    body = published.iloc[:-1, :-1]

    def labels(idx: pd.Index) -> list[tuple[str, ...]]:
        return [tuple(str(x) for x in v) if isinstance(v, tuple) else (str(v),) for v in idx]

    grid = published.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return Published(name, rows, cols, labels(body.index), labels(body.columns), grid, **kw)  # type: ignore[arg-type]


def _domain(tables: list[Published]) -> dict[str, list[object]]:
    dom: dict[str, list[object]] = {}
    for t in tables:
        for pos, v in enumerate(t.rows):
            dom.setdefault(v, [])
            dom[v] += [lab[pos] for lab in t.row_labels if lab[pos] not in dom[v]]
        for pos, v in enumerate(t.cols):
            dom.setdefault(v, [])
            dom[v] += [lab[pos] for lab in t.col_labels if lab[pos] not in dom[v]]
    multi = set().union(*(t.multi for t in tables))
    out: dict[str, list[object]] = {}
    for v, cats in dom.items():
        if v in multi:
            out[v] = [
                frozenset(s) for k in range(len(cats) + 1) for s in itertools.combinations(cats, k)
            ]
        else:
            out[v] = [*cats, ELSE]
    return out


def _membership(dom: list[object], label: str, multi: bool) -> np.ndarray:
    """Whether each domain value holds ``label``."""
    return np.array([(label in d) if multi else (d == label) for d in dom], dtype=float)  # type: ignore[operator]


def _weights(
    vars_: tuple[str, ...],
    labels: list[tuple[str, ...]],
    multi: frozenset[str],
    dom: dict[str, list[object]],
    names: list[str],
    codes: np.ndarray,
) -> np.ndarray:
    """(cover cells, labels + total): how often each cover cell counts under each label."""
    w = np.ones((len(codes), len(labels)))
    for k, lab in enumerate(labels):
        for p, v in enumerate(vars_):
            w[:, k] *= _membership(dom[v], lab[p], v in multi)[codes[:, names.index(v)]]
    return np.hstack([w, w.sum(axis=1, keepdims=True)])


def audit(tables: list[Published], *, integer: bool = False) -> list[dict[str, object]]:
    """Every suppressed cell's interval: ``table, row, column, lower, upper, width``."""
    dom = _domain(tables)
    names = list(dom)
    subsets = sorted({t.subset for t in tables if t.subset})
    sizes = [len(dom[v]) for v in names] + [2] * len(subsets)
    codes = np.indices(sizes).reshape(len(sizes), -1).T  # every cover cell
    n = len(codes)
    exclusive = set().union(*(t.exclusive for t in tables))
    zero = np.zeros(n, dtype=bool)
    for t in tables:
        inside = (
            codes[:, len(names) + subsets.index(t.subset)] == 1
            if t.subset is not None
            else np.ones(n, dtype=bool)
        )
        for v in (*t.rows, *t.cols):
            empty = np.array([d == ELSE or d == frozenset() for d in dom[v]])
            zero |= inside & empty[codes[:, names.index(v)]]
    for v in names:
        shared = np.array(
            [isinstance(d, frozenset) and len(d) > 1 and bool(d & exclusive) for d in dom[v]]
        )
        zero |= shared[codes[:, names.index(v)]]
    rows_a, lo, hi, where = [], [], [], []
    for t in tables:
        inside = (
            (codes[:, len(names) + subsets.index(t.subset)] == 1).astype(float)
            if t.subset is not None
            else np.ones(n)
        )

        wr = _weights(t.rows, t.row_labels, t.multi, dom, names, codes) * inside[:, None]
        wc = _weights(t.cols, t.col_labels, t.multi, dom, names, codes)
        for i in range(wr.shape[1]):
            for j in range(wc.shape[1]):
                coef = wr[:, i] * wc[:, j]
                value = t.grid[i, j]
                if np.isnan(value):
                    where.append((t.name, i, j, coef))
                    continue
                b = t.round_base
                rows_a.append(coef)
                lo.append(max(np.ceil(value - b / 2), 0) if b and b > 1 else value)
                hi.append(np.ceil(value + b / 2) - 1 if b and b > 1 else value)
    a = np.array(rows_a)
    lo_a, hi_a = np.array(lo, dtype=float), np.array(hi, dtype=float)
    eq = np.isclose(lo_a, hi_a)
    ub = np.where(zero, 0.0, np.inf)
    bounds = [(0.0, 0.0) if z else (0.0, None) for z in zero]
    out = []
    for name, i, j, coef in where:
        ends = []
        for sign in (1.0, -1.0):
            res = linprog(
                sign * coef,
                A_eq=a[eq] if eq.any() else None,
                b_eq=lo_a[eq] if eq.any() else None,
                A_ub=np.vstack([a[~eq], -a[~eq]]) if (~eq).any() else None,
                b_ub=np.concatenate([hi_a[~eq], -lo_a[~eq]]) if (~eq).any() else None,
                bounds=bounds,
                method="highs",
            )
            end = -sign * np.inf if res.status == 3 else sign * res.fun
            # a whole-number optimum of the linear program is the integer optimum too (the
            # linear bound holds every integer point and is attained at one); only a
            # fractional optimum needs the integer program
            whole_lp = res.status == 0 and np.allclose(res.x, np.round(res.x), atol=1e-7)
            if integer and np.isfinite(end) and not whole_lp:
                whole = milp(
                    sign * coef,
                    constraints=[LinearConstraint(a, lo_a, hi_a)],
                    integrality=np.ones(n),
                    bounds=Bounds(np.zeros(n), ub),
                )
                end = sign * whole.fun if whole.status == 0 else np.nan
            ends.append(end)
        lower, upper = ends[0], ends[1]
        out.append(
            {
                "table": name,
                "row": i,
                "column": j,
                "lower": lower,
                "upper": upper,
                "width": upper - lower,
            }
        )
    return out
