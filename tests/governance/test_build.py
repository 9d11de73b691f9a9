"""Research build: hand-worked derived values, opt-out propagation, manifest, atomicity,
determinism and crosswalk checks."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pandas as pd
import pytest

from fdac_research._io import read_text_table
from fdac_research.cli import main
from fdac_research.exceptions import ContractError
from fdac_research.governance import EXCLUSIONS_FILE, build_research, verify_manifest
from tests.governance._tiny import write_tiny
from tests.governance.conftest import TEST_KEY


def _hmac(domain: str, ref: str, key: bytes = TEST_KEY) -> str:
    # Independent oracle: the standard library's HMAC-SHA256 of "<domain>|<ref>", 16 hex.
    return hmac.new(key, f"{domain}|{ref}".encode(), hashlib.sha256).hexdigest()[:16]


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path, Path]:
    src, link = write_tiny(tmp_path)
    out = tmp_path / "research"
    build_research(src, link, out, key=TEST_KEY)
    return src, link, out


def test_tiny_known_values(tiny: tuple[Path, Path, Path]) -> None:
    _, _, out = tiny
    cases = read_text_table(out / "cases.csv").set_index("case_id")
    adults = read_text_table(out / "adults.csv").set_index("person_id")
    children = read_text_table(out / "children.csv").set_index("person_id")
    # FDC3 and FDD4 are gone (the mother objected; she is the same person in both cases).
    assert set(cases.index) == {_hmac("case", "FDA1"), _hmac("case", "FDB2")}
    a1 = cases.loc[_hmac("case", "FDA1")]
    assert a1["application_year"] == "2020"
    assert a1["duration_weeks"] == "26"  # 182 days / 7
    assert a1["n_children"] == "1"
    assert cases.loc[_hmac("case", "FDB2"), "duration_weeks"] == ""  # open
    p1 = adults.loc[_hmac("person", "P1")]
    assert p1["case_id"] == _hmac("case", "FDA1")
    assert p1["age_at_application"] == "29"  # 30th birthday is the day after
    assert p1["substances"] == "alcohol;cannabis;cocaine"  # union, contract order
    assert p1["convictions"] == "3"  # max of duplicate police records 2 and 3
    assert p1["domestic_abuse"] == "true"
    assert p1["mental_health"] == ""  # no health record: unknown
    assert p1["prior_proceedings"] == "1"
    assert p1["hearings_attended_pct"] == "66.7"  # 2 of 3 hearings with attendance recorded
    p2 = adults.loc[_hmac("person", "P2")]
    assert p2["age_at_application"] == "35"  # birthday on the application date
    # no record anywhere: convictions 0 and domestic abuse false (absence = none recorded),
    # substances / mental health / prior proceedings unknown
    assert (p2["convictions"], p2["domestic_abuse"]) == ("0", "false")
    assert (p2["substances"], p2["mental_health"], p2["prior_proceedings"]) == ("", "", "")
    assert adults.loc[_hmac("person", "P4"), "mental_health"] == "true"
    assert adults.loc[_hmac("person", "P4"), "hearings_attended_pct"] == "0"
    assert children.loc[_hmac("person", "P3"), "reunified"] == "true"
    assert children.loc[_hmac("person", "P3"), "age_at_application"] == "0"
    assert children.loc[_hmac("person", "P5"), "reunified"] == ""  # open case
    assert children.loc[_hmac("person", "P5"), "age_at_application"] == "5"
    excluded = read_text_table(out / EXCLUSIONS_FILE)
    assert list(excluded["case_id"]) == [_hmac("case", "FDB2")]
    assert list(excluded.columns) == ["case_id"]


def test_no_identifier_columns_and_valid(tiny: tuple[Path, Path, Path]) -> None:
    _, _, out = tiny
    assert main(["validate", str(out), "--layout", "research"]) == 0
    banned = {"given_name", "family_name", "date_of_birth", "postcode", "case_ref"}
    banned |= {"person_ref", "record_id", "person_key"}
    for name in ("cases", "adults", "children", "linkage_quality"):
        assert not banned & set(read_text_table(out / f"{name}.csv").columns)


def test_manifest(tiny: tuple[Path, Path, Path]) -> None:
    _, _, out = tiny
    m = json.loads((out / "manifest.json").read_text())
    assert m["key"]["kind"] == "secret" and "internal research only" in m["use"]
    assert m["counts"] == {"cases": 2, "adults": 3, "children": 2}
    assert m["opt_outs"]["cases_removed_all_research"] == "fewer than 10"
    assert EXCLUSIONS_FILE in m["files"]
    assert set(m["files"]) >= {"cases.csv", "adults.csv", "children.csv", "linkage_quality.csv"}
    assert "code_version" in m and m["config"]["pseudonym_length"] == 16
    verify_manifest(out)  # every hash matches
    (out / "adults.csv").write_text("tampered\n")
    with pytest.raises(ContractError, match="adults.csv"):
        verify_manifest(out)


def test_same_key_identical_bytes_other_key_unlinkable(
    linked_world: tuple[Path, Path], tmp_path: Path
) -> None:
    src, link = linked_world
    build_research(src, link, tmp_path / "a", key=TEST_KEY)
    build_research(src, link, tmp_path / "b", key=TEST_KEY)
    build_research(src, link, tmp_path / "c", key=b"another-key-entirely-0987654321")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    ids = {}
    for run in "ac":
        a = read_text_table(tmp_path / run / "adults.csv")
        c = read_text_table(tmp_path / run / "cases.csv")
        ids[run] = set(a["person_id"]) | set(c["case_id"])
    assert len(ids["a"]) == len(ids["c"]) > 100
    assert not ids["a"] & ids["c"]


def test_failure_leaves_nothing(tmp_path: Path) -> None:
    src, link = write_tiny(tmp_path)
    cw = pd.read_csv(link / "crosswalk.csv", dtype=str)
    cw.iloc[1:].to_csv(link / "crosswalk.csv", index=False)  # drop court person P1
    out = tmp_path / "new"
    with pytest.raises(ContractError):
        build_research(src, link, out, key=TEST_KEY)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders
    # an existing research folder is left exactly as it was
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "cases.csv").write_text("old\n")
    with pytest.raises(ContractError):
        build_research(src, link, existing, key=TEST_KEY)
    assert _files(existing) == {"cases.csv": b"old\n"}


@pytest.mark.parametrize(
    ("change", "column", "example"),
    [
        ("drop_court", "record_id", "P1"),  # a court person missing
        ("unknown_agency_record", "record_id", "SM404"),  # not in the agency file
        ("duplicate", "record_id", "P2"),
        ("bad_probability", "match_probability", "1.5"),
        ("unknown_source", "source", "prison"),
    ],
)
def test_crosswalk_mismatch(tmp_path: Path, change: str, column: str, example: str) -> None:
    src, link = write_tiny(tmp_path)
    cw = pd.read_csv(link / "crosswalk.csv", dtype=str, keep_default_na=False)
    if change == "drop_court":
        cw = cw[cw["record_id"] != "P1"]
    elif change == "unknown_agency_record":
        cw.loc[cw["record_id"] == "SM3", "record_id"] = "SM404"
    elif change == "duplicate":
        cw = pd.concat([cw, cw[cw["record_id"] == "P2"]])
    elif change == "bad_probability":
        cw.loc[cw["record_id"] == "P3", "match_probability"] = "1.5"
    else:
        cw.loc[cw["record_id"] == "SM3", "source"] = "prison"
    cw.to_csv(link / "crosswalk.csv", index=False)
    with pytest.raises(ContractError) as err:
        build_research(src, link, tmp_path / "out", key=TEST_KEY)
    text = str(err.value)
    assert "crosswalk.csv" in text and f"column '{column}'" in text and repr(example) in text


def test_bad_linkage_quality(tmp_path: Path) -> None:
    src, link = write_tiny(tmp_path)
    lq = pd.read_csv(link / "linkage_quality.csv", dtype=str)
    lq.drop(columns="n_linked").to_csv(link / "linkage_quality.csv", index=False)
    with pytest.raises(ContractError, match="n_linked"):
        build_research(src, link, tmp_path / "out", key=TEST_KEY)


def test_min_match_probability_drops_weak_links(tmp_path: Path) -> None:
    from fdac_research.governance import BuildConfig

    src, link = write_tiny(tmp_path)
    build_research(
        src, link, tmp_path / "r", key=TEST_KEY, config=BuildConfig(min_match_probability=0.99)
    )
    a = read_text_table(tmp_path / "r" / "adults.csv").set_index("person_id")
    p1 = a.loc[_hmac("person", "P1")]
    # every agency link in the tiny crosswalk has probability 0.97: treated as no record
    assert (p1["convictions"], p1["domestic_abuse"], p1["substances"]) == ("0", "false", "")


def test_agency_never_supplied_means_unknown(tmp_path: Path) -> None:
    src, link = write_tiny(tmp_path)
    (src / "agencies" / "police.csv").unlink()
    cw = pd.read_csv(link / "crosswalk.csv", dtype=str, keep_default_na=False)
    cw[cw["source"] != "police"].to_csv(link / "crosswalk.csv", index=False)
    lq = pd.read_csv(link / "linkage_quality.csv", dtype=str, keep_default_na=False)
    lq[lq["agency"] != "police"].to_csv(link / "linkage_quality.csv", index=False)
    build_research(src, link, tmp_path / "r", key=TEST_KEY)
    a = read_text_table(tmp_path / "r" / "adults.csv")
    # no police extract at all: convictions unknown for everyone (not 0)
    assert set(a["convictions"]) == {""}
    assert set(a["domestic_abuse"]) == {"true", "false"}  # other agencies unaffected


def test_refuses_to_overwrite_inputs(tmp_path: Path) -> None:
    from fdac_research.exceptions import ConfigError

    src, link = write_tiny(tmp_path)
    for out in (src, link, tmp_path):
        with pytest.raises(ConfigError, match="would replace the input folder"):
            build_research(src, link, out, key=TEST_KEY)
    assert (src / "court_cases.csv").is_file()
