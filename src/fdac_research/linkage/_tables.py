"""Linkage of any researcher's tables: de-duplicate one table, link two, count what the
blocking rules let through, and score the result against a truth column.

- :func:`infer_model` writes a model from the column names of a table (a starting point to
  save as JSON and edit);
- :func:`dedupe_table` and :func:`link_tables` fit, predict and cluster in one call;
- :func:`blocking_analysis` counts the pairs each blocking rule generates, the new ones it
  adds to the rules before it, and (with a truth column) the share of true pairs reached;
- :func:`evaluate_clusters` scores pairs and clusters against a truth column (pairwise and
  clustered precision, recall and F1).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fdac_research.exceptions import ContractError, Problem
from fdac_research.linkage._blocking import Rule, rule_label, rule_sql, symmetric_rules
from fdac_research.linkage._config import (
    ColumnSpec,
    Comparison,
    EMSettings,
    Level,
    LinkageModelConfig,
)
from fdac_research.linkage._model import LinkageModel

__all__ = [
    "infer_model",
    "dedupe_table",
    "link_tables",
    "blocking_analysis",
    "evaluate_clusters",
]

log = logging.getLogger(__name__)

_NAME = re.compile(r"(^|_)(first|given|fore|sur|last|family|middle|maiden)?_?names?$|surname")
_DATE = re.compile(r"(^|_)(dob|birth|date|born)(_|$)|date_of_birth")
_EIGHT_DIGITS = re.compile(r"^\d{8}(\.0)?$")


def _date_format(values: pd.Series) -> str | None:
    """``%Y%m%d`` when every present value is eight digits (FEBRL's ``19151111``), else ISO."""
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    return "%Y%m%d" if len(text) and text.str.match(_EIGHT_DIGITS).all() else None


def _name_comparison(col: str) -> Comparison:
    # Splink's NameComparison: exact, Jaro-Winkler 0.92, 0.88 and 0.7 (splink 4/5 defaults)
    return Comparison(
        col,
        (
            Level("null", (col,), label=f"{col} missing"),
            Level("exact", (col,), label="exact", tf_adjustment=True),
            Level("jaro_winkler", (col,), threshold=0.92, label="Jaro-Winkler >= 0.92"),
            Level("jaro_winkler", (col,), threshold=0.88, label="Jaro-Winkler >= 0.88"),
            Level("jaro_winkler", (col,), threshold=0.7, label="Jaro-Winkler >= 0.7"),
            Level("else", label="different"),
        ),
    )


def _date_comparison(col: str) -> Comparison:
    # Splink's DateOfBirthComparison: exact, one edit, within a month, a year, ten years
    return Comparison(
        col,
        (
            Level("null", (col,), label=f"{col} missing"),
            Level("exact", (col,), label="exact"),
            Level("any_exact", (col, f"{col}_dm"), label="day and month transposed"),
            Level("damerau_levenshtein", (col,), threshold=1, label="one edit"),
            Level("date_within", (col,), threshold=31, label="within a month"),
            Level("date_within", (col,), threshold=366, label="within a year"),
            Level("date_within", (col,), threshold=3653, label="within ten years"),
            Level("else", label="different"),
        ),
    )


def _text_comparison(col: str) -> Comparison:
    # Splink's LevenshteinAtThresholds default thresholds: 1 and 2 edits
    return Comparison(
        col,
        (
            Level("null", (col,), label=f"{col} missing"),
            Level("exact", (col,), label="exact", tf_adjustment=True),
            Level("levenshtein", (col,), threshold=1, label="one edit"),
            Level("levenshtein", (col,), threshold=2, label="two edits"),
            Level("else", label="different"),
        ),
    )


def infer_model(
    df: pd.DataFrame,
    id_column: str = "record_id",
    ignore: Sequence[str] = (),
    match_threshold: float = 0.9,
) -> LinkageModelConfig:
    """A model for ``df`` from its column names.

    Columns named like names (``first_name``, ``surname``, ``given_name`` ...) are ``name``
    columns, like dates of birth (``dob``, ``date_of_birth``) ``date`` columns (format
    ``%Y%m%d`` when every value is eight digits), every other column (except ``id_column``
    and ``ignore``) ``text``. Levels follow Splink's comparison library defaults; blocking is
    on each column alone; EM sessions block on the dates, then on the names together; the
    prior is estimated from agreement on every name and date column. Review it (save it with
    ``to_json``) and check the blocking with :func:`blocking_analysis` before large runs.

    Examples
    --------
    >>> df = pd.DataFrame({"unique_id": [1], "first_name": ["A"], "dob": ["19900101"]})
    >>> [(c.name, c.kind, c.format) for c in infer_model(df, "unique_id").columns]
    [('first_name', 'name', None), ('dob', 'date', '%Y%m%d')]
    """
    skip = {id_column, *ignore}
    cols: list[ColumnSpec] = []
    comps: list[Comparison] = []
    for c in df.columns:
        if c in skip:
            continue
        if not isinstance(c, str) or not c.isidentifier():
            raise ContractError(
                "data",
                [Problem("data", str(c), 1, None, "column names that are identifiers")],
            )
        low = c.lower()
        if _DATE.search(low):
            cols.append(ColumnSpec(c, "date", format=_date_format(df[c])))
            comps.append(_date_comparison(c))
        elif _NAME.search(low):
            cols.append(ColumnSpec(c, "name"))
            comps.append(_name_comparison(c))
        else:
            cols.append(ColumnSpec(c, "text"))
            comps.append(_text_comparison(c))
    if not cols:
        raise ContractError(
            "data",
            [Problem("data", None, 1, None, f"a column to compare besides {sorted(skip)}")],
        )
    names = tuple(c.name for c in cols if c.kind == "name")
    dates = tuple(c.name for c in cols if c.kind == "date")
    em_rules: list[Rule] = [(d,) for d in dates]
    if names:
        em_rules.append(names)
    if not em_rules:
        em_rules = [(cols[0].name,)]
    key = names + dates or (cols[0].name,)
    return LinkageModelConfig(
        columns=tuple(cols),
        comparisons=tuple(comps),
        blocking_rules=tuple((c.name,) for c in cols),
        prior=None,
        em=EMSettings(blocking_rules=tuple(em_rules), prior_rules=(key,)),
        match_threshold=match_threshold,
        description="inferred from column names (fdac_research.linkage.infer_model)",
    )


def _run(
    frames: dict[str, pd.DataFrame],
    model: LinkageModelConfig | None,
    link_type: str,
    *,
    engine: str,
    id_column: str,
    seed: int,
    threshold: float | None,
    duplicate_free: Sequence[str],
    engine_options: Mapping[str, Any] | None,
) -> tuple[LinkageModelConfig, pd.DataFrame, pd.DataFrame]:
    first = next(iter(frames.values()))
    model = model or infer_model(first, id_column)
    lm = LinkageModel(
        model,
        engine=engine,
        link_type=link_type,
        seed=seed,
        id_column=id_column,
        engine_options=engine_options,
    )
    prepared = lm.prepare(frames, model)
    if not model.is_fitted:
        lm.fit(prepared, prepared=True)
    fitted = lm._fitted()
    pairs = lm.predict(prepared, prepared=True)
    clusters = lm.cluster(frames, pairs, threshold=threshold, duplicate_free=duplicate_free)
    return fitted, pairs, clusters


def dedupe_table(
    df: pd.DataFrame,
    model: LinkageModelConfig | None = None,
    *,
    name: str = "data",
    engine: str = "splink",
    id_column: str = "record_id",
    seed: int = 0,
    threshold: float | None = None,
    engine_options: Mapping[str, Any] | None = None,
) -> tuple[LinkageModelConfig, pd.DataFrame, pd.DataFrame]:
    """De-duplicate one table: fit (unless ``model`` is fitted), score pairs, cluster.

    Returns
    -------
    (fitted model, pairs, clusters)
        ``pairs``: ``source_l, id_l, source_r, id_r, match_weight, match_probability``
        (``source_*`` is ``name``); ``clusters``: ``source, record_id, person_key,
        match_probability``, one row per record (connected components of the pairs at or
        above the threshold).
    """
    return _run(
        {name: df},
        model,
        "dedupe_only",
        engine=engine,
        id_column=id_column,
        seed=seed,
        threshold=threshold,
        duplicate_free=(),
        engine_options=engine_options,
    )


def link_tables(
    left: pd.DataFrame,
    right: pd.DataFrame,
    model: LinkageModelConfig | None = None,
    *,
    names: tuple[str, str] = ("left", "right"),
    link_type: str = "link_only",
    one_to_one: bool = False,
    engine: str = "splink",
    id_column: str = "record_id",
    seed: int = 0,
    threshold: float | None = None,
    engine_options: Mapping[str, Any] | None = None,
) -> tuple[LinkageModelConfig, pd.DataFrame, pd.DataFrame]:
    """Link two tables (``link_only``, or ``link_and_dedupe`` to also find duplicates
    within each); ``one_to_one`` treats both as holding one record per person.

    Returns ``(fitted model, pairs, clusters)`` as :func:`dedupe_table`.
    """
    if names[0] == names[1]:
        raise ContractError(
            "link_tables", [Problem("link_tables", None, None, names[0], "two different names")]
        )
    return _run(
        {names[0]: left, names[1]: right},
        model,
        link_type,
        engine=engine,
        id_column=id_column,
        seed=seed,
        threshold=threshold,
        duplicate_free=names if one_to_one else (),
        engine_options=engine_options,
    )


def _truth_column(frames: Mapping[str, pd.DataFrame], truth: str) -> None:
    problems = [
        Problem(name, truth, 1, None, f"a truth column '{truth}' (the entity of each record)")
        for name, df in frames.items()
        if truth not in df.columns
    ]
    if problems:
        raise ContractError(next(iter(frames)), problems)


def blocking_analysis(
    data: Mapping[str, pd.DataFrame] | pd.DataFrame,
    model: LinkageModelConfig,
    *,
    link_type: str | None = None,
    truth: str | None = None,
    id_column: str = "record_id",
) -> pd.DataFrame:
    """How many candidate pairs each of the model's blocking rules generates.

    Parameters
    ----------
    data : DataFrame or dict of name -> DataFrame
        One table (de-duplication) or several (linkage), as given to :class:`LinkageModel`.
    model : LinkageModelConfig
        Its ``blocking_rules`` are counted, in order (each also with its sides swapped when
        it is not symmetric, as the engines use it).
    link_type : str, optional
        ``dedupe_only`` for one table, ``link_only`` for several by default.
    truth : str, optional
        A column holding each record's true entity: adds the true pairs each rule reaches.

    Returns
    -------
    DataFrame
        One row per rule: ``rule``, ``pairs`` (the rule alone), ``new_pairs`` (not generated
        by an earlier rule), ``cumulative_pairs``, ``reduction_ratio`` (1 - cumulative pairs
        / all possible pairs) and, with ``truth``, ``true_pairs_new``, ``cumulative_recall``
        (share of all true pairs reached so far).
    """
    import duckdb

    frames = {"data": data} if isinstance(data, pd.DataFrame) else dict(data)
    if truth is not None:
        _truth_column(frames, truth)
    lt = link_type or ("dedupe_only" if len(frames) == 1 else "link_only")
    lm = LinkageModel(model, link_type=lt, id_column=id_column)
    lm._check_link_type(len(frames))
    prepared = lm.prepare(frames, model)
    names = list(frames)
    jobs: list[tuple[str, str]] = []
    if lt in ("link_only", "link_and_dedupe"):
        jobs += [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    if lt in ("dedupe_only", "link_and_dedupe"):
        jobs += [(n, n) for n in names]
    rules = list(model.blocking_rules)
    con = duckdb.connect()
    rows = {k: [0, 0, 0] for k in range(len(rules))}  # pairs, new, true new
    total = true_total = 0
    try:
        for k, name in enumerate(names):
            t = prepared[name].copy()
            t["__pos"] = np.arange(len(t), dtype=np.int64)
            t["__truth"] = (
                None
                if truth is None
                else frames[name][truth].astype(str).where(frames[name][truth].notna()).to_numpy()
            )
            con.register(f"__t{k}", t)
        for a, b in jobs:
            ia, ib = names.index(a), names.index(b)
            na, nb = len(prepared[a]), len(prepared[b])
            total += na * (na - 1) // 2 if a == b else na * nb
            if truth is not None:
                ta = pd.Series(frames[a][truth]).dropna().astype(str).value_counts()
                if a == b:
                    true_total += int((ta * (ta - 1) // 2).sum())
                else:
                    tb = pd.Series(frames[b][truth]).dropna().astype(str).value_counts()
                    true_total += int((ta * tb.reindex(ta.index).fillna(0)).sum())
            within = " AND l.__pos < r.__pos" if a == b else ""
            earlier: list[str] = []
            for k, rule in enumerate(rules):
                cond = " OR ".join(f"({rule_sql(r)})" for r in symmetric_rules([rule]))
                base = f"FROM __t{ia} AS l JOIN __t{ib} AS r ON ({cond}){within}"
                n_all = con.execute(f"SELECT count(*) {base}").fetchone()
                not_before = "".join(f" AND NOT coalesce({e}, false)" for e in earlier)
                hit = "sum(CASE WHEN l.__truth = r.__truth THEN 1 ELSE 0 END)"
                got = con.execute(f"SELECT count(*), {hit} {base}{not_before}").fetchone()
                rows[k][0] += int(n_all[0]) if n_all else 0
                rows[k][1] += int(got[0]) if got else 0
                rows[k][2] += int(got[1] or 0) if got else 0
                earlier.append(f"({cond})")
    finally:
        con.close()
    out = pd.DataFrame(
        {
            "rule": [rule_label(r) for r in rules],
            "pairs": [rows[k][0] for k in range(len(rules))],
            "new_pairs": [rows[k][1] for k in range(len(rules))],
        }
    )
    out["cumulative_pairs"] = out["new_pairs"].cumsum()
    out["reduction_ratio"] = (1 - out["cumulative_pairs"] / total).round(6) if total else 0.0
    if truth is not None:
        out["true_pairs_new"] = [rows[k][2] for k in range(len(rules))]
        out["cumulative_recall"] = (
            (out["true_pairs_new"].cumsum() / true_total).round(6) if true_total else np.nan
        )
    return out


def _pair_counts(sizes: np.ndarray) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def evaluate_clusters(
    clusters: pd.DataFrame,
    truth: pd.DataFrame,
    pairs: pd.DataFrame | None = None,
    threshold: float | None = None,
    within_sources: bool = True,
) -> dict[str, dict[str, float]]:
    """Precision, recall and F1 of clusters (and of accepted pairs) against true entities.

    Parameters
    ----------
    clusters : DataFrame
        ``source, record_id, person_key`` (as :func:`dedupe_table` returns).
    truth : DataFrame
        ``source, record_id, entity``.
    pairs : DataFrame, optional
        Scored pairs; with ``threshold``, the pairwise scores count the pairs at or above it
        (before clustering).
    within_sources : bool
        Count pairs of records of one source (de-duplication); ``False`` counts only pairs
        across sources (linkage of tables each free of duplicates).

    Returns
    -------
    dict
        ``clustered`` (every pair of records put in one cluster) and, with ``pairs``,
        ``pairwise``: each ``precision``, ``recall``, ``f1``, ``tp``, ``predicted``,
        ``true``.
    """
    key = ["source", "record_id"]
    m = (
        clusters[[*key, "person_key"]]
        .astype(str)
        .merge(truth[[*key, "entity"]].astype(str), on=key)
    )
    if len(m) != len(clusters):
        raise ValueError(
            f"truth covers {len(m)} of {len(clusters)} clustered records; expected every record"
        )

    def count(by: list[str]) -> int:
        if within_sources:
            return _pair_counts(m.groupby(by).size().to_numpy())
        per = m.groupby([*by, "source"]).size().unstack(fill_value=0).to_numpy()
        return int(((per.sum(axis=1) ** 2 - (per**2).sum(axis=1)) // 2).sum())

    true_n = count(["entity"])
    out = {"clustered": _scores(count(["person_key", "entity"]), count(["person_key"]), true_n)}
    if pairs is not None:
        p = pairs if threshold is None else pairs[pairs["match_probability"] >= threshold]
        ent = m.set_index(key)["entity"]
        el = ent.reindex(pd.MultiIndex.from_arrays([p["source_l"], p["id_l"]])).to_numpy()
        er = ent.reindex(pd.MultiIndex.from_arrays([p["source_r"], p["id_r"]])).to_numpy()
        tp = int((el == er).sum())
        out["pairwise"] = _scores(tp, len(p), true_n)
    return out


def _scores(tp: int, predicted: int, true: int) -> dict[str, float]:
    pr = tp / predicted if predicted else 0.0
    rc = tp / true if true else 0.0
    return {
        "precision": round(pr, 4),
        "recall": round(rc, 4),
        "f1": round(2 * pr * rc / (pr + rc), 4) if pr + rc else 0.0,
        "tp": tp,
        "predicted": predicted,
        "true": true,
    }
