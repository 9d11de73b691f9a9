"""Validate a folder against the data contract, reporting *every* problem at once.

Examples
--------
>>> from fdac_research.validation import validate_folder
>>> report = validate_folder("data/synthetic")  # doctest: +SKIP
>>> report.ok, report.layout  # doctest: +SKIP
(True, 'sources')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research._io import find_table
from fdac_research.exceptions import ContractError, Problem
from fdac_research.reading import (
    ReadTable,
    read_external_exclusions,
    read_folder_tables,
    read_manifest,
)

__all__ = [
    "ValidationReport",
    "detect_layout",
    "validate_folder",
    "validated_tables",
    "check_folder",
    "validate_frame",
]

_INT = re.compile(r"^[+-]?[0-9]+$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@dataclass
class ValidationReport:
    """The outcome of validating one folder."""

    folder: str
    layout: str
    problems: list[Problem] = field(default_factory=list)
    n_rows: dict[str, int] = field(default_factory=dict)
    notes: list[Problem] = field(default_factory=list)
    extra_columns: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def raise_if_failed(self) -> None:
        """Raise :class:`ContractError` listing every problem, if there are any."""
        if self.problems:
            raise ContractError(f"{self.layout} folder {self.folder}", self.problems)

    def summary(self) -> str:
        """A human-readable summary: every problem, then notes (values read as missing under
        the reading rules) and columns the contract does not declare (ignored by the stages)."""
        if self.ok:
            tables = ", ".join(f"{k} ({v} rows)" for k, v in sorted(self.n_rows.items()))
            lines = [
                f"{self.folder}: valid {self.layout} folder "
                f"(contract v{schema.CONTRACT_VERSION}): {tables}"
            ]
        else:
            lines = [f"{self.folder}: {len(self.problems)} problem(s) in {self.layout} folder"]
            lines += [f"  - {p}" for p in self.problems]
        if self.notes:
            lines.append(f"{len(self.notes)} note(s):")
            lines += [f"  - {p}" for p in self.notes]
        if self.extra_columns:
            lines.append("columns beyond the contract (read, never copied into research outputs):")
            lines += [f"  - {f}: {', '.join(c)}" for f, c in sorted(self.extra_columns.items())]
        return "\n".join(lines)


def detect_layout(folder: Path | str) -> str:
    """``"sources"`` or ``"research"``, from which contract files the folder holds."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ContractError(
            str(folder), [Problem(str(folder), None, None, None, "an existing folder")]
        )
    if find_table(folder, "court_cases") is not None:
        return "sources"
    if find_table(folder, "cases") is not None:
        return "research"
    raise ContractError(
        str(folder),
        [
            Problem(
                str(folder),
                None,
                None,
                None,
                "a sources folder (with court_cases.csv) or a research folder (with cases.csv)",
            )
        ],
    )


def _example(
    mask: np.ndarray, values: pd.Series, file: str, column: str, expected: str
) -> Problem | None:
    n = int(mask.sum())
    if n == 0:
        return None
    i = int(np.flatnonzero(mask)[0])
    return Problem(file, column, i + 2, str(values.iloc[i]), expected, count=n)


