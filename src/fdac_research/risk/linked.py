"""Linked tables: every table published about the same people, audited and protected together.

Two tables counting the same population (cases, mothers, children) are linked even when they
share no cell: they are margins of one cross-classification of every variable they use (the
*cover table*, as tau-Argus's linked-tables mode calls it). An intruder who reads both can
solve for a cell that each protects on its own: a 3-way table of sex by age band by outcome
and its sex-by-outcome sub-table pin a suppressed cell exactly when the sub-table publishes
a subtotal the 3-way table suppressed.

Each published table is registered with a :class:`TableLink`: the population it counts
(``unit``), the variables of its rows and columns, the subset of the population it covers
(``subset``, e.g. children in closed cases), and which variables are multi-valued (a person
counted once per substance). :class:`Cover` builds the cover table of a set of registered
tables and every table cell as a sum of cover cells; :func:`audit_linked` is the intruder's
linear program over all of them (published cells fixed, rounded ones within their rounding
interval, cover cells non-negative); :func:`protect_linked` adds to a new table the cheapest
secondary suppression that keeps every suppressed cell of the set, old and new, at its
protection level, or fails naming the table it cannot be published with.

Examples
--------
A 3-way table published by rows (sex, age band), and its sex-by-outcome sub-table:

>>> link3 = TableLink(unit="children", rows=("sex", "age"), columns=("outcome",))
>>> link2 = TableLink(unit="children", rows=("sex",), columns=("outcome",))
>>> link2.variables
('sex', 'outcome')
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fdac_research.exceptions import ConfigError, DisclosureError
from fdac_research.risk._cover import (
    MAX_COVER_CELLS,
    Cover,
    LinkedTable,
    TableLink,
    known_cells,
    rounding_interval,
)
from fdac_research.risk._protect import (
    Levels,
    base_point,
    cheapest_pattern,
    intruder_bounds,
    short_of_levels,
)
from fdac_research.risk.tables import (
    SUPPRESSED,
    TableCheckResult,
    TableRules,
    TableSpec,
    check_table,
    prepare,
)

__all__ = [
    "TableLink",
    "LinkedTable",
    "Cover",
    "LinkedAudit",
    "audit_linked",
    "protect_linked",
    "rounding_interval",
    "check_linked",
    "labels_of",
    "published_grid",
    "MAX_COVER_CELLS",
]

log = logging.getLogger(__name__)


@dataclass
class LinkedAudit:
    """The intruder's intervals on every suppressed cell of a set of linked tables."""

    unit: str
    tables: list[str]
    cells: list[dict[str, Any]]  # table, row, column, lower, upper, width, required, protected
    cover_cells: int
    consistent: bool

    @property
    def protected(self) -> bool:
        """Whether every suppressed cell is at least its table's level wide."""
        return self.consistent and all(c["protected"] for c in self.cells)

    @property
    def min_width(self) -> float | None:
        """The narrowest interval of any suppressed cell (``None`` when nothing is)."""
        return min((c["width"] for c in self.cells), default=None)


def _label(t: LinkedTable, i: int, axis: str) -> str:
    labels = t.row_labels if axis == "rows" else t.col_labels
    return "Total" if i >= len(labels) else " / ".join(labels[i])


