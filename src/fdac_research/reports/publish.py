"""Publishing tables: nothing reaches ``reports/`` before it passes the output check.

Notebooks call :func:`publish_table` for every count table and :func:`publish_estimates` for
every table of model estimates. A count table is written only after
:func:`fdac_research.risk.check_table_or_raise` has passed (with suppression, protection
levels and rounding applied); an estimate only when enough people, events and non-events in
each arm lie behind it (or with the row suppressed). A table that cannot be protected raises
:class:`~fdac_research.exceptions.DisclosureError` naming the cell and the reason, which fails
the notebook and so the build. A report notebook that calls
:func:`~fdac_research.reports.require_checked_tables` can show only the tables these functions
returned: displaying any other table fails the notebook too.

**Linked tables.** A count table published with ``link=TableLink(unit=..., rows=...,
columns=...)`` is registered with the population it counts: its ``.check.json`` records the
unit, variables and categories, and every later table of the same unit in the same tables
folder is protected together with it (:func:`fdac_research.risk.linked.check_linked`): the
intruder reads every published table of the run, so the audit does too, and a table that
cannot be protected together with the others fails the build naming them.

**The output checker's record.** Every publish call also adds its entry to
``results.json`` in the tables folder, in the layout ACRO/SACRO write
(:mod:`fdac_research.reports._record`).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research._io import atomic_file, neutralise_formula, write_json
from fdac_research.exceptions import ConfigError, DisclosureError
from fdac_research.reports._guard import mark_checked
from fdac_research.reports._record import record_output, record_table
from fdac_research.risk import TableRules, check_table_or_raise
from fdac_research.risk.linked import LinkedTable, TableLink, check_linked, published_grid
from fdac_research.risk.tables import SUPPRESSED, raise_if_unsafe, rules_from

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_RULES",
    "SUPPRESSED",
    "SUPPRESSION_NOTE",
    "publish_table",
    "publish_estimates",
    "publish_summary",
    "suppressed_rows",
    "linked_tables",
    "TableLink",
]

#: Rules applied to every published count table unless a notebook names others:
#: ONS-style threshold 10 with every published count rounded to base 5.
DEFAULT_RULES = "ons_10_5"
#: Footnote for a published table with suppressed values.
SUPPRESSION_NOTE = (
    "`[c]`: not published (confidential): the figure rests on fewer people, events or "
    "non-events than the output-checking threshold allows."
)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")


def _target(tables_dir: Path | str, name: str) -> Path:
    if not _NAME.match(name):
        raise ConfigError(
            "published table", [f"name {name!r} must be lower-case letters, digits and underscores"]
        )
    folder = Path(tables_dir)
    if not folder.is_dir():
        raise ConfigError("published table", [f"tables folder {folder} does not exist"])
    return folder / f"{name}.csv"


def _inert(df: pd.DataFrame) -> pd.DataFrame:
    """Every text cell, index label and column name a spreadsheet would run as a formula,
    neutralised (:func:`fdac_research._io.neutralise_formula`); numbers untouched."""

    def cell(v: object) -> object:
        return neutralise_formula(v) if isinstance(v, str) else v

    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:  # element-wise, keeping object (map would infer floats)
            out[c] = pd.Series([cell(v) for v in out[c]], index=out.index, dtype=object)
    out.index = out.index.map(cell)
    out.columns = out.columns.map(cell)
    if out.index.name is not None:
        out.index.name = cell(out.index.name)
    return out


def _write(df: pd.DataFrame, path: Path) -> None:
    # a plain row number (0, 1, 2, ...) labels nothing: it is left out of the CSV
    numbered = isinstance(df.index, pd.RangeIndex) and df.index.name is None
    with atomic_file(path) as tmp:
        _inert(df).to_csv(tmp, lineterminator="\n", encoding="utf-8", index=not numbered)
    os.chmod(path, 0o644)  # published: readable by whoever serves the reports


def publish_table(
    table: pd.DataFrame,
    name: str,
    tables_dir: Path | str,
    *,
    rules: TableRules | str | dict[str, Any] = DEFAULT_RULES,
    allow_suppression: bool = True,
    link: TableLink | dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Output-check a frequency table and write ``<tables_dir>/<name>.csv`` if it is safe.

    Parameters
    ----------
    table : pandas.DataFrame
        Interior counts (categories as the index, groups as columns; no margins: the check
        computes and publishes them). A MultiIndex gives rows that are combinations of
        several variables.
    name : str
        File stem of the published CSV.
    tables_dir : path
        The reports' tables folder.
    rules : preset name, TableRules or dict
        Disclosure-control rules (default :data:`DEFAULT_RULES`).
    allow_suppression : bool
        Publish the protected table (small cells suppressed as ``[c]``, secondary
        suppression, rounding). With ``False`` any cell needing suppression is an error.
    link : TableLink or dict, optional
        The population the table counts and its variables: the table is then protected
        together with every table of the same unit already in ``tables_dir``. Without it the
        table is audited against its own margins only, and its record says a manual check
        for linked tables is needed.

    Returns
    -------
    pandas.DataFrame
        Exactly what was written: the protected table with margins.

    Raises
    ------
    DisclosureError
        The table cannot be made safe (names the cell and the reason), or cannot be protected
        together with the other tables of its unit (names them); nothing is written.
    """
    path = _target(tables_dir, name)
    if isinstance(link, dict):
        link = TableLink.from_dict(link)
    if link is None:
        log.warning("%s: published without link=: audited with its own margins only", name)
        res = check_table_or_raise(table, rules, allow_suppression=allow_suppression, name=name)
        linked: dict[str, Any] | None = None
    else:
        res, reg = check_linked(
            table, rules, name=name, link=link, others=linked_tables(tables_dir, link.unit)
        )
        raise_if_unsafe(res, name=name, allow_suppression=allow_suppression)
        linked = {
            "link": link.to_dict(),
            "row_categories": [list(x) for x in reg.row_labels],
            "column_categories": [list(x) for x in reg.col_labels],
        }
    _write(res.published, path)
    check = {"table": name, "kind": "counts", **res.summary}
    if linked is not None:
        check["linked"] = linked
    write_json(check, path.with_suffix(".check.json"))
    record_table(tables_dir, name, res, registered=link is not None)
    return mark_checked(res.published)