def _check_column(df: pd.DataFrame, col: schema.Column, file: str) -> list[Problem]:
    """Problems of one column of *normalised* text (:func:`fdac_research.reading.normalise`:
    a raw cell such as ``" fdac"`` is reported, not silently stripped). Every check runs once per distinct value (millions of rows
    hold far fewer distinct dates, names or categories) and is mapped back to rows, so the
    first offending line and the count are exact."""
    codes, uniq = pd.factorize(df[col.name].to_numpy(dtype=object), use_na_sentinel=True)
    v = pd.Series(uniq, dtype=object).astype(str)
    if (codes < 0).any():  # a missing cell (parquet nulls are rendered as "" already)
        codes = np.where(codes < 0, len(v), codes)
        v = pd.concat([v, pd.Series([""], dtype=object)], ignore_index=True)
    empty = (v == "").to_numpy()
    problems: list[Problem] = []

    def add(mask: np.ndarray, expected: str) -> None:
        rows = (mask & ~empty)[codes]
        n = int(rows.sum())
        if n:
            i = int(np.flatnonzero(rows)[0])
            problems.append(Problem(file, col.name, i + 2, str(v.iloc[codes[i]]), expected, n))

    if not col.nullable and empty.any():
        rows = empty[codes]
        problems.append(
            Problem(
                file,
                col.name,
                int(np.flatnonzero(rows)[0]) + 2,
                "",
                "a value (this column may not be empty)",
                int(rows.sum()),
            )
        )
    numeric: np.ndarray | None = None
    if col.kind == "category" and col.allowed:
        add(~v.isin(col.allowed).to_numpy(), f"one of {', '.join(col.allowed)}")
    elif col.kind == "bool":
        add(~v.isin(("true", "false")).to_numpy(), "true or false")
    elif col.kind == "date":
        shaped = v.str.match(_DATE).to_numpy()
        parsed = pd.to_datetime(v.where(shaped & ~empty), format="%Y-%m-%d", errors="coerce")
        add(
            ~shaped | parsed.isna().to_numpy(),
            "an ISO date YYYY-MM-DD (a calendar date from 1678 to 2261)",
        )
    elif col.kind == "int":
        ok = v.str.match(_INT).to_numpy()
        add(~ok, "a whole number")
        numeric = pd.to_numeric(v.where(ok & ~empty), errors="coerce").to_numpy(dtype=float)
    elif col.kind == "float":
        numeric = pd.to_numeric(v.where(~empty), errors="coerce").to_numpy(dtype=float)
        add(~np.isfinite(numeric), "a number")
    elif col.kind == "list" and col.allowed:
        allowed = set(col.allowed)
        bad = np.array(
            [any(x not in allowed for x in s.split(";")) if s else False for s in v],
            dtype=bool,
        )
        add(bad, f"';'-separated items from {', '.join(col.allowed)}")
    if numeric is not None:
        with np.errstate(invalid="ignore"):
            if col.minimum is not None:
                add(numeric < col.minimum, f"a value >= {col.minimum:g}")
            if col.maximum is not None:
                add(numeric > col.maximum, f"a value <= {col.maximum:g}")
    if col.pattern is not None:
        add(~v.str.match(col.pattern).to_numpy(), f"a value matching {col.pattern}")
    return problems


def validate_frame(df: pd.DataFrame, table: schema.Table, file: str) -> list[Problem]:
    """Problems of one text table (missing columns, bad values, duplicate primary keys)."""
    problems: list[Problem] = []
    if df.empty and not table.may_be_empty:
        problems.append(
            Problem(file, None, None, None, "at least one data row (the file is empty)")
        )
    missing = [c for c in table.required_names if c not in df.columns]
    for c in missing:
        problems.append(Problem(file, c, 1, None, f"required column '{c}' in the header"))
    for col in table.columns:
        if col.name in df.columns:
            problems.extend(_check_column(df, col, file))
    pk = table.primary_key
    if pk and pk in df.columns:
        dup = df[pk].duplicated(keep="first").to_numpy() & (df[pk] != "").to_numpy()
        p = _example(dup, df[pk], file, pk, f"unique values of the key '{pk}' (duplicate key)")
        if p:
            problems.append(p)
    return problems


def _foreign_keys(
    frames: dict[str, pd.DataFrame], layout: schema.Layout, files: dict[str, str]
) -> list[Problem]:
    problems = []
    for t in layout.tables:
        if t.name not in frames:
            continue
        for fk in t.foreign_keys:
            child, parent = frames[t.name], frames.get(fk.parent)
            if parent is None or fk.column not in child or fk.parent_column not in parent:
                continue
            v = child[fk.column]
            known = set(parent[fk.parent_column])
            orphan = (~v.isin(known) & (v != "")).to_numpy()
            expected = f"a {fk.parent_column} present in {files[fk.parent]} (orphan foreign key)"
            if orphan.any():
                # references are case-sensitive: say so when only the case differs
                first = str(v.iloc[int(np.flatnonzero(orphan)[0])])
                folded = {k.casefold(): k for k in known}
                if first.casefold() in folded:
                    expected += (
                        f"; references are case-sensitive: did you mean "
                        f"{folded[first.casefold()]!r}?"
                    )
            p = _example(orphan, v, files[t.name], fk.column, expected)
            if p:
                problems.append(p)
    return problems


