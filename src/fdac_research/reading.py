"""The one reading layer: how every stage reads a contract folder.

``fdac-research validate`` and every stage read files through :func:`read_table`, so what
``validate`` accepts is exactly what the stages see. The rules (docs/data-contract.md,
"How values are read") are decided here, once:

* **Files.** ``<table>.csv`` (UTF-8, a byte-order mark allowed, LF or CRLF line ends) or
  ``<table>.parquet``; both for one table is an error (which one is meant?). Agency extracts
  are ``agencies/<agency>.csv|.parquet`` where ``<agency>`` is lower-case letters, digits and
  underscores, starting with a letter; any other file in ``agencies/`` is an error that
  names it.
* **Headers.** Surrounding whitespace is stripped; an empty or repeated column name is an
  error naming the file and the column.
* **Cells.** Surrounding whitespace (spaces, tabs, non-breaking spaces, any Unicode space) is
  stripped from every cell; a cell that is then empty is missing.
* **Closed vocabularies** (cohort, role, sex, ethnicity, final_order, placement_at_end,
  hearing kind, opt-out scope, booleans) are matched ignoring case and rewritten in the
  contract's spelling (``FDAC`` → ``fdac``, ``f`` → ``F``, ``TRUE`` → ``true``). Open
  vocabularies (courts, local authorities, substances) keep the text as written.
* **Lists** are ``;``-separated: items are stripped, empty items dropped, and the list is
  rewritten as ``a;b``.
* **Postcodes** are upper-cased and re-spaced (``sw1a1aa`` → ``SW1A 1AA``). A value that is
  still not a full UK postcode is read as missing and reported as a *note* (a postcode only
  helps linkage; one bad address must not reject a folder).
* **References** (``case_ref``, ``person_ref``, ``record_id``) are stripped, never
  case-folded: ``CP1`` and ``cp1`` are different people.

Examples
--------
>>> import pandas as pd
>>> from fdac_research import schema
>>> raw = pd.DataFrame({"case_ref": [" FD1 "], "cohort": ["FDAC"], "court": ["Leeds "]})
>>> text, notes = normalise(raw, schema.SOURCES.table("court_cases"), "court_cases.csv")
>>> text.iloc[0].tolist()
['FD1', 'fdac', 'Leeds']
>>> normalise_postcode(" sw1a1aa ")
'SW1A 1AA'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research._io import read_text_table
from fdac_research.exceptions import ContractError, Problem

__all__ = [
    "AGENCY_NAME_PATTERN",
    "ReadTable",
    "Located",
    "locate_tables",
    "normalise",
    "normalise_postcode",
    "read_table",
    "EXCLUSIONS_FILE",
    "read_manifest",
    "read_external_exclusions",
]

#: What an agency extract's file stem must look like (it becomes the agency's name).
AGENCY_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
_AGENCY_NAME = re.compile(AGENCY_NAME_PATTERN)
_POSTCODE = re.compile(schema.POSTCODE_PATTERN)
_SPACE = re.compile(r"\s+")
_SUFFIXES = (".csv", ".parquet")
#: The research folder's list of families who objected to external sharing (written by the
#: build, honoured by every external extract and the synthetic release).
EXCLUSIONS_FILE = "_governance/external_exclusions.csv"


def normalise_postcode(value: str) -> str:
    """Upper-case ``value`` and put one space before its last three characters.

    Returns ``""`` when the result is not a full UK postcode (see the module docstring).

    Examples
    --------
    >>> normalise_postcode("sw1a  1aa"), normalise_postcode("LS11AB"), normalise_postcode("N/A")
    ('SW1A 1AA', 'LS1 1AB', '')
    """
    compact = _SPACE.sub("", value).upper()
    if len(compact) < 5:
        return ""
    text = f"{compact[:-3]} {compact[-3:]}"
    return text if _POSTCODE.match(text) else ""


def _fold_map(allowed: Iterable[str]) -> dict[str, str]:
    return {a.casefold(): a for a in allowed}


def _normalise_values(values: pd.Series, col: schema.Column) -> pd.Series:
    """The rules for one column, applied to its distinct (already stripped) values."""
    if col.kind == "bool":
        fold = _fold_map(("true", "false"))
        return values.map(lambda s: fold.get(s.casefold(), s))
    if col.kind == "category" and col.allowed:
        fold = _fold_map(col.allowed)
        return values.map(lambda s: fold.get(s.casefold(), s))
    if col.kind == "list":
        fold = _fold_map(col.allowed) if col.allowed else {}

        def items(s: str) -> str:
            parts = (x.strip() for x in s.split(";"))
            return ";".join(fold.get(x.casefold(), x) if fold else x for x in parts if x)

        return values.map(items)
    if col.name == "postcode":
        return values.map(lambda s: normalise_postcode(s) if s else s)
    return values


def normalise(
    df: pd.DataFrame, table: schema.Table, file: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """Apply the reading rules to a raw text table (as :func:`read_text_table` returns it).

    Returns the normalised text table (same rows, same columns, ``""`` = missing) and
    *notes*: values the rules turned into missing (postcodes that are not postcodes), one
    :class:`Problem` per column with the first line and the count. Columns the contract does
    not declare are stripped only. Every rule runs once per distinct value.
    """
    declared = {c.name: c for c in table.columns}
    out: dict[str, pd.Series] = {}
    notes: list[Problem] = []
    for name in df.columns:
        codes, uniq = pd.factorize(df[name].to_numpy(dtype=object), use_na_sentinel=True)
        stripped = pd.Series(uniq, dtype=object).astype(str).str.strip()
        col = declared.get(name)
        fixed = _normalise_values(stripped, col) if col is not None else stripped
        if col is not None and col.name == "postcode":
            lost = ((fixed == "") & (stripped != "")).to_numpy()
            rows = lost[codes] & (codes >= 0)
            if rows.any():
                i = int(np.flatnonzero(rows)[0])
                notes.append(
                    Problem(
                        file,
                        name,
                        i + 2,
                        str(stripped.iloc[codes[i]]),
                        "a full UK postcode; read as missing",
                        int(rows.sum()),
                    )
                )
        values = np.append(fixed.to_numpy(dtype=object), "")
        out[name] = pd.Series(values[codes], index=df.index, dtype=object)
    return pd.DataFrame(out, index=df.index), notes


@dataclass
class ReadTable:
    """One contract table as every stage sees it.

    Attributes
    ----------
    text : pandas.DataFrame
        Normalised text: every cell a ``str``, ``""`` for missing; declared columns and any
        extra columns, in file order.
    file : str
        The file as named to the user (relative to the folder).
    notes : list of Problem
        Values the reading rules turned into missing (reported, not errors).
    """

    text: pd.DataFrame
    file: str
    notes: list[Problem] = field(default_factory=list)
    path: Path = Path()

    @property
    def extra_columns(self) -> list[str]:
        """Columns present in the file that the contract does not declare."""
        return list(self.text.columns[~self.text.columns.isin(self._declared)])

    _declared: list[str] = field(default_factory=list, repr=False)


def read_table(path: Path | str, table: schema.Table, file: str | None = None) -> ReadTable:
    """Read and normalise one contract table (raises :class:`ContractError` if unreadable).

    ``file`` is the name used in messages (default: the file name).
    """
    path = Path(path)
    name = file or path.name
    raw = read_text_table(path, name=name)
    text, notes = normalise(raw, table, name)
    return ReadTable(text, name, notes, path, _declared=table.names)


@dataclass
class Located:
    """Which file holds each table of a folder, and what is wrong with the folder's files."""

    paths: dict[str, Path]
    problems: list[Problem]

    def file(self, table: str, folder: Path) -> str:
        """The file of ``table`` relative to ``folder`` (for messages)."""
        return self.paths[table].relative_to(folder).as_posix()


