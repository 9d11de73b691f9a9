"""The release gate: thresholds a synthetic release must meet before anything is written.

Every check compares one measured figure with one threshold of :class:`ReleaseGateConfig`
and records ``passed`` with the figures, so a refusal says exactly why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from fdac_research.config import ConfigBase

__all__ = ["ReleaseGateConfig", "GateCheck", "evaluate_gate"]


@dataclass(frozen=True)
class ReleaseGateConfig(ConfigBase):
    """Thresholds of the release gate (defaults documented per field).

    Parameters
    ----------
    max_family_copy_rate : float, default 0.0
        Share of synthetic families (case + adults + children) identical to a real training
        family. Zero: no real family may appear in a release.
    max_row_copy_excess : float, default 0.02
        For adults (13 attributes, one continuous), the share of synthetic rows identical
        to a training row may exceed the share among held-out real rows (chance
        coincidences) by at most this. Case rows (8 coarse attributes, none continuous for
        an open case) and child rows (7 coarse attributes) coincide with real rows by
        chance so often that they are reported but judged through families and attacks.
    max_share_closer_to_train : float, default 0.6
        Share of synthetic persons closer (DCR) to the training persons than to the
        held-out ones (0.5 when nothing is memorised; equal-size samples).
    max_attack_risk : float, default 0.2
        Anonymeter-style risk ``(main - control) / (1 - control)`` of singling out,
        linkability and every inference attack, per population. A check fails when the
        point estimate exceeds this *and* the 95% interval excludes zero: with a few hundred
        held-out people the interval is about +-0.1 to +-0.2 wide, and a release must not
        be refused on noise alone (both figures are in the report).
    max_s_pmse : float, default 10.0
        Largest two-way S_pMSE over the three tables (synthpop: ~1 ideal, < 3 good); a
        release far from the real distribution would mislead its users.
    min_quality_score : float, default 0.8
        SDMetrics multi-table quality score.
    max_rule_violation_rate : float, default 0.0
        Share of released rows breaking a contract rule.
    min_key_validity : float, default 1.0
        Share of adult and child rows whose case exists.
    require_ci_overlap : bool, default True
        Every effect estimate's 95% interval on synthetic data overlaps the real one.
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
        exceed the held-out records' own share by at most this. A synthesizer releasing real
        families with a value nudged is refused from about 1% of its families on.
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
    require_ci_overlap: bool = True
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
        for name in ("require_ci_overlap", "require_inside_real_ci"):
            if not isinstance(getattr(self, name), bool):
                out.append(f"{name} must be true or false, got {getattr(self, name)!r}")
        return out


@dataclass(frozen=True)
class GateCheck:
    """One gate check: what was measured, the threshold, and whether it passed."""

    name: str
    value: Any
    threshold: Any
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "value": self.value,
            "threshold": self.threshold,
            "passed": self.passed,
            "detail": self.detail,
        }


def _num(x: Any) -> float:
    return float(x) if x is not None and not (isinstance(x, float) and math.isnan(x)) else math.nan


def evaluate_gate(
    utility: dict[str, Any], privacy: dict[str, Any], config: ReleaseGateConfig
) -> list[GateCheck]:
    """All gate checks of a release (see :class:`ReleaseGateConfig`)."""
    checks: list[GateCheck] = []

    def add(name: str, value: Any, threshold: Any, ok: bool, detail: str) -> None:
        checks.append(GateCheck(name, value, threshold, bool(ok), detail))

    copies = privacy["exact_copies"]
    fam = copies["synthetic"]["families"]
    add(
        "family_copies",
        fam,
        config.max_family_copy_rate,
        fam <= config.max_family_copy_rate,
        "share of synthetic families identical to a real family",
    )
    for t in ("adults",):
        excess = copies["synthetic"][t] - copies["holdout"][t]
        add(
            f"{t}_row_copies",
            excess,
            config.max_row_copy_excess,
            excess <= config.max_row_copy_excess,
            f"synthetic {t} rows copying a real row ({copies['synthetic'][t]:.2%}) minus the "
            f"held-out rate ({copies['holdout'][t]:.2%})",
        )
    risk = privacy.get("risk") or {}
    for pop, res in risk.items():
        share = _num(res["distances"]["share_closer_to_train"])
        add(
            f"{pop}_dcr",
            share,
            config.max_share_closer_to_train,
            share <= config.max_share_closer_to_train,
            f"share of synthetic {pop} closer to training than to held-out records (0.5 ideal)",
        )
        attacks = {"singling_out": res.get("singling_out"), "linkability": res.get("linkability")}
        attacks.update({f"inference[{k}]": v for k, v in (res.get("inference") or {}).items()})
        for name, att in attacks.items():
            if att is None:
                continue
            r = _num(att["risk"]["value"])
            lo = _num(att["risk"]["lower"])
            add(
                f"{pop}_{name}",
                r,
                config.max_attack_risk,
                not (r > config.max_attack_risk and lo > 0),
                f"{name} attack risk on {pop} above the held-out control (95% CI from {lo:.3f})",
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
        excess = _num(near["excess"])
        add(
            f"{pop}_near_copies",
            excess,
            config.max_near_copy_excess,
            excess <= config.max_near_copy_excess,
            f"synthetic {pop} closer to a training record than {near['factor']:g} x the "
            f"{near['quantile']:.0%} quantile of held-out {pop}' distances "
            f"({_num(near['synthetic']):.2%}) minus the held-out share "
            f"({_num(near['holdout']):.2%})",
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
    s = max(_num(utility["pmse"][t]["s_pmse"]) for t in utility["pmse"])
    add("s_pmse", s, config.max_s_pmse, s <= config.max_s_pmse, "largest two-way S_pMSE")
    q = _num(utility["quality"]["score"])
    add("quality", q, config.min_quality_score, q >= config.min_quality_score, "SDMetrics score")
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