def linked_tables(tables_dir: Path | str, unit: str) -> list[LinkedTable]:
    """The tables of ``unit`` already published in ``tables_dir``, as an intruder reads them
    (the CSV) with the registration their ``.check.json`` records."""
    out = []
    for check_path in sorted(Path(tables_dir).glob("*.check.json")):
        rec = json.loads(check_path.read_text(encoding="utf-8"))
        reg = rec.get("linked")
        if not reg or reg["link"].get("unit") != unit:
            continue
        link = TableLink.from_dict(reg["link"])
        csv = check_path.with_name(f"{rec['table']}.csv")
        header = list(range(len(link.columns))) if len(link.columns) > 1 else 0
        body = pd.read_csv(csv, index_col=list(range(len(link.rows))), header=header, dtype=str)
        rows = [tuple(r) for r in reg["row_categories"]]
        cols = [tuple(c) for c in reg["column_categories"]]
        if body.shape != (len(rows) + 1, len(cols) + 1):
            raise ConfigError(
                "published table",
                [
                    f"{csv.name} has shape {body.shape}, its record says {len(rows) + 1} x {len(cols) + 1}"
                ],
            )
        out.append(
            LinkedTable(
                name=str(rec["table"]),
                link=link,
                row_labels=rows,
                col_labels=cols,
                published=published_grid(body),
                round_base=rec.get("rounded_to"),
                min_interval=float(rec["protection"]["min_interval"]),
            )
        )
    return out


