"""A Spark standalone cluster (a master and two workers on 127.0.0.1, started with pyspark's
own ``sbin/spark-daemon.sh``) links with the same fitted models as DuckDB and gives the same
crosswalk; its daemons are stopped afterwards, on failure too, and no JVM of it is left."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from fdac_research.cli import main

pytestmark = [pytest.mark.spark, pytest.mark.slow]

AGENCIES = "police,health"


def _spark_jvms() -> set[int]:
    """Process ids of Spark JVMs (daemons and executors) on this machine, read with ``ps``."""
    out = subprocess.run(
        ["ps", "-eww", "-o", "pid=,args="], capture_output=True, text=True, check=True
    ).stdout
    return {
        int(line.split(None, 1)[0])
        for line in out.splitlines()
        if "java" in line
        and any(
            c in line
            for c in ("deploy.master.Master", "deploy.worker.Worker", "CoarseGrainedExecutor")
        )
    }


def _crosswalk(out: Path) -> pd.DataFrame:
    cw = pd.read_csv(out / "crosswalk.csv", dtype=str, keep_default_na=False)
    return cw.sort_values(["source", "record_id"]).reset_index(drop=True)


@pytest.fixture
def cluster_prerequisites():
    if shutil.which("java") is None:
        pytest.skip("Java is not installed")
    sql = pytest.importorskip("pyspark.sql")
    active = sql.SparkSession.getActiveSession()
    if active is not None:  # a local session would be used instead of the cluster
        active.stop()
    yield sql


def test_standalone_cluster_links_as_duckdb(
    small_world, tmp_path, monkeypatch, cluster_prerequisites
):
    from fdac_research.linkage._splink_engine import standalone_cluster

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FDAC_PROGRESS", "0")
    duck, spark = tmp_path / "duck", tmp_path / "spark"
    flags = ["--agencies", AGENCIES, "--no-charts"]
    assert main(["link", str(small_world), "--out", str(duck), *flags]) == 0
    model = duck / "model.json"
    before = _spark_jvms()
    session = None
    try:
        with standalone_cluster(workers=2, cores=1) as cluster:
            assert cluster.url.startswith("spark://127.0.0.1:")
            assert set(cluster.pids) == {"master", "worker1", "worker2"}
            assert set(cluster.pids.values()) <= _spark_jvms()
            monkeypatch.setenv("FDAC_SPARK_MASTER", cluster.url)  # as a cluster user sets it
            cmd = ["link", str(small_world), "--out", str(spark), "--backend", "spark"]
            assert main([*cmd, "--model", str(model), *flags]) == 0
            session = cluster_prerequisites.SparkSession.getActiveSession()
            assert session is not None and session.sparkContext.master == cluster.url
            # the work ran on the workers' executors, not in the driver
            executors = session.sparkContext._jsc.sc().getExecutorMemoryStatus().size()
            assert executors >= 3  # the driver and an executor on each worker
            session.stop()
            session = None
    finally:
        if session is not None:
            session.stop()
    assert _spark_jvms() - before == set()  # no daemon nor executor left running
    pd.testing.assert_frame_equal(_crosswalk(duck), _crosswalk(spark))
    ev_d = json.loads((duck / "evaluation.json").read_text())["agencies"]
    ev_s = json.loads((spark / "evaluation.json").read_text())["agencies"]
    assert ev_d == ev_s


def test_cluster_daemons_are_stopped_when_the_block_fails(cluster_prerequisites):
    from fdac_research.linkage._splink_engine import _alive, standalone_cluster

    before = _spark_jvms()
    pids: dict[str, int] = {}
    root = ""
    with (
        pytest.raises(RuntimeError, match="inside the block"),
        standalone_cluster(workers=1, cores=1) as cluster,
    ):
        pids, root = cluster.pids, cluster.root
        assert all(_alive(p) for p in pids.values())
        raise RuntimeError("inside the block")
    assert pids and not any(_alive(p) for p in pids.values())
    assert not Path(root).exists()
    assert _spark_jvms() - before == set()