def _rules_sources(frames: dict[str, pd.DataFrame], files: dict[str, str]) -> list[Problem]:
    """Cross-column rules of the sources layout."""
    problems: list[Problem] = []
    cases = frames.get("court_cases")
    if cases is not None and {"application_date", "final_hearing_date"} <= set(cases.columns):
        a = pd.to_datetime(cases["application_date"], format="%Y-%m-%d", errors="coerce")
        f = pd.to_datetime(cases["final_hearing_date"], format="%Y-%m-%d", errors="coerce")
        p = _example(
            (f < a).to_numpy(),
            cases["final_hearing_date"],
            files["court_cases"],
            "final_hearing_date",
            "a final hearing on or after the application_date",
        )
        if p:
            problems.append(p)
    opt = frames.get("opt_outs")
    if opt is not None and {"person_ref", "case_ref"} <= set(opt.columns):
        both_empty = ((opt["person_ref"] == "") & (opt["case_ref"] == "")).to_numpy()
        p = _example(
            both_empty,
            opt["scope"] if "scope" in opt else opt["person_ref"],
            files["opt_outs"],
            "person_ref",
            "a person_ref or a case_ref (one of them)",
        )
        if p:
            problems.append(p)
    people, outcomes = frames.get("court_people"), frames.get("court_outcomes")
    if (
        people is not None
        and outcomes is not None
        and {"person_ref", "role"} <= set(people.columns)
    ):
        role = outcomes["person_ref"].map(
            dict(zip(people["person_ref"], people["role"], strict=False))
        )
        child = (role == "child").to_numpy()
        adult = role.isin(schema.ADULT_ROLES).to_numpy()
        for col, who, mask in (
            ("ceased_misuse", "adults only (this person is a child)", child),
            ("final_order", "children only (this person is an adult)", adult),
            ("placement_at_end", "children only (this person is an adult)", adult),
        ):
            if col in outcomes:
                p = _example(
                    mask & (outcomes[col] != "").to_numpy(),
                    outcomes[col],
                    files["court_outcomes"],
                    col,
                    f"a value for {who}",
                )
                if p:
                    problems.append(p)
    return problems


def _rules_research(folder: Path, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """The research folder's files beside its tables: the manifest and the list of families
    who objected to external sharing (each stage reads them; a bad one is refused here)."""
    problems: list[Problem] = []
    for read in (read_manifest, read_external_exclusions):
        try:
            read(folder)
        except ContractError as err:
            problems.extend(err.problems)
    return problems


def validated_tables(
    folder: Path | str, layout: str | None = None
) -> tuple[ValidationReport, dict[str, ReadTable], dict[str, schema.Table]]:
    """Validate ``folder`` and return the report with the tables exactly as read.

    The stages load from these tables (:mod:`fdac_research.dataset`), so they see the
    very values the validator checked.
    """
    folder = Path(folder)
    name = layout or detect_layout(folder)
    if name not in ("sources", "research"):
        raise ValueError(f"layout must be 'sources' or 'research', got {name!r}")
    lay = schema.SOURCES if name == "sources" else schema.RESEARCH
    report = ValidationReport(str(folder), name)
    read, declared, problems = read_folder_tables(folder, lay)
    report.problems.extend(problems)
    frames: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    for tname, rt in read.items():
        frames[tname], files[tname] = rt.text, rt.file
        report.n_rows[rt.file] = len(rt.text)
        report.notes.extend(rt.notes)
        if rt.extra_columns:
            report.extra_columns[rt.file] = rt.extra_columns
        report.problems.extend(validate_frame(rt.text, declared[tname], rt.file))
    report.problems.extend(_foreign_keys(frames, lay, files))
    if name == "sources":
        report.problems.extend(_rules_sources(frames, files))
    else:
        report.problems.extend(_rules_research(folder, frames))
    return report, read, declared


def validate_folder(folder: Path | str, layout: str | None = None) -> ValidationReport:
    """Validate ``folder`` (a sources or research folder) and return every problem found.

    Values are read under the rules of :mod:`fdac_research.reading` (surrounding whitespace
    stripped, closed vocabularies matched ignoring case, postcodes re-spaced), the same
    rules every stage reads with.

    Parameters
    ----------
    folder : path
        The folder to check.
    layout : {"sources", "research"}, optional
        Which layout to expect; detected from the files present when omitted.
    """
    return validated_tables(folder, layout)[0]


def check_folder(folder: Path | str, layout: str | None = None) -> ValidationReport:
    """Validate ``folder`` and raise :class:`ContractError` listing every problem, if any."""
    report = validate_folder(folder, layout)
    report.raise_if_failed()
    return report
