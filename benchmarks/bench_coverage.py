"""Benchmark: coverage of the evaluation's intervals and rates of its hidden-bias flags.

Many seeded synthetic worlds at 100, 200, 400, 1,000 and 3,000 families, without and with a
hidden confounder (strength 1: log-odds per SD on referral and outcomes), each taken through
the package's own stages (generate, the truth crosswalk or probabilistic linkage, the
governance build, ``analysis_frame``). For every estimator and outcome: the bias of the log
odds ratio against the world's planted effect, the empirical coverage of the 95% interval
(odds ratio and risk difference), its mean width, and how often an estimator could not be
computed; with the sandwich (CR1) and the delete-one-cluster jackknife side by side. For the
doubly robust reunification estimate: how often each hidden-bias check fires (the benchmark
test, the negative control, the E-value flag, and the report's verdict "not robust"),
separately where the truth lies outside the interval and where it does not.

Peer: the cluster-robust sandwich (CR1, normal quantiles), the variance the package used
before the jackknife, on the same data sets in the same run.

The truth of each world is its planted effect over the world's closed cases (ATE or ATT:
``truth/effects.json``); the negative control's is no effect (odds ratio 1).

Settings (environment): ``FDAC_COVERAGE_REPS`` (replications per size: one number, or
``size:reps`` pairs; default ``100:200,200:200,400:200,1000:100,3000:50``),
``FDAC_COVERAGE_SIZES`` (default ``100,200,400,1000,3000``), ``FDAC_COVERAGE_LINK_REPS``
(default 25) and ``FDAC_COVERAGE_LINK_SIZES`` (default ``200,400``) for the runs that link
with the probabilistic model instead of the truth, ``FDAC_COVERAGE_PROCS`` (default 2),
``FDAC_COVERAGE_RESUME=1`` to reuse the worlds an interrupted run finished.
Seeds: replication ``r`` of size index ``i`` uses world seed ``700_000 + 10_000 * i + r``
(the same worlds with and without the confounder and for both linkages).
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from fdac_research import analysis
from fdac_research.analysis import AnalysisError
from fdac_research.dataset import load_research
from fdac_research.governance import build_research
from fdac_research.governance._keys import _DEMO_KEY
from fdac_research.world import WorldConfig, generate_world, truth_crosswalk

HIDDEN = 1.0
OUTCOMES = (
    ("reunified", "children"),
    ("ceased_misuse", "mothers"),
    ("ceased_misuse", "fathers"),
    ("any_child_protection_plan", "mothers"),
)
ESTIMATORS = (
    ("naive", "association", lambda f, v: analysis.naive_contrast(f)),
    ("g_computation", "ATE", lambda f, v: analysis.g_computation(f, variance=v)),
    ("g_computation", "ATT", lambda f, v: analysis.g_computation(f, estimand="ATT", variance=v)),
    ("ipw", "ATE", lambda f, v: analysis.ipw(f, variance=v)),
    ("ipw", "ATT", lambda f, v: analysis.ipw(f, estimand="ATT", variance=v)),
    ("matching", "ATT", lambda f, v: analysis.ps_matching(f, variance=v)),
    ("aipw", "ATE", lambda f, v: analysis.aipw(f, variance=v)),
)
VARIANCES = ("sandwich", "jackknife")
#: Replications per size. Small sizes are where intervals under-cover, so they get the most
#: worlds (Monte Carlo standard error of a 95% coverage about 1.5 points at 200 worlds); a
#: 3,000-family world costs about 300 s (the jackknife over 3,000 families) and a linked
#: world about 800 s on this machine, so those get fewer (about 3 points at 50, 4.4 at 25).
DEFAULT_REPS = "100:200,200:200,400:200,1000:100,3000:50"
DEFAULT_LINK_REPS = "25"


def _env_ints(name: str, default: str) -> list[int]:
    return [int(x) for x in os.environ.get(name, default).split(",") if x.strip()]


def _link(world: Path, out: Path, how: str, seed: int) -> None:
    if how == "truth":
        truth_crosswalk(world, out)
    else:
        from fdac_research.linkage import link_sources

        link_sources(world, out, seed=seed, charts=False)


def replicate(task: tuple[int, int, float, str]) -> dict[str, Any]:
    """One world through generate, linkage, build and every estimator."""
    size, seed, hidden, linkage = task
    logging.disable(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="bench-coverage-"))
    out: dict[str, Any] = {"task": task, "estimates": [], "failed": [], "flags": {}}
    try:
        t0 = time.perf_counter()
        generate_world(
            root / "w", WorldConfig(n_families=size, seed=seed, hidden_confounder=hidden)
        )
        _link(root / "w", root / "l", linkage, seed)
        build_research(root / "w", root / "l", root / "r", key=_DEMO_KEY, key_kind="demo")
        research = load_research(root / "r")
        effects = json.loads((root / "w" / "truth" / "effects.json").read_text())["effects"]
        out["seconds_build"] = time.perf_counter() - t0
        aipw: dict[str, Any] = {}
        t1 = time.perf_counter()
        for outcome, population in OUTCOMES:
            key = f"{outcome}_{population}"
            try:
                frame = analysis.analysis_frame(research, outcome, population)
            except AnalysisError:
                out["failed"] += [(key, m, e, v) for m, e, _ in ESTIMATORS for v in VARIANCES]
                continue
            for method, estimand, fit in ESTIMATORS:
                truth = effects[key]["att" if estimand == "ATT" else "ate"]
                for variance in VARIANCES:
                    if method == "naive" and variance != VARIANCES[0]:
                        continue
                    try:
                        r = fit(frame, variance)
                    except AnalysisError:
                        out["failed"].append((key, method, estimand, variance))
                        continue
                    o, d = r.odds_ratio, r.risk_difference
                    out["estimates"].append(
                        {
                            "key": key,
                            "method": method,
                            "estimand": estimand,
                            "variance": variance,
                            "log_or": math.log(o.value),
                            "log_or_truth": math.log(truth["odds_ratio"]),
                            "or_low": o.ci_low,
                            "or_high": o.ci_high,
                            "or_covered": o.ci_low <= truth["odds_ratio"] <= o.ci_high,
                            "rd_covered": d.ci_low <= truth["risk_difference"] <= d.ci_high,
                        }
                    )
                    if method == "aipw" and variance == "jackknife":
                        aipw[key] = r
        out["seconds_estimate"] = time.perf_counter() - t1
        main = aipw.get("reunified_children")
        if main is not None:
            truth = effects["reunified_children"]["ate"]["odds_ratio"]
            nc = aipw.get("any_child_protection_plan_mothers")
            verdict = analysis.check_robustness(main, negative_control=nc)
            assert verdict.benchmark is not None
            out["flags"] = {
                "truth_outside": not (main.odds_ratio.ci_low <= truth <= main.odds_ratio.ci_high),
                "benchmark": not verdict.benchmark.agrees,
                "negative_control": bool(
                    verdict.negative_control and verdict.negative_control.flagged
                ),
                "negative_control_available": nc is not None,
                "e_value": analysis.is_sensitive_to_hidden_bias(main),
                "not_robust": verdict.robust is False,
            }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return out


def _reps(name: str, default: str, sizes: list[int]) -> dict[int, int]:
    """Replications per size from ``$name``: one number for every size, or ``size:reps``
    pairs (``100:200,3000:50``) with a bare number as the rest's default."""
    text = os.environ.get(name, default)
    per: dict[int, int] = {}
    rest = None
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if ":" in part:
            size, n = part.split(":", 1)
            per[int(size)] = int(n)
        else:
            rest = int(part)
    missing = [s for s in sizes if s not in per and rest is None]
    if missing:
        raise ValueError(f"{name}={text!r} gives no replications for sizes {missing}")
    return {s: per.get(s, rest or 0) for s in sizes}