def audit_linked(tables: Sequence[LinkedTable], *, integer: bool = False) -> LinkedAudit:
    """Audit a set of published tables of one unit together, as an intruder reading all of
    them: each suppressed cell's interval over the cover table (whole counts with
    ``integer=True``) against its table's ``min_interval`` (and one person)."""
    cover = Cover.of(tables)
    known, lo, hi = known_cells(cover)
    consistent = (
        base_point(cover.matrix, np.zeros(len(known), bool), np.zeros(0), known, lo, hi) is not None
    )
    cells: list[dict[str, Any]] = []
    targets = np.flatnonzero(~known)
    if len(targets) and consistent:
        lower, upper = intruder_bounds(cover.matrix, known, lo, hi, targets, integer=integer)
        owner = np.concatenate(
            [
                np.full(cover.cells_of(k).stop - cover.cells_of(k).start, k)
                for k in range(len(cover.tables))
            ]
        )
        for t_idx, a, b in zip(targets, lower, upper, strict=True):
            k = int(owner[t_idx])
            t = cover.tables[k]
            local = int(t_idx) - cover.offsets[k]
            cc = len(t.col_labels) + 1
            need = max(t.min_interval, 1.0)
            cells.append(
                {
                    "table": t.name,
                    "row": _label(t, local // cc, "rows"),
                    "column": _label(t, local % cc, "columns"),
                    "lower": float(a),
                    "upper": float(b),
                    "width": float(b - a),
                    "required": need,
                    "protected": bool(b - a >= need - 1e-6),
                }
            )
    return LinkedAudit(
        unit=tables[0].link.unit,
        tables=[t.name for t in tables],
        cells=cells,
        cover_cells=cover.n_base,
        consistent=consistent,
    )


def protect_linked(
    new: LinkedTable,
    others: Sequence[LinkedTable],
    primary: np.ndarray,
    levels: Levels,
    *,
    candidate: np.ndarray | None = None,
    time_limit: float = 60.0,
) -> tuple[np.ndarray, dict[tuple[int, int], tuple[float, float]], str]:
    """The cheapest suppression of ``new`` that, published with ``others``, keeps every
    suppressed cell of the set at its protection level.

    Parameters
    ----------
    new : LinkedTable
        The table being published, with its true ``values``.
    others : sequence of LinkedTable
        Tables of the same unit already published (as published).
    primary : bool array, extended-grid shape
        ``new``'s primary cells.
    levels : Levels
        ``new``'s protection levels (flattened extended grid).
    candidate : bool array, optional
        A pattern to try first (the table's own cheapest); kept when the joint audit passes.

    Returns
    -------
    (suppressed, bounds, method)
        Mask of ``new``'s suppressed cells, the intruder's interval of each (over the set),
        and how it was found (``"own"``, ``"mip"``, ``"mip (time limit)"``).

    Raises
    ------
    DisclosureError
        ``new`` cannot be published with ``others``: a table it contradicts, or the tables
        whose published cells pin one of its cells whatever else is suppressed.
    """
    if new.values is None:
        raise ValueError("the table being published needs its true values")
    tables = [*others, new]
    cover = Cover.of(tables)
    known, lo, hi = known_cells(cover)
    own = cover.cells_of(len(tables) - 1)
    n = cover.matrix.shape[0]
    values = np.full(n, np.nan)
    values[own] = new.values.ravel()
    exact = np.zeros(n, dtype=bool)
    exact[own] = True
    x0 = base_point(cover.matrix, exact, new.values.ravel(), known & ~exact, lo, hi)
    if x0 is None:
        clash = _contradicted(new, others)
        raise DisclosureError(
            f"{new.name} cannot be published with {', '.join(clash) or 'the other tables'} "
            f"(unit {new.link.unit!r}): their counts contradict each other; register them "
            "with the population and subset each really counts"
        )
    all_levels = Levels.zeros(n)
    for k, t in enumerate(others):
        sl = cover.cells_of(k)
        all_levels.sliding[sl] = t.min_interval
    all_levels.upper[own] = levels.upper
    all_levels.lower[own] = levels.lower
    all_levels.sliding[own] = levels.sliding
    free = np.zeros(n, dtype=bool)
    free[own] = ~primary.ravel()
    fixed = ~known.copy()
    fixed[own] = primary.ravel()
    if candidate is not None:
        supp = fixed.copy()
        supp[own] = candidate.ravel()
        bounds = _bounds(cover, supp, values, known, lo, hi, own)
        if bounds is not None and not _short(values, bounds, all_levels, supp).any():
            return candidate.copy(), _local(bounds, new, cover), "own"
    flat = new.values.ravel()
    cost = np.zeros(n)
    cost[own] = 1.0 + np.abs(flat) / ((np.abs(flat).max() + 1.0) * flat.size)
    res = cheapest_pattern(
        cover.matrix,
        values,
        x0,
        free=free,
        fixed_supp=fixed,
        known_lo=lo,
        known_hi=hi,
        levels=all_levels,
        cost=cost,
        floor=1.0,
        spread=2.0,
        time_limit=time_limit,
    )
    if res.suppressed is None:
        pinning = _pinning(new, others, primary, levels, time_limit)
        raise DisclosureError(
            f"{new.name} cannot be protected together with {', '.join(pinning) or 'the other tables'} "
            f"(unit {new.link.unit!r}): with them published, a suppressed cell of the set is "
            "pinned within its protection level whatever else of this table is suppressed"
        )
    supp = res.suppressed
    bounds = _bounds(cover, supp, values, known, lo, hi, own)
    assert bounds is not None
    method = "mip" if res.optimal else "mip (time limit)"
    return supp[own].reshape(new.published.shape), _local(bounds, new, cover), method


def _bounds(
    cover: Cover,
    supp: np.ndarray,
    values: np.ndarray,
    known: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    own: slice,
) -> dict[int, tuple[float, float]] | None:
    """Intervals of every suppressed cell (global index) when ``supp`` is suppressed."""
    pub = ~supp
    klo = lo.copy()
    khi = hi.copy()
    klo[own] = values[own]
    khi[own] = values[own]
    targets = np.flatnonzero(supp)
    a, b = intruder_bounds(cover.matrix, pub, klo, khi, targets)
    if np.isnan(a).any():
        return None
    return {int(t): (float(x), float(y)) for t, x, y in zip(targets, a, b, strict=True)}


def _short(
    values: np.ndarray, bounds: dict[int, tuple[float, float]], levels: Levels, supp: np.ndarray
) -> np.ndarray:
    cells = np.array(sorted(bounds), dtype=int)
    lo = np.array([bounds[c][0] for c in cells])
    hi = np.array([bounds[c][1] for c in cells])
    return short_of_levels(values, lo, hi, levels, cells, floor=1.0)


def _local(
    bounds: dict[int, tuple[float, float]], new: LinkedTable, cover: Cover
) -> dict[tuple[int, int], tuple[float, float]]:
    own = cover.cells_of(len(cover.tables) - 1)
    cc = len(new.col_labels) + 1
    return {
        ((t - own.start) // cc, (t - own.start) % cc): v
        for t, v in bounds.items()
        if own.start <= t < own.stop
    }


def _contradicted(new: LinkedTable, others: Sequence[LinkedTable]) -> list[str]:
    out = []
    for t in others:
        cover = Cover.of([t, new])
        known, lo, hi = known_cells(cover)
        own = cover.cells_of(1)
        exact = np.zeros(len(known), dtype=bool)
        exact[own] = True
        assert new.values is not None
        if base_point(cover.matrix, exact, new.values.ravel(), known & ~exact, lo, hi) is None:
            out.append(t.name)
    return out


def _pinning(
    new: LinkedTable,
    others: Sequence[LinkedTable],
    primary: np.ndarray,
    levels: Levels,
    time_limit: float,
) -> list[str]:
    """The tables with which, alone, ``new`` cannot be protected."""
    if len(others) == 1:
        return [others[0].name]
    out = []
    for t in others:
        try:
            protect_linked(new, [t], primary, levels, time_limit=time_limit)
        except DisclosureError:
            out.append(t.name)
    return out


def labels_of(index: pd.Index) -> list[tuple[str, ...]]:
    """Row or column labels as tuples of text (one value per variable)."""
    if isinstance(index, pd.MultiIndex):
        return [tuple(str(v) for v in lab) for lab in index]
    return [(str(v),) for v in index]


def published_grid(published: pd.DataFrame) -> np.ndarray:
    """A published table with margins as numbers, ``nan`` where suppressed."""
    return published.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)


def check_linked(
    table: TableSpec | pd.DataFrame,
    rules: TableRules | str | dict[str, Any],
    *,
    name: str,
    link: TableLink,
    others: Sequence[LinkedTable],
    time_limit: float = 60.0,
) -> tuple[TableCheckResult, LinkedTable]:
    """Check a frequency table as :func:`~fdac_research.risk.check_table` does, then protect
    it together with ``others`` (tables of the same unit already published).

    Returns the result (its bounds are the intruder's over the whole set) and the table as
    registered (for the next table of the set).

    Raises
    ------
    DisclosureError
        The table cannot be protected together with the others (naming them), or its counts
        contradict theirs.
    """
    own = check_table(table, rules, time_limit=time_limit)
    prep = prepare(table, rules)
    if prep.spec.kind != "frequency":
        raise ConfigError("linked table", [f"{name}: only frequency tables are linked"])
    new = LinkedTable(
        name=name,
        link=link,
        row_labels=labels_of(prep.spec.values.index),
        col_labels=labels_of(prep.spec.values.columns),
        published=published_grid(own.published),
        round_base=prep.rules.round_base,
        min_interval=prep.rules.sliding_level("frequency"),
        values=prep.grid,
    )
    relevant = [t for t in others if t.link.unit == link.unit and t.name != name]
    if not relevant:
        return own, new
    candidate = own.published.to_numpy() == SUPPRESSED
    supp, bounds, method = protect_linked(
        new, relevant, prep.primary, prep.levels, candidate=candidate, time_limit=time_limit
    )
    cc = prep.grid.shape[1]
    flat_bounds = {(i, j): v for (i, j), v in bounds.items()}
    cells = np.array([i * cc + j for i, j in sorted(flat_bounds)], dtype=int)
    lo = np.array([flat_bounds[k][0] for k in sorted(flat_bounds)])
    hi = np.array([flat_bounds[k][1] for k in sorted(flat_bounds)])
    short = short_of_levels(prep.grid.ravel(), lo, hi, prep.levels, cells, floor=prep.floor)
    still = [k for k, bad in zip(sorted(flat_bounds), short, strict=True) if bad]
    res = prep.result(
        supp, flat_bounds, still, method if method != "own" else own.summary["secondary_method"]
    )
    res.summary["linked_with"] = [t.name for t in relevant]
    new.published = published_grid(res.published)
    return res, new
