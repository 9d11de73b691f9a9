"""Publishing tables: nothing reaches ``reports/`` before it passes the output check.

Notebooks call :func:`publish_table` for every count table and :func:`publish_estimates` for
every table of model estimates. The CSV is written only after
:func:`fdac_research.risk.check_table_or_raise` has passed (with suppression and rounding
applied); a table that cannot be protected raises :class:`~fdac_research.exceptions.DisclosureError`
naming the cell and the reason, which fails the notebook and so the build.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from fdac_research._io import atomic_file, write_json
from fdac_research.exceptions import ConfigError, DisclosureError
from fdac_research.risk import TableRules, check_table_or_raise

__all__ = ["DEFAULT_RULES", "publish_table", "publish_estimates"]

#: Rules applied to every published count table unless a notebook names others:
#: ONS-style threshold 10 with every published count rounded to base 5.
DEFAULT_RULES = "ons_10_5"
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


def _write(df: pd.DataFrame, path: Path) -> None:
    with atomic_file(path) as tmp:
        df.to_csv(tmp, lineterminator="\n", encoding="utf-8")


def publish_table(
    table: pd.DataFrame,
    name: str,
    tables_dir: Path | str,
    *,
    rules: TableRules | str | dict[str, Any] = DEFAULT_RULES,
    allow_suppression: bool = True,
) -> pd.DataFrame:
    """Output-check a frequency table and write ``<tables_dir>/<name>.csv`` if it is safe.

    Parameters
    ----------
    table : pandas.DataFrame
        Interior counts (categories as the index, groups as columns; no margins: the check
        computes and publishes them).
    name : str
        File stem of the published CSV.
    tables_dir : path
        The reports' tables folder.
    rules : preset name, TableRules or dict
        Disclosure-control rules (default :data:`DEFAULT_RULES`).
    allow_suppression : bool
        Publish the protected table (small cells suppressed as ``[c]``, secondary
        suppression, rounding). With ``False`` any cell needing suppression is an error.

    Returns
    -------
    pandas.DataFrame
        Exactly what was written: the protected table with margins.

    Raises
    ------
    DisclosureError
        The table cannot be made safe (names the cell and the reason); nothing is written.
    """
    path = _target(tables_dir, name)
    res = check_table_or_raise(table, rules, allow_suppression=allow_suppression, name=name)
    _write(res.published, path)
    write_json({"table": name, "kind": "counts", **res.summary}, path.with_suffix(".check.json"))
    return res.published


def publish_estimates(
    estimates: pd.DataFrame,
    name: str,
    tables_dir: Path | str,
    *,
    n_columns: tuple[str, ...] = ("n",),
    threshold: int = 10,
) -> pd.DataFrame:
    """Check a table of model estimates and write it if every estimate rests on enough people.

    Estimates (risk differences, odds ratios, confidence limits) are not counts, so the
    frequency rules do not apply; the usual output-checking rule for them is a minimum number
    of people behind each estimate. Every value in ``n_columns`` must be at least
    ``threshold``; the columns themselves are published rounded to base 5.
    """
    path = _target(tables_dir, name)
    missing = [c for c in n_columns if c not in estimates.columns]
    if missing:
        raise ConfigError(
            "published estimates",
            [f"{name}: column(s) {missing} with the numbers of people are missing"],
        )
    out = estimates.copy()
    for c in n_columns:
        n = pd.to_numeric(out[c], errors="coerce")
        small = n.isna() | (n < threshold)
        if small.any():
            row = out.index[small.to_numpy()][0]
            raise DisclosureError(
                f"{name}: estimate in row {row!r} rests on {out.loc[row, c]} people in column {c!r}; "
                f"at least {threshold} are required before it can be published"
            )
        out[c] = (5 * (n / 5).round()).astype(int)
    _write(out, path)
    write_json(
        {
            "table": name,
            "kind": "estimates",
            "rule": f"at least {threshold} people behind every estimate",
            "passed": True,
            "n_rows": len(out),
        },
        path.with_suffix(".check.json"),
    )
    return out
