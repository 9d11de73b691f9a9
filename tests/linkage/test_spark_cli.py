"""``fdac-research link --backend spark`` end to end, in one process: every agency of a
small world, the same crosswalk as DuckDB for the same fitted models; and training on Spark.

``link`` is the only command taking ``--backend`` (``dedupe``, ``link-tables``,
``blocking`` and ``pipeline`` run on DuckDB), so these cover every stage that runs on
Spark.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from fdac_research import schema
from fdac_research.cli import main

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture
def no_session_left():
    if shutil.which("java") is None:
        pytest.skip("Java is not installed")
    sql = pytest.importorskip("pyspark.sql")
    yield
    active = sql.SparkSession.getActiveSession()
    if active is not None:
        active.stop()


def _crosswalk(out: Path) -> pd.DataFrame:
    cw = pd.read_csv(out / "crosswalk.csv", dtype=str, keep_default_na=False)
    return cw.sort_values(["source", "record_id"]).reset_index(drop=True)


def test_cli_link_on_spark_gives_duckdbs_crosswalk(
    small_world, tmp_path, monkeypatch, no_session_left
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FDAC_PROGRESS", "0")
    duck, spark = tmp_path / "duck", tmp_path / "spark"
    assert main(["link", str(small_world), "--out", str(duck), "--no-charts", "--seed", "4"]) == 0
    model = duck / "model.json"
    assert sorted(json.loads(model.read_text())["fitted"]) == sorted(schema.AGENCIES)
    cmd = ["link", str(small_world), "--out", str(spark), "--no-charts", "--backend", "spark"]
    assert main([*cmd, "--model", str(model), "--spark-master", "local[2]"]) == 0
    a, b = _crosswalk(duck), _crosswalk(spark)
    assert set(a["source"]) == {"court", *schema.AGENCIES}
    pd.testing.assert_frame_equal(a, b)
    qa = pd.read_csv(duck / "linkage_quality.csv")
    qb = pd.read_csv(spark / "linkage_quality.csv")
    pd.testing.assert_frame_equal(qa, qb)
    ea = json.loads((duck / "evaluation.json").read_text())["agencies"]
    eb = json.loads((spark / "evaluation.json").read_text())["agencies"]
    assert ea == eb
    assert json.loads((spark / "model.json").read_text())["backend"] == "spark"
    assert not (tmp_path / "spark-warehouse").exists() and not (tmp_path / ".tmp").exists()


def test_cli_link_trains_on_spark(small_world, tmp_path, monkeypatch, no_session_left):
    """Training on Spark (prior, u by random sampling, EM) links as well as on DuckDB: u is
    sampled differently on each backend, so the two fits are close rather than equal."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FDAC_PROGRESS", "0")
    agency = "education"
    runs = {}
    for backend in ("duckdb", "spark"):
        out = tmp_path / backend
        cmd = ["link", str(small_world), "--out", str(out), "--agencies", agency]
        assert main([*cmd, "--no-charts", "--backend", backend]) == 0
        runs[backend] = json.loads((out / "evaluation.json").read_text())["agencies"][agency]
    d, s = runs["duckdb"]["links"], runs["spark"]["links"]
    # the same bar as the DuckDB pipeline test (tests/linkage/test_pipeline.py)
    assert s["f1"] >= 0.97, s
    assert abs(s["f1"] - d["f1"]) <= 0.01, (s, d)
