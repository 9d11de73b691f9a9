"""Tables and charts for people: what the HTML reports show of the published tables.

The published CSVs keep every column (the output checks run on them, and a researcher
wants the full detail); the reports show a reader's version of the same rows: labelled
columns with units, percentages, whole numbers, an estimate with its interval in one cell
("1.86 (1.63–2.12)"), method names in words. :func:`people_table` builds it **only from a
table a publish_* call returned** (anything else raises, as showing it would under
:func:`~fdac_research.reports.require_checked_tables`), so nothing unchecked reaches a
report. :func:`chart` and :func:`image` show a figure as an inline PNG with alt text (the
nbconvert lab template would give every image the same placeholder).

Everything here is deterministic: the same table gives the same HTML, the same figure the
same PNG bytes.

Examples
--------
>>> fmt_estimate(1.8567, 1.63, 2.1249)
'1.86 (1.63–2.12)'
>>> fmt_percent(0.4334)
'43.3%'
>>> fmt_int("36.0")
'36'
>>> fmt_int("[c]")
'[c]'
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from fdac_research.exceptions import DisclosureError
from fdac_research.reports._guard import is_checked
from fdac_research.risk.tables import SUPPRESSED

__all__ = [
    "COUNT_NOTE",
    "Col",
    "GLOSSARY",
    "count_alt",
    "count_table",
    "METHOD_NAMES",
    "chart",
    "fmt_estimate",
    "fmt_int",
    "fmt_number",
    "fmt_percent",
    "glossary",
    "image",
    "image_grid",
    "method_name",
    "people_table",
]

_IDENTIFIER = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
#: How a missing value is shown (never ``NaN`` or ``<NA>``).
MISSING = "–"

#: Estimator identifiers (``method (estimand)`` as in the published CSVs) in words.
METHOD_NAMES: dict[str, str] = {
    "naive": "Unadjusted comparison",
    "g_computation": "Outcome regression",
    "ipw": "Inverse probability weighting",
    "ipw_ate": "Inverse probability weighting (ATE)",
    "matching": "Propensity-score matching",
    "aipw": "Doubly robust",
    "unadjusted": "Before adjustment",
}
_ESTIMANDS = {
    "association": "no adjustment",
    "ATE": "ATE",
    "ATT": "ATT",
}

#: Short definitions shown under the tables that use the terms.
GLOSSARY: dict[str, str] = {
    "ATE": "average treatment effect: the difference FDAC would make if every family in "
    "the study went through it, against none.",
    "ATT": "average treatment effect on the treated: the difference FDAC made for the "
    "families who went through it.",
    "Unadjusted comparison": "FDAC families against comparison families as they are, with "
    "no allowance for how they differ.",
    "Outcome regression": "a model of the outcome given the families' recorded "
    "characteristics, used to predict each family's outcome with and without FDAC "
    "(g-computation).",
    "Inverse probability weighting (IPW)": "each family weighted by the inverse of its "
    "estimated chance of being in the arm it was in, so that the arms look alike on the "
    "recorded characteristics.",
    "Propensity-score matching": "each FDAC family compared with the comparison family most "
    "like it in its estimated chance of going to FDAC.",
    "Doubly robust": "outcome regression and weighting combined (augmented IPW): the "
    "estimate is right if either model is.",
    "Odds ratio": "the odds of the outcome in FDAC divided by the odds in comparison "
    "proceedings; above 1 means the outcome was more common in FDAC.",
    "95% CI": "95% confidence interval: the range of effects compatible with the data, "
    "allowing for families with several children or parents.",
    "E-value": "how strongly (as a risk ratio) an unmeasured confounder would have to be "
    "associated with both FDAC and the outcome to explain the estimate away "
    "(VanderWeele and Ding, 2017).",
    "SMD": "standardised mean difference between the arms; under 0.1 is usually taken as balanced.",
    "Kaplan–Meier": "the share still without the event (here a later care case) at each "
    "time, estimated so that cases followed for a shorter time count for as long as they "
    "were followed (censoring).",
    "Hazard ratio": "the rate of the event (here a later care case) in FDAC divided by the "
    "rate in comparison proceedings, at any time during follow-up (Cox model); below 1 "
    "means it happened less often in FDAC.",
    "S_pMSE": "standardised propensity mean squared error: how well a model can tell "
    "synthetic rows from real ones, relative to chance (about 1 is ideal, under 3 good).",
}


def method_name(label: object) -> str:
    """``"aipw (ATE)"`` -> ``"Doubly robust (ATE)"``; unknown labels are returned as text.

    >>> method_name("naive (association)")
    'Unadjusted comparison'
    >>> method_name("g_computation (ATT)")
    'Outcome regression (ATT)'
    """
    text = str(label)
    base, _, rest = text.partition(" (")
    estimand = rest.rstrip(")") if rest else ""
    name = METHOD_NAMES.get(base)
    if name is None:
        return text.replace("_", " ")
    shown = _ESTIMANDS.get(estimand, estimand)
    return name if not shown or shown == "no adjustment" else f"{name} ({shown})"


def _number(value: object) -> float | None:
    """A finite number, or None for missing, text and ``[c]``."""
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _special(value: object) -> str | None:
    """How ``[c]`` and missing values are shown, or None for an ordinary value."""
    if isinstance(value, str) and value.strip() == SUPPRESSED:
        return SUPPRESSED
    if _missing(value) or (isinstance(value, str) and value.strip() in ("", "nan", "<NA>")):
        return MISSING
    return None


def fmt_int(value: object) -> str:
    """A whole number with thousands separators (``"36.0"`` -> ``"36"``)."""
    special = _special(value)
    if special is not None:
        return special
    x = _number(value)
    return f"{int(round(x)):,}" if x is not None else str(value)


def fmt_number(value: object, decimals: int = 2) -> str:
    """A number to ``decimals`` places (text and ``[c]`` as they are)."""
    special = _special(value)
    if special is not None:
        return special
    x = _number(value)
    return f"{x:,.{decimals}f}" if x is not None else str(value)


def fmt_percent(value: object, decimals: int = 1, *, scale: float = 100.0) -> str:
    """A proportion as a percentage (``0.4334`` -> ``"43.3%"``); ``scale=1`` when the value
    is a percentage already."""
    special = _special(value)
    if special is not None:
        return special
    x = _number(value)
    return f"{scale * x:.{decimals}f}%" if x is not None else str(value)


def _scaled(value: object, scale: float) -> object:
    x = _number(value)
    return value if x is None or scale == 1.0 else x * scale


def fmt_estimate(value: object, low: object, high: object, decimals: int = 2) -> str:
    """An estimate and its interval in one cell: ``1.86 (1.63–2.12)``."""
    for v in (value, low, high):
        special = _special(v)
        if special == SUPPRESSED:
            return SUPPRESSED
    x, lo, hi = _number(value), _number(low), _number(high)
    if x is None:
        return MISSING
    if lo is None or hi is None:
        return f"{x:.{decimals}f}"
    return f"{x:.{decimals}f} ({lo:.{decimals}f}–{hi:.{decimals}f})"


def fmt_bool(value: object) -> str:
    """Yes/no (text ``True``/``False`` as the CSV holds it too)."""
    special = _special(value)
    if special is not None:
        return special
    text = str(value).strip().lower()
    if text in ("true", "1", "1.0"):
        return "yes"
    if text in ("false", "0", "0.0"):
        return "no"
    return str(value)


@dataclass(frozen=True)
class Col:
    """One column of a reader's table.

    Parameters
    ----------
    label : str
        The column heading, with its unit.
    source : str or tuple of str
        The published column; for ``kind="estimate"`` the (value, low, high) columns.
        ``"@index"`` is the row label.
    kind : str
        ``text``, ``int``, ``percent`` (a proportion), ``percent100`` (a percentage),
        ``number``, ``estimate``, ``bool`` or ``method`` (an estimator label in words;
        from (method, estimand) columns too).
    decimals : int, optional
        Decimal places of numbers, percentages and estimates (default 1 for percentages,
        2 otherwise).
    scale : float
        Multiplies an estimate and its interval (100: a proportion in percentage points).
    """

    label: str
    source: str | tuple[str, ...]
    kind: str = "text"
    decimals: int | None = None
    scale: float = 1.0

    @property
    def places(self) -> int:
        """Decimal places: as given, else 1 for percentages and 2 otherwise."""
        if self.decimals is not None:
            return self.decimals
        return 1 if self.kind in ("percent", "percent100") else 2

    def cell(self, row: Any, index: object) -> str:
        if self.kind == "estimate":
            if not isinstance(self.source, tuple) or len(self.source) != 3:
                raise ValueError(f"column {self.label!r}: an estimate needs (value, low, high)")
            v, lo, hi = (_scaled(row[c], self.scale) for c in self.source)
            return fmt_estimate(v, lo, hi, self.places)
        if self.kind == "method" and isinstance(self.source, tuple):
            method, estimand = (row[c] for c in self.source)
            special = _special(method)
            return special if special is not None else method_name(f"{method} ({estimand})")
        if isinstance(self.source, tuple):
            raise ValueError(f"column {self.label!r}: {self.kind} takes one source column")
        value = index if self.source == "@index" else row[str(self.source)]
        if self.kind == "int":
            return fmt_int(value)
        if self.kind == "percent":
            return fmt_percent(value, self.places)
        if self.kind == "percent100":
            return fmt_percent(value, self.places, scale=1.0)
        if self.kind == "number":
            return fmt_number(value, self.places)
        if self.kind == "bool":
            return fmt_bool(value)
        if self.kind == "method":
            special = _special(value)
            return special if special is not None else method_name(value)
        if self.kind != "text":
            raise ValueError(f"column {self.label!r}: unknown kind {self.kind!r}")
        special = _special(value)
        if special is not None:
            return special
        text = str(value)
        # an identifier (care_order, reunified_children) in words; prose kept as written
        return text.replace("_", " ") if _IDENTIFIER.match(text) else text


_T = ".jp-RenderedHTMLCommon table.fdac-table"  # beats the lab template's table rules
_TABLE_CSS = (
    "<style>"
    f"table.fdac-table,{_T}{{border-collapse:collapse;table-layout:auto;width:auto;"
    "max-width:100%;margin:0.5em 0 1em 0;font-size:0.85rem}"
    f"{_T} caption{{text-align:left;font-weight:600;padding:0 0 0.3em 0;caption-side:top}}"
    f"{_T} th,{_T} td{{padding:0.25em 0.6em;border-bottom:1px solid #ddd;"
    "white-space:normal;overflow-wrap:break-word;vertical-align:top;text-align:left}"
    f"{_T} th{{background:#f4f4f4;font-weight:600}}"
    f"{_T} td.num{{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}}"
    f"{_T} tbody tr:nth-child(odd){{background:#fafafa}}"
    ".fdac-glossary{font-size:0.85rem;color:#333;max-width:60rem}"
    ".fdac-figure{margin:0.5em 0 1.5em 0}"
    ".fdac-figure img{max-width:100%;height:auto}"
    ".fdac-figure figcaption{font-size:0.85rem;color:#444}"
    ".fdac-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));"
    "gap:1em}"
    "</style>"
)
_NUMERIC_KINDS = ("int", "percent", "percent100", "number", "estimate")


class _Html:
    """A block of HTML for IPython (``display`` shows it as text/html)."""

    def __init__(self, body: str, text: str) -> None:
        self._body = body
        self._text = text

    def _repr_html_(self) -> str:
        return self._body

    def __repr__(self) -> str:
        return self._text

    @property
    def html(self) -> str:
        """The HTML shown."""
        return self._body


def people_table(
    published: pd.DataFrame,
    columns: Sequence[Col],
    *,
    caption: str = "",
    rows: Sequence[object] | None = None,
    note: str = "",
) -> _Html:
    """A reader's table from the rows of a published table.

    Parameters
    ----------
    published : pandas.DataFrame
        A table returned by a publish_* call (anything else raises
        :class:`~fdac_research.exceptions.DisclosureError`).
    columns : sequence of Col
        What to show, in order.
    caption : str
        The table's title.
    rows : sequence, optional
        Index labels of the rows to show, in order (default: all). Labels not in the table
        are skipped.
    note : str
        A line under the table (plain text).
    """
    if not is_checked(published):
        raise DisclosureError(
            "people_table shows only a table returned by publish_table, publish_estimates "
            "or publish_summary"
        )
    missing = sorted(
        {
            c
            for col in columns
            for c in (col.source if isinstance(col.source, tuple) else (col.source,))
            if c != "@index" and c not in published.columns
        }
    )
    if missing:
        raise ValueError(
            f"people_table: column(s) {missing} are not in the published table; it has "
            f"{[str(c) for c in published.columns]}"
        )
    keep = list(published.index) if rows is None else [r for r in rows if r in published.index]
    head = "".join(f"<th>{html.escape(c.label)}</th>" for c in columns)
    body = []
    positions = {label: i for i, label in reversed(list(enumerate(published.index)))}
    for label in keep:
        row = published.iloc[positions[label]]  # a repeated label: its first row
        cells = []
        for c in columns:
            cls = ' class="num"' if c.kind in _NUMERIC_KINDS else ""
            cells.append(f"<td{cls}>{html.escape(c.cell(row, label))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    foot = f'<p class="fdac-glossary">{html.escape(note)}</p>' if note else ""
    table = (
        f'{_TABLE_CSS}<table class="fdac-table">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{foot}"
    )
    return _Html(table, caption or "table")


#: Under every count table.
COUNT_NOTE = (
    "Counts rounded to 5; [c]: fewer than 10, or hidden so that a small count cannot be "
    "worked out from the totals."
)


def count_table(published: pd.DataFrame, caption: str, unit: str) -> _Html:
    """A published count table by cohort (FDAC, comparison, total) for people."""
    return people_table(
        published,
        [
            Col("", "@index"),
            Col(f"FDAC ({unit})", "fdac", "int"),
            Col(f"Comparison ({unit})", "comparison", "int"),
            Col("Total", "Total", "int"),
        ],
        caption=caption,
        note=COUNT_NOTE,
    )


def count_alt(published: pd.DataFrame, what: str) -> str:
    """Alt text of a bar chart of a published count table: every bar's published value."""
    rows = [r for r in published.index if str(r).lower() != "total"]
    cols = [c for c in ("fdac", "comparison") if c in published.columns]
    parts = [
        f"{str(r).replace('_', ' ')}: "
        + ", ".join(f"{c} {fmt_int(published.at[r, c])}" for c in cols)
        for r in rows
    ]
    return (
        f"Bar chart of {what}, FDAC and comparison (published counts, rounded to 5; [c] suppressed): "
        + "; ".join(parts)
        + "."
    )


