"""The output checker's record of a run, in the layout ACRO/SACRO write (``results.json``).

Every ``publish_*`` call adds (or replaces) one entry, keyed by the table's name, to
``<tables_dir>/results.json``: its status (``pass``, or ``review`` when cells were suppressed,
the table was published by exception or was not registered with its population), the checks
applied with the number of cells each flagged, the suppressed cells (which are ``[c]`` in the
CSV anyway), the reasons in aggregate, and the exception request. The layout is ACRO 1.0.2's
``Records.finalise_json`` (``version``, ``tool``, ``results`` with ``uid``, ``status``,
``type``, ``properties``, ``files`` with their ``sdc``, ``outcome``, ``command``,
``summary``, ``timestamp``, ``comments``, ``exception``), so SACRO's viewer and ACRO's own
``load_records`` read it.

What it does not say, because the file is published with the tables: *which* suppressed cell
was primary and which secondary. Knowing that a cell was suppressed for the threshold tells an
intruder it is below the threshold, narrowing the protected interval; the primary reasons are
given as counts only, as in each table's ``.check.json``. Timestamps are fixed (the reports
are byte-identical run to run).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fdac_research import __version__
from fdac_research._io import atomic_file, write_json

if TYPE_CHECKING:
    from fdac_research.risk.tables import TableCheckResult

__all__ = [
    "RESULTS_FILE",
    "ACRO_FORMAT_VERSION",
    "record_output",
    "record_table",
    "read_results",
    "outcome_of",
]

RESULTS_FILE = "results.json"
#: The ACRO release whose results.json layout is written (its ``load_records`` checks it).
ACRO_FORMAT_VERSION = "1.0.2"
#: Timestamps are fixed so that a run's reports are byte-identical.
FIXED_TIMESTAMP = "1970-01-01T00:00:00"

#: Our primary reasons under ACRO's check names.
ACRO_CHECKS = {
    "threshold": "MinimumThresholdCheck",
    "zero": "PresenceOfZeroCheck",
    "p_percent": "PPercentCheck",
    "dominance": "NKCheck",
}


def read_results(tables_dir: Path | str) -> dict[str, Any]:
    """The run's record so far (an empty record when none was written)."""
    path = Path(tables_dir) / RESULTS_FILE
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return {
        "version": ACRO_FORMAT_VERSION,
        "tool": {
            "@type": "SoftwareApplication",
            "name": "fdac-research",
            "url": "https://github.com/fdac-research/fdac-research",
            "version": __version__,
        },
        "results": {},
    }


def _is_suppressed(published: pd.DataFrame, suppressed: str) -> np.ndarray:
    """Cell by cell, whether it is the suppression mark (missing values are not)."""
    cells = published.astype(object).to_numpy()
    return np.array(
        [[isinstance(v, str) and v == suppressed for v in row] for row in cells], dtype=bool
    ).reshape(cells.shape)


def outcome_of(published: pd.DataFrame, suppressed: str = "[c]") -> dict[str, dict[str, str]]:
    """ACRO's ``outcome``: per column, per row, ``"ok"`` or ``"suppressed; "``."""
    mask = _is_suppressed(published, suppressed)
    rows = [str(r) for r in published.index]
    return {
        str(c): {r: ("suppressed; " if mask[i, j] else "ok") for i, r in enumerate(rows)}
        for j, c in enumerate(published.columns)
    }


def suppressed_positions(published: pd.DataFrame, suppressed: str = "[c]") -> list[list[int]]:
    """``[row, column]`` positions of the suppressed cells (ACRO's ``cells`` lists)."""
    mask = _is_suppressed(published, suppressed)
    return [[int(i), int(j)] for i, j in zip(*mask.nonzero(), strict=True)]


def record_output(
    tables_dir: Path | str,
    name: str,
    *,
    status: str,
    method: str,
    checks: dict[str, int],
    summary: str,
    published: pd.DataFrame,
    properties: dict[str, Any] | None = None,
    comments: list[str] | None = None,
    exception: str = "",
) -> None:
    """Add or replace the entry of output ``name`` in ``<tables_dir>/results.json``.

    Parameters
    ----------
    status : {"pass", "review", "fail"}
        ACRO's status of the output.
    method : str
        The publishing function (``publish_table``, ``publish_estimates``, ...).
    checks : dict
        Check name -> number of cells (or rows) it flagged.
    summary : str
        ACRO-style one-line summary.
    published : pandas.DataFrame
        Exactly what was written (for the ``outcome`` and the suppressed cells).
    """
    if status not in ("pass", "review", "fail"):
        raise ValueError(f"status must be pass, review or fail, got {status!r}")
    record = read_results(tables_dir)
    cells = suppressed_positions(published)
    record["results"][name] = {
        "uid": name,
        "status": status,
        "type": "table",
        "properties": {"method": method, **(properties or {})},
        "files": [
            {
                "name": f"{name}.csv",
                "sdc": {
                    "summary": {**checks, "suppressed": bool(cells)},
                    "cells": {"suppressed": cells},
                },
            }
        ],
        "outcome": outcome_of(published),
        "command": f"{method}(..., {name!r}, ...)",
        "summary": summary,
        "timestamp": FIXED_TIMESTAMP,
        "comments": list(comments or []),
        "exception": exception,
        "fair": {},
    }
    path = Path(tables_dir) / RESULTS_FILE
    with atomic_file(path) as tmp:
        write_json(record, tmp)
    path.chmod(0o644)


def record_table(
    tables_dir: Path | str, name: str, res: TableCheckResult, *, registered: bool
) -> None:
    """A checked count table's entry (:func:`record_output`): cells flagged per check, the
    protection level, and whether it was audited with its population's other tables."""
    s = res.summary
    checks = {ACRO_CHECKS[k]: int(v) for k, v in s["primary_reasons"].items()}
    checks["SecondarySuppression"] = int(s["n_secondary"])
    checks["ProtectionLevelCheck"] = 0 if s["protected"] else 1
    checks["PresenceOfLinkedTableCheck"] = 0 if registered else 1
    parts = [f"{ACRO_CHECKS[k]}: {v} cell(s) suppressed" for k, v in s["primary_reasons"].items()]
    if s["n_secondary"]:
        parts.append(f"secondary: {s['n_secondary']} cell(s) suppressed to protect them")
    level = s["protection"]["min_interval"]
    parts.append(f"every suppressed cell's interval at least {level:g} wide")
    if registered:
        others = s.get("linked_with") or []
        parts.append(
            "audited with the other tables of its population: " + (", ".join(others) or "none yet")
        )
    else:
        parts.append("not registered with its population: check it against the other outputs")
    status = "pass" if registered and not (s["n_primary"] or s["n_secondary"]) else "review"
    record_output(
        tables_dir,
        name,
        status=status,
        method="publish_table",
        checks=checks,
        summary=f"{status}; " + "; ".join(parts),
        published=res.published,
        properties={
            "rules": res.rules.name,
            "mitigation": "suppress"
            + (f", round to {res.rules.round_base}" if res.rules.round_base else ""),
            "protection": s["protection"],
        },
        comments=[f"rules: {json.dumps(res.rules.to_dict(), sort_keys=True)}"],
    )
