"""Table output checking: rules, presets and secondary suppression proved by an independent LP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from fdac_research.exceptions import ConfigError, ContractError, DisclosureError
from fdac_research.risk.tables import (
    PRESETS,
    TableRules,
    TableSpec,
    check_table,
    check_table_or_raise,
    tabulate,
)

NO_MAG = dict(p_percent=None, dominance_n=None, dominance_k=None)


def _independent_bounds(
    values: np.ndarray, published: pd.DataFrame
) -> list[tuple[float, float, float]]:
    """An attacker's LP written independently of the library: one variable per cell of the
    table with margins; published cells fixed by their bounds; all row/column sums hold."""
    r, c = values.shape
    grid = np.zeros((r + 1, c + 1))
    grid[:r, :c] = values
    grid[:r, c] = values.sum(1)
    grid[r, :c] = values.sum(0)
    grid[r, c] = values.sum()
    idx = {(i, j): i * (c + 1) + j for i in range(r + 1) for j in range(c + 1)}
    a = []
    for i in range(r + 1):
        row = np.zeros(len(idx))
        for j in range(c):
            row[idx[i, j]] = 1
        row[idx[i, c]] = -1
        a.append(row)
    for j in range(c + 1):
        col = np.zeros(len(idx))
        for i in range(r):
            col[idx[i, j]] = 1
        col[idx[r, j]] = -1
        a.append(col)
    sup = published.to_numpy() == "[c]"
    bounds = [(0, None) if sup[i, j] else (grid[i, j], grid[i, j]) for (i, j) in idx]
    out = []
    for (i, j), k in idx.items():
        if not sup[i, j]:
            continue
        obj = np.zeros(len(idx))
        obj[k] = 1
        lo = linprog(obj, A_eq=np.array(a), b_eq=np.zeros(len(a)), bounds=bounds, method="highs")
        hi = linprog(-obj, A_eq=np.array(a), b_eq=np.zeros(len(a)), bounds=bounds, method="highs")
        upper = np.inf if hi.status == 3 else -hi.fun
        out.append((grid[i, j], lo.fun, upper))
    return out


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("seed", range(6))
def test_every_suppressed_table_cannot_be_recovered_from_its_margins(
    preset: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(2, 6)), int(rng.integers(2, 6)))
    values = rng.poisson(rng.choice([4, 9, 15]), shape).astype(float)
    res = check_table(pd.DataFrame(values), preset)
    assert res.is_protected
    bounds = _independent_bounds(values, res.published)
    assert len(bounds) == res.summary["n_primary"] + res.summary["n_secondary"]
    for true, lo, hi in bounds:
        assert hi - lo > 1e-6, "a suppressed cell is pinned down by the margins"
        assert lo - 1e-6 <= true <= hi + 1e-6
    # every primary cell of the rule really is suppressed
    flagged = res.reasons.to_numpy() != "ok"
    assert ((res.published.to_numpy() == "[c]") == flagged).all()


def test_threshold_zero_and_secondary_hand_worked() -> None:
    # 2 x 2 table: one cell of 3 is below 10. With row and column totals published a lone
    # suppression is recovered by subtraction (27 - 24 = 3), so the whole 2x2 block goes.
    t = pd.DataFrame({"x": [3, 20], "y": [24, 30]}, index=["a", "b"])
    res = check_table(t, TableRules(threshold=10, **NO_MAG))
    assert res.reasons.loc["a", "x"] == "threshold"
    assert res.summary["n_primary"] == 1 and res.summary["n_secondary"] == 3
    # hand-worked interval for the 3: row a total 27, column x total 23 -> x in [0, 23]
    b = res.bounds.set_index(["row", "column"])
    assert b.loc[("a", "x"), "lower"] == pytest.approx(0) and b.loc[
        ("a", "x"), "upper"
    ] == pytest.approx(23)
    zeros = check_table(
        pd.DataFrame({"x": [0, 20], "y": [24, 30]}),
        TableRules(threshold=10, zeros_disclosive=True, **NO_MAG),
    )
    assert zeros.reasons.iloc[0, 0] == "zero"
    ok = check_table(
        pd.DataFrame({"x": [0, 20], "y": [24, 30]}), TableRules(threshold=10, **NO_MAG)
    )
    assert ok.passes


def test_rounding_base_5_hand_worked() -> None:
    t = pd.DataFrame({"x": [12, 13], "y": [22, 40]})
    res = check_table(t, TableRules(threshold=10, round_base=5, **NO_MAG))
    # 12 -> 10, 13 -> 15, 22 -> 20, 40 -> 40; totals 34 -> 35, 53 -> 55, 25 -> 25, 62 -> 60, 87 -> 85
    assert res.published.iloc[:2, :2].to_numpy().tolist() == [[10, 20], [15, 40]]
    assert res.published.loc["Total"].tolist() == [25, 60, 85]


def test_nhs_preset_suppresses_1_to_7_only() -> None:
    t = pd.DataFrame({"x": [7, 8, 30], "y": [20, 40, 50]})
    res = check_table(t, "nhs_1_7_round_5")
    assert res.reasons.iloc[0, 0] == "threshold" and res.reasons.iloc[1, 0] != "threshold"


def _spec(contribs: dict[tuple[str, str], list[float]]) -> TableSpec:
    rows = [{"r": r, "c": c, "v": v} for (r, c), vs in contribs.items() for v in vs]
    return tabulate(pd.DataFrame(rows), "r", "c", "v")


def test_p_percent_and_dominance_hand_worked() -> None:
    rules = TableRules(threshold=0, p_percent=10, dominance_n=2, dominance_k=85)
    spec = _spec(
        {
            ("a", "x"): [80, 15, 5],  # rest 5 < 10% of 80 -> p% unsafe
            ("a", "y"): [60, 30, 10, 10],  # p%: rest 20 >= 6; top two 90 of 110 = 81.8% -> ok
            ("b", "x"): [50, 40, 5, 5],  # p%: rest 10 >= 5; top two 90 of 100 > 85% -> dominance
            ("b", "y"): [30, 30, 30, 30],
            ("c", "x"): [25, 25, 25, 25],
            ("c", "y"): [20, 20, 20, 20, 20],
        }
    )
    assert (
        spec.n_contributors.loc["a", "x"] == 3
        and spec.largest.loc["b", "x"] == 50
        and spec.second.loc["a", "y"] == 30
    )
    res = check_table(spec, rules)
    assert res.reasons.loc["a", "x"] == "p_percent"
    assert res.reasons.loc["a", "y"] in ("ok", "secondary")
    assert res.reasons.loc["b", "x"] == "dominance"
    assert res.is_protected


def test_magnitude_without_contributors_is_a_clear_error() -> None:
    with pytest.raises(ContractError, match="contributor"):
        check_table(pd.DataFrame({"x": [1.5, 2.0]}), kind="magnitude")


def test_bad_tables_and_rules() -> None:
    with pytest.raises(ContractError, match="non-negative counts"):
        check_table(pd.DataFrame({"x": [1.5, 2.0]}))
    with pytest.raises(ContractError, match="number"):
        check_table(pd.DataFrame({"x": ["a", 2]}))
    with pytest.raises(ContractError, match="empty"):
        check_table(pd.DataFrame())
    with pytest.raises(ContractError, match="margins"):
        check_table(pd.DataFrame({"x": [12, 30], "Total": [12, 30]}))
    with pytest.raises(ConfigError, match="unknown preset"):
        check_table(pd.DataFrame({"x": [1]}), "nope")
    with pytest.raises(ConfigError, match="p_percent"):
        TableRules(p_percent=150)


def test_rules_round_trip_and_custom_file(tmp_path) -> None:
    rules = TableRules(name="mine", threshold=5, zeros_disclosive=True, round_base=10)
    path = tmp_path / "rules.json"
    rules.to_json(path)
    res = check_table(pd.DataFrame({"x": [4, 20], "y": [30, 30]}), str(path))
    assert res.rules == rules and res.reasons.iloc[0, 0] == "threshold"


def test_check_table_or_raise_names_the_cell() -> None:
    t = pd.DataFrame({"fdac": [12, 3], "comparison": [15, 11]}, index=["a", "b"])
    with pytest.raises(DisclosureError, match=r"\(b, fdac\): threshold"):
        check_table_or_raise(t, "tre_10_zeros", name="outcomes")
    res = check_table_or_raise(t, "tre_10_zeros", allow_suppression=True)
    assert res.published.loc["b", "fdac"] == "[c]"
    ok = check_table_or_raise(pd.DataFrame({"x": [12, 30]}), "tre_10_zeros")
    assert ok.passes


def test_protection_percent_widens_every_interval() -> None:
    rng = np.random.default_rng(21)
    values = rng.poisson(12, (5, 4)).astype(float)
    rules = TableRules(threshold=10, protection_percent=50, **NO_MAG)
    res = check_table(pd.DataFrame(values), rules)
    assert res.is_protected
    for true, lo, hi in _independent_bounds(values, res.published):
        assert hi - lo > 0.5 * true - 1e-6
