"""Disclosure risk: microdata, output tables and synthetic data.

- :func:`microdata_risk` scores a microdata frame (k-anonymity, sample uniques, sdcMicro's
  individual and global risk, l-diversity, SUDA, family-level risk, attack models).
- :mod:`~fdac_research.risk.fixes` (:func:`recode_bands`, :func:`recode_map`,
  :func:`top_bottom_code`, :func:`local_suppression`) shows what each fix buys.
- :func:`check_table` / :func:`check_table_or_raise` check frequency and magnitude tables
  (threshold, zeros, p%, dominance, rounding) with secondary suppression proved by LP.
- :func:`write_risk_report` writes the reviewer's HTML + JSON report for a research folder.
- :func:`synthetic_privacy` measures a synthetic release against held-out real records
  (DCR, NNDR, singling-out / linkability / inference attacks with confidence intervals).
"""

from fdac_research.risk.fixes import (
    FixResult,
    local_suppression,
    recode_bands,
    recode_map,
    top_bottom_code,
)
from fdac_research.risk.microdata import MicrodataRiskResult, individual_risk, microdata_risk
from fdac_research.risk.synthetic import (
    AttackResult,
    Rate,
    SyntheticPrivacyResult,
    distance_metrics,
    inference_attack,
    linkability_attack,
    near_copy_rates,
    singling_out_attack,
    synthetic_privacy,
)
from fdac_research.risk.tables import (
    PRESETS,
    TableCheckResult,
    TableRules,
    TableSpec,
    check_table,
    check_table_or_raise,
    tabulate,
)

__all__ = [
    "MicrodataRiskResult",
    "individual_risk",
    "microdata_risk",
    "FixResult",
    "recode_bands",
    "recode_map",
    "top_bottom_code",
    "local_suppression",
    "PRESETS",
    "TableRules",
    "TableSpec",
    "TableCheckResult",
    "tabulate",
    "check_table",
    "check_table_or_raise",
    "risk_report",
    "scoring_frame",
    "write_risk_report",
    "synthetic_privacy",
    "SyntheticPrivacyResult",
    "AttackResult",
    "Rate",
    "distance_metrics",
    "near_copy_rates",
    "singling_out_attack",
    "linkability_attack",
    "inference_attack",
]


def __getattr__(name: str) -> object:
    # the report pulls in matplotlib: import it only when asked for
    if name in ("risk_report", "scoring_frame", "write_risk_report"):
        from fdac_research.risk import report

        return getattr(report, name)
    raise AttributeError(f"module 'fdac_research.risk' has no attribute {name!r}")