def _tasks() -> list[tuple[int, int, float, str]]:
    sizes = _env_ints("FDAC_COVERAGE_SIZES", "100,200,400,1000,3000")
    link_sizes = _env_ints("FDAC_COVERAGE_LINK_SIZES", "200,400")
    reps = _reps("FDAC_COVERAGE_REPS", DEFAULT_REPS, sizes)
    link_reps = _reps("FDAC_COVERAGE_LINK_REPS", DEFAULT_LINK_REPS, link_sizes)
    all_sizes = sorted(set(sizes) | set(link_sizes))
    tasks = []
    for linkage, chosen, n in (("truth", sizes, reps), ("model", link_sizes, link_reps)):
        for size in chosen:
            i = all_sizes.index(size)
            for hidden in (0.0, HIDDEN):
                tasks += [(size, 700_000 + 10_000 * i + r, hidden, linkage) for r in range(n[size])]
    # replication by replication across every setting, so that a run stopped part-way has
    # the same number of worlds in each (summarise it with FDAC_COVERAGE_REPS set to that
    # number and FDAC_COVERAGE_RESUME=1)
    return sorted(tasks, key=lambda t: (t[1] % 10_000, t[3] != "truth", t[0], t[2]))


def _rate(values: list[bool]) -> float | str:
    return round(float(np.mean(values)), 3) if values else ""


