"""``link`` options for large extracts: DuckDB's spill folder (``--temp-dir``), chunked
prediction (``--predict-chunks``), the Spark master URL (``--spark-master``,
``$FDAC_SPARK_MASTER``), and bad values named in the error."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from fdac_research.cli import main
from fdac_research.exceptions import DependencyError, FdacResearchError
from fdac_research.linkage._splink_engine import (
    SPARK_MASTER_ENV,
    SplinkEngine,
    spark_master,
    spark_session,
)

AGENCY = "police"


def _link(world: Path, out: Path, *flags: str) -> int:
    return main(
        ["link", str(world), "--out", str(out), "--agencies", AGENCY, "--no-charts", *flags]
    )


@pytest.fixture(scope="module")
def trained(small_world: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """One default (trained) run on the police extract with ``--temp-dir``: its output folder,
    its model.json, the spill folder, and for every DuckDB connection the folder the package
    gave it, whether that existed, and DuckDB's own ``temp_directory`` setting read back while
    the connection was open. (One run serves the spill test and the chunk test: a link run
    is the slow part of both.)"""
    root = tmp_path_factory.mktemp("scale")
    spill = root / "spill"
    spill.mkdir()
    seen: list[tuple[str, bool, str]] = []
    release = SplinkEngine._release

    def spy(self: SplinkEngine) -> None:
        if self._con is not None and self._spill is not None:
            setting = self._con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
            seen.append((self._spill, os.path.isdir(self._spill), setting))
        release(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SplinkEngine, "_release", spy)
        mp.chdir(root)
        flags = ("--seed", "2", "--temp-dir", str(spill), "--memory-limit", "2GB")
        assert _link(small_world, root / "trained", *flags) == 0
    out = root / "trained"
    return SimpleNamespace(root=root, out=out, model=out / "model.json", spill=spill, seen=seen)


def _crosswalk(out: Path) -> pd.DataFrame:
    cw = pd.read_csv(out / "crosswalk.csv", dtype=str, keep_default_na=False)
    return cw.sort_values(["source", "record_id"]).reset_index(drop=True)


def _pairs(out: Path) -> pd.DataFrame:
    p = pd.read_parquet(out / "pairs" / f"{AGENCY}.parquet")
    return p.sort_values(["id_l", "id_r"]).reset_index(drop=True)


def test_temp_dir_is_duckdbs_spill_folder_and_is_emptied(trained):
    """Every DuckDB connection spills into a fresh sub-folder of --temp-dir (DuckDB's own
    setting read back while the connection is open), removed when the step ends; nothing
    is left in --temp-dir nor as DuckDB's default ``.tmp`` in the working folder."""
    seen = trained.seen
    assert len(seen) >= 2  # training and prediction: a connection each
    for folder, existed, setting in seen:
        assert Path(folder).parent == trained.spill and existed
        assert Path(setting) == Path(folder)
    assert len({f for f, _, _ in seen}) == len(seen)  # one folder per connection
    assert list(trained.spill.iterdir()) == []
    assert not (trained.root / ".tmp").exists()


