"""Write the report notebooks (fixed cell ids, no outputs).

The notebooks in notebooks/ are the source of truth and may be edited in JupyterLab; this
script is how they were first laid out and can re-create them: python tools/make_notebooks.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"

PARAMS = """# Parameters (papermill replaces them; these defaults suit `make reports` from notebooks/)
sources_dir = "../data/synthetic"
linkage_dir = "../data/work/linkage"
research_dir = "../data/work/research"
synthetic_dir = "../data/work/synthetic"
disclosure_dir = "../data/work/disclosure"
tables_dir = "../reports/tables"
seed = 20261121"""

SETUP = """%matplotlib inline
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

pd.set_option("display.max_columns", 20)
pd.set_option("display.width", 160)"""


def code(src: str, tags: list[str] | None = None) -> nbformat.NotebookNode:
    c = nbformat.v4.new_code_cell(src.strip("\n"))
    if tags:
        c.metadata["tags"] = tags
    return c


def md(src: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(src.strip("\n"))


def write(name: str, cells: list[nbformat.NotebookNode]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    for i, c in enumerate(nb.cells):
        c["id"] = f"{name[:2]}-{i:02d}"
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, NB_DIR / name)


def cohort_profile() -> None:
    write(
        "01_cohort_profile.ipynb",
        [
            md("""# Cohort profile: who goes through FDAC and ordinary care proceedings

Case statistics of the kind a charity publishes: counts of cases, parents and children in
Family Drug and Alcohol Court (FDAC) proceedings and in ordinary (comparison) care
proceedings. **Every table has passed the disclosure output check before it is shown**:
counts are rounded to the nearest 5 and cells under 10 are suppressed (`[c]`), with
secondary suppression so that no suppressed cell can be worked out from the totals."""),
            code(PARAMS, ["parameters"]),
            code(
                SETUP
                + """

from fdac_research import analysis
from fdac_research.dataset import load_research
from fdac_research.reports import DEFAULT_RULES, publish_table, require_checked_tables

require_checked_tables()  # from here on, showing a table that skipped the output check fails
research = load_research(research_dir)
display(Markdown(f"Output-checking rules: `{DEFAULT_RULES}`."))"""
            ),
            md("## Cases, parents and children"),
            code("""tables = analysis.profile_tables(research)
labels = {
    "court": "Cases by court",
    "local_authority": "Cases by local authority",
    "application_year": "Cases by year of application",
    "n_children": "Cases by number of children",
    "substances": "Mothers by substance misused (a mother may misuse several)",
    "domestic_abuse": "Mothers with domestic abuse recorded",
    "mental_health": "Mothers with a mental-health condition recorded",
    "child_age_band": "Children by age at application",
}
published = {}
for key, table in tables.items():
    published[key] = publish_table(analysis.as_check_table(table), f"cohort_{key}", tables_dir)
    display(Markdown(f"### {labels.get(key, key)}"))
    display(published[key])"""),
            md("## At a glance"),
            code("""from fdac_research.reports.figures import cohort_bar_chart

fig = cohort_bar_chart(published["substances"], title="Substances misused by mothers (published counts)")
display(fig)"""),
            md("""## Notes

* Counts come from the pseudonymised research dataset; substances, domestic abuse and mental
  health come from linked agency records, so a parent with no linked record counts as *not
  recorded*.
* Suppressed cells are shown as `[c]`; totals are computed before rounding and suppression."""),
        ],
    )


def linkage_quality() -> None:
    write(
        "02_linkage_quality.ipynb",
        [
            md("""# Linkage quality

How well records from each agency were linked to the parents and children in court records,
and what linkage errors could do to the findings. A missed link leaves a parent's
convictions, treatment or health history unrecorded; a false link attaches one family's
history to another. **Every table has passed the disclosure output check before it is
shown**: a share linked needs at least 10 records, 10 linked and 10 unlinked records per
agency (counts rounded to 5); an estimate needs at least 10 people, 10 events and 10
non-events in each arm."""),
            code(PARAMS, ["parameters"]),
            code(
                SETUP
                + """

from fdac_research.dataset import load_research
from fdac_research.reports import DEFAULT_RULES, require_checked_tables
from fdac_research.reports.linkage_view import (
    linkage_error_sensitivity,
    linkage_overview,
    publish_linkage,
)

require_checked_tables()  # from here on, showing a table that skipped the output check fails
view = linkage_overview(research_dir, linkage_dir)
sens = linkage_error_sensitivity(load_research(research_dir), view.quality, seed=seed)
# both tables are output-checked and written to the tables folder before anything is shown
pub = publish_linkage(view, sens, tables_dir, rules=DEFAULT_RULES)"""
            ),
            md("## Coverage and estimated precision and recall per agency"),
            code("""display(pub.quality)"""),
            code("""for fig in view.figures:
    display(fig)"""),
            md("## What linkage errors could do to the findings"),
            code("""display(Markdown(pub.summary))
display(pub.sensitivity)
if pub.notes:
    display(Markdown(pub.notes))"""),
        ],
    )


def outcomes() -> None:
    write(
        "03_outcomes_evaluation.ipynb",
        [
            md("""# Outcomes evaluation: FDAC against ordinary care proceedings

Do more parents stop misusing substances, and more children go home, when care proceedings
run through a Family Drug and Alcohol Court? Families are not randomised to FDAC, so we show
the naive contrast next to estimates that adjust for observed differences (outcome
regression, propensity-score weighting and matching, and a doubly robust estimate), check
covariate balance, and ask how strong an unmeasured confounder would have to be to explain
the effect away. Confidence intervals allow for children and parents being nested in
families (cluster-robust by case). **Every table has passed the disclosure output check
before it is shown** (counts: suppression under 10 and rounding to 5; estimates: at least
10 people, 10 events and 10 non-events in each arm), and every figure and statement is
drawn from the published rows only."""),
            code(PARAMS, ["parameters"]),
            code(
                SETUP
                + """

