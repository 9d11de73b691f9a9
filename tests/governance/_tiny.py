"""A hand-made sources folder (a few families) whose research values are worked out by hand.

Cases
-----
FDA1 (fdac, Camden, applied 2020-01-01, final 2020-07-01 = 182 days = 26.0 weeks):
    mother P1 (born 1990-01-02: 29 at application, the birthday is the next day),
    father P2 (born 1985-01-01: 35 on the day), child P3 (born 2019-06-30: 0, placement
    parent -> reunified true). Hearings: attended true, true, false, unknown -> 2 of 3 with
    attendance recorded = 66.7 %. Agency records: P1 has two substance-misuse records
    ("alcohol;cocaine", "cannabis;alcohol" -> union in contract order
    "alcohol;cannabis;cocaine"), two police records (2 and 3 convictions -> max 3), one
    domestic-abuse record (true), no health record (mental_health missing), one
    local-authority record (1 prior proceedings). P2 has no record anywhere: convictions 0,
    domestic_abuse false, substances/mental_health/prior_proceedings missing.
FDB2 (comparison, Leeds, applied 2021-03-10, open): mother P4 (born 2000-03-10: 21),
    child P5 (born 2015-03-11: 5; a placement recorded while open -> reunified empty). Objection:
    external_sharing naming the case.
FDC3 (comparison, Kent, applied 2019-05-01, final 2020-05-01): mother P6, child P7.
    Objection: all_research by the mother P6.
FDD4 (fdac, Coventry, applied 2022-02-01, final 2022-09-01): mother P8, child P9. P8 is the
    same person as P6 (the crosswalk gives them one person_key), so her objection also
    removes FDD4, with its child.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

CASES = [
    (
        "FDA1",
        "fdac",
        "Central Family Court",
        "Camden",
        "2020-01-01",
        "2020-07-01",
        "false",
        "false",
    ),
    ("FDB2", "comparison", "Leeds Family Court", "Leeds", "2021-03-10", "", "", ""),
    (
        "FDC3",
        "comparison",
        "Medway Family Court",
        "Kent",
        "2019-05-01",
        "2020-05-01",
        "true",
        "true",
    ),
    (
        "FDD4",
        "fdac",
        "Coventry Family Court",
        "Coventry",
        "2022-02-01",
        "2022-09-01",
        "false",
        "false",
    ),
]
PEOPLE = [
    ("FDA1", "P1", "mother", "Alice", "Adams", "1990-01-02", "F", "NW1 1AA", "White"),
    ("FDA1", "P2", "father", "Bob", "Adams", "1985-01-01", "M", "NW1 1AA", ""),
    ("FDA1", "P3", "child", "Cara", "Adams", "2019-06-30", "F", "NW1 1AA", "White"),
    ("FDB2", "P4", "mother", "Dina", "Brown", "2000-03-10", "F", "LS6 2BB", "Asian"),
    ("FDB2", "P5", "child", "Eli", "Brown", "2015-03-11", "M", "LS6 2BB", "Asian"),
    ("FDC3", "P6", "mother", "Fay", "Cole", "1995-05-05", "F", "CT1 3CC", "Black"),
    ("FDC3", "P7", "child", "Gus", "Cole", "2018-01-01", "M", "CT1 3CC", "Black"),
    ("FDD4", "P8", "mother", "Fay", "Cole", "1995-05-05", "F", "CV1 4DD", "Black"),
    ("FDD4", "P9", "child", "Hal", "Cole", "2021-12-01", "M", "CV1 4DD", "Black"),
]
OUTCOMES = [
    ("P1", "true", "", "", ""),
    ("P2", "false", "", "", ""),
    ("P3", "", "supervision_order", "parent", "false"),
    ("P4", "", "", "", ""),
    ("P5", "", "", "parent", ""),  # recorded while open: reunified stays empty
    ("P6", "false", "", "", ""),
    ("P7", "", "care_order", "foster", ""),
    ("P8", "true", "", "", ""),
    ("P9", "", "no_order", "parent", ""),
]
HEARINGS = [
    ("FDA1", "2020-01-10", "first_hearing", "true"),
    ("FDA1", "2020-02-10", "fdac_review", "true"),
    ("FDA1", "2020-03-10", "case_management", "false"),
    ("FDA1", "2020-07-01", "final_hearing", ""),
    ("FDB2", "2021-03-20", "first_hearing", "false"),
    ("FDC3", "2019-05-10", "first_hearing", "true"),
    ("FDD4", "2022-02-10", "first_hearing", "true"),
]
OPT_OUTS = [
    ("", "FDB2", "2021-06-01", "external_sharing"),
    ("P6", "", "2020-01-01", "all_research"),
]
_ID = ["record_id", "given_name", "family_name", "date_of_birth", "sex", "postcode"]
AGENCIES = {
    "substance_misuse": (
        [*_ID, "substances", "treatment_episodes"],
        [
            ("SM1", "Alice", "Adams", "1990-01-02", "F", "NW1 1AA", "alcohol;cocaine", "1"),
            ("SM2", "Alicia", "Adams", "1990-02-01", "F", "NW1 1AA", "cannabis;alcohol", "2"),
            ("SM3", "Zed", "Other", "1970-01-01", "M", "B1 1ZZ", "heroin", "1"),
        ],
    ),
    "police": (
        [*_ID, "convictions", "cautions"],
        [
            ("PO1", "Alice", "Adams", "1990-01-02", "F", "NW1 1AA", "2", "0"),
            ("PO2", "Alice", "Adams", "1990-01-02", "F", "", "3", "1"),
        ],
    ),
    "domestic_abuse": (
        [*_ID, "domestic_abuse"],
        [("DA1", "Alice", "Adams", "1990-01-02", "F", "NW1 1AA", "true")],
    ),
    "local_authority": (
        [*_ID, "prior_proceedings", "child_protection_plans"],
        [("LA1", "Alice", "Adams", "1990-01-02", "F", "NW1 1AA", "1", "0")],
    ),
    "health": (
        [*_ID, "mental_health"],
        [("HE1", "Dina", "Brown", "2000-03-10", "F", "LS6 2BB", "true")],
    ),
}
# person_key of each record: P6 and P8 are one person; SM3 is nobody in a case.
KEYS = {
    **{f"P{i}": f"K{i}" for i in range(1, 10)},
    "P8": "K6",
    "SM1": "K1",
    "SM2": "K1",
    "SM3": "K99",
    "PO1": "K1",
    "PO2": "K1",
    "DA1": "K1",
    "LA1": "K1",
    "HE1": "K4",
}


def _csv(rows: list[tuple[str, ...]], columns: list[str], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False, lineterminator="\n")


def write_tiny(folder: Path) -> tuple[Path, Path]:
    """Write the sources folder and a linkage folder; returns ``(sources, linkdir)``."""
    src, link = folder / "sources", folder / "link"
    if src.exists():
        shutil.rmtree(src)
    _csv(
        CASES,
        [
            "case_ref",
            "cohort",
            "court",
            "local_authority",
            "application_date",
            "final_hearing_date",
            "contested_final_hearing",
            "expert_witness",
        ],
        src / "court_cases.csv",
    )
    _csv(
        PEOPLE,
        ["case_ref", "person_ref", "role", *_ID[1:], "ethnicity"],
        src / "court_people.csv",
    )
    _csv(
        OUTCOMES,
        ["person_ref", "ceased_misuse", "final_order", "placement_at_end", "returned_to_court_3y"],
        src / "court_outcomes.csv",
    )
    _csv(HEARINGS, ["case_ref", "date", "kind", "parent_attended"], src / "hearings.csv")
    _csv(OPT_OUTS, ["person_ref", "case_ref", "received_date", "scope"], src / "opt_outs.csv")
    rows = [("court", p[1], KEYS[p[1]], "1") for p in PEOPLE]
    for agency, (columns, records) in AGENCIES.items():
        _csv(records, columns, src / "agencies" / f"{agency}.csv")
        rows += [(agency, r[0], KEYS[r[0]], "0.97") for r in records]
    _csv(rows, ["source", "record_id", "person_key", "match_probability"], link / "crosswalk.csv")
    _csv(
        [(a, str(len(r)), str(len(r)), "0.9", "", "") for a, (_, r) in sorted(AGENCIES.items())],
        ["agency", "n_records", "n_linked", "match_threshold", "precision", "recall"],
        link / "linkage_quality.csv",
    )
    return src, link
