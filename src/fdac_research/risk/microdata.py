"""Disclosure risk of microdata: k-anonymity, sample uniques, sdcMicro's individual and
global re-identification risk, l-diversity, SUDA special uniques and family-level risk.

Everything is computed on integer codes of the quasi-identifiers with grouped counts
(``numpy.bincount``), so it is vectorised, independent of the frame's index and the same
for categorical, string, integer and float columns.

Missing values in quasi-identifiers are a documented choice (``missing=``):

``"own_category"`` (default)
    a missing value is one more category: two records with a missing sex match each other
    and nothing else. This is what an intruder sees in the released file.
``"matches_any"``
    sdcMicro's ``freqCalc`` rule: a missing value may stand for any category, so a record
    matches every record that agrees with it where both are observed (the conservative
    choice after local suppression, where ``NaN`` means "suppressed").

l-diversity is computed within the exact key groups (missing as a category) as sdcMicro's
``ldiversity`` does; SUDA never lets a missing value take part in a minimal sample unique.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from fdac_research.exceptions import ContractError, Problem
from fdac_research.risk._keys import check_frame, column_codes, encode, group_ids, key_frequencies
from fdac_research.risk._suda import suda2

__all__ = ["MicrodataRiskResult", "microdata_risk", "individual_risk"]

log = logging.getLogger(__name__)

Missing = Literal["own_category", "matches_any"]


def _exact_more_than_two(f: int, p: float) -> float:
    """sdcMicro ``indivRisk(method="exact")`` for one key with ``fk = f > 2`` and ``p = fk/Fk``."""
    a = (p ** (1 - f) - 1) / (f - 1)
    bb = 0.0
    prod = 1.0
    for m in range(f - 2):  # m = 0 .. f - 3
        prod *= (
            (f - 1 - m) ** 2
            / ((m + 1) * (f - 2 - m))
            * (p ** (m + 2 - f) - 1)
            / (p ** (m + 1 - f) - 1)
        )
        bb += (-1) ** (m + 1) * prod
    return float((p / (1 - p)) ** f * (a * (1 + bb) + (-1) ** f * np.log(p)))


def individual_risk(fk: np.ndarray, Fk: np.ndarray | None, *, method: str = "approx") -> np.ndarray:
    """sdcMicro's individual re-identification risk (``indivRisk``; ``measure_risk`` uses
    ``method="approx"``).

    The Benedetti–Franconi negative-binomial approximation with ``p = fk / Fk``:
    ``p/(1-p) log(1/p)`` when ``fk = 1``; ``p/(1-p) - (p/(1-p))^2 log(1/p)`` when ``fk = 2``;
    ``p / (fk - (1 - p))`` when ``fk > 2``; and ``1/fk`` when ``Fk = fk`` (the sample is the
    population). Without weights (``Fk is None``) the risk is ``1/fk``. Where weights below 1
    make ``Fk < fk`` (``p > 1``, outside the model) the risk is also ``1/fk``.
    ``method="exact"`` replaces the ``fk > 2`` approximation by the exact series of
    Benedetti–Franconi as coded in sdcMicro (``O(fk^2)`` per distinct key; where it
    overflows, which happens for large ``fk``, the approximation is kept and a warning logged).

    Parameters
    ----------
    fk, Fk : numpy.ndarray
        Sample and estimated population frequencies of each record's key.

    Returns
    -------
    numpy.ndarray
        Risk per record in ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> individual_risk(np.array([3.0]), np.array([108.0])).round(8)  # sdcMicro test_indivRisk
    array([0.01369863])
    """
    fk = np.asarray(fk, dtype=float)
    if Fk is None:
        return 1.0 / fk
    Fk = np.asarray(Fk, dtype=float)
    pk = fk / Fk
    r = np.empty_like(pk)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = pk / (1.0 - pk)
        log_inv = np.log(1.0 / pk)
        one = fk == 1
        two = fk == 2
        more = ~(one | two)
        r[one] = (odds * log_inv)[one]
        r[two] = (odds - odds**2 * log_inv)[two]
        r[more] = (pk / (fk - (1.0 - pk)))[more]
    if method == "exact":
        sel = more & (fk == np.round(fk)) & (pk < 1.0)
        pairs = np.unique(np.stack([fk[sel], pk[sel]], axis=1), axis=0)
        table = {}
        overflow = 0
        with np.errstate(all="ignore"):
            for f, p in pairs:
                v = _exact_more_than_two(int(f), float(p))
                if np.isfinite(v):
                    table[(f, p)] = v
                else:
                    overflow += 1
        if overflow:
            log.warning(
                "exact individual risk overflowed for %d key(s); the approximation is used there",
                overflow,
            )
        for i in np.flatnonzero(sel):
            r[i] = table.get((fk[i], pk[i]), r[i])
    elif method != "approx":
        raise ValueError(f"method must be 'approx' or 'exact', got {method!r}")
    census = (fk == Fk) | (pk >= 1.0)
    r[census] = 1.0 / fk[census]
    return r


@dataclass
class MicrodataRiskResult:
    """Disclosure-risk measures of one microdata frame.

    Attributes
    ----------
    quasi_identifiers : list of str
        The key variables scored.
    records : pandas.DataFrame
        One row per input record, same index and order: ``fk`` (sample frequency of its
        key), ``Fk`` (estimated population frequency; equal to ``fk`` without weights),
        ``risk`` (individual re-identification risk), ``suda_score``, ``dis_suda_score``,
        ``family_risk`` (when ``family`` was given) and, per sensitive column ``s``,
        ``l_distinct_<s>`` and ``l_entropy_<s>``.
    k_anonymity : int
        The smallest ``fk``: the file is k-anonymous for every k up to this value.
    n_violating : dict of int to int
        Records violating 2-, 3- and 5-anonymity (``fk < k``).
    n_sample_uniques : int
        Records with ``fk == 1``.
    expected_reidentifications : float
        Sum of the individual risks (sdcMicro ``global_risk_ER``).
    global_risk : float
        Mean individual risk (sdcMicro ``global_risk``).
    l_diversity : dict
        Per sensitive column, the minimum distinct and entropy l-diversity over key groups.
    suda : dict
        SUDA summary: records with a score above 0, highest score, DIS-SUDA above 0.1,
        and each key variable's share (%) of the total score.
    family : dict or None
        Family-level risk (``1 - prod(1 - r)`` over members): families, records,
        ``expected_reidentifications`` (sum over records, as sdcMicro's ``hier_risk_ER``),
        ``global_risk`` (mean over records), highest family risk and families above 0.5.
    prosecutor, journalist, marketer : dict
        Attack-model summaries (El Emam): prosecutor risk ``1/fk`` (the intruder knows the
        target is in the file), journalist risk ``1/Fk`` (does not), marketer risk (the
        expected share of records re-identified when matching everyone).
    """

    quasi_identifiers: list[str]
    records: pd.DataFrame
    k_anonymity: int
    n_violating: dict[int, int]
    n_sample_uniques: int
    expected_reidentifications: float
    global_risk: float
    n_keys: int
    weighted: bool
    missing: str
    l_diversity: dict[str, dict[str, float]] = field(default_factory=dict)
    suda: dict[str, Any] = field(default_factory=dict)
    family: dict[str, Any] | None = None
    prosecutor: dict[str, float] = field(default_factory=dict)
    journalist: dict[str, float] = field(default_factory=dict)
    marketer: dict[str, float] = field(default_factory=dict)
    _key_source: pd.DataFrame | None = field(default=None, repr=False)
    _key_first: np.ndarray | None = field(default=None, repr=False)
    _key_size: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_records(self) -> int:
        """Number of records scored."""
        return len(self.records)

    def riskiest_keys(self, n: int | None = 10) -> pd.DataFrame:
        """The ``n`` key combinations with the highest individual risk (then smallest ``fk``).

        One row per distinct key: the quasi-identifier values, ``n_records``, ``fk``, ``Fk``
        and ``risk``; ``n=None`` gives every key.
        """
        if self._key_source is None or self._key_first is None or self._key_size is None:
            return pd.DataFrame()
        first = self._key_first
        fk = self.records["fk"].to_numpy()[first]
        risk = self.records["risk"].to_numpy()[first]
        order = np.lexsort((np.arange(len(first)), fk, -risk))
        if n is not None:
            order = order[:n]
        keys = self._key_source.iloc[first[order]].reset_index(drop=True)
        keys["n_records"] = self._key_size[order]
        keys["fk"] = fk[order]
        keys["Fk"] = self.records["Fk"].to_numpy()[first[order]]
        keys["risk"] = risk[order]
        return keys

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (no per-record values)."""
        return {
            "quasi_identifiers": list(self.quasi_identifiers),
            "n_records": self.n_records,
            "n_keys": self.n_keys,
            "weighted": self.weighted,
            "missing": self.missing,
            "k_anonymity": self.k_anonymity,
            "n_violating": {str(k): v for k, v in self.n_violating.items()},
            "n_sample_uniques": self.n_sample_uniques,
            "expected_reidentifications": self.expected_reidentifications,
            "global_risk": self.global_risk,
            "l_diversity": self.l_diversity,
            "suda": self.suda,
            "family": self.family,
            "prosecutor": self.prosecutor,
            "journalist": self.journalist,
            "marketer": self.marketer,
        }


def _weights(df: pd.DataFrame, weight: str | None) -> np.ndarray | None:
    if weight is None:
        return None
    if weight not in df.columns:
        raise ContractError(
            "data",
            [
                Problem(
                    "data",
                    str(weight),
                    None,
                    None,
                    "weight names a column that is not in the frame",
                )
            ],
        )
    w = pd.to_numeric(df[weight], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ContractError(
            "data",
            [
                Problem(
                    "data",
                    str(weight),
                    None,
                    str(df[weight].iloc[i]),
                    f"positive, finite sampling weights (row {df.index[i]!r})",
                    int(bad.sum()),
                )
            ],
        )
    return w


def _ldiversity(gid: np.ndarray, g: int, s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Distinct and entropy l-diversity of each record's key group (sdcMicro's rules)."""
    scodes, card = column_codes(s)
    pair = gid * (card + 1) + (scodes + 1)
    upair, cnt = np.unique(pair, return_counts=True)
    pg = upair // (card + 1)
    pv = upair % (card + 1) - 1
    size = np.bincount(gid, minlength=g).astype(float)
    observed = pv >= 0
    distinct = np.bincount(pg[observed], minlength=g)
    has_missing = np.bincount(pg[~observed], minlength=g) > 0
    p = cnt / size[pg]
    plogp = p * np.log(p)
    # a missing value counts as a category only when some value is observed
    include = observed | (distinct[pg] > 0)
    ent = np.bincount(pg[include], weights=plogp[include], minlength=g)
    distinct = distinct + (has_missing & (distinct > 0))
    return distinct[gid].astype(float), np.exp(-ent)[gid]


def _attack_models(fk: np.ndarray, Fk: np.ndarray, threshold: float) -> tuple[dict, dict, dict]:
    pros = 1.0 / fk
    jour = 1.0 / np.maximum(Fk, fk)
    n = len(fk)
    prosecutor = {
        "highest_risk": float(pros.max()),
        "average_risk": float(pros.mean()),
        "records_at_risk": float((pros > threshold).mean()),
        "threshold": threshold,
    }
    journalist = {
        "highest_risk": float(jour.max()),
        "average_risk": float(jour.mean()),
        "records_at_risk": float((jour > threshold).mean()),
        "threshold": threshold,
    }
    marketer = {
        "prosecutor_marketer_risk": float(pros.sum() / n),
        "journalist_marketer_risk": float(jour.sum() / n),
    }
    return prosecutor, journalist, marketer


def microdata_risk(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    weight: str | None = None,
    sensitive: str | Sequence[str] | None = None,
    family: str | None = None,
    missing: Missing = "own_category",
    alpha: float = 1.0,
    suda: bool = True,
    suda_max_size: int | None = None,
    dis_fraction: float = 0.01,
    risk_threshold: float = 0.2,
    method: Literal["approx", "exact"] = "approx",
) -> MicrodataRiskResult:
    """Score the disclosure risk of a microdata frame.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per record (any index; categorical, string, integer or float columns).
    quasi_identifiers : sequence of str
        Key variables an intruder may know.
    weight : str, optional
        Column of sampling weights (positive). Without it the file is treated as the whole
        population (``Fk = fk``, risk ``1/fk``) as sdcMicro does.
    sensitive : str or sequence of str, optional
        Sensitive columns for distinct and entropy l-diversity (not quasi-identifiers).
    family : str, optional
        Column grouping records into families (e.g. ``case_id``) for family-level risk.
    missing : {"own_category", "matches_any"}
        How a missing quasi-identifier value matches (see the module docstring).
    alpha : float
        sdcMicro's ``alpha`` for ``"matches_any"``: how much records with a different
        missing pattern count (1 = fully, as by default in sdcMicro).
    suda : bool
        Compute SUDA2 scores (the most expensive measure).
    suda_max_size : int, optional
        Largest minimal sample unique searched (default: all sizes, as sdcMicro). Required
        above 12 quasi-identifiers, where the search over every subset becomes impractical.
    dis_fraction : float
        Sampling fraction for DIS-SUDA (sdcMicro's ``DisFraction``, default 0.01).
    risk_threshold : float
        Prosecutor/journalist risk above which a record counts as "at risk" (0.2 = k < 5).
    method : {"approx", "exact"}
        sdcMicro ``indivRisk`` method for ``fk > 2`` (``measure_risk`` uses ``"approx"``).

    Returns
    -------
    MicrodataRiskResult

    Raises
    ------
    ContractError
        Empty frame, a quasi-identifier / weight / sensitive / family column that is not in
        the frame, or non-positive weights.
    ConfigError
        Invalid ``missing``, ``alpha``, ``dis_fraction`` or ``risk_threshold``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"sex": ["F", "F", "M"], "age": [30, 30, 41]})
    >>> r = microdata_risk(df, ["sex", "age"])
    >>> r.k_anonymity, r.n_sample_uniques, r.records["fk"].tolist()
    (1, 1, [2.0, 2.0, 1.0])
    """
    from fdac_research.exceptions import ConfigError

    if isinstance(quasi_identifiers, str):
        raise TypeError(
            f"quasi_identifiers must be a list of column names, not the string {quasi_identifiers!r}"
        )
    qi = list(quasi_identifiers)
    check_frame(df, qi)
    sens = [sensitive] if isinstance(sensitive, str) else list(sensitive or [])
    problems = []
    if missing not in ("own_category", "matches_any"):
        problems.append(f"missing must be 'own_category' or 'matches_any', got {missing!r}")
    if not 0.0 <= alpha <= 1.0:
        problems.append(f"alpha must be in [0, 1], got {alpha!r}")
    if not 0.0 < dis_fraction < 1.0:
        problems.append(f"dis_fraction must be in (0, 1), got {dis_fraction!r}")
    if method not in ("approx", "exact"):
        problems.append(f"method must be 'approx' or 'exact', got {method!r}")
    if not 0.0 < risk_threshold <= 1.0:
        problems.append(f"risk_threshold must be in (0, 1], got {risk_threshold!r}")
    if suda and suda_max_size is None and len(qi) > 12:
        problems.append(
            f"SUDA over all subsets of {len(qi)} quasi-identifiers is impractical; "
            "give suda_max_size (e.g. 4) or suda=False"
        )
    if suda_max_size is not None and suda_max_size < 1:
        problems.append(f"suda_max_size must be >= 1, got {suda_max_size!r}")
    overlap = sorted(set(sens) & set(qi))
    if overlap:
        problems.append(f"sensitive columns {overlap} are also quasi-identifiers")
    if problems:
        raise ConfigError("microdata_risk arguments", problems)
    extra = [("sensitive", c) for c in sens] + ([("family", family)] if family is not None else [])
    missing_cols = [
        Problem("data", str(c), None, None, f"{what} names a column that is not in the frame")
        for what, c in extra
        if c not in df.columns
    ]
    if missing_cols:
        raise ContractError("data", missing_cols)
    w = _weights(df, weight)

    codes, cards = encode(df, qi)
    gid, g = group_ids(codes, cards)
    if missing == "own_category" or not (codes < 0).any():
        fk = np.bincount(gid, minlength=g).astype(float)[gid]
        Fk = fk if w is None else np.bincount(gid, weights=w, minlength=g)[gid]
    else:
        fk, Fk = key_frequencies(codes, cards, w, missing=missing, alpha=alpha)
    risk = individual_risk(fk, Fk if w is not None else None, method=method)
    cols: dict[str, np.ndarray] = {"fk": fk, "Fk": Fk, "risk": risk}

    l_div: dict[str, dict[str, float]] = {}
    for s in sens:
        d, e = _ldiversity(gid, g, df[s])
        cols[f"l_distinct_{s}"] = d
        cols[f"l_entropy_{s}"] = e
        l_div[s] = {"distinct": float(d.min()), "entropy": float(e.min())}

    suda_summary: dict[str, Any] = {}
    if suda:
        sc = suda2(codes, cards, dis_fraction=dis_fraction, max_size=suda_max_size, groups=(gid, g))
        cols["suda_score"] = sc.score
        cols["dis_suda_score"] = sc.dis_score
        suda_summary = {
            "records_with_msu": int((sc.score > 0).sum()),
            "highest_score": float(sc.score.max()),
            "dis_above_0.1": int((sc.dis_score > 0.1).sum()),
            "highest_dis_score": float(sc.dis_score.max()),
            "dis_fraction": dis_fraction,
            "max_msu_size": suda_max_size or len(qi),
            "contribution_percent": {
                c: float(v) for c, v in zip(qi, sc.contributions, strict=True)
            },
        }

    fam_summary = None
    if family is not None:
        fcodes, _ = column_codes(df[family])
        if (fcodes < 0).any():
            i = int(np.flatnonzero(fcodes < 0)[0])
            raise ContractError(
                "data",
                [
                    Problem(
                        "data",
                        family,
                        None,
                        None,
                        f"a family id on every record (row {df.index[i]!r} has none)",
                        int((fcodes < 0).sum()),
                    )
                ],
            )
        # families present in the records (a categorical id may list unused categories)
        _, fcodes = np.unique(fcodes, return_inverse=True)
        nf = int(fcodes.max()) + 1
        with np.errstate(divide="ignore"):
            log_safe = np.log1p(-np.minimum(risk, 1.0))
        fam = 1.0 - np.exp(np.bincount(fcodes, weights=log_safe, minlength=nf))
        cols["family_risk"] = fam[fcodes]
        fam_summary = {
            "n_families": nf,
            "expected_reidentifications": float(fam[fcodes].sum()),
            "global_risk": float(fam[fcodes].mean()),
            "expected_families_reidentified": float(fam.sum()),
            "highest_family_risk": float(fam.max()),
            "families_above_0.5": int((fam > 0.5).sum()),
        }

    records = pd.DataFrame(cols, index=df.index)
    pros, jour, mark = _attack_models(fk, Fk, risk_threshold)

    # one representative row per exact key, for the riskiest key combinations
    first = np.full(g, -1, dtype=np.int64)
    first[gid[::-1]] = np.arange(len(gid))[::-1]

    return MicrodataRiskResult(
        quasi_identifiers=qi,
        records=records,
        k_anonymity=int(fk.min()),
        n_violating={k: int((fk < k).sum()) for k in (2, 3, 5)},
        n_sample_uniques=int((fk == 1).sum()),
        expected_reidentifications=float(risk.sum()),
        global_risk=float(risk.mean()),
        n_keys=g,
        weighted=w is not None,
        missing=missing,
        l_diversity=l_div,
        suda=suda_summary,
        family=fam_summary,
        prosecutor=pros,
        journalist=jour,
        marketer=mark,
        _key_source=df[qi],
        _key_first=first,
        _key_size=np.bincount(gid, minlength=g),
    )
