"""The real-data path fails early: what the build or the link stage would refuse after
minutes of linkage (no key, a weak key, a key file in a git work tree, unreadable labels) is
refused before any stage runs, with nothing written; reviewed labels reach the link stage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fdac_research.exceptions import ConfigError
from fdac_research.linkage._evaluate import CLERICAL_COLUMNS
from fdac_research.reports import PipelineConfig, StageFailed, run_pipeline
from fdac_research.reports import pipeline as pipeline_module
from fdac_research.reports._stages import StageRun

GOOD_KEY = "0f6b3a91c2d84e57a1b9c3d5e7f80a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f"


@pytest.fixture
def stages_run(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record every stage the pipeline would start (none is really run)."""
    run: list[list[str]] = []

    def fake(label: str, public: str, cmd: list[str]) -> StageRun:
        run.append(cmd)
        return StageRun(0, "", "", 0.0)

    monkeypatch.setattr(pipeline_module, "run_command", fake)
    monkeypatch.delenv("FDAC_PSEUDONYM_KEY", raising=False)
    return run


@pytest.fixture
def real_sources(small_world: Path, tmp_path: Path) -> Path:
    """The small world without its truth/: to the pipeline, a real sources folder."""
    sources = tmp_path / "sources"
    shutil.copytree(small_world, sources, ignore=shutil.ignore_patterns("truth"))
    return sources


def _nothing_ran(tmp_path: Path, stages: list[list[str]]) -> None:
    assert stages == []
    assert not (tmp_path / "work").exists() and not (tmp_path / "reports").exists()
    assert not (tmp_path / "synthetic").exists()


def _cfg(tmp_path: Path, **kw: object) -> PipelineConfig:
    return PipelineConfig(
        out=tmp_path / "reports",
        work=tmp_path / "work",
        synthetic_dir=tmp_path / "synthetic",
        **kw,  # type: ignore[arg-type]
    )


def test_a_key_file_inside_a_git_work_tree_is_refused_before_any_stage(
    tmp_path: Path, stages_run: list[list[str]]
) -> None:
    repo = tmp_path / "checkout"
    (repo / ".git").mkdir(parents=True)
    key = repo / "keys" / "pseudonym.key"
    key.parent.mkdir()
    key.write_text(GOOD_KEY)
    with pytest.raises(ConfigError) as info:
        run_pipeline(_cfg(tmp_path, key_file=key))
    message = str(info.value)
    assert "git work tree" in message and "--key-file" in message  # what to do
    _nothing_ran(tmp_path, stages_run)


def test_real_sources_without_a_key_are_refused_before_linkage(
    real_sources: Path, tmp_path: Path, stages_run: list[list[str]]
) -> None:
    with pytest.raises(ConfigError) as info:
        run_pipeline(_cfg(tmp_path, data=real_sources))
    message = str(info.value)
    assert "pseudonymisation key" in message and "--key-file" in message
    assert "FDAC_PSEUDONYM_KEY" in message
    _nothing_ran(tmp_path, stages_run)


def test_a_weak_key_is_refused_before_linkage(
    real_sources: Path, tmp_path: Path, stages_run: list[list[str]]
) -> None:
    key = tmp_path / "keys" / "weak.key"
    key.parent.mkdir()
    key.write_text("aaaaaaaaaaaaaaaaaaaaaaaa")  # long enough, but not random
    with pytest.raises(ConfigError, match="distinct bytes"):
        run_pipeline(_cfg(tmp_path, data=real_sources, key_file=key))
    _nothing_ran(tmp_path, stages_run)


def test_with_a_good_key_the_build_gets_it_and_no_demo_key(
    real_sources: Path, tmp_path: Path, stages_run: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "keys" / "pseudonym.key"
    key.parent.mkdir()
    key.write_text(GOOD_KEY)
    key.chmod(0o600)
    # stop after the build: the stages are recorded, not run
    monkeypatch.setattr(pipeline_module, "atomic_dir", _stop)
    with pytest.raises(_Stop):
        run_pipeline(_cfg(tmp_path, data=real_sources, key_file=key))
    (link, build) = stages_run
    assert link[3] == "link" and "--labels" not in link
    assert build[build.index("--key-file") + 1] == str(key) and "--demo-key" not in build
    notice = (tmp_path / "work" / "README.txt").read_text()
    assert "DO NOT COPY" in notice and "linkage/" in notice


class _Stop(Exception):
    pass


def _stop(*args: object, **kwargs: object) -> None:
    raise _Stop


def _labels(path: Path, is_match: str) -> Path:
    row = {c: "1" for c in CLERICAL_COLUMNS} | {"match_probability": "0.5", "is_match": is_match}
    path.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n", encoding="utf-8")
    return path


def test_labels_reach_the_link_stage(
    tmp_path: Path, stages_run: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = _labels(tmp_path / "clerical_review.csv", "1")
    record = pipeline_module.run_command

    def fail_at_link(label: str, public: str, cmd: list[str]) -> StageRun:
        if "link" not in cmd:
            return record(label, public, cmd)
        stages_run.append(cmd)
        assert "<labels>" in public  # no local path on the terminal or in the manifest
        return StageRun(3, "", "stopped by the test", 0.0)

    monkeypatch.setattr(pipeline_module, "run_command", fail_at_link)
    with pytest.raises(StageFailed, match="stage 'link'"):
        run_pipeline(_cfg(tmp_path, labels=labels))
    generate, link = stages_run
    assert generate[3] == "generate"
    assert link[link.index("--labels") + 1] == str(labels.resolve())


def test_unlabelled_review_sample_is_refused_before_any_stage(
    tmp_path: Path, stages_run: list[list[str]]
) -> None:
    labels = _labels(tmp_path / "clerical_review.csv", "")  # not reviewed yet
    with pytest.raises(ConfigError) as info:
        run_pipeline(_cfg(tmp_path, labels=labels))
    assert "is_match" in str(info.value) and "1 (same person)" in str(info.value)
    _nothing_ran(tmp_path, stages_run)


def test_labels_without_a_link_stage_are_refused(
    tmp_path: Path, stages_run: list[list[str]]
) -> None:
    labels = _labels(tmp_path / "clerical_review.csv", "1")
    with pytest.raises(ConfigError, match="--labels"):
        run_pipeline(_cfg(tmp_path, labels=labels, linkage="truth"))
    _nothing_ran(tmp_path, stages_run)