def _one_file(folder: Path, stem: str, problems: list[Problem]) -> Path | None:
    found = [folder / f"{stem}{s}" for s in _SUFFIXES if (folder / f"{stem}{s}").is_file()]
    if len(found) > 1:
        problems.append(
            Problem(
                " and ".join(p.name for p in found),
                None,
                None,
                None,
                "one file per table, CSV or Parquet, not both (which one is meant?)",
            )
        )
    return found[0] if found else None


def _agency_files(folder: Path, problems: list[Problem]) -> dict[str, Path]:
    agency_dir = folder / "agencies"
    if not agency_dir.is_dir():
        return {}
    by_name: dict[str, list[Path]] = {}
    for p in sorted(agency_dir.iterdir()):
        rel = p.relative_to(folder).as_posix()
        if p.name.startswith("."):
            continue  # hidden files (editor and OS droppings) are not data
        if not p.is_file() or p.suffix.lower() not in _SUFFIXES:
            problems.append(
                Problem(
                    rel, None, None, None, "an agency extract agencies/<agency>.csv or .parquet"
                )
            )
            continue
        if p.suffix not in _SUFFIXES or not _AGENCY_NAME.match(p.stem):
            suggestion = re.sub(r"[^a-z0-9_]+", "_", p.stem.lower()).strip("_") or "agency"
            problems.append(
                Problem(
                    rel,
                    None,
                    None,
                    None,
                    "an agency file name of lower-case letters, digits and underscores "
                    f"with a .csv or .parquet suffix (the name is the agency's): rename it "
                    f"to agencies/{suggestion}{p.suffix.lower()}",
                )
            )
            continue
        by_name.setdefault(p.stem, []).append(p)
    out: dict[str, Path] = {}
    for name, paths in sorted(by_name.items()):
        if len(paths) > 1:
            problems.append(
                Problem(
                    " and ".join(p.relative_to(folder).as_posix() for p in paths),
                    None,
                    None,
                    None,
                    "one file per agency, CSV or Parquet, not both (which one is meant?)",
                )
            )
        out[name] = paths[0]
    return out


