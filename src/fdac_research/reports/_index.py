"""``reports/index.html``: the landing page. The headline findings (from the published
tables, :mod:`fdac_research.reports.findings`), one line per report saying what it
answers, where the data came from (synthetic or not, the code version and parameters of
the manifest: no local paths, no dates), then every published table with a description."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

__all__ = ["TABLE_DESCRIPTIONS", "describe_table", "write_index"]

_CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem}table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
.note{color:#555;font-size:.9rem}.findings li{margin-bottom:.5rem}"""

#: What each published table holds (``effects_<outcome>`` tables are described by
#: :func:`describe_table`).
TABLE_DESCRIPTIONS: dict[str, str] = {
    "cohort_application_year": "Cases by year of application, FDAC and comparison.",
    "cohort_child_age_band": "Children by age at application.",
    "cohort_court": "Cases by court.",
    "cohort_domestic_abuse": "Mothers with domestic abuse recorded.",
    "cohort_local_authority": "Cases by local authority.",
    "cohort_mental_health": "Mothers with a mental-health condition recorded.",
    "cohort_n_children": "Cases by number of children.",
    "cohort_substances": "Mothers by substance misused (a mother may misuse several).",
    "linkage_quality": "Records, linked records, precision and recall per agency.",
    "linkage_error_sensitivity": "The reunification odds ratio under added linkage errors.",
    "outcomes_final_order": "Children's final orders (closed cases).",
    "outcomes_placement_at_end": "Where children lived at the end of proceedings.",
    "balance_reunified_children": "Covariate balance (standardised mean differences) "
    "before and after weighting and matching.",
    "sensitivity_e_values": "E-values of the doubly robust estimates, with the risk ratio.",
    "negative_control": "The doubly robust estimate on a negative control outcome.",
    "truth_comparison": "Every estimate against the effects planted in the synthetic world.",
    "recurrence_survival": "Cases still without a later care case every three months "
    "after the final hearing, FDAC and comparison (Kaplan–Meier).",
    "recurrence_hazard_ratio": "Hazard ratio of a later care case, FDAC against comparison, "
    "unadjusted and adjusted (Cox model).",
    "disclosure_dictionary": "Roles of the research columns (quasi-identifier, sensitive).",
    "disclosure_risk": "Re-identification risk of each research table.",
    "disclosure_recoding": "What each recoding step does to the risk.",
    "disclosure_output_checks": "The output check each published table passed.",
    "disclosure_output_record": "The output checker's record (ACRO/SACRO layout).",
    "disclosure_linked_audit": "The count tables of each population audited together.",
    "synthetic_fidelity": "Real against synthetic odds ratios.",
    "synthetic_utility": "Utility measures of the synthetic copy.",
    "synthetic_privacy": "Privacy measures of the synthetic copy.",
    "synthetic_gate": "The release gate's checks and thresholds.",
}
_EFFECTS = re.compile(r"^effects_(.+)$")


def describe_table(path: str) -> str:
    """The description of a published table (``tables/<name>.csv``)."""
    name = Path(path).stem
    if name in TABLE_DESCRIPTIONS:
        return TABLE_DESCRIPTIONS[name]
    m = _EFFECTS.match(name)
    if m:
        return f"Every estimator's effect of FDAC on {m.group(1).replace('_', ' ')}."
    return "Published table (output-checked)."


def write_index(
    out: Path,
    reports: list[tuple[str, str, str]],
    tables: list[str],
    notes: list[str],
    *,
    findings: Sequence[tuple[str, str]] = (),
    provenance: Sequence[str] = (),
) -> Path:
    """Write ``out/index.html``. ``reports`` holds (file, title, what it answers) triples;
    ``tables`` the relative paths of published CSV tables; ``findings`` (lead, text)
    pairs from :mod:`fdac_research.reports.findings`; ``provenance`` lines from the
    manifest's parameters and code version."""
    esc = html.escape
    frows = "\n".join(f"<li><b>{esc(a)}</b> {esc(b)}</li>" for a, b in findings)
    rows = "\n".join(
        f'<tr><td><a href="{esc(f)}">{esc(t)}</a></td><td>{esc(d)}</td></tr>' for f, t, d in reports
    )
    trows = "\n".join(
        f'<tr><td><a href="{esc(t)}">{esc(Path(t).name)}</a></td><td>{esc(describe_table(t))}</td></tr>'
        for t in tables
    )
    nrows = "\n".join(f"<li>{esc(n)}</li>" for n in [*provenance, *notes])
    headline = f'<h2>Headline findings</h2>\n<ul class="findings">\n{frows}\n</ul>' if frows else ""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>fdac-research reports</title><style>{_CSS}</style></head>
<body>
<h1>fdac-research: published findings</h1>
{headline}
<h2>Reports</h2>
<table><tr><th>report</th><th>what it answers</th></tr>
{rows}
</table>
<h2>Where these data come from</h2>
<ul>
{nrows}
</ul>
<h2>Published tables (CSV)</h2>
<p class="note">Every table passed the statistical disclosure control output check before it was written.
<a href="manifest.json">manifest.json</a> records the code version, parameters, input and output hashes.</p>
<table><tr><th>table</th><th>what it holds</th></tr>
{trows}
</table>
</body></html>
"""
    path = Path(out) / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
