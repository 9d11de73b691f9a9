"""A failing stage's stderr (which can quote a bad cell, a name on real data) reaches the
researcher's terminal only: nothing under the reports folder ever holds it."""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import pytest

from fdac_research.exceptions import ConfigError, ContractError
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


def _site(tmp_path: Path) -> tuple[Path, Path, dict[Path, bytes]]:
    """A reports folder holding the last good run."""
    site = tmp_path / "site"
    out = site / "reports"
    (out / "tables").mkdir(parents=True)
    (out / "index.html").write_text("<p>last good run</p>", encoding="utf-8")
    return site, out, {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def _untouched(site: Path, out: Path, before: dict[Path, bytes]) -> None:
    # nothing under the reports folder (or a leftover temporary folder beside it) holds the
    # sentinel: the last good reports are untouched
    assert _files_holding(site, SENTINEL) == []
    assert sorted(p.name for p in site.iterdir()) == ["reports"]
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_a_bad_value_is_refused_before_any_stage(small_research: Path, tmp_path: Path) -> None:
    bad = tmp_path / "research"
    shutil.copytree(small_research, bad)
    _corrupt(bad)
    site, out, before = _site(tmp_path)
    cfg = PipelineConfig(out=out, work=tmp_path / "work", data=bad)
    with pytest.raises(ContractError) as info:
        run_pipeline(cfg)
    # the researcher sees the bad value, file and column on the terminal ...
    message = str(info.value)
    assert SENTINEL in message and "cases.csv" in message and "'cohort'" in message
    # ... no stage ran, nothing was written
    assert not (tmp_path / "work").exists()
    _untouched(site, out, before)


def test_failed_stage_stderr_never_reaches_the_reports_folder(
    small_research: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stage that fails on something no validation foresees (here: the risk stage,
    through a stand-in interpreter, crashes quoting a value)."""
    wrapper = tmp_path / "python-wrapper"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'case " $* " in *" risk "*) echo "bad cell: {SENTINEL}" >&2; exit 2;; esac\n'
        f'exec "{sys.executable}" "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(wrapper))
    site, out, before = _site(tmp_path)
    cfg = PipelineConfig(out=out, work=tmp_path / "work", data=small_research)
    with pytest.raises(StageFailed) as info:
        run_pipeline(cfg)
    message = str(info.value)
    # the researcher sees the stage's output on the terminal (the exception the CLI prints)
    assert "stage 'risk' failed" in message and SENTINEL in message
    _untouched(site, out, before)


def test_stage_folders_may_not_live_inside_the_reports_folder(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    with pytest.raises(ConfigError) as info:
        PipelineConfig(out=out, work=out / "work", synthetic_dir=out / "synthetic")
    assert "work folder" in str(info.value) and "synthetic_dir folder" in str(info.value)
