"""The Spark backend (local mode) gives the same links as DuckDB for the same fitted model."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from fdac_research.dataset import load_sources
from fdac_research.linkage import LinkageModel

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.skip("Java is not installed")
    pytest.importorskip("pyspark")
    from fdac_research.linkage._splink_engine import spark_session

    session = spark_session(cores=2, memory="2g")
    yield session
    session.stop()


@pytest.mark.slow  # a DuckDB fit and a Spark predict (90 s); fast: the UDF tests below
def test_spark_and_duckdb_give_the_same_links(small_world, spark):
    src = load_sources(small_world)
    data = {
        "court": src.court_people.rename(columns={"person_ref": "record_id"}),
        "police": src.agencies["police"],
    }
    skip = {"skip_within": ("court",)}  # as link_sources runs it: no court-court pairs
    duck = LinkageModel(seed=1, engine_options=skip).fit(data)
    fitted = duck.config_
    pairs_duck = duck.predict(data)
    pairs_spark = LinkageModel(
        fitted, backend="spark", engine_options={"spark": spark, **skip}
    ).predict(data)
    key = ["source_l", "id_l", "source_r", "id_r"]
    thr = fitted.match_threshold
    links_duck = set(
        map(tuple, pairs_duck.loc[pairs_duck["match_probability"] >= thr, key].to_numpy())
    )
    links_spark = set(
        map(tuple, pairs_spark.loc[pairs_spark["match_probability"] >= thr, key].to_numpy())
    )
    assert len(links_duck) > 100
    assert links_spark == links_duck
    both = pairs_duck.merge(pairs_spark, on=key, suffixes=("_d", "_s"))
    assert len(both) == len(pairs_duck) == len(pairs_spark)
    assert (both["match_weight_d"] - both["match_weight_s"]).abs().max() < 1e-6


@pytest.mark.slow  # two agencies linked on DuckDB, then on Spark (minutes)
def test_two_agencies_in_one_spark_session_as_duckdb(small_world, spark, tmp_path, monkeypatch):
    """``link --backend spark`` links agency after agency in one session (a second linker
    used to fail: 'Table fdac_input_0 already exists'), gives DuckDB's crosswalk for the same
    fitted models, and leaves no ``spark-warehouse/`` in the working folder."""
    from fdac_research.linkage import link_sources
    from fdac_research.linkage._pipeline import load_model_file

    monkeypatch.chdir(tmp_path)
    agencies = ["police", "health"]
    duck = link_sources(small_world, tmp_path / "duck", agencies=agencies, charts=False)
    base, fitted = load_model_file(tmp_path / "duck" / "model.json")
    assert sorted(fitted) == sorted(agencies)
    sp = link_sources(
        small_world,
        tmp_path / "spark",
        model=base,
        fitted=fitted,
        backend="spark",
        agencies=agencies,
        charts=False,
        engine_options={"spark": spark},
    )
    key = ["source", "record_id", "person_key"]
    a = duck.crosswalk[key].sort_values(key).reset_index(drop=True)
    b = sp.crosswalk[key].sort_values(key).reset_index(drop=True)
    assert len(a) > 300 and set(a["source"]) >= set(agencies)
    pd.testing.assert_frame_equal(a, b)
    assert (sp.quality["n_linked"].to_numpy() == duck.quality["n_linked"].to_numpy()).all()
    assert not (tmp_path / "spark-warehouse").exists()
    # every linker's input tables are dropped when it has predicted
    views = {t.name for t in spark.catalog.listTables() if t.name.startswith("fdac_input_")}
    assert views == set()


# Hand-worked Jaro and Jaro-Winkler (Winkler's prefix weight 0.1, prefix up to 4
# characters, boost above Jaro 0.7; match window floor(max length / 2) - 1; t = half the
# matched characters out of order, rounded down):
# - THOMAS / THOSMAS: window 2; all 6 letters of THOMAS match (its S with the first S of
#   THOSMAS), in THOSMAS's order T H O S M A, so M/S, A/M, S/A are out of order: t = 1;
#   Jaro = (6/6 + 6/7 + 5/6) / 3 = 0.896825; prefix THO: 0.896825 + 0.3 * 0.103175 = 0.927778.
# - MARTHA / MARHTA: 6 matches, T/H and H/T out of order: t = 1; Jaro = (1 + 1 + 5/6) / 3 =
#   0.944444; prefix MAR: 0.944444 + 0.3 * 0.055556 = 0.961111 (Winkler's own example).
# - DIXON / DICKSONX: window 3; D, I, O, N match (X is 5 away), in order: t = 0; Jaro =
#   (4/5 + 4/8 + 4/4) / 3 = 0.766667; prefix DI: 0.766667 + 0.2 * 0.233333 = 0.813333.
# - MARIA / AMARIA: window 2; all 5 match, read in AMARIA's order A M A R I against M A R I A:
#   5 out of order, t = 2; Jaro = (5/5 + 5/6 + 3/5) / 3 = 0.811111, no common prefix.
HAND_WORKED = [
    ("THOMAS", "THOSMAS", 0.896825, 0.927778),
    ("MARTHA", "MARHTA", 0.944444, 0.961111),
    ("DIXON", "DICKSONX", 0.766667, 0.813333),
    ("MARIA", "AMARIA", 0.811111, 0.811111),
]


def test_jaro_winkler_and_jaro_on_spark_are_duckdbs(spark):
    """``fdac_jaro_winkler`` and ``fdac_jaro`` (the Spark functions every Jaro-Winkler and
    Jaro level calls) give the hand-worked values above, and DuckDB's on each pair and on
    nulls (null), empty strings (0) and a two-byte letter (DuckDB compares UTF-8 bytes)."""
    import duckdb

    from fdac_research.linkage._splink_engine import SPARK_JARO, SPARK_JARO_WINKLER

    extra = [(None, "A"), ("A", None), ("", ""), ("", "A"), ("A", "A"), ("ÉMILE", "EMILE")]
    pairs = [(a, b) for a, b, _, _ in HAND_WORKED] + extra
    frame = spark.createDataFrame(pd.DataFrame(pairs, columns=["a", "b"], dtype=object))
    frame.createOrReplaceTempView("fdac_test_pairs")
    got = spark.sql(
        f"SELECT a, b, {SPARK_JARO_WINKLER}(a, b) AS jw, {SPARK_JARO}(a, b) AS j "
        "FROM fdac_test_pairs"
    ).collect()
    spark.catalog.dropTempView("fdac_test_pairs")
    by_pair = {(r["a"], r["b"]): (r["jw"], r["j"]) for r in got}
    for a, b, jaro, jw in HAND_WORKED:
        assert round(by_pair[a, b][0], 6) == jw, (a, b)
        assert round(by_pair[a, b][1], 6) == jaro, (a, b)
    con = duckdb.connect()
    for a, b in pairs:
        duck = con.execute(
            "SELECT jaro_winkler_similarity(?, ?), jaro_similarity(?, ?)", [a, b, a, b]
        ).fetchone()
        for d, s in zip(duck, by_pair[a, b], strict=True):
            assert (d is None and s is None) or s == pytest.approx(d, abs=1e-12), (a, b, d, s)
    assert by_pair[None, "A"] == (None, None) and by_pair["", ""] == (0.0, 0.0)


@pytest.fixture
def splink_jw(spark):
    """Splink's own Spark Jaro-Winkler (the jar's class), under a test name of its own."""
    from pyspark.sql.types import DoubleType

    name = "fdac_test_splink_jw"
    spark.udf.registerJavaFunction(
        name, "uk.gov.moj.dash.linkage.JaroWinklerSimilarity", DoubleType()
    )
    return name


@pytest.mark.slow  # why Splink's jar function is not used (loads the jar: 25 s)
def test_splinks_own_spark_jaro_winkler_counts_transpositions_otherwise(spark, splink_jw):
    """Why the package does not use Splink's Spark function: it is Apache commons-text's
    ``JaroWinklerSimilarity``, which does not round half the out-of-order matches down
    (THOMAS / THOSMAS: t = 1.5, Jaro = (1 + 6/7 + 4.5/6) / 3, Jaro-Winkler 0.908333, below
    a 0.92 level that DuckDB's 0.927778 is above). If this fails, Splink's function now
    agrees and ``docs/scale.md`` should say so."""
    sp = spark.sql(f"SELECT {splink_jw}('THOMAS', 'THOSMAS') AS v").collect()[0]["v"]
    assert sp == pytest.approx((1 + 6 / 7 + 4.5 / 6) / 3 * 0.7 + 0.3, abs=1e-12)
    assert round(sp, 6) == 0.908333


# Name pairs on either side of the UK model's Jaro-Winkler levels (0.92 and 0.8) on DuckDB
# and on Splink's Spark function: (court given name, court family name, agency given name,
# agency family name). Found by moving or doubling one letter of the small world's names.
AROUND_THRESHOLDS = [
    ("THOMAS", "WRIGHT", "THOSMAS", "WRIGHT"),  # given 0.927778 (Splink's Spark 0.908333)
    ("CHRISTOPHER", "HILL", "CTHRISTOPHER", "HILL"),  # given 0.920455 (0.906818)
    ("JENNIFER", "BROWN", "NJENNIFER", "BROWN"),  # given 0.921296 (0.900463)
    ("MARIA", "JONES", "AMARIA", "JONES"),  # given 0.811111 (0.777778), the 0.8 level
    ("LAURA", "KHAN", "ALAURA", "KHAN"),  # given 0.811111 (0.777778)
    ("SARAH", "BRAMTHWAITE", "SARAH", "BHRAMTHWAITE"),  # family 0.920455 (0.906818)
    ("DAVID", "JOHNSON", "DAVID", "NJOHNSON"),  # family 0.815476: below 0.92 on both
    ("THOMAS", "PATEL", "PATEL", "THOSMAS"),  # names swapped with a typo (0.92 on both sides)
]


@pytest.mark.slow  # one predict on each backend: 80 s on this machine under load
def test_comparison_levels_around_the_thresholds_are_duckdbs(spark, splink_jw):
    """Pairs whose Jaro-Winkler lies just above a level on DuckDB and below it with Splink's
    own Spark function get the same comparison levels, weights and links on Spark as on
    DuckDB (with Splink's function, at least five of them would not: checked here)."""
    from fdac_research.linkage import uk_person_model

    rows = []
    for i, (g1, f1, g2, f2) in enumerate(AROUND_THRESHOLDS):
        dob = f"19{70 + i}-0{1 + i % 9}-1{i % 10}"
        common = {"date_of_birth": dob, "sex": "F", "postcode": f"LS{i + 1} 4AB"}
        rows.append(("court", {"record_id": f"C{i}", "given_name": g1, "family_name": f1}, common))
        rows.append(("police", {"record_id": f"P{i}", "given_name": g2, "family_name": f2}, common))
    data = {
        name: pd.DataFrame([{**r, **c} for n, r, c in rows if n == name])
        for name in ("court", "police")
    }
    model = uk_person_model(prior=0.01)
    m_u = {
        c.name: [
            (None, None) if lv.is_null else (0.9 / 2**k, 0.5 ** (len(c.levels) - k))
            for k, lv in enumerate(c.levels)
        ]
        for c in model.comparisons
    }
    fitted = model.with_parameters(0.01, m_u)
    opts = {"retain_gamma": True}
    duck = LinkageModel(fitted, link_type="link_only", engine_options=opts).predict(data, floor=0)
    sp = LinkageModel(
        fitted, backend="spark", link_type="link_only", engine_options={**opts, "spark": spark}
    ).predict(data, floor=0)
    key = ["source_l", "id_l", "source_r", "id_r"]
    both = duck.merge(sp, on=key, suffixes=("_d", "_s"))
    assert len(both) == len(duck) == len(sp)
    true = both[both["id_l"].str[1:] == both["id_r"].str[1:]]
    assert len(true) == len(AROUND_THRESHOLDS)
    for comp in ("given_name", "family_name"):
        assert (both[f"gamma_{comp}_d"] == both[f"gamma_{comp}_s"]).all(), comp
    assert (both["match_weight_d"] - both["match_weight_s"]).abs().max() < 1e-9
    # the pairs discriminate: Splink's Spark function puts most of them on another level
    names = [(g1, g2) for g1, _, g2, _ in AROUND_THRESHOLDS]
    names += [(f1, f2) for _, f1, _, f2 in AROUND_THRESHOLDS]
    flips = 0
    for a, b in names:
        q = f"SELECT {splink_jw}('{a}', '{b}') AS s, fdac_jaro_winkler('{a}', '{b}') AS d"
        r = spark.sql(q).collect()[0]
        flips += any((r["s"] >= t) != (r["d"] >= t) for t in (0.92, 0.8))
    assert flips >= 5
