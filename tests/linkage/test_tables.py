"""De-duplication of one table, clustering, blocking counts and scores against truth, on
hand-made records whose answers are worked out by hand."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from fdac_research.linkage import cluster_pairs
from fdac_research.linkage._tables import blocking_analysis, evaluate_clusters, infer_model

RECORDS = pd.DataFrame({"source": "data", "record_id": ["1", "2", "3", "4", "5"]})


def _pairs(rows):
    return pd.DataFrame(
        [("data", a, "data", b, p) for a, b, p in rows],
        columns=["source_l", "id_l", "source_r", "id_r", "match_probability"],
    )


def test_dedupe_clusters_are_connected_components_of_accepted_pairs():
    # accepted: 1-2, 2-3 (0.95, 0.91); 4-5 at 0.5 is below 0.9 -> {1,2,3}, {4}, {5}
    out = cluster_pairs(RECORDS, _pairs([("1", "2", 0.95), ("2", "3", 0.91), ("4", "5", 0.5)]), 0.9)
    k = out.set_index("record_id")["person_key"]
    assert k["1"] == k["2"] == k["3"] and len({k["1"], k["4"], k["5"]}) == 3
    assert len(out) == 5  # every record exactly once
    # one table: no reference source, so each record's probability is its best link
    assert out.set_index("record_id")["match_probability"].tolist() == [0.95, 0.95, 0.91, 0, 0]


def test_nothing_links_is_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="fdac_research.linkage"):
        out = cluster_pairs(RECORDS, _pairs([("4", "5", 0.5)]), 0.9)
    assert out["person_key"].nunique() == 5
    assert "no pair reaches the match threshold" in caplog.text


def test_pairs_of_unknown_records_are_an_error():
    bad = _pairs([("1", "2", 0.95)]).assign(source_l="")
    with pytest.raises(ValueError, match=r"not among the records to cluster.*'data'"):
        cluster_pairs(RECORDS, bad, 0.9)


def test_scores_against_truth():
    # truth {1,2,3,4}, {5}: 6 true pairs. Clusters {1,2,3}, {4}, {5}: 3 pairs, all true
    # -> precision 1, recall 3/6, F1 2/3. Pairs >= 0.9: 1-2, 2-3: 2 true of 2 -> recall 1/3.
    clusters = cluster_pairs(RECORDS, _pairs([("1", "2", 0.95), ("2", "3", 0.91)]), 0.9)
    truth = RECORDS.assign(entity=["a", "a", "a", "a", "b"])
    s = evaluate_clusters(clusters, truth, _pairs([("1", "2", 0.95), ("2", "3", 0.91)]), 0.9)
    assert s["clustered"]["precision"] == 1.0 and s["clustered"]["recall"] == 0.5
    assert s["clustered"]["f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["pairwise"]["recall"] == pytest.approx(1 / 3, abs=1e-4)


def test_blocking_analysis_counts_by_hand():
    df = pd.DataFrame(
        {
            "record_id": ["1", "2", "3", "4"],
            "first_name": ["Ann", "Ann", "Bob", "Bob"],
            "surname": ["Lee", "Lee", "Lee", "Kay"],
            "who": ["x", "x", "x", "y"],
        }
    )
    model = infer_model(df, ignore=["who"])
    out = blocking_analysis(df, model, truth="who")
    # first_name: (1,2), (3,4) = 2 pairs; surname: (1,2), (1,3), (2,3) = 3, of which 2 new
    # true pairs: (1,2), (1,3), (2,3) = 3; first_name reaches (1,2); surname adds (1,3), (2,3)
    assert out["pairs"].tolist() == [2, 3]
    assert out["new_pairs"].tolist() == [2, 2]
    assert out["cumulative_recall"].tolist() == [pytest.approx(1 / 3, abs=1e-6), 1.0]
    assert out["reduction_ratio"].tolist()[-1] == pytest.approx(1 - 4 / 6, abs=1e-6)


FAKE_1000 = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "splink_datasets" / "fake_1000.csv"
)


@pytest.mark.skipif(not FAKE_1000.exists(), reason="Splink's fake_1000 (shared data) not present")
def test_cli_dedupe_of_a_table_the_package_did_not_make(tmp_path):
    # Splink's fake_1000 (MIT licence, MoJ Analytical Services; truth column `cluster`):
    # the trivial answer (every record alone) has clustered recall 0; dedupe must link
    from fdac_research.cli import main

    out = tmp_path / "out"
    rc = main(
        [
            "dedupe",
            str(FAKE_1000),
            "--id-column",
            "unique_id",
            "--ignore",
            "cluster",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    clusters = pd.read_csv(out / "clusters.csv", dtype=str)
    assert len(clusters) == 1000 and clusters["record_id"].is_unique
    assert set(clusters["source"]) == {"data"}
    truth = pd.read_csv(FAKE_1000, dtype=str)
    t = pd.DataFrame(
        {"source": "data", "record_id": truth["unique_id"], "entity": truth["cluster"]}
    )
    s = evaluate_clusters(clusters, t)["clustered"]
    assert s["recall"] > 0.3 and s["precision"] > 0.9, s
    assert (out / "model.json").exists() and (out / "pairs.csv").exists()
