"""The Examples sections of the risk modules run as doctests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "fdac_research.risk.microdata",
    "fdac_research.risk.fixes",
    "fdac_research.risk.tables",
    "fdac_research.risk.synthetic",
    "fdac_research.risk.linked",
    "fdac_research.reports.links",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(
        importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0
    assert result.attempted > 0
