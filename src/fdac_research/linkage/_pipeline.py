"""Link a sources folder: court people (the reference) to each agency, write the crosswalk."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research._io import atomic_dir, write_json, write_table
from fdac_research._progress import progress
from fdac_research.dataset import load_sources
from fdac_research.exceptions import ConfigError, ContractError, Problem
from fdac_research.linkage._config import LinkageModelConfig
from fdac_research.linkage._evaluate import (
    clerical_sample,
    estimate_from_labels,
    evaluate_crosswalk,
    read_clerical_labels,
    read_truth,
    threshold_curve,
)
from fdac_research.linkage._model import LinkageModel
from fdac_research.linkage._prepare import nickname_key_map, prepare
from fdac_research.linkage._uk import uk_person_model

__all__ = ["LinkResult", "link_sources", "load_model_file"]

log = logging.getLogger(__name__)

REFERENCE = "court"


@dataclass
class LinkResult:
    """What :func:`link_sources` produced (also written to the output folder)."""

    out: Path
    crosswalk: pd.DataFrame
    quality: pd.DataFrame
    models: dict[str, LinkageModelConfig]
    pairs: dict[str, pd.DataFrame] = field(repr=False)
    evaluation: dict[str, Any] | None = None
    curves: pd.DataFrame | None = None


def load_model_file(path: Path | str) -> tuple[LinkageModelConfig, dict[str, LinkageModelConfig]]:
    """Read ``--model``: a model config JSON/YAML, or a ``model.json`` written by a previous
    run (one fitted model per agency). Returns ``(base, fitted_by_agency)``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.suffix == ".json" else None
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"linkage model file {path}", [str(err)]) from err
    if isinstance(data, dict) and "fitted" in data and "base" in data:
        base = LinkageModelConfig.from_dict(data["base"])
        fitted = {a: LinkageModelConfig.from_dict(d) for a, d in sorted(data["fitted"].items())}
        return base, fitted
    return LinkageModelConfig.from_file(path), {}


def _court_frame(court_people: pd.DataFrame) -> pd.DataFrame:
    return court_people.rename(columns={"person_ref": "record_id"})


