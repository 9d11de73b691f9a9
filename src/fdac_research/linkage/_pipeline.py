"""Link a sources folder: de-duplicate court people across cases (the reference), link each
agency to the court persons, write the crosswalk."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research._io import atomic_dir, write_json, write_table
from fdac_research._progress import progress
from fdac_research.dataset import typed_contract_columns
from fdac_research.exceptions import ConfigError, ContractError, Problem
from fdac_research.linkage._charts import save_agency_charts, save_precision_recall
from fdac_research.linkage._config import LinkageModelConfig
from fdac_research.linkage._court import CourtPersons, dedupe_court, to_persons
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
from fdac_research.linkage._tables import evaluate_clusters
from fdac_research.linkage._uk import uk_person_model
from fdac_research.objections import drop_objectors, resolve_objections
from fdac_research.reading import read_table
from fdac_research.validation import validated_tables

__all__ = [
    "CONTROLLER_NOTICE",
    "LinkResult",
    "link_sources",
    "load_court_model",
    "load_model_file",
    "write_controller_notice",
]

log = logging.getLogger(__name__)

REFERENCE = "court"

#: ``README.txt`` of every linkage folder.
CONTROLLER_NOTICE = """\
CONTROLLER-SIDE LINKAGE FILES: DO NOT COPY OUT OF THE SECURE ENVIRONMENT.

