"""Clustering scored pairs into people.

- :func:`cluster_pairs` with no ``duplicate_free`` sources: connected components of the
  links at or above a threshold.
- With ``duplicate_free`` sources: links are accepted best first and a link is refused if it
  would put two records of one duplicate-free source in one cluster. With the court as the
  duplicate-free reference, every agency record joins at most one court person (its best
  link) and an agency's duplicates join their person; with both sides duplicate-free this is
  one-to-one linking.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["cluster_pairs", "person_key"]

log = logging.getLogger(__name__)


def person_key(source: str, record_id: str) -> str:
    """A stable key for a person, derived from the cluster's first record.

    Examples
    --------
    >>> person_key("court", "CP1") == person_key("court", "CP1")
    True
    >>> person_key("court", "CP1").startswith("P")
    True
    """
    return "P" + hashlib.sha256(f"{source}\x1f{record_id}".encode()).hexdigest()[:16]


def cluster_pairs(
    records: pd.DataFrame,
    pairs: pd.DataFrame,
    threshold: float,
    duplicate_free: Iterable[str] = (),
    source_order: Iterable[str] = ("court",),
) -> pd.DataFrame:
    """Cluster ``records`` using the ``pairs`` at or above ``threshold``.

    Parameters
    ----------
    records : DataFrame
        Every record to place: ``source``, ``record_id``.
    pairs : DataFrame
        Scored pairs: ``source_l``, ``id_l``, ``source_r``, ``id_r``, ``match_probability``.
    threshold : float
        Links at or above this match probability are used.
    duplicate_free : iterable of str
        Sources that hold at most one record per person.
    source_order : iterable of str
        Sources whose records name a cluster first (the key comes from the first record in
        this order, then by source and id).

    Returns
    -------
    DataFrame
        ``source``, ``record_id``, ``person_key``, ``match_probability`` (best accepted link
        of the record into its cluster; 1 for records of the first source in
        ``source_order`` when there are several sources, 0 for records linked to nothing),
        in the order of ``records``. Every record is in exactly one cluster.

    Raises
    ------
    ValueError
        When an accepted pair names a record that is not in ``records``.
    """
    rec = records[["source", "record_id"]].astype(str).reset_index(drop=True)
    n = len(rec)
    node = pd.Index(rec["source"] + "\x1f" + rec["record_id"])
    if node.has_duplicates:
        dup = str(node[node.duplicated()][0]).replace("\x1f", " ")
        raise ValueError(f"record {dup} appears twice in the records to cluster")
    p = pairs[pairs["match_probability"] >= threshold]
    li = node.get_indexer(pd.Index(p["source_l"].astype(str) + "\x1f" + p["id_l"].astype(str)))
    ri = node.get_indexer(pd.Index(p["source_r"].astype(str) + "\x1f" + p["id_r"].astype(str)))
    ok = (li >= 0) & (ri >= 0)
    if not ok.all():
        k = int(np.flatnonzero(~ok)[0])
        row = p.iloc[k]
        raise ValueError(
            f"{int((~ok).sum())} accepted pair(s) name records that are not among the records "
            f"to cluster, for example ({row['source_l']!r}, {row['id_l']!r}) - "
            f"({row['source_r']!r}, {row['id_r']!r}); expected sources "
            f"{sorted(set(rec['source']))} (pairs and records must come from the same tables)"
        )
    li, ri = li.astype(np.int64), ri.astype(np.int64)
    prob = p["match_probability"].to_numpy(dtype=float)
    if len(li) == 0 and n > 1:
        log.warning(
            "no pair reaches the match threshold %.3g (%d scored pairs): every one of the %d "
            "records is a cluster of its own",
            threshold,
            len(pairs),
            n,
        )
    sources = rec["source"].to_numpy()
    label, best = cluster_links(
        n,
        li,
        ri,
        prob,
        sources,
        np.isin(sources, sorted(set(duplicate_free))),
        rec["record_id"].to_numpy(),
    )
    return _keys(rec, label, best, list(source_order))


def cluster_links(
    n: int,
    li: np.ndarray,
    ri: np.ndarray,
    prob: np.ndarray,
    key: np.ndarray,
    exclusive: np.ndarray,
    ids: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster ``n`` records joined by the links ``li``-``ri`` (accepted links, with their
    match probability ``prob``) so that no cluster holds two ``exclusive`` records of one
    ``key``.

    The key is what may not repeat inside a cluster: the source, for the records of a
    duplicate-free source (:func:`cluster_pairs`), or the case, for court people (a case names
    each person once). A connected component holding at most one exclusive record of each
    key is accepted whole (best first would accept every one of its links); the rest are
    resolved link by link, best first (:func:`_constrained`).

    Parameters
    ----------
    n : int
        Number of records; ``li``, ``ri`` index them.
    li, ri : ndarray of int
        The two records of each link.
    prob : ndarray of float
        Each link's match probability.
    key : ndarray
        Each record's key (compared as text).
    exclusive : ndarray of bool
        Records whose key may not repeat inside a cluster (others join freely).
    ids : ndarray
        Record ids, which with the key break ties between equally probable links.

    Returns
    -------
    label : ndarray of int
        A cluster label per record.
    best : ndarray of float
        Each record's best accepted link probability (0 for a record linked to nothing).

    Examples
    --------
    >>> label, best = cluster_links(
    ...     4, np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([0.9, 0.8, 0.95]),
    ...     np.array(["a", "b", "c", "a"]), np.ones(4, dtype=bool), np.array(["1", "2", "3", "4"]))
    >>> bool(label[0] == label[1] != label[2] == label[3])  # 1-2 refused: it joins 0 and 3
    True
    >>> best.tolist()
    [0.9, 0.9, 0.95, 0.95]
    """
    best = np.zeros(n)
    graph = coo_matrix((np.ones(len(li)), (li, ri)), shape=(n, n))
    n_comp, label = connected_components(graph, directed=False)
    twice = pd.DataFrame({"c": label[exclusive], "k": key[exclusive]}).duplicated().to_numpy()
    hard = np.zeros(n_comp, dtype=bool)
    hard[label[exclusive][twice]] = True
    easy = ~hard[label[li]]
    np.maximum.at(best, li[easy], prob[easy])
    np.maximum.at(best, ri[easy], prob[easy])
    if hard.any():
        h = ~easy
        sub = _constrained(n, li[h], ri[h], prob[h], key, exclusive, ids, best)
        label = np.where(hard[label], n_comp + sub, label)
    return label, best


