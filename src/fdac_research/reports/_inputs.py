"""The first cell of every report notebook: its input folders exist, and its tables folder.

Run from JupyterLab without parameters, a notebook reads the folders ``make reports`` leaves
in ``data/work/`` and writes its tables to a scratch folder, ``data/work/scratch/tables``,
never into ``reports/``: the published tables are exactly those ``reports/manifest.json``
hashes. The pipeline passes every folder as a papermill parameter (docs/notebooks.md).
"""

from __future__ import annotations

from pathlib import Path

from fdac_research.exceptions import ConfigError

__all__ = ["SCRATCH_TABLES", "prepare_notebook"]

#: Where an unparameterised notebook (run from ``notebooks/``) writes its tables.
SCRATCH_TABLES = "../data/work/scratch/tables"

# What writes each input folder, for the message when it is missing.
_WRITTEN_BY = {
    "sources_dir": "`make reports` (it generates the synthetic world in data/synthetic/)",
    "linkage_dir": "`make reports` (its link stage writes data/work/linkage/)",
    "research_dir": "`make reports` (its build stage writes data/work/research/)",
    "synthetic_dir": "`make reports` (its synthesise stage writes data/work/synthetic_report/)",
    "disclosure_dir": "`make reports` (its risk stage writes data/work/disclosure/)",
}


def prepare_notebook(tables_dir: str | Path, **inputs: str | Path) -> Path:
    """Check that every input folder in ``inputs`` (parameter name → folder) exists and
    create ``tables_dir``; returns it.

    Raises
    ------
    ConfigError
        Naming each missing folder, the parameter that holds it, and what writes it: run
        ``make reports`` from the repository root first, or set the parameter in the
        notebook's first code cell (the cell tagged ``parameters``).
    """
    problems = []
    for name, folder in inputs.items():
        if folder in ("", None):
            continue  # not given: a report on a research folder has no sources
        path = Path(folder)
        if not path.is_dir():
            what = _WRITTEN_BY.get(name, "`make reports`")
            problems.append(
                f"{name} = {str(folder)!r}: folder not found (from {Path.cwd().name}/ it is "
                f"{path.resolve().as_posix()}); run {what} from the repository root first, or "
                f"set {name} in this notebook's parameters cell to the folder that holds it"
            )
    if problems:
        raise ConfigError("notebook inputs", problems)
    out = Path(tables_dir)
    out.mkdir(parents=True, exist_ok=True)
    return out
