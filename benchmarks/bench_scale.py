"""National scale: court people linked to a national-size agency extract, and a Spark
standalone cluster against DuckDB on one world.

Rows:
- extract: a world of ``FDAC_SCALE_PEOPLE`` people (court people and as many people in no
  case, as ``bench_linkage``'s scale world) whose health extract is replaced by one of
  ``FDAC_SCALE_EXTRACT`` records (``generate-extract``: national name and postcode
  frequencies), linked to every agency by ``fdac-research link`` in a fresh process with
  ``--memory-limit``, ``--temp-dir`` and ``--predict-chunks``: wall time, peak memory of
  the process tree (resident set sizes summed, sampled every half second), the most DuckDB
  spilled (size of the spill folder, sampled), and precision / recall / F1 per agency
  against the truth.
- stages: ``build``, ``risk`` and ``synthesise`` on the research folder of a world of
  ``FDAC_SCALE_STAGES_PEOPLE`` people (the truth crosswalk: linking is the extract's row),
  each in a fresh process: wall time and peak memory.
- Spark: a world of ``FDAC_SCALE_SPARK_FAMILIES`` families linked on DuckDB (trained), then
  with the fitted models on DuckDB, on Spark in local mode (``local[2]``; skipped when
  ``FDAC_SCALE_SPARK_LOCAL=0``) and on a Spark standalone cluster (a master and two
  workers on this machine, pyspark's ``spark-daemon.sh``; skipped when
  ``FDAC_SCALE_SPARK_STANDALONE=0``): wall times, peak memory (the driver's process tree;
  the cluster's daemons and executors apart), identical crosswalk? (goal: 0 rows differ).

``FDAC_SCALE_LOG=<folder>`` keeps each measured process's stderr, with plain progress
lines, as ``<folder>/<run>.log`` (to follow a long run with ``tail -f``).

``0`` in any of the size variables skips its part; the rows of a skipped part are
kept from the previous ``reports/benchmarks/scale.json`` (said in a note), so one part can
be rerun without the other. Goals: per-agency F1 >= 0.98.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

PREVIOUS = Path(__file__).resolve().parents[1] / "reports" / "benchmarks" / "scale.json"
EXTRACT_AGENCY = "health"
MEMORY_LIMIT = "4GB"
#: Court people per family and people in no case per court person in the world generator
#: (bench_linkage's scale world uses the same ratio: about 6.43 people per family).
PEOPLE_PER_FAMILY = 6.43
F1_GOAL = 0.98


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default)).replace(",", "").replace("_", "")
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(
            f"{name}={os.environ[name]!r}: expected a whole number (0 skips)"
        ) from None
    if value < 0:
        raise SystemExit(f"{name}={value}: expected a whole number >= 0 (0 skips)")
    return value


# ---------------------------------------------------------------------- sampling
def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _tree_rss(roots: Iterable[int]) -> int:
    """Resident bytes of ``roots`` and all their descendants (from /proc)."""
    kids = _children()
    page = os.sysconf("SC_PAGE_SIZE")
    total, stack, seen = 0, list(roots), set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue
        stack += kids.get(pid, [])
    return total


def _folder_bytes(folder: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):  # removed while we looked
                total += os.path.getsize(os.path.join(dirpath, name))
    return total


class _Sampler:
    """Peaks, every ``interval`` seconds, of the memory of process trees and of a folder."""

    def __init__(
        self, groups: dict[str, list[int]], folder: Path | None, interval: float = 0.5
    ) -> None:
        self.groups, self.folder, self.interval = groups, folder, interval
        self.peak_rss = dict.fromkeys(groups, 0)
        self.peak_disk = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, roots in self.groups.items():
                self.peak_rss[name] = max(self.peak_rss[name], _tree_rss(roots))
            if self.folder is not None:
                self.peak_disk = max(self.peak_disk, _folder_bytes(self.folder))
            self._stop.wait(self.interval)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measured_process(
    name: str, args: list[str], *, spill: Path | None = None, watch: dict[str, list[int]]
) -> dict[str, Any]:
    """Run ``fdac-research ARGS`` in a fresh process: wall time, peak memory of its process
    tree (and of the ``watch`` trees), the most ``spill`` held, load before and after."""
    cmd = [sys.executable, "-m", "fdac_research.cli", *args]
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    with _child_log(name) as (env, log):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, text=True, env=env)
        with _Sampler({"run": [proc.pid], **watch}, spill) as sampler:
            proc.wait()
        log.seek(0)
        err = log.read()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    peaks = {k: round(v / 2**20, 1) for k, v in sampler.peak_rss.items()}
    return {
        "wall_s": round(wall, 1),
        "peak_mb": {("link" if k == "run" else k): v for k, v in peaks.items()},
        "spill_mb": round(sampler.peak_disk / 2**20, 1),
        "load": (round(load, 2), round(os.getloadavg()[0], 2)),
        "stderr": err,
    }


def link_process(
    folder: Path, out: Path, *flags: str, spill: Path | None = None, watch: dict[str, list[int]]
) -> dict[str, Any]:
    """Run ``fdac-research link`` in a fresh process; wall time, peaks, per-agency figures."""
    args = ["link", str(folder), "--out", str(out), "--no-charts", "--seed", "1", *flags]
    m = measured_process(out.name, args, spill=spill, watch=watch)
    ev = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))["agencies"]
    m["court"] = json.loads((out / "evaluation.json").read_text(encoding="utf-8")).get("court")
    m["links"] = {a: e["links"] for a, e in ev.items()}
    m["n_records"] = {a: e["n_records"] for a, e in ev.items()}
    return m


@contextlib.contextmanager
def _child_log(name: str) -> Iterator[tuple[dict[str, str], IO[str]]]:
    """The environment and stderr file of a measured child process.

    With ``FDAC_SCALE_LOG=<folder>`` the child's stderr (with plain progress lines) is kept
    as ``<folder>/<name>.log``, to watch a long run (``tail -f``); otherwise progress is off
    and stderr goes to a temporary file, read back for the error message on failure.
    """
    folder = os.environ.get("FDAC_SCALE_LOG", "").strip()
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "FDAC_PROGRESS": "plain"}
        with open(Path(folder) / f"{name}.log", "w+", encoding="utf-8") as log:
            yield env, log
    else:
        with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
            yield {**os.environ, "FDAC_PROGRESS": "0"}, log


# ---------------------------------------------------------------------- parts
def extract_part(
    tmp: Path, n_people: int, n_extract: int
) -> tuple[list[dict[str, Any]], list[str]]:
    from fdac_research.world._extract import write_extract_world

    families = max(10, round(n_people / PEOPLE_PER_FAMILY))
    world = tmp / "extract_world"
    t0 = time.perf_counter()
    made = write_extract_world(
        world, n_extract, agency=EXTRACT_AGENCY, n_families=families, seed=5, check=False
    )
    gen_s = time.perf_counter() - t0
    chunks = max(1, math.ceil(made["n_records"] / 2_000_000))
    spill = tmp / "spill"
    spill.mkdir()
    flags = ["--memory-limit", MEMORY_LIMIT, "--temp-dir", str(spill)]
    flags += ["--predict-chunks", str(chunks)]
    m = link_process(world, tmp / "extract_link", *flags, spill=spill, watch={})
    court = int(pd.read_csv(world / "court_people.csv", usecols=["person_ref"]).shape[0])
    task = (
        f"extract: {court:,} court people x {made['n_records']:,} {EXTRACT_AGENCY} records "
        f"(world of {n_people:,} people)"
    )
    rows = [
        {
            "task": task,
            "agency": "all",
            "records": sum(m["n_records"].values()),
            "wall_s": m["wall_s"],
            "peak_MB": m["peak_mb"]["link"],
            "spill_MB": m["spill_mb"],
            "precision": min(e["precision"] for e in m["links"].values()),
            "recall": min(e["recall"] for e in m["links"].values()),
            "f1": min(e["f1"] for e in m["links"].values()),
            "goal": f"F1 >= {F1_GOAL} per agency",
        }
    ]
    if m.get("court"):
        c = m["court"]["clustered"]
        rows.append(
            {
                "task": "extract: within-court dedupe (clustered pairs)",
                "agency": "court",
                "records": m["court"]["n_records"],
                "precision": c["precision"],
                "recall": c["recall"],
                "f1": c["f1"],
                "goal": "reported",
            }
        )
    for a in sorted(m["links"]):
        e = m["links"][a]
        rows.append(
            {
                "task": "extract: per agency",
                "agency": a,
                "records": m["n_records"][a],
                "precision": e["precision"],
                "recall": e["recall"],
                "f1": e["f1"],
                "goal": "met" if e["f1"] >= F1_GOAL else f"missed by {F1_GOAL - e['f1']:.4f}",
            }
        )
    notes = [
        f"extract world generated in {gen_s:.0f} s (not counted; {made['n_chunks']} chunks); "
        f"link run as `fdac-research link --memory-limit {MEMORY_LIMIT} --temp-dir ... "
        f"--predict-chunks {chunks}` in a fresh process (validation and evaluation "
        "included); peak_MB is the process tree's resident memory, spill_MB the largest "
        "size of DuckDB's spill folder, both sampled every 0.5 s; 1-minute load average "
        f"{m['load'][0]} before, {m['load'][1]} after (2 cores: above 2 means shared)",
        "precision / recall / F1 are pairwise over court-agency links after clustering, "
        "against the world's truth (the 'all' row gives the lowest of the agencies).",
    ]
    return rows, notes


def stages_part(tmp: Path, n_people: int) -> tuple[list[dict[str, Any]], list[str]]:
    """``build``, ``risk`` and ``synthesise`` on the research folder of a world of
    ``n_people`` people, each in a fresh process (the crosswalk is the world's truth: the
    link itself is measured by the extract part)."""
    from fdac_research.world import generate_world

    families = max(10, round(n_people / PEOPLE_PER_FAMILY))
    world, link, research = tmp / "stages_world", tmp / "stages_link", tmp / "stages_research"
    t0 = time.perf_counter()
    generate_world(world, n_families=families, seed=9)
    gen_s = time.perf_counter() - t0
    measured_process(
        "truth_crosswalk", ["truth-crosswalk", str(world), "--out", str(link)], watch={}
    )
    runs = {
        "build": [
            "build",
            str(world),
            "--crosswalk",
            str(link),
            "--out",
            str(research),
            "--demo-key",
        ],
        "risk": ["risk", str(research), "--out", str(tmp / "stages_risk")],
        "synthesise": [
            "synthesise",
            str(research),
            "--out",
            str(tmp / "stages_release"),
            "--report-dir",
            str(tmp / "stages_release_report"),
            "--seed",
            "1",
        ],
    }
    rows, loads = [], []
    cases = 0
    for stage, args in runs.items():
        try:
            m = measured_process(f"stages_{stage}", args, watch={})
            outcome = "ran to the end"
        except RuntimeError as err:  # a refused release exits 1: its time still counts
            if stage != "synthesise" or "REFUSED" not in str(err):
                raise
            m = {"wall_s": None, "peak_mb": {"link": None}, "load": ("", "")}
            outcome = "refused by the gate"
        if stage == "build":
            cases = int(pd.read_csv(research / "cases.csv", usecols=["case_id"]).shape[0])
        loads.append(f"{stage}: {m['load'][0]} -> {m['load'][1]}")
        rows.append(
            {
                "task": f"stages: {stage}, research folder of a world of {n_people:,} people",
                "agency": "",
                "records": cases,
                "wall_s": m["wall_s"],
                "peak_MB": m["peak_mb"]["link"],
                "goal": outcome,
            }
        )
    notes = [
        f"stages world ({families:,} families, seed 9) generated in {gen_s:.0f} s and given "
        "the world's truth crosswalk (not counted); records is the research folder's cases; "
        "each stage in a fresh process, peak_MB its process tree's resident memory; "
        "1-minute load average before and after: " + "; ".join(loads),
    ]
    report = tmp / "stages_release_report" / "synthetic_report.json"
    if report.is_file():
        rep = json.loads(report.read_text(encoding="utf-8"))
        sz, gate = rep["sizes"], rep["gate"]
        failed = [c["name"] for c in gate["checks"] if not c["passed"]]
        sample = (
            f"a sample of about {sz['real_cases']:,} of {sz['all_real_cases']:,} real cases "
            f"(whole families, max_cases {sz['max_cases']:,})"
            if sz["all_real_cases"] > sz["real_cases"]
            else f"all about {sz['real_cases']:,} real cases"
        )
        notes.append(
            f"synthesise trained on {sample}; gate "
            + ("passed" if gate["passed"] else "refused on " + ", ".join(failed))
            + f"; quality {rep['utility']['quality']['score']:.3f} (held-out real "
            f"{rep['utility']['quality_holdout_baseline']['score']:.3f})"
        )
    return rows, notes


def _crosswalk(out: Path) -> pd.DataFrame:
    cw = pd.read_csv(out / "crosswalk.csv", dtype=str, keep_default_na=False)
    return cw.sort_values(["source", "record_id"]).reset_index(drop=True)


def _compare(a: pd.DataFrame, b: pd.DataFrame) -> dict[str, Any]:
    """How two crosswalks (sorted alike) differ: byte-identical? the same person keys? the
    largest difference of match probability and the rows whose text differs."""
    key = ["source", "record_id", "person_key"]
    same_rows = (
        len(a) == len(b) and (a[["source", "record_id"]] == b[["source", "record_id"]]).all().all()
    )
    keys = bool(same_rows and (a[key] == b[key]).all().all())
    out: dict[str, Any] = {"crosswalk_identical": bool(a.equals(b)), "same_person_keys": keys}
    if same_rows:
        pa = pd.to_numeric(a["match_probability"], errors="coerce")
        pb = pd.to_numeric(b["match_probability"], errors="coerce")
        out["max_probability_difference"] = float((pa - pb).abs().max())
        out["rows_differing"] = int((a != b).any(axis=1).sum())
        out["keys_differing"] = int((a["person_key"] != b["person_key"]).sum())
    return out


def spark_part(
    tmp: Path, families: int, local: bool = True, standalone: bool = True
) -> tuple[list[dict[str, Any]], list[str]]:
    from fdac_research.linkage._splink_engine import SPARK_JARO_WINKLER, standalone_cluster
    from fdac_research.world import generate_world

    world = tmp / "spark_world"
    generate_world(world, n_families=families, seed=7)
    trained = link_process(world, tmp / "duck_trained", watch={})
    model = tmp / "duck_trained" / "model.json"
    duck = link_process(world, tmp / "duck", "--model", str(model), watch={})
    cw_duck = _crosswalk(tmp / "duck")
    runs: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("DuckDB, training and linking", trained, {}),
        ("DuckDB, fitted models", duck, {}),
    ]
    notes: list[str] = []
    fitted = ["--backend", "spark", "--model", str(model)]
    if local:
        m = link_process(
            world, tmp / "spark_local", *fitted, "--spark-master", "local[2]", watch={}
        )
        runs.append(
            ("Spark local[2], fitted models", m, _compare(cw_duck, _crosswalk(tmp / "spark_local")))
        )
    if standalone:
        t0 = time.perf_counter()
        with standalone_cluster(workers=2, cores=1, memory="2g") as cluster:
            start_s = time.perf_counter() - t0
            m = link_process(
                world,
                tmp / "spark",
                *fitted,
                "--spark-master",
                cluster.url,
                watch={"cluster": list(cluster.pids.values())},
            )
        label = "Spark standalone (2 workers x 1 core), fitted models"
        runs.append((label, m, _compare(cw_duck, _crosswalk(tmp / "spark"))))
        notes.append(
            f"Spark cluster started in {start_s:.0f} s (not counted); cluster_peak_MB is the "
            "master, the workers and their executors."
        )
    rows = []
    for label, m, same in runs:
        rows.append(
            {
                "task": f"Spark vs DuckDB, {families:,} families: {label}",
                "agency": "all",
                "records": sum(m["n_records"].values()),
                "wall_s": m["wall_s"],
                "peak_MB": m["peak_mb"]["link"],
                "cluster_peak_MB": m["peak_mb"].get("cluster", ""),
                "f1": min(e["f1"] for e in m["links"].values()),
                **same,
            }
        )
    for label, _, same in runs:
        if same and not same["crosswalk_identical"]:
            out = tmp / ("spark_local" if "local" in label else "spark")
            cw_spark = _crosswalk(out)
            if len(cw_duck) == len(cw_spark):
                diff = (cw_duck != cw_spark).any(axis=1).to_numpy()
                both = cw_duck[diff].join(cw_spark[diff], rsuffix="_spark").head(5)
                notes.append(
                    f"{label}: first rows differing (DuckDB, then Spark): "
                    + both.to_json(orient="records")
                )
    notes.append(
        "1-minute load average before and after each run (2 cores: above 2 means shared): "
        + "; ".join(f"{label}: {m['load'][0]} -> {m['load'][1]}" for label, m, _ in runs)
    )
    notes.append(
        "peak_MB of a Spark run is the driver's process tree (Python, its JVM and, locally, "
        "the executors and Python workers); every Spark run uses the fitted models of the "
        "trained DuckDB run, so the crosswalks can be compared exactly (rows_differing: "
        f"goal 0). Jaro-Winkler and Jaro on Spark are the package's `{SPARK_JARO_WINKLER}` "
        "UDF (jellyfish, DuckDB's values), not Splink's commons-text function."
    )
    return rows, notes


_COLUMNS = (
    "task",
    "agency",
    "records",
    "wall_s",
    "peak_MB",
    "spill_MB",
    "precision",
    "recall",
    "f1",
    "goal",
    "cluster_peak_MB",
    "crosswalk_identical",
    "same_person_keys",
    "max_probability_difference",
    "rows_differing",
    "keys_differing",
)


def _previous(part: str) -> tuple[list[dict[str, Any]], list[str], str]:
    """Rows, notes and sizes of ``part`` ("extract" or "spark") in the previous results, to
    keep them when this run skips the part."""
    try:
        prev = json.loads(PREVIOUS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [], [], ""
    prefix = {"extract": "extract", "stages": "stages"}.get(part, "Spark vs DuckDB")
    order = list(_COLUMNS)  # the JSON's keys are sorted: put the table's columns back in order
    rows = [
        dict(sorted(r.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))
        for r in prev.get("rows", [])
        if str(r.get("task", "")).startswith(prefix)
    ]
    if "part_notes" in prev:  # a part the previous results did not have has no notes
        notes = prev["part_notes"].get(part, [])
    else:  # results written before part_notes: tell the notes apart by text
        extract = ("extract world", "precision / recall / F1")
        notes = [
            n
            for n in prev.get("notes", [])
            if not n.startswith(("sizes:", "extract part", "Spark part"))
            and (n.startswith(extract) == (part == "extract"))
        ]
    sizes = prev.get("sizes", {}).get(part, "")
    if not sizes:  # from the sizes note: the part's own variables
        pattern = {
            "extract": r"FDAC_SCALE_PEOPLE=[\d,]*\d, FDAC_SCALE_EXTRACT=[\d,]*\d",
            "stages": r"FDAC_SCALE_STAGES_PEOPLE=[\d,]*\d",
        }.get(part, r"FDAC_SCALE_SPARK_FAMILIES=[\d,]*\d")
        found = [re.search(pattern, n) for n in prev.get("notes", []) if n.startswith("sizes:")]
        sizes = found[0].group(0) if found and found[0] else "not recorded"
    return rows, [str(n) for n in notes], str(sizes)


def run() -> dict[str, Any]:
    # about 2 people in the world per court person: 2,000,000 gives the goal's 1M court people
    n_people = _env_int("FDAC_SCALE_PEOPLE", 2_000_000)
    n_extract = _env_int("FDAC_SCALE_EXTRACT", 10_000_000)
    spark_families = _env_int("FDAC_SCALE_SPARK_FAMILIES", 20_000)
    spark_local = bool(_env_int("FDAC_SCALE_SPARK_LOCAL", 1))
    spark_standalone = bool(_env_int("FDAC_SCALE_SPARK_STANDALONE", 1))
    stages_people = _env_int("FDAC_SCALE_STAGES_PEOPLE", 1_000_000)
    rows: list[dict[str, Any]] = []
    part_notes: dict[str, list[str]] = {"extract": [], "stages": [], "spark": []}
    sizes = {
        "extract": f"FDAC_SCALE_PEOPLE={n_people:,}, FDAC_SCALE_EXTRACT={n_extract:,}",
        "stages": f"FDAC_SCALE_STAGES_PEOPLE={stages_people:,}",
        "spark": f"FDAC_SCALE_SPARK_FAMILIES={spark_families:,}",
    }

    def keep(part: str, why: str) -> None:
        old_rows, old_notes, old_sizes = _previous(part)
        rows.extend(old_rows)
        if old_rows:  # the notes of a part with no rows say only that it was skipped
            part_notes[part] += old_notes
            sizes[part] = old_sizes
            part_notes[part].append(
                f"{part} rows kept from the previous results ({why}); their sizes: {old_sizes}"
            )
        else:
            part_notes[part].append(f"{part} part skipped ({why})")

    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        if n_people and n_extract:
            r, n = extract_part(tmp, n_people, n_extract)
            rows += r
            part_notes["extract"] += n
        else:
            keep("extract", "FDAC_SCALE_PEOPLE or FDAC_SCALE_EXTRACT is 0")
        if stages_people:
            r, n = stages_part(tmp, stages_people)
            rows += r
            part_notes["stages"] += n
        else:
            keep("stages", "FDAC_SCALE_STAGES_PEOPLE is 0")
        if spark_families and (spark_local or spark_standalone):
            if shutil.which("java") is None:
                part_notes["spark"].append("Spark part skipped: Java is not installed")
            else:
                try:
                    r, n = spark_part(tmp, spark_families, spark_local, spark_standalone)
                    rows += r
                    part_notes["spark"] += n
                except Exception as err:  # report it with the extract's figures, do not hide
                    part_notes["spark"].append(f"Spark part failed: {err}")
        else:
            keep("spark", "FDAC_SCALE_SPARK_FAMILIES is 0, or both Spark runs are")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    notes = part_notes["extract"] + part_notes["stages"] + part_notes["spark"]
    notes.append(
        f"sizes: {sizes['extract']}, {sizes['stages']}, {sizes['spark']} (goal sizes "
        "1,000,000 court people x 10,000,000, 1,000,000 and 20,000); timings are on this "
        "machine and depend on its load."
    )
    return {
        "title": "National scale: a national extract, and Spark against DuckDB",
        "rows": rows,
        "notes": notes,
        "part_notes": part_notes,
        "sizes": sizes,
    }


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(run(), indent=2, default=str))
