"""The court de-duplicated across cases before agencies are linked: the clustering rule
(two people of one case are never one person), the mapping of agency pairs onto court
persons, and the pipeline end to end on a world with repeat proceedings and one without."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import pandas as pd
import pytest

from fdac_research._io import read_text_table
from fdac_research.exceptions import DependencyError
from fdac_research.linkage import _cluster, _court, link_sources, load_court_model, uk_person_model
from fdac_research.linkage._cluster import person_key
from fdac_research.linkage._court import court_persons, to_persons
from fdac_research.linkage._splink_engine import SplinkEngine, _engine_failure
from fdac_research.world import generate_world


def _pairs(rows: list[tuple[str, str, float]], right: str = "court") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_l": "court",
            "id_l": [a for a, _, _ in rows],
            "source_r": right,
            "id_r": [b for _, b, _ in rows],
            "match_weight": 0.0,
            "match_probability": [p for _, _, p in rows],
        }
    )


@pytest.mark.parametrize("module", [_court, _cluster])
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0


def test_a_person_is_never_twice_in_one_case() -> None:
    """Hand-worked: A1 (case A) - B1 (case B) at 0.99, B1 - C1 (case C) at 0.97, C1 - A2
    (case A again) at 0.95. Connected components would put A1 and A2 together; best first,
    A1-B1 and B1-C1 are accepted and C1-A2 is refused. D1 links only below the threshold."""
    court = pd.DataFrame(
        {"record_id": ["A1", "A2", "B1", "C1", "D1"], "case_ref": ["A", "A", "B", "C", "D"]}
    )
    pairs = _pairs([("A1", "B1", 0.99), ("B1", "C1", 0.97), ("A2", "C1", 0.95), ("A1", "D1", 0.5)])
    p = court_persons(court, pairs, 0.9)
    assert p.head.to_dict() == {"A1": "A1", "A2": "A2", "B1": "A1", "C1": "A1", "D1": "D1"}
    keys = p.keys.set_index("record_id")["person_key"]
    assert keys["C1"] == keys["A1"] == person_key("court", "A1")
    assert keys["A2"] == person_key("court", "A2") and keys["D1"] == person_key("court", "D1")
    assert (p.keys["match_probability"] == 1.0).all()
    assert p.best.to_dict() == {"A1": 0.99, "A2": 0.0, "B1": 0.99, "C1": 0.97, "D1": 0.0}
    # a pair inside one case is ignored even above the threshold
    same = court_persons(court, _pairs([("A1", "A2", 0.999)]), 0.9)
    assert same.head["A2"] == "A2"


def test_agency_pairs_map_onto_the_person_with_the_best_score() -> None:
    head = pd.Series({"A1": "A1", "B1": "A1", "C1": "C1"})
    pairs = pd.concat(
        [
            _pairs([("A1", "R1", 0.3), ("B1", "R1", 0.95), ("C1", "R2", 0.9)], right="police"),
            pd.DataFrame(
                {
                    "source_l": ["police"],
                    "id_l": ["R1"],
                    "source_r": ["police"],
                    "id_r": ["R3"],
                    "match_weight": [1.0],
                    "match_probability": [0.92],
                }
            ),
        ],
        ignore_index=True,
    )
    out = to_persons(pairs, head)
    got = sorted(zip(out["id_l"], out["id_r"], out["match_probability"], strict=True))
    assert got == [("A1", "R1", 0.95), ("C1", "R2", 0.9), ("R1", "R3", 0.92)]


@pytest.fixture(scope="module")
def repeat_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("repeat") / "w"
    summary = generate_world(out, n_families=250, seed=14)
    assert summary["n_repeat_cases"] > 10
    return out


def test_court_persons_span_cases_in_the_crosswalk(repeat_world: Path, tmp_path: Path) -> None:
    res = link_sources(repeat_world, tmp_path / "l", agencies=["police"], seed=1, charts=False)
    cw = read_text_table(tmp_path / "l" / "crosswalk.csv")
    court = cw[cw["source"] == "court"]
    truth = read_text_table(repeat_world / "truth" / "people.csv")
    tid = court["record_id"].map(truth.set_index("person_ref")["true_person_id"])
    # some people of several cases share one key, and (almost) no two true people do
    shared = court.groupby("person_key")["record_id"].size()
    assert (shared > 1).sum() > 5
    impure = pd.DataFrame({"k": court["person_key"], "t": tid}).groupby("k")["t"].nunique()
    assert (impure > 1).sum() <= 1
    # within-court evaluation next to the agency's
    ev = json.loads((tmp_path / "l" / "evaluation.json").read_text())
    c = ev["court"]["clustered"]
    assert c["true"] > 10 and c["precision"] >= 0.9 and 0.5 <= c["recall"] <= 1
    assert set(ev["agencies"]) == {"police"}
    # every police record joins at most one court person, and people linked to a
    # mother's second case carry the same key as her first
    police = cw[cw["source"] == "police"]
    assert police["person_key"].isin(set(court["person_key"])).mean() > 0.3
    assert (tmp_path / "l" / "pairs" / "court.parquet").is_file()
    # the fitted de-duplication model is kept and reused without training
    fitted = load_court_model(tmp_path / "l" / "model.json")
    assert fitted is not None and fitted.is_fitted
    # trained with the de-duplication form of the default model (its own EM sessions)
    assert fitted.em.blocking_rules == uk_person_model(dedupe=True).em.blocking_rules
    assert fitted.em.blocking_rules != uk_person_model().em.blocking_rules
    again = link_sources(
        repeat_world,
        tmp_path / "again",
        agencies=["police"],
        seed=1,
        charts=False,
        fitted={"court": fitted, **{a: m for a, m in res.models.items()}},
    )
    pd.testing.assert_frame_equal(again.crosswalk, res.crosswalk)


def test_world_without_repeat_people_keeps_one_person_per_court_row(tmp_path: Path) -> None:
    w = tmp_path / "w"
    generate_world(w, n_families=150, seed=3, repeat_rate=0.0)
    res = link_sources(w, tmp_path / "l", agencies=["education"], seed=2, charts=False)
    court = res.crosswalk[res.crosswalk["source"] == "court"]
    assert (court["person_key"] == [person_key("court", r) for r in court["record_id"]]).all()
    off = link_sources(
        w, tmp_path / "off", agencies=["education"], seed=2, charts=False, dedupe_court=False
    )
    pd.testing.assert_frame_equal(off.crosswalk, res.crosswalk)
    assert "court" not in (off.evaluation or {})
    # EM had nothing to learn from: the model file says so, and holds no court model
    model = json.loads((tmp_path / "l" / "model.json").read_text())
    assert "court_dedupe" not in model and model["court_dedupe_note"].startswith("not trained")
    assert load_court_model(tmp_path / "l" / "model.json") is None


def _refuse_spark(*args: object, **kwargs: object) -> None:
    raise DependencyError("could not start a Spark session on spark://nowhere:7077: refused")


@pytest.mark.parametrize("step", ["fit", "predict"])
def test_an_engine_failure_stops_the_run_and_writes_nothing(
    repeat_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """A Spark master that is not there used to be logged as a warning, and the agencies were
    linked to one person per court row; now the run stops, naming the stage, engine, backend
    and cause, and a previous output folder is left as it was."""
    monkeypatch.setattr(SplinkEngine, step, _refuse_spark)
    out = tmp_path / "l"
    out.mkdir()
    (out / "before.txt").write_text("an earlier run\n")
    fitted = {}
    if step == "predict":  # a fitted model skips training and fails when scoring
        base = uk_person_model()
        m_u = {
            c.name: [(None, None) if lv.is_null else (0.5, 0.5) for lv in c.levels]
            for c in base.comparisons
        }
        fitted["court"] = base.with_parameters(0.01, m_u)
    with pytest.raises(DependencyError) as caught:
        link_sources(
            repeat_world,
            out,
            agencies=["police"],
            seed=1,
            charts=False,
            backend="spark",
            fitted=fitted,
        )
    text = str(caught.value)
    for named in ("court de-duplication", "'splink'", "'spark'", "spark://nowhere:7077"):
        assert named in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l"]
    assert sorted(p.name for p in out.iterdir()) == ["before.txt"]


def test_engine_failures_are_told_from_nothing_to_learn() -> None:
    class Py4JError(Exception):
        pass

    Py4JError.__module__ = "py4j.protocol"
    assert _engine_failure(Py4JError("connection refused"))
    assert _engine_failure(MemoryError())
    assert not _engine_failure(ValueError("math domain error"))
