"""The gate judged against the real held-out split: thresholds derived from what real unseen
families score, the effect test with both standard errors (an agreeing effect passes, an
erased, reversed or inflated one is refused), the DCR band, and the held-out figure in every
check that has one."""

from __future__ import annotations

import math
from typing import Any

import pytest

from fdac_research.synth import ReleaseGateConfig, compare_log_odds, dcr_threshold, evaluate_gate


def _effect(outcome: str, method: str, real: tuple[float, float], syn: tuple[float, float]):
    """A fidelity row with odds ratios ``real`` and ``syn`` given as (OR, SE of log OR)."""

    def est(orr: float, se: float) -> dict[str, Any]:
        lo, hi = math.exp(math.log(orr) - 1.96 * se), math.exp(math.log(orr) + 1.96 * se)
        return {
            "odds_ratio": orr,
            "odds_ratio_ci": [lo, hi],
            "log_odds_ratio": math.log(orr),
            "log_odds_ratio_se": se,
        }

    r, s = est(*real), est(*syn)
    return {
        "outcome": outcome,
        "method": method,
        "real": r,
        "synthetic": s,
        "ci_overlap": True,
        "log_or_test": compare_log_odds(r["log_odds_ratio"], real[1], s["log_odds_ratio"], syn[1]),
    }


