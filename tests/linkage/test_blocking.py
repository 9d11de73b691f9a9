"""Blocking rules (substring, cross-column, SQL, Splink's own ``block_on``) and custom SQL
levels, on hand-made records whose candidate pairs are worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fdac_research.exceptions import ConfigError
from fdac_research.linkage import (
    ColumnSpec,
    Comparison,
    Level,
    LinkageModelConfig,
    comparison_vectors,
    prepare,
)
from fdac_research.linkage._blocking import block_pairs, normalise_rule, rule_sql, symmetric_rules
from fdac_research.linkage._rl_engine import candidate_pairs
from fdac_research.linkage._splink_engine import SplinkEngine

# Four people; candidate pairs by hand (positions, the earlier first):
#   given name of one = alt of the other: (0, 1) ANN = alt of b; (2, 3) LEE = alt of d;
#       (0, 3) alt of a = KIM = given name of d (found only with the rule's sides swapped)
#   first 3 letters of surname equal:     SMI, JON, SMY, JON -> (1, 3)
#   first 2 letters of surname equal:     SM, JO, SM, JO -> (0, 2), (1, 3)
PEOPLE = pd.DataFrame(
    {
        "record_id": ["a", "b", "c", "d"],
        "given_name": ["Ann", "Bob", "Lee", "Kim"],
        "surname": ["Smith", "Jones", "Smythe", "Jonson"],
        "alt": ["Kim", "Ann", None, "Lee"],
    }
)


def _model(rules, levels=None) -> LinkageModelConfig:
    levels = levels or (Level("null", ("given_name",)), Level("exact", ("surname",)), Level("else"))
    return LinkageModelConfig(
        columns=(
            ColumnSpec("given_name", "name"),
            ColumnSpec("surname", "name"),
            ColumnSpec("alt", "name"),
        ),
        comparisons=(Comparison("c", levels),),
        blocking_rules=rules,
        prior=0.1,
    )


def _pairs(rule) -> set[tuple[int, int]]:
    frame = prepare(PEOPLE, _model((rule,)), "people.csv")
    out: set[tuple[int, int]] = set()
    for r in symmetric_rules([normalise_rule(rule)]):
        il, ir = block_pairs(frame, None, r)
        out |= set(zip(il.tolist(), ir.tolist(), strict=True))
    return out


def test_cross_column_rule_in_both_directions():
    # alt of b is ANN = given name of a; alt of d is LEE = given name of c
    assert _pairs(({"left": "given_name", "right": "alt"},)) == {(0, 1), (2, 3), (0, 3)}


def test_substring_rule():
    assert _pairs(({"column": "surname", "prefix": 3},)) == {(1, 3)}
    assert _pairs(({"column": "surname", "prefix": 2},)) == {(0, 2), (1, 3)}


def test_sql_rule_and_splink_block_on():
    from splink import block_on

    assert _pairs("substr(l.surname, 1, 3) = substr(r.surname, 1, 3)") == {(1, 3)}
    assert normalise_rule(block_on("surname")) == 'l."surname" = r."surname"'  # as SQL
    assert _pairs(block_on("substr(surname, 1, 2)")) == {(0, 2), (1, 3)}


def test_missing_values_never_block_together():
    assert _pairs(("alt",)) == set()


def test_rule_sql_text():
    assert rule_sql((("surname"), {"left": "given_name", "right": "alt", "prefix": 1})) == (
        'l."surname" = r."surname" AND substr(l."given_name", 1, 1) = substr(r."alt", 1, 1)'
    )


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        (("nope",), "['nope'] that are not declared"),
        ("l.nope = r.surname", "['nope'] that are not declared"),
        ("1 = 1", "names no column"),
        (({"column": "surname", "prefix": 0},), "prefix must be a whole number >= 1"),
        (({"column": "surname", "length": 2},), "unknown key(s) ['length']"),
        (({"left": "surname"},), "needs 'column', or 'left' and 'right'"),
    ],
)
def test_bad_rules_are_named(rule, fragment):
    with pytest.raises(ConfigError) as info:
        _model((rule,))
    assert fragment in str(info.value)
    assert "blocking_rules" in str(info.value)


def test_engines_generate_the_same_candidate_pairs():
    rules = (
        ({"left": "given_name", "right": "alt"},),
        "substr(l.surname, 1, 3) = substr(r.surname, 1, 3)",
    )
    model = _model(rules)
    m_u = {"c": [(None, None), (0.5, 0.5), (0.5, 0.5)]}
    fitted = model.with_parameters(0.1, m_u)
    frames = {"people": prepare(PEOPLE, fitted, "people.csv")}
    ((_, _, il, ir),) = candidate_pairs(fitted, frames, "dedupe_only")
    ids = frames["people"]["unique_id"].to_numpy()
    rl = {tuple(sorted((ids[a], ids[b]))) for a, b in zip(il, ir, strict=True)}
    sp = SplinkEngine().predict(fitted, frames, "dedupe_only", floor=0.0)
    splink = {tuple(sorted(p)) for p in zip(sp["id_l"], sp["id_r"], strict=True)}
    assert rl == splink == {("a", "b"), ("c", "d"), ("a", "d"), ("b", "d")}


SQL_LEVELS = (
    Level("null", ("given_name",)),
    Level(
        "sql",
        sql="given_name_l = alt_r OR alt_l = given_name_r",
        label="given name is the other's alternative",
    ),
    Level("sql", sql="substr(surname_l, 1, 2) = substr(surname_r, 1, 2)", label="SM/JO"),
    Level("else"),
)


def test_sql_level_columns_and_round_trip():
    model = _model((("surname",),), SQL_LEVELS)
    lv = model.comparisons[0].levels[1]
    assert lv.columns == ("given_name", "alt")
    again = LinkageModelConfig.from_dict(model.to_dict())
    assert again == model


def test_sql_level_in_pandas_and_splink():
    model = _model((("given_name",),), SQL_LEVELS)
    frame = prepare(PEOPLE, model, "people.csv")
    il, ir = np.array([0, 0, 1, 2]), np.array([1, 2, 3, 3])
    g = comparison_vectors(model, frame, frame, il, ir)["gamma_c"].tolist()
    # (a,b): alt of b = ANN -> level 1; (a,c): SM = SM -> 2; (b,d): JO -> 2; (c,d): alt of d
    # = LEE -> 1
    assert g == [1, 2, 2, 1]
    fitted = model.with_parameters(0.1, {"c": [(None, None), (0.6, 0.1), (0.3, 0.3), (0.1, 0.6)]})
    rules = (({"column": "surname", "prefix": 1},), "l.given_name = r.alt")
    fitted = LinkageModelConfig.from_dict({**fitted.to_dict(), "blocking_rules": rules})
    sp = SplinkEngine(retain_gamma=True).predict(
        fitted, {"people": prepare(PEOPLE, fitted, "people.csv")}, "dedupe_only", floor=0.0
    )
    got = {
        tuple(sorted((a, b))): int(k)
        for a, b, k in zip(sp["id_l"], sp["id_r"], sp["gamma_c"], strict=True)
    }
    # the rules give (a, c) and (b, d) (S, J) and (a, b), (c, d), (a, d) (the SQL rule both
    # ways); (a, d): alt of a = KIM = given name of d -> level 1
    assert got == {("a", "b"): 1, ("a", "c"): 2, ("b", "d"): 2, ("c", "d"): 1, ("a", "d"): 1}


def test_bad_sql_level_is_named():
    with pytest.raises(ConfigError, match="needs a SQL condition"):
        Level("sql", ("given_name",))
    with pytest.raises(ConfigError, match="takes no 'sql'"):
        Level("exact", ("given_name",), sql="1 = 1")
    model = _model(
        (("surname",),),
        (Level("sql", sql="nosuchfn(given_name_l)"), Level("exact", ("surname",)), Level("else")),
    )
    frame = prepare(PEOPLE, model, "people.csv")
    with pytest.raises(ConfigError, match="failed in DuckDB"):
        comparison_vectors(model, frame, frame, np.array([0]), np.array([1]))


def test_date_within_has_no_nanosecond_limits():
    model = LinkageModelConfig(
        columns=(ColumnSpec("d", "date"),),
        comparisons=(
            Comparison(
                "d",
                (Level("null", ("d",)), Level("date_within", ("d",), threshold=3), Level("else")),
            ),
        ),
        blocking_rules=(("d_year",),),
        prior=0.1,
    )
    df = pd.DataFrame(
        {"record_id": ["a", "b", "c"], "d": ["1066-10-14", "1066-10-16", "2300-01-01"]}
    )
    frame = prepare(df, model, "x")
    g = comparison_vectors(model, frame, frame, np.array([0, 0]), np.array([1, 2]))
    assert g["gamma_d"].tolist() == [1, 2]  # two days apart: within 3; 1234 years: else
