"""Benchmark: the default synthetic release (CART, default gate) at the sizes of real
evaluations and of the default world.

For each size (150, 400 and 3,000 families) and each of three world seeds, a research
dataset is made as a user would (``generate --families N --seed S`` -> ``truth-crosswalk``
-> ``build --demo-key``) and :func:`fdac_research.synth.synthesise` is run on it (20% of
families held out, nothing written) in a fresh process. Every gate check is recorded with
the release's figure, its threshold and the real held-out split's figure on the same
measure (``GateCheck.holdout``), so the table shows how far a release sits from what real
unseen families score.

``FDAC_BENCH_SYNTH_SIZES`` (comma-separated, e.g. ``150,400``) restricts the sizes run
(3,000-family synthesis takes minutes per world on a 2-core machine).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._util import measure

SIZES = (150, 400, 3000)
SEEDS = (101, 202, 303)
SYNTH_SEED = 1


def _sizes() -> tuple[int, ...]:
    raw = os.environ.get("FDAC_BENCH_SYNTH_SIZES", "").strip()
    if not raw:
        return SIZES
    try:
        sizes = tuple(int(x) for x in raw.split(",") if x.strip())
    except ValueError as err:
        raise ValueError(
            f"FDAC_BENCH_SYNTH_SIZES={raw!r}: expected comma-separated family counts"
        ) from err
    if not sizes or min(sizes) < 20:
        raise ValueError(f"FDAC_BENCH_SYNTH_SIZES={raw!r}: expected family counts >= 20")
    return sizes


def research_world(base: Path, n_families: int, seed: int) -> Path:
    """The research folder of a default-generator world of ``n_families`` (made once)."""
    from fdac_research.governance import build_research, load_key
    from fdac_research.world import generate_world, truth_crosswalk

    root = base / f"n{n_families}_s{seed}"
    if (root / "R").is_dir():
        return root / "R"
    generate_world(root / "W", n_families=n_families, seed=seed)
    truth_crosswalk(root / "W", root / "L")
    key, kind = load_key(demo=True, sources=root / "W")
    build_research(root / "W", root / "L", root / "R", key=key, key_kind=kind)
    return root / "R"


def release_record(research: str, seed: int = SYNTH_SEED) -> dict[str, Any]:
    """Run the default release on ``research`` and return the gate record and timings."""
    from fdac_research.exceptions import ReleaseRefusedError
    from fdac_research.synth import synthesise

    try:
        res = synthesise(research, None, seed=seed)
    except ReleaseRefusedError as err:
        res = err.result  # type: ignore[attr-defined]
    rep = res.report
    return {
        "passed": rep["gate"]["passed"],
        "checks": rep["gate"]["checks"],
        "timings": res.timings,
        "sizes": rep["sizes"],
        "model": rep["model"],
    }


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float):
        return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"
    return str(x)


def run() -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="bench-synth-sizes-"))
    try:
        rows: list[dict[str, Any]] = []
        checks: list[dict[str, Any]] = []
        records: dict[str, Any] = {}
        for n in _sizes():
            for s in SEEDS:
                research = research_world(base, n, s)
                m = measure(release_record, str(research))
                rec = m["result"]
                records[f"{n}/{s}"] = rec
                failed = [c["name"] for c in rec["checks"] if not c["passed"]]
                t = rec["timings"]
                rows.append(
                    {
                        "families": n,
                        "world seed": s,
                        "gate": "released" if rec["passed"] else "refused",
                        "failed checks": ", ".join(failed) or "-",
                        "fit+sample_s": round(t["fit_s"] + t["sample_s"], 1),
                        "evaluate_s": round(t["evaluate_s"], 1),
                        "peak_MB": m["peak_mb"],
                    }
                )
                for c in rec["checks"]:
                    checks.append(
                        {
                            "families": n,
                            "world seed": s,
                            "check": c["name"],
                            "release": _fmt(c["value"]),
                            "threshold": _fmt(c["threshold"]),
                            "real held-out": _fmt(c.get("holdout")),
                            "passed": "yes" if c["passed"] else "NO",
                        }
                    )
        notes = [
            "Worlds: default generator (`generate --families N --seed S`), truth-crosswalk, "
            "`build --demo-key`; `synthesise` with the default model (CART) and gate, seed "
            f"{SYNTH_SEED}, 20% of families held out.",
            "`release` is the release's figure, `real held-out` the same measure for the real "
            "held-out families against the training ones (GateCheck.holdout), `threshold` what "
            "the gate derived from both (see ReleaseGateConfig).",
            "Effect checks: `release` is |z| of the log-OR difference (both SEs), `threshold` "
            "the Bonferroni critical value.",
        ]
        return {
            "title": "Synthetic release by size: released or refused, every gate check",
            "rows": rows,
            "tables": {"Gate checks (release vs real held-out)": checks},
            "notes": notes,
            "records": records,
        }
    finally:
        shutil.rmtree(base, ignore_errors=True)
