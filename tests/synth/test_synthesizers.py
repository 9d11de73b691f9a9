"""The synthesizer contract (fit -> self, NotFittedError, seeds) and the CART model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fdac_research.dataset import ResearchData
from fdac_research.exceptions import ContractError, NotFittedError
from fdac_research.synth import CARTSynthesizer, HMASynthesizer, rule_violations
from fdac_research.synth._copies import exact_copy_rates

TABLES = ("cases", "adults", "children")


@pytest.fixture(scope="module")
def cart(research_small: ResearchData) -> CARTSynthesizer:
    return CARTSynthesizer().fit(research_small)


@pytest.mark.parametrize("cls", [CARTSynthesizer, HMASynthesizer])
def test_not_fitted(cls: type) -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        cls().sample(seed=1)


def test_fit_returns_self_and_learns_trailing_underscore_attributes(
    research_small: ResearchData,
) -> None:
    s = CARTSynthesizer()
    assert s.fit(research_small) is s
    assert s.n_cases_ == len(research_small.cases)
    assert not [k for k in vars(CARTSynthesizer()) if k.endswith("_")]


def test_same_seed_same_output_other_seed_other_output(cart: CARTSynthesizer) -> None:
    a, b, c = cart.sample(seed=3), cart.sample(seed=3), cart.sample(seed=4)
    for t in TABLES:
        pd.testing.assert_frame_equal(getattr(a, t), getattr(b, t))
    assert not a.adults.equals(c.adults)


def test_refit_gives_the_same_output(research_small: ResearchData, cart: CARTSynthesizer) -> None:
    other = CARTSynthesizer().fit(research_small)
    pd.testing.assert_frame_equal(other.sample(seed=2).children, cart.sample(seed=2).children)


def test_output_follows_the_rules_and_keeps_children_per_case(cart: CARTSynthesizer) -> None:
    out = cart.sample(scale=2.0, seed=1)
    assert len(out.cases) == 2 * cart.n_cases_
    assert rule_violations(out)["n_rows_violating"] == 0
    n_kids = out.children.groupby("case_id").size()
    assert (
        out.cases.set_index("case_id")["n_children"]
        == n_kids.reindex(out.cases["case_id"]).fillna(0)
    ).all()
    assert out.cases["case_id"].is_unique and out.adults["person_id"].is_unique
    assert out.cases["case_id"].str.startswith("syn-").all()


def test_no_family_or_adult_row_is_a_copy(
    research_small: ResearchData, cart: CARTSynthesizer
) -> None:
    out = cart.sample(seed=5)
    rates = exact_copy_rates(out.tables(), research_small.tables())
    assert rates["families"] == 0.0
    # case rows are not redrawn (they coincide with real ones by chance; see _cart._copies)
    assert rates["adults"] == 0.0


def test_bad_parameters_and_inputs(research_small: ResearchData, cart: CARTSynthesizer) -> None:
    with pytest.raises(ValueError, match="min_samples_leaf"):
        CARTSynthesizer(min_samples_leaf=0).fit(research_small)
    with pytest.raises(ValueError, match="scale"):
        cart.sample(scale=0)
    with pytest.raises(ValueError, match="seed"):
        cart.sample(seed=-1)
    broken = ResearchData(
        cases=research_small.cases.drop(columns=["cohort"]),
        adults=research_small.adults,
        children=research_small.children.assign(case_id="nowhere"),
    )
    with pytest.raises(ContractError) as info:
        CARTSynthesizer().fit(broken)
    text = str(info.value)
    assert "cohort" in text and "children.csv" in text and "nowhere" in text
    with pytest.raises(TypeError, match="ResearchData"):
        CARTSynthesizer().fit({"cases": research_small.cases})  # type: ignore[arg-type]


def test_hma_rejects_unknown_distribution(research_small: ResearchData) -> None:
    with pytest.raises(ValueError, match="default_distribution"):
        HMASynthesizer(default_distribution="cauchy").fit(research_small)


@pytest.mark.slow
def test_hma_is_seeded_and_follows_the_rules() -> None:
    from tests.synth._fake import fake_research

    data = fake_research(60, seed=2)
    s = HMASynthesizer().fit(data)
    a, b = s.sample(seed=9), s.sample(seed=9)
    for t in TABLES:
        pd.testing.assert_frame_equal(getattr(a, t), getattr(b, t))
    assert rule_violations(a)["n_rows_violating"] == 0
    c = HMASynthesizer().fit(data).sample(seed=9)
    pd.testing.assert_frame_equal(a.adults, c.adults)
    assert not np.array_equal(
        a.adults["hearings_attended_pct"], s.sample(seed=10).adults["hearings_attended_pct"]
    )


def test_column_tree_samples_no_rows() -> None:
    # a redraw of families none of which has a mother asks the mothers' trees for 0 rows
    from fdac_research.synth._cart_tree import ColumnTree

    X = np.arange(20, dtype=float).reshape(-1, 1)  # noqa: N806
    y = pd.Series(pd.array(np.arange(20) % 3, dtype="Int64"))
    tree = ColumnTree("integer", smooth=False, min_samples_leaf=5).fit(X, y, seed=0)
    out = tree.sample(np.zeros((0, 1)), np.random.default_rng(0))
    assert len(out) == 0 and str(out.dtype) == "Int64"
