"""Protection levels and linked tables, proved by the intruder's audit written for the tests
(:mod:`tests.risk._intruder`: the full cover table, linprog and milp), not the optimiser."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fdac_research.exceptions import ContractError, DisclosureError
from fdac_research.risk import PRESETS, TableRules, check_table, tabulate
from fdac_research.risk.linked import (
    LinkedTable,
    TableLink,
    audit_linked,
    check_linked,
    labels_of,
    published_grid,
)
from tests.risk._examples import T2, three_way
from tests.risk._intruder import Published, audit, from_frame

NO_MAG = dict(p_percent=None, dominance_n=None, dominance_k=None)


def exact(values: np.ndarray, published: pd.DataFrame, name: str = "t") -> Published:
    """The table as an intruder who knows every published cell exactly (rounding ignored:
    the strongest intruder, the one the check protects against)."""
    grid = np.zeros((values.shape[0] + 1, values.shape[1] + 1))
    grid[:-1, :-1] = values
    grid[:-1, -1] = values.sum(1)
    grid[-1, :-1] = values.sum(0)
    grid[-1, -1] = values.sum()
    grid[published.to_numpy() == "[c]"] = np.nan
    r, c = values.shape
    return Published(
        name, ("r",), ("c",), [(str(i),) for i in range(r)], [(str(j),) for j in range(c)], grid
    )


def test_a_suppressed_pair_beside_a_published_cell_is_too_narrow_without_levels() -> None:
    # Hand-worked: row 0 is 3, 4, 50 with its total 57 published. The cheapest pattern that
    # only needs a positive width suppresses the two small cells and their partners in
    # row 1; the intruder then knows 3 + 4 = 57 - 50 = 7, so the 3 lies in [0, 7]: 7 wide,
    # short of the threshold 10 as a protection level.
    t = pd.DataFrame({"x": [3, 60], "y": [4, 70], "z": [50, 80]})
    bare = check_table(t, TableRules(threshold=10, min_interval=0, **NO_MAG))
    assert bare.summary["n_secondary"] == 2
    got = {(a["row"], a["column"]): a for a in audit([exact(t.to_numpy(), bare.published)])}
    assert (got[(0, 0)]["lower"], got[(0, 0)]["upper"]) == pytest.approx((0.0, 7.0))
    protected = check_table(t, TableRules(threshold=10, **NO_MAG))
    assert protected.is_protected
    widths = [a["width"] for a in audit([exact(t.to_numpy(), protected.published)], integer=True)]
    assert min(widths) >= 10 - 1e-6
    assert protected.summary["n_secondary"] > bare.summary["n_secondary"]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_issue_table_t2_meets_every_preset_level(preset: str) -> None:
    values = np.array(T2, dtype=float)
    res = check_table(pd.DataFrame(values), preset)
    level = PRESETS[preset].sliding_level("frequency")
    got = audit([exact(values, res.published)], integer=True)
    assert len(got) == res.summary["n_primary"] + res.summary["n_secondary"]
    assert min(a["width"] for a in got) >= level - 1e-6
    # the audit's intervals hold the true values
    for a in got:
        assert a["lower"] - 1e-6 <= values_grid(values)[a["row"], a["column"]] <= a["upper"] + 1e-6


def values_grid(values: np.ndarray) -> np.ndarray:
    g = np.zeros((values.shape[0] + 1, values.shape[1] + 1))
    g[:-1, :-1] = values
    g[:-1, -1], g[-1, :-1], g[-1, -1] = values.sum(1), values.sum(0), values.sum()
    return g


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("seed", range(5))
def test_random_tables_meet_the_preset_level(preset: str, seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    shape = (int(rng.integers(2, 7)), int(rng.integers(2, 6)))
    values = rng.poisson(rng.choice([4, 9, 15, 30]), shape).astype(float)
    res = check_table(pd.DataFrame(values), preset)
    assert res.is_protected
    got = audit([exact(values, res.published)])
    level = max(PRESETS[preset].sliding_level("frequency"), 1.0)
    for a in got:
        assert a["width"] >= level - 1e-6, a
    flagged = res.reasons.to_numpy() != "ok"
    assert ((res.published.to_numpy() == "[c]") == flagged).all()


def test_upper_and_lower_percent_levels() -> None:
    # Hand-worked requirement: upper 50% of a primary cell of 8 -> upper bound >= 12; lower
    # 50% -> lower bound <= 4 (independent audit, whole counts).
    t = pd.DataFrame({"x": [8, 25, 40], "y": [30, 31, 50], "z": [20, 45, 61]})
    rules = TableRules(
        threshold=10, upper_protection_percent=50, lower_protection_percent=50, **NO_MAG
    )
    res = check_table(t, rules)
    got = {
        (a["row"], a["column"]): a
        for a in audit([exact(t.to_numpy(), res.published)], integer=True)
    }
    cell = got[(0, 0)]
    assert cell["upper"] >= 12 - 1e-6 and cell["lower"] <= 4 + 1e-6


def test_magnitude_p_percent_cell_gets_its_sensitivity_level() -> None:
    # Hand-worked (tau-Argus): contributions 80, 15, 5 (X = 100), p = 10: the second
    # contributor's estimate of the largest is off by less than p% unless the intruder's
    # upper bound reaches X + p/100 * 80 - (100 - 80 - 15) = 100 + 8 - 5 = 103.
    rows = [("a", "x", v) for v in (80, 15, 5)]
    rows += [("a", "y", v) for v in [12.0] * 12] + [("b", "x", v) for v in [11.0] * 12]
    rows += [("b", "y", v) for v in [13.0] * 12] + [("c", "x", v) for v in [9.0] * 12]
    rows += [("c", "y", v) for v in [10.0] * 12]
    spec = tabulate(pd.DataFrame(rows, columns=["r", "c", "v"]), "r", "c", "v")
    res = check_table(
        spec, TableRules(threshold=0, p_percent=10, dominance_n=None, dominance_k=None)
    )
    b = res.bounds.set_index(["row", "column"]).loc[("a", "x")]
    assert b["reason"] == "p_percent" and b["upper_level"] == pytest.approx(3.0)
    values = spec.values.to_numpy()
    got = {(a["row"], a["column"]): a for a in audit([exact(values, res.published)])}
    assert got[(0, 0)]["upper"] >= 103 - 1e-6


def test_boolean_table_and_unlabelled_records_are_refused() -> None:
    with pytest.raises(ContractError, match="boolean table"):
        check_table(pd.DataFrame({"x": [True, False], "y": [True, True]}))
    df = pd.DataFrame({"r": ["a", None, "b"], "c": ["x", "y", "x"]})
    with pytest.raises(ContractError, match="missing_label"):
        tabulate(df, "r", "c")
    spec = tabulate(df, "r", "c", missing_label="not recorded")
    assert spec.values.loc["not recorded", "y"] == 1 and spec.values.to_numpy().sum() == 3


# --- linked tables -------------------------------------------------------------------------
LINK3 = TableLink(unit="children", rows=("sex", "age"), columns=("outcome",))
LINK2 = TableLink(unit="children", rows=("sex",), columns=("outcome",))


def _intruder_view(name: str, published: pd.DataFrame, link: TableLink) -> Published:
    return from_frame(name, published, link.rows, link.columns)


def test_sub_table_published_alone_pins_a_cell_of_the_three_way_table() -> None:
    # The issue's case: each passes on its own; read together, (F, 45+, reunified) = 8 is
    # pinned: the sub-table publishes F reunified = 100 and the 3-way table the other ages
    # of F reunified (30 + 40 + 22 = 92), so 100 - 92 = 8.
    t3 = three_way()
    t2 = t3.groupby(level="sex").sum()
    own3, _ = check_linked(t3, "tre_10_zeros", name="three_way", link=LINK3, others=[])
    own2 = check_table(t2, "tre_10_zeros")
    assert own2.passes
    got = audit(
        [
            _intruder_view("three_way", own3.published, LINK3),
            _intruder_view("sub", own2.published, LINK2),
        ]
    )
    pinned = [a for a in got if a["width"] < 1e-6]
    assert {(a["row"], a["column"]) for a in pinned} >= {(3, 0), (3, 1)}
    cell = next(a for a in got if (a["row"], a["column"]) == (3, 0))
    assert cell["lower"] == pytest.approx(8.0) and cell["upper"] == pytest.approx(8.0)


def test_linked_tables_are_protected_together() -> None:
    t3 = three_way()
    t2 = t3.groupby(level="sex").sum()
    res3, reg3 = check_linked(t3, "tre_10_zeros", name="three_way", link=LINK3, others=[])
    res2, reg2 = check_linked(t2, "tre_10_zeros", name="sub", link=LINK2, others=[reg3])
    assert res2.summary["linked_with"] == ["three_way"] and res2.summary["n_secondary"] > 0
    views = [
        _intruder_view("three_way", res3.published, LINK3),
        _intruder_view("sub", res2.published, LINK2),
    ]
    for integer in (False, True):
        got = audit(views, integer=integer)
        assert got and min(a["width"] for a in got) >= 10 - 1e-6
    # the library's own joint audit agrees
    assert audit_linked([reg3, reg2], integer=True).protected


def test_a_table_that_cannot_be_protected_with_another_fails_naming_it() -> None:
    # The same children by (age) x (sex, outcome): the cells of the 3-way table in another
    # layout. Published first under a threshold of 5, its (45+, F, reunified) = 8 is public;
    # the 3-way table under threshold 10 must suppress that 8, which nothing can protect.
    t3 = three_way()
    other = t3.stack().unstack(level="age").T
    other.index.name = "age"
    link = TableLink(unit="children", rows=("age",), columns=("sex", "outcome"))
    loose = TableRules(name="threshold_5", threshold=5, zeros_disclosive=True, **NO_MAG)
    _, reg = check_linked(other, loose, name="by_age", link=link, others=[])
    with pytest.raises(
        DisclosureError, match=r"three_way cannot be protected together with by_age"
    ):
        check_linked(t3, "tre_10_zeros", name="three_way", link=LINK3, others=[reg])


def test_tables_that_count_different_people_are_a_clear_error() -> None:
    # 321 children by sex, registered as the same unit as a table of 300 children by sex:
    # their counts contradict each other (the second should say which subset it counts).
    t2 = three_way().groupby(level="sex").sum()
    _, reg = check_linked(t2, "tre_10_zeros", name="all_children", link=LINK2, others=[])
    fewer = t2.copy()
    fewer.loc["F", "reunified"] -= 21
    with pytest.raises(DisclosureError, match="contradict"):
        check_linked(fewer, "tre_10_zeros", name="some_children", link=LINK2, others=[reg])
    subset = TableLink(unit="children", rows=("sex",), columns=("outcome",), subset="closed")
    res, _ = check_linked(fewer, "tre_10_zeros", name="some_children", link=subset, others=[reg])
    assert res.is_protected


def test_registration_round_trips_and_checks_itself() -> None:
    from fdac_research.exceptions import ConfigError

    assert TableLink.from_dict(LINK3.to_dict()) == LINK3
    with pytest.raises(ConfigError, match="both rows and columns"):
        TableLink(unit="x", rows=("a",), columns=("a",))
    with pytest.raises(ConfigError, match="multi_valued"):
        TableLink(unit="x", rows=("a",), columns=("b",), multi_valued=("c",))
    res, reg = check_linked(three_way(), "tre_10_zeros", name="t", link=LINK3, others=[])
    again = LinkedTable(
        "t",
        LINK3,
        labels_of(three_way().index),
        labels_of(three_way().columns),
        published_grid(res.published),
    )
    assert np.array_equal(np.isnan(again.published), np.isnan(reg.published))
