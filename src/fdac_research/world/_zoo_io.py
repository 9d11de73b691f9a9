"""The world zoo's view of a world folder: every table as raw text, and writing it back as
CSV (optionally with a BOM and CRLF) or as typed Parquet, byte-for-byte deterministically."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from fdac_research import schema
from fdac_research.world._config import WorldConfig

__all__ = [
    "ZooFiles",
    "load_files",
    "write_files",
    "column_kind",
    "is_reference",
    "ARROW_TYPES",
]

# Contract kinds -> Arrow types of the Parquet a zoo world writes.
ARROW_TYPES: dict[str, pa.DataType] = {
    "date": pa.date32(),
    "bool": pa.bool_(),
    "int": pa.int64(),
    "float": pa.float64(),
    "str": pa.string(),
}
# Kinds of columns the contract does not declare (truth files, the zoo's extra columns).
_EXTRA_KINDS = {
    "age": "int",
    "hidden_confounder": "float",
    "u": "float",
    "potential_outcome_untreated": "bool",
    "potential_outcome_treated": "bool",
    "y0": "bool",
    "y1": "bool",
    "extracted_on": "date",
}
_REFERENCE_NAMES = frozenset({"case_ref", "person_ref", "record_id"})


@dataclasses.dataclass
class ZooFiles:
    """A world held in memory while it is perturbed.

    Attributes
    ----------
    tables : dict
        Relative path without suffix (``court_cases``, ``agencies/police``, ``truth/people``)
        -> the table as text (every cell a ``str``, missing = ``""``; duplicate column names
        allowed).
    blobs : dict
        Relative path -> bytes of every other file (``truth/effects.json``).
    config : WorldConfig
        The configuration the underlying world was generated with.
    parquet, bom, newline
        How tables are written: Parquet instead of CSV; a UTF-8 BOM and the line ending of
        each CSV.
    """

    tables: dict[str, pd.DataFrame]
    blobs: dict[str, bytes]
    config: WorldConfig
    parquet: bool = False
    bom: bool = False
    newline: str = "\n"

    def copy(self) -> ZooFiles:
        """A deep copy (perturbations change tables in place)."""
        return dataclasses.replace(
            self,
            tables={k: v.copy(deep=True) for k, v in self.tables.items()},
            blobs=copy.deepcopy(self.blobs),
        )


def load_files(folder: Path | str, config: WorldConfig) -> ZooFiles:
    """Read a world folder written by :func:`generate_world` (CSV tables as raw text)."""
    folder = Path(folder)
    tables: dict[str, pd.DataFrame] = {}
    blobs: dict[str, bytes] = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(folder).as_posix()
        if p.suffix == ".csv":
            tables[rel[: -len(".csv")]] = pd.read_csv(p, dtype=str, keep_default_na=False)
        else:
            blobs[rel] = p.read_bytes()
    return ZooFiles(tables=tables, blobs=blobs, config=config)


def _declared_table(key: str) -> schema.Table | None:
    if key.startswith("agencies/"):
        try:
            return schema.agency_table(key.split("/", 1)[1])
        except ValueError:
            return None
    try:
        return schema.SOURCES.table(key)
    except KeyError:
        return None


def _declared_column(key: str, name: str) -> schema.Column | None:
    """The contract's declaration of ``name`` in table ``key``, else of a same-named column
    of another sources table (``cohort`` copied into hearings is still a cohort)."""
    tables = [_declared_table(key), *schema.SOURCES.tables]
    tables += [schema.agency_table(a) for a in schema.AGENCIES]
    for t in tables:
        if t is not None and name in t.names:
            return t.column(name)
    return None


def column_kind(key: str, name: str) -> str:
    """The contract kind of column ``name`` of table ``key`` (``str`` when unknown)."""
    c = _declared_column(key, name)
    if c is not None:
        return c.kind
    return _EXTRA_KINDS.get(name, "str")


def is_reference(key: str, name: str) -> bool:
    """Whether the column holds source references (case-sensitive identifiers)."""
    c = _declared_column(key, name)
    return name in _REFERENCE_NAMES or (c is not None and "reference" in c.roles)


def _arrow_array(values: pd.Series, kind: str, where: str) -> pa.Array:
    """Typed Arrow array from contract text; empty -> null; anything else unparseable fails."""
    text = values.tolist()
    arrow = ARROW_TYPES.get(kind, pa.string())
    try:
        if kind == "date":
            items: list[object] = [dt.date.fromisoformat(v) if v else None for v in text]
        elif kind == "bool":
            lookup = {"true": True, "false": False, "": None}
            items = [lookup[v] for v in text]
        elif kind == "int":
            items = [int(v) if v else None for v in text]
        elif kind == "float":
            items = [float(v) if v else None for v in text]
        else:
            items = [v if v else None for v in text]
    except (KeyError, ValueError) as err:
        raise ValueError(f"{where}: cannot write {kind!r} Parquet from {err}") from err
    return pa.array(items, type=arrow)


def write_files(files: ZooFiles, folder: Path) -> list[str]:
    """Write every table and blob under ``folder``; returns the relative paths, sorted."""
    written = []
    for key in sorted(files.tables):
        df = files.tables[key]
        if files.parquet:
            path = folder / f"{key}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            arrays = [
                _arrow_array(df.iloc[:, j], column_kind(key, str(c)), f"{key}.{c}")
                for j, c in enumerate(df.columns)
            ]
            table = pa.Table.from_arrays(arrays, names=[str(c) for c in df.columns])
            pq.write_table(table, path, compression="zstd", write_statistics=True)
        else:
            path = folder / f"{key}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            df.to_csv(
                path,
                index=False,
                lineterminator=files.newline,
                encoding="utf-8-sig" if files.bom else "utf-8",
            )
        written.append(path.relative_to(folder).as_posix())
    for rel in sorted(files.blobs):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files.blobs[rel])
        written.append(rel)
    return sorted(written)
