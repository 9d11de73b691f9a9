"""Each comparison's levels on hand-made pairs, in pandas and in Splink's SQL (DuckDB).

Expected levels are worked by hand from the level definitions in ``uk_person_model``; the
Jaro-Winkler values are worked by hand from the definition (Winkler 1990, prefix scale 0.1):
- SARA/SARAH: jaro = (4/4 + 4/5 + 1)/3 = 0.9333, prefix 4 -> 0.9333 + 0.4 * 0.0667 = 0.96
- DEAN/DAWN: 3 matches (D, A, N), no transpositions: jaro = (3/4 + 3/4 + 1)/3 = 0.8333,
  prefix 1 -> 0.8333 + 0.1 * 0.1667 = 0.85
"""

from __future__ import annotations

import dataclasses

import jellyfish
import numpy as np
import pandas as pd
import pytest

from fdac_research.linkage import ColumnSpec, comparison_vectors, prepare, uk_person_model
from fdac_research.linkage._splink_engine import SplinkEngine

BASE = {
    "given_name": "Sarah",
    "family_name": "Smith",
    "date_of_birth": "1990-03-05",
    "sex": "F",
    "postcode": "ST4 6PA",
}

# (what changes on the right-hand record, comparison, expected level label)
CASES = [
    ({}, "given_name", "exact"),
    ({"given_name": None}, "given_name", "given name missing"),
    (
        {"given_name": "Smith", "family_name": "Sarah"},
        "given_name",
        "given and family names swapped",
    ),
    ({"given_name": "Sara"}, "given_name", "Jaro-Winkler >= 0.92"),
    ({"given_name": "Zoe"}, "given_name", "different"),
    ({"family_name": "Smith-Jones"}, "family_name", "part of a double-barrelled name in common"),
    ({"family_name": "Jones Smith"}, "family_name", "part of a double-barrelled name in common"),
    ({"family_name": "Smiht"}, "family_name", "Jaro-Winkler >= 0.92"),
    ({"family_name": "Okafor"}, "family_name", "different (or changed)"),
    ({"date_of_birth": "1990-05-03"}, "date_of_birth", "day and month transposed"),
    ({"date_of_birth": "1990-03-06"}, "date_of_birth", "one character different"),
    ({"date_of_birth": "1991-03-05"}, "date_of_birth", "one character different"),
    ({"date_of_birth": "1990-03-17"}, "date_of_birth", "same year and month"),
    ({"date_of_birth": "1993-07-20"}, "date_of_birth", "within 5 years"),
    ({"date_of_birth": "1970-07-20"}, "date_of_birth", "different"),
    ({"date_of_birth": None}, "date_of_birth", "date of birth missing"),
    ({"postcode": "ST4 6PA"}, "postcode", "same unit (full postcode)"),
    ({"postcode": "ST4 6QB"}, "postcode", "same sector"),
    ({"postcode": "ST4 2AB"}, "postcode", "same district"),
    ({"postcode": "ST10 1AA"}, "postcode", "same area"),
    ({"postcode": "M1 1AA"}, "postcode", "different area"),
    ({"sex": "M"}, "sex", "different"),
    ({"sex": None}, "sex", "sex missing"),
]
NICK_CASE = (
    {"given_name": "Bill"},
    {"given_name": "William"},
    "given_name",
    "nickname (same name group)",
)
DEAN_CASE = ({"given_name": "Dean"}, {"given_name": "Dawn"}, "given_name", "Jaro-Winkler >= 0.8")


def _pairs():
    left, right, expect = [], [], []
    for i, (change, comp, label) in enumerate(CASES):
        left.append({**BASE, "record_id": f"L{i}", "pair": str(i)})
        right.append({**BASE, **change, "record_id": f"R{i}", "pair": str(i)})
        expect.append((comp, label))
    for j, (lch, rch, comp, label) in enumerate((NICK_CASE, DEAN_CASE), start=len(CASES)):
        left.append({**BASE, **lch, "record_id": f"L{j}", "pair": str(j)})
        right.append({**BASE, **rch, "record_id": f"R{j}", "pair": str(j)})
        expect.append((comp, label))
    return pd.DataFrame(left), pd.DataFrame(right), expect


def _model():
    m = uk_person_model(prior=0.01)
    # block on the hand-made pair number so exactly the intended pairs are compared
    return dataclasses.replace(
        m, columns=(*m.columns, ColumnSpec("pair", "category")), blocking_rules=(("pair",),)
    )


def _label(model, comp_name, k):
    comp = next(c for c in model.comparisons if c.name == comp_name)
    return comp.levels[int(k)].label


def test_hand_worked_jaro_winkler_values():
    assert jellyfish.jaro_winkler_similarity("SARAH", "SARA") == pytest.approx(0.96, abs=1e-4)
    assert jellyfish.jaro_winkler_similarity("DEAN", "DAWN") == pytest.approx(0.85, abs=1e-4)


def test_levels_in_pandas():
    model = _model()
    left, right, expect = _pairs()
    lp, rp = prepare(left, model, "left"), prepare(right, model, "right")
    idx = np.arange(len(lp))
    g = comparison_vectors(model, lp, rp, idx, idx)
    got = [_label(model, comp, g[f"gamma_{comp}"][i]) for i, (comp, _) in enumerate(expect)]
    assert got == [label for _, label in expect]


def test_levels_in_splink_sql_agree():
    model = _model()
    m_u = {
        c.name: [(None, None) if lv.is_null else (0.5, 0.5) for lv in c.levels]
        for c in model.comparisons
    }
    fitted = model.with_parameters(0.01, m_u)
    left, right, expect = _pairs()
    frames = {"left": prepare(left, fitted, "left"), "right": prepare(right, fitted, "right")}
    pairs = SplinkEngine(retain_gamma=True).predict(fitted, frames, "link_only", floor=0.0)
    pairs = (
        pairs.assign(n=pairs["id_l"].str[1:].astype(int)).sort_values("n").reset_index(drop=True)
    )
    assert len(pairs) == len(expect)
    got = [_label(fitted, comp, pairs[f"gamma_{comp}"][i]) for i, (comp, _) in enumerate(expect)]
    assert got == [label for _, label in expect]


def test_multi_column_null_level_is_a_null_level_in_splink():
    from fdac_research.linkage import Level
    from fdac_research.linkage._splink_engine import _level_dict

    d = _level_dict(Level("null", ("given_name", "family_name")), "duckdb")
    assert d["is_null_level"] is True
    for col in ('"given_name_l"', '"family_name_r"'):
        assert f"{col} IS NULL" in d["sql_condition"]
    spark = _level_dict(Level("jaro_winkler", ("given_name",), threshold=0.9), "spark")
    # the package's own UDF (DuckDB's values), not Splink's jar function
    assert "fdac_jaro_winkler(`given_name_l`, `given_name_r`)" in spark["sql_condition"]
