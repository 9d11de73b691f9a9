"""Blocking rules: which record pairs are compared at all.

A rule is one of

- a list of *terms*, all of which must hold (the pair agrees on each):

  - ``"surname"``: the same column equal on both records;
  - ``{"left": "given_name", "right": "surname"}``: a column of the left record equal to
    another column of the right record (a cross-column rule, as for swapped names);
  - ``{"column": "surname", "prefix": 3}`` (or ``{"left": ..., "right": ..., "prefix":
    3}``): the first ``prefix`` characters equal (a substring rule);

- a SQL condition in Splink's syntax, ``l.`` and ``r.`` for the two records, for example
  ``"l.given_name = r.surname and l.surname = r.given_name"``;
- a Splink blocking-rule object (``splink.block_on(...)``), kept as its DuckDB SQL.

Both engines generate candidate pairs from the same SQL, so a rule means the same in each.
A rule speaks of a *pair* of records, not of a left and a right one: a rule that is not
symmetric (``l.given_name = r.surname``) is used in both directions (:func:`symmetric_rules`
adds ``l.surname = r.given_name``), so that which record of a pair is called left cannot
lose the pair.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "normalise_rule",
    "rule_problems",
    "rule_sql",
    "rule_label",
    "rule_columns",
    "block_pairs",
    "symmetric_rules",
    "swap_rule",
]

Rule = str | tuple[Any, ...]

_TERM_KEYS = {"column", "left", "right", "prefix"}
_SQL_REF = re.compile(r"\b([lr])\s*\.\s*(?:\"([^\"]+)\"|`([^`]+)`|([A-Za-z_][A-Za-z0-9_]*))")


def normalise_rule(value: Any) -> Rule:
    """The stored form of a rule: SQL text, or a tuple of terms (strings or dicts).

    Examples
    --------
    >>> normalise_rule(["surname", {"left": "given_name", "right": "surname"}])
    ('surname', {'left': 'given_name', 'right': 'surname'})
    >>> normalise_rule("l.a = r.b")
    'l.a = r.b'
    """
    if isinstance(value, str):
        return value
    if hasattr(value, "get_blocking_rule"):  # splink.block_on(...) and other rule creators
        return str(value.get_blocking_rule("duckdb").blocking_rule_sql)
    if isinstance(value, Mapping):
        if "blocking_rule" in value:  # Splink's dict form
            return str(value["blocking_rule"])
        return (dict(value),)
    if isinstance(value, Iterable):
        return tuple(dict(t) if isinstance(t, Mapping) else t for t in value)
    return value  # rule_problems reports it


def _term_sides(term: Any) -> tuple[str, str, int | None]:
    if isinstance(term, str):
        return term, term, None
    left = term.get("left", term.get("column"))
    right = term.get("right", term.get("column"))
    return left, right, term.get("prefix")


def rule_columns(rule: Rule) -> list[str]:
    """Columns a rule reads (for SQL rules: every ``l.x`` and ``r.x`` it names)."""
    if isinstance(rule, str):
        return sorted({next(g for g in m.groups()[1:] if g) for m in _SQL_REF.finditer(rule)})
    cols: list[str] = []
    for term in rule:
        a, b, _ = _term_sides(term)
        for c in (a, b):
            if isinstance(c, str) and c not in cols:
                cols.append(c)
    return cols


def rule_problems(rule: Any, available: Iterable[str], where: str) -> list[str]:
    """What is wrong with ``rule`` (empty when it is usable)."""
    avail = set(available)
    if isinstance(rule, str):
        if not rule.strip():
            return [f"{where}: a SQL rule must not be empty"]
        cols = rule_columns(rule)
        if not cols:
            return [f"{where}: SQL rule {rule!r} names no column as l.<column> or r.<column>"]
        missing = [c for c in cols if c not in avail]
        if missing:
            return [f"{where}: SQL rule {rule!r} names column(s) {missing} that are not declared"]
        return []
    if not isinstance(rule, tuple) or not rule:
        return [
            f"{where}: each rule is a non-empty list of columns or terms, or a SQL condition; "
            f"got {rule!r}"
        ]
    p: list[str] = []
    for term in rule:
        if isinstance(term, str):
            if not term:
                p.append(f"{where}: a column name must not be empty in rule {list(rule)!r}")
            continue
        if not isinstance(term, dict):
            p.append(f"{where}: a term is a column name or a dict, got {term!r}")
            continue
        extra = sorted(set(term) - _TERM_KEYS)
        if extra:
            p.append(
                f"{where}: term {term!r} has unknown key(s) {extra}; expected {sorted(_TERM_KEYS)}"
            )
        a, b, prefix = _term_sides(term)
        if not isinstance(a, str) or not isinstance(b, str):
            p.append(f"{where}: term {term!r} needs 'column', or 'left' and 'right' (column names)")
            continue
        if prefix is not None and (
            isinstance(prefix, bool) or not isinstance(prefix, int) or prefix < 1
        ):
            p.append(f"{where}: term {term!r}: prefix must be a whole number >= 1, got {prefix!r}")
    missing = [c for c in rule_columns(rule) if c not in avail]
    if missing:
        p.append(
            f"{where}: rule {rule_label(rule)!r} names column(s) {missing} that are not declared"
        )
    return p


def _q(name: str, dialect: str) -> str:
    return f"`{name}`" if dialect == "spark" else f'"{name}"'


def rule_sql(rule: Rule, dialect: str = "duckdb") -> str:
    """The rule as a SQL condition on ``l`` and ``r`` (Splink's convention).

    Examples
    --------
    >>> rule_sql(("surname", {"column": "postcode", "prefix": 3}))
    'l."surname" = r."surname" AND substr(l."postcode", 1, 3) = substr(r."postcode", 1, 3)'
    """
    if isinstance(rule, str):
        return f"({rule})"
    parts = []
    for term in rule:
        a, b, prefix = _term_sides(term)
        la, rb = f"l.{_q(a, dialect)}", f"r.{_q(b, dialect)}"
        if prefix is not None:
            la, rb = f"substr({la}, 1, {int(prefix)})", f"substr({rb}, 1, {int(prefix)})"
        parts.append(f"{la} = {rb}")
    return " AND ".join(parts)


def rule_label(rule: Rule) -> str:
    """A short human label (``surname & given_name~surname & postcode[:3]``)."""
    if isinstance(rule, str):
        return " ".join(rule.split())
    out = []
    for term in rule:
        a, b, prefix = _term_sides(term)
        side = a if a == b else f"{a}~{b}"
        out.append(side + (f"[:{prefix}]" if prefix is not None else ""))
    return " & ".join(out)


_SQL_SWAP = re.compile(r"\b([lr])(\s*\.)")
_EQ = re.compile(r"^\s*(.+?)\s*=\s*(.+?)\s*$")


def swap_rule(rule: Rule) -> Rule:
    """The rule with the two records' roles exchanged (``l.`` and ``r.`` swapped).

    Examples
    --------
    >>> swap_rule(({"left": "given_name", "right": "surname"},))
    ({'left': 'surname', 'right': 'given_name'},)
    >>> swap_rule("l.a = r.b")
    'r.a = l.b'
    """
    if isinstance(rule, str):
        return _SQL_SWAP.sub(lambda m: ("r" if m.group(1) == "l" else "l") + m.group(2), rule)
    out: list[Any] = []
    for term in rule:
        if isinstance(term, str):
            out.append(term)
            continue
        a, b, prefix = _term_sides(term)
        new: dict[str, Any] = {"left": b, "right": a}
        if prefix is not None:
            new["prefix"] = prefix
        out.append(new if a != b else term)
    return tuple(out)


def _canonical(rule: Rule) -> frozenset[Any]:
    """A form equal for rules that accept the same pairs up to the order of AND-ed terms and
    of the two sides of each equality (SQL that is not a plain conjunction of equalities is
    its own form)."""
    if isinstance(rule, str):
        terms: list[Any] = []
        for part in re.split(r"\s+and\s+", " ".join(rule.split()), flags=re.I):
            m = _EQ.match(part)
            terms.append(frozenset((m.group(1), m.group(2))) if m else part)
        return frozenset(terms)
    return frozenset(
        frozenset(((a, "l", p), (b, "r", p))) for a, b, p in (_term_sides(t) for t in rule)
    )


def symmetric_rules(rules: Iterable[Rule]) -> list[Rule]:
    """``rules`` with the swapped form of every rule that is not symmetric added after it.

    Examples
    --------
    >>> symmetric_rules([("surname",), "l.given_name = r.surname and l.surname = r.given_name"])
    [('surname',), 'l.given_name = r.surname and l.surname = r.given_name']
    >>> symmetric_rules([({"left": "given_name", "right": "surname"},)])
    [({'left': 'given_name', 'right': 'surname'},), ({'left': 'surname', 'right': 'given_name'},)]
    """
    out: list[Rule] = []
    for rule in rules:
        out.append(rule)
        swapped = swap_rule(rule)
        if _canonical(swapped) != _canonical(rule):
            out.append(swapped)
    return out


def block_pairs(
    left: pd.DataFrame, right: pd.DataFrame | None, rule: Rule
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions ``(il, ir)`` of the pairs a rule accepts (DuckDB, in memory).

    ``right=None`` de-duplicates ``left``: each pair once, ``il < ir``. Missing values never
    agree (SQL ``NULL = NULL`` is not true).
    """
    import duckdb

    cols_l = [c for c in rule_columns(rule) if c in left.columns]
    src_r = left if right is None else right
    cols_r = [c for c in rule_columns(rule) if c in src_r.columns]
    a = left[cols_l].copy()
    a["__pos"] = np.arange(len(left), dtype=np.int64)
    b = src_r[cols_r].copy()
    b["__pos"] = np.arange(len(src_r), dtype=np.int64)
    con = duckdb.connect()
    try:
        con.register("__l", a)
        con.register("__r", b)
        sql = (
            f"SELECT l.__pos AS il, r.__pos AS ir FROM __l AS l JOIN __r AS r ON ({rule_sql(rule)})"
        )
        if right is None:
            sql += " AND l.__pos < r.__pos"
        res = con.execute(sql).fetchnumpy()
    finally:
        con.close()
    return np.asarray(res["il"], dtype=np.int64), np.asarray(res["ir"], dtype=np.int64)
