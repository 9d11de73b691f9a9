"""End to end on a small synthetic world: crosswalk, quality, evaluation, determinism, CLI,
clerical review, bad input."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from fdac_research import schema
from fdac_research._io import read_text_table
from fdac_research.cli import main
from fdac_research.exceptions import ContractError, DependencyError
from fdac_research.linkage import link_sources, load_model_file
from fdac_research.validation import validate_frame

AGENCIES = ["police", "education"]
LOG_LINE = re.compile(r"(DEBUG|INFO|WARNING|ERROR|Level \d+) ")


@pytest.fixture(scope="module")
def linked(small_world: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("link") / "run1"
    result = link_sources(small_world, out, agencies=AGENCIES, seed=3)
    return out, result


def test_crosswalk_has_every_record_exactly_once(linked, small_world):
    out, _ = linked
    cw = read_text_table(out / "crosswalk.csv")
    assert list(cw.columns) == ["source", "record_id", "person_key", "match_probability"]
    court = read_text_table(small_world / "court_people.csv")
    expected = {("court", r) for r in court["person_ref"]}
    for a in AGENCIES:
        expected |= {
            (a, r) for r in read_text_table(small_world / "agencies" / f"{a}.csv")["record_id"]
        }
    got = list(zip(cw["source"], cw["record_id"], strict=True))
    assert len(got) == len(set(got)) == len(expected)
    assert set(got) == expected
    assert (cw["person_key"] != "").all()


def test_quality_and_evaluation(linked):
    out, result = linked
    q = read_text_table(out / "linkage_quality.csv")
    assert validate_frame(q, schema.RESEARCH.table("linkage_quality"), "linkage_quality.csv") == []
    assert list(q["agency"]) == AGENCIES
    ev = result.evaluation["agencies"]
    for a in AGENCIES:
        # a 300-family world at the default error rate links almost perfectly
        assert ev[a]["links"]["f1"] >= 0.97, ev[a]
        assert ev[a]["cluster"]["f1"] >= 0.97, ev[a]
        assert ev[a]["n_linked"] > 0
    for name in (
        "model.json",
        "evaluation.json",
        "threshold_curve.csv",
        "charts/precision_recall.png",
        "charts/police_m_u.png",
    ):
        assert (out / name).is_file(), name


def test_same_seed_gives_identical_bytes(linked, small_world, tmp_path):
    out, _ = linked
    again = tmp_path / "run2"
    link_sources(small_world, again, agencies=AGENCIES, seed=3)
    for name in (
        "crosswalk.csv",
        "model.json",
        "linkage_quality.csv",
        "pairs/police.parquet",
        "charts/police_match_weights.png",
    ):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_fitted_model_is_reused_without_training(linked, small_world, tmp_path):
    out, result = linked
    base, fitted = load_model_file(out / "model.json")
    assert set(fitted) == set(AGENCIES) and all(m.is_fitted for m in fitted.values())
    rerun = link_sources(
        small_world, tmp_path / "r", model=base, fitted=fitted, agencies=AGENCIES, charts=False
    )
    pd.testing.assert_frame_equal(rerun.crosswalk, result.crosswalk)


def test_recordlinkage_engine_runs_the_same_layout(small_world, tmp_path):
    r = link_sources(
        small_world,
        tmp_path / "rl",
        agencies=["police"],
        engine="recordlinkage",
        charts=False,
        dedupe_court=False,  # the agencies' layout is tested here, not the court step
    )
    assert list(r.crosswalk.columns) == ["source", "record_id", "person_key", "match_probability"]
    # the ECM baseline (binary agreement features) is weaker than Splink but far from chance
    assert r.evaluation["agencies"]["police"]["links"]["f1"] >= 0.7


def test_without_truth_a_clerical_sample_is_written_and_read_back(small_world, tmp_path):
    world = tmp_path / "world"
    shutil.copytree(small_world, world)
    truth_people = read_text_table(world / "truth" / "people.csv")
    truth_links = read_text_table(world / "truth" / "agency_links.csv")
    shutil.rmtree(world / "truth")
    # the court de-duplication is not what is tested here (and would double the run time)
    out = link_sources(
        world, tmp_path / "noTruth", agencies=["police"], charts=False, dedupe_court=False
    )
    assert out.evaluation is None
    sample = read_text_table(tmp_path / "noTruth" / "clerical_review.csv")
    assert len(sample) > 0 and (sample["is_match"] == "").all()
    # the folder says it must stay with the controller (it holds record ids and names)
    notice = (tmp_path / "noTruth" / "README.txt").read_text()
    assert "record ids" in notice and "controller" in notice
    assert {"given_name_l", "given_name_r", "date_of_birth_l", "date_of_birth_r"} <= set(
        sample.columns
    )
    # a "reviewer" labels the sample from the truth
    tid = dict(zip(truth_people["person_ref"], truth_people["true_person_id"], strict=True))
    tid.update(zip(truth_links["record_id"], truth_links["true_person_id"], strict=True))
    sample["is_match"] = [
        str(int(tid[a] == tid[b])) for a, b in zip(sample["id_l"], sample["id_r"], strict=True)
    ]
    labels = tmp_path / "labelled.csv"
    sample.to_csv(labels, index=False)
    res = link_sources(
        world,
        tmp_path / "withLabels",
        agencies=["police"],
        labels=labels,
        charts=False,
        dedupe_court=False,
    )
    q = res.quality.iloc[0]
    assert q["precision"] >= 0.9 and q["recall"] >= 0.9


def test_cli_link(small_world, tmp_path, capsys):
    rc = main(
        [
            "link",
            str(small_world),
            "--out",
            str(tmp_path / "cli"),
            "--agencies",
            "police",
            "--no-charts",
        ]
    )
    assert rc == 0
    assert (tmp_path / "cli" / "crosswalk.csv").is_file()
    captured = capsys.readouterr()
    assert "police" in captured.out
    # by default no log line reaches the terminal: Splink's INFO lines (about 150 per agency)
    # and its "unable to train m value" warnings need -v
    logged = [line for line in captured.err.splitlines() if LOG_LINE.match(line)]
    assert logged == []


def test_cli_bad_input_is_a_clear_error(small_world, tmp_path, capsys):
    world = tmp_path / "world"
    shutil.copytree(small_world, world)
    police = world / "agencies" / "police.csv"
    df = read_text_table(police)
    df.loc[3, "record_id"] = df.loc[2, "record_id"]
    df.loc[5, "date_of_birth"] = "31/02/1990"
    df.to_csv(police, index=False)
    (world / "agencies" / "health.csv").write_text(police.read_text().splitlines()[0] + "\n")
    rc = main(["link", str(world), "--out", str(tmp_path / "bad")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "agencies/police.csv" in err and "record_id" in err and "date_of_birth" in err
    assert "agencies/health.csv" in err and "empty" in err
    assert not (tmp_path / "bad").exists()  # never a half-written or empty crosswalk


def test_unknown_agency_is_named(small_world, tmp_path):
    with pytest.raises(ContractError, match="agencies/prison.csv"):
        link_sources(small_world, tmp_path / "x", agencies=["prison"])


def test_model_naming_an_absent_column(small_world, tmp_path):
    import dataclasses

    from fdac_research.linkage import ColumnSpec, uk_person_model

    m = uk_person_model()
    m = dataclasses.replace(m, columns=(*m.columns, ColumnSpec("nhs_number", "text")))
    with pytest.raises(ContractError) as info:
        link_sources(small_world, tmp_path / "x", model=m, agencies=["police"])
    assert "nhs_number" in str(info.value) and "court" in str(info.value)


def test_spark_without_java_is_a_clear_error(small_world, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(DependencyError, match="Java"):
        link_sources(small_world, tmp_path / "x", agencies=["police"], backend="spark")
    assert not (tmp_path / "x").exists()


def test_objecting_families_are_left_out_of_every_count(linked, small_world):
    """Families who objected to all research are linked (the build needs their links) but
    absent from the quality counts, the evaluation and the pair files. Oracle: the world's
    truth, read by hand."""
    out, result = linked
    people = pd.read_csv(small_world / "court_people.csv", dtype=str)
    opt = pd.read_csv(small_world / "opt_outs.csv", dtype=str, keep_default_na=False)
    opt = opt[opt["scope"] == "all_research"]
    named = set(opt["case_ref"]) | set(
        people.loc[people["person_ref"].isin(opt["person_ref"]), "case_ref"]
    )
    objecting = set(people.loc[people["case_ref"].isin(named), "person_ref"])
    assert objecting, "the small world must hold all-research objections"
    truth_people = pd.read_csv(small_world / "truth" / "people.csv", dtype=str)
    gone_true = set(truth_people.loc[truth_people["person_ref"].isin(objecting), "true_person_id"])
    links = pd.read_csv(small_world / "truth" / "agency_links.csv", dtype=str)
    cw = read_text_table(out / "crosswalk.csv")
    gone_keys = set(
        cw.loc[(cw["source"] == "court") & cw["record_id"].isin(objecting), "person_key"]
    )
    q = read_text_table(out / "linkage_quality.csv").set_index("agency")
    for a in AGENCIES:
        records = cw[cw["source"] == a]
        # the quality table counts no record the model linked to an objector
        kept = records[~records["person_key"].isin(gone_keys)]
        assert int(q.loc[a, "n_records"]) == len(kept) < len(records)
        # the evaluation drops those and the records truly theirs, on both sides
        truly = set(
            links.loc[(links["agency"] == a) & links["true_person_id"].isin(gone_true), "record_id"]
        )
        ev_records = set(kept["record_id"]) - truly
        assert result.evaluation["agencies"][a]["n_records"] == len(ev_records)
        pairs = pd.read_parquet(out / "pairs" / f"{a}.parquet")
        assert not set(pairs["id_l"]) & objecting and not set(pairs["id_r"]) & objecting
        assert not (set(pairs["id_r"]) | set(pairs["id_l"])) & truly
    # the crosswalk still holds them: the build must find objectors in every source
    assert objecting <= set(cw.loc[cw["source"] == "court", "record_id"])


@pytest.mark.slow
def test_cli_link_verbosity_levels(small_world, tmp_path):
    """Log lines of `fdac-research link` at each verbosity, counted by level: none by
    default, Splink's INFO lines with -v, debug lines too with -vv."""
    counts = {}
    for verbose, flags in enumerate(([], ["-v"], ["-vv"])):
        out = tmp_path / f"link{verbose}"
        cmd = [sys.executable, "-m", "fdac_research.cli", *flags, "link", str(small_world)]
        proc = subprocess.run(
            [*cmd, "--out", str(out), "--agencies", "police", "--no-charts"],
            capture_output=True,
            text=True,
            env={**os.environ, "FDAC_PROGRESS": "0"},
            check=True,
        )
        lines = proc.stderr.splitlines()
        counts[verbose] = {
            level: sum(line.startswith(level + " ") for line in lines)
            for level in ("DEBUG", "INFO", "WARNING")
        }
        counts[verbose]["splink"] = sum(" splink." in line for line in lines)
    assert counts[0] == {"DEBUG": 0, "INFO": 0, "WARNING": 0, "splink": 0}
    assert counts[1]["INFO"] > 50 and counts[1]["splink"] > 50 and counts[1]["DEBUG"] == 0
    assert counts[2]["DEBUG"] > 0 and counts[2]["INFO"] >= counts[1]["INFO"]
