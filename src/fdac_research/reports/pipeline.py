"""The whole flow, from sources to published reports.

generate (when no data is given) → link → build → risk → synthesise → notebooks → index and
manifest. Each stage runs its ``fdac-research`` command in a child process (the commands are
the stages' public interface, and a child process keeps memory bounded); notebooks run with
papermill and are rendered with nbconvert. Reports are written to a temporary folder and
moved into place only when everything succeeded.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdac_research._io import atomic_dir, write_json
from fdac_research.exceptions import ConfigError, FdacResearchError
from fdac_research.reports._index import write_index
from fdac_research.reports._manifest import build_manifest, hash_tree
from fdac_research.reports._notebooks import execute_notebook, render_html
from fdac_research.validation import detect_layout

__all__ = ["NOTEBOOKS", "PipelineConfig", "StageFailed", "run_pipeline", "default_notebook_dir"]

log = logging.getLogger(__name__)

# (notebook file, report title, what it shows)
NOTEBOOKS: tuple[tuple[str, str, str], ...] = (
    (
        "01_cohort_profile.ipynb",
        "Cohort profile",
        "What kinds of cases go through FDAC and ordinary proceedings.",
    ),
    (
        "02_linkage_quality.ipynb",
        "Linkage quality",
        "Coverage and precision/recall of the agency linkage, and what linkage errors could do.",
    ),
    (
        "03_outcomes_evaluation.ipynb",
        "Outcomes evaluation",
        "FDAC vs comparison: cessation, reunification, orders, return to court.",
    ),
    (
        "04_disclosure_review.ipynb",
        "Disclosure review",
        "Re-identification risk of the research dataset and of every published table.",
    ),
    (
        "05_synthetic_release.ipynb",
        "Synthetic release",
        "Utility and privacy of the synthetic copy of the research dataset.",
    ),
)


class StageFailed(FdacResearchError, RuntimeError):
    """A pipeline stage failed; nothing was written to the reports folder.

    The message ends with the last lines the stage's command wrote to stderr. On real data
    they can quote a bad cell (a validation message names the value, which may be a name),
    so the text lives only in this exception, for the researcher's terminal: the pipeline
    writes no log file, the manifest records only the command of each stage, and the
    reports folder is left exactly as it was.
    """


def default_notebook_dir() -> Path:
    """``notebooks/`` of the checkout this package is installed from."""
    return Path(__file__).resolve().parents[3] / "notebooks"


@dataclass(frozen=True)
class PipelineConfig:
    """Parameters of one run of the pipeline (all recorded in the manifest, no secrets)."""

    out: Path = Path("reports")
    work: Path = Path("data/work")
    data: Path | None = None
    synthetic_dir: Path = Path("data/synthetic")
    seed: int = 20261121
    families: int = 3000
    linkage: str = "model"  # "model" runs fdac-research link; "truth" uses the world's truth
    synth_model: str | None = None
    notebooks: Path = field(default_factory=default_notebook_dir)

    def __post_init__(self) -> None:
        problems = []
        if self.linkage not in ("model", "truth"):
            problems.append(f"linkage must be 'model' or 'truth', got {self.linkage!r}")
        if self.families < 10:
            problems.append(f"families must be >= 10, got {self.families}")
        if not Path(self.notebooks).is_dir():
            problems.append(f"notebook folder {self.notebooks} does not exist")
        out = Path(self.out).resolve()
        inputs = {"work": self.work, "synthetic_dir": self.synthetic_dir, "data": self.data}
        for what, folder in inputs.items():
            # the reports folder is replaced wholesale and published: no stage's files in it
            if folder is not None and Path(folder).resolve().is_relative_to(out):
                problems.append(
                    f"{what} folder {folder} must not be inside the reports folder {self.out}"
                )
        if problems:
            raise ConfigError("PipelineConfig", problems)

    def public(self) -> dict[str, Any]:
        """Parameters for the manifest (paths relative where possible)."""
        return {
            "data": Path(self.data).name if self.data else None,  # no local paths published
            "seed": self.seed,
            "families": self.families if self.data is None else None,
            "linkage": self.linkage,
            "synth_model": self.synth_model,
        }


def _run_stage(
    name: str,
    args: list[str],
    stages: list[dict[str, Any]],
    i: int,
    n: int,
    *,
    refused_if: Path | None = None,
) -> bool:
    """Run one stage's command; ``False`` when it was a release refused by the gate (its
    report at ``refused_if`` says why), ``True`` on success; any other failure raises."""
    cmd = [sys.executable, "-m", "fdac_research.cli", *args]
    log.info("stage %d/%d: %s", i, n, name)
    print(f"[{i}/{n}] {name}: fdac-research {' '.join(args)}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    env = {**os.environ, "FDAC_PROGRESS": os.environ.get("FDAC_PROGRESS", "0")}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        if (
            refused_if is not None
            and proc.returncode == 1
            and refused_if.is_file()
            and "REFUSED" in proc.stderr
        ):
            print(
                f"      release REFUSED by the gate in {dt:.1f} s (reported in notebook 5)",
                file=sys.stderr,
                flush=True,
            )
            stages.append(
                {"stage": name, "command": ["fdac-research", *args], "outcome": "refused"}
            )
            return False
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-25:])
        raise StageFailed(
            f"stage '{name}' failed (exit {proc.returncode}); its output, shown here only and "
            f"written nowhere:\n{tail}"
        )
    print(f"      done in {dt:.1f} s", file=sys.stderr, flush=True)
    stages.append({"stage": name, "command": ["fdac-research", *args]})
    return True


def run_pipeline(cfg: PipelineConfig) -> Path:
    """Run the whole flow and write the reports folder; returns its path."""
    work = Path(cfg.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    stages: list[dict[str, Any]] = []
    n = 7
    if cfg.data is None:
        sources: Path | None = Path(cfg.synthetic_dir).resolve()
        _run_stage(
            "generate",
            [
                "generate",
                "--out",
                str(sources),
                "--families",
                str(cfg.families),
                "--seed",
                str(cfg.seed),
            ],
            stages,
            1,
            n,
        )
        layout = "sources"
    else:
        layout = detect_layout(cfg.data)
        sources = Path(cfg.data).resolve() if layout == "sources" else None
    linkage = work / "linkage"
    research = work / "research"
    synthetic = work / "synthetic"
    synth_report = work / "synthetic_report"
    disclosure = work / "disclosure"
    if sources is not None:
        if cfg.linkage == "truth":
            _run_stage(
                "link (truth)",
                ["truth-crosswalk", str(sources), "--out", str(linkage)],
                stages,
                2,
                n,
            )
        else:
            _run_stage("link", ["link", str(sources), "--out", str(linkage)], stages, 2, n)
        build = ["build", str(sources), "--crosswalk", str(linkage), "--out", str(research)]
        if (
            not os.environ.get("FDAC_PSEUDONYM_KEY")
            and (sources / "truth" / "effects.json").is_file()
        ):
            build.append("--demo-key")  # synthetic data only; the build refuses it otherwise
        _run_stage("build", build, stages, 3, n)
    else:
        research = Path(cfg.data).resolve()  # type: ignore[arg-type]
        linkage = research
    out = Path(cfg.out).resolve()
    with tempfile.TemporaryDirectory(prefix="fdac-notebooks-") as scratch, atomic_dir(out) as tmp:
        # The reviewer's full risk report names the riskiest key combinations, which would
        # themselves disclose: it stays with the work files; the published review is notebook 4.
        _run_stage("risk", ["risk", str(research), "--out", str(disclosure)], stages, 4, n)
        # A stale release from an earlier run must not stand in for a refused one.
        shutil.rmtree(synthetic, ignore_errors=True)
        shutil.rmtree(synth_report, ignore_errors=True)
        synth = [
            "synthesise",
            str(research),
            "--out",
            str(synthetic),
            "--seed",
            str(cfg.seed),
            "--report-dir",
            str(synth_report),
        ]
        if cfg.synth_model:
            synth += ["--model", cfg.synth_model]
        _run_stage(
            "synthesise", synth, stages, 5, n, refused_if=synth_report / "synthetic_report.json"
        )
        print(f"[6/{n}] notebooks", file=sys.stderr, flush=True)
        tables = tmp / "tables"
        tables.mkdir()
        params = {
            "sources_dir": str(sources) if sources else "",
            "linkage_dir": str(linkage),
            "research_dir": str(research),
            "synthetic_dir": str(synth_report),
            "disclosure_dir": str(disclosure),
            "tables_dir": str(tables),
            "seed": cfg.seed,
        }
        executed = Path(scratch)
        for nb_name, title, _ in NOTEBOOKS:
            t0 = time.perf_counter()
            nb = execute_notebook(
                Path(cfg.notebooks) / nb_name,
                executed / nb_name,
                params,
                cwd=Path(cfg.notebooks),
            )
            render_html(nb, tmp / nb_name.replace(".ipynb", ".html"), title=title)
            print(
                f"      {nb_name} in {time.perf_counter() - t0:.1f} s",
                file=sys.stderr,
                flush=True,
            )
        stages.append({"stage": "notebooks", "notebooks": [nb for nb, _, _ in NOTEBOOKS]})
        print(f"[7/{n}] index and manifest", file=sys.stderr, flush=True)
        published = sorted(p.relative_to(tmp).as_posix() for p in tables.rglob("*.csv"))
        reports = [(nb.replace(".ipynb", ".html"), t, d) for nb, t, d in NOTEBOOKS]
        write_index(tmp, reports, published, _notes(cfg, sources))
        old_bench = out / "benchmarks"
        if old_bench.is_dir():
            shutil.copytree(old_bench, tmp / "benchmarks")
        # Hashes of the identifiable sources stay with the controller-side work files: the
        # published manifest names only the pseudonymised research inputs.
        inputs = {"research": research}
        if sources is not None:
            write_json({"sources": hash_tree(sources)}, work / "sources_manifest.json")
        manifest = build_manifest(
            parameters=cfg.public(), inputs=inputs, outputs=tmp, stages=stages
        )
        write_json(manifest, tmp / "manifest.json")
    print(f"reports written to {out}", file=sys.stderr, flush=True)
    return out


def _notes(cfg: PipelineConfig, sources: Path | None) -> list[str]:
    if cfg.data is None:
        return [
            f"Synthetic world: {cfg.families} families, seed {cfg.seed}. No real person is described.",
            "The world's planted effects are in data/synthetic/truth/effects.json.",
            "The reviewer's full disclosure-risk report (with the riskiest key combinations) is in "
            "data/work/disclosure/ and is not published; the Disclosure review above shows aggregate measures.",
        ]
    return [f"Data folder: {Path(cfg.data).name}."]
