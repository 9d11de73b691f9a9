"""Extract-scale worlds: deterministic, written in chunks, valid, with consistent truth."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from fdac_research.exceptions import ConfigError
from fdac_research.world._extract import SMITH_SHARE, national_surnames, write_extract_world

N, CHUNK, FAMILIES, SEED = 50_000, 10_000, 60, 11


@pytest.fixture(scope="module")
def extract_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("extract") / "world"
    summary = write_extract_world(out, N, n_families=FAMILIES, seed=SEED, chunk_size=CHUNK)
    return out, summary


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _records(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "agencies" / "health.parquet")


def _court_record_ids(folder: Path) -> set[str]:
    people = pd.read_csv(folder / "truth" / "people.csv", dtype=str)
    links = pd.read_csv(folder / "truth" / "agency_links.csv", dtype=str)
    mine = links[
        (links["agency"] == "health") & links["true_person_id"].isin(people["true_person_id"])
    ]
    return set(mine["record_id"])


def test_same_seed_same_bytes(extract_world, tmp_path):
    folder, _ = extract_world
    again = tmp_path / "again"
    write_extract_world(again, N, n_families=FAMILIES, seed=SEED, chunk_size=CHUNK)
    assert _digest(again) == _digest(folder)
    other = tmp_path / "other"
    write_extract_world(other, 2_000, n_families=FAMILIES, seed=SEED + 1, chunk_size=1_000)
    assert _digest(other)["agencies/health.parquet"] != _digest(folder)["agencies/health.parquet"]


def test_written_in_chunks_independent_of_the_total(extract_world, tmp_path):
    """One row group per chunk, never more than a chunk plus its share of court records;
    a smaller extract with the same seed and chunk size holds a subset of the same records
    (chunk k depends on k, not on how many chunks there are)."""
    folder, summary = extract_world
    meta = pq.ParquetFile(folder / "agencies" / "health.parquet").metadata
    n_court = summary["n_court_records"]
    assert summary["n_records"] == meta.num_rows == N
    assert meta.num_row_groups == summary["n_chunks"] == -(-(N - n_court) // CHUNK)
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert max(sizes) <= CHUNK + n_court
    small = tmp_path / "small"
    write_extract_world(small, 23_456, n_families=FAMILIES, seed=SEED, chunk_size=CHUNK)
    a, b = _records(small), _records(folder)
    court = _court_record_ids(folder)
    assert court == _court_record_ids(small)  # the same court side
    a, b = a[~a["record_id"].isin(court)], b[~b["record_id"].isin(court)]
    assert len(a) == 23_456 - n_court
    key = list(a.columns)
    joined = a.merge(b, on=key, how="left", indicator=True)
    assert (joined["_merge"] == "both").all()


def test_folder_is_a_valid_sources_folder(extract_world, capsys):
    from fdac_research.cli import main

    folder, _ = extract_world
    assert main(["validate", str(folder)]) == 0
    assert "agencies/health.parquet (50000 rows)" in capsys.readouterr().out
    assert not (folder / "agencies" / "health.csv").exists()


def test_truth_covers_every_record_once(extract_world):
    folder, summary = extract_world
    rec = _records(folder)
    links = pd.read_csv(folder / "truth" / "agency_links.csv", dtype=str)
    mine = links[links["agency"] == "health"]
    assert rec["record_id"].is_unique and mine["record_id"].is_unique
    assert set(mine["record_id"]) == set(rec["record_id"])
    # the other agencies' truth is the generated world's, untouched
    for agency in ("police", "cafcass"):
        ids = pd.read_csv(folder / "agencies" / f"{agency}.csv", dtype=str)["record_id"]
        assert set(links.loc[links["agency"] == agency, "record_id"]) == set(ids)
    # court people's records: as many as the generated world gave them, with its noise
    court = _court_record_ids(folder)
    assert len(court) == summary["n_court_records"] > 50
    people = pd.read_csv(folder / "court_people.csv", dtype=str)
    truth_people = pd.read_csv(folder / "truth" / "people.csv", dtype=str)
    clean = people.merge(truth_people[["person_ref", "true_person_id"]], on="person_ref")
    # a mother in a repeat proceeding is one person in two cases: one court row per person
    clean = clean.drop_duplicates("true_person_id")
    theirs = rec[rec["record_id"].isin(court)].merge(mine, on="record_id")
    both = theirs.merge(clean, on="true_person_id", suffixes=("", "_court"))
    assert len(both) == len(theirs)
    same_dob = (both["date_of_birth"] == both["date_of_birth_court"]).mean()
    assert 0.8 < same_dob < 1.0  # mostly the court's date of birth, some corrupted or missing
    # people in no case: at most a few records each (duplicates), never a court person
    rest = mine[~mine["record_id"].isin(court)]
    assert not rest["true_person_id"].isin(truth_people["true_person_id"]).any()
    assert rest["true_person_id"].value_counts().max() <= 3
    assert 0 < rest["true_person_id"].duplicated().mean() < 0.1


def test_surnames_have_the_national_share_of_smiths():
    """Smith's share in Great Britain, 11,838 per million (SMITH_SHARE, from
    britishsurnames.co.uk): 200,000 draws are within four binomial standard deviations,
    and most names are rare (the long tail of composed names)."""
    import numpy as np

    names = pd.Series(national_surnames(np.random.default_rng(1), 200_000))
    share = (names == "Smith").mean()
    sd = (SMITH_SHARE * (1 - SMITH_SHARE) / len(names)) ** 0.5
    assert abs(share - SMITH_SHARE) < 4 * sd
    counts = names.value_counts()
    assert counts.iloc[0] == counts["Smith"]
    assert names.nunique() > 15_000


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"agency": "nhs"}, "agency must be one of"),
        ({"n_records": 0}, "n_records must be a positive integer, got 0"),
        ({"chunk_size": 10}, "chunk_size must be an integer >= 100, got 10"),
    ],
)
def test_bad_parameters_are_named(tmp_path, kwargs, expected):
    args = {"n_records": 1000, **kwargs}
    with pytest.raises(ConfigError, match=expected):
        write_extract_world(tmp_path / "w", n_families=FAMILIES, **args)
    assert not (tmp_path / "w").exists()