def glossary(terms: Sequence[str]) -> _Html:
    """The definitions of ``terms`` (keys of :data:`GLOSSARY`) as a short list."""
    unknown = [t for t in terms if t not in GLOSSARY]
    if unknown:
        raise ValueError(f"glossary: unknown term(s) {unknown}; known: {sorted(GLOSSARY)}")
    items = "".join(f"<li><b>{html.escape(t)}</b>: {html.escape(GLOSSARY[t])}</li>" for t in terms)
    return _Html(f'{_TABLE_CSS}<ul class="fdac-glossary">{items}</ul>', "glossary")


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def _figure_html(png: bytes, alt: str, caption: str = "") -> str:
    if not alt.strip():
        raise ValueError("a chart needs alt text saying what it shows")
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (
        f'<figure class="fdac-figure"><img src="data:image/png;base64,{data}" '
        f'alt="{html.escape(alt, quote=True)}">{cap}</figure>'
    )


def chart(fig: Any, alt: str, *, caption: str = "") -> _Html:
    """A matplotlib figure as an inline PNG with alt text (and an optional caption)."""
    return _Html(_TABLE_CSS + _figure_html(_png(fig), alt, caption), alt)


def image(png: bytes, alt: str, *, caption: str = "") -> _Html:
    """PNG bytes (a chart another stage drew) with alt text."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("image: expected PNG bytes")
    return _Html(_TABLE_CSS + _figure_html(png, alt, caption), alt)


def image_grid(items: Sequence[tuple[bytes, str, str]]) -> _Html:
    """Small multiples: (PNG bytes, alt text, caption) side by side, wrapping at the page
    width."""
    figures = "".join(_figure_html(png, alt, caption) for png, alt, caption in items)
    return _Html(f'{_TABLE_CSS}<div class="fdac-grid">{figures}</div>', "figures")


def labels_in_words(labels: Mapping[str, str], value: object) -> str:
    """``labels[value]`` or the value with underscores as spaces."""
    text = str(value)
    return labels.get(text, text.replace("_", " "))
