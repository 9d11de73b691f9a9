"""Standardisation of identifiers and bad input (clear errors naming what and where)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fdac_research.exceptions import ContractError
from fdac_research.linkage import nickname_key_map, prepare, uk_person_model


def _frame(**over):
    d = {
        "record_id": ["A1", "A2"],
        "given_name": ["Bill", " José "],
        "family_name": ["Smith-Jones", "O'Brien"],
        "date_of_birth": ["1990-03-05", ""],
        "sex": ["M", ""],
        "postcode": ["st4 6pa", "M11AA"],
    }
    d.update(over)
    return pd.DataFrame(d)


def test_standardised_columns():
    p = prepare(_frame(), uk_person_model(), "agencies/police.csv")
    assert list(p["unique_id"]) == ["A1", "A2"]
    assert list(p["given_name"]) == ["BILL", "JOSE"]
    assert p["given_name_nick"][0] == nickname_key_map()["WILLIAM"]
    assert list(p["family_name_first"]) == ["SMITH", "OBRIEN"]
    assert list(p["family_name_last"]) == ["JONES", "OBRIEN"]
    assert list(p["postcode"]) == ["ST4 6PA", "M1 1AA"]
    assert list(p["postcode_sector"]) == ["ST4 6", "M1 1"]
    assert list(p["postcode_district"]) == ["ST4", "M1"]
    assert list(p["postcode_area"]) == ["ST", "M"]
    # 5 March: transposition is 3 May; the blocking key is the same for both
    assert p["date_of_birth_dm"][0] == "1990-05-03"
    assert p["date_of_birth_key"][0] == "1990-03-05"
    assert p["date_of_birth"][1] is None and p["sex"][1] is None


def test_blocking_key_is_invariant_to_transposition():
    a = prepare(_frame(date_of_birth=["1990-03-05", "1990-05-03"]), uk_person_model(), "x")
    assert a["date_of_birth_key"][0] == a["date_of_birth_key"][1]


def test_typed_dates_are_accepted():
    f = _frame(date_of_birth=pd.to_datetime(["1990-03-05", None]))
    p = prepare(f, uk_person_model(), "x")
    assert p["date_of_birth"][0] == "1990-03-05" and p["date_of_birth"][1] is None


def test_nickname_groups_merge_shared_names():
    keys = nickname_key_map({"Samuel": ("Sam",), "Samantha": ("Sam", "Sammy")})
    assert keys["SAMUEL"] == keys["SAMANTHA"] == keys["SAMMY"]


@pytest.mark.parametrize(
    ("frame", "fragments"),
    [
        (_frame(record_id=["A1", "A1"]), ["record_id", "duplicate id", "line 3"]),
        (_frame(record_id=["A1", ""]), ["record_id", "record id on every row", "line 3"]),
        (
            _frame(date_of_birth=["1990-03-05", "05/03/1990"]),
            ["date_of_birth", "ISO date", "05/03/1990"],
        ),
        (_frame().iloc[0:0], ["empty"]),
        (_frame().drop(columns="postcode"), ["postcode", "named by the linkage model"]),
    ],
)
def test_bad_input_names_what_and_where(frame, fragments):
    with pytest.raises(ContractError) as info:
        prepare(frame, uk_person_model(), "agencies/police.csv")
    text = str(info.value)
    assert "agencies/police.csv" in text
    for f in fragments:
        assert f in text


def test_all_problems_reported_together():
    f = _frame(record_id=["A1", "A1"]).drop(columns=["sex"])
    with pytest.raises(ContractError) as info:
        prepare(f, uk_person_model(), "x")
    assert len(info.value.problems) == 2
    assert np.all([p.file == "x" for p in info.value.problems])