def locate_tables(folder: Path | str, layout: schema.Layout) -> tuple[list[schema.Table], Located]:
    """The tables of ``layout`` present in ``folder`` (agency tables from the files found),
    their files, and every problem with the folder's files (missing required files,
    ambiguous or unusable file names)."""
    folder = Path(folder)
    problems: list[Problem] = []
    tables = [t for t in layout.tables if not t.name.startswith("agencies/")]
    paths: dict[str, Path] = {}
    for t in tables:
        p = _one_file(folder, t.name, problems)
        if p is not None:
            paths[t.name] = p
        elif not t.optional:
            problems.append(
                Problem(f"{t.name}.csv", None, None, None, "this required file (missing)")
            )
    if layout.name == "sources":
        agencies = _agency_files(folder, problems)
        for agency, p in agencies.items():
            t = schema.agency_table(agency)
            tables.append(t)
            paths[t.name] = p
        if not agencies:
            problems.append(
                Problem(
                    "agencies/",
                    None,
                    None,
                    None,
                    "at least one agency extract agencies/<agency>.csv",
                )
            )
    present = [t for t in tables if t.name in paths]
    return present, Located(paths, problems)


def read_folder_tables(
    folder: Path | str, layout: schema.Layout
) -> tuple[dict[str, ReadTable], dict[str, schema.Table], list[Problem]]:
    """Read every table of ``layout`` present in ``folder``.

    Returns the read tables and their declarations by table name, and the problems found
    while locating and reading (not yet the value checks: see
    :func:`fdac_research.validation.validate_folder`).
    """
    folder = Path(folder)
    tables, located = locate_tables(folder, layout)
    problems = list(located.problems)
    read: dict[str, ReadTable] = {}
    for t in tables:
        rel = located.file(t.name, folder)
        try:
            read[t.name] = read_table(located.paths[t.name], t, rel)
        except ContractError as err:
            problems.extend(err.problems)
    return read, {t.name: t for t in tables}, problems


def read_manifest(folder: Path | str) -> dict[str, object]:
    """A research folder's ``manifest.json`` (``{}`` when absent); :class:`ContractError`
    when it is there but not a readable JSON object."""
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ContractError(
            str(folder), [Problem("manifest.json", None, None, None, "a readable JSON manifest")]
        ) from err
    if not isinstance(manifest, dict):
        raise ContractError(
            str(folder),
            [
                Problem(
                    "manifest.json", None, None, None, "a JSON object (got a JSON list or value)"
                )
            ],
        )
    return manifest


def read_external_exclusions(folder: Path | str) -> frozenset[str] | None:
    """The ``case_id``s of ``_governance/external_exclusions.csv`` (``None`` when the folder
    has no such list); :class:`ContractError` when the file has no ``case_id`` column."""
    path = Path(folder) / EXCLUSIONS_FILE
    if not path.is_file():
        return None
    excl = read_text_table(path, name=EXCLUSIONS_FILE)
    if "case_id" not in excl.columns:
        raise ContractError(
            str(folder),
            [Problem(EXCLUSIONS_FILE, "case_id", 1, None, "required column 'case_id'")],
        )
    return frozenset(excl["case_id"].str.strip()) - {""}