def test_predict_chunks_give_the_unchunked_links(trained, small_world, tmp_path, monkeypatch):
    """The trained model scored again in three chunks of the agency's records (read back from
    model.json): the same scored pairs as the training run's own unchunked prediction
    (weights to rounding) and the same crosswalk."""
    from splink.internals.linker_components.inference import LinkerInference

    calls: list[dict[str, Any]] = []
    predict = LinkerInference.predict

    def spy(self: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return predict(self, **kwargs)

    monkeypatch.setattr(LinkerInference, "predict", spy)
    one, three = trained.out, tmp_path / "three"
    assert _link(small_world, three, "--model", str(trained.model), "--predict-chunks", "3") == 0
    # the court de-duplication's predict (its model is in model.json) and the agency's
    assert len(calls) >= 1
    assert [c.get("num_chunks_right") for c in calls] == [3] * len(calls)
    a, b = _pairs(one), _pairs(three)
    assert len(a) > 300
    pd.testing.assert_frame_equal(
        a[["source_l", "id_l", "source_r", "id_r"]], b[["source_l", "id_l", "source_r", "id_r"]]
    )
    assert (a["match_weight"] - b["match_weight"]).abs().max() < 1e-9
    pd.testing.assert_frame_equal(_crosswalk(one), _crosswalk(three))


def test_spark_master_precedence_and_bad_urls(monkeypatch):
    monkeypatch.delenv(SPARK_MASTER_ENV, raising=False)
    assert spark_master(None, cores=3) == "local[3]"
    monkeypatch.setenv(SPARK_MASTER_ENV, " spark://env-host:7077 ")
    assert spark_master(None) == "spark://env-host:7077"
    assert spark_master("yarn") == "yarn"
    monkeypatch.setenv(SPARK_MASTER_ENV, "env-host:7077")
    with pytest.raises(FdacResearchError, match=r"'env-host:7077'.*FDAC_SPARK_MASTER"):
        spark_master(None)
    with pytest.raises(FdacResearchError, match=r"'http://x'.*--spark-master.*spark://HOST:PORT"):
        spark_master("http://x")
    with pytest.raises(FdacResearchError, match=r"'sc://h:15002'.*Spark Connect.*SparkContext"):
        spark_master("sc://h:15002")
    # the engine checks the URL when it is made, before any data is read
    with pytest.raises(FdacResearchError, match="env-host:7077"):
        SplinkEngine(backend="spark")


class _Builder:
    """Records what ``spark_session`` asks of pyspark's session builder; starts nothing."""

    def __init__(self) -> None:
        self.masters: list[str] = []
        self.conf: dict[str, Any] = {}

    def master(self, url: str) -> _Builder:
        self.masters.append(url)
        return self

    def appName(self, name: str) -> _Builder:  # noqa: N802 - pyspark's name
        return self

    def config(self, key: str, value: Any) -> _Builder:
        self.conf[key] = value
        return self

    def getOrCreate(self) -> Any:  # noqa: N802 - pyspark's name
        raise RuntimeError("no cluster here")


@pytest.fixture
def builder(monkeypatch) -> _Builder:
    if shutil.which("java") is None:
        pytest.skip("Java is not installed")
    sql = pytest.importorskip("pyspark.sql")
    b = _Builder()

    class FakeSession:
        builder = b

        @staticmethod
        def getActiveSession() -> None:  # noqa: N802 - pyspark's name
            return None

    monkeypatch.setattr(sql, "SparkSession", FakeSession)
    return b


def test_spark_master_reaches_the_session_builder(builder, monkeypatch):
    monkeypatch.setenv(SPARK_MASTER_ENV, "spark://env-host:7077")
    with pytest.raises(DependencyError, match=r"spark://given:7077: no cluster here"):
        spark_session(master="spark://given:7077")
    with pytest.raises(DependencyError, match=r"spark://env-host:7077"):
        spark_session()
    assert builder.masters == ["spark://given:7077", "spark://env-host:7077"]
    # a cluster keeps its own shuffle partitions; Splink's similarity jar always goes along
    assert "spark.sql.shuffle.partitions" not in builder.conf
    assert str(builder.conf["spark.jars"]).endswith(".jar")
    monkeypatch.delenv(SPARK_MASTER_ENV)
    with pytest.raises(DependencyError, match=r"local\[2\]"):
        spark_session(cores=2)
    assert builder.masters[-1] == "local[2]" and builder.conf["spark.sql.shuffle.partitions"] == "4"


def test_cli_spark_master_reaches_the_builder(builder, small_world, tmp_path, capsys):
    out = tmp_path / "out"
    rc = _link(small_world, out, "--backend", "spark", "--spark-master", "spark://cli-host:7077")
    assert rc == 2
    # the court de-duplication and the agency linkage each ask for the session
    assert builder.masters and set(builder.masters) == {"spark://cli-host:7077"}
    assert "spark://cli-host:7077" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--backend", "spark", "--spark-master", "cluster7"], ["'cluster7'", "--spark-master"]),
        (["--memory-limit", "lots"], ["'lots'", "--memory-limit", "6GB"]),
        (["--temp-dir", "/nonexistent/spill"], ["/nonexistent/spill", "--temp-dir"]),
        (["--backend", "spark", "--memory-limit", "4GB"], ["--memory-limit", "--backend duckdb"]),
        (["--backend", "spark", "--temp-dir", "/tmp"], ["--temp-dir", "--backend duckdb"]),
        (["--spark-master", "spark://h:1"], ["--spark-master", "--backend spark"]),
        (["--engine", "recordlinkage", "--predict-chunks", "2"], ["--predict-chunks", "splink"]),
    ],
)
def test_bad_values_are_named(small_world, tmp_path, capsys, flags, named):
    out = tmp_path / "out"
    assert _link(small_world, out, *flags) == 2
    err = capsys.readouterr().err
    for word in named:
        assert word in err, err
    assert not out.exists()


@pytest.mark.parametrize("flag", ["--predict-chunks", "--threads"])
@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_counts_must_be_positive_integers(small_world, tmp_path, capsys, flag, value):
    with pytest.raises(SystemExit) as info:
        _link(small_world, tmp_path / "out", flag, value)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert flag in err and f"expected a positive integer, got '{value}'" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"predict_chunks": 0}, "predict_chunks must be a positive integer, got 0"),
        ({"threads": True}, "threads must be a positive integer, got True"),
        ({"memory_limit": "6 gigs"}, "memory_limit '6 gigs'"),
        ({"spark_lineage": "disk"}, "spark_lineage must be one of"),
    ],
)
def test_engine_options_are_checked(options, message):
    with pytest.raises(FdacResearchError, match=message):
        SplinkEngine(**options)


def test_memory_sizes_duckdb_reads(tmp_path):
    """Sizes accepted by the engine's check are sizes DuckDB accepts."""
    for size in ("512MB", "1.5GiB", "2 GB", "100kb"):
        e = SplinkEngine(memory_limit=size, temp_directory=str(tmp_path))
        e._db_api()
        try:
            assert e._con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        finally:
            e._release()
    assert list(tmp_path.iterdir()) == []
