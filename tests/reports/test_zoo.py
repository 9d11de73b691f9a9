"""Every stage on worlds the package did not make (the world zoo): ``validate`` then the whole
pipeline finish on each valid world, each report says what it skipped, nothing published
runs as a spreadsheet formula, and a run killed at three points leaves nothing behind and
reruns to identical outputs. Worlds that break the contract are refused before anything is
written, naming the file."""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from fdac_research._io import FORMULA_STARTS
from fdac_research.governance import load_spec, write_extract
from fdac_research.reports import PipelineConfig, StageFailed, run_pipeline
from fdac_research.validation import validate_folder
from fdac_research.world import ZOO_WORLDS, make_zoo_world

#: A key for worlds without truth/ (they stand in for real data). Never used for real data.
ZOO_KEY = "zoo-test-key-0a1b2c3d4e5f6a7b8c9d0e1f"
FAMILIES = 150
SEED = 5


def _text(page: Path) -> str:
    t = page.read_text(encoding="utf-8")
    t = re.sub(r"<style.*?</style>|<script.*?</script>", "", t, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", t)))


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _cells(folder: Path) -> list[str]:
    out = []
    for p in sorted(folder.rglob("*.csv")):
        with open(p, encoding="utf-8", newline="") as f:
            for row in csv.reader(f):
                out += row
    return out


def _no_formula(folder: Path) -> None:
    number = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
    live = [c for c in _cells(folder) if c.startswith(FORMULA_STARTS) and not number.match(c)]
    assert not live, live[:5]


def _leftovers(*folders: Path) -> list[str]:
    """Temporary, .old and lock entries a run may leave beside its outputs."""
    found = []
    for folder in folders:
        if folder.is_dir():
            found += [
                f"{folder.name}/{n}"
                for n in os.listdir(folder)
                if re.search(r"\.(tmp|old|lock)-|^fdac-(notebooks|kernel)-|^\.fdac-", n)
            ]
    return found


def _pipeline(world: Path, base: Path, linkage: str) -> Path:
    cfg = PipelineConfig(
        out=base / "reports", work=base / "work", data=world, seed=SEED, linkage=linkage
    )
    return run_pipeline(cfg)


def _common_checks(reports: Path, world: Path) -> None:
    assert len(list(reports.glob("*.html"))) == 6
    tables = sorted((reports / "tables").glob("*.csv"))
    assert len(tables) == len(list((reports / "tables").glob("*.check.json"))) > 0
    _no_formula(reports / "tables")
    everything = "\n".join(p.read_text(errors="ignore") for p in reports.rglob("*") if p.is_file())
    assert str(world) not in everything and str(world.parent) not in everything
    manifest = json.loads((reports / "manifest.json").read_text())
    assert set(manifest["notebooks"]) == {
        "01_cohort_profile.ipynb",
        "02_linkage_quality.ipynb",
        "03_outcomes_evaluation.ipynb",
        "04_disclosure_review.ipynb",
        "05_synthetic_release.ipynb",
    }
    assert all(
        not part.startswith("/") for s in manifest["stages"] for part in s.get("command", [])
    )


def test_zoo_registry_covers_the_issue() -> None:
    assert {"foreign", "parquet_minimal", "other_truth", "noisy"} <= {
        n for n, w in ZOO_WORLDS.items() if w.expect == "valid"
    }
    assert {"bad_agency_name", "duplicate_header"} <= {
        n for n, w in ZOO_WORLDS.items() if w.expect == "reject"
    }


@pytest.mark.parametrize("name", ["bad_agency_name", "duplicate_header"])
def test_broken_worlds_are_refused_naming_the_file(name: str, tmp_path: Path) -> None:
    world = Path(make_zoo_world(name, tmp_path / "w")["out"])
    report = validate_folder(world)
    assert not report.ok
    first = report.problems[0]
    assert first.file in ("agencies/youth-offending.csv", "court_cases.csv")
    with pytest.raises(StageFailed, match=re.escape(first.file)):
        _pipeline(world, tmp_path / "run", "model")
    assert not (tmp_path / "run" / "reports").exists()


def test_parquet_minimal_world_without_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Typed Parquet, only the required files and columns, no truth: real-data path (a
    key, probabilistic linkage); every report says what it had to do without."""
    world = Path(
        make_zoo_world("parquet_minimal", tmp_path / "w", families=FAMILIES, seed=SEED)["out"]
    )
    assert validate_folder(world).ok
    with pytest.raises(Exception, match="pseudonymisation key"):
        _pipeline(world, tmp_path / "nokey", "model")  # refused before any linkage
    assert not (tmp_path / "nokey" / "work" / "linkage").exists()
    monkeypatch.setenv("FDAC_PSEUDONYM_KEY", ZOO_KEY)
    reports = _pipeline(world, tmp_path / "run", "model")
    _common_checks(reports, world)
    profile = _text(reports / "01_cohort_profile.html")
    for col in ("convictions", "mental_health", "substances"):
        assert f"{col} : not supplied" in profile
    assert "ethnicity : not recorded for anyone" in profile
    assert "Precision and recall are not known" in _text(reports / "02_linkage_quality.html")
    assert "no truth/effects.json" in _text(reports / "03_outcomes_evaluation.html")


def test_other_truth_world(tmp_path: Path) -> None:
    """Truth in another generator's layout: the demo key is still accepted (a truth/ folder
    makes a world synthetic), linkage is not evaluated against it and the outcomes report
    skips the truth comparison with a note instead of crashing."""
    world = Path(make_zoo_world("other_truth", tmp_path / "w", families=FAMILIES, seed=SEED)["out"])
    assert validate_folder(world).ok
    with pytest.raises(Exception, match="documented layout"):
        _pipeline(world, tmp_path / "t", "truth")  # truth linkage needs the documented layout
    reports = _pipeline(world, tmp_path / "run", "model")
    _common_checks(reports, world)
    work = tmp_path / "run" / "work"
    assert not (work / "linkage" / "evaluation.json").exists()
    assert (work / "linkage" / "clerical_review.csv").exists()
    outcomes = _text(reports / "03_outcomes_evaluation.html")
    assert "does not follow the documented layout" in outcomes


def _run_until(cmd: list[str], marker: str, after: float, env: dict[str, str]) -> None:
    """Start the pipeline, wait for ``marker`` on its stderr, then SIGKILL it ``after``
    seconds later (no clean-up code of the pipeline itself can run)."""
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    for line in proc.stderr:
        if marker in line:
            break
    time.sleep(after)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()


def test_foreign_world_every_stage_and_interruption(tmp_path: Path) -> None:
    """Someone else's names, places, substances, extra (colliding) columns, formula payloads,
    BOM/CRLF and whitespace/case noise. The pipeline finishes; then a run killed at three
    points leaves no stale folder and the rerun gives byte-identical reports."""
    world = Path(make_zoo_world("foreign", tmp_path / "w", families=FAMILIES, seed=SEED)["out"])
    report = validate_folder(world)
    assert report.ok, report.summary()
    assert "court_outcomes.csv" in report.extra_columns  # collides with court_people's
    clean = _pipeline(world, tmp_path / "clean", "truth")
    _common_checks(clean, world)
    # the payload court reached the published tables only as inert text
    court = (clean / "tables" / "cohort_court.csv").read_text()
    assert "'=HYPERLINK(" in court
    # extracts for external recipients: regions from the reference table, unknown ones labelled
    research = tmp_path / "clean" / "work" / "research"
    for spec in ("case_statistics", "impact_evaluation"):
        result = write_extract(research, load_spec(spec), tmp_path / spec)
        _no_formula(tmp_path / spec)
        regions = set(pd.read_csv(tmp_path / spec / "cases.csv")["region"])
        assert "Unknown region" in regions and "Wales" in regions and "London" in regions
        assert result["counts"]["cases"] > 0
    manifest = json.loads((research / "manifest.json").read_text())
    assert "notes" in manifest["source_columns_not_used"]["court_outcomes"]
    # the release is made to leave: inert too
    _no_formula(tmp_path / "clean" / "work" / "synthetic")

    # killed at three points: during linkage, during the build, during the notebooks
    base = tmp_path / "killed"
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    cmd = [sys.executable, "-m", "fdac_research.cli", "pipeline", "--data", str(world)]
    cmd += ["--out", str(base / "reports"), "--work", str(base / "work")]
    cmd += ["--seed", str(SEED), "--linkage", "truth"]
    for marker, after in (("[2/7]", 0.5), ("[3/7]", 1.0), ("02_linkage", 1.0)):
        _run_until(cmd, marker, after, env)
        time.sleep(1.0)  # a stage told to stop by the kernel (parent death) cleans up
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not _leftovers(base, base / "work", tmp_path / "tmp")
    a, b = _hashes(clean), _hashes(base / "reports")
    a.pop("manifest.json"), b.pop("manifest.json")  # records the (different) command lines
    assert a == b
