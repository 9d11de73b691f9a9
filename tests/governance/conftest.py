"""Fixtures for governance tests: linked synthetic worlds and a known key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fdac_research.world import generate_world, truth_crosswalk

#: A key known to the tests (never used for real data).
TEST_KEY = b"governance-test-key-6f1d2c9ab0e7"


@pytest.fixture(scope="session")
def linked_world(small_world: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The shared small world and its truth crosswalk: ``(sources, linkdir)`` (read-only)."""
    link = tmp_path_factory.mktemp("link") / "link"
    truth_crosswalk(small_world, link)
    return small_world, link


@pytest.fixture(scope="session")
def optout_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 300-family world with many objections (opt_out_rate 0.15) and its crosswalk."""
    root = tmp_path_factory.mktemp("optout")
    generate_world(root / "sources", n_families=300, seed=11, opt_out_rate=0.15)
    truth_crosswalk(root / "sources", root / "link")
    return root / "sources", root / "link"


@pytest.fixture
def non_synthetic(small_world: Path, tmp_path: Path) -> Path:
    """A copy of the small world without ``truth/`` (stands in for real data)."""
    out = tmp_path / "real"
    shutil.copytree(small_world, out, ignore=shutil.ignore_patterns("truth"))
    return out
