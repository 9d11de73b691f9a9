"""The Splink engine (DuckDB embedded by default, Spark for data beyond one machine).

The engine-neutral :class:`~fdac_research.linkage.LinkageModelConfig` is translated into a
Splink settings dictionary for the backend's SQL dialect; fitted m/u probabilities are read
back into the config, so a model trained on one backend scores on the other.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import itertools
import logging
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from fdac_research._progress import progress_from_log
from fdac_research.exceptions import DependencyError, FdacResearchError, TrainingError
from fdac_research.linkage._blocking import Rule, rule_label, rule_sql, symmetric_rules
from fdac_research.linkage._config import Comparison, Level, LinkageModelConfig

__all__ = [
    "SplinkEngine",
    "splink_settings",
    "spark_session",
    "spark_master",
    "standalone_cluster",
    "SPARK_JARO_WINKLER",
    "SPARK_JARO",
    "register_spark_similarity",
]

log = logging.getLogger(__name__)

#: Environment variables: the Spark master URL (``--spark-master`` overrides it) and, on a
#: cluster, a checkpoint folder every executor can reach.
SPARK_MASTER_ENV = "FDAC_SPARK_MASTER"
SPARK_CHECKPOINT_ENV = "FDAC_SPARK_CHECKPOINT_DIR"

# Splink reports these steps only as log messages; they drive the progress bars.
_U_LOG, _U_STEP = "splink.internals.estimate_u", r"Estimating u for:"
_EM_LOG, _EM_STEP = "splink.internals.expectation_maximisation", r"Iteration \d+:"
_PREDICT_LOG = "splink.internals.linker_components.inference"
_PREDICT_STEP = r"Processing chunk"

# How Splink may break Spark's lineage between steps (SparkAPI's break_lineage_method).
_LINEAGE = ("parquet", "persist", "checkpoint")
# A DuckDB memory size: a number and a unit (DuckDB also reads KiB, MiB, GiB, TiB).
_MEMORY = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|B)", re.IGNORECASE)

# Input tables get names unique in the process: a Spark session outlives its linkers and
# keeps every temporary view registered in it (DuckDB gets a fresh connection per linker).
_TABLE_IDS = itertools.count()
# Folders this module made for Spark (warehouse, checkpoints): removed when Python exits.
_SPARK_DIRS: list[str] = []
# Spark contexts whose session already has Splink's similarity functions (registering them
# again only warns, once per function and linker).
_UDF_CONTEXTS: set[str] = set()

#: Spark SQL names of this package's Jaro-Winkler and Jaro similarities (DuckDB's values;
#: see :func:`register_spark_similarity`). Splink's own ``jaro_winkler`` and ``jaro_sim``
#: for Spark count transpositions otherwise and are not used.
SPARK_JARO_WINKLER = "fdac_jaro_winkler"
SPARK_JARO = "fdac_jaro"
# Each Spark name -> the jellyfish function computing it and DuckDB's name for it.
_SPARK_SIMILARITY = {
    SPARK_JARO_WINKLER: ("jaro_winkler_similarity", "jaro_winkler_similarity"),
    SPARK_JARO: ("jaro_similarity", "jaro_similarity"),
}


def _remove_spark_dirs() -> None:
    while _SPARK_DIRS:
        shutil.rmtree(_SPARK_DIRS.pop(), ignore_errors=True)


atexit.register(_remove_spark_dirs)


def _spark_dir(prefix: str) -> str:
    path = tempfile.mkdtemp(prefix=prefix)
    _SPARK_DIRS.append(path)
    return path


def _similarity_batch(function: str) -> Callable[[pd.Series, pd.Series], pd.Series]:
    """A function of two text Series computing ``jellyfish.<function>`` pair by pair as
    DuckDB does: null where either side is null, 0 for empty strings, and over UTF-8 bytes
    (DuckDB counts an accented letter as its two bytes).

    It is made here, not at module level, so that Spark's cloudpickle ships it by value:
    executors need pandas, pyarrow and jellyfish, not this package.
    """

    def similarity(a: pd.Series, b: pd.Series) -> pd.Series:
        import jellyfish
        import numpy as np
        import pandas as pd

        fn = getattr(jellyfish, function)

        def as_bytes(x: str) -> str:  # one character per UTF-8 byte, as DuckDB compares
            return x if x.isascii() else x.encode("utf-8").decode("latin-1")

        out = np.full(len(a), np.nan)
        cache: dict[tuple[str, str], float] = {}
        for i, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
            if x is None or y is None or x != x or y != y:  # None or NaN: null
                continue
            v = cache.get((x, y))
            if v is None:
                v = cache[(x, y)] = float(fn(as_bytes(str(x)), as_bytes(str(y))))
            out[i] = v
        return pd.Series(out, index=a.index)

    return similarity


def register_spark_similarity(spark: Any) -> None:
    """Register :data:`SPARK_JARO_WINKLER` and :data:`SPARK_JARO` in ``spark`` (once per
    session): vectorised (pandas) UDFs computing jellyfish's textbook Jaro-Winkler and Jaro,
    which give DuckDB's ``jaro_winkler_similarity`` and ``jaro_similarity`` values.

    Splink's Spark functions differ: its ``jaro_winkler`` is Apache commons-text's
    ``JaroWinklerSimilarity``, which counts transpositions otherwise (THOMAS / THOSMAS:
    0.908333 against DuckDB's 0.927778). The UDFs run in Python on the executors, which
    need pandas, pyarrow and jellyfish (``docs/scale.md``).
    """
    try:
        import jellyfish  # noqa: F401
        import pyarrow  # noqa: F401
        from pyspark.sql.functions import pandas_udf
    except ImportError as err:
        raise DependencyError(
            f"the Spark backend's Jaro-Winkler needs pyarrow and jellyfish ({err}); "
            "pip install pyarrow jellyfish"
        ) from err
    vectorised: Any = pandas_udf  # pyspark's overloads do not cover a two-Series function
    for name, (function, _) in _SPARK_SIMILARITY.items():
        if not spark.catalog.functionExists(name):
            spark.udf.register(name, vectorised(_similarity_batch(function), "double"))


def _q(name: str, dialect: str) -> str:
    return f"`{name}`" if dialect == "spark" else f'"{name}"'


def _level_dict(level: Level, dialect: str) -> dict[str, Any]:
    import splink.comparison_level_library as cl

    cols = level.columns
    k = level.kind
    creator: Any
    if k == "null":
        if len(cols) == 1:
            creator = cl.NullLevel(cols[0])
        else:
            cond = " OR ".join(
                f"{_q(c + '_l', dialect)} IS NULL OR {_q(c + '_r', dialect)} IS NULL" for c in cols
            )
            creator = cl.CustomLevel(cond)
    elif k == "exact":
        if len(cols) == 1:
            creator = cl.ExactMatchLevel(cols[0], term_frequency_adjustments=level.tf_adjustment)
        else:
            creator = cl.And(*(cl.ExactMatchLevel(c) for c in cols))
    elif k == "jaro_winkler":
        creator = cl.JaroWinklerLevel(cols[0], float(level.threshold))  # type: ignore[arg-type]
    elif k == "jaro":
        creator = cl.JaroLevel(cols[0], float(level.threshold))  # type: ignore[arg-type]
    elif k == "levenshtein":
        creator = cl.LevenshteinLevel(cols[0], int(level.threshold))  # type: ignore[arg-type]
    elif k == "damerau_levenshtein":
        creator = cl.DamerauLevenshteinLevel(cols[0], int(level.threshold))  # type: ignore[arg-type]
    elif k == "columns_reversed" and level.threshold is None:
        creator = cl.ColumnsReversedLevel(cols[0], cols[1], symmetrical=True)
    elif k == "columns_reversed":
        fn = SPARK_JARO_WINKLER if dialect == "spark" else "jaro_winkler_similarity"
        a, b = cols
        t = float(level.threshold)  # type: ignore[arg-type]
        creator = cl.CustomLevel(
            f"({fn}({_q(a + '_l', dialect)}, {_q(b + '_r', dialect)}) >= {t} "
            f"AND {fn}({_q(b + '_l', dialect)}, {_q(a + '_r', dialect)}) >= {t})"
        )
    elif k == "any_exact":
        cond = " OR ".join(
            f"{_q(a + '_l', dialect)} = {_q(b + '_r', dialect)}" for a in cols for b in cols
        )
        creator = cl.CustomLevel(f"({cond})")
    elif k == "date_within":
        creator = cl.AbsoluteDateDifferenceLevel(
            cols[0],
            input_is_string=True,
            threshold=int(level.threshold or 0),
            metric="day",
        )
    elif k == "sql":
        creator = cl.CustomLevel(
            f"({_spark_sql(str(level.sql)) if dialect == 'spark' else level.sql})"
        )
    elif k == "else":
        creator = cl.ElseLevel()
    else:  # pragma: no cover - config validates kinds
        raise ValueError(f"unknown level kind {k!r}")
    d: dict[str, Any] = creator.get_comparison_level(dialect).as_dict()
    if dialect == "spark" and k in ("jaro_winkler", "jaro"):  # DuckDB's values, not Splink's
        fn = SPARK_JARO_WINKLER if k == "jaro_winkler" else SPARK_JARO
        c = cols[0]
        d["sql_condition"] = (
            f"{fn}({_q(c + '_l', dialect)}, {_q(c + '_r', dialect)}) >= {float(level.threshold)}"  # type: ignore[arg-type]
        )
    if level.is_null:
        d["is_null_level"] = True
    d["label_for_charts"] = level.label or d.get("label_for_charts", k)
    if not level.is_null:
        if level.m_probability is not None:
            d["m_probability"] = max(level.m_probability, 1e-12)
        if level.u_probability is not None:
            d["u_probability"] = max(level.u_probability, 1e-12)
    return d


def _spark_sql(sql: str) -> str:
    """A custom level's SQL (DuckDB syntax) for Spark: DuckDB's Jaro-Winkler and Jaro
    functions become this package's Spark functions with the same values."""
    for name, (_, duck) in _SPARK_SIMILARITY.items():
        sql = re.sub(rf"\b{duck}\s*\(", f"{name}(", sql, flags=re.IGNORECASE)
    return sql


def _comparison_dict(comp: Comparison, dialect: str) -> dict[str, Any]:
    return {
        "output_column_name": comp.name,
        "comparison_description": comp.description or comp.name,
        "comparison_levels": [_level_dict(lv, dialect) for lv in comp.levels],
    }


def _rule_sql(rule: Rule, dialect: str, skip_within: tuple[str, ...] = ()) -> str:
    sql = rule_sql(rule, dialect)
    for name in skip_within:  # no pairs inside a dataset known to hold one record per person
        sd = _q("source_dataset", dialect)
        sql += f" AND NOT (l.{sd} = '{name}' AND r.{sd} = '{name}')"
    return sql


def splink_settings(
    model: LinkageModelConfig,
    link_type: str,
    dialect: str = "duckdb",
    retain_gamma: bool = False,
    skip_within: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The Splink settings dictionary for ``model`` in ``dialect`` (``duckdb`` or ``spark``).

    ``retain_gamma`` keeps the comparison-vector columns (and Bayes factors) in predictions;
    ``skip_within`` names datasets whose records are not compared with each other.
    """
    return {
        "link_type": link_type,
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": model.prior if model.prior is not None else 1e-4,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": _rule_sql(r, dialect, skip_within), "sql_dialect": dialect}
            for r in symmetric_rules(model.blocking_rules)
        ],
        "comparisons": [_comparison_dict(c, dialect) for c in model.comparisons],
        "em_convergence": model.em.tolerance,
        "max_iterations": model.em.max_iterations,
        "retain_matching_columns": retain_gamma,
        "retain_intermediate_calculation_columns": retain_gamma,
    }


def spark_master(master: str | None = None, cores: int = 2) -> str:
    """The Spark master URL to use: ``master``, else ``$FDAC_SPARK_MASTER``, else local mode
    with ``cores`` cores (``local[2]``)."""
    url = master or os.environ.get(SPARK_MASTER_ENV, "").strip() or f"local[{cores}]"
    source = "--spark-master" if master else SPARK_MASTER_ENV
    if url.startswith("sc://"):
        raise FdacResearchError(
            f"Spark master {url!r} (from {source}) is a Spark Connect address: Splink's Spark "
            "backend needs a classic session (its SparkContext); expected local[N], "
            "spark://HOST:PORT, yarn or k8s://..."
        )
    if not url.startswith(("local", "spark://", "yarn", "k8s://", "mesos://")):
        raise FdacResearchError(
            f"Spark master {url!r} (from {source}) is not a master URL: expected local[N], "
            "spark://HOST:PORT, yarn or k8s://..."
        )
    return url


def _engine_failure(err: BaseException) -> bool:
    """Whether ``err`` comes from the backend itself (Spark/Py4J, DuckDB, the operating
    system) rather than from Splink's estimation on the data (EM with no pairs to learn from
    raises plain Python errors, such as ``math domain error``)."""
    if isinstance(err, (MemoryError, OSError)):
        return True
    root = type(err).__module__.split(".")[0]
    return root in ("py4j", "pyspark", "duckdb", "_duckdb")


# ``SplinkEngine.__init__`` has a parameter of the same name.
_master_url = spark_master


def spark_session(
    app_name: str = "fdac-research-linkage",
    cores: int = 2,
    memory: str = "4g",
    master: str | None = None,
) -> Any:
    """A Spark session with Splink's similarity functions and this package's
    (:func:`register_spark_similarity`).

    Parameters
    ----------
    app_name : str
        The application's name (shown by the cluster's web UI).
    cores : int
        Cores of local mode, and the default shuffle partitions (two per core).
    memory : str
        Driver memory (local mode: all of Spark's memory).
    master : str, optional
        Master URL (``spark://host:7077``, ``yarn``...); default ``$FDAC_SPARK_MASTER``,
        else ``local[cores]``. On a cluster, ``$FDAC_SPARK_CHECKPOINT_DIR`` must name a
        folder every executor can reach (``hdfs://...``, ``s3a://...``); locally it
        defaults to a temporary folder.

    An active session is returned as it is. A new one keeps its warehouse and checkpoints in
    a temporary folder, removed when Python exits (never ``spark-warehouse/`` in the working
    folder). Raises :class:`DependencyError` naming what is missing when Java or pyspark is
    absent.
    """
    java = shutil.which("java") or (
        os.environ.get("JAVA_HOME") and os.path.join(os.environ["JAVA_HOME"], "bin", "java")
    )
    if not java or not os.path.exists(java):
        raise DependencyError(
            "the Spark backend needs Java (17 or later) on PATH or JAVA_HOME; none was found. "
            "Install a JDK or use --backend duckdb."
        )
    try:
        from pyspark.sql import SparkSession
        from splink.internals.spark.jar_location import similarity_jar_location
    except ImportError as err:
        raise DependencyError(
            "the Spark backend needs pyspark: pip install 'fdac-research[spark]', or use --backend duckdb"
        ) from err
    url = spark_master(master, cores)
    active = SparkSession.getActiveSession()
    if active is not None:
        if master and active.sparkContext.master != url:
            log.warning(
                "spark: a session on %s is active; it is used, not %s",
                active.sparkContext.master,
                url,
            )
        return active
    root = _spark_dir("fdac-spark-")
    partitions = str(max(cores * 2, 2))
    builder = (
        SparkSession.builder.master(url)
        .appName(app_name)
        .config("spark.jars", similarity_jar_location())
        .config("spark.driver.memory", memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", os.path.join(root, "warehouse"))
    )
    if url.startswith("local"):
        # Spark's 200 shuffle partitions are for a cluster: on a few local cores each query
        # would run 200 tiny tasks.
        builder = builder.config("spark.sql.shuffle.partitions", partitions).config(
            "spark.default.parallelism", partitions
        )
    # The Python workers running this package's similarity UDFs are started with
    # $PYSPARK_PYTHON, read when the context starts (default: whatever ``python3`` is on
    # PATH, which may lack pandas). Locally it is this Python; on a cluster it is the
    # cluster's to set (docs/scale.md).
    python = os.environ.get("PYSPARK_PYTHON")
    if python is None and url.startswith("local"):
        os.environ["PYSPARK_PYTHON"] = sys.executable
    try:
        session = builder.getOrCreate()
    except Exception as err:  # Java present but unusable (wrong version, no memory...)
        raise DependencyError(f"could not start a Spark session on {url}: {err}") from err
    finally:
        if python is None:
            os.environ.pop("PYSPARK_PYTHON", None)
    checkpoints = os.environ.get(SPARK_CHECKPOINT_ENV, "").strip()
    session.sparkContext.setCheckpointDir(checkpoints or os.path.join(root, "checkpoints"))
    session.sparkContext.setLogLevel("ERROR")  # Spark's per-query warnings are not the user's
    register_spark_similarity(session)
    log.info("spark: session %s on %s", session.sparkContext.applicationId, url)
    return session


@dataclasses.dataclass
class StandaloneCluster:
    """A Spark standalone cluster on this machine (see :func:`standalone_cluster`)."""

    url: str  # the master URL, spark://HOST:PORT
    root: str  # its PID, log and work folders
    pids: dict[str, int]  # daemon ("master", "worker1"...) -> its JVM's process id


_MASTER_CLASS = "org.apache.spark.deploy.master.Master"
_WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a pid reused by another user's process
        return False
    # a zombie (exited, not yet reaped) is gone for our purposes
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


@contextlib.contextmanager
def standalone_cluster(
    workers: int = 2,
    cores: int = 1,
    memory: str = "2g",
    host: str = "127.0.0.1",
    timeout: float = 120.0,
) -> Iterator[StandaloneCluster]:
    """Run a Spark standalone cluster (a master and ``workers`` workers) on this machine
    for the duration of a ``with`` block, with pyspark's own ``sbin/spark-daemon.sh``.

    Ports are free ones; PID, log and work folders are a temporary folder of its own. The
    daemons are stopped (and killed if they do not stop within ``timeout``) and the folder
    removed when the block ends, on failure too. Sessions of this process connect to it
    when ``SPARK_LOCAL_IP`` is ``host`` (it is set for the block).

    Parameters
    ----------
    workers : int
        Worker daemons.
    cores, memory : int, str
        Cores and memory each worker offers to executors (an executor takes 1 GB unless
        ``spark.executor.memory`` says otherwise).
    host : str
        Address the daemons listen on.
    timeout : float
        Seconds to wait for the master, for the workers to register, and for them to stop.

    Raises :class:`DependencyError` when pyspark or Java is missing, and
    :class:`FdacResearchError` with the daemon's log when it does not start.
    """
    import subprocess

    try:
        import pyspark
    except ImportError as err:
        raise DependencyError("a standalone Spark cluster needs pyspark") from err
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise DependencyError("a standalone Spark cluster needs Java (17 or later) on PATH")
    home = os.path.dirname(pyspark.__file__)
    daemon = os.path.join(home, "sbin", "spark-daemon.sh")
    if not os.path.exists(daemon):
        raise DependencyError(f"pyspark at {home} has no sbin/spark-daemon.sh")
    root = tempfile.mkdtemp(prefix="fdac-spark-cluster-")
    ident = f"fdac{os.getpid()}"
    env = {
        **os.environ,
        "SPARK_HOME": home,
        "SPARK_PID_DIR": os.path.join(root, "pids"),
        "SPARK_LOG_DIR": os.path.join(root, "logs"),
        "SPARK_IDENT_STRING": ident,
        "SPARK_LOCAL_IP": host,
        "SPARK_LOCAL_DIRS": os.path.join(root, "local"),
        "PYSPARK_PYTHON": sys.executable,
    }
    started: list[tuple[str, int, str]] = []  # (class, instance, name)
    pids: dict[str, int] = {}

    def run(action: str, cls: str, instance: int, *args: str) -> None:
        proc = subprocess.run(
            ["bash", daemon, action, cls, str(instance), *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0 and action == "start":
            raise FdacResearchError(
                f"spark-daemon.sh start {cls} {instance} failed ({proc.returncode}): "
                f"{proc.stdout}{proc.stderr}{_daemon_log(env, cls, instance)}"
            )

    def pid_of(cls: str, instance: int) -> int:
        path = os.path.join(env["SPARK_PID_DIR"], f"spark-{ident}-{cls}-{instance}.pid")
        with open(path, encoding="ascii") as f:
            return int(f.read().strip())

    def wait(what: str, ok: Any, cls: str, instance: int) -> None:
        deadline = time.monotonic() + timeout
        while not ok():
            if time.monotonic() > deadline:
                raise FdacResearchError(
                    f"Spark {what} not ready after {timeout:.0f} s{_daemon_log(env, cls, instance)}"
                )
            time.sleep(0.5)

    port, ui = _free_port(host), _free_port(host)
    url = f"spark://{host}:{port}"
    saved_ip = os.environ.get("SPARK_LOCAL_IP")
    saved_python = os.environ.get("PYSPARK_PYTHON")
    try:
        run("start", _MASTER_CLASS, 1, "--host", host, "--port", str(port), "--webui-port", str(ui))
        started.append((_MASTER_CLASS, 1, "master"))
        pids["master"] = pid_of(_MASTER_CLASS, 1)
        wait("master", lambda: _accepts(host, port), _MASTER_CLASS, 1)
        for i in range(1, workers + 1):
            work = os.path.join(root, f"work{i}")
            run(
                "start",
                _WORKER_CLASS,
                i,
                url,
                "--host",
                host,
                "--cores",
                str(cores),
                "--memory",
                memory,
                "--webui-port",
                str(_free_port(host)),
                "--work-dir",
                work,
            )
            started.append((_WORKER_CLASS, i, f"worker{i}"))
            pids[f"worker{i}"] = pid_of(_WORKER_CLASS, i)
        wait(
            f"workers ({workers})",
            lambda: _alive_workers(host, ui) >= workers,
            _WORKER_CLASS,
            workers,
        )
        os.environ["SPARK_LOCAL_IP"] = host
        # executors start Python UDF workers with the driver's $PYSPARK_PYTHON: this Python
        os.environ["PYSPARK_PYTHON"] = env["PYSPARK_PYTHON"]
        log.info("spark: standalone cluster %s with %d workers (%s)", url, workers, root)
        yield StandaloneCluster(url, root, dict(pids))
    finally:
        for var, saved in (("SPARK_LOCAL_IP", saved_ip), ("PYSPARK_PYTHON", saved_python)):
            if saved is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = saved
        for cls, instance, _ in reversed(started):
            run("stop", cls, instance)
        deadline = time.monotonic() + timeout
        while any(_alive(p) for p in pids.values()) and time.monotonic() < deadline:
            time.sleep(0.5)
        for name, pid in pids.items():
            if _alive(pid):  # did not stop when asked: ours, so killed
                log.warning("spark: %s (pid %d) did not stop; killing it", name, pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _alive_workers(host: str, ui_port: int) -> int:
    """Workers the master lists as alive (its web UI's JSON; 0 while it is not up)."""
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{host}:{ui_port}/json/", timeout=2.0) as r:
            state = json.loads(r.read().decode("utf-8"))
    except (OSError, ValueError):
        return 0
    return sum(1 for w in state.get("workers", []) if w.get("state") == "ALIVE")


def _daemon_log(env: dict[str, str], cls: str, instance: int) -> str:
    folder = env["SPARK_LOG_DIR"]
    name = f"spark-{env['SPARK_IDENT_STRING']}-{cls}-{instance}"
    try:
        logs = [f for f in os.listdir(folder) if f.startswith(name)]
        with open(os.path.join(folder, sorted(logs)[-1]), encoding="utf-8") as f:
            return "\n" + "".join(f.readlines()[-30:])
    except (OSError, IndexError):
        return ""


class SplinkEngine:
    """Run a linkage model with Splink.

    Parameters
    ----------
    backend : {"duckdb", "spark"}
        SQL backend.
    seed : int
        Seed for the random sampling of u probabilities.
    spark : SparkSession, optional
        An existing session for the Spark backend (one is started in local mode otherwise).
    threads : int, optional
        DuckDB threads (default: DuckDB's own choice).
    memory_limit : str, optional
        DuckDB memory limit, for example ``"6GB"``; DuckDB spills to disk beyond it, into
        a folder of its own (under ``temp_directory``) removed when the step ends.
    retain_gamma : bool
        Keep each pair's comparison levels (``gamma_<comparison>``) in predictions.
    skip_within : tuple of str
        Datasets holding at most one record per person: pairs inside them are not compared
        (for example the court as the reference set).
    spark_master : str, optional
        Master URL of the Spark session started when none is given (default
        ``$FDAC_SPARK_MASTER``, else local mode); see :func:`spark_session`.
    spark_lineage : {"parquet", "persist", "checkpoint"}, optional
        How Splink breaks Spark's lineage between steps (Splink's default: Parquet files in
        the checkpoint folder; ``persist`` keeps them in executor memory).
    temp_directory : str, optional
        Folder under which DuckDB's spill folder is made (default: the system's temporary
        folder).
    predict_chunks : int, optional
        Score candidate pairs in this many chunks of the second dataset's records (Splink's
        chunked prediction; each chunk is reported as a progress step), bounding the
        memory blocking needs at once. Default: one.
    """

    name = "splink"

    def __init__(
        self,
        backend: str = "duckdb",
        seed: int = 0,
        spark: Any = None,
        threads: int | None = None,
        memory_limit: str | None = None,
        retain_gamma: bool = False,
        skip_within: tuple[str, ...] = (),
        spark_master: str | None = None,
        spark_lineage: str | None = None,
        temp_directory: str | None = None,
        predict_chunks: int | None = None,
    ) -> None:
        if backend not in ("duckdb", "spark"):
            raise FdacResearchError(
                f"unknown Splink backend {backend!r}; expected 'duckdb' or 'spark'"
            )
        self.backend = backend
        self.seed = seed
        self.spark = spark
        self.threads = threads
        self.memory_limit = None if memory_limit is None else str(memory_limit).replace(" ", "")
        self.retain_gamma = retain_gamma
        self.skip_within = tuple(skip_within)
        if backend == "spark" and spark is None:
            _master_url(spark_master)  # a bad URL fails here, before any data is read
        self.spark_master = spark_master
        if spark_lineage not in (None, *_LINEAGE):
            raise FdacResearchError(
                f"spark_lineage must be one of {list(_LINEAGE)}, got {spark_lineage!r}"
            )
        self.spark_lineage = spark_lineage
        if temp_directory is not None and not os.path.isdir(temp_directory):
            raise FdacResearchError(
                f"temp_directory {str(temp_directory)!r} (--temp-dir) is not an existing "
                "folder: expected a folder for DuckDB to spill into"
            )
        self.temp_directory = None if temp_directory is None else str(temp_directory)
        for option, value in (("predict_chunks", predict_chunks), ("threads", threads)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise FdacResearchError(f"{option} must be a positive integer, got {value!r}")
        if memory_limit is not None and not _MEMORY.fullmatch(str(memory_limit)):
            raise FdacResearchError(
                f"memory_limit {memory_limit!r} (--memory-limit) is not a memory size: expected "
                "a number and a unit, for example 6GB, 512MB or 1.5GiB"
            )
        self.predict_chunks = predict_chunks
        self._con: Any = None  # the DuckDB connection of the linker in use
        self._spill: str | None = None  # and its spill folder
        self._inputs: list[Any] = []  # the input tables of the linker in use

    # ------------------------------------------------------------------ plumbing
    def _db_api(self) -> Any:
        if self.backend == "duckdb":
            import duckdb
            from splink import DuckDBAPI

            self._release()
            con = duckdb.connect()
            self._con = con
            if self.threads:
                con.execute(f"SET threads TO {int(self.threads)}")
            if self.memory_limit:
                con.execute(f"SET memory_limit = '{self.memory_limit}'")
            # Spill beyond the memory limit (given, or DuckDB's 80% of RAM) into a folder of
            # this linker's own, removed afterwards: DuckDB's default for an in-memory
            # database is a .tmp folder in the working folder.
            self._spill = tempfile.mkdtemp(prefix="fdac-duckdb-spill-", dir=self.temp_directory)
            con.execute("SET temp_directory = '{}'".format(self._spill.replace("'", "''")))
            log.info(
                "splink: DuckDB memory limit %s, spilling to %s",
                self.memory_limit or "DuckDB's default",
                self._spill,
            )
            con.execute("SET preserve_insertion_order = false")
            return DuckDBAPI(connection=con)
        from splink import SparkAPI

        if self.spark is None:
            self.spark = spark_session(master=self.spark_master)
        sc = self.spark.sparkContext
        if sc.getCheckpointDir() is None:  # Splink breaks lineage with checkpoints
            sc.setCheckpointDir(_spark_dir("fdac-spark-checkpoints-"))
        first = sc.applicationId not in _UDF_CONTEXTS
        _UDF_CONTEXTS.add(sc.applicationId)
        register_spark_similarity(self.spark)
        return SparkAPI(
            spark_session=self.spark,
            register_udfs_automatically=first,
            break_lineage_method=self.spark_lineage,
        )

    def _release(self) -> None:
        """Close the DuckDB connection of the last linker and remove its spill folder."""
        con, self._con = self._con, None
        if con is not None:
            try:
                con.close()
            except Exception as err:  # already closed
                log.debug("splink: DuckDB connection not closed: %s", err)
        spill, self._spill = self._spill, None
        if spill is not None:
            shutil.rmtree(spill, ignore_errors=True)

    def _drop_inputs(self) -> None:
        while self._inputs:
            table = self._inputs.pop()
            try:
                table.drop_table_from_database_and_remove_from_cache()
                if self.backend == "spark":  # Splink's "drop table" leaves a temporary view
                    self.spark.catalog.dropTempView(table.physical_name)
            except Exception as err:  # a stopped session has nothing left to drop
                log.debug("splink: input table not dropped: %s", err)

    def _linker(
        self, model: LinkageModelConfig, frames: dict[str, pd.DataFrame], link_type: str
    ) -> Any:
        from splink import Linker

        self._drop_inputs()
        db_api = self._db_api()
        dialect = "spark" if self.backend == "spark" else "duckdb"
        tables = [
            db_api.register(
                _for_backend(df, self.backend),
                dataset_display_name=name,
                table_name=f"fdac_input_{next(_TABLE_IDS)}",
            )
            for name, df in frames.items()
        ]
        self._inputs = list(tables)
        skip = (
            tuple(n for n in self.skip_within if n in frames)
            if link_type == "link_and_dedupe"
            else ()
        )
        settings = splink_settings(model, link_type, dialect, self.retain_gamma, skip)
        # Splink's settings check does not know that ``source_dataset`` (used to skip pairs
        # inside a reference set) is its own column and would warn; columns are checked by
        # fdac_research.linkage.check_input before any engine runs.
        return Linker(
            tables if len(tables) > 1 else tables[0],
            settings,
            log_level=None,
            validate_settings=not skip,
        )

    # ------------------------------------------------------------------ training
    def fit(
        self,
        model: LinkageModelConfig,
        frames: dict[str, pd.DataFrame],
        link_type: str,
        labels: pd.DataFrame | None = None,
    ) -> LinkageModelConfig:
        """Estimate the prior (when the model has none), u by random sampling, m by EM
        (and from labelled matching pairs when given); return the fitted config."""
        try:
            return self._fit(model, frames, link_type, labels)
        finally:
            self._drop_inputs()
            self._release()

    def _fit(
        self,
        model: LinkageModelConfig,
        frames: dict[str, pd.DataFrame],
        link_type: str,
        labels: pd.DataFrame | None,
    ) -> LinkageModelConfig:
        dialect = "spark" if self.backend == "spark" else "duckdb"
        skip = (
            tuple(n for n in self.skip_within if n in frames)
            if link_type == "link_and_dedupe"
            else ()
        )

        t0 = time.perf_counter()
        linker = self._linker(model.unfitted(), frames, link_type)
        tr = linker.training
        if model.prior is None:
            tr.estimate_probability_two_random_records_match(
                [_rule_sql(r, dialect, skip) for r in symmetric_rules(model.em.prior_rules)],
                recall=model.em.prior_recall,
            )
        log.info("splink: prior estimated (%.1f s)", time.perf_counter() - t0)
        with progress_from_log(_U_LOG, "u by random sampling", len(model.comparisons), _U_STEP):
            tr.estimate_u_using_random_sampling(
                max_pairs=float(model.em.u_max_pairs), seed=int(self.seed)
            )
        log.info("splink: u estimated (%.1f s)", time.perf_counter() - t0)
        if labels is not None and len(labels):
            lab = labels.loc[
                labels["is_match"].astype(bool), ["source_l", "id_l", "source_r", "id_r"]
            ]
            lab = lab.rename(
                columns={
                    "source_l": "source_dataset_l",
                    "id_l": "unique_id_l",
                    "source_r": "source_dataset_r",
                    "id_r": "unique_id_r",
                }
            )
            if len(lab):
                linker.table_management.register_table(
                    lab.astype(str), "__fdac_labels", overwrite=True
                )
                tr.estimate_m_from_pairwise_labels("__fdac_labels")
        rules = model.em.blocking_rules
        for k, rule in enumerate(rules, 1):
            desc = f"EM {k}/{len(rules)} (blocking on {rule_label(rule)})"
            try:
                with progress_from_log(_EM_LOG, desc, model.em.max_iterations, _EM_STEP):
                    tr.estimate_parameters_using_expectation_maximisation(
                        _rule_sql(rule, dialect, skip),
                        max_pairs=None if model.em.max_pairs is None else float(model.em.max_pairs),
                    )
            except Exception as err:  # Splink raises plain exceptions when EM has no pairs
                what = f"EM training with blocking rule {rule_label(rule)!r} failed: {err}"
                if _engine_failure(err):
                    raise FdacResearchError(f"{what} (the {self.backend} backend)") from err
                raise TrainingError(what) from err
            log.info("splink: EM on %s done (%.1f s)", rule_label(rule), time.perf_counter() - t0)
        fitted = linker.misc.save_model_to_json()
        return _read_parameters(model, fitted)

    # ------------------------------------------------------------------ prediction
    def predict(
        self,
        model: LinkageModelConfig,
        frames: dict[str, pd.DataFrame],
        link_type: str,
        floor: float | None = None,
    ) -> pd.DataFrame:
        """Score candidate pairs; return the engine-neutral pairs frame."""
        t0 = time.perf_counter()
        try:
            linker = self._linker(model, frames, link_type)
            thr = model.prediction_floor if floor is None else floor
            chunks = self.predict_chunks or 1
            bar = (
                progress_from_log(
                    _PREDICT_LOG, f"scoring pairs in {chunks} chunks", chunks, _PREDICT_STEP
                )
                if chunks > 1
                else contextlib.nullcontext()
            )
            with bar:
                df = linker.inference.predict(
                    threshold_match_probability=thr if thr > 0 else None,
                    **({"num_chunks_left": 1, "num_chunks_right": chunks} if chunks > 1 else {}),
                )
            try:
                pdf = df.as_pandas_dataframe()
            finally:
                df.drop_table_from_database_and_remove_from_cache()
        finally:
            self._drop_inputs()
            self._release()
        log.info("splink: %d pairs predicted (%.1f s)", len(pdf), time.perf_counter() - t0)
        only = next(iter(frames)) if len(frames) == 1 else ""
        return _normalise_pairs(pdf, model, only)


def _for_backend(df: pd.DataFrame, backend: str) -> pd.DataFrame:
    if backend != "spark":
        return df
    # Spark cannot infer a type for an all-null object column; make every column a string.
    out: pd.DataFrame = df.astype("string").astype(object)
    return out.mask(df.isna(), None)


def _read_parameters(model: LinkageModelConfig, fitted: dict[str, Any]) -> LinkageModelConfig:
    m_u: dict[str, list[tuple[float | None, float | None]]] = {}
    by_name = {c["output_column_name"]: c for c in fitted["comparisons"]}
    for comp in model.comparisons:
        levels = by_name[comp.name]["comparison_levels"]
        vals: list[tuple[float | None, float | None]] = []
        for lv, d in zip(comp.levels, levels, strict=True):
            if lv.is_null:
                vals.append((None, None))
            else:
                m, u = _fill_unobserved(
                    _clip(d.get("m_probability")),
                    _clip(d.get("u_probability")),
                    model.em.u_max_pairs,
                )
                vals.append((m, u))
        m_u[comp.name] = vals
    return model.with_parameters(float(fitted["probability_two_random_records_match"]), m_u)


def _fill_unobserved(m: float | None, u: float | None, u_max_pairs: int) -> tuple[float, float]:
    """A level never seen in training: an unseen u (never among random pairs) is set to half
    a pair in ``u_max_pairs``; an unseen m makes the level neutral (m = u, no evidence)."""
    if u is None or u == 0:
        u = 0.5 / u_max_pairs
    if m is None or m == 0:
        m = u
    return m, u


def _clip(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return None if not np.isfinite(v) else min(max(v, 0.0), 1.0)


def _normalise_pairs(pdf: pd.DataFrame, model: LinkageModelConfig, only: str = "") -> pd.DataFrame:
    """Splink's predictions -> ``source_l, id_l, source_r, id_r, match_weight,
    match_probability, gamma_<comparison>`` with gamma as an index into the config's levels.

    Splink names no source when it de-duplicates one table; ``only`` is that table's name."""
    out = pd.DataFrame(
        {
            "source_l": pdf["source_dataset_l"].astype(str).to_numpy()
            if "source_dataset_l" in pdf
            else only,
            "id_l": pdf["unique_id_l"].astype(str).to_numpy(),
            "source_r": pdf["source_dataset_r"].astype(str).to_numpy()
            if "source_dataset_r" in pdf
            else only,
            "id_r": pdf["unique_id_r"].astype(str).to_numpy(),
            "match_weight": pdf["match_weight"].astype(float).to_numpy(),
            "match_probability": pdf["match_probability"].astype(float).to_numpy(),
        }
    )
    for comp in model.comparisons:
        col = f"gamma_{comp.name}"
        if col not in pdf:
            continue
        g = pdf[col].astype(int).to_numpy()
        non_null = [i for i, lv in enumerate(comp.levels) if not lv.is_null]
        null = [i for i, lv in enumerate(comp.levels) if lv.is_null]
        k = len(non_null)
        idx = np.where(
            g < 0, null[0] if null else -1, np.array(non_null)[np.clip(k - 1 - g, 0, k - 1)]
        )
        out[col] = idx.astype(np.int64)
    return out
