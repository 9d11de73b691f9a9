"""Probabilistic (Fellegi-Sunter) record linkage of court people and agency records.

Settings as data (:class:`LinkageModelConfig`, a ready :func:`uk_person_model`), one
estimator (:class:`LinkageModel`) over two engines (Splink on DuckDB or Spark; recordlinkage
in memory), clustering into people, evaluation against truth or clerical review, charts,
and :func:`link_sources`, which writes the crosswalk the governance stage reads.

Examples
--------
>>> from fdac_research.linkage import uk_person_model
>>> model = uk_person_model(match_threshold=0.95)
>>> model.match_threshold
0.95
"""

from fdac_research.linkage._charts import (
    m_u_chart,
    match_weight_histogram,
    precision_recall_chart,
    save_link_charts,
    waterfall_chart,
)
from fdac_research.linkage._cluster import cluster_pairs, person_key
from fdac_research.linkage._config import (
    COLUMN_KINDS,
    LEVEL_KINDS,
    ColumnSpec,
    Comparison,
    EMSettings,
    Level,
    LinkageModelConfig,
    derived_columns,
)
from fdac_research.linkage._evaluate import (
    clerical_sample,
    estimate_from_labels,
    evaluate_crosswalk,
    read_clerical_labels,
    read_truth,
    threshold_curve,
)
from fdac_research.linkage._levels import comparison_vectors, match_weights
from fdac_research.linkage._model import ENGINES, LinkageModel, make_engine
from fdac_research.linkage._pipeline import (
    CONTROLLER_NOTICE,
    LinkResult,
    link_sources,
    load_court_model,
    load_model_file,
    write_controller_notice,
)
from fdac_research.linkage._prepare import nickname_key_map, prepare
from fdac_research.linkage._tables import (
    blocking_analysis,
    dedupe_table,
    evaluate_clusters,
    infer_model,
    link_tables,
)
from fdac_research.linkage._uk import uk_person_model

__all__ = [
    "LinkageModelConfig",
    "ColumnSpec",
    "Comparison",
    "Level",
    "EMSettings",
    "LEVEL_KINDS",
    "COLUMN_KINDS",
    "derived_columns",
    "uk_person_model",
    "LinkageModel",
    "ENGINES",
    "make_engine",
    "prepare",
    "nickname_key_map",
    "comparison_vectors",
    "match_weights",
    "cluster_pairs",
    "person_key",
    "link_sources",
    "load_court_model",
    "load_model_file",
    "LinkResult",
    "CONTROLLER_NOTICE",
    "write_controller_notice",
    "read_truth",
    "evaluate_crosswalk",
    "threshold_curve",
    "clerical_sample",
    "read_clerical_labels",
    "estimate_from_labels",
    "match_weight_histogram",
    "m_u_chart",
    "waterfall_chart",
    "precision_recall_chart",
    "save_link_charts",
    "infer_model",
    "dedupe_table",
    "link_tables",
    "blocking_analysis",
    "evaluate_clusters",
]
