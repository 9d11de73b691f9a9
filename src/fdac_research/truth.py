"""The ``truth/`` folder of a synthetic world: what makes a folder synthetic, and reading the
truth when it follows the documented layout.

A sources folder is **synthetic** when it holds a ``truth/`` folder with at least one of the
documented truth files (``people.csv``, ``agency_links.csv``, ``effects.json``), whatever
their layout: real data never carries a record of who everyone truly is. That is all
``--demo-key`` checks (it guards against accidents, not against someone who plants a fake
``truth/`` on purpose), and nothing here parses effect blocks to decide it.

Truth is *used* only when it follows the documented layout (docs/data-contract.md, "Truth of
a synthetic world"); otherwise every comparison with it is skipped with a note saying why,
never an error:

* ``truth/people.csv``: ``person_ref``, ``true_person_id`` (more columns allowed);
* ``truth/agency_links.csv``: ``agency``, ``record_id``, ``true_person_id``;
* ``truth/effects.json``: ``{"effects": {"<outcome>_<population>": {"ate": {...},
  "att": {...}}}}`` (or the ``effects`` mapping itself), each block holding numbers such as
  ``odds_ratio`` and ``risk_difference``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from fdac_research._io import read_text_table
from fdac_research.exceptions import ContractError

__all__ = [
    "TRUTH_FILES",
    "TruthLinks",
    "TruthEffects",
    "is_synthetic",
    "read_truth_links",
    "read_truth_effects",
]

#: The documented truth files and their required columns (``effects.json``: see module doc).
TRUTH_FILES: dict[str, tuple[str, ...]] = {
    "people.csv": ("person_ref", "true_person_id"),
    "agency_links.csv": ("agency", "record_id", "true_person_id"),
    "effects.json": (),
}
_ESTIMANDS = ("ate", "att")


def is_synthetic(sources: Path | str) -> bool:
    """Whether ``sources`` is a synthetic world (see the module docstring)."""
    truth = Path(sources) / "truth"
    return truth.is_dir() and any((truth / name).is_file() for name in TRUTH_FILES)


@dataclass(frozen=True)
class TruthLinks:
    """Who every court person and agency record truly is, or why that is not known.

    ``frame`` has ``source`` (``court`` or the agency), ``record_id`` and ``true_id``; it is
    ``None`` when the truth is absent or not in the documented layout, and ``note`` says why.
    """

    frame: pd.DataFrame | None
    note: str


def _columns_note(path: Path, need: tuple[str, ...], have: list[str]) -> str | None:
    missing = [c for c in need if c not in have]
    if missing:
        return (
            f"truth/{path.name} does not follow the documented layout (no column "
            f"{', '.join(repr(c) for c in missing)}): comparison with the truth skipped"
        )
    return None


def read_truth_links(sources: Path | str) -> TruthLinks:
    """The true identity of every record, from ``truth/people.csv`` and
    ``truth/agency_links.csv`` when both follow the documented layout."""
    truth = Path(sources) / "truth"
    frames = {}
    for name in ("people.csv", "agency_links.csv"):
        path = truth / name
        if not path.is_file():
            return TruthLinks(None, f"no truth/{name}: these data have no known true links")
        try:
            df = read_text_table(path, name=f"truth/{name}")
        except ContractError as err:
            return TruthLinks(None, f"truth/{name} could not be read ({err.problems[0]})")
        note = _columns_note(path, TRUTH_FILES[name], list(df.columns))
        if note:
            return TruthLinks(None, note)
        frames[name] = df.apply(lambda c: c.str.strip())
    people, links = frames["people.csv"], frames["agency_links.csv"]
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "source": "court",
                    "record_id": people["person_ref"],
                    "true_id": people["true_person_id"],
                }
            ),
            pd.DataFrame(
                {
                    "source": links["agency"],
                    "record_id": links["record_id"],
                    "true_id": links["true_person_id"],
                }
            ),
        ],
        ignore_index=True,
    )
    return TruthLinks(frame, "true links from truth/people.csv and truth/agency_links.csv")


@dataclass(frozen=True)
class TruthEffects:
    """The planted effects that follow the documented layout, or why there are none.

    ``effects`` maps ``<outcome>_<population>`` to ``{"ate": {...}, "att": {...}}`` blocks of
    finite numbers (entries not in that layout are left out and counted in ``note``).
    """

    effects: dict[str, Any] | None
    note: str


def _good_block(block: Any) -> bool:
    return (
        isinstance(block, Mapping)
        and bool(block)
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for k, v in block.items()
            if k in ("odds_ratio", "risk_difference", "risk_ratio", "p_treated", "p_untreated")
        )
        and any(k in block for k in ("odds_ratio", "risk_difference"))
    )


def read_truth_effects(sources: Path | str) -> TruthEffects:
    """The planted effects of ``truth/effects.json`` (see the module docstring)."""
    if not sources:
        return TruthEffects(None, "no sources folder: there is no planted truth to compare with")
    path = Path(sources) / "truth" / "effects.json"
    if not path.is_file():
        return TruthEffects(
            None, "no truth/effects.json: these data have no planted effects to compare with"
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return TruthEffects(
            None, f"truth/effects.json could not be read as JSON ({type(err).__name__})"
        )
    data = doc.get("effects", doc) if isinstance(doc, Mapping) else None
    if not isinstance(data, Mapping):
        return TruthEffects(
            None,
            "truth/effects.json does not follow the documented layout (a JSON object of "
            "outcome entries): comparison with the truth skipped",
        )
    good: dict[str, Any] = {}
    skipped = []
    for key, entry in data.items():
        blocks = (
            {e: entry[e] for e in _ESTIMANDS if _good_block(entry.get(e))}
            if isinstance(entry, Mapping)
            else {}
        )
        if blocks:
            good[str(key)] = blocks
        else:
            skipped.append(str(key))
    if not good:
        return TruthEffects(
            None,
            "truth/effects.json does not follow the documented layout (no entry with an "
            "'ate' or 'att' block of odds_ratio / risk_difference): comparison with the "
            "truth skipped",
        )
    note = "planted effects from truth/effects.json"
    if skipped:
        note += f" ({len(skipped)} entr{'y' if len(skipped) == 1 else 'ies'} not in the documented layout left out)"
    return TruthEffects(good, note)
