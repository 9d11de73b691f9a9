"""The engine-neutral linkage model config: validation (every problem at once), JSON round trip."""

from __future__ import annotations

import dataclasses
import json

import pytest

from fdac_research.exceptions import ConfigError
from fdac_research.linkage import (
    ColumnSpec,
    Comparison,
    Level,
    LinkageModelConfig,
    uk_person_model,
)


def test_uk_model_round_trips_through_json(tmp_path):
    model = uk_person_model()
    path = tmp_path / "model.json"
    model.to_json(path)
    again = LinkageModelConfig.from_file(path)
    assert again == model
    assert again.to_json() == model.to_json()


def test_fitted_parameters_round_trip():
    model = uk_person_model(prior=0.001)
    m_u = {
        c.name: [(None, None) if lv.is_null else (0.5, 0.25) for lv in c.levels]
        for c in model.comparisons
    }
    fitted = model.with_parameters(0.002, m_u)
    assert fitted.is_fitted and not model.is_fitted
    again = LinkageModelConfig.from_dict(json.loads(fitted.to_json()))
    assert again.is_fitted
    assert again.comparisons[0].levels[1].m_probability == 0.5
    assert again.unfitted().comparisons[0].levels[1].m_probability is None


def test_unknown_key_is_an_error():
    d = uk_person_model().to_dict()
    d["blockin_rules"] = []
    with pytest.raises(ConfigError, match="unknown key"):
        LinkageModelConfig.from_dict(d)


def test_unknown_key_in_a_level_names_the_comparison():
    d = uk_person_model().to_dict()
    d["comparisons"][1]["levels"][1]["treshold"] = 0.9
    with pytest.raises(ConfigError) as info:
        LinkageModelConfig.from_dict(d)
    assert "family_name" in str(info.value) and "treshold" in str(info.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as info:
        LinkageModelConfig(
            columns=(ColumnSpec("given_name", "name"),),
            comparisons=(
                Comparison(
                    "given_name",
                    (
                        Level("null", ("given_name",)),
                        Level("exact", ("nickname_column",)),
                        Level("else"),
                    ),
                ),
            ),
            blocking_rules=(("postcode",),),
            prior=1.5,
            match_threshold=0.0,
        )
    problems = info.value.problems
    text = "\n".join(problems)
    assert "nickname_column" in text  # a column not declared
    assert "postcode" in text  # blocking rule on an undeclared column
    assert "prior" in text
    assert "match_threshold" in text
    assert len(problems) >= 4


@pytest.mark.parametrize(
    ("level", "fragment"),
    [
        (dict(kind="jaro_winkler", columns=("a",)), "threshold"),
        (dict(kind="jaro_winkler", columns=("a",), threshold=1.5), "(0, 1]"),
        (dict(kind="levenshtein", columns=("a",), threshold=1.5), "whole number"),
        (dict(kind="columns_reversed", columns=("a",)), "exactly two"),
        (dict(kind="exact", columns=()), "at least one column"),
        (dict(kind="fuzzy", columns=("a",)), "level kind"),
        (dict(kind="exact", columns=("a", "b"), tf_adjustment=True), "tf_adjustment"),
        (dict(kind="exact", columns=("a",), m_probability=2.0), "m_probability"),
    ],
)
def test_bad_levels(level, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace("]", r"\]")):
        Level(**level)


def test_comparison_shape_is_checked():
    with pytest.raises(ConfigError) as info:
        Comparison("x", (Level("exact", ("a",)), Level("null", ("a",))))
    text = str(info.value)
    assert "last level must be 'else'" in text and "'null' level may only come first" in text


def test_users_can_change_the_model():
    model = uk_person_model()
    sexless = dataclasses.replace(
        model, comparisons=tuple(c for c in model.comparisons if c.name != "sex")
    )
    assert [c.name for c in sexless.comparisons] == [
        "given_name",
        "family_name",
        "date_of_birth",
        "postcode",
    ]
    stricter = uk_person_model(
        match_threshold=0.99, name_similarity=(0.95, 0.85), dob_within_years=2
    )
    assert stricter.match_threshold == 0.99
    dob = next(c for c in stricter.comparisons if c.name == "date_of_birth")
    assert dob.levels[-2].threshold == round(365.25 * 2)


def test_prior_must_be_given_or_estimable():
    model = uk_person_model()
    with pytest.raises(ConfigError, match="prior_rules"):
        dataclasses.replace(model, em=dataclasses.replace(model.em, prior_rules=()))
