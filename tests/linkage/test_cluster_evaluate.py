"""Clustering of scored pairs and the evaluation measures, on hand-made examples."""

from __future__ import annotations

import pandas as pd
import pytest

from fdac_research.linkage import cluster_pairs, estimate_from_labels, evaluate_crosswalk


def _records():
    return pd.DataFrame(
        {
            "source": ["court", "court", "police", "police", "police", "police"],
            "record_id": ["C1", "C2", "P1", "P2", "P3", "P4"],
        }
    )


def _pairs(rows):
    return pd.DataFrame(rows, columns=["source_l", "id_l", "source_r", "id_r", "match_probability"])


PAIRS = _pairs(
    [
        ("court", "C1", "police", "P1", 0.99),
        ("court", "C2", "police", "P1", 0.95),  # P1's second-best court person: refused
        ("police", "P1", "police", "P2", 0.97),  # P2 is P1's duplicate
        ("court", "C2", "police", "P3", 0.93),
        ("court", "C1", "court", "C2", 0.999),  # two court people: never merged
        ("court", "C1", "police", "P4", 0.5),  # below threshold
    ]
)


def test_court_anchored_clustering():
    out = cluster_pairs(_records(), PAIRS, 0.9, duplicate_free=["court"]).set_index("record_id")
    key = out["person_key"]
    assert key["P1"] == key["C1"] == key["P2"]
    assert key["P3"] == key["C2"] != key["C1"]
    assert key["P4"] not in set(key[["C1", "C2"]])
    assert out.loc["P1", "match_probability"] == 0.99
    assert out.loc["C2", "match_probability"] == 1.0
    assert out.loc["P4", "match_probability"] == 0.0


def test_connected_components_merge_everything_above_threshold():
    out = cluster_pairs(_records(), PAIRS, 0.9).set_index("record_id")["person_key"]
    assert out["C1"] == out["C2"] == out["P1"] == out["P2"] == out["P3"]
    assert out["P4"] != out["C1"]


def test_one_to_one_linking():
    out = cluster_pairs(_records(), PAIRS, 0.9, duplicate_free=["court", "police"]).set_index(
        "record_id"
    )["person_key"]
    assert out["C1"] == out["P1"]
    assert out["P2"] != out["C1"]  # a second police record may not join C1's person
    assert out["C2"] == out["P3"]


def test_result_does_not_depend_on_pair_order():
    a = cluster_pairs(_records(), PAIRS, 0.9, duplicate_free=["court"])
    b = cluster_pairs(_records(), PAIRS.iloc[::-1], 0.9, duplicate_free=["court"])
    pd.testing.assert_frame_equal(a, b)


def test_evaluation_hand_worked():
    # truth: C1=T1 with P1, P2; C2=T2 with P3; P4 is T3 (not in court).
    truth = pd.DataFrame(
        {
            "source": ["court", "court", "police", "police", "police", "police"],
            "record_id": ["C1", "C2", "P1", "P2", "P3", "P4"],
            "true_id": ["T1", "T2", "T1", "T1", "T2", "T3"],
        }
    )
    # prediction: C1 with P1 and P4 (wrong), C2 alone, P2 alone, P3 alone.
    cw = pd.DataFrame(
        {
            "source": truth["source"],
            "record_id": truth["record_id"],
            "person_key": ["K1", "K2", "K1", "K3", "K4", "K1"],
        }
    )
    e = evaluate_crosswalk(cw, truth, "police")
    # court-police links predicted: (C1,P1), (C1,P4) -> 1 true of 2; true links: (C1,P1), (C1,P2), (C2,P3)
    assert e["links"]["precision"] == 0.5
    assert e["links"]["recall"] == pytest.approx(1 / 3, abs=1e-6)
    assert e["links"]["f1"] == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3), abs=1e-6)
    # all pairs predicted: K1 has 3 records -> 3 pairs, 1 true (C1,P1); true pairs: T1 3, T2 1 -> 4
    assert e["all_pairs"]["precision"] == pytest.approx(1 / 3, abs=1e-6)
    assert e["all_pairs"]["recall"] == 0.25
    # B-cubed over police records: P1 2/3, P2 1/1, P3 1/1, P4 1/3 -> precision 0.75;
    # recall P1 2/3, P2 1/3, P3 1/2, P4 1/1 -> 0.625
    assert e["cluster"]["precision"] == pytest.approx(0.75, abs=1e-6)
    assert e["cluster"]["recall"] == pytest.approx(0.625, abs=1e-6)
    assert e["n_linked"] == 2 and e["n_truly_in_reference"] == 3


def test_estimate_from_stratified_labels():
    # band A: 100 pairs, all >= threshold, 4 of 5 labelled matches -> 80 true;
    # band B: 300 pairs, all below, 1 of 5 labelled matches -> 60 true.
    labels = pd.DataFrame(
        {
            "agency": "police",
            "band": ["A"] * 5 + ["B"] * 5,
            "match_probability": [0.99] * 5 + [0.3] * 5,
            "n_in_band": [100] * 5 + [300] * 5,
            "is_match": [1, 1, 1, 1, 0, 1, 0, 0, 0, 0],
        }
    )
    est = estimate_from_labels(labels, 0.9).iloc[0]
    assert est["precision"] == pytest.approx(0.8)
    assert est["recall"] == pytest.approx(80 / 140, abs=1e-6)


def test_truth_with_a_duplicate_record_is_refused() -> None:
    from fdac_research.exceptions import ContractError

    truth = pd.DataFrame(
        {
            "source": ["court", "police", "police"],
            "record_id": ["C1", "P1", "P1"],
            "true_id": ["T1", "T1", "T2"],
        }
    )
    cw = pd.DataFrame(
        {"source": ["court", "police"], "record_id": ["C1", "P1"], "person_key": ["K1", "K1"]}
    )
    with pytest.raises(ContractError, match="P1"):
        evaluate_crosswalk(cw, truth, "police")