def _count_problems(
    df: pd.DataFrame,
    n_columns: Sequence[str],
    events: Sequence[tuple[str, str]],
    threshold: int,
) -> tuple[dict[Any, list[str]], dict[Any, str]]:
    """Per row, why its estimate may not be published: (reason for the published record,
    message for the researcher naming the value). Empty when every row passes."""
    reasons: dict[Any, list[str]] = {}
    messages: dict[Any, str] = {}

    def fail(row: Any, reason: str, message: str) -> None:
        reasons.setdefault(row, []).append(reason)
        messages.setdefault(row, message)

    for c in n_columns:
        n = pd.to_numeric(df[c], errors="coerce")
        for row, value in zip(df.index, n, strict=True):
            if pd.isna(value) or value < threshold:
                fail(
                    row,
                    f"fewer than {threshold} people in {c!r}",
                    f"rests on {df.at[row, c]} people in column {c!r}; at least {threshold} "
                    "are required before it can be published",
                )
    for ev_col, n_col in events:
        k = pd.to_numeric(df[ev_col], errors="coerce")
        n = pd.to_numeric(df[n_col], errors="coerce")
        for row, kv, nv in zip(df.index, k, n, strict=True):
            if pd.isna(kv):
                continue  # not a binary quantity in this row (e.g. a continuous covariate)
            if pd.isna(nv) or kv < 0 or kv > nv:
                raise ConfigError(
                    "published estimates",
                    [f"row {row!r}: {ev_col!r} = {kv:g} is not a count between 0 and {n_col!r}"],
                )
            if kv < threshold:
                fail(
                    row,
                    f"fewer than {threshold} events in {ev_col!r}",
                    f"rests on {kv:g} events in column {ev_col!r} (of {nv:g} people in "
                    f"{n_col!r}); at least {threshold} events and {threshold} non-events are "
                    "required before it can be published",
                )
            if nv - kv < threshold:
                fail(
                    row,
                    f"fewer than {threshold} non-events in {ev_col!r} of {n_col!r}",
                    f"rests on {nv - kv:g} non-events ({nv:g} people in {n_col!r} minus {kv:g} "
                    f"events in {ev_col!r}); at least {threshold} events and {threshold} "
                    "non-events are required before it can be published",
                )
    return reasons, messages


