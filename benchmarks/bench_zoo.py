"""Benchmark: every world of the world zoo through ``validate`` and the whole pipeline.

For each zoo world (data the package did not make in every way the contract allows, and two
folders that break it): whether ``validate`` accepts it (and the first problem when it does
not), the notes and extra columns it reports, whether ``fdac-research pipeline`` finishes, how
long it takes, whether the synthetic release passed its gate, and what each report *says* it
had to skip or do without, read from the published HTML as a reader would read it.

Peer: the package's own default world at the same size, through the same pipeline, so the
zoo's figures can be read against what our own world gives.

Worlds with truth in the documented layout are linked with their truth (``--linkage
truth``); the others (no truth, or truth in another layout) with the probabilistic model and
a throwaway key, as real data would be.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from fdac_research.exceptions import FdacResearchError
from fdac_research.reports import PipelineConfig, run_pipeline
from fdac_research.truth import read_truth_links
from fdac_research.validation import validate_folder
from fdac_research.world import ZOO_WORLDS, WorldConfig, generate_world, make_zoo_world

SEED = 5
#: A throwaway key for worlds without usable truth (they stand in for real data).
_KEY = "bench-zoo-key-not-a-secret-0123456789abcdef"

#: Sentences a report uses to say it did without something.
_SAID = re.compile(
    r"not supplied|not recorded for anyone|not known|no truth|documented layout|"
    r"REFUSED|not in the package.s|could not be|Unknown region|cannot be simulated|Not estimated",
)


def _text(page: Path) -> str:
    t = page.read_text(encoding="utf-8")
    t = re.sub(r"<style.*?</style>|<script.*?</script>", "", t, flags=re.S)
    t = re.sub(r"</(li|p|h\d|tr)>", "\n", t)
    return html.unescape(re.sub(r"<[^>]+>", " ", t))


def what_reports_say(reports: Path) -> dict[str, list[str]]:
    """Per report, the sentences (list items, paragraphs) that say it skipped or lacked
    something, whitespace collapsed, each once."""
    out: dict[str, list[str]] = {}
    for page in sorted(reports.glob("0*.html")):
        seen: list[str] = []
        for line in _text(page).split("\n"):
            line = " ".join(line.split())
            if _SAID.search(line) and line not in seen:
                seen.append(line[:240])
        out[page.stem] = seen
    return out


def _linkage(world: Path) -> str:
    return "truth" if read_truth_links(world).frame is not None else "model"


def _run(world: Path, root: Path) -> dict[str, Any]:
    report = validate_folder(world)
    row: dict[str, Any] = {
        "validate": "accepted" if report.ok else "rejected",
        "first_problem": str(report.problems[0]) if report.problems else "",
        "notes": len(report.notes),
        "files_with_extra_columns": len(report.extra_columns),
    }
    linkage = _linkage(world)
    cfg = PipelineConfig(
        out=root / "reports", work=root / "work", data=world, seed=SEED, linkage=linkage
    )
    t0 = time.perf_counter()
    try:
        reports = run_pipeline(cfg)
    except FdacResearchError as err:
        # the world's temporary folder is named WORLD: no local path in a published table
        lines = [ln.strip() for ln in str(err).replace(str(world), "WORLD").splitlines()]
        row.update(pipeline="refused: " + " ".join(lines[:2])[:240], linkage=linkage)
        return row
    row["linkage"] = linkage
    row["pipeline"] = "finished"
    row["pipeline_wall_s"] = round(time.perf_counter() - t0, 1)
    synth = (reports / "05_synthetic_release.html").read_text(encoding="utf-8")
    row["release"] = "refused" if "Release gate: REFUSED" in synth else "released"
    row["tables_published"] = len(list((reports / "tables").glob("*.csv")))
    row["said"] = what_reports_say(reports)
    return row


def run() -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    saved = os.environ.get("FDAC_PSEUDONYM_KEY")
    os.environ["FDAC_PSEUDONYM_KEY"] = _KEY
    try:
        for name, spec in ZOO_WORLDS.items():
            root = Path(tempfile.mkdtemp(prefix=f"bench-zoo-{name}-"))
            try:
                made = make_zoo_world(name, root / "world", seed=SEED)
                print(f"zoo world {name}: {made['families']} families", flush=True)
                row = {"world": name, "families": made["families"], "expect": spec.expect}
                row.update(_run(root / "world", root / "run"))
                rows.append(row)
            finally:
                shutil.rmtree(root, ignore_errors=True)
        root = Path(tempfile.mkdtemp(prefix="bench-zoo-default-"))
        try:
            generate_world(root / "world", WorldConfig(n_families=150, seed=SEED))
            row = {"world": "default world (peer)", "families": 150, "expect": "valid"}
            row.update(_run(root / "world", root / "run"))
            rows.append(row)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    finally:
        if saved is None:
            os.environ.pop("FDAC_PSEUDONYM_KEY", None)
        else:
            os.environ["FDAC_PSEUDONYM_KEY"] = saved
    said = {r["world"]: r.pop("said", {}) for r in rows}
    notes = [
        "validate then `fdac-research pipeline --data WORLD` per zoo world (seed "
        f"{SEED}); `expect` is what the contract says validate must do.",
        "What each report said it skipped or lacked (sentences read from the published HTML):",
    ]
    for world, pages in said.items():
        for page, lines in pages.items():
            for line in lines:
                notes.append(f"{world} / {page}: {line}")
    return {"title": "World zoo: validate and the whole pipeline", "rows": rows, "notes": notes}
