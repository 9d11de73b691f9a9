"""The release gate: thresholds a synthetic release must meet before anything is written.

Every check compares one measured figure with one threshold derived from
:class:`ReleaseGateConfig` and, where the check has a real analogue, from what the real
held-out split scores on the same measure; it records ``passed`` with the figures and the
held-out one, so a refusal says exactly why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scipy.stats import norm

from fdac_research.config import ConfigBase

__all__ = ["ReleaseGateConfig", "GateCheck", "evaluate_gate", "dcr_threshold"]


@dataclass(frozen=True)
class ReleaseGateConfig(ConfigBase):
    """Thresholds of the release gate (defaults documented per field).

    Where a check has a real analogue, the release is judged against what the real held-out
    split (families the model never saw, :func:`~fdac_research.synth.split_holdout`) scores
    on the same measure against the same training families: that figure carries the real
    data's own variability at this size, which a constant tuned on one large world does not
    (at about 100 families per arm a fresh real sample fails several of the old constants).
    Every check records the held-out figure as ``holdout`` (``None`` where no analogue
    exists), and each field below says how its threshold is derived.

    Parameters
    ----------
    max_family_copy_rate : float, default 0.0
        Share of synthetic families (case + adults + children) identical to a real training
        family. Absolute: no real family may appear in a release, whatever the held-out
        families' own (chance) rate, which is recorded beside it.
    max_row_copy_excess : float, default 0.02
        For adults (13 attributes, one continuous), the share of synthetic rows identical
        to a training row may exceed the share among held-out real rows (chance
        coincidences) by at most this: threshold = held-out share + this. Case rows (8
        coarse attributes, none continuous for an open case) and child rows (7 coarse
        attributes) coincide with real rows by chance so often that they are reported but
        judged through families and attacks.
    max_share_closer_to_train : float, default 0.6
        Share of synthetic persons closer (DCR) to the training persons than to the
        held-out ones: 0.5 when nothing is memorised (equal-size samples). The share of
        ``n`` records is a binomial proportion: a release memorising nothing scores
        0.5 +- 1.96 * 0.5 / sqrt(n) in 95% of draws (+-0.08 at 140 people, +-0.03 at 1,000).
        The threshold is this value or, where the noise at this ``n`` is wider, the upper
        end of that band (``0.5 + 1.96 * 0.5 / sqrt(n)``): a release is refused when its
        share is both above this value and clear of what chance gives. The held-out figure is
        the same share for half of the held-out persons against a same-size training sample
        and the other half (what real unseen people score: 0.5 up to that noise).
    max_attack_risk : float, default 0.2
        Anonymeter-style risk ``(main - control) / (1 - control)`` of singling out,
        linkability and every inference attack, per population, where *control* is the
        same attack's success on held-out people (the held-out figure of the check) and
        *main* its success on training people (the check's value). A check fails when the
        risk exceeds this *and* its 95% interval excludes zero (with a few hundred held-out
        people the interval is about +-0.1 to +-0.2 wide, and a release must not be refused
        on noise alone); in success-rate terms the threshold is
        ``control + max(this, half-width) * (1 - control)``.
    max_s_pmse : float, default 10.0
        Two-way S_pMSE per table (synthpop: ~1 ideal, < 3 good), allowed where a fresh real
        sample scores the ideal 1. The propensity model's many sparse interaction cells
        inflate the measure for any two samples at a given size (held-out real families
        score up to ~20 on 3,000-family worlds), so the threshold per table is this plus
        the held-out split's own excess over 1: ``max_s_pmse + max(0, holdout - 1)``.
    min_quality_score : float, default 0.8
        SDMetrics multi-table quality score. The threshold is this or the held-out split's
        own score against the training families, whichever is lower: "as good as real data"
        where a small real sample cannot reach this value itself.
    max_rule_violation_rate : float, default 0.0
        Share of released rows breaking a contract rule (absolute; real data satisfy
        every rule by contract).
    min_key_validity : float, default 1.0
        Share of adult and child rows whose case exists (absolute).
    require_effect_agreement : bool, default True
        Every effect estimate on synthetic data agrees with the training families' one: the
        difference of the log odds ratios is not significant with both standard errors
        (:func:`fdac_research.synth.compare_log_odds`, two-sided, level ``effect_alpha``
        shared over the effects compared by Bonferroni's correction), and where the real
        interval excludes "no effect" the synthetic estimate lies on the same side of it (a
        release erasing or reversing a real effect is refused even when the test, at this
        size, cannot tell the two apart).
    effect_alpha : float, default 0.05
        Family-wise level of the effect tests: each of the ``m`` effects is tested at
        ``effect_alpha / m``, so that a release reproducing every effect is refused by
        chance in at most 5% of draws.
    require_ci_overlap : bool, default False
        Every effect estimate's 95% interval on synthetic data overlaps the real one (the
        gate's former rule; refuses good releases at ~100 families per arm, where the
        synthetic estimate's own noise widens the gap).
    require_inside_real_ci : bool, default False
        Every synthetic point estimate lies inside the real 95% interval (stricter).
    max_rare_extremes : int, default 0
        Numeric columns allowed to release a real minimum or maximum that fewer than
        ``extreme_min_count`` training records hold. Zero: a release never carries a rare
        real extreme (the synthesizers top- and bottom-code at the k-th value to ensure it).
    extreme_min_count : int, default 10
        How many training records must share an extreme value for it to be releasable
        (the ``k`` of statistical top/bottom-coding; match the synthesizer's
        ``min_tail_count``).
    max_near_copy_excess : float, default 0.005
        Record by record, for whole families and for adults: the share of synthetic records
        closer to their closest training record than a quarter of the 5% quantile of the held-out
        records' distances to the training data (closer than real unseen people come) may
        exceed the held-out records' own share by at most this: threshold = held-out share
        + this. A synthesizer releasing real families with a value nudged is refused from
        about 1% of its families on.
    max_rare_categories : int, default 0
        Columns allowed to release a category that fewer than ``category_min_count``
        training families hold. Zero: the synthesizers code rare categories before fitting.
    category_min_count : int, default 10
        How many training families must hold a category for it to be releasable (match the
        synthesizer's ``min_category_count``).
    """

    max_family_copy_rate: float = 0.0
    max_row_copy_excess: float = 0.02
    max_share_closer_to_train: float = 0.6
    max_attack_risk: float = 0.2
    max_s_pmse: float = 10.0
    min_quality_score: float = 0.8
    max_rule_violation_rate: float = 0.0
    min_key_validity: float = 1.0
    require_effect_agreement: bool = True
    effect_alpha: float = 0.05
    require_ci_overlap: bool = False
    require_inside_real_ci: bool = False
    max_rare_extremes: int = 0
    extreme_min_count: int = 10
    max_near_copy_excess: float = 0.005
    max_rare_categories: int = 0
    category_min_count: int = 10

    def _problems(self) -> list[str]:
        out = []
        for name in (
            "max_family_copy_rate",
            "max_row_copy_excess",
            "max_share_closer_to_train",
            "max_attack_risk",
            "min_quality_score",
            "max_rule_violation_rate",
            "min_key_validity",
            "max_near_copy_excess",
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
                out.append(f"{name} must be a number in [0, 1], got {v!r}")
        v = self.max_s_pmse
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            out.append(f"max_s_pmse must be a positive number, got {v!r}")
        for name, least in (
            ("max_rare_extremes", 0),
            ("extreme_min_count", 1),
            ("max_rare_categories", 0),
            ("category_min_count", 1),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < least:
                out.append(f"{name} must be an integer >= {least}, got {v!r}")
        v = self.effect_alpha
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
            out.append(f"effect_alpha must be a number in (0, 1), got {v!r}")
        for name in ("require_effect_agreement", "require_ci_overlap", "require_inside_real_ci"):
            if not isinstance(getattr(self, name), bool):
                out.append(f"{name} must be true or false, got {getattr(self, name)!r}")
        return out


@dataclass(frozen=True)
class GateCheck:
    """One gate check: what was measured, the threshold, and whether it passed.

    ``holdout`` is the real held-out split's figure on the same measure (what families the
    model never saw score against the training families), ``None`` where the check has no
    real analogue (rule violations, key validity, rare extremes and categories, effects).
    """

    name: str
    value: Any
    threshold: Any
    passed: bool
    detail: str
    holdout: Any = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "value": self.value,
            "threshold": self.threshold,
            "holdout": self.holdout,
            "passed": self.passed,
            "detail": self.detail,
        }


def _num(x: Any) -> float:
    return float(x) if x is not None and not (isinstance(x, float) and math.isnan(x)) else math.nan


#: Two-sided 95% normal quantile (the DCR band).
_Z95 = 1.959963984540054

_EFFECT_WORDS = {
    "reunified": "reunification of children",
    "ceased_misuse": "cessation of misuse among mothers",
}
_METHOD_WORDS = {"naive": "unadjusted", "g_computation": "adjusted (g-computation)"}


def dcr_threshold(max_share: float, n: int) -> float:
    """The DCR check's threshold: ``max_share`` or, where the binomial noise of a share of
    ``n`` records is wider, ``0.5 + 1.96 * 0.5 / sqrt(n)``.

    >>> dcr_threshold(0.6, 100), dcr_threshold(0.6, 1000)
    (0.6, 0.6)
    >>> round(dcr_threshold(0.6, 64), 4)
    0.6225
    """
    if n <= 0:
        return 1.0
    return max(max_share, 0.5 + _Z95 * 0.5 / math.sqrt(n))


def _effect_checks(fid: list[dict[str, Any]], config: ReleaseGateConfig) -> list[GateCheck]:
    """One check per effect: the log-OR difference test (Bonferroni over the effects) and,
    where the real interval excludes no effect, the same side of it."""
    m = max(len(fid), 1)
    level = config.effect_alpha / m
    z_crit = float(norm.isf(level / 2))
    out = []
    for r in fid:
        what = (
            f"{_METHOD_WORDS.get(r['method'], r['method'])} effect of FDAC on "
            f"{_EFFECT_WORDS.get(r['outcome'], r['outcome'])}"
        )
        name = f"effect_{r['outcome']}_{r['method']}"
        test = r.get("log_or_test")
        if r.get("error") or not test or not math.isfinite(_num(test["z"])):
            reason = r.get("error") or "the odds ratio is not finite on one side"
            out.append(
                GateCheck(
                    name,
                    None,
                    z_crit,
                    False,
                    f"{what}: cannot be estimated on the real or the synthetic data "
                    f"({reason}); the release cannot show it is reproduced",
                )
            )
            continue
        real, syn = r["real"], r["synthetic"]
        z = _num(test["z"])
        lo, hi = _num(real["odds_ratio_ci"][0]), _num(real["odds_ratio_ci"][1])
        real_clear = lo > 1 or hi < 1
        lr, ls = _num(real["log_odds_ratio"]), _num(syn["log_odds_ratio"])
        erased = real_clear and not lr * ls > 0
        differs = abs(z) > z_crit
        figures = (
            f"synthetic OR {syn['odds_ratio']:.2f} vs real {real['odds_ratio']:.2f} "
            f"(95% CI {lo:.2f}-{hi:.2f}); z = {z:.2f}, p = {_num(test['p_value']):.3g}"
        )
        if erased:
            detail = (
                f"{what}: the real data show an effect (CI excludes 1) that the release "
                f"{'erases' if ls == 0 else 'reverses'}: {figures}"
            )
        elif differs:
            more = "overstate" if z > 0 else "understate"
            detail = (
                f"{what}: analyses of the release would {more} it beyond sampling noise "
                f"(|z| > {z_crit:.2f}, level {config.effect_alpha:g} over {m} effects): {figures}"
            )
        else:
            detail = f"{what}: agrees within sampling noise of both estimates: {figures}"
        out.append(GateCheck(name, abs(z), z_crit, not (erased or differs), detail))
    return out


def evaluate_gate(
    utility: dict[str, Any], privacy: dict[str, Any], config: ReleaseGateConfig
) -> list[GateCheck]:
    """All gate checks of a release (see :class:`ReleaseGateConfig`).

    ``utility`` and ``privacy`` are :func:`~fdac_research.synth.evaluate_release`'s reports;
    the held-out figures are read from them (``pmse_holdout_baseline``,
    ``quality_holdout_baseline``, ``exact_copies.holdout``, the attacks' control rates, the
    split-half DCR share ``distances_holdout`` and the near copies' ``holdout``). A report
    without a held-out figure (an older one) is judged against the fixed values.
    """
    checks: list[GateCheck] = []

    def add(
        name: str, value: Any, threshold: Any, ok: bool, detail: str, holdout: Any = None
    ) -> None:
        checks.append(GateCheck(name, value, threshold, bool(ok), detail, holdout))

    copies = privacy["exact_copies"]
    fam = copies["synthetic"]["families"]
    add(
        "family_copies",
        fam,
        config.max_family_copy_rate,
        fam <= config.max_family_copy_rate,
        "share of synthetic families identical to a real training family (held-out: share "
        "of real unseen families identical to one by chance)",
        copies["holdout"].get("families"),
    )
    for t in ("adults",):
        syn, hold = copies["synthetic"][t], copies["holdout"][t]
        thr = hold + config.max_row_copy_excess
        add(
            f"{t}_row_copies",
            syn,
            thr,
            syn <= thr,
            f"share of synthetic {t} rows identical to a training row; at most the held-out "
            f"rate ({hold:.2%}) + {config.max_row_copy_excess:.2%}",
            hold,
        )
    risk = privacy.get("risk") or {}
    for pop, res in risk.items():
        share = _num(res["distances"]["share_closer_to_train"])
        n_syn = int(res.get("n_synthetic") or 0)
        thr = dcr_threshold(config.max_share_closer_to_train, n_syn)
        half = res.get("distances_holdout") or {}
        add(
            f"{pop}_dcr",
            share,
            thr,
            share <= thr,
            f"share of {n_syn} synthetic {pop} closer to training than to held-out records "
            f"(0.5 ideal; threshold {config.max_share_closer_to_train:g} or the 95% "
            f"binomial band at this n, whichever is wider)",
            half.get("share_closer_to_train"),
        )
        attacks = {"singling_out": res.get("singling_out"), "linkability": res.get("linkability")}
        attacks.update({f"inference[{k}]": v for k, v in (res.get("inference") or {}).items()})
        for name, att in attacks.items():
            if att is None:
                continue
            r = _num(att["risk"]["value"])
            lo = _num(att["risk"]["lower"])
            main = _num(att["main"]["value"])
            control = _num(att["control"]["value"])
            allowed = max(config.max_attack_risk, r - lo) if math.isfinite(r - lo) else 1.0
            thr = min(1.0, control + allowed * (1 - control))
            add(
                f"{pop}_{name}",
                main,
                thr,
                not (r > config.max_attack_risk and lo > 0),
                f"{name} attack success on training {pop} (held-out: on unseen people); risk "
                f"{r:.3f} (95% CI from {lo:.3f}) may exceed {config.max_attack_risk:g} only "
                "within its noise",
                control,
            )
    rare = list(privacy.get("real_extremes_reproduced", []))
    add(
        "rare_real_extremes",
        len(rare),
        config.max_rare_extremes,
        len(rare) <= config.max_rare_extremes,
        f"numeric columns releasing a real minimum/maximum held by fewer than "
        f"{config.extreme_min_count} training records: " + (", ".join(rare) or "none"),
    )
    for pop, near in sorted((privacy.get("near_copies") or {}).items()):
        syn, hold = _num(near["synthetic"]), _num(near["holdout"])
        thr = hold + config.max_near_copy_excess
        add(
            f"{pop}_near_copies",
            syn,
            thr,
            syn <= thr,
            f"share of synthetic {pop} closer to a training record than {near['factor']:g} x "
            f"the {near['quantile']:.0%} quantile of held-out {pop}' distances; at most the "
            f"held-out share ({hold:.2%}) + {config.max_near_copy_excess:.2%}",
            hold,
        )
    cats = list(privacy.get("real_categories_reproduced", []))
    add(
        "rare_real_categories",
        len(cats),
        config.max_rare_categories,
        len(cats) <= config.max_rare_categories,
        f"columns releasing a category fewer than {config.category_min_count} training "
        "families hold: " + (", ".join(cats) or "none"),
    )
    base = utility.get("pmse_holdout_baseline") or {}
    for t in utility["pmse"]:
        s = _num(utility["pmse"][t]["s_pmse"])
        h = _num((base.get(t) or {}).get("s_pmse"))
        thr = config.max_s_pmse + (max(0.0, h - 1.0) if math.isfinite(h) else 0.0)
        add(
            f"{t}_s_pmse",
            s,
            thr,
            s <= thr,
            f"two-way S_pMSE of {t} against the training rows (~1 ideal); at most "
            f"{config.max_s_pmse:g} + the held-out rows' own excess over 1",
            h if math.isfinite(h) else None,
        )
    q = _num(utility["quality"]["score"])
    hq = _num((utility.get("quality_holdout_baseline") or {}).get("score"))
    thr = min(config.min_quality_score, hq) if math.isfinite(hq) else config.min_quality_score
    add(
        "quality",
        q,
        thr,
        q >= thr,
        f"SDMetrics quality against the training families; at least "
        f"{config.min_quality_score:g} or the held-out families' own score, whichever is lower",
        hq if math.isfinite(hq) else None,
    )
    v = _num(utility["rules"]["row_violation_rate"])
    add(
        "rule_violations",
        v,
        config.max_rule_violation_rate,
        v <= config.max_rule_violation_rate,
        "share of released rows breaking a rule",
    )
    kv = min(utility["key_validity"].values())
    add("key_validity", kv, config.min_key_validity, kv >= config.min_key_validity, "valid keys")
    fid = utility["fidelity"]
    if config.require_effect_agreement:
        checks.extend(_effect_checks(fid, config))
    if config.require_ci_overlap:
        bad = [f"{r['outcome']}/{r['method']}" for r in fid if not r["ci_overlap"]]
        add(
            "ci_overlap",
            not bad,
            True,
            not bad,
            "effects without overlap: " + (", ".join(bad) or "none"),
        )
    if config.require_inside_real_ci:
        bad = [f"{r['outcome']}/{r['method']}" for r in fid if not r["inside_real_ci"]]
        add(
            "inside_real_ci",
            not bad,
            True,
            not bad,
            "synthetic estimates outside the real CI: " + (", ".join(bad) or "none"),
        )
    return checks
