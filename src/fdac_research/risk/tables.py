"""Output checking of frequency and magnitude tables before publication.

Rules (a :class:`TableRules` config, or a preset name): minimum threshold, disclosive zeros,
the p%-rule and (n,k)-dominance for magnitudes, rounding, and **secondary suppression** with
**protection levels** (as tau-Argus and sdcTable define them): the feasible interval an
intruder can derive for every suppressed cell from the published cells, row, column and grand
totals must be at least the sliding protection level wide (by default the threshold, for
counts), reach above the cell by its upper level and below it by its lower level. The
cheapest pattern meeting the levels is found by a mixed-integer program (scipy's HiGHS), and
protection is proved, not assumed: for every suppressed cell the intruder's linear program
(min and max of the cell subject to the published cells, the margins and non-negativity) is
solved and the feasible interval reported.

Presets
-------
``"ons_10_5"``
    ONS-style "10-5": cells below 10 suppressed (zeros may be shown), magnitude cells need
    10 contributors, pass the p%-rule (p = 10) and (2, 85)-dominance; published counts
    rounded to base 5; every suppressed count's interval at least 10 wide.
``"nhs_1_7_round_5"``
    Counts 1-7 suppressed, every other count rounded to the nearest 5 (the HES/NHS rule);
    every suppressed count's interval at least 8 wide.
``"tre_10_zeros"``
    A trusted research environment's rule, primary checks as ACRO 1.0.2's defaults
    (``default.yaml``): threshold 10, zeros disclosive, p-ratio 10% (``<``), (2, 90)-dominance
    with ``>=``, no rounding; on top of ACRO (which suppresses only primary cells and
    recomputes the margins without them), secondary suppression with every suppressed
    count's interval at least 10 wide, so the true margins can be published.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"fdac": [12, 3, 20], "comparison": [15, 11, 30]}, index=["a", "b", "c"])
>>> res = check_table(t, "tre_10_zeros")
>>> res.reasons.loc["b", "fdac"], res.summary["n_primary"], res.is_protected
('threshold', 1, True)
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fdac_research.exceptions import ContractError, DisclosureError, Problem
from fdac_research.risk._audit import cell_bounds, extend, protect_grid, short_cells
from fdac_research.risk._primary import primary_reasons, protection_levels
from fdac_research.risk._protect import Levels
from fdac_research.risk._rules import PRESETS, TableRules, rules_from

__all__ = [
    "TableRules",
    "PRESETS",
    "TableSpec",
    "TableCheckResult",
    "tabulate",
    "check_table",
    "check_table_or_raise",
    "raise_if_unsafe",
    "prepare",
]

log = logging.getLogger(__name__)

TOTAL = "Total"
SUPPRESSED = "[c]"


@dataclass(frozen=True)
class TableSpec:
    """A 2-D table to check, without margins (they are computed and published).

    ``values`` holds counts (``kind="frequency"``) or sums (``kind="magnitude"``). A
    magnitude table also needs, per cell, the number of contributors and the largest and
    second-largest contributions (:func:`tabulate` computes them from microdata).
    """

    values: pd.DataFrame
    kind: str = "frequency"
    n_contributors: pd.DataFrame | None = None
    largest: pd.DataFrame | None = None
    second: pd.DataFrame | None = None


def tabulate(
    df: pd.DataFrame,
    rows: str,
    cols: str,
    value: str | None = None,
    *,
    missing_label: str | None = None,
) -> TableSpec:
    """Cross-tabulate microdata into a :class:`TableSpec` (counts, or sums of ``value``).

    A record with no ``rows`` or ``cols`` label is an error (a table that silently leaves
    people out has margins that do not count them), unless ``missing_label`` names the
    category they are shown under (e.g. ``"not recorded"``). For sums, records with no
    ``value`` contribute nothing (and are not counted as contributors).
    """
    absent = [c for c in (rows, cols, value) if c is not None and c not in df.columns]
    if absent:
        raise ContractError(
            "data",
            [
                Problem("data", c, None, None, "column to tabulate is not in the frame")
                for c in absent
            ],
        )
    df = df.copy()
    problems = []
    for c in (rows, cols):
        gap = df[c].isna()
        if not gap.any():
            continue
        if missing_label is None:
            first = df.index[np.flatnonzero(gap.to_numpy())[0]]
            problems.append(
                Problem(
                    "data",
                    c,
                    None,
                    None,
                    f"a label on every record to tabulate (row {first!r} has none); give "
                    "missing_label='not recorded' to show them as a category",
                    int(gap.sum()),
                )
            )
        else:
            df[c] = df[c].astype(object).where(~gap, missing_label)
    if problems:
        raise ContractError("data", problems)
    if value is None:
        counts = pd.crosstab(df[rows], df[cols])
        return TableSpec(values=counts.astype(float), kind="frequency")
    v = pd.to_numeric(df[value], errors="coerce")
    d = pd.DataFrame(
        {"r": df[rows].to_numpy(), "c": df[cols].to_numpy(), "v": v.to_numpy()}
    ).dropna(subset=["v"])
    d = d.sort_values("v", ascending=False, kind="stable")
    g = d.groupby(["r", "c"], sort=True)["v"]
    sums = g.sum().unstack(fill_value=0)
    n = g.size().unstack(fill_value=0).reindex_like(sums).fillna(0)
    first = g.nth(0)
    largest = (
        pd.Series(first.to_numpy(), index=pd.MultiIndex.from_frame(d.loc[first.index, ["r", "c"]]))
        .unstack(fill_value=0)
        .reindex_like(sums)
        .fillna(0.0)
    )
    sec = g.nth(1)
    second = (
        pd.Series(sec.to_numpy(), index=pd.MultiIndex.from_frame(d.loc[sec.index, ["r", "c"]]))
        .unstack(fill_value=0)
        .reindex_like(sums)
        .fillna(0.0)
    )
    for t in (sums, n, largest, second):
        t.index.name, t.columns.name = rows, cols
    return TableSpec(
        values=sums.astype(float),
        kind="magnitude",
        n_contributors=n.astype(float),
        largest=largest,
        second=second,
    )


@dataclass
class TableCheckResult:
    """The outcome of checking one table.

    Attributes
    ----------
    published : pandas.DataFrame
        The safe table with margins (``Total`` row and column): suppressed cells shown as
        ``"[c]"``, the rest rounded when the rules round.
    reasons : pandas.DataFrame
        Same shape: ``"ok"``, ``"threshold"``, ``"zero"``, ``"p_percent"``, ``"dominance"``
        (primary) or ``"secondary"``.
    bounds : pandas.DataFrame
        One row per suppressed cell: ``row``, ``column``, ``value``, ``lower``, ``upper``,
        ``width``, ``reason``, ``protected`` (the attacker's feasible interval).
    summary : dict
        Counts of cells, primary and secondary suppressions, rules, and whether protected.
    """

    published: pd.DataFrame
    reasons: pd.DataFrame
    bounds: pd.DataFrame
    summary: dict[str, Any]
    rules: TableRules

    @property
    def passes(self) -> bool:
        """Whether the table could be published as given (no cell needs suppression)."""
        return bool((self.reasons.to_numpy() == "ok").all())

    @property
    def is_protected(self) -> bool:
        """Whether every suppressed cell of the safe table has a wide enough interval."""
        return bool(self.bounds["protected"].all()) if len(self.bounds) else True

    def unsafe_cells(self) -> list[tuple[Any, Any, str]]:
        """``(row, column, reason)`` of every cell that is not ``ok``."""
        out = []
        for r in self.reasons.index:
            for c in self.reasons.columns:
                why = self.reasons.loc[r, c]
                if why != "ok":
                    out.append((r, c, str(why)))
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary with the per-cell reasons and bounds."""
        return {
            "summary": self.summary,
            "rules": self.rules.to_dict(),
            "unsafe_cells": [
                {"row": str(r), "column": str(c), "reason": w} for r, c, w in self.unsafe_cells()
            ],
            "bounds": json_records(self.bounds),
        }


def json_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``df`` as JSON-ready dicts (infinite bounds as ``None``)."""
    out = []
    for rec in df.to_dict(orient="records"):
        clean = {}
        for k, v in rec.items():
            if isinstance(v, float | np.floating) and not np.isfinite(v):
                v = None
            elif isinstance(v, np.generic):
                v = v.item()
            clean[str(k)] = v if isinstance(v, int | float | bool | type(None)) else str(v)
        out.append(clean)
    return out


def _as_spec(table: TableSpec | pd.DataFrame, kind: str | None) -> TableSpec:
    if isinstance(table, TableSpec):
        return (
            table if kind is None or kind == table.kind else dataclasses.replace(table, kind=kind)
        )
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a DataFrame or TableSpec, got {type(table).__name__}")
    return TableSpec(values=table, kind=kind or "frequency")


def _validate(spec: TableSpec) -> np.ndarray:
    v = spec.values
    problems = []
    if v.shape[0] == 0 or v.shape[1] == 0:
        problems.append(
            Problem(
                "table", None, None, None, "at least one row and one column (the table is empty)"
            )
        )
    flags = [str(c) for c, t in v.dtypes.items() if pd.api.types.is_bool_dtype(t)]
    if flags:
        problems.append(
            Problem(
                "table",
                flags[0],
                None,
                None,
                "counts in every column, not true/false values (a boolean table is not a "
                "table of counts)",
                len(flags),
            )
        )
    numeric = v.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna() & v.notna() | v.isna()
    if bad.to_numpy().any():
        r, c = np.argwhere(bad.to_numpy())[0]
        problems.append(
            Problem(
                "table",
                str(v.columns[c]),
                None,
                str(v.iloc[r, c]),
                f"a number in every cell (row {v.index[r]!r})",
                int(bad.to_numpy().sum()),
            )
        )
    labels = [str(x).strip().lower() for x in [*v.index, *v.columns]]
    if any(x in ("total", "all", "totals") for x in labels):
        problems.append(
            Problem(
                "table",
                None,
                None,
                "Total",
                "the interior cells only: margins (totals) are computed and published by the check",
            )
        )
    if spec.kind not in ("frequency", "magnitude"):
        problems.append(Problem("table", None, None, spec.kind, "kind 'frequency' or 'magnitude'"))
    if spec.kind == "frequency" and not bad.to_numpy().any():
        arr = numeric.to_numpy(dtype=float)
        if (arr < 0).any() or (np.round(arr) != arr).any():
            problems.append(
                Problem(
                    "table",
                    None,
                    None,
                    None,
                    "whole, non-negative counts in a frequency table (use kind='magnitude' for sums)",
                )
            )
    if spec.kind == "magnitude":
        for name in ("n_contributors", "largest", "second"):
            other = getattr(spec, name)
            if other is None:
                problems.append(
                    Problem(
                        "table",
                        None,
                        None,
                        None,
                        f"a magnitude table needs its contributor information: {name} is missing (in Python build it with risk.tabulate(df, rows, cols, value); on the command line give --contributors, --largest and --second)",
                    )
                )
            elif other.shape != v.shape:
                problems.append(
                    Problem(
                        "table",
                        None,
                        None,
                        str(other.shape),
                        f"{name} of the same shape as the table {v.shape}",
                    )
                )
    if problems:
        raise ContractError("table", problems)
    return numeric.to_numpy(dtype=float)


def _round(x: np.ndarray, base: int) -> np.ndarray:
    return np.floor(x / base + 0.5) * base


def check_table(
    table: TableSpec | pd.DataFrame,
    rules: TableRules | str | dict[str, Any] = "tre_10_zeros",
    *,
    kind: str | None = None,
    time_limit: float = 60.0,
) -> TableCheckResult:
    """Check a table, suppress what must be suppressed and prove the suppression holds.

    Parameters
    ----------
    table : TableSpec or pandas.DataFrame
        The interior cells (no margins). A DataFrame is a frequency table unless
        ``kind="magnitude"`` (which then needs a :class:`TableSpec` with contributors).
    rules : TableRules, preset name, dict or path to a JSON/YAML rules file
    kind : {"frequency", "magnitude"}, optional
    time_limit : float
        Seconds the secondary-suppression program may take per solve; after it the best
        pattern found is used (and still audited), recorded as ``"mip (time limit)"``.

    Returns
    -------
    TableCheckResult

    Raises
    ------
    ContractError
        Empty table, non-numeric or boolean cells, negative/fractional counts, or a
        magnitude table without its contributor counts.
    ConfigError
        Unknown preset or invalid rules.
    """
    prep = prepare(table, rules, kind=kind)
    method = None
    if prep.rules.secondary and prep.primary.any():
        found = protect_grid(
            prep.grid,
            prep.primary,
            prep.levels,
            floor=prep.floor,
            nonnegative=prep.nonnegative,
            time_limit=time_limit,
        )
        supp, bounds, still, method = found.suppressed, found.bounds, found.short, found.method
    else:
        supp = prep.primary
        bounds = cell_bounds(prep.grid, supp, nonnegative=prep.nonnegative)
        still = short_cells(prep.grid, bounds, prep.levels, prep.floor)
    return prep.result(supp, bounds, still, method)


@dataclass
class Prepared:
    """A validated table with its primary reasons and protection levels (before secondary
    suppression): what :func:`check_table` and the linked-table check share."""

    spec: TableSpec
    rules: TableRules
    grid: np.ndarray  # extended grid
    reasons: np.ndarray  # primary reasons per cell ("ok" where none)
    levels: Levels
    floor: float
    nonnegative: bool

    @property
    def primary(self) -> np.ndarray:
        """Cells a primary rule suppresses."""
        return self.reasons != "ok"

    def result(
        self,
        supp: np.ndarray,
        bounds: dict[tuple[int, int], tuple[float, float]],
        still: list[tuple[int, int]],
        method: str | None,
    ) -> TableCheckResult:
        """The check's result for the suppression pattern ``supp``."""
        reasons = self.reasons.copy()
        reasons[supp & (reasons == "ok")] = "secondary"
        return _result(
            self.spec,
            self.grid,
            reasons,
            supp,
            self.primary,
            bounds,
            still,
            self.levels,
            self.rules,
            method,
        )


def prepare(
    table: TableSpec | pd.DataFrame,
    rules: TableRules | str | dict[str, Any] = "tre_10_zeros",
    *,
    kind: str | None = None,
) -> Prepared:
    """Validate ``table`` and apply the primary rules (see :func:`check_table`)."""
    spec = _as_spec(table, kind)
    rules = rules_from(rules)
    vals = _validate(spec)
    grid = extend(vals)
    reasons = primary_reasons(spec, vals, grid, rules)
    levels = protection_levels(spec, vals, grid, reasons, rules)
    floor = 1.0 if spec.kind == "frequency" else max(1e-3, 1e-6 * float(np.abs(grid).max()))
    return Prepared(spec, rules, grid, reasons, levels, floor, bool((vals >= 0).all()))


def _result(
    spec: TableSpec,
    grid: np.ndarray,
    reasons: np.ndarray,
    supp: np.ndarray,
    primary: np.ndarray,
    bounds: dict[tuple[int, int], tuple[float, float]],
    still: list[tuple[int, int]],
    levels: Levels,
    rules: TableRules,
    method: str | None,
) -> TableCheckResult:
    row_axis, col_axis = _axis(spec.values.index), _axis(spec.values.columns)
    row_labels = [_label(x) for x in row_axis]
    col_labels = [_label(x) for x in col_axis]
    shown = _round(grid, rules.round_base) if rules.round_base else grid
    published = pd.DataFrame(shown, index=row_axis, columns=col_axis).astype(object)
    for i, j in np.argwhere(supp):
        published.iat[i, j] = SUPPRESSED
    for i, j in np.argwhere(~supp):
        x = float(shown[i, j])
        published.iat[i, j] = int(x) if x.is_integer() else x
    reason_df = pd.DataFrame(reasons, index=row_axis, columns=col_axis)
    cc = grid.shape[1]
    recs = []
    for (i, j), (lo, hi) in sorted(bounds.items()):
        t = i * cc + j
        recs.append(
            {
                "row": row_labels[i],
                "column": col_labels[j],
                "value": float(grid[i, j]),
                "lower": lo,
                "upper": hi,
                "width": hi - lo,
                "reason": reasons[i, j],
                "protected": (i, j) not in still,
                "upper_level": float(levels.upper[t]),
                "lower_level": float(levels.lower[t]),
                "sliding_level": float(levels.sliding[t]),
            }
        )
    bounds_df = pd.DataFrame(recs, columns=_BOUND_COLUMNS)
    summary = {
        "rules": rules.name,
        "kind": spec.kind,
        "n_cells": int(grid.size),
        "n_primary": int(primary.sum()),
        "n_secondary": int((supp & ~primary).sum()),
        "primary_reasons": {
            k: int((reasons[primary] == k).sum())
            for k in ("threshold", "zero", "p_percent", "dominance")
            if (reasons[primary] == k).any()
        },
        "passes_as_given": bool(not primary.any()),
        "protected": not still,
        "protection": rules.protection(spec.kind),
        "secondary_method": method,
        "rounded_to": rules.round_base,
    }
    return TableCheckResult(
        published=published, reasons=reason_df, bounds=bounds_df, summary=summary, rules=rules
    )


_BOUND_COLUMNS = [
    "row",
    "column",
    "value",
    "lower",
    "upper",
    "width",
    "reason",
    "protected",
    "upper_level",
    "lower_level",
    "sliding_level",
]


def _label(x: Any) -> str:
    return " / ".join(map(str, x)) if isinstance(x, tuple) else str(x)


def _axis(index: pd.Index) -> pd.Index:
    """Published labels of an axis with its total: text, one level per variable (a
    MultiIndex stays one, its total ``("Total", "", ...)``)."""
    if isinstance(index, pd.MultiIndex):
        tuples = [tuple(str(v) for v in t) for t in index]
        tuples.append((TOTAL, *[""] * (index.nlevels - 1)))
        return pd.MultiIndex.from_tuples(tuples, names=index.names)
    return pd.Index([*map(str, index), TOTAL])


def check_table_or_raise(
    table: TableSpec | pd.DataFrame,
    rules: TableRules | str | dict[str, Any] = "tre_10_zeros",
    *,
    kind: str | None = None,
    allow_suppression: bool = False,
    name: str = "table",
) -> TableCheckResult:
    """Check a table and raise :class:`DisclosureError` if it is not safe to publish.

    With ``allow_suppression=False`` (default) any cell that needs suppression is an error
    naming the cell and the reason. With ``allow_suppression=True`` the suppressed table is
    returned (publish ``result.published``) unless protection failed.
    """
    res = check_table(table, rules, kind=kind)
    raise_if_unsafe(res, name=name, allow_suppression=allow_suppression)
    return res


def raise_if_unsafe(
    res: TableCheckResult, *, name: str = "table", allow_suppression: bool = False
) -> None:
    """Raise :class:`DisclosureError` when ``res`` cannot be published (see
    :func:`check_table_or_raise`): a suppressed cell short of its protection level, or any
    cell needing suppression when ``allow_suppression`` is ``False``."""
    cells = res.unsafe_cells()
    if not res.is_protected:
        bad = res.bounds[~res.bounds["protected"]].iloc[0]
        raise DisclosureError(
            f"{name}: suppressed cell ({bad['row']}, {bad['column']}) is not protected: the "
            f"published cells pin it within {bad['lower']:g} to {bad['upper']:g}, short of its "
            f"protection level (interval at least {max(bad['sliding_level'], 1):g} wide); "
            f"rules {res.rules.name}"
        )
    if cells and not allow_suppression:
        shown = "; ".join(f"({r}, {c}): {w}" for r, c, w in cells[:10])
        more = f" and {len(cells) - 10} more" if len(cells) > 10 else ""
        raise DisclosureError(
            f"{name} fails output checking under rules {res.rules.name}: {len(cells)} unsafe cell(s): {shown}{more}"
        )
