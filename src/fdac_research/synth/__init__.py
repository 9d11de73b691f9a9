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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fdac_research.synth._base import BaseSynthesizer
    from fdac_research.synth._cart import CARTSynthesizer
    from fdac_research.synth._fidelity import compare_log_odds, effect_fidelity, interval_overlap
    from fdac_research.synth._gate import (
        GateCheck,
        ReleaseGateConfig,
        dcr_threshold,
        evaluate_gate,
    )
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

# Imported on first use (PEP 562) so that the command line starts fast.
_LAZY = {
    "BaseSynthesizer": "_base",
    "CARTSynthesizer": "_cart",
    "effect_fidelity": "_fidelity",
    "interval_overlap": "_fidelity",
    "compare_log_odds": "_fidelity",
    "dcr_threshold": "_gate",
    "GateCheck": "_gate",
    "ReleaseGateConfig": "_gate",
    "evaluate_gate": "_gate",
    "COMPATIBLE_ORDERS": "_metadata",
    "RULES": "_metadata",
    "ColumnSpec": "_metadata",
    "column_specs": "_metadata",
    "rule_violations": "_metadata",
    "sdv_metadata_dict": "_metadata",
    "DEFAULT_MODEL": "_release",
    "MODELS": "_release",
    "REPORT_HTML": "_release",
    "REPORT_JSON": "_release",
    "ReleaseResult": "_release",
    "evaluate_release": "_release",
    "make_synthesizer": "_release",
    "split_holdout": "_release",
    "synthesise": "_release",
    "HMASynthesizer": "_sdv",
    "children_per_case": "_utility",
    "foreign_key_validity": "_utility",
    "pmse": "_utility",
    "quality_score": "_utility",
}

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
    "compare_log_odds",
    "ReleaseGateConfig",
    "dcr_threshold",
    "GateCheck",
    "evaluate_gate",
    "split_holdout",
    "evaluate_release",
    "ReleaseResult",
    "synthesise",
    "REPORT_JSON",
    "REPORT_HTML",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f"fdac_research.synth.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'fdac_research.synth' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
