"""Disclosure risk: microdata, output tables and synthetic data.

- :func:`microdata_risk` scores a microdata frame (k-anonymity, sample uniques, sdcMicro's
  individual and global risk, l-diversity, SUDA, family-level risk, attack models).
- :mod:`~fdac_research.risk.fixes` (:func:`recode_bands`, :func:`recode_map`,
  :func:`top_bottom_code`, :func:`local_suppression`) shows what each fix buys.
"""

from fdac_research.risk.fixes import (
    FixResult,
    local_suppression,
    recode_bands,
    recode_map,
    top_bottom_code,
)
from fdac_research.risk.microdata import MicrodataRiskResult, individual_risk, microdata_risk

__all__ = [
    "MicrodataRiskResult",
    "individual_risk",
    "microdata_risk",
    "FixResult",
    "recode_bands",
    "recode_map",
    "top_bottom_code",
    "local_suppression",
]