def publish_estimates(
    estimates: pd.DataFrame,
    name: str,
    tables_dir: Path | str,
    *,
    n_columns: Sequence[str] = ("n",),
    events: Sequence[tuple[str, str]] = (),
    threshold: int | None = None,
    rules: TableRules | str | dict[str, Any] = DEFAULT_RULES,
    allow_suppression: bool = False,
    label_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Check a table of model estimates and write it if every estimate rests on enough people
    and, for a binary outcome, on enough events and non-events in each arm.

    Estimates (risk differences, odds ratios, proportions, standardised differences) are not
    counts, so the frequency rules do not apply; the usual output-checking rule for them is a
    minimum number of people behind each estimate and, because a proportion or an odds ratio
    from an arm with 3 children reunified (or 3 not reunified) gives back that small cell,
    a minimum number of events and of non-events in each arm.

    Parameters
    ----------
    estimates : pandas.DataFrame
        One estimate per row (the index labels the rows).
    name : str
        File stem of the published CSV.
    tables_dir : path
        The reports' tables folder.
    n_columns : sequence of str
        Columns holding the number of people behind each row's estimate (for example
        ``n_treated`` and ``n_untreated``); each must be at least ``threshold``.
    events : sequence of (str, str)
        Pairs ``(events column, people column)``, one per arm: the events (people with the
        outcome) and the non-events (people column minus events) must each be at least
        ``threshold``. An empty events cell means the row has no binary outcome (a continuous
        covariate in a balance table): only its people are checked.
    threshold : int, optional
        Fewest people, events or non-events; by default the ``threshold`` of ``rules`` (10
        under :data:`DEFAULT_RULES`).
    rules : preset name, TableRules or dict
        The rule set whose threshold and rounding base apply (default :data:`DEFAULT_RULES`).
    allow_suppression : bool
        With ``False`` (default) a row that fails is an error and nothing is written. With
        ``True`` the failing rows are published with every value except ``label_columns``
        shown as ``[c]`` (see :data:`SUPPRESSION_NOTE`).
    label_columns : sequence of str
        Columns that only label a row (outcome, method) and stay visible when it is suppressed.

    Returns
    -------
    pandas.DataFrame
        Exactly what was written: counts in ``n_columns`` and the events columns rounded to
        the rules' base, suppressed rows as ``[c]``.

    Raises
    ------
    DisclosureError
        A row fails and ``allow_suppression`` is ``False``: the message names the row, the
        column and the value (for the researcher's eyes only; nothing is written).
    ConfigError
        A named column is missing or an events count is not between 0 and its people.

    Examples
    --------
    Hand-worked: an arm of 50 people with 3 events cannot be published; with 12 it can.

    >>> import tempfile
    >>> est = pd.DataFrame(
    ...     {"p_treated": [0.06], "n_treated": [50], "events_treated": [3]}, index=["naive"]
    ... )
    >>> folder = tempfile.mkdtemp()
    >>> publish_estimates(
    ...     est, "demo", folder, n_columns=["n_treated"],
    ...     events=[("events_treated", "n_treated")], allow_suppression=True,
    ... ).loc["naive", "p_treated"]
    '[c]'
    """
    path = _target(tables_dir, name)
    r = rules_from(rules)
    limit = r.threshold if threshold is None else threshold
    problems = []
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        problems.append(f"{name}: threshold must be a whole number >= 0, got {limit!r}")
    if any(not (isinstance(p, tuple | list) and len(p) == 2) for p in events):
        problems.append(f"{name}: events must be (events column, people column) pairs")
    else:
        needed = {"people": list(n_columns), "events": [c for p in events for c in p]}
        needed["label"] = list(label_columns)
        for what, cols in needed.items():
            missing = [c for c in cols if c not in estimates.columns]
            if missing:
                problems.append(f"{name}: {what} column(s) {missing} are missing")
    if problems:
        raise ConfigError("published estimates", problems)
    pairs = [(str(e), str(n)) for e, n in events]
    reasons, messages = _count_problems(estimates, n_columns, pairs, limit)
    if reasons and not allow_suppression:
        row = next(iter(messages))
        more = f" ({len(messages) - 1} more row(s) fail too)" if len(messages) > 1 else ""
        raise DisclosureError(f"{name}: estimate in row {row!r} {messages[row]}{more}")
    out = estimates.copy()
    counts = list(dict.fromkeys([*n_columns, *(e for e, _ in pairs)]))
    for c in counts:
        n = pd.to_numeric(out[c], errors="coerce")
        if r.round_base:
            n = r.round_base * (n / r.round_base).round()
        out[c] = n.astype("Int64")
    if reasons:
        for row, why in reasons.items():  # which column failed, for the researcher only
            log.warning("%s: row %r suppressed: %s", name, row, "; ".join(why))
        rows = out.index.isin(list(reasons))
        hide = [c for c in out.columns if c not in set(label_columns)]
        out[hide] = out[hide].astype(object)
        out.loc[rows, hide] = SUPPRESSED
    _write(out, path)
    write_json(
        {
            "table": name,
            "kind": "estimates",
            "rule": f"at least {limit} people behind every estimate"
            + (f" and {limit} events and non-events in each arm" if pairs else ""),
            "passed": True,
            "n_rows": len(out),
            "n_primary": len(reasons),
            # published: which rows, not which arm or cell was small
            "suppressed_rows": [str(row) for row in reasons],
            "suppression_reason": f"fewer than {limit} people, events or non-events in an arm",
        },
        path.with_suffix(".check.json"),
    )
    status = "review" if reasons else "pass"
    rule = f"at least {limit} people" + (
        f", {limit} events and {limit} non-events in each arm" if pairs else ""
    )
    record_output(
        tables_dir,
        name,
        status=status,
        method="publish_estimates",
        # rows, not which arm or count failed (that stays in the researcher's log)
        checks={"MinimumThresholdCheck": len(reasons)},
        summary=f"{status}; {rule} behind every estimate; {len(reasons)} row(s) suppressed",
        published=out,
        properties={"rules": r.name, "threshold": limit, "rounded_to": r.round_base},
    )
    return mark_checked(out)


def _count_like(col: pd.Series) -> bool:
    """Whether a column holds whole numbers (integer dtype, or only integers in an object
    column): what a count of people or records looks like. Booleans and floats do not."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return False
    if pd.api.types.is_integer_dtype(col.dtype):
        return True
    if col.dtype == object:
        vals = col.dropna()
        return bool(len(vals)) and all(
            isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_) for v in vals
        )
    return False


def _checked_counts(
    out: pd.DataFrame, counts: Sequence[str], rules: TableRules
) -> tuple[pd.DataFrame, int]:
    """Counts in ``counts`` checked like a count table's cells: a value that is above zero
    and under the threshold (or zero, when zeros are disclosive) becomes ``[c]``; the rest
    are rounded to the rules' base. Returns the table and the number of values suppressed."""
    n = 0
    for c in counts:
        v = pd.to_numeric(out[c], errors="coerce")
        small = (v > 0) & (v < rules.threshold)
        if rules.zeros_disclosive:
            small |= v == 0
        if rules.round_base:
            v = rules.round_base * np.floor(v / rules.round_base + 0.5)
        whole = np.array([None if pd.isna(x) else int(x) for x in v], dtype=object)
        whole[small.fillna(False).to_numpy()] = SUPPRESSED
        out[c] = pd.Series(whole, index=out.index, dtype=object)
        n += int(small.fillna(False).sum())
    return out, n