This folder was written by `fdac-research link`. It holds the record ids of the identifiable
sources (crosswalk.csv, pairs/), and clerical_review.csv holds names, dates of birth and
postcodes side by side. It must stay with the data controller, like the sources themselves.
Only the research folder built from it (`fdac-research build`) and the output-checked
reports may be used further; see docs/tre.md of fdac-research.
"""


def write_controller_notice(folder: Path | str) -> Path:
    """Write :data:`CONTROLLER_NOTICE` as ``README.txt`` in a linkage folder; returns its path."""
    path = Path(folder) / "README.txt"
    path.write_text(CONTROLLER_NOTICE, encoding="utf-8")
    return path


@dataclass
class LinkResult:
    """What :func:`link_sources` produced (also written to the output folder)."""

    out: Path
    crosswalk: pd.DataFrame
    quality: pd.DataFrame
    models: dict[str, LinkageModelConfig]
    pairs_dir: Path
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


def load_court_model(path: Path | str) -> LinkageModelConfig | None:
    """The fitted court de-duplication model of a ``model.json`` written by
    :func:`link_sources` (``court_dedupe``), or None when the file has none. Pass it as
    ``fitted["court"]`` to reuse it without training."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.suffix == ".json" else None
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"linkage model file {path}", [str(err)]) from err
    if isinstance(data, dict) and isinstance(data.get("court_dedupe"), dict):
        return LinkageModelConfig.from_dict(data["court_dedupe"])
    return None


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
    dedupe_court: bool = True,
) -> LinkResult:
    """De-duplicate court people across cases, link every agency extract to the court
    persons and write the linkage folder.

    First the court's people of different cases are scored against each other and clustered
    into persons (:func:`fdac_research.linkage._court.dedupe_court`; two people of one case
    are never one person). Then each agency is linked to the court records, and each agency
    record joins at most one court *person* (its best link over the person's records), so a
    mother in two cases and her agency records share one ``person_key``.

    Parameters
    ----------
    sources : path
        A sources folder (docs/data-contract.md §1), validated first.
    out : path
        Output folder, written atomically: ``crosswalk.csv``, ``model.json``,
        ``linkage_quality.csv``, ``evaluation.json`` (when ``truth/`` exists) or
        ``clerical_review.csv`` (when it does not), ``pairs/<agency>.parquet`` (scored
        candidate pairs) and ``charts/``.
    model : LinkageModelConfig, optional
        The model (default :func:`uk_person_model`); trained per agency, and on the court
        alone for its de-duplication (default ``uk_person_model(dedupe=True)``).
    fitted : dict, optional
        Already fitted models per agency (from a previous ``model.json``); no training. Key
        ``court`` holds the court de-duplication model (:func:`load_court_model`).
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
    dedupe_court : bool
        De-duplicate the court across cases first (default). ``False`` keeps one person per
        court row, as before de-duplication existed.
    """
    folder = Path(sources)
    court, agency_paths, opt_outs = _load_reference(folder)
    base = model or uk_person_model()
    fitted = dict(fitted or {})
    court_fitted = fitted.pop(REFERENCE, None)
    available = sorted(agency_paths)
    chosen = available if agencies is None else list(agencies)
    missing = [a for a in chosen if a not in agency_paths]
    if missing or not chosen:
        expected = f"an agency extract (present: {available})"
        raise ContractError(
            str(sources),
            [Problem(f"agencies/{a}.csv", None, None, None, expected) for a in missing]
            or [Problem("agencies/", None, None, None, "at least one agency extract")],
        )
    for a, cfg in fitted.items():
        _check_same_columns(base, cfg, a)
    label_frame = read_clerical_labels(labels) if labels is not None else None
    truth = read_truth(folder)
    keys = nickname_key_map(base.nicknames)
    court_p = prepare(court, base, "court_people.csv", nickname_keys=keys)
    # the court is de-duplicated with the de-duplication form of the default model (its EM
    # sessions suit rare matches), or with the model given
    court_base = uk_person_model(dedupe=True) if model is None else base
    persons = _court_persons(
        court,
        court_p,
        court_base,
        court_fitted,
        dedupe_court,
        engine,
        backend,
        seed,
        engine_options,
    )
    court_keys = persons.keys
    # Families who objected to all research are linked (the build needs their links to find
    # the same objector elsewhere) but left out of every count, sample, chart and pair file
    # this stage writes; an objector's other cases (the same court person) go with them.
    objecting = _objecting(opt_outs, court, court_keys)
    heads = court[court["record_id"].astype(str).isin(set(persons.head.to_numpy()))]
    models: dict[str, LinkageModelConfig] = {}
    parts: list[pd.DataFrame] = []
    evaluation: dict[str, Any] | None = (
        {"reference": REFERENCE, "agencies": {}} if truth is not None else None
    )
    if evaluation is not None and truth is not None and persons.model is not None:
        evaluation["court"] = _evaluate_court(persons, truth, objecting)
    curves: list[pd.DataFrame] = []
    samples: list[pd.DataFrame] = []
    estimates: list[pd.DataFrame] = []
    out = Path(out)
    with atomic_dir(out) as tmp:
        steps = progress(chosen, desc="linking agencies", status=lambda a: a)
        for i, agency in enumerate(steps):
            frame = agency_paths[agency]()
            prepped = {
                REFERENCE: court_p,
                agency: prepare(frame, base, f"agencies/{agency}.csv", nickname_keys=keys),
            }
            given = fitted.get(agency)
            options = {"skip_within": (REFERENCE,), **(engine_options or {})}
            lm = LinkageModel(
                given or base, engine=engine, backend=backend, seed=seed, engine_options=options
            )
            lab = None if label_frame is None else label_frame[label_frame["agency"] == agency]
            if given is None or not given.is_fitted:
                lm.fit(prepped, labels=lab, prepared=True)
            fm = lm._fitted()
            models[agency] = fm
            pairs = lm.predict(prepped, prepared=True)
            del prepped
            t0 = time.perf_counter()
            # agency records join court persons (each person named by its head record)
            data = {REFERENCE: heads, agency: frame}
            clusters = lm.cluster(
                data,
                to_persons(pairs, persons.head, REFERENCE),
                threshold=fm.match_threshold,
                duplicate_free=[REFERENCE],
            )
            log.info("clustered %s (%.1f s)", agency, time.perf_counter() - t0)
            part = clusters[clusters["source"] == agency]
            parts.append(part)
            sub = None if truth is None else truth[truth["source"].isin([REFERENCE, agency])]
            kept_cw, pairs, sub = _without_objectors(
                court_keys, part, pairs, sub, objecting, agency
            )
            (tmp / "pairs").mkdir(exist_ok=True)
            pairs.to_parquet(tmp / "pairs" / f"{agency}.parquet", index=False)
            if sub is not None and evaluation is not None:
                evaluation["agencies"][agency] = evaluate_crosswalk(kept_cw, sub, agency, REFERENCE)
                curves.append(threshold_curve(pairs, sub, agency, REFERENCE))
            else:
                records = {REFERENCE: court, agency: frame}
                samples.append(clerical_sample(pairs, records, n_review, [seed, i], REFERENCE))
                if lab is not None and len(lab):
                    estimates.append(estimate_from_labels(lab, fm.match_threshold))
            if charts:
                example = _example_gamma(fm, court, frame, pairs, agency)
                save_agency_charts(tmp, agency, fm, pairs, example)
            log.info(
                "linked %s: %d records, %d candidate pairs kept", agency, len(frame), len(pairs)
            )
            del pairs, clusters, frame
        crosswalk = pd.concat([court_keys, *parts], ignore_index=True)[
            ["source", "record_id", "person_key", "match_probability"]
        ]
        _check_crosswalk(
            crosswalk, len(court), {a: int((crosswalk["source"] == a).sum()) for a in chosen}
        )
        curve = pd.concat(curves, ignore_index=True) if curves else None
        est = pd.concat(estimates, ignore_index=True) if estimates else None
        quality = _quality(
            drop_objectors(crosswalk, objecting, REFERENCE), chosen, models, evaluation, est
        )
        write_controller_notice(tmp)
        write_table(_formatted(crosswalk), tmp / "crosswalk.csv")
        write_table(quality, tmp / "linkage_quality.csv")
        model_json: dict[str, Any] = {
            "schema_version": 1,
            "engine": engine,
            "backend": backend if engine == "splink" else "pandas",
            "seed": seed,
            "reference": REFERENCE,
            "base": base.to_dict(),
            "fitted": {a: m.to_dict() for a, m in models.items()},
        }
        if persons.note:
            model_json["court_dedupe_note"] = persons.note
        if persons.model is not None:
            model_json["court_dedupe"] = persons.model.to_dict()
            (tmp / "pairs").mkdir(exist_ok=True)
            court_pairs = _without_court_objectors(persons.pairs, objecting)
            court_pairs.to_parquet(tmp / "pairs" / f"{REFERENCE}.parquet", index=False)
        write_json(model_json, tmp / "model.json")
        if evaluation is not None and curve is not None:
            write_json(evaluation, tmp / "evaluation.json")
            write_table(curve, tmp / "threshold_curve.csv")
            if charts:
                save_precision_recall(tmp, curve, base.match_threshold)
        else:
            write_table(pd.concat(samples, ignore_index=True), tmp / "clerical_review.csv")
    return LinkResult(out, crosswalk, quality, models, out / "pairs", evaluation, curve)