def _reports(
    fidelity: list[dict[str, Any]] | None = None, **over: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Utility and privacy reports of a release that passes every check, with held-out
    figures; ``over`` replaces entries (see the keys below)."""
    utility = {
        "pmse": {"adults": {"s_pmse": over.get("s_pmse", 5.0)}},
        "pmse_holdout_baseline": {"adults": {"s_pmse": over.get("s_pmse_holdout", 4.0)}},
        "quality": {"score": over.get("quality", 0.78)},
        "quality_holdout_baseline": {"score": over.get("quality_holdout", 0.75)},
        "rules": {"row_violation_rate": 0.0},
        "key_validity": {"adults": 1.0},
        "fidelity": fidelity or [],
    }
    attack = {
        "risk": {"value": 0.05, "lower": -0.1},
        "main": {"value": 0.3},
        "control": {"value": 0.26},
    }
    privacy = {
        "exact_copies": {
            "synthetic": {"families": 0.0, "adults": over.get("adult_copies", 0.01)},
            "holdout": {"families": 0.0, "adults": 0.005},
        },
        "near_copies": {
            "families": {
                "synthetic": 0.0,
                "holdout": 0.0,
                "excess": 0.0,
                "factor": 0.25,
                "quantile": 0.05,
            }
        },
        "risk": {
            "adults": {
                "distances": {"share_closer_to_train": over.get("dcr", 0.55)},
                "n_synthetic": over.get("n_dcr", 200),
                "distances_holdout": {"share_closer_to_train": 0.52},
                "singling_out": attack,
                "linkability": attack,
                "inference": {"substances": attack},
            }
        },
    }
    return utility, privacy


def _checks(fidelity: list[dict[str, Any]] | None = None, **over: Any) -> dict[str, Any]:
    u, p = _reports(fidelity, **over)
    return {c.name: c for c in evaluate_gate(u, p, ReleaseGateConfig())}


def test_compare_log_odds_known_answer() -> None:
    # hand-worked in the docstring: OR 2 (SE 0.3) vs OR 4 (SE 0.4): z = log 2 / 0.5
    r = compare_log_odds(math.log(2), 0.3, math.log(4), 0.4)
    assert r["se"] == pytest.approx(0.5)
    assert r["z"] == pytest.approx(math.log(2) / 0.5)
    assert r["p_value"] == pytest.approx(0.1657, abs=1e-4)
    assert math.isnan(compare_log_odds(0.1, 0.0, 0.2, 0.0)["z"])


def test_every_check_with_a_real_analogue_records_the_held_out_figure() -> None:
    checks = _checks()
    assert all(c.passed for c in checks.values()), [c for c in checks.values() if not c.passed]
    expected = {
        "family_copies": 0.0,
        "adults_row_copies": 0.005,
        "adults_dcr": 0.52,
        "adults_singling_out": 0.26,
        "adults_linkability": 0.26,
        "adults_inference[substances]": 0.26,
        "families_near_copies": 0.0,
        "adults_s_pmse": 4.0,
        "quality": 0.75,
    }
    for name, hold in expected.items():
        assert checks[name].holdout == pytest.approx(hold), name
        assert checks[name].to_dict()["holdout"] == pytest.approx(hold), name
    for name in ("rule_violations", "key_validity", "rare_real_extremes"):
        assert checks[name].holdout is None and "holdout" in checks[name].to_dict()


def test_thresholds_follow_the_held_out_split() -> None:
    # S_pMSE: 10 + the held-out excess over 1 (4 - 1): 13 allowed, 13.5 refused
    assert _checks(s_pmse=12.9)["adults_s_pmse"].threshold == pytest.approx(13.0)
    assert _checks(s_pmse=12.9)["adults_s_pmse"].passed
    assert not _checks(s_pmse=13.5)["adults_s_pmse"].passed
    # a held-out split better than ideal does not tighten the fixed allowance
    assert _checks(s_pmse_holdout=0.5)["adults_s_pmse"].threshold == pytest.approx(10.0)
    # quality: 0.8, or the held-out families' own score where lower
    assert _checks(quality=0.76)["quality"].passed
    assert not _checks(quality=0.74)["quality"].passed
    assert _checks(quality_holdout=0.9)["quality"].threshold == pytest.approx(0.8)
    # adult row copies: held-out rate (0.5%) + 2 points
    assert _checks(adult_copies=0.024)["adults_row_copies"].passed
    assert not _checks(adult_copies=0.026)["adults_row_copies"].passed


def test_dcr_band_widens_only_where_the_binomial_noise_does() -> None:
    # 0.5 + 1.96 * 0.5 / sqrt(n): 0.598 at 100 (below 0.6), 0.6225 at 64, 0.6386 at 50
    assert dcr_threshold(0.6, 100) == 0.6
    assert dcr_threshold(0.6, 50) == pytest.approx(0.5 + 1.959964 * 0.5 / math.sqrt(50))
    assert _checks(dcr=0.63, n_dcr=50)["adults_dcr"].passed
    assert not _checks(dcr=0.63, n_dcr=400)["adults_dcr"].passed
    assert not _checks(dcr=0.7, n_dcr=50)["adults_dcr"].passed


def test_attack_check_fails_on_a_risk_clear_of_its_noise() -> None:
    u, p = _reports()
    p["risk"]["adults"]["inference"]["substances"] = {
        "risk": {"value": 0.35, "lower": 0.2},
        "main": {"value": 0.6},
        "control": {"value": 0.4},
    }
    checks = {c.name: c for c in evaluate_gate(u, p, ReleaseGateConfig())}
    c = checks["adults_inference[substances]"]
    assert not c.passed and c.holdout == pytest.approx(0.4) and c.value == pytest.approx(0.6)
    # in success-rate terms: control + max(0.2, half-width 0.15) * (1 - control) = 0.52
    assert c.threshold == pytest.approx(0.52)


EFFECTS = [("reunified", "naive"), ("ceased_misuse", "g_computation")]


def test_an_effect_agreeing_within_both_errors_passes() -> None:
    # real OR 2.2 (SE 0.35), synthetic 3.5 (SE 0.35): z = log(3.5/2.2) / 0.495 = 0.94
    fid = [_effect(o, m, (2.2, 0.35), (3.5, 0.35)) for o, m in EFFECTS]
    checks = _checks(fid)
    for o, m in EFFECTS:
        c = checks[f"effect_{o}_{m}"]
        assert c.passed and c.value == pytest.approx(math.log(3.5 / 2.2) / math.hypot(0.35, 0.35))
        assert "agrees within sampling noise" in c.detail


@pytest.mark.parametrize(
    ("syn", "words"),
    [
        ((0.45, 0.35), "reverses"),  # the effect inverted
        ((1.0, 0.30), "erases"),  # no effect left
        ((20.0, 0.35), "overstate"),  # inflated beyond both errors: z = 3.96
    ],
)
def test_a_destroyed_or_inflated_effect_is_refused(syn: tuple[float, float], words: str) -> None:
    fid = [_effect("ceased_misuse", "g_computation", (2.2, 0.35), syn)]
    c = _checks(fid)["effect_ceased_misuse_g_computation"]
    assert not c.passed
    assert words in c.detail and "cessation of misuse among mothers" in c.detail


def test_an_effect_that_cannot_be_estimated_is_refused() -> None:
    row = {"outcome": "reunified", "method": "naive", "error": "no events", "log_or_test": None}
    c = _checks([row])["effect_reunified_naive"]
    assert not c.passed and "no events" in c.detail


def test_bonferroni_over_the_effects() -> None:
    # z = 2.3: clear of 1.96 but not of the critical value for 4 effects at 5% (2.498)
    se = 0.4
    syn = math.exp(math.log(2.0) + 2.3 * math.hypot(se, se))
    fid = [_effect("reunified", m, (2.0, se), (syn, se)) for m in ("a", "b", "c", "d")]
    checks = _checks(fid)
    assert all(checks[f"effect_reunified_{m}"].passed for m in "abcd")
    assert checks["effect_reunified_a"].threshold == pytest.approx(2.4977, abs=1e-3)
    one = _checks(fid[:1])["effect_reunified_a"]
    assert not one.passed and one.threshold == pytest.approx(1.96, abs=1e-3)
