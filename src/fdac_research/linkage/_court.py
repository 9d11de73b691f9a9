"""Court people across cases: the court is de-duplicated before agencies are linked to it.

A mother in two care-proceedings cases is two rows of ``court_people.csv`` (one
``person_ref`` per case). :func:`dedupe_court` scores pairs of court people of *different*
cases with the linkage model (Splink ``dedupe_only``), and clusters the pairs at or above
the model's threshold into court persons; two people of one case are never one person (a
case names each person once), so a cluster never holds two records of one case (links are
then accepted best first, as :func:`~fdac_research.linkage.cluster_pairs` does for a
duplicate-free source). Each person is keyed by :func:`person_key` of its first record
(smallest ``person_ref``), so in a court without repeat people every key is what it was
before de-duplication. :func:`to_persons` turns court-agency pairs into pairs of the court
person (its best-scoring record) and the agency record, so agency records are clustered
onto persons, not onto single cases.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fdac_research.exceptions import DependencyError, FdacResearchError, TrainingError
from fdac_research.linkage._cluster import cluster_links, person_key
from fdac_research.linkage._config import LinkageModelConfig
from fdac_research.linkage._model import LinkageModel

__all__ = ["CourtPersons", "dedupe_court", "court_persons", "to_persons"]

log = logging.getLogger(__name__)


@dataclass
class CourtPersons:
    """The court's people across cases.

    Attributes
    ----------
    keys : DataFrame
        ``source`` (``court``), ``record_id``, ``person_key``, ``match_probability`` (1, as
        every court row of a crosswalk), in the order of the court frame.
    head : Series
        ``record_id`` -> the record that names its person (the smallest ``record_id``).
    pairs : DataFrame
        Scored pairs of court records of different cases (``source_l`` ... as
        :meth:`LinkageModel.predict`), empty when de-duplication was not run.
    model : LinkageModelConfig or None
        The fitted de-duplication model (None when not run).
    best : Series
        ``record_id`` -> best accepted within-court link probability (0 for a person seen
        in one case only).
    note : str
        Why de-duplication was not run or not trained (empty when it was).
    """

    keys: pd.DataFrame
    head: pd.Series
    pairs: pd.DataFrame
    model: LinkageModelConfig | None
    best: pd.Series
    note: str = ""


def dedupe_court(
    court: pd.DataFrame,
    prepared: pd.DataFrame,
    model: LinkageModelConfig,
    *,
    fitted: LinkageModelConfig | None = None,
    engine: str = "splink",
    backend: str = "duckdb",
    seed: int = 0,
    engine_options: dict[str, Any] | None = None,
    reference: str = "court",
) -> CourtPersons:
    """Fit (unless ``fitted``), score and cluster the court's people across cases.

    Parameters
    ----------
    court : DataFrame
        Court people with ``record_id`` (the ``person_ref``) and ``case_ref``.
    prepared : DataFrame
        ``court`` prepared for ``model`` (:func:`~fdac_research.linkage.prepare`).
    model : LinkageModelConfig
        The base model; trained on the court alone (``dedupe_only``).
    fitted : LinkageModelConfig, optional
        An already fitted de-duplication model (from a previous ``model.json``).

    Raises
    ------
    DependencyError, FdacResearchError
        When the engine fails (a Spark master that is not there, a backend out of memory):
        the message names the stage, the engine and backend, and the cause. Only a model
        that cannot be trained on the data (:class:`~fdac_research.exceptions.TrainingError`,
        a court in which no two people of different cases look alike) leaves every court
        row its own person.
    """
    cases = court["case_ref"].astype(str)
    if cases.nunique() < 2 or len(court) < 3:
        log.info("court de-duplication skipped: fewer than two cases")
        persons = court_persons(court, _no_pairs(), 1.0, reference=reference)
        persons.note = "not run: fewer than two cases"
        return persons
    lm = LinkageModel(
        fitted if fitted is not None and fitted.is_fitted else model,
        engine=engine,
        backend=backend,
        link_type="dedupe_only",
        seed=seed,
        engine_options=engine_options,
    )
    data = {reference: prepared}
    stage = f"court de-duplication (engine {engine!r}, backend {backend!r})"
    try:
        if fitted is None or not fitted.is_fitted:
            try:
                lm.fit(data, prepared=True)
            except TrainingError as err:
                # EM finds nothing to learn when no two court people of different cases look
                # alike (a court without repeat people): every court row stays its own person
                log.warning(
                    "court de-duplication not trained (%s): each court person is one case's",
                    err,
                )
                persons = court_persons(court, _no_pairs(), 1.0, reference=reference)
                persons.note = f"not trained: {err}"
                return persons
        fm = lm._fitted()
        pairs = lm.predict(data, prepared=True)
    except DependencyError as err:
        raise DependencyError(f"{stage} failed: {err}") from err
    except FdacResearchError as err:
        # an engine that fails (a Spark master that is not there, a backend out of memory)
        # stops the run: linking agencies to one person per court row would pass silently
        raise FdacResearchError(f"{stage} failed: {err}") from err
    case_of = pd.Series(cases.to_numpy(), index=court["record_id"].astype(str).to_numpy())
    same_case = (
        case_of.reindex(pairs["id_l"].astype(str)).to_numpy()
        == case_of.reindex(pairs["id_r"].astype(str)).to_numpy()
    )
    pairs = pairs[~same_case].reset_index(drop=True)
    persons = court_persons(court, pairs, fm.match_threshold, reference=reference)
    persons.model = fm
    n_multi = int(persons.keys["person_key"].duplicated(keep=False).sum())
    log.info(
        "court de-duplication: %d court people, %d persons, %d records of people in several cases",
        len(court),
        int(persons.keys["person_key"].nunique()),
        n_multi,
    )
    return persons


def _no_pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_l": pd.Series(dtype=object),
            "id_l": pd.Series(dtype=object),
            "source_r": pd.Series(dtype=object),
            "id_r": pd.Series(dtype=object),
            "match_weight": pd.Series(dtype=float),
            "match_probability": pd.Series(dtype=float),
        }
    )


def court_persons(
    court: pd.DataFrame, pairs: pd.DataFrame, threshold: float, *, reference: str = "court"
) -> CourtPersons:
    """Cluster court records into persons with the ``pairs`` at or above ``threshold``,
    never putting two records of one case together.

    Examples
    --------
    >>> court = pd.DataFrame({"record_id": ["A1", "A2", "B1"], "case_ref": ["A", "A", "B"]})
    >>> pairs = pd.DataFrame({"source_l": "court", "id_l": ["A1", "A2"], "source_r": "court",
    ...     "id_r": ["B1", "B1"], "match_weight": [9.0, 5.0], "match_probability": [0.99, 0.95]})
    >>> p = court_persons(court, pairs, 0.9)
    >>> p.head.to_dict()  # B1 joins A1 (the better link), not A2 of the same case
    {'A1': 'A1', 'A2': 'A2', 'B1': 'A1'}
    """
    ids = court["record_id"].astype(str).to_numpy()
    cases = court["case_ref"].astype(str).to_numpy()
    n = len(ids)
    index = pd.Index(ids)
    p = pairs[pairs["match_probability"] >= threshold]
    li = index.get_indexer(pd.Index(p["id_l"].astype(str)))
    ri = index.get_indexer(pd.Index(p["id_r"].astype(str)))
    if (li < 0).any() or (ri < 0).any():
        raise ValueError("court pairs name records that are not court people")
    prob = p["match_probability"].to_numpy(dtype=float)
    keep = cases[li] != cases[ri]
    li, ri, prob = li[keep].astype(np.int64), ri[keep].astype(np.int64), prob[keep]
    label, best = cluster_links(n, li, ri, prob, cases, np.ones(n, dtype=bool), ids)
    # name each person after its smallest record id
    order = np.argsort(ids.astype(str), kind="stable")
    uniq, first = np.unique(label[order], return_index=True)
    head_of = ids[order[first]]
    head = head_of[np.searchsorted(uniq, label)]
    keys = pd.DataFrame(
        {
            "source": reference,
            "record_id": ids,
            "person_key": [person_key(reference, h) for h in head],
            "match_probability": 1.0,
        }
    )
    return CourtPersons(
        keys=keys,
        head=pd.Series(head, index=ids),
        pairs=pairs.reset_index(drop=True),
        model=None,
        best=pd.Series(np.round(best, 6), index=ids),
    )


def to_persons(pairs: pd.DataFrame, head: pd.Series, reference: str = "court") -> pd.DataFrame:
    """Court-agency ``pairs`` with each court record replaced by its person's head record
    (the best score over the person's records kept); other pairs unchanged.

    Examples
    --------
    >>> head = pd.Series({"A1": "A1", "B1": "A1"})
    >>> pairs = pd.DataFrame({"source_l": "court", "id_l": ["A1", "B1"], "source_r": "police",
    ...     "id_r": ["R1", "R1"], "match_weight": [2.0, 8.0], "match_probability": [0.8, 0.99]})
    >>> to_persons(pairs, head)[["id_l", "id_r", "match_probability"]].values.tolist()
    [['A1', 'R1', 0.99]]
    """
    is_ref = (pairs["source_l"] == reference).to_numpy()
    ref, other = pairs[is_ref].copy(), pairs[~is_ref]
    if ref.empty or bool((head.index == head.to_numpy()).all()):
        return pairs
    ref["id_l"] = head.reindex(ref["id_l"].astype(str)).to_numpy()
    ref = ref.sort_values(
        ["source_r", "id_r", "id_l", "match_probability"],
        ascending=[True, True, True, False],
        kind="stable",
    ).drop_duplicates(["source_r", "id_r", "id_l"])
    return pd.concat([ref, other], ignore_index=True)