def _court_persons(
    court: pd.DataFrame,
    court_p: pd.DataFrame,
    base: LinkageModelConfig,
    fitted: LinkageModelConfig | None,
    run: bool,
    engine: str,
    backend: str,
    seed: int,
    engine_options: dict[str, Any] | None,
) -> CourtPersons:
    """The court's persons across cases (one per court row when ``run`` is False)."""
    if not run:
        from fdac_research.linkage._court import court_persons

        persons = court_persons(
            court, pd.DataFrame(columns=["id_l", "id_r", "match_probability"]), 1.0
        )
        persons.note = "not run (dedupe_court=False)"
        return persons
    if fitted is not None:
        _check_same_columns(base, fitted, "the court (de-duplication)")
    return dedupe_court(
        court,
        court_p,
        base,
        fitted=fitted,
        engine=engine,
        backend=backend,
        seed=seed,
        engine_options=engine_options,
        reference=REFERENCE,
    )


def _objecting(opt_outs: pd.DataFrame, court: pd.DataFrame, court_keys: pd.DataFrame) -> set[str]:
    """``person_ref`` of every court person in a case removed by an ``all_research``
    objection, following each objector into their other cases (the court person key)."""
    people = court.rename(columns={"record_id": "person_ref"})[["case_ref", "person_ref"]]
    key_of = pd.Series(
        court_keys["person_key"].to_numpy(), index=court_keys["record_id"].astype(str).to_numpy()
    )
    removed = resolve_objections(opt_outs, people, key_of).removed
    return set(people.loc[people["case_ref"].isin(removed), "person_ref"].astype(str))


def _without_court_objectors(pairs: pd.DataFrame, objecting: set[str]) -> pd.DataFrame:
    gone = pairs["id_l"].astype(str).isin(objecting) | pairs["id_r"].astype(str).isin(objecting)
    return pairs[~gone].reset_index(drop=True)


def _evaluate_court(
    persons: CourtPersons, truth: pd.DataFrame, objecting: set[str]
) -> dict[str, Any]:
    """Within-court precision, recall and F1 of the de-duplication against the truth (pairs
    of court records of different cases put in one person), objecting families left out."""
    keys = persons.keys[~persons.keys["record_id"].astype(str).isin(objecting)]
    t = truth[truth["source"] == REFERENCE].rename(columns={"true_id": "entity"})
    t = t[t["record_id"].astype(str).isin(set(keys["record_id"].astype(str)))]
    assert persons.model is not None
    scores = evaluate_clusters(
        keys,
        t,
        _without_court_objectors(persons.pairs, objecting),
        threshold=persons.model.match_threshold,
    )
    n_true = int(t["entity"].nunique())
    return {
        "n_records": int(len(keys)),
        "n_persons": int(keys["person_key"].nunique()),
        "n_true_persons": n_true,
        "match_threshold": float(persons.model.match_threshold),
        "clustered": scores["clustered"],
        "pairwise": scores.get("pairwise"),
        "measure": "pairs of court records (different cases) placed in one person",
    }


