"""Family-level opt-outs as the build applies them; the rules live in
:mod:`fdac_research.objections` (shared with linkage, which leaves objecting families out of
every count it writes).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fdac_research.dataset import Sources
from fdac_research.exceptions import ConfigError, ContractError, Problem
from fdac_research.objections import OptOutResolution, disclosed_count, resolve_objections

__all__ = [
    "OptOutResolution",
    "resolve_opt_outs",
    "check_every_objection_applied",
    "disclosed_count",
    "check_out_path",
]


def check_out_path(out: Path | str, *inputs: Path | str) -> None:
    """Refuse an output folder that is, or contains, one of the ``inputs`` (it would be
    replaced wholesale by the atomic write)."""
    o = Path(out).resolve()
    for i in inputs:
        r = Path(i).resolve()
        if o == r or o in r.parents:
            raise ConfigError(
                "output folder", [f"{o} would replace the input folder {r}; choose another --out"]
            )


def resolve_opt_outs(sources: Sources, crosswalk: pd.DataFrame) -> OptOutResolution:
    """Turn the opt-out register into sets of affected cases (see the module docstring).

    Parameters
    ----------
    sources : Sources
        Loaded (validated) sources; the register is ``sources.opt_outs``.
    crosswalk : pandas.DataFrame
        The checked crosswalk (:func:`read_crosswalk`).
    """
    court = crosswalk[crosswalk["source"] == "court"]
    key_of = pd.Series(court["person_key"].to_numpy(), index=court["record_id"].to_numpy())
    return resolve_objections(sources.opt_outs, sources.court_people, key_of)


def check_every_objection_applied(sources: Sources, resolution: OptOutResolution) -> None:
    """Raise unless every row of the register took effect.

    An ``all_research`` objection must have removed the case it names (or the case of the
    person it names); an ``external_sharing`` one must have removed or withheld it. The
    register is validated before this runs (scopes, references), so a failure here means an
    objection would have been lost: the build stops and names the row, never the person.
    """
    opt = sources.opt_outs
    if opt.empty:
        return
    case_of = pd.Series(
        sources.court_people["case_ref"].to_numpy(), index=sources.court_people["person_ref"]
    )
    case_of = case_of[~case_of.index.duplicated()]
    named = opt["case_ref"].where(opt["case_ref"].notna(), opt["person_ref"].map(case_of))
    removed = set(resolution.removed)
    honoured = removed | set(resolution.external_only)
    for i, (scope, case) in enumerate(zip(opt["scope"], named, strict=True)):
        done = removed if scope == "all_research" else honoured
        if (
            scope not in ("all_research", "external_sharing")
            or not isinstance(case, str)
            or case not in done
        ):
            raise ContractError(
                "opt-out register",
                [
                    Problem(
                        "opt_outs.csv",
                        "scope",
                        int(i) + 2,
                        str(scope),
                        "an objection the build can apply (it would have been lost: the "
                        "build stops rather than keep an objecting family)",
                    )
                ],
            )
