"""Report tables: estimates side by side, and estimates against planted truth."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from fdac_research.analysis._errors import AnalysisError
from fdac_research.analysis._results import EffectResult

__all__ = ["estimates_table", "compare_with_truth", "load_effects"]

_MEASURES = ("risk_difference", "odds_ratio")


def _results(results: Iterable[EffectResult]) -> list[EffectResult]:
    out: list[EffectResult] = [results] if isinstance(results, EffectResult) else list(results)
    bad = [type(r).__name__ for r in out if not isinstance(r, EffectResult)]
    if bad:
        raise AnalysisError(f"expected EffectResult objects, got {sorted(set(bad))}")
    if not out:
        raise AnalysisError("no estimates given")
    return out


def estimates_table(results: Iterable[EffectResult], *, decimals: int = 3) -> pd.DataFrame:
    """One row per estimate: method, estimand, counts, arm probabilities, RD and OR with CIs.

    Rounded to ``decimals`` places. Counts are rows and clusters used, for the reader and
    for the output check.
    """
    rows = []
    for r in _results(results):
        rd, or_ = r.risk_difference, r.odds_ratio
        rows.append(
            {
                "outcome": r.outcome,
                "population": r.population,
                "method": r.method,
                "estimand": r.estimand,
                "n": r.n,
                "n_treated": r.n_treated,
                "n_untreated": r.n_untreated,
                "n_clusters": r.n_clusters,
                "p_treated": r.p_treated,
                "p_untreated": r.p_untreated,
                "risk_difference": rd.value,
                "rd_ci_low": rd.ci_low,
                "rd_ci_high": rd.ci_high,
                "odds_ratio": or_.value,
                "or_ci_low": or_.ci_low,
                "or_ci_high": or_.ci_high,
                "variance": r.variance,
            }
        )
    df = pd.DataFrame(rows)
    num = df.select_dtypes("float").columns
    df[num] = df[num].round(decimals)
    return df


def load_effects(effects: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """Read ``truth/effects.json`` (a path) or pass a mapping through, checking its type."""
    if isinstance(effects, str | Path):
        path = Path(effects)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise AnalysisError(f"effects file {path} does not exist") from err
        except json.JSONDecodeError as err:
            raise AnalysisError(f"effects file {path} is not valid JSON: {err}") from err
        where = str(path)
    else:
        data, where = effects, "effects"
    if not isinstance(data, Mapping):
        raise AnalysisError(
            f"{where}: expected a JSON object of outcome keys, got {type(data).__name__}"
        )
    # generate_world writes {"effects": {...}, parameters...}; accept both layouts
    if "effects" in data and isinstance(data["effects"], Mapping):
        data = data["effects"]
    return dict(data)


def _truth(effects: Mapping[str, Any], key: str, estimand: str, measure: str) -> float:
    if key not in effects:
        raise AnalysisError(f"effects have no entry {key!r}; available: {sorted(effects)}")
    entry = effects[key]
    est = estimand.lower()
    if not isinstance(entry, Mapping) or est not in entry or not isinstance(entry[est], Mapping):
        have = sorted(entry) if isinstance(entry, Mapping) else type(entry).__name__
        raise AnalysisError(f"effects[{key!r}] has no {est!r} block; it has {have}")
    block = entry[est]
    if measure not in block:
        raise AnalysisError(f"effects[{key!r}][{est!r}] has no {measure!r}; it has {sorted(block)}")
    try:
        return float(block[measure])
    except (TypeError, ValueError) as err:
        raise AnalysisError(
            f"effects[{key!r}][{est!r}][{measure!r}] is not a number: {block[measure]!r}"
        ) from err


def compare_with_truth(
    estimates: Iterable[EffectResult], effects_json: Mapping[str, Any] | str | Path
) -> pd.DataFrame:
    """Each estimate's RD and OR against the planted effect of a synthetic world.

    Parameters
    ----------
    estimates : iterable of EffectResult
    effects_json : path or mapping
        ``truth/effects.json``: per key ``<outcome>_<population>`` (for example
        ``reunified_children``, ``ceased_misuse_mothers``) an ``ate`` and an ``att`` block
        with ``risk_difference``, ``odds_ratio``, ``p_treated``, ``p_untreated``. The naive
        contrast is compared with the ATE.

    Returns
    -------
    pandas.DataFrame
        ``key, method, estimand, measure, estimate, ci_low, ci_high, truth, bias, covered``.

    Raises
    ------
    AnalysisError
        Naming the missing key, block or measure.
    """
    effects = load_effects(effects_json)
    rows = []
    for r in _results(estimates):
        estimand = "ATT" if r.estimand == "ATT" else "ATE"
        for m in _MEASURES:
            e = r.measure(m)
            truth = _truth(effects, r.key, estimand, m)
            rows.append(
                {
                    "key": r.key,
                    "method": r.method,
                    "estimand": r.estimand,
                    "truth_estimand": estimand,
                    "measure": m,
                    "estimate": e.value,
                    "ci_low": e.ci_low,
                    "ci_high": e.ci_high,
                    "truth": truth,
                    "bias": e.value - truth,
                    "covered": e.covers(truth),
                }
            )
    return pd.DataFrame(rows)