def publish_summary(
    table: pd.DataFrame,
    name: str,
    tables_dir: Path | str,
    *,
    reason: str,
    counts: Sequence[str] = (),
    not_counts: dict[str, str] | None = None,
    rules: TableRules | str | dict[str, Any] = DEFAULT_RULES,
) -> pd.DataFrame:
    """Publish a table that holds no figure about a group of people, recording why no
    suppression applies; any count of people or records in it is checked like a count.

    For tables such as a data dictionary, release-gate thresholds or risk measures computed
    on the whole dataset (a share of records, a global risk). The table is written to
    ``<tables_dir>/<name>.csv`` with ``<name>.check.json`` naming the reason, so that the
    output checker can review the judgement. A count or an estimate about a group of people
    belongs in :func:`publish_table` or :func:`publish_estimates` instead.

    Nothing that counts people escapes: every column of whole numbers must be declared,
    either in ``counts`` (numbers of people, records or values: each is checked like a
    count-table cell, shown as ``[c]`` when above zero and under the rules' threshold and
    rounded to their base) or in ``not_counts`` with the reason it counts nothing about
    people (numbers of table cells, the size of the smallest group). An undeclared one is an
    error.

    Parameters
    ----------
    table : pandas.DataFrame
        The table to publish.
    name : str
        File stem of the published CSV.
    tables_dir : path
        The reports' tables folder.
    reason : str
        Why the table needs no suppression (recorded with it); must not be empty.
    counts : sequence of str
        Columns holding counts of people or records.
    not_counts : dict, optional
        Column -> why its whole numbers are not counts of people.
    rules : preset name, TableRules or dict
        The threshold, zero rule and rounding applied to ``counts``.

    Returns
    -------
    pandas.DataFrame
        Exactly what was written, registered as checked.

    Raises
    ------
    ConfigError
        The name or folder is invalid, ``table`` is not a DataFrame, no reason is given, a
        declared column is missing, or a column of whole numbers is not declared.
    """
    path = _target(tables_dir, name)
    problems = []
    if not isinstance(table, pd.DataFrame):
        problems.append(f"{name}: table must be a pandas DataFrame, got {type(table).__name__}")
    if not isinstance(reason, str) or not reason.strip():
        problems.append(f"{name}: give the reason no suppression applies (reason=...)")
    not_counts = dict(not_counts or {})
    if problems:
        raise ConfigError("published summary", problems)
    declared = [*counts, *not_counts]
    missing = [c for c in declared if c not in table.columns]
    if missing:
        problems.append(f"{name}: declared column(s) {missing} are not in the table")
    blank = [c for c, why in not_counts.items() if not str(why).strip()]
    if blank:
        problems.append(f"{name}: say why column(s) {blank} are not counts of people")
    undeclared = [c for c in table.columns if c not in declared and _count_like(table[c])]
    if undeclared:
        problems.append(
            f"{name}: column(s) {[str(c) for c in undeclared]} hold whole numbers: give those "
            "that count people or records in counts= (checked like counts) and the others in "
            "not_counts= with the reason they count nothing about people"
        )
    if problems:
        raise ConfigError("published summary", problems)
    r = rules_from(rules)
    out, n_small = _checked_counts(table.copy(), list(counts), r)
    _write(out, path)
    write_json(
        {
            "table": name,
            "kind": "summary",
            "rule": f"no suppression: {reason.strip()}",
            "passed": True,
            "n_rows": len(out),
            "reason": reason.strip(),
            "counts_checked": {
                "columns": [str(c) for c in counts],
                "rules": r.name,
                "n_suppressed": n_small,
            },
            "not_counts": {str(k): str(v) for k, v in not_counts.items()},
        },
        path.with_suffix(".check.json"),
    )
    record_output(
        tables_dir,
        name,
        status="review",
        method="publish_summary",
        checks={"MinimumThresholdCheck": n_small},
        summary=(
            f"review; published by exception (no suppression of the table); counts in "
            f"{[str(c) for c in counts]} checked under {r.name}: {n_small} value(s) suppressed"
        ),
        published=out,
        properties={"rules": r.name, "counts": [str(c) for c in counts]},
        comments=[f"{k}: {v}" for k, v in not_counts.items()],
        exception=reason.strip(),
    )
    return mark_checked(out)


def suppressed_rows(published: pd.DataFrame) -> pd.Series:
    """Which rows of a published table hold a suppressed value (``[c]``)."""
    return (published.astype(object) == SUPPRESSED).any(axis=1)
