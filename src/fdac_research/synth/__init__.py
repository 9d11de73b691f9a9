"""Synthetic releases of the research dataset, with a utility report, a privacy report and a
release gate.

* Synthesizers (``fit(research) -> self``, ``sample(scale, seed) -> ResearchData``):
  :class:`CARTSynthesizer` (relational sequential CART, synthpop's method on scikit-learn;
  the default) and :class:`HMASynthesizer` (SDV's HMA; SDV is under the Business Source
  License 1.1). Metadata comes from the package schema only; the contract's rules
  (:data:`RULES`) are enforced on every output.
* :func:`synthesise` — hold out real families, fit, sample, measure utility
  (SDMetrics quality, two-way S_pMSE, rules, keys, children per case, FDAC effects on real vs
  synthetic) and privacy (exact copies; DCR and attacks from :mod:`fdac_research.risk`),
  apply :class:`ReleaseGateConfig`, write the release atomically or refuse it.
* Command line: ``fdac-research synthesise RESEARCH --out DIR [--model NAME] [--seed S]
  [--scale X]``.
"""

from fdac_research.synth._base import BaseSynthesizer
from fdac_research.synth._cart import CARTSynthesizer
from fdac_research.synth._fidelity import effect_fidelity, interval_overlap
from fdac_research.synth._gate import GateCheck, ReleaseGateConfig, evaluate_gate
from fdac_research.synth._metadata import (
    COMPATIBLE_ORDERS,
    RULES,
    ColumnSpec,
    column_specs,
    rule_violations,
    sdv_metadata_dict,
)
from fdac_research.synth._release import (
    DEFAULT_MODEL,
    MODELS,
    REPORT_HTML,
    REPORT_JSON,
    ReleaseResult,
    evaluate_release,
    make_synthesizer,
    split_holdout,
    synthesise,
)
from fdac_research.synth._sdv import HMASynthesizer
from fdac_research.synth._utility import (
    children_per_case,
    foreign_key_validity,
    pmse,
    quality_score,
)

__all__ = [
    "BaseSynthesizer",
    "CARTSynthesizer",
    "HMASynthesizer",
    "MODELS",
    "DEFAULT_MODEL",
    "make_synthesizer",
    "ColumnSpec",
    "column_specs",
    "sdv_metadata_dict",
    "RULES",
    "COMPATIBLE_ORDERS",
    "rule_violations",
    "pmse",
    "quality_score",
    "foreign_key_validity",
    "children_per_case",
    "effect_fidelity",
    "interval_overlap",
    "ReleaseGateConfig",
    "GateCheck",
    "evaluate_gate",
    "split_holdout",
    "evaluate_release",
    "ReleaseResult",
    "synthesise",
    "REPORT_JSON",
    "REPORT_HTML",
]
