"""Benchmark: generating a 1,000,000-person synthetic world (court records plus agency
extracts) on this machine: wall time and peak memory. Goal: under 2 minutes and 4 GB."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._util import measure
from fdac_research.world import WorldConfig, generate_world

# Court people per family is about 3.24 and non-case people match them one for one, so
# 154,600 families give about a million distinct people.
SIZES = {"default (3,000 families)": 3000, "1M people": 154_600}


def _run(n_families: int) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="bench-world-")) / "w"
    try:
        s = generate_world(out, WorldConfig(n_families=n_families, seed=1))
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        s.pop("effects")
        s["bytes_written"] = size
        return s
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def run() -> dict[str, Any]:
    rows = []
    for label, n in SIZES.items():
        load_before = os.getloadavg()[0]
        m = measure(_run, n)
        s = m["result"]
        rows.append(
            {
                "world": label,
                "families": n,
                "people": s["n_people"],
                "agency_records": sum(s["n_agency_records"].values()),
                "hearings": s["n_hearings"],
                "MB_written": round(s["bytes_written"] / 1e6, 1),
                "wall_s": m["wall_s"],
                "peak_MB": m["peak_mb"],
                "goal": "< 120 s, < 4096 MB" if n > 10000 else "",
                "load_before_after": f"{load_before:.1f}/{os.getloadavg()[0]:.1f}",
            }
        )
    return {
        "title": "World generation: wall time and peak memory",
        "rows": rows,
        "notes": [
            "people = court people + people in agency extracts who are in no case.",
            "Peak memory is the benchmark process's peak resident set size (includes the interpreter).",
            "load_before_after: 1-minute load average before and after each run (2 cores: above "
            "2 means the machine was shared and wall times are longer than on a quiet one).",
        ],
    }
