"""Evaluation of linkage: against truth (a synthetic world) or against clerical review labels."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from fdac_research._io import read_text_table
from fdac_research.exceptions import ContractError, Problem
from fdac_research.truth import read_truth_links

log = logging.getLogger(__name__)

__all__ = [
    "read_truth",
    "evaluate_crosswalk",
    "threshold_curve",
    "clerical_sample",
    "read_clerical_labels",
    "estimate_from_labels",
    "BANDS",
]

#: Match-probability bands of the clerical-review sample.
BANDS: tuple[tuple[float, float], ...] = ((0.0, 0.5), (0.5, 0.9), (0.9, 0.99), (0.99, 1.0000001))


#: Columns of a clerical-review sample, in order (``is_match`` is filled in by a reviewer).
CLERICAL_COLUMNS = (
    "agency",
    "band",
    "source_l",
    "id_l",
    "source_r",
    "id_r",
    "match_probability",
    "n_in_band",
    "is_match",
)


def read_truth(sources: Path | str) -> pd.DataFrame | None:
    """``source``, ``record_id``, ``true_id`` from a synthetic world's ``truth/``, or None
    when there is no truth in the documented layout (:mod:`fdac_research.truth`; the reason
    is logged)."""
    links = read_truth_links(sources)
    if links.frame is None:
        log.info("linkage evaluation: %s", links.note)
    return links.frame


def _prf(tp: int, n_pred: int, n_true: int) -> dict[str, float | None]:
    p = tp / n_pred if n_pred else None
    r = tp / n_true if n_true else None
    f = (
        2 * p * r / (p + r)
        if p is not None and r is not None and p + r > 0
        else (0.0 if p is not None and r is not None else None)
    )
    return {
        "precision": _r(p),
        "recall": _r(r),
        "f1": _r(f),
        "true_positives": tp,
        "predicted": n_pred,
        "actual": n_true,
    }


def _r(v: float | None) -> float | None:
    return None if v is None else round(float(v), 6)


def _lookup(truth: pd.DataFrame, ids: pd.Series | np.ndarray) -> np.ndarray:
    """True ids of ``ids`` among one source's truth rows (None where absent), by a hash
    index: no string sorting, so it stays fast for millions of rows."""
    index = pd.Index(truth["record_id"].astype(str))
    if not index.is_unique:
        dup = str(index[index.duplicated()][0])
        raise ContractError(
            "truth", [Problem("truth/", "record_id", None, dup, "one true person per record")]
        )
    at = index.get_indexer(pd.Index(pd.Series(ids).astype(str)))
    out = np.full(len(at), None, dtype=object)
    out[at >= 0] = truth["true_id"].to_numpy()[at[at >= 0]]
    return out


def _true_ids(cw: pd.DataFrame, truth: pd.DataFrame) -> np.ndarray:
    """The true person of each crosswalk row (None where truth has none)."""
    out = np.full(len(cw), None, dtype=object)
    src = cw["source"].to_numpy()
    ids = cw["record_id"].to_numpy()
    for s in pd.unique(src):
        rows = np.flatnonzero(src == s)
        out[rows] = _lookup(truth[truth["source"] == s], ids[rows])
    return out


def _pair_count(a: np.ndarray, b: np.ndarray | None = None) -> int:
    """Pairs within groups from per-group sizes: sum of a*b (or a choose 2)."""
    if b is None:
        return int((a * (a - 1) // 2).sum())
    return int(np.dot(a, b))


def evaluate_crosswalk(
    crosswalk: pd.DataFrame, truth: pd.DataFrame, agency: str, reference: str = "court"
) -> dict[str, object]:
    """Pairwise and cluster precision, recall and F1 of one agency's linkage.

    ``links``: pairs (reference record, agency record) placed in one person, against the
    true pairs. ``all_pairs``: every pair of records among the reference and the agency in
    one person (adds within-agency duplicates). ``cluster``: B-cubed precision and recall
    over the agency's records (how much of each record's predicted person is its true
    person, and the reverse).
    """
    cw = crosswalk[crosswalk["source"].isin([reference, agency])]
    true_id = _true_ids(cw, truth)
    missing = pd.isna(true_id)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise ContractError(
            "truth",
            [
                Problem(
                    "truth/agency_links.csv",
                    "record_id",
                    None,
                    str(cw["record_id"].iloc[first]),
                    f"a true person for every {cw['source'].iloc[first]} record",
                    int(missing.sum()),
                )
            ],
        )
    # integer codes: predicted person k, true person t, and the pair (k, t)
    k, _ = pd.factorize(cw["person_key"].astype(str).to_numpy())
    t, _ = pd.factorize(true_id)
    kt, _ = pd.factorize(k.astype(np.int64) * (int(t.max()) + 1) + t)
    nk, nt, nkt = int(k.max()) + 1, int(t.max()) + 1, int(kt.max()) + 1
    is_ref = (cw["source"] == reference).to_numpy()
    ag = ~is_ref

    def sizes(codes: np.ndarray, n: int, mask: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(codes if mask is None else codes[mask], minlength=n).astype(np.int64)

    # links between the reference and the agency
    links = _prf(
        _pair_count(sizes(kt, nkt, is_ref), sizes(kt, nkt, ag)),
        _pair_count(sizes(k, nk, is_ref), sizes(k, nk, ag)),
        _pair_count(sizes(t, nt, is_ref), sizes(t, nt, ag)),
    )
    # all pairs
    all_k, all_t, all_kt = sizes(k, nk), sizes(t, nt), sizes(kt, nkt)
    allp = _prf(_pair_count(all_kt), _pair_count(all_k), _pair_count(all_t))
    # B-cubed over agency records
    n_ag = int(ag.sum())
    n_kt, n_k, n_t = all_kt[kt[ag]], all_k[k[ag]], all_t[t[ag]]
    bp = float((n_kt / n_k).mean()) if n_ag else None
    br = float((n_kt / n_t).mean()) if n_ag else None
    bf = 2 * bp * br / (bp + br) if bp and br else None
    truly_linked = int((sizes(t, nt, is_ref)[t[ag]] > 0).sum())
    linked = int((sizes(k, nk, is_ref)[k[ag]] > 0).sum())
    return {
        "agency": agency,
        "n_records": n_ag,
        "n_linked": linked,
        "n_truly_in_reference": truly_linked,
        "links": links,
        "all_pairs": allp,
        "cluster": {
            "precision": _r(bp),
            "recall": _r(br),
            "f1": _r(bf),
            "measure": "B-cubed over agency records",
        },
    }


def threshold_curve(
    pairs: pd.DataFrame,
    truth: pd.DataFrame,
    agency: str,
    reference: str = "court",
    thresholds: np.ndarray | None = None,
) -> pd.DataFrame:
    """Pairwise precision and recall of reference-agency pairs against the threshold
    (before clustering; recall counts true pairs the blocking never proposed as missed)."""
    t_ref, t_ag = truth[truth["source"] == reference], truth[truth["source"] == agency]
    p = pairs[(pairs["source_l"] == reference) & (pairs["source_r"] == agency)]
    tl = _lookup(t_ref, p["id_l"])
    tr = _lookup(t_ag, p["id_r"])
    hit = (tl == tr) & pd.notna(tl)
    codes, uniq = pd.factorize(np.concatenate([t_ref["true_id"], t_ag["true_id"]]))
    n_ref = len(t_ref)
    n_true = _pair_count(
        np.bincount(codes[:n_ref], minlength=len(uniq)).astype(np.int64),
        np.bincount(codes[n_ref:], minlength=len(uniq)).astype(np.int64),
    )
    ths = (
        np.round(np.linspace(0.05, 0.995, 60), 4) if thresholds is None else np.asarray(thresholds)
    )
    prob = p["match_probability"].to_numpy()
    rows = []
    for th in ths:
        sel = prob >= th
        tp, n = int(hit[sel].sum()), int(sel.sum())
        rows.append(
            {
                "agency": agency,
                "threshold": float(th),
                "precision": tp / n if n else np.nan,
                "recall": tp / n_true if n_true else np.nan,
            }
        )
    return pd.DataFrame(rows)


def clerical_sample(
    pairs: pd.DataFrame,
    records: dict[str, pd.DataFrame],
    n_per_band: int = 25,
    seed: int | list[int] = 0,
    reference: str = "court",
    columns: tuple[str, ...] = ("given_name", "family_name", "date_of_birth", "sex", "postcode"),
) -> pd.DataFrame:
    """A stratified sample of reference-agency pairs for clerical review.

    ``n_per_band`` pairs per agency and match-probability band (:data:`BANDS`), with both
    records' identifiers side by side and an empty ``is_match`` column for a reviewer to
    fill in with 1 (same person) or 0. ``n_in_band`` records how many pairs the band holds
    so precision can be estimated by re-weighting.
    """
    rng = np.random.default_rng(seed)
    out = []
    p = pairs[(pairs["source_l"] == reference) & (pairs["source_r"] != reference)]
    for agency in sorted(p["source_r"].unique()):
        pa = p[p["source_r"] == agency]
        for lo, hi in BANDS:
            band = pa[(pa["match_probability"] >= lo) & (pa["match_probability"] < hi)]
            if band.empty:
                continue
            take = np.sort(rng.choice(len(band), min(n_per_band, len(band)), replace=False))
            s = band.iloc[take][
                ["source_l", "id_l", "source_r", "id_r", "match_probability"]
            ].copy()
            s.insert(0, "band", f"[{lo:g}, {min(hi, 1):g}{']' if hi > 1 else ')'}")
            s.insert(0, "agency", agency)
            s["n_in_band"] = len(band)
            out.append(s)
    if not out:
        return pd.DataFrame(columns=list(CLERICAL_COLUMNS))
    sample = pd.concat(out, ignore_index=True)
    parts = []
    for src, df in records.items():
        cols = [c for c in columns if c in df.columns]
        parts.append(df[["record_id", *cols]].astype(str).assign(source=src))
    rec = pd.concat(parts, ignore_index=True)
    for side in ("l", "r"):
        named = rec.rename(columns={"record_id": f"id_{side}", "source": f"source_{side}"})
        named = named.rename(columns={c: f"{c}_{side}" for c in columns})
        sample = sample.merge(named, on=[f"source_{side}", f"id_{side}"], how="left")
    sample["is_match"] = ""
    return sample


def read_clerical_labels(path: Path | str) -> pd.DataFrame:
    """Read a reviewed clerical sample; ``is_match`` must be 1/0 (or true/false) on every row."""
    path = Path(path)
    df = read_text_table(path)
    need = list(CLERICAL_COLUMNS)
    problems = [
        Problem(path.name, c, 1, None, f"column '{c}' of the clerical sample")
        for c in need
        if c not in df.columns
    ]
    if problems:
        raise ContractError(str(path), problems)
    v = (
        df["is_match"]
        .str.strip()
        .str.lower()
        .map({"1": 1, "0": 0, "true": 1, "false": 0, "yes": 1, "no": 0})
    )
    bad = v.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ContractError(
            str(path),
            [
                Problem(
                    path.name,
                    "is_match",
                    i + 2,
                    df["is_match"].iloc[i],
                    "1 (same person) or 0 (different people)",
                    int(bad.sum()),
                )
            ],
        )
    df["is_match"] = v.astype(int)
    df["match_probability"] = df["match_probability"].astype(float)
    df["n_in_band"] = df["n_in_band"].astype(int)
    return df


def estimate_from_labels(labels: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Estimated precision and recall per agency at ``threshold`` from stratified labels.

    Each band's labelled share of matches is applied to the band's pairs at or above (or
    below) the threshold. Recall is relative to the scored candidate pairs: true matches
    the blocking never proposed cannot be seen by review.
    """
    rows = []
    for agency, g in labels.groupby("agency", sort=True):
        tp_above = n_above = tp_all = 0.0
        for _, b in g.groupby("band"):
            share = b["is_match"].mean()
            n_band = int(b["n_in_band"].iloc[0])
            above = (b["match_probability"] >= threshold).mean()
            n_band_above = n_band * above
            tp_band_above = n_band_above * (
                b.loc[b["match_probability"] >= threshold, "is_match"].mean() if above > 0 else 0.0
            )
            n_above += n_band_above
            tp_above += tp_band_above
            tp_all += n_band * share
        rows.append(
            {
                "agency": agency,
                "precision": round(tp_above / n_above, 6) if n_above else np.nan,
                "recall": round(tp_above / tp_all, 6) if tp_all else np.nan,
                "n_labelled": int(len(g)),
            }
        )
    return pd.DataFrame(rows)