from fdac_research.dataset import load_research
from fdac_research.reports import DEFAULT_RULES, require_checked_tables
from fdac_research.reports.outcomes_view import evaluate_outcomes, publish_evaluation

require_checked_tables()  # from here on, showing a table that skipped the output check fails
research = load_research(research_dir)
ev = evaluate_outcomes(research, seed=seed)
# Every table below is output-checked and written to the tables folder first; the figures
# and statements are drawn from the published rows only.
pub = publish_evaluation(ev, tables_dir, sources_dir=sources_dir, rules=DEFAULT_RULES)
if pub.notes:
    display(Markdown(pub.notes))"""
            ),
            md("""## Estimates

Each estimate is published only when at least 10 people, 10 events and 10 non-events lie
behind it in each arm (rounded counts are shown with it); otherwise it is shown as `[c]`."""),
            code("""for key, table in pub.effects.items():
    display(Markdown(f"### {ev.titles[key]}"))
    display(table)
    if pub.forest_plots[key] is not None:
        display(pub.forest_plots[key])
for key in ev.skipped:  # the reason can quote small counts: it stays in the researcher's log
    display(Markdown(f"### {ev.titles[key]}"))
    display(Markdown("Not estimated: an estimator could not be fitted on these data."))"""),
            md("""## Covariate balance (children: reunification)

Standardised mean differences before and after weighting, with the people in each arm and,
for yes/no characteristics, how many have it (in all rows and in the matched sample)."""),
            code("""if pub.balance is not None:
    if pub.love_plot is not None:
        display(pub.love_plot)
    display(pub.balance)"""),
            md("## Final orders and placements (published counts)"),
            code("""for key, table in pub.counts.items():
    display(Markdown(f"### {ev.titles[key]}"))
    display(table)"""),
            md("## Sensitivity to unmeasured confounding"),
            code("""display(Markdown(pub.sensitivity_text))
if pub.sensitivity is not None:
    display(pub.sensitivity)"""),
            md("## Comparison with the planted truth (synthetic worlds only)"),
            code("""display(Markdown(pub.truth_text))
if pub.truth is not None:
    display(pub.truth)
if pub.truth_plot is not None:
    display(pub.truth_plot)"""),
        ],
    )


def disclosure() -> None:
    write(
        "04_disclosure_review.ipynb",
        [
            md("""# Disclosure review

How likely is the research dataset to identify a parent or child, *even to someone who
already knows a lot about them*? The quasi-identifiers and sensitive columns are taken from
the package schema (printed below). This published review shows only aggregate measures;
the reviewer's full report (with the riskiest key combinations) stays inside the secure
environment. The second part lists every table the other reports published and the output
check each passed. **Every table here is published with the reason no suppression
applies** (recorded next to it in the tables folder): none holds a figure about a group of
people; record counts are rounded to 5 and counts of risky records are shown as shares."""),
            code(PARAMS, ["parameters"]),
            code(
                SETUP
                + """

from fdac_research.reports import require_checked_tables
from fdac_research.reports.disclosure_view import disclosure_review, publish_review

require_checked_tables()  # from here on, showing a table that skipped the output check fails
# the output checks listed below are those of the tables published before this report
review = publish_review(disclosure_review(research_dir, tables_dir), tables_dir)"""
            ),
            md("## Data dictionary: roles of the research columns"),
            code("""display(review.dictionary)"""),
            md("## Re-identification risk of the research dataset"),
            code("""display(review.microdata)
for fig in review.figures:
    display(fig)"""),
            md("## What recoding buys"),
            code("""display(review.fixes)"""),
            md("## Output checks of the published tables"),
            code("""display(review.tables)"""),
        ],
    )


def synthetic() -> None:
    write(
        "05_synthetic_release.ipynb",
        [
            md("""# Synthetic release

A synthetic copy of the research dataset lets other teams develop and test analysis code
without seeing real families. This report shows how useful the copy is (does it reproduce the
distributions, the logical rules of the data and the FDAC findings?) and how private it is
(could anyone single out, link or learn about a real family from it?). A release that fails
the gate is refused and never written. **Every table has passed the disclosure output check
before it is shown**: a real-data estimate needs at least 10 people, 10 events and 10
non-events in each arm; the utility and privacy measures are computed on whole tables and
published with that reason recorded."""),
            code(PARAMS, ["parameters"]),
            code(
                SETUP
                + """

from fdac_research.reports import DEFAULT_RULES, require_checked_tables
from fdac_research.reports.synth_view import publish_release, synthetic_release_view

require_checked_tables()  # from here on, showing a table that skipped the output check fails
view = synthetic_release_view(synthetic_dir, research_dir)
pub = publish_release(view, tables_dir, rules=DEFAULT_RULES)"""
            ),
            md("## Utility"),
            code("""display(pub.utility)"""),
            md("## Does the synthetic copy reproduce the findings?"),
            code("""display(pub.fidelity)
if pub.fidelity_note:
    display(Markdown(pub.fidelity_note))"""),
            md("## Privacy"),
            code("""display(pub.privacy)"""),
            md("## Release gate"),
            code("""display(Markdown(view.gate))
for fig in view.figures:
    display(fig)"""),
        ],
    )


if __name__ == "__main__":
    NB_DIR.mkdir(exist_ok=True)
    cohort_profile()
    linkage_quality()
    outcomes()
    disclosure()
    synthetic()