def _mc_se(values: list[bool]) -> float | str:
    """Monte Carlo standard error of a rate over ``len(values)`` independent worlds."""
    if len(values) < 2:
        return ""
    p = float(np.mean(values))
    return round(math.sqrt(p * (1 - p) / len(values)), 3)


def _log_width(low: float, high: float) -> float:
    """Width of an odds-ratio interval on the log scale; ``inf`` where it is unbounded (a
    lower end of 0 or an upper end of infinity: at small sizes a jackknife replicate can
    meet a propensity of 0 or 1) and ``nan`` where an end is missing."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return math.nan
    if low <= 0 or math.isinf(high):
        return math.inf
    return math.log(high) - math.log(low)


def _median(width: np.ndarray) -> float | str:
    """Median of the known widths, "unbounded" when more than half are infinite."""
    known = width[~np.isnan(width)]
    if not len(known):
        return ""
    m = float(np.median(known))
    return round(m, 3) if math.isfinite(m) else "unbounded"


def _summarise(results: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    est: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    failed: dict[tuple[Any, ...], int] = defaultdict(int)
    flags: dict[tuple[Any, ...], list[dict[str, bool]]] = defaultdict(list)
    n_worlds: dict[tuple[Any, ...], int] = defaultdict(int)
    for res in results:
        size, _, hidden, linkage = res["task"]
        setting = (linkage, hidden, size)
        n_worlds[setting] += 1
        for e in res["estimates"]:
            est[(*setting, e["key"], e["method"], e["estimand"], e["variance"])].append(e)
        for f in res["failed"]:
            failed[(*setting, *f)] += 1
        if res["flags"]:
            flags[setting].append(res["flags"])
    detail = []
    for k, rows in sorted(est.items(), key=lambda kv: str(kv[0])):
        err = np.array([r["log_or"] - r["log_or_truth"] for r in rows])
        width = np.array([_log_width(r["or_low"], r["or_high"]) for r in rows])
        finite = width[np.isfinite(width)]
        detail.append(
            {
                "linkage": k[0],
                "hidden": k[1],
                "families": k[2],
                "outcome": k[3],
                "method": f"{k[4]} ({k[5]})",
                "variance": k[6],
                "worlds": n_worlds[k[:3]],
                "not_estimable": failed.get(k, 0),
                "bias_log_or": round(float(err.mean()), 3),
                "sd_log_or": round(float(err.std(ddof=1)), 3) if len(err) > 1 else "",
                "coverage_or": _rate([r["or_covered"] for r in rows]),
                "mc_se_coverage_or": _mc_se([r["or_covered"] for r in rows]),
                "coverage_rd": _rate([r["rd_covered"] for r in rows]),
                "mean_width_log_or": round(float(finite.mean()), 3) if len(finite) else "",
                "median_width_log_or": _median(width),
                "unbounded_intervals": int(len(width) - len(finite)),
            }
        )
    flag_rows = []
    for setting, fs in sorted(flags.items(), key=lambda kv: str(kv[0])):
        out_ = [f for f in fs if f["truth_outside"]]
        in_ = [f for f in fs if not f["truth_outside"]]
        row: dict[str, Any] = {
            "linkage": setting[0],
            "hidden": setting[1],
            "families": setting[2],
            "worlds": len(fs),
            "truth outside the AIPW interval": _rate([f["truth_outside"] for f in fs]),
        }
        for name in ("benchmark", "negative_control", "e_value", "not_robust"):
            row[f"{name}: all"] = _rate([f[name] for f in fs])
            row[f"{name}: truth outside"] = _rate([f[name] for f in out_])
            row[f"{name}: truth inside"] = _rate([f[name] for f in in_])
        flag_rows.append(row)
    return detail, {"flags": flag_rows}


def _main_table(detail: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per setting and outcome: jackknife coverage of every adjusted estimator, and
    the sandwich's for the doubly robust one (the peer)."""
    by: dict[tuple[Any, ...], dict[str, Any]] = {}
    for d in detail:
        k = (d["linkage"], d["hidden"], d["families"], d["outcome"])
        row = by.setdefault(
            k,
            {
                "linkage": k[0],
                "hidden": k[1],
                "families": k[2],
                "outcome": k[3],
                "worlds": d["worlds"],
            },
        )
        if d["variance"] == "jackknife" or d["method"].startswith(("naive", "matching")):
            row[f"{d['method']} cov"] = d["coverage_or"]
        if d["method"] == "aipw (ATE)":
            row[f"aipw {d['variance']} cov"] = d["coverage_or"]
            row[f"aipw {d['variance']} cov se"] = d["mc_se_coverage_or"]
            row[f"aipw {d['variance']} width"] = d["mean_width_log_or"]
            row[f"aipw {d['variance']} unbounded"] = d["unbounded_intervals"]
            if d["variance"] == "jackknife":
                row["aipw bias"] = d["bias_log_or"]
                row["aipw not estimable"] = d["not_estimable"]
    return list(by.values())


