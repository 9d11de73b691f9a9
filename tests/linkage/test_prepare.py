"""Standardisation of identifiers and bad input (clear errors naming what and where)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from fdac_research.exceptions import ConfigError, ContractError
from fdac_research.linkage import (
    ColumnSpec,
    Comparison,
    Level,
    LinkageModelConfig,
    nickname_key_map,
    prepare,
    uk_person_model,
)


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
            _frame(date_of_birth=["05/03/1990", "06/03/1990"]),
            ["date_of_birth", "'%Y-%m-%d'", "05/03/1990", "give the column's format"],
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


def _one_column_model(kind: str, fmt: str | None = None) -> LinkageModelConfig:
    return LinkageModelConfig(
        columns=(ColumnSpec("v", kind, format=fmt),),
        comparisons=(
            Comparison("v", (Level("null", ("v",)), Level("exact", ("v",)), Level("else"))),
        ),
        blocking_rules=(("v",),),
        prior=0.01,
    )


def _prepared(values, kind: str, fmt: str | None = None) -> pd.DataFrame:
    df = pd.DataFrame({"record_id": [f"R{i}" for i in range(len(values))], "v": values})
    return prepare(df, _one_column_model(kind, fmt), "people.csv")


def test_invalid_and_out_of_range_dates_become_missing_with_a_count(caplog):
    # 1066-10-14 and 2300-01-01 lie outside pandas' nanosecond range (1677-2262) but are
    # dates; 1990-02-30 does not exist and "unknown" is no date: those two become missing.
    values = ["1066-10-14", "2300-01-01", "1990-02-30", "unknown", "", None, "1990-03-05"]
    with caplog.at_level(logging.WARNING, logger="fdac_research.linkage"):
        p = _prepared(values, "date")
    assert list(p["v"]) == ["1066-10-14", "2300-01-01", None, None, None, None, "1990-03-05"]
    assert p["v_year"][0] == "1066"
    text = caplog.text
    assert "people.csv" in text and "'v'" in text and "1990-02-30" in text
    assert "line 4" in text and "[2 rows]" in text and "treated as missing" in text


def test_date_format_option_reads_febrl_dates():
    # FEBRL writes 11 November 1915 as 19151111; read as an integer column it is the same
    p = _prepared(["19151111", 19151111, 19151111.0, "19151311"], "date", "%Y%m%d")
    assert list(p["v"]) == ["1915-11-11", "1915-11-11", "1915-11-11", None]
    assert p["v_dm"][0] is None  # day 11 = month 11: no other date
    assert p["v_key"][0] == "1915-11-11"


def test_date_format_is_checked():
    with pytest.raises(ConfigError, match="format applies only to kind 'date'"):
        ColumnSpec("v", "name", format="%Y")
    with pytest.raises(ConfigError, match="strftime format"):
        ColumnSpec("v", "date", format="YYYYMMDD")


@pytest.mark.parametrize(
    ("raw", "clean", "first", "last"),
    [
        # transliteration (anyascii's published tables: Cyrillic, Han by Pinyin, Arabic
        # consonants), accents dropped
        ("Михаил", "MIKHAIL", "MIKHAIL", "MIKHAIL"),
        ("李小龍", "LIXIAOLONG", "LIXIAOLONG", "LIXIAOLONG"),
        ("محمد", "MHMD", "MHMD", "MHMD"),
        ("José", "JOSE", "JOSE", "JOSE"),
        ("Łukasz", "LUKASZ", "LUKASZ", "LUKASZ"),
        # apostrophes join, generation suffixes go, particles stay with the name they precede
        ("d'Arcy 3rd", "DARCY", "DARCY", "DARCY"),
        ("O\u2019Brien", "OBRIEN", "OBRIEN", "OBRIEN"),
        ("John Smith Jr.", "JOHN SMITH", "JOHN", "SMITH"),
        ("Henry Ford III", "HENRY FORD", "HENRY", "FORD"),
        ("van der Berg", "VAN DER BERG", "VANDERBERG", "VANDERBERG"),
        ("Smith - Jones", "SMITH-JONES", "SMITH", "JONES"),
        ("Jr", "JR", "JR", "JR"),  # a suffix alone is kept: it is all there is
    ],
)
def test_names_are_transliterated_and_tidied(raw, clean, first, last):
    p = _prepared([raw], "name")
    assert (p["v"][0], p["v_first"][0], p["v_last"][0]) == (clean, first, last)


def test_names_without_letters_are_missing_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="fdac_research.linkage"):
        p = _prepared(["123", "Ann", "123"], "name")
    assert list(p["v"]) == [None, "ANN", None]
    assert "people.csv" in caplog.text and "'v'" in caplog.text and "2 name(s)" in caplog.text
