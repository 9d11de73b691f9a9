"""Fixtures of the synth tests: small plausible research datasets built in code."""

from __future__ import annotations

from pathlib import Path

import pytest

from fdac_research.dataset import ResearchData, write_research
from tests.synth._fake import fake_research


@pytest.fixture(scope="session")
def research_small() -> ResearchData:
    """120 families (fast model tests)."""
    return fake_research(120, seed=11)


@pytest.fixture(scope="session")
def research_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 400-family research folder written with dataset.write_research (read-only)."""
    out = tmp_path_factory.mktemp("synth") / "research"
    write_research(fake_research(400, seed=5), out)
    return out
