"""A failing stage's stderr (which can quote a bad cell, a name on real data) reaches the
researcher's terminal only: nothing under the reports folder ever holds it."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from fdac_research.exceptions import ConfigError
from fdac_research.reports import PipelineConfig, StageFailed, run_pipeline

# a value no report, manifest or log would contain unless the child's stderr leaked into it
SENTINEL = "Zebedee Quillfeather-Sentinel 7Q"


def _corrupt(research: Path) -> None:
    """Put the sentinel in a cell the data contract rejects (cohort must be fdac/comparison),
    so the risk stage's validation message quotes it."""
    path = research / "cases.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rows[1][rows[0].index("cohort")] = SENTINEL
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def _files_holding(folder: Path, text: str) -> list[str]:
    return [
        p.as_posix() for p in folder.rglob("*") if p.is_file() and text.encode() in p.read_bytes()
    ]


def test_failed_stage_stderr_never_reaches_the_reports_folder(
    small_research: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "research"
    shutil.copytree(small_research, bad)
    _corrupt(bad)
    site = tmp_path / "site"
    out = site / "reports"
    (out / "tables").mkdir(parents=True)
    (out / "index.html").write_text("<p>last good run</p>", encoding="utf-8")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    cfg = PipelineConfig(out=out, work=tmp_path / "work", data=bad)
    with pytest.raises(StageFailed) as info:
        run_pipeline(cfg)
    message = str(info.value)
    # the researcher sees the bad value on the terminal (the exception the CLI prints) ...
    assert "stage 'risk' failed" in message and SENTINEL in message
    # ... and nothing under the reports folder (or a leftover temporary folder beside it)
    # holds it: the last good reports are untouched
    assert _files_holding(site, SENTINEL) == []
    assert sorted(p.name for p in site.iterdir()) == ["reports"]
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_stage_folders_may_not_live_inside_the_reports_folder(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    with pytest.raises(ConfigError) as info:
        PipelineConfig(out=out, work=out / "work", synthetic_dir=out / "synthetic")
    assert "work folder" in str(info.value) and "synthetic_dir folder" in str(info.value)