def _without_objectors(
    court_keys: pd.DataFrame,
    part: pd.DataFrame,
    pairs: pd.DataFrame,
    truth: pd.DataFrame | None,
    objecting: set[str],
    agency: str,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """One agency's crosswalk, pairs and truth with objecting families left out.

    Left out: the objecting court people, and every agency record linked to them by the
    model *or* (for evaluation) by the truth, from the predictions and the truth alike, so
    precision and recall are measured on the same records."""
    cw = pd.concat([court_keys, part])
    if not objecting:
        return cw, pairs, truth
    gone_keys = set(court_keys.loc[court_keys["record_id"].isin(objecting), "person_key"])
    gone = set(part.loc[part["person_key"].isin(gone_keys), "record_id"])
    if truth is not None:
        court_truth = truth[truth["source"] == REFERENCE]
        gone_true = set(court_truth.loc[court_truth["record_id"].isin(objecting), "true_id"])
        ag = truth[(truth["source"] == agency) & truth["true_id"].isin(gone_true)]
        gone |= set(ag["record_id"])
    drop_court = cw["record_id"].isin(objecting) & (cw["source"] == REFERENCE)
    drop_agency = cw["record_id"].isin(gone) & (cw["source"] == agency)
    cw = cw[~(drop_court | drop_agency)]

    def gone_side(side: str) -> pd.Series:
        src, ids = pairs[f"source_{side}"], pairs[f"id_{side}"]
        return ((src == REFERENCE) & ids.isin(objecting)) | ((src == agency) & ids.isin(gone))

    pairs = pairs[~(gone_side("l") | gone_side("r"))].reset_index(drop=True)
    if truth is not None:
        t_drop = ((truth["source"] == REFERENCE) & truth["record_id"].isin(objecting)) | (
            (truth["source"] == agency) & truth["record_id"].isin(gone)
        )
        truth = truth[~t_drop]
    return cw, pairs, truth


def _load_reference(
    folder: Path,
) -> tuple[pd.DataFrame, dict[str, Callable[[], pd.DataFrame]], pd.DataFrame]:
    """Validate the sources folder (reading every file once, under the same rules as
    ``validate``), type court people and return a loader per agency extract."""
    report, read, declared = validated_tables(folder, "sources")
    report.raise_if_failed()
    court = typed_contract_columns(read["court_people"], declared["court_people"])
    # Extracts are read again one at a time, under the same rules, so memory holds one
    # extract at once (at national scale the validated text of all of them would not fit).
    loaders: dict[str, Callable[[], pd.DataFrame]] = {}
    for name in sorted(read):
        if name.startswith("agencies/"):
            rt, table = read[name], declared[name]
            loaders[name.removeprefix("agencies/")] = partial(_read_agency, rt.path, table, rt.file)
    opt_outs = (
        typed_contract_columns(read["opt_outs"], declared["opt_outs"])
        if "opt_outs" in read
        else pd.DataFrame({c: pd.Series(dtype=object) for c in ("person_ref", "case_ref", "scope")})
    )
    del read
    return _court_frame(court), loaders, opt_outs


def _read_agency(path: Path, table: schema.Table, file: str) -> pd.DataFrame:
    return typed_contract_columns(read_table(path, table, file), table)


def _formatted(cw: pd.DataFrame) -> pd.DataFrame:
    """Crosswalk with ``match_probability`` as text (fast for millions of rows)."""
    v = cw["match_probability"].to_numpy(dtype=float)
    whole = v == np.round(v)
    text = np.round(v, 6).astype(str).astype(object)
    text[whole] = v[whole].astype(np.int64).astype(str)
    return cw.assign(match_probability=text)


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


def _check_crosswalk(cw: pd.DataFrame, n_court: int, n_agency: dict[str, int]) -> None:
    """Every court person and agency record exactly once; never an empty crosswalk."""
    expected = n_court + sum(n_agency.values())
    dup = cw.duplicated(["source", "record_id"]).any()
    if len(cw) != expected or dup or cw["person_key"].eq("").any() or expected == 0:
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