#: Finished worlds are appended here as they complete, so an interrupted run can resume
#: (``FDAC_COVERAGE_RESUME=1``); kept after the run (``make bench`` re-summarises it with
#: ``FDAC_COVERAGE_RESUME=1`` in seconds) and removed when a fresh run starts.
PARTIAL = Path(__file__).resolve().parents[1] / "reports" / "benchmarks" / "coverage.partial.jsonl"


def _resumed(tasks: list[tuple[int, int, float, str]]) -> list[dict[str, Any]]:
    if os.environ.get("FDAC_COVERAGE_RESUME") != "1" or not PARTIAL.is_file():
        PARTIAL.unlink(missing_ok=True)
        return []
    wanted = set(tasks)
    done = []
    for line in PARTIAL.read_text().splitlines():
        res = json.loads(line)
        res["task"] = tuple(res["task"])
        if res["task"] in wanted:
            done.append(res)
    return done


def run() -> dict[str, Any]:
    tasks = _tasks()
    procs = int(os.environ.get("FDAC_COVERAGE_PROCS", "2"))
    t0 = time.perf_counter()
    results = _resumed(tasks)
    done = {r["task"] for r in results}
    todo = [t for t in tasks if t not in done]
    PARTIAL.parent.mkdir(parents=True, exist_ok=True)
    ctx = mp.get_context("fork")
    with ctx.Pool(procs) as pool, PARTIAL.open("a") as partial:
        for i, res in enumerate(pool.imap(replicate, todo, chunksize=1), len(done) + 1):
            results.append(res)
            partial.write(json.dumps(res) + "\n")
            partial.flush()
            if i % 50 == 0 or i == len(tasks):
                print(
                    f"coverage: {i}/{len(tasks)} worlds, {time.perf_counter() - t0:.0f} s",
                    flush=True,
                )
    # the partial file stays until a fresh (not resumed) run starts: a failure after this
    # point must not cost the worlds already computed
    order = {t: i for i, t in enumerate(tasks)}
    results.sort(key=lambda r: order[r["task"]])
    detail, tables = _summarise(results)
    notes = [
        "Coverage of the 95% interval for the odds ratio (`cov`); `width` is the mean width of "
        "the log-odds-ratio interval over the bounded ones, `unbounded` how many intervals "
        "reached an odds ratio of 0 or infinity (a propensity of 0 or 1 in a jackknife "
        "replicate at small sizes); `bias` the mean error of the log odds ratio.",
        "jackknife: delete-one-cluster (family) jackknife with t(G-1) intervals, the package's "
        "default; sandwich: CR1 with normal quantiles (the peer). Matching always uses the "
        "sandwich (the jackknife is not valid for matching); the naive contrast is not adjusted.",
        f"Hidden confounder strength {HIDDEN} (log-odds per SD) in the `hidden` rows; the "
        "negative control is child-protection plans before the proceedings (truth: no effect).",
        "`cov se` is the Monte Carlo standard error of a coverage, sqrt(p(1-p)/worlds): "
        "a coverage is within 93-97% in the sense of the goal when its interval of two "
        "standard errors meets that range.",
        f"{len(tasks)} worlds in {time.perf_counter() - t0:.0f} s with {procs} processes.",
    ]
    return {
        "title": "Coverage of the evaluation's intervals and rates of its hidden-bias flags",
        "rows": _main_table(detail),
        "tables": {"Hidden-bias flags (doubly robust reunification estimate)": tables["flags"]},
        "detail": detail,
        "notes": notes,
    }
