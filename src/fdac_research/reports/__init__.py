"""Published findings: papermill runs the notebooks, nbconvert renders HTML, every published
table passes the disclosure output check first, and a manifest records how it was made."""

from fdac_research.reports._guard import require_checked_tables
from fdac_research.reports._notebooks import NotebookFailed, execute_notebook, render_html
from fdac_research.reports.pipeline import NOTEBOOKS, PipelineConfig, StageFailed, run_pipeline
from fdac_research.reports.publish import (
    DEFAULT_RULES,
    publish_estimates,
    publish_summary,
    publish_table,
)

__all__ = [
    "DEFAULT_RULES",
    "publish_estimates",
    "publish_summary",
    "publish_table",
    "require_checked_tables",
    "NOTEBOOKS",
    "NotebookFailed",
    "PipelineConfig",
    "StageFailed",
    "execute_notebook",
    "render_html",
    "run_pipeline",
]
