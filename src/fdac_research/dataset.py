"""Typed, validated access to contract folders, shared by every stage.

``load_sources`` / ``load_research`` validate first (every problem at once) and return typed
frames: dates as ``datetime64``, booleans as nullable ``boolean``, counts as ``Int64``, numbers
as ``float64``, text and categories as ``object`` with ``NaN`` for missing, lists as their
``;``-separated text. ``write_research`` writes a research folder atomically with its manifest.
"""

from __future__ import annotations

import dataclasses
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research._io import (
    atomic_dir,
    sha256_file,
    write_json,
    write_table,
)
from fdac_research.exceptions import ContractError, Problem
from fdac_research.reading import (
    EXCLUSIONS_FILE,
    ReadTable,
    read_external_exclusions,
    read_folder_tables,
    read_manifest,
)
from fdac_research.validation import ValidationReport, check_folder, validated_tables

__all__ = [
    "EXCLUSIONS_FILE",
    "Sources",
    "ResearchData",
    "to_typed",
    "load_sources",
    "load_research",
    "write_research",
    "file_manifest",
    "code_version",
    "split_list",
    "typed_contract_columns",
]


#: Controller-side list of pseudonymous case_ids withheld from external recipients, inside a
#: research folder (written by the build, read by everything made to leave).


def to_typed(df: pd.DataFrame, table: schema.Table) -> pd.DataFrame:
    """Convert a normalised, validated text table to typed columns.

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
    return values.map(
        lambda s: [x.strip() for x in str(s).split(";") if x.strip()] if isinstance(s, str) else []
    )


def _typed_tables(
    folder: Path, layout: str, validate: bool
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame], ValidationReport | None]:
    """Typed contract columns and extra columns of every table present in ``folder``.

    Both come from the tables exactly as the validator read them (one read per file).
    """
    if validate:
        report, read, declared = validated_tables(folder, layout)
        report.raise_if_failed()
    else:
        lay = schema.SOURCES if layout == "sources" else schema.RESEARCH
        read, declared, problems = read_folder_tables(folder, lay)
        if problems:
            raise ContractError(f"{layout} folder {folder}", problems)
        report = None
    typed: dict[str, pd.DataFrame] = {}
    extras: dict[str, pd.DataFrame] = {}
    for name, rt in read.items():
        typed[name] = typed_contract_columns(rt, declared[name])
        extras[name] = rt.text[rt.extra_columns].replace("", np.nan)
    return typed, extras, report


def typed_contract_columns(read: ReadTable, table: schema.Table) -> pd.DataFrame:
    """The contract's columns of a table read by :func:`fdac_research.reading.read_table`,
    typed (columns beyond the contract left out)."""
    contract = [c for c in read.text.columns if c not in read.extra_columns]
    return to_typed(read.text[contract], table)


@dataclass
class Sources:
    """An identifiable sources folder (controller side), typed.

    Each frame holds the contract's columns only (optional ones when present); columns the
    contract does not declare are in ``extras`` under the table's name (``"court_people"``,
    ``"agencies/police"``), row-aligned, as text. Stages never copy them into research
    outputs, and they cannot collide with the columns a stage derives.
    """

    folder: Path
    court_cases: pd.DataFrame
    court_people: pd.DataFrame
    court_outcomes: pd.DataFrame
    hearings: pd.DataFrame
    opt_outs: pd.DataFrame
    agencies: dict[str, pd.DataFrame] = field(default_factory=dict)
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[Problem] = field(default_factory=list)

    @property
    def truth_dir(self) -> Path | None:
        """The ``truth/`` folder of a synthetic world, when present."""
        d = self.folder / "truth"
        return d if d.is_dir() else None

    def has_column(self, table: str, column: str) -> bool:
        """Whether the folder supplied ``column`` of ``table`` (``"agencies/<agency>"`` for
        an extract); optional columns and agency extracts may be absent."""
        if table.startswith("agencies/"):
            frame = self.agencies.get(table.removeprefix("agencies/"))
        else:
            frame = getattr(self, table, None)
        return frame is not None and column in frame.columns


def load_sources(folder: Path | str, *, validate: bool = True) -> Sources:
    """Load a sources folder, validating it first (raises ``ContractError`` listing problems)."""
    folder = Path(folder)
    typed, extras, report = _typed_tables(folder, "sources", validate)
    if "opt_outs" not in typed:
        typed["opt_outs"] = pd.DataFrame(
            {c: pd.Series(dtype=object) for c in schema.SOURCES.table("opt_outs").names}
        )
    agencies = {
        k.removeprefix("agencies/"): v
        for k, v in sorted(typed.items())
        if k.startswith("agencies/")
    }
    return Sources(
        folder=folder,
        court_cases=typed["court_cases"],
        court_people=typed["court_people"],
        court_outcomes=typed["court_outcomes"],
        hearings=typed["hearings"],
        opt_outs=typed["opt_outs"],
        agencies=agencies,
        extras={k: v for k, v in extras.items() if len(v.columns)},
        notes=list(report.notes) if report is not None else [],
    )


@dataclass
class ResearchData:
    """A pseudonymised research folder, typed.

    Frames hold the contract's columns; columns beyond the contract are in ``extras`` by
    table name (row-aligned text), so they never collide with what the analysis derives.
    """

    cases: pd.DataFrame
    adults: pd.DataFrame
    children: pd.DataFrame
    linkage_quality: pd.DataFrame | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: ``case_id`` of families who objected to external sharing (the build's
    #: ``_governance/external_exclusions.csv``); ``None`` when the folder holds no such list.
    external_exclusions: frozenset[str] | None = None

    def for_external_use(self) -> tuple[ResearchData, int]:
        """The data without the families who objected to external sharing, and how many
        cases were dropped. Anything made to leave (a synthetic release, an external
        extract) starts from this. A folder with no exclusions list (one not made by
        ``fdac-research build``) is returned as it is: callers say so in their reports
        (:attr:`external_exclusions` is ``None``) or refuse."""
        if self.external_exclusions is None:
            return self, 0
        drop = self.external_exclusions
        kept = {
            name: ~getattr(self, name)["case_id"].isin(drop).to_numpy()
            for name in ("cases", "adults", "children")
        }
        out = dataclasses.replace(
            self,
            **{name: getattr(self, name)[k].reset_index(drop=True) for name, k in kept.items()},
            extras={
                name: v[kept[name]].reset_index(drop=True) if name in kept else v
                for name, v in self.extras.items()
            },
            external_exclusions=frozenset(),
        )
        keep_cases = kept["cases"]
        return out, int((~keep_cases).sum())

    def tables(self) -> dict[str, pd.DataFrame]:
        """The data tables by name (``linkage_quality`` only when present)."""
        out = {"cases": self.cases, "adults": self.adults, "children": self.children}
        if self.linkage_quality is not None:
            out["linkage_quality"] = self.linkage_quality
        return out


def load_research(folder: Path | str, *, validate: bool = True) -> ResearchData:
    """Load a research folder, validating it first."""
    folder = Path(folder)
    typed, extras, _ = _typed_tables(folder, "research", validate)
    manifest = read_manifest(folder)
    exclusions = read_external_exclusions(folder)
    return ResearchData(
        cases=typed["cases"],
        adults=typed["adults"],
        children=typed["children"],
        linkage_quality=typed.get("linkage_quality"),
        manifest=manifest,
        folder=folder,
        extras={k: v for k, v in extras.items() if len(v.columns)},
        external_exclusions=exclusions,
    )


def code_version() -> str:
    """The package version plus the git commit when run from a checkout, with ``+dirty``
    when tracked files have local changes (so a manifest never claims a commit it does not
    match)."""
    from fdac_research import __version__

    root = Path(__file__).resolve().parents[2]
    head = root / ".git"
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
    if not commit:
        return __version__
    return f"{__version__}+{commit[:12]}" + (".dirty" if _dirty(root) else "")


def _dirty(root: Path) -> bool:
    """Whether tracked files of the checkout at ``root`` differ from the commit."""
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0 and bool(proc.stdout.strip())


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
        try:
            check_folder(tmp, "research")
        except ContractError as err:  # name the folder asked for, not the temporary one
            raise ContractError(
                f"the research folder {folder} this stage made (nothing was written)",
                err.problems,
            ) from None
    return folder
