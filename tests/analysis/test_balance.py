"""Standardised mean differences and the love plot."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from fdac_research.analysis import (
    AnalysisError,
    analysis_frame,
    balance_table,
    ipw_weights,
    love_plot,
    matching_weights,
    standardised_mean_differences,
)


def test_smd_hand_worked() -> None:
    # Continuous: treated {1, 3} mean 2 var 2; control {0, 2} mean 1 var 2;
    # SMD = (2 - 1) / sqrt((2 + 2) / 2) = 1 / sqrt(2) = 0.70711.
    # Binary: treated {1, 1} p = 1 var 0; control {1, 0} p = .5 var .5 (ddof 1);
    # SMD = 0.5 / sqrt(0.25) = 1.
    X = np.array([[1.0, 1.0], [3.0, 1.0], [0.0, 1.0], [2.0, 0.0]])
    smd = standardised_mean_differences(X, np.array([1, 1, 0, 0]))
    np.testing.assert_allclose(smd, [1 / np.sqrt(2), 1.0])
    # weighting the control row with x=2 three times: weighted control mean = (0 + 6) / 4 = 1.5
    # -> SMD = 0.5 / sqrt(2) with the unweighted SD in the denominator
    smd_w = standardised_mean_differences(X, np.array([1, 1, 0, 0]), np.array([1, 1, 1, 3]))
    assert smd_w[0] == pytest.approx(0.5 / np.sqrt(2))


def test_weighting_balances_the_simulated_confounders(simulated) -> None:
    frame = analysis_frame(simulated.research, "reunified", "children")
    table = balance_table(
        frame, {"ipw_ate": ipw_weights(frame), "matching": matching_weights(frame)}
    )
    assert list(table.columns) == ["covariate", "unadjusted", "ipw_ate", "matching"]
    row = table.set_index("covariate")
    # heroin and prior proceedings drive referral: clearly imbalanced before weighting
    assert abs(row.loc["mother_substance_opiates", "unadjusted"]) > 0.2
    assert abs(row.loc["mother_prior_proceedings", "unadjusted"]) > 0.2
    assert table["ipw_ate"].abs().max() < 0.1
    assert table["matching"].abs().max() < 0.15


def test_love_plot_is_deterministic(simulated) -> None:
    frame = analysis_frame(simulated.research, "ceased_misuse", "mothers")
    table = balance_table(frame, {"ipw_ate": ipw_weights(frame)})

    def png() -> bytes:
        fig = love_plot(table, title="balance")
        assert isinstance(fig, Figure)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        return buf.getvalue()

    assert png() == png()
    with pytest.raises(AnalysisError, match="covariate"):
        love_plot(table.drop(columns=["unadjusted"]))


def test_balance_errors() -> None:
    with pytest.raises(AnalysisError, match="both arms"):
        standardised_mean_differences(np.ones((3, 1)), np.array([1, 1, 1]))
    with pytest.raises(AnalysisError, match="weights have length"):
        standardised_mean_differences(np.ones((3, 1)), np.array([1, 0, 1]), np.ones(2))


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def test_forest_and_overlap_plots(simulated) -> None:
    from fdac_research.analysis import evaluate, forest_plot, overlap_plot

    frame = analysis_frame(simulated.research, "reunified", "children")
    results = evaluate(frame)
    fig = forest_plot(results, truth=simulated.truth, title="reunification")
    ax = fig.axes[0]
    assert len(ax.get_yticklabels()) == len(results)
    # one truth marker per row (every result has a planted ATE or ATT)
    assert sum(1 for line in ax.lines if line.get_marker() == "x") == len(results)
    assert _png(forest_plot(results, measure="odds_ratio")) == _png(
        forest_plot(results, measure="odds_ratio")
    )
    assert _png(overlap_plot(frame, bins=10)) == _png(overlap_plot(frame, bins=10))
    with pytest.raises(AnalysisError, match="measure"):
        forest_plot(results, measure="hazard_ratio")
    with pytest.raises(AnalysisError, match="non-empty"):
        forest_plot([])


def test_trim_by_propensity(simulated) -> None:
    from fdac_research.analysis import AnalysisError, ipw, propensity_scores, trim_by_propensity

    frame = analysis_frame(simulated.research, "reunified", "children")
    e = propensity_scores(frame)
    trimmed = trim_by_propensity(frame, 0.1, 0.9)
    assert len(trimmed.data) == int(((e >= 0.1) & (e <= 0.9)).sum()) < len(frame.data)
    assert "trimmed" in trimmed.notes[-1]
    assert ipw(trimmed).n == len(trimmed.data)
    assert len(trim_by_propensity(frame, 0.0, 1.0).data) == len(frame.data)
    with pytest.raises(AnalysisError, match="low < high"):
        trim_by_propensity(frame, 0.9, 0.1)
