"""Benchmark: building the pseudonymised research dataset (governance) from a linked world,
at the default size and at about a million people: wall time and peak memory.

Peer: ``dataset.load_sources`` on the same folder (reading and validating the sources), the
floor any build must pay; the build's ratio to it shows what pseudonymisation, opt-outs,
crosswalk checks, agency joins and the atomic write add. A second peer row compares keyed
pseudonyms (HMAC-SHA256) with unkeyed SHA-256 over a million references.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._util import measure
from fdac_research.dataset import load_sources
from fdac_research.governance import Pseudonymiser, build_research
from fdac_research.world import WorldConfig, generate_world, truth_crosswalk

# About 3.24 court people per family plus as many non-case people: 154,600 families give
# about a million people (as in bench_world).
SIZES = {"default (3,000 families)": 3000, "1M people": 154_600}
_KEY = b"benchmark key, not a secret 0123456789"


def _build(src: str, link: str, out: str) -> dict[str, int]:
    r = build_research(src, link, out, key=_KEY)
    return {"cases": r.n_cases, "adults": r.n_adults, "children": r.n_children}


def _load(src: str) -> int:
    return len(load_sources(src).court_people)


def _hashes(n: int) -> dict[str, float]:
    refs = [f"CP{i:09d}" for i in range(n)]
    t0 = time.perf_counter()
    Pseudonymiser(_KEY).pseudonyms("person", refs)
    keyed = time.perf_counter() - t0
    t0 = time.perf_counter()
    [hashlib.sha256(f"person|{r}".encode()).hexdigest()[:16] for r in refs]
    return {"hmac_s": keyed, "sha256_s": time.perf_counter() - t0}


def run() -> dict[str, Any]:
    rows = []
    for label, n in SIZES.items():
        root = Path(tempfile.mkdtemp(prefix="bench-governance-"))
        try:
            src, link = root / "sources", root / "link"
            generate_world(src, WorldConfig(n_families=n, seed=1))
            truth_crosswalk(src, link)
            b = measure(_build, str(src), str(link), str(root / "research"))
            peer = measure(_load, str(src))
            counts = b["result"]
            rows.append(
                {
                    "world": label,
                    "families": n,
                    "court_people": peer["result"],
                    "research_rows": counts["cases"] + counts["adults"] + counts["children"],
                    "build_wall_s": b["wall_s"],
                    "build_peak_MB": b["peak_mb"],
                    "load_sources_wall_s (peer)": peer["wall_s"],
                    "load_sources_peak_MB (peer)": peer["peak_mb"],
                    "build / load_sources": round(b["wall_s"] / peer["wall_s"], 2),
                }
            )
        finally:
            shutil.rmtree(root, ignore_errors=True)
    h = measure(_hashes, 1_000_000)["result"]
    rows.append(
        {
            "world": "1,000,000 references: HMAC-SHA256 vs SHA-256 (peer)",
            "build_wall_s": round(h["hmac_s"], 3),
            "load_sources_wall_s (peer)": round(h["sha256_s"], 3),
            "build / load_sources": round(h["hmac_s"] / h["sha256_s"], 2),
        }
    )
    return {
        "title": "Governance build: wall time and peak memory against loading the sources",
        "rows": rows,
        "notes": [
            "build = fdac_research.governance.build_research (validates sources and crosswalk, "
            "pseudonymises, applies opt-outs, joins agency attributes, writes atomically with "
            "a manifest and validates the output).",
            "Peer load_sources reads and validates the same sources folder; the build includes "
            "one such load.",
            "Last row: keyed pseudonyms against unkeyed SHA-256 (what the key costs); the "
            "columns are reused for those two timings.",
        ],
    }
