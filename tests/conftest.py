"""Shared fixtures: a small synthetic world generated once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# The suite runs in two xdist workers on two cores (`make test`). A BLAS or OpenMP pool of
# its own in each worker (and in each command a test starts) oversubscribes the cores: the
# small logistic regressions of the CART synthesizer ran seven times slower under load for
# it. One thread per worker; the commands inherit these variables.
_ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
for _name in _ONE_THREAD:
    os.environ.setdefault(_name, "1")

from fdac_research.world import generate_world  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """Limit the pools of libraries already loaded (numpy may be imported by a plugin before
    this file sets the variables)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


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
