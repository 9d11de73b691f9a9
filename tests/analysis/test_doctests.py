"""The Examples sections of the analysis modules run as doctests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "fdac_research.analysis._results",
    "fdac_research.analysis._sensitivity",
    "fdac_research.analysis._estimators",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(
        importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0
    assert result.attempted > 0
