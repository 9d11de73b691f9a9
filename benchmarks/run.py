"""Run benchmarks: ``python -m benchmarks.run [name ...]``.

Each ``benchmarks/bench_<name>.py`` exposes ``run() -> dict`` returning
``{"title": str, "rows": [dict, ...], "notes": [str, ...]}`` (and optionally ``"tables":
{heading: [dict, ...]}`` for further tables); rows are printed and written as
``reports/benchmarks/<name>.json`` and ``<name>.md`` (Markdown tables). Benchmarks report
figures (and ratios against the named peer measured in the same run); they do not assert on
wall-clock time.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "reports" / "benchmarks"


def _table(rows: list[dict]) -> str:
    if not rows:
        return "(no rows)\n"
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    available = sorted(p.stem[len("bench_") :] for p in here.glob("bench_*.py"))
    names = argv or available
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {available}", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names:
        print(f"== benchmark {name}", flush=True)
        mod = importlib.import_module(f"benchmarks.bench_{name}")
        res = mod.run()
        res["machine"] = {"python": platform.python_version(), "cpus": __import__("os").cpu_count()}
        (OUT / f"{name}.json").write_text(
            json.dumps(res, indent=2, sort_keys=True, default=str) + "\n"
        )
        md = f"# {res.get('title', name)}\n\n" + _table(res.get("rows", []))
        for heading, rows in res.get("tables", {}).items():
            md += f"\n## {heading}\n\n" + _table(rows)
        for note in res.get("notes", []):
            md += f"\n- {note}"
        (OUT / f"{name}.md").write_text(md + "\n")
        print(md, flush=True)
    index = "# Benchmarks\n\n" + "\n".join(
        f"- [{p.stem}]({p.name})" for p in sorted(OUT.glob("*.md")) if p.name != "README.md"
    )
    (OUT / "README.md").write_text(index + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
