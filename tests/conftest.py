"""Shared fixtures: a small synthetic world generated once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from fdac_research.world import generate_world


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-family synthetic sources folder (with truth/), generated once per session.

    Treat it as read-only: copy it (shutil.copytree) before changing anything.
    """
    out = tmp_path_factory.mktemp("world") / "sources"
    generate_world(out, n_families=300, seed=7)
    return out


@pytest.fixture(scope="session")
def small_research(small_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small world's research folder: truth crosswalk, then the governance build with the
    public demo key (synthetic data only). Read-only."""
    from fdac_research.governance import build_research, load_key
    from fdac_research.world import truth_crosswalk

    base = tmp_path_factory.mktemp("research")
    link = truth_crosswalk(small_world, base / "link")
    key, kind = load_key(demo=True, sources=small_world)
    build_research(small_world, link, base / "research", key=key, key_kind=kind)
    return base / "research"
