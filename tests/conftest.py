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
