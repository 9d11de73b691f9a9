"""The Spark backend's Jaro-Winkler and Jaro without a Spark session: the SQL the settings
carry, and the UDF's own function (shipped to executors by value, run on pandas Series).

The Spark session tests are in ``test_spark.py``.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pandas as pd
import pytest

from fdac_research.linkage import uk_person_model
from fdac_research.linkage._config import Comparison, Level
from fdac_research.linkage._splink_engine import (
    SPARK_JARO,
    SPARK_JARO_WINKLER,
    _similarity_batch,
    splink_settings,
)


def _conditions(settings: dict) -> list[str]:
    return [lv["sql_condition"] for c in settings["comparisons"] for lv in c["comparison_levels"]]


def test_spark_settings_call_the_packages_functions_not_splinks():
    """Every Jaro-Winkler level of the UK model (two given-name levels, one family-name
    level, the swapped-names-with-a-typo level) calls ``fdac_jaro_winkler`` on Spark;
    Splink's own ``jaro_winkler`` (commons-text) appears nowhere. DuckDB is unchanged."""
    model = uk_person_model()
    spark = _conditions(splink_settings(model, "link_only", "spark"))
    duck = _conditions(splink_settings(model, "link_only", "duckdb"))
    assert "fdac_jaro_winkler(`given_name_l`, `given_name_r`) >= 0.92" in spark
    assert "fdac_jaro_winkler(`given_name_l`, `given_name_r`) >= 0.8" in spark
    assert "fdac_jaro_winkler(`family_name_l`, `family_name_r`) >= 0.92" in spark
    swapped = [c for c in spark if "`given_name_l`, `family_name_r`" in c]
    assert swapped and all(SPARK_JARO_WINKLER in c for c in swapped)
    assert not any("jaro_winkler(" in c.replace(SPARK_JARO_WINKLER, "") for c in spark)
    assert sum(c.count("jaro_winkler_similarity(") for c in duck) == 5
    assert not any(SPARK_JARO_WINKLER in c for c in duck)
    # labels (charts, model.json) are the same on both backends
    labels = [
        [lv["label_for_charts"] for lv in c["comparison_levels"]]
        for s in (splink_settings(model, "link_only", d) for d in ("spark", "duckdb"))
        for c in s["comparisons"]
    ]
    assert labels[: len(labels) // 2] == labels[len(labels) // 2 :]


def test_jaro_and_custom_sql_levels_on_spark():
    """A Jaro level, and a custom SQL level written (as documented) in DuckDB's syntax, call
    this package's Spark functions: DuckDB's function names are not Spark's."""
    comp = Comparison(
        "family_name",
        (
            Level("null", ("family_name",)),
            Level("jaro", ("family_name",), threshold=0.9),
            Level(
                "sql",
                sql="JARO_WINKLER_SIMILARITY(family_name_l, family_name_r) >= 0.8 "
                "AND jaro_similarity (family_name_l, family_name_r) > 0.5",
            ),
            Level("else"),
        ),
    )
    model = dataclasses.replace(uk_person_model(), comparisons=(comp,))
    null, jaro, sql, _ = _conditions(splink_settings(model, "link_only", "spark"))
    assert jaro == f"{SPARK_JARO}(`family_name_l`, `family_name_r`) >= 0.9"
    assert sql == (
        f"({SPARK_JARO_WINKLER}(family_name_l, family_name_r) >= 0.8 AND {SPARK_JARO}(family_name_l, family_name_r) > 0.5)"
    )
    _, jaro_d, sql_d, _ = _conditions(splink_settings(model, "link_only", "duckdb"))
    assert jaro_d == 'jaro_similarity("family_name_l", "family_name_r") >= 0.9'
    assert "JARO_WINKLER_SIMILARITY(family_name_l, family_name_r)" in sql_d


def test_udf_function_gives_duckdbs_values_and_nulls():
    """The function inside the UDF, on pandas Series as Spark passes them. Values are
    DuckDB's (``tests/linkage/test_spark.py`` works them by hand); a null on either side
    is null; two empty strings score 0, as on DuckDB; text is compared as UTF-8 bytes, as
    DuckDB does: É is two bytes, so ÉMILE / EMILE has 4 matches in 6 and 5 characters and
    no transposition, Jaro = (4/6 + 4/5 + 4/4) / 3 = 0.822222, no common prefix."""
    duckdb = pytest.importorskip("duckdb")
    a = pd.Series(["THOMAS", "MARTHA", "DIXON", None, "A", "", "ÉMILE", "MARIA"], dtype=object)
    b = pd.Series(["THOSMAS", "MARHTA", "DICKSONX", "A", None, "", "EMILE", "AMARIA"])
    jw = _similarity_batch("jaro_winkler_similarity")(a, b)
    j = _similarity_batch("jaro_similarity")(a, b)
    expected_jw = [0.927778, 0.961111, 0.813333, None, None, 0.0, 0.822222, 0.811111]
    expected_j = [0.896825, 0.944444, 0.766667, None, None, 0.0, 0.822222, 0.811111]
    assert [None if pd.isna(v) else round(v, 6) for v in jw] == expected_jw
    assert [None if pd.isna(v) else round(v, 6) for v in j] == expected_j
    con = duckdb.connect()
    for x, y, v, w in zip(a, b, jw, j, strict=True):
        dv, dw = con.execute(
            "SELECT jaro_winkler_similarity(?, ?), jaro_similarity(?, ?)", [x, y, x, y]
        ).fetchone()
        assert (dv is None and pd.isna(v)) or dv == pytest.approx(v, abs=1e-12), (x, y)
        assert (dw is None and pd.isna(w)) or dw == pytest.approx(w, abs=1e-12), (x, y)


def test_udf_function_is_shipped_by_value():
    """Spark pickles a UDF's function with cloudpickle and unpickles it on the executors:
    it must not need this package there (only pandas and jellyfish). Unpickled in a fresh
    Python in which importing ``fdac_research`` fails."""
    cloudpickle = pytest.importorskip("pyspark.cloudpickle")
    blob = cloudpickle.dumps(_similarity_batch("jaro_winkler_similarity"))
    code = (
        "import sys, pickle, pandas as pd\n"
        "sys.modules['fdac_research'] = None  # importing it now raises ImportError\n"
        "fn = pickle.loads(sys.stdin.buffer.read())\n"
        "print(round(fn(pd.Series(['THOMAS']), pd.Series(['THOSMAS']))[0], 6))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=blob, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == "0.927778"
