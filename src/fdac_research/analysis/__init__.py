"""Cohort profiles and the outcome evaluation of FDAC against ordinary care proceedings.

Tested functions the notebooks call:

* :func:`profile_tables` / :func:`profile_table` / :func:`add_percentages` — integer count
  tables (FDAC vs comparison) ready for the disclosure output check;
* :func:`analysis_frame` — one row per child or parent with treatment, outcome, covariates
  and the family cluster;
* :func:`naive_contrast`, :func:`g_computation`, :func:`ipw`, :func:`ps_matching`,
  :func:`aipw` (and :func:`evaluate` for all of them) — :class:`EffectResult` with risk
  difference, odds ratio and risk ratio, cluster-robust or cluster-bootstrap intervals;
* :func:`balance_table`, :func:`love_plot`, :func:`overlap_plot` — balance and overlap;
* :func:`forest_plot` — estimates with intervals (and the truth, for synthetic worlds);
* :func:`e_value`, :func:`evalue_rr`, :func:`evalue_or`, :func:`is_sensitive_to_hidden_bias`
  — sensitivity to unmeasured confounding;
* :func:`compare_with_benchmark`, :func:`negative_control_check`,
  :func:`check_robustness` — the checks that can see hidden bias, and a verdict in words;
* :func:`compare_with_truth`, :func:`estimates_table` — tables for the report;
* :func:`survival_frame`, :func:`kaplan_meier`, :func:`kaplan_meier_by_cohort`,
  :func:`cox_model` — time to the family's next care proceedings (Greenwood intervals,
  cluster-robust Cox hazard ratio).
"""

from fdac_research.analysis._balance import (
    balance_table,
    love_plot,
    standardised_mean_differences,
    trim_by_propensity,
)
from fdac_research.analysis._errors import AnalysisError
from fdac_research.analysis._estimators import (
    DEFAULT_VARIANCE,
    VARIANCES,
    aipw,
    g_computation,
    ipw,
    ipw_weights,
    matching_weights,
    naive_contrast,
    propensity_scores,
    ps_matching,
)
from fdac_research.analysis._evaluate import evaluate, evaluate_each
from fdac_research.analysis._frames import (
    DERIVED_OUTCOMES,
    NEGATIVE_CONTROLS,
    OUTCOME_POPULATIONS,
    AnalysisFrame,
    analysis_frame,
)
from fdac_research.analysis._plots import forest_plot, overlap_plot
from fdac_research.analysis._profile import (
    AGE_BANDS,
    NOT_RECORDED,
    PROFILE_VARIABLES,
    TOTAL,
    add_percentages,
    as_check_table,
    profile_table,
    profile_tables,
)
from fdac_research.analysis._results import EffectResult, Estimate, cluster_variance
from fdac_research.analysis._robustness import (
    NegativeControlCheck,
    RobustnessCheck,
    check_robustness,
    negative_control_check,
)
from fdac_research.analysis._sensitivity import (
    ZHANG_REUNIFICATION_OR,
    BenchmarkComparison,
    EValueResult,
    bias_adjusted_risk_ratio,
    bias_factor,
    compare_with_benchmark,
    confounder_strength,
    e_value,
    evalue_or,
    evalue_rr,
    is_sensitive_to_hidden_bias,
)
from fdac_research.analysis._survival import (
    CoxResult,
    SurvivalFrame,
    cox_model,
    kaplan_meier,
    kaplan_meier_by_cohort,
    survival_at,
    survival_frame,
)
from fdac_research.analysis._tables import compare_with_truth, estimates_table, load_effects

__all__ = [
    "AnalysisError",
    "AnalysisFrame",
    "analysis_frame",
    "OUTCOME_POPULATIONS",
    "DERIVED_OUTCOMES",
    "NEGATIVE_CONTROLS",
    "VARIANCES",
    "EffectResult",
    "Estimate",
    "cluster_variance",
    "naive_contrast",
    "g_computation",
    "ipw",
    "ps_matching",
    "aipw",
    "evaluate",
    "evaluate_each",
    "DEFAULT_VARIANCE",
    "propensity_scores",
    "ipw_weights",
    "matching_weights",
    "standardised_mean_differences",
    "balance_table",
    "love_plot",
    "trim_by_propensity",
    "forest_plot",
    "overlap_plot",
    "EValueResult",
    "evalue_rr",
    "evalue_or",
    "e_value",
    "is_sensitive_to_hidden_bias",
    "bias_factor",
    "confounder_strength",
    "bias_adjusted_risk_ratio",
    "BenchmarkComparison",
    "compare_with_benchmark",
    "ZHANG_REUNIFICATION_OR",
    "NegativeControlCheck",
    "RobustnessCheck",
    "negative_control_check",
    "check_robustness",
    "PROFILE_VARIABLES",
    "TOTAL",
    "NOT_RECORDED",
    "AGE_BANDS",
    "profile_table",
    "profile_tables",
    "add_percentages",
    "as_check_table",
    "estimates_table",
    "compare_with_truth",
    "load_effects",
    "SurvivalFrame",
    "CoxResult",
    "survival_frame",
    "kaplan_meier",
    "kaplan_meier_by_cohort",
    "survival_at",
    "cox_model",
]