def link_sources(
    sources: Path | str,
    out: Path | str,
    *,
    model: LinkageModelConfig | None = None,
    fitted: dict[str, LinkageModelConfig] | None = None,
    engine: str = "splink",
    backend: str = "duckdb",
    seed: int = 0,
    agencies: list[str] | None = None,
    labels: Path | str | None = None,
    n_review: int = 25,
    charts: bool = True,
    engine_options: dict[str, Any] | None = None,
) -> LinkResult:
    """Link court people to every agency extract and write the linkage folder.

    Parameters
    ----------
    sources : path
        A sources folder (DATA-CONTRACT.md §1), validated first.
    out : path
        Output folder, written atomically: ``crosswalk.csv``, ``model.json``,
        ``linkage_quality.csv``, ``evaluation.json`` (when ``truth/`` exists) or
        ``clerical_review.csv`` (when it does not), ``pairs/<agency>.csv`` and charts.
    model : LinkageModelConfig, optional
        The model (default :func:`uk_person_model`); trained per agency.
    fitted : dict, optional
        Already fitted models per agency (from a previous ``model.json``); no training.
    engine, backend : str
        ``splink`` (``duckdb``/``spark``) or ``recordlinkage``.
    seed : int
        Seed of u sampling and the clerical sample.
    agencies : list of str, optional
        Link only these agencies (default: every extract in the folder).
    labels : path, optional
        A reviewed clerical sample: precision and recall are estimated from it and its
        matching pairs inform m.
    n_review : int
        Pairs per agency and probability band in the clerical sample.
    charts : bool
        Save PNG charts into the folder.
    engine_options : dict, optional
        Passed to the engine.
    """
    src = load_sources(sources)
    base = model or uk_person_model()
    fitted = dict(fitted or {})
    court = _court_frame(src.court_people)
    available = sorted(src.agencies)
    chosen = available if agencies is None else list(agencies)
    missing = [a for a in chosen if a not in src.agencies]
    if missing or not chosen:
        raise ContractError(
            str(sources),
            [
                Problem(
                    f"agencies/{a}.csv",
                    None,
                    None,
                    None,
                    f"an agency extract (present: {available})",
                )
                for a in missing
            ]
            or [Problem("agencies/", None, None, None, "at least one agency extract")],
        )
    label_frame = read_clerical_labels(labels) if labels is not None else None
    truth = read_truth(sources)
    models: dict[str, LinkageModelConfig] = {}
    pairs_by: dict[str, pd.DataFrame] = {}
    parts = []
    court_keys: pd.DataFrame | None = None
    keys = nickname_key_map(base.nicknames)
    court_p = prepare(court, base, "court_people.csv", nickname_keys=keys)
    for agency in progress(chosen, desc="linking agencies", total=len(chosen)):
        frame = src.agencies[agency]
        data = {REFERENCE: court, agency: frame}
        cfg = fitted.get(agency)
        _check_same_columns(base, cfg, agency)
        prepped = {
            REFERENCE: court_p,
            agency: prepare(frame, base, f"agencies/{agency}.csv", nickname_keys=keys),
        }
        options = {"skip_within": (REFERENCE,), **(engine_options or {})}
        lm = LinkageModel(
            cfg or base, engine=engine, backend=backend, seed=seed, engine_options=options
        )
        if cfg is None or not cfg.is_fitted:
            lab = None
            if label_frame is not None:
                lab = label_frame[label_frame["agency"] == agency]
            lm.fit(prepped, labels=lab, prepared=True)
        fm = lm._fitted()
        models[agency] = fm
        pairs = lm.predict(prepped, prepared=True)
        pairs_by[agency] = pairs
        t0 = time.perf_counter()
        clusters = lm.cluster(data, pairs, threshold=fm.match_threshold, duplicate_free=[REFERENCE])
        log.info("clustered %s (%.1f s)", agency, time.perf_counter() - t0)
        if court_keys is None:
            court_keys = clusters[clusters["source"] == REFERENCE]
        parts.append(clusters[clusters["source"] == agency])
        log.info("linked %s: %d records, %d candidate pairs kept", agency, len(frame), len(pairs))
    assert court_keys is not None
    crosswalk = pd.concat([court_keys, *parts], ignore_index=True)[
        ["source", "record_id", "person_key", "match_probability"]
    ]
    _check_crosswalk(crosswalk, court, {a: src.agencies[a] for a in chosen})

    evaluation = curves = None
    est = None
    if truth is not None:
        evaluation = {
            "reference": REFERENCE,
            "agencies": {a: evaluate_crosswalk(crosswalk, truth, a, REFERENCE) for a in chosen},
        }
        curves = pd.concat(
            [threshold_curve(pairs_by[a], truth, a, REFERENCE) for a in chosen], ignore_index=True
        )
    elif label_frame is not None:
        est = (
            pd.concat(
                [
                    estimate_from_labels(
                        label_frame[label_frame["agency"] == a], models[a].match_threshold
                    )
                    for a in chosen
                    if (label_frame["agency"] == a).any()
                ],
                ignore_index=True,
            )
            if (label_frame["agency"].isin(chosen)).any()
            else None
        )
    quality = _quality(crosswalk, chosen, models, evaluation, est)

    out = Path(out)
    with atomic_dir(out) as tmp:
        write_table(crosswalk, tmp / "crosswalk.csv")
        write_table(quality, tmp / "linkage_quality.csv")
        write_json(
            {
                "schema_version": 1,
                "engine": engine,
                "backend": backend if engine == "splink" else "pandas",
                "seed": seed,
                "reference": REFERENCE,
                "base": base.to_dict(),
                "fitted": {a: m.to_dict() for a, m in models.items()},
            },
            tmp / "model.json",
        )
        for a, p in pairs_by.items():
            write_table(p, tmp / "pairs" / f"{a}.csv")
        if evaluation is not None:
            write_json(evaluation, tmp / "evaluation.json")
            write_table(curves, tmp / "threshold_curve.csv")  # type: ignore[arg-type]
        else:
            records = {REFERENCE: court, **{a: src.agencies[a] for a in chosen}}
            sample = clerical_sample(
                pd.concat(pairs_by.values(), ignore_index=True), records, n_review, seed, REFERENCE
            )
            write_table(sample, tmp / "clerical_review.csv")
        if charts:
            from fdac_research.linkage._charts import save_link_charts

            examples = {
                a: _example_gamma(models[a], court, src.agencies[a], pairs_by[a], a) for a in chosen
            }
            save_link_charts(
                tmp, models, pairs_by, curves, {a: g for a, g in examples.items() if g is not None}
            )
    return LinkResult(out, crosswalk, quality, models, pairs_by, evaluation, curves)


