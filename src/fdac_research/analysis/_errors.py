"""The analysis capability's error: data that cannot support the requested analysis."""

from __future__ import annotations

from fdac_research.exceptions import FdacResearchError

__all__ = ["AnalysisError"]


class AnalysisError(FdacResearchError, ValueError):
    """The data or the arguments cannot support the requested analysis.

    Raised, with a message naming the column, argument or group at fault, for missing
    columns, a single treatment arm, an outcome with no events (or no non-events), an unknown
    method or outcome, and effects files without the expected keys.
    """
