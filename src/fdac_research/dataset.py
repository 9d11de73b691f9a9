"""Typed, validated access to contract folders, shared by every stage.

``load_sources`` / ``load_research`` validate first (every problem at once) and return typed
frames: dates as ``datetime64``, booleans as nullable ``boolean``, counts as ``Int64``, numbers
as ``float64``, text and categories as ``object`` with ``NaN`` for missing, lists as their
``;``-separated text. ``write_research`` writes a research folder atomically with its manifest.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research._io import (
    atomic_dir,
    find_table,
    read_text_table,
    sha256_file,
    write_json,
    write_table,
)
from fdac_research.validation import check_folder

__all__ = [
    "Sources",
    "ResearchData",
    "to_typed",
    "load_sources",
    "load_research",
    "write_research",
    "file_manifest",
    "code_version",
    "split_list",
]


def to_typed(df: pd.DataFrame, table: schema.Table) -> pd.DataFrame:
    """Convert a text table (as read by the validator) to typed columns.

    Columns the contract does not declare are carried along as text.
    """
    out = {}
    for name in df.columns:
        v = df[name]
        try:
            col = table.column(name)
        except KeyError:
            out[name] = v.replace("", np.nan)
            continue
        empty = v == ""
        if col.kind == "date":
            out[name] = pd.to_datetime(v.where(~empty), format="%Y-%m-%d")
        elif col.kind == "bool":
            out[name] = v.map({"true": True, "false": False}).astype("boolean")
        elif col.kind == "int":
            out[name] = pd.to_numeric(v.where(~empty)).astype("Int64")
        elif col.kind == "float":
            out[name] = pd.to_numeric(v.where(~empty)).astype(float)
        else:
            out[name] = v.where(~empty, np.nan).astype(object)
    return pd.DataFrame(out, index=df.index)


def split_list(values: pd.Series) -> pd.Series:
    """Split a ``;``-separated list column into Python lists (missing → empty list)."""
    return values.map(lambda s: [x for x in str(s).split(";") if x] if isinstance(s, str) else [])


def _read(folder: Path, table: schema.Table) -> pd.DataFrame | None:
    path = find_table(folder, table.name)
    return None if path is None else to_typed(read_text_table(path), table)


@dataclass
class Sources:
    """An identifiable sources folder (controller side), typed."""

    folder: Path
    court_cases: pd.DataFrame
    court_people: pd.DataFrame
    court_outcomes: pd.DataFrame
    hearings: pd.DataFrame
    opt_outs: pd.DataFrame
    agencies: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def truth_dir(self) -> Path | None:
        """The ``truth/`` folder of a synthetic world, when present."""
        d = self.folder / "truth"
        return d if d.is_dir() else None


def load_sources(folder: Path | str, *, validate: bool = True) -> Sources:
    """Load a sources folder, validating it first (raises ``ContractError`` listing problems)."""
    folder = Path(folder)
    if validate:
        check_folder(folder, "sources")
    lay = schema.SOURCES
    frames = {t.name: _read(folder, t) for t in lay.tables if not t.name.startswith("agencies/")}
    if frames["opt_outs"] is None:
        frames["opt_outs"] = pd.DataFrame(
            {c: pd.Series(dtype=object) for c in schema.SOURCES.table("opt_outs").names}
        )
    agencies = {}
    for p in sorted((folder / "agencies").glob("*")):
        if p.suffix in (".csv", ".parquet") and p.stem not in agencies:
            agencies[p.stem] = to_typed(read_text_table(p), schema.agency_table(p.stem))
    return Sources(folder=folder, agencies=agencies, **frames)  # type: ignore[arg-type]


@dataclass
class ResearchData:
    """A pseudonymised research folder, typed."""

    cases: pd.DataFrame
    adults: pd.DataFrame
    children: pd.DataFrame
    linkage_quality: pd.DataFrame | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The data tables by name (``linkage_quality`` only when present)."""
        out = {"cases": self.cases, "adults": self.adults, "children": self.children}
        if self.linkage_quality is not None:
            out["linkage_quality"] = self.linkage_quality
        return out


def load_research(folder: Path | str, *, validate: bool = True) -> ResearchData:
    """Load a research folder, validating it first."""
    folder = Path(folder)
    if validate:
        check_folder(folder, "research")
    lay = schema.RESEARCH
    frames = {t.name: _read(folder, t) for t in lay.tables}
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    return ResearchData(
        cases=frames["cases"],  # type: ignore[arg-type]
        adults=frames["adults"],  # type: ignore[arg-type]
        children=frames["children"],  # type: ignore[arg-type]
        linkage_quality=frames["linkage_quality"],
        manifest=manifest,
        folder=folder,
    )


def code_version() -> str:
    """The package version plus the git commit when run from a checkout."""
    from fdac_research import __version__

    head = Path(__file__).resolve().parents[2] / ".git"
    commit = ""
    try:
        ref = (head / "HEAD").read_text().strip()
        if ref.startswith("ref: "):
            ref_path = head / ref[5:]
            if ref_path.is_file():
                commit = ref_path.read_text().strip()
            else:
                packed = (head / "packed-refs").read_text().splitlines()
                commit = next((ln.split()[0] for ln in packed if ln.endswith(ref[5:])), "")
        else:
            commit = ref
    except OSError:
        pass
    return f"{__version__}+{commit[:12]}" if commit else __version__


def file_manifest(folder: Path, **extra: Any) -> dict[str, Any]:
    """A manifest of every file under ``folder``: rows (CSV) and SHA-256, plus ``extra``."""
    files = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            rel = p.relative_to(folder).as_posix()
            entry: dict[str, Any] = {"sha256": sha256_file(p)}
            if p.suffix == ".csv":
                with open(p, "rb") as f:
                    entry["rows"] = max(sum(1 for _ in f) - 1, 0)
            files[rel] = entry
    return {
        "contract_version": schema.CONTRACT_VERSION,
        "code_version": code_version(),
        "python": platform.python_version(),
        "files": files,
        **extra,
    }


def write_research(
    data: ResearchData,
    folder: Path | str,
    *,
    manifest: dict[str, Any] | None = None,
    extra_tables: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """Write a research folder atomically (all files, then ``manifest.json``), then validate it.

    Columns are written in contract order, extra columns after. ``extra_tables`` maps a
    relative path inside the folder (for example ``"_governance/external_exclusions.csv"``)
    to a table written beside the contract tables and covered by the manifest. Nothing is
    left behind if validation fails.
    """
    folder = Path(folder)
    with atomic_dir(folder) as tmp:
        for name, df in data.tables().items():
            table = schema.RESEARCH.table(name)
            cols = [c for c in table.names if c in df.columns] + [
                c for c in df.columns if c not in table.names
            ]
            write_table(df[cols], tmp / f"{name}.csv")
        for rel, df in (extra_tables or {}).items():
            path = (tmp / rel).resolve()
            if tmp.resolve() not in path.parents or path.suffix != ".csv":
                raise ValueError(f"extra table path {rel!r} must be a .csv inside the folder")
            write_table(df, path)
        write_json(file_manifest(tmp, **(manifest or {})), tmp / "manifest.json")
        check_folder(tmp, "research")
    return folder