def _constrained(
    n: int,
    li: np.ndarray,
    ri: np.ndarray,
    prob: np.ndarray,
    key: np.ndarray,
    exclusive: np.ndarray,
    ids: np.ndarray,
    best: np.ndarray,
) -> np.ndarray:
    """Union-find over the links, best first, refusing a merge that would join two
    exclusive records of one key. Only records that appear in a link take part (the rest
    stay alone), so the cost follows the number of links, not of records."""
    label = np.arange(n)
    if len(li) == 0:
        return label
    nodes, inv = np.unique(np.concatenate([li, ri]), return_inverse=True)
    a_of, b_of = inv[: len(li)].tolist(), inv[len(li) :].tolist()
    # best first; ties broken by the records' key and id (as text) so the result does not
    # depend on input order
    text = (pd.Series(key[nodes]).astype(str) + pd.Series(ids[nodes]).astype(str)).to_numpy()
    _, tie = np.unique(text.astype(str), return_inverse=True)
    order = np.lexsort((tie[inv[len(li) :]], tie[inv[: len(li)]], -prob)).tolist()
    node_key = key[nodes].tolist()
    node_bound = exclusive[nodes].tolist()
    parent = list(range(len(nodes)))
    # exclusive members held by each root: {key: node}
    held: dict[int, dict[Any, int]] = {
        i: {k: i} for i, (k, b) in enumerate(zip(node_key, node_bound, strict=True)) if b
    }

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    used = np.zeros(len(li), dtype=bool)
    for e in order:
        a, b = find(a_of[e]), find(b_of[e])
        if a != b:
            ha, hb = held.get(a), held.get(b)
            if ha and hb and any(k in hb for k in ha):
                continue  # would put two exclusive records of one key together
            lo, hi = (a, b) if a < b else (b, a)
            parent[hi] = lo
            if ha or hb:
                held.pop(hi, None)
                held[lo] = {**(ha or {}), **(hb or {})}
        used[e] = True
    np.maximum.at(best, li[used], prob[used])
    np.maximum.at(best, ri[used], prob[used])
    label[nodes] = nodes[[find(i) for i in range(len(nodes))]]
    return label


def _keys(
    rec: pd.DataFrame, label: np.ndarray, best: np.ndarray, source_order: list[str]
) -> pd.DataFrame:
    """Name each cluster after its first record in (source order, source, id) order."""
    rank = {s: i for i, s in enumerate(source_order)}
    src = rec["source"].to_numpy(dtype=object)
    rid = rec["record_id"].to_numpy(dtype=object)
    r = pd.Series(src).map(rank).fillna(len(rank)).to_numpy(dtype=np.int64)
    order = np.lexsort((rid.astype(str), src.astype(str), r))
    uniq, first = np.unique(label[order], return_index=True)
    head = order[first]
    names = np.array(
        [person_key(s, i) for s, i in zip(src[head], rid[head], strict=True)], dtype=object
    )
    out = rec.copy()
    out["person_key"] = names[np.searchsorted(uniq, label)]
    mp = best.copy()
    if source_order and rec["source"].nunique() > 1:  # the reference of a linkage, not a dedupe
        mp[(rec["source"] == source_order[0]).to_numpy()] = 1.0
    out["match_probability"] = np.round(mp, 6)
    return out
