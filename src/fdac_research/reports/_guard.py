"""Refuse to show, in a report notebook, a table that has not passed the output check.

:func:`~fdac_research.reports.publish_table` and
:func:`~fdac_research.reports.publish_estimates` register the frame they return (exactly that
object: a copy, a slice or a rounded version is a different table). Once a notebook has called
:func:`require_checked_tables`, IPython renders a pandas table only if it is one of those;
any other raises :class:`~fdac_research.exceptions.DisclosureError` in the cell's output, which
papermill treats as a failed cell, so the report, and the build, fail.
"""

from __future__ import annotations

import weakref
from typing import Any

import pandas as pd

from fdac_research.exceptions import DisclosureError

__all__ = ["is_checked", "mark_checked", "require_checked_tables"]

_CHECKED: weakref.WeakValueDictionary[int, pd.DataFrame] = weakref.WeakValueDictionary()


def mark_checked(table: pd.DataFrame) -> pd.DataFrame:
    """Record ``table`` as having passed the output check; returns it."""
    _CHECKED[id(table)] = table
    return table


def is_checked(obj: Any) -> bool:
    """Whether ``obj`` (a DataFrame, or a Styler of one) is a table returned by a publish_*
    call."""
    from pandas.io.formats.style import Styler

    data = getattr(obj, "data", None) if isinstance(obj, Styler) else obj
    return _CHECKED.get(id(data)) is data


def _require(obj: Any) -> None:
    if not is_checked(obj):
        raise DisclosureError(
            f"a {type(obj).__name__} that has not passed the output check cannot be shown in a "
            "report: display the table returned by publish_table, publish_estimates or publish_summary"
        )


def _plain(obj: Any, p: Any, cycle: bool) -> None:
    _require(obj)
    p.text(repr(obj))


def _method(name: str) -> Any:
    def show(obj: Any) -> Any:
        _require(obj)
        return getattr(obj, name)()

    return show


def require_checked_tables() -> bool:
    """In an IPython kernel, render only output-checked pandas tables from now on.

    Returns ``False`` (and does nothing) outside IPython.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the notebook stack
        return False
    from pandas.io.formats.style import Styler

    ip = get_ipython()
    if ip is None:
        return False
    for mime, formatter in ip.display_formatter.formatters.items():
        for cls in (pd.DataFrame, pd.Series, Styler):
            if mime == "text/plain":
                formatter.for_type(cls, _plain)
            elif hasattr(cls, formatter.print_method):
                formatter.for_type(cls, _method(formatter.print_method))
    return True
