"""estimates_table and compare_with_truth."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from fdac_research.analysis import (
    AnalysisError,
    AnalysisFrame,
    analysis_frame,
    compare_with_truth,
    estimates_table,
    evaluate,
    naive_contrast,
)


@pytest.fixture(scope="module")
def results(simulated):
    return evaluate(analysis_frame(simulated.research, "reunified", "children"))


def test_estimates_table(results) -> None:
    table = estimates_table(results)
    assert len(table) == 7
    assert table["method"].tolist()[0] == "naive"
    assert {"risk_difference", "rd_ci_low", "or_ci_high", "n_clusters", "variance"} <= set(
        table.columns
    )
    assert (table["rd_ci_low"] <= table["risk_difference"]).all()
    assert (table["odds_ratio"] <= table["or_ci_high"]).all()
    with pytest.raises(AnalysisError, match="EffectResult"):
        estimates_table([1, 2])
    with pytest.raises(AnalysisError, match="no estimates"):
        estimates_table([])


def test_compare_with_truth(results, simulated, tmp_path) -> None:
    # the world generator nests effects under "effects"; a bare mapping works too
    path = tmp_path / "effects.json"
    path.write_text(json.dumps({"effects": simulated.truth, "config": {}}))
    table = compare_with_truth(results, path)
    assert len(table) == 2 * len(results)
    naive = table[table["method"] == "naive"]
    assert not naive["covered"].any()
    adjusted = table[table["method"].isin(["g_computation", "ipw", "aipw", "matching"])]
    assert adjusted["covered"].all()
    att = table[(table["method"] == "ipw") & (table["estimand"] == "ATT")]
    assert (
        att["truth"].to_numpy()
        == [
            simulated.truth["reunified_children"]["att"]["risk_difference"],
            simulated.truth["reunified_children"]["att"]["odds_ratio"],
        ]
    ).all()
    assert table["bias"].to_numpy() == pytest.approx(
        (table["estimate"] - table["truth"]).to_numpy()
    )
    assert compare_with_truth(results, simulated.truth).equals(table)


def test_compare_with_truth_errors(results, simulated, tmp_path) -> None:
    with pytest.raises(
        AnalysisError, match=r"no entry 'reunified_children'.*ceased_misuse_mothers"
    ):
        compare_with_truth(
            results, {"ceased_misuse_mothers": simulated.truth["ceased_misuse_mothers"]}
        )
    with pytest.raises(AnalysisError, match="has no 'att' block"):
        compare_with_truth(
            results, {"reunified_children": {"ate": simulated.truth["reunified_children"]["ate"]}}
        )
    broken = {
        "reunified_children": {"ate": {"risk_difference": 0.1}, "att": {"risk_difference": 0.1}}
    }
    with pytest.raises(AnalysisError, match="has no 'odds_ratio'"):
        compare_with_truth(results, broken)
    with pytest.raises(AnalysisError, match="does not exist"):
        compare_with_truth(results, tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(AnalysisError, match="not valid JSON"):
        compare_with_truth(results, bad)


def test_custom_population_key() -> None:
    df = pd.DataFrame({"t": [1, 1, 0, 0], "y": [1, 0, 0, 1]})
    r = naive_contrast(
        AnalysisFrame.from_dataframe(df, outcome="y", treatment="t", population="pets")
    )
    assert r.key == "y_pets"
    with pytest.raises(AnalysisError, match="no entry 'y_pets'"):
        compare_with_truth([r], {})
