"""Read the linkage output (``crosswalk.csv``, ``linkage_quality.csv``) and check that it
matches the sources it was made from (docs/ARCHITECTURE.md, "Data between stages")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research._io import find_table, read_text_table
from fdac_research.dataset import Sources, to_typed
from fdac_research.exceptions import ContractError, Problem
from fdac_research.validation import validate_frame

__all__ = ["read_crosswalk", "read_linkage_quality", "CROSSWALK_COLUMNS"]

CROSSWALK_COLUMNS = ("source", "record_id", "person_key", "match_probability")


def _problem(
    file: str, column: str, df: pd.DataFrame, mask: np.ndarray, expected: str
) -> Problem | None:
    """One problem for the rows in ``mask`` (the first as the example), or ``None``."""
    n = int(mask.sum())
    if not n:
        return None
    i = int(np.flatnonzero(mask)[0])
    value = df[column].iloc[i] if column in df.columns else None
    return Problem(file, column, i + 2, None if value is None else str(value), expected, n)


def _missing(file: str, column: str, values: pd.Index, expected: str) -> Problem | None:
    """A problem for source references absent from the crosswalk (example: the first)."""
    if not len(values):
        return None
    return Problem(file, column, None, str(values[0]), expected, len(values))


def read_crosswalk(linkdir: Path | str, sources: Sources) -> pd.DataFrame:
    """Read ``<linkdir>/crosswalk.csv`` and check it against ``sources``.

    Every court person and every agency record must appear exactly once, with a non-empty
    ``person_key`` and a ``match_probability`` in [0, 1]; no row may name a record the
    sources do not hold.

    Returns
    -------
    pandas.DataFrame
        ``source``, ``record_id``, ``person_key`` (text) and ``match_probability`` (float).

    Raises
    ------
    ContractError
        Listing every mismatch with the file, column and an example.
    """
    linkdir = Path(linkdir)
    path = find_table(linkdir, "crosswalk")
    if path is None:
        raise ContractError(
            str(linkdir),
            [Problem("crosswalk.csv", None, None, None, "the linkage crosswalk (missing)")],
        )
    file = str(path)
    df = read_text_table(path)
    absent = [c for c in CROSSWALK_COLUMNS if c not in df.columns]
    if absent:
        raise ContractError(
            file,
            [Problem(file, c, None, None, "this required column (missing)") for c in absent],
        )
    probs: list[Problem | None] = []
    for c in ("source", "record_id", "person_key"):
        probs.append(_problem(file, c, df, (df[c] == "").to_numpy(), "a non-empty value"))
    p = pd.to_numeric(df["match_probability"], errors="coerce")
    probs.append(
        _problem(
            file,
            "match_probability",
            df,
            ~p.between(0, 1).to_numpy(),
            "a probability in [0, 1]",
        )
    )
    known = {"court", *sources.agencies}
    probs.append(
        _problem(
            file,
            "source",
            df,
            ~df["source"].isin(known).to_numpy(),
            f"'court' or an agency in the sources ({', '.join(sorted(sources.agencies))})",
        )
    )
    dup = df.duplicated(["source", "record_id"], keep="first").to_numpy()
    probs.append(
        _problem(file, "record_id", df, dup, "each (source, record_id) once (duplicate row)")
    )
    refs = {"court": pd.Index(sources.court_people["person_ref"].astype(str))}
    refs.update({a: pd.Index(f["record_id"].astype(str)) for a, f in sources.agencies.items()})
    for src, ids in refs.items():
        rows = (df["source"] == src).to_numpy()
        where = "court_people.csv person_ref" if src == "court" else f"agencies/{src}.csv"
        probs.append(
            _problem(
                file,
                "record_id",
                df,
                rows & ~df["record_id"].isin(ids).to_numpy(),
                f"a record of {where} (this {src} record is not in the sources)",
            )
        )
        probs.append(
            _missing(
                file,
                "record_id",
                ids.difference(pd.Index(df.loc[rows, "record_id"]), sort=False),
                f"every record of {where} to appear (this one is missing from the crosswalk)",
            )
        )
    problems = [x for x in probs if x is not None]
    if problems:
        raise ContractError(f"crosswalk {file} does not match the sources", problems)
    out = df[list(CROSSWALK_COLUMNS)].copy()
    out["match_probability"] = p.astype(float)
    return out


def read_linkage_quality(linkdir: Path | str) -> pd.DataFrame:
    """Read and validate ``<linkdir>/linkage_quality.csv`` (contract §2 columns), typed."""
    linkdir = Path(linkdir)
    table = schema.RESEARCH.table("linkage_quality")
    path = find_table(linkdir, "linkage_quality")
    if path is None:
        raise ContractError(
            str(linkdir),
            [
                Problem(
                    "linkage_quality.csv", None, None, None, "the linkage quality table (missing)"
                )
            ],
        )
    df = read_text_table(path)
    problems = validate_frame(df, table, str(path))
    if problems:
        raise ContractError(str(path), problems)
    return to_typed(df, table)