def _example_gamma(
    model: LinkageModelConfig,
    court: pd.DataFrame,
    agency: pd.DataFrame,
    pairs: pd.DataFrame,
    name: str,
) -> dict[str, int] | None:
    """Comparison levels of the reference-agency pair closest to the threshold (for a
    waterfall chart), or None when there is no such pair."""
    from fdac_research.linkage._levels import comparison_vectors
    from fdac_research.linkage._prepare import prepare

    p = pairs[(pairs["source_l"] == REFERENCE) & (pairs["source_r"] == name)]
    if p.empty:
        return None
    gap = (p["match_probability"] - model.match_threshold).abs().to_numpy()
    row = p.iloc[int(np.argmin(gap))]
    left = court[court["record_id"].astype(str) == row["id_l"]]
    right = agency[agency["record_id"].astype(str) == row["id_r"]]
    lp, rp = prepare(left, model, REFERENCE), prepare(right, model, name)
    g = comparison_vectors(model, lp, rp, np.array([0]), np.array([0]))
    return {c.removeprefix("gamma_"): int(g[c].iloc[0]) for c in g.columns}


def _check_same_columns(
    base: LinkageModelConfig, cfg: LinkageModelConfig | None, agency: str
) -> None:
    if cfg is not None and (cfg.columns != base.columns or cfg.nicknames != base.nicknames):
        raise ConfigError(
            f"fitted model for {agency}",
            [
                "its columns or nickname table differ from the base model's; refit or use one model file"
            ],
        )


def _check_crosswalk(
    cw: pd.DataFrame, court: pd.DataFrame, agencies: dict[str, pd.DataFrame]
) -> None:
    """Every court person and agency record exactly once; never an empty crosswalk."""
    expected = len(court) + sum(len(f) for f in agencies.values())
    dup = cw.duplicated(["source", "record_id"]).any()
    if len(cw) != expected or dup or cw["person_key"].eq("").any():
        raise RuntimeError(
            f"internal error: crosswalk has {len(cw)} rows for {expected} records (duplicates: {bool(dup)})"
        )


def _quality(
    cw: pd.DataFrame,
    chosen: list[str],
    models: dict[str, LinkageModelConfig],
    evaluation: dict[str, Any] | None,
    est: pd.DataFrame | None,
) -> pd.DataFrame:
    court_keys = set(cw.loc[cw["source"] == REFERENCE, "person_key"])
    rows = []
    for a in chosen:
        sub = cw[cw["source"] == a]
        row: dict[str, Any] = {
            "agency": a,
            "n_records": int(len(sub)),
            "n_linked": int(sub["person_key"].isin(court_keys).sum()),
            "match_threshold": float(models[a].match_threshold),
            "precision": np.nan,
            "recall": np.nan,
        }
        if evaluation is not None:
            e = evaluation["agencies"][a]["links"]
            row["precision"], row["recall"] = e["precision"], e["recall"]
        elif est is not None and (est["agency"] == a).any():
            r = est[est["agency"] == a].iloc[0]
            row["precision"], row["recall"] = r["precision"], r["recall"]
        rows.append(row)
    return pd.DataFrame(rows)
