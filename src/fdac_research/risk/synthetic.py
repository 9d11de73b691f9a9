"""Privacy of a synthetic release, measured against held-out real records.

Two families of measures, all deterministic for a given ``seed``:

* **Distances** (Gower-like, mixed types): distance to closest record (DCR) of each synthetic
  record in the real training data, compared with its distance to the held-out real data
  (a synthesizer that memorises sits closer to its training records than to unseen ones);
  the nearest-neighbour distance ratio (NNDR) of synthetic records against that of the
  held-out records; and exact copies.
* **Attacks** in the style of anonymeter (Giomi et al. 2022, PoPETs 2023): singling out,
  linkability and attribute inference. Each attack is run on targets from the training data
  (the *main* attack), on targets from the held-out data (the *control* attack: what the
  synthetic data teaches about anyone in the population) and as a random guess (the
  *baseline* attacker). Success rates carry Wilson score intervals; the privacy risk is
  ``(main - control) / (1 - control)`` (anonymeter's definition) and the risk above the
  random-guess attacker is ``(main - baseline) / (1 - baseline)``, both with propagated
  95% intervals.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> def frame(n):
...     return pd.DataFrame({"sex": rng.choice(["F", "M"], n), "age": rng.integers(18, 60, n),
...                          "eth": rng.choice(list("ABCDE"), n), "drug": rng.choice(list("xyz"), n)})
>>> real, holdout, synth = frame(300), frame(300), frame(300)
>>> res = synthetic_privacy(real, holdout, synth, quasi_identifiers=["sex", "age", "eth"],
...                         secret="drug", n_attacks=100, seed=1)
>>> sorted(res.to_dict())
['distances', 'inference', 'linkability', 'n_holdout', 'n_synthetic', 'n_train', 'seed', 'singling_out']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from fdac_research.exceptions import ConfigError, ContractError, Problem
from fdac_research.risk._distance import encode_all, nearest

__all__ = [
    "Rate",
    "AttackResult",
    "SyntheticPrivacyResult",
    "wilson",
    "distance_metrics",
    "near_copy_rates",
    "singling_out_attack",
    "linkability_attack",
    "inference_attack",
    "synthetic_privacy",
]

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Rate:
    """A success rate: Wilson-score centre and 95% interval."""

    n_success: int
    n_attacks: int
    value: float
    lower: float
    upper: float


def wilson(n_success: int, n: int, z: float = Z95) -> Rate:
    """Wilson score interval for ``n_success`` out of ``n`` (centre, lower, upper).

    Examples
    --------
    >>> r = wilson(8, 10)
    >>> round(r.lower, 4), round(r.upper, 4)
    (0.4902, 0.9433)
    """
    if n <= 0:
        return Rate(0, 0, 0.0, 0.0, 1.0)
    p = n_success / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return Rate(n_success, n, centre, max(0.0, centre - half), min(1.0, centre + half))


def _attack(
    attack: str, main: Rate, control: Rate, baseline: Rate, details: dict[str, Any]
) -> AttackResult:
    return AttackResult(
        attack=attack,
        main=main,
        control=control,
        baseline=baseline,
        risk=_risk(main, control),
        risk_above_baseline=_risk(main, baseline),
        details=details,
    )


def _risk(main: Rate, ref: Rate) -> dict[str, float]:
    """``(main - ref) / (1 - ref)`` with first-order propagated 95% interval."""
    pm, pr = main.value, ref.value
    em, er = (main.upper - main.lower) / 2, (ref.upper - ref.lower) / 2
    if pr >= 1.0:
        return {"value": 0.0, "lower": 0.0, "upper": 0.0}
    val = (pm - pr) / (1 - pr)
    err = math.sqrt((em / (1 - pr)) ** 2 + (er * (pm - 1) / (1 - pr) ** 2) ** 2)
    return {"value": val, "lower": max(-1.0, val - err), "upper": min(1.0, val + err)}


@dataclass(frozen=True)
class AttackResult:
    """One attack: main, control and baseline success rates and the derived risks."""

    attack: str
    main: Rate
    control: Rate
    baseline: Rate
    risk: dict[str, float]
    risk_above_baseline: dict[str, float]
    details: dict[str, Any]

    @property
    def baseline_beats_main(self) -> bool:
        """True when a random guess does as well as the attack (the attack says little)."""
        return self.baseline.value >= self.main.value

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = asdict(self)
        d["baseline_beats_main"] = self.baseline_beats_main
        return d


@dataclass(frozen=True)
class SyntheticPrivacyResult:
    """Privacy measures of one synthetic release (see the module docstring)."""

    distances: dict[str, Any]
    singling_out: AttackResult | None
    linkability: AttackResult | None
    inference: dict[str, AttackResult]
    n_train: int
    n_holdout: int
    n_synthetic: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "distances": self.distances,
            "singling_out": None if self.singling_out is None else self.singling_out.to_dict(),
            "linkability": None if self.linkability is None else self.linkability.to_dict(),
            "inference": {k: v.to_dict() for k, v in self.inference.items()},
            "n_train": self.n_train,
            "n_holdout": self.n_holdout,
            "n_synthetic": self.n_synthetic,
            "seed": self.seed,
        }


def _check(frames: dict[str, pd.DataFrame], columns: Sequence[str]) -> None:
    problems = []
    for name, df in frames.items():
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
        if len(df) == 0:
            problems.append(
                Problem(name, None, None, None, "at least one row (the frame is empty)")
            )
        for c in columns:
            if c not in df.columns:
                problems.append(
                    Problem(name, str(c), None, None, "a column named in the privacy evaluation")
                )
    if problems:
        raise ContractError("synthetic privacy inputs", problems)


def distance_metrics(
    real: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, columns: Sequence[str]
) -> dict[str, Any]:
    """DCR, NNDR and exact copies of ``synthetic`` against ``real``, with ``holdout`` as baseline.

    Returns a dict with ``share_closer_to_train`` (synthetic records strictly closer to the
    training data than to the holdout, ties split; about ``n_train / (n_train + n_holdout)``
    adjusted for size when nothing is memorised, 0.5 for equal sizes),
    ``overfitting_protection`` (``min(1, 2 (1 - share))``, 1 = no sign of memorisation,
    as SDMetrics' DCROverfittingProtection), DCR quantiles of synthetic→train and
    holdout→train, NNDR quantiles of both, and the share of exact copies of training records
    among synthetic records vs among holdout records.
    """
    cols = list(columns)
    _check({"real": real, "holdout": holdout, "synthetic": synthetic}, cols)
    tr, ho, sy = encode_all(cols, real, holdout, synthetic)
    d_st, _ = nearest(tr, sy, len(cols), k=2)
    d_sh, _ = nearest(ho, sy, len(cols), k=1)
    d_ht, _ = nearest(tr, ho, len(cols), k=2)
    dcr_s, dcr_h = d_st[:, 0], d_ht[:, 0]
    closer = np.where(d_st[:, 0] < d_sh[:, 0], 1.0, np.where(d_st[:, 0] == d_sh[:, 0], 0.5, 0.0))
    share = float(closer.mean())

    def nndr(d: np.ndarray) -> np.ndarray:
        if d.shape[1] < 2:
            return np.ones(len(d))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(d[:, 1] > 0, d[:, 0] / d[:, 1], 1.0)
        return r

    def q(x: np.ndarray) -> dict[str, float]:
        return {
            "p05": float(np.quantile(x, 0.05)),
            "median": float(np.quantile(x, 0.5)),
            "mean": float(x.mean()),
        }

    return {
        "columns": cols,
        "share_closer_to_train": share,
        "overfitting_protection": float(min(1.0, 2 * (1 - share))),
        "dcr_synthetic_to_train": q(dcr_s),
        "dcr_holdout_to_train": q(dcr_h),
        "nndr_synthetic_to_train": q(nndr(d_st)),
        "nndr_holdout_to_train": q(nndr(d_ht)),
        "exact_copies_synthetic": float((dcr_s == 0).mean()),
        "exact_copies_holdout": float((dcr_h == 0).mean()),
    }


def near_copy_rates(
    real: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    columns: Sequence[str],
    *,
    quantile: float = 0.05,
    factor: float = 0.25,
) -> dict[str, Any]:
    """Record by record: synthetic records closer to a training record than real unseen
    people are.

    Each synthetic record's distance to its closest training record (DCR) is compared with
    the distribution of the held-out records' distances to the training data: a record is a
    *near copy* when its DCR is below ``factor`` times the ``quantile`` of the held-out DCRs
    (by default a quarter of the 5% quantile: closer than real unseen people come). A
    synthesizer that releases real records with a value nudged produces them at the rate it
    copies, whatever share of the release it is; one that memorises nothing produces them at
    about the held-out records' own rate, which is reported next to it.

    Returns
    -------
    dict
        ``threshold`` (the distance), ``synthetic`` and ``holdout`` (shares of records below
        it), ``excess`` (their difference), ``quantile`` and ``factor``, and the number of
        synthetic records flagged (``n_synthetic_near``).
    """
    if not 0 < quantile < 1 or not factor > 0:
        raise ConfigError(
            "near_copy_rates arguments",
            [f"quantile must be in (0, 1) and factor > 0, got {quantile!r} and {factor!r}"],
        )
    cols = list(columns)
    _check({"real": real, "holdout": holdout, "synthetic": synthetic}, cols)
    tr, ho, sy = encode_all(cols, real, holdout, synthetic)
    d_h, _ = nearest(tr, ho, len(cols), k=1)
    d_s, _ = nearest(tr, sy, len(cols), k=1)
    tau = factor * float(np.quantile(d_h[:, 0], quantile))
    syn = float((d_s[:, 0] < tau).mean())
    hold = float((d_h[:, 0] < tau).mean())
    return {
        "threshold": tau,
        "quantile": quantile,
        "factor": factor,
        "synthetic": syn,
        "holdout": hold,
        "excess": syn - hold,
        "n_synthetic_near": int((d_s[:, 0] < tau).sum()),
    }


def _match_counts(df: pd.DataFrame, cols: list[str], queries: pd.DataFrame) -> np.ndarray:
    """How many rows of ``df`` match each query (equality on ``cols``; missing matches missing)."""
    key_df = df[cols].astype(object).where(df[cols].notna(), "\0na")
    counts = key_df.value_counts(dropna=False)
    qk = queries[cols].astype(object).where(queries[cols].notna(), "\0na")
    idx = pd.MultiIndex.from_frame(qk) if len(cols) > 1 else pd.Index(qk[cols[0]])
    if len(cols) == 1:
        counts.index = counts.index.get_level_values(0)
    return counts.reindex(idx).fillna(0).to_numpy(dtype=float)


def singling_out_attack(
    real: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    columns: Sequence[str],
    *,
    n_attacks: int = 500,
    n_cols: int = 3,
    seed: int = 0,
) -> AttackResult:
    """Multivariate singling out: predicates that isolate one synthetic record are tried on
    the real data; success when a predicate isolates exactly one real record.

    Each predicate is a conjunction of equalities on ``n_cols`` randomly chosen columns
    taken from a random synthetic record, kept when it isolates that record in the synthetic
    data. Main success is measured on a random subsample of the training data of the
    holdout's size (so that main and control are equally hard); the baseline uses random
    predicates (each value drawn uniformly from the column's synthetic values).
    """
    cols = list(columns)
    _check({"real": real, "holdout": holdout, "synthetic": synthetic}, cols)
    rng = np.random.default_rng(seed)
    n_cols = min(n_cols, len(cols))
    m = min(len(real), len(holdout))
    train = real.iloc[np.sort(rng.choice(len(real), m, replace=False))]
    control = holdout.iloc[np.sort(rng.choice(len(holdout), m, replace=False))]
    subsets: dict[tuple[str, ...], list[int]] = {}
    for r in rng.integers(0, len(synthetic), size=n_attacks * 20):
        subset = tuple(sorted(rng.choice(cols, n_cols, replace=False).tolist(), key=cols.index))
        subsets.setdefault(subset, []).append(int(r))
    # keep predicates that single out their record in the synthetic data (one per record)
    found: list[tuple[tuple[str, ...], int]] = []
    for subset in sorted(subsets):
        rs = sorted(set(subsets[subset]))
        cnt = _match_counts(synthetic, list(subset), synthetic.iloc[rs])
        found += [(subset, r) for r, c in zip(rs, cnt, strict=True) if c == 1]
    chosen = [found[i] for i in rng.permutation(len(found))[:n_attacks]]
    by_subset: dict[tuple[str, ...], pd.DataFrame] = {}
    for subset in sorted({sub for sub, _ in chosen}):
        rows = [r for sub, r in chosen if sub == subset]
        by_subset[subset] = synthetic.iloc[rows][list(subset)]

    def successes(target: pd.DataFrame, preds: dict[tuple[str, ...], pd.DataFrame]) -> int:
        return int(
            sum((_match_counts(target, list(sub), qs) == 1).sum() for sub, qs in preds.items())
        )

    k = len(chosen)
    main = wilson(successes(train, by_subset), k)
    ctrl = wilson(successes(control, by_subset), k)
    # baseline: random predicates from the synthetic values of each column
    uniques = {c: pd.unique(synthetic[c].dropna()) for c in cols}
    base_rows: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for _ in range(k):
        subset = tuple(sorted(rng.choice(cols, n_cols, replace=False).tolist(), key=cols.index))
        vals = {
            c: uniques[c][rng.integers(0, len(uniques[c]))] if len(uniques[c]) else np.nan
            for c in subset
        }
        base_rows.setdefault(subset, []).append(vals)
    base_preds = {sub: pd.DataFrame(v, columns=list(sub)) for sub, v in base_rows.items()}
    base = wilson(successes(train, base_preds), k)
    return _attack(
        "singling_out",
        main,
        ctrl,
        base,
        {"n_cols": n_cols, "columns": cols, "n_predicates": k, "evaluated_on_rows": m},
    )


def _targets(
    real: pd.DataFrame, holdout: pd.DataFrame, n: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    k = min(n, len(real), len(holdout))
    return (
        real.iloc[np.sort(rng.choice(len(real), k, replace=False))],
        holdout.iloc[np.sort(rng.choice(len(holdout), k, replace=False))],
    )


def linkability_attack(
    real: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    aux_columns: tuple[Sequence[str], Sequence[str]],
    *,
    n_attacks: int = 500,
    n_neighbors: int = 1,
    seed: int = 0,
) -> AttackResult:
    """Linkability: can two halves of a target's record be joined through the synthetic data?

    For each target the nearest synthetic records are found once on the columns of
    ``aux_columns[0]`` and once on ``aux_columns[1]``; success when the two neighbour sets
    share a record. The baseline draws both neighbour sets at random.
    """
    a, b = list(aux_columns[0]), list(aux_columns[1])
    if not a or not b or set(a) & set(b):
        raise ConfigError(
            "linkability_attack arguments",
            [f"aux_columns must be two non-empty, disjoint column lists, got {a} and {b}"],
        )
    _check({"real": real, "holdout": holdout, "synthetic": synthetic}, a + b)
    rng = np.random.default_rng(seed)
    tgt, ctl = _targets(real, holdout, n_attacks, rng)

    def links(targets: pd.DataFrame) -> int:
        sa, ta = encode_all(a, synthetic, targets)
        sb, tb = encode_all(b, synthetic, targets)
        _, ia = nearest(sa, ta, len(a), k=n_neighbors)
        _, ib = nearest(sb, tb, len(b), k=n_neighbors)
        return int(
            sum(bool(set(x) & set(y)) for x, y in zip(ia.tolist(), ib.tolist(), strict=True))
        )

    k = len(tgt)
    main = wilson(links(tgt), k)
    ctrl = wilson(links(ctl), len(ctl))
    ra = rng.integers(0, len(synthetic), size=(k, n_neighbors))
    rb = rng.integers(0, len(synthetic), size=(k, n_neighbors))
    base = wilson(
        int(sum(bool(set(x) & set(y)) for x, y in zip(ra.tolist(), rb.tolist(), strict=True))), k
    )
    return _attack(
        "linkability", main, ctrl, base, {"aux_columns": [a, b], "n_neighbors": n_neighbors}
    )


def inference_attack(
    real: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    aux_columns: Sequence[str],
    secret: str,
    *,
    n_attacks: int = 500,
    tolerance: float = 0.05,
    seed: int = 0,
) -> AttackResult:
    """Attribute inference: guess a target's ``secret`` from its nearest synthetic record.

    Success when the guess equals the true value (numeric secrets: within ``tolerance``
    relative error). The baseline guesses the secret of a random synthetic record.
    """
    aux = list(aux_columns)
    if secret in aux:
        raise ConfigError(
            "inference_attack arguments", [f"secret {secret!r} is also an auxiliary column"]
        )
    _check({"real": real, "holdout": holdout, "synthetic": synthetic}, aux + [secret])
    rng = np.random.default_rng(seed)
    tgt, ctl = _targets(real, holdout, n_attacks, rng)
    numeric = pd.api.types.is_numeric_dtype(real[secret]) and not pd.api.types.is_bool_dtype(
        real[secret]
    )
    sec = synthetic[secret].reset_index(drop=True)

    def correct(guess: pd.Series, truth: pd.Series) -> int:
        g, t = guess.reset_index(drop=True), truth.reset_index(drop=True)
        if numeric:
            gv = pd.to_numeric(g, errors="coerce").to_numpy(dtype=float)
            tv = pd.to_numeric(t, errors="coerce").to_numpy(dtype=float)
            ok = np.abs(gv - tv) <= tolerance * np.abs(tv)
            return int(np.nansum(ok))
        return int(((g.astype(object) == t.astype(object)) | (g.isna() & t.isna())).sum())

    def run(targets: pd.DataFrame) -> int:
        s, t = encode_all(aux, synthetic, targets)
        _, idx = nearest(s, t, len(aux), k=1)
        return correct(sec.iloc[idx[:, 0]], targets[secret])

    k = len(tgt)
    main = wilson(run(tgt), k)
    ctrl = wilson(run(ctl), len(ctl))
    base = wilson(correct(sec.iloc[rng.integers(0, len(sec), size=k)], tgt[secret]), k)
    return _attack(
        "inference",
        main,
        ctrl,
        base,
        {"secret": secret, "aux_columns": aux, "tolerance": tolerance if numeric else None},
    )


def synthetic_privacy(
    real: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    quasi_identifiers: Sequence[str],
    secret: str | Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    n_attacks: int = 500,
    seed: int = 0,
) -> SyntheticPrivacyResult:
    """Every synthetic-data privacy measure with one call.

    Parameters
    ----------
    real : pandas.DataFrame
        The real records the synthesizer was trained on.
    holdout : pandas.DataFrame
        Real records from the same population that the synthesizer never saw.
    synthetic : pandas.DataFrame
        The synthetic release.
    quasi_identifiers : sequence of str
        What an attacker knows (singling-out predicates, linkability halves, inference
        auxiliary columns).
    secret : str or sequence of str, optional
        Sensitive column(s) for the inference attack.
    columns : sequence of str, optional
        Columns for the distance measures (default: quasi-identifiers and secrets).
    n_attacks : int
        Attacks (targets or predicates) per attack type.
    seed : int
        All randomness comes from ``numpy.random.default_rng(seed)``.

    Returns
    -------
    SyntheticPrivacyResult
    """
    qi = list(quasi_identifiers)
    secrets = [secret] if isinstance(secret, str) else list(secret or [])
    cols = list(columns) if columns is not None else qi + [s for s in secrets if s not in qi]
    problems = []
    if not qi:
        problems.append("quasi_identifiers must name at least one column")
    if n_attacks < 1:
        problems.append(f"n_attacks must be >= 1, got {n_attacks}")
    if problems:
        raise ConfigError("synthetic_privacy arguments", problems)
    _check(
        {"real": real, "holdout": holdout, "synthetic": synthetic}, sorted(set(cols + qi + secrets))
    )
    seeds = np.random.SeedSequence(seed).generate_state(3 + len(secrets))
    dist = distance_metrics(real, holdout, synthetic, cols)
    so = singling_out_attack(real, holdout, synthetic, qi, n_attacks=n_attacks, seed=int(seeds[0]))
    link = None
    if len(qi) >= 2:
        half = len(qi) // 2
        link = linkability_attack(
            real,
            holdout,
            synthetic,
            (qi[:half], qi[half:]),
            n_attacks=n_attacks,
            seed=int(seeds[1]),
        )
    inf = {
        s: inference_attack(
            real,
            holdout,
            synthetic,
            [c for c in qi if c != s],
            s,
            n_attacks=n_attacks,
            seed=int(seeds[3 + i]),
        )
        for i, s in enumerate(secrets)
        if [c for c in qi if c != s]
    }
    return SyntheticPrivacyResult(
        distances=dist,
        singling_out=so,
        linkability=link,
        inference=inf,
        n_train=len(real),
        n_holdout=len(holdout),
        n_synthetic=len(synthetic),
        seed=seed,
    )
