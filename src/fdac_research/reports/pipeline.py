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
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdac_research._io import atomic_dir, private_tempdir, sha256_file, write_json
from fdac_research.exceptions import ConfigError, FdacResearchError
from fdac_research.reports._index import write_index
from fdac_research.reports._manifest import build_manifest, hash_tree
from fdac_research.reports._notebooks import execute_notebook, render_html
from fdac_research.truth import is_synthetic, read_truth_links
from fdac_research.validation import check_folder, detect_layout
from fdac_research.world import WORLD_PRESETS, preset_config

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
    families: int | None = None  # None: the preset's (3,000 for the default world)
    preset: str = "default"  # a named world of fdac_research.world.WORLD_PRESETS
    linkage: str = "model"  # "model" runs fdac-research link; "truth" uses the world's truth
    synth_model: str | None = None
    notebooks: Path = field(default_factory=default_notebook_dir)
    key_file: Path | None = None  # passed to the build; never recorded

    def __post_init__(self) -> None:
        problems = []
        if self.linkage not in ("model", "truth"):
            problems.append(f"linkage must be 'model' or 'truth', got {self.linkage!r}")
        if self.families is not None and self.families < 10:
            problems.append(f"families must be >= 10, got {self.families}")
        if self.preset not in WORLD_PRESETS:
            problems.append(
                f"preset must be one of {', '.join(WORLD_PRESETS)}, got {self.preset!r}"
            )
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

    @property
    def n_families(self) -> int:
        """Families of the generated world: ``families``, or the preset's."""
        n = self.families if self.families is not None else preset_config(self.preset).n_families
        return int(n)

    def public(self) -> dict[str, Any]:
        """Parameters for the manifest (paths relative where possible)."""
        return {
            "data": Path(self.data).name if self.data else None,  # no local paths published
            "seed": self.seed,
            "families": self.n_families if self.data is None else None,
            "preset": self.preset if self.data is None else None,
            "linkage": self.linkage,
            "synth_model": self.synth_model,
        }


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the stage gets SIGTERM if the pipeline dies, even by SIGKILL, so a killed
    pipeline never leaves a stage running (and writing) on its own."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _communicate(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """Wait for a stage; if the pipeline is interrupted meanwhile, end the stage first (it
    removes its own temporary folders on SIGTERM) and then re-raise."""
    try:
        return proc.communicate()
    except BaseException:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise


def _run_stage(
    name: str,
    args: list[str],
    stages: list[dict[str, Any]],
    i: int,
    n: int,
    *,
    shown: Callable[[list[str]], list[str]],
    refused_if: Path | None = None,
) -> bool:
    """Run one stage's command; ``False`` when it was a release refused by the gate (its
    report at ``refused_if`` says why), ``True`` on success; any other failure raises.
    ``shown`` turns the arguments into what is printed and recorded (no local paths)."""
    cmd = [sys.executable, "-m", "fdac_research.cli", *args]
    public = ["fdac-research", *shown(args)]
    log.info("stage %d/%d: %s", i, n, name)
    print(f"[{i}/{n}] {name}: {' '.join(public)}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    env = {**os.environ, "FDAC_PROGRESS": os.environ.get("FDAC_PROGRESS", "0")}
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    out, err = _communicate(proc)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        if (
            refused_if is not None
            and proc.returncode == 1
            and refused_if.is_file()
            and "REFUSED" in err
        ):
            print(
                f"      release REFUSED by the gate in {dt:.1f} s (reported in notebook 5)",
                file=sys.stderr,
                flush=True,
            )
            stages.append({"stage": name, "command": public, "outcome": "refused"})
            return False
        tail = "\n".join((err or out).strip().splitlines()[-25:])
        raise StageFailed(
            f"stage '{name}' failed (exit {proc.returncode}); its output, shown here only and "
            f"written nowhere:\n{tail}"
        )
    print(f"      done in {dt:.1f} s", file=sys.stderr, flush=True)
    stages.append({"stage": name, "command": public})
    return True


def _path_shower(roots: dict[str, Path]) -> Callable[[list[str]], list[str]]:
    """Arguments with every path under one of ``roots`` written as ``<root>/relative``:
    a published manifest must not carry a secure environment's folder names."""
    resolved = sorted(
        ((k, Path(v).resolve()) for k, v in roots.items()),
        key=lambda kv: len(kv[1].parts),
        reverse=True,
    )

    def shown(args: list[str]) -> list[str]:
        out = []
        for a in args:
            text = a
            if os.sep in a or a.startswith("."):
                p = Path(a).resolve()
                for label, root in resolved:
                    if p == root or root in p.parents:
                        rel = p.relative_to(root).as_posix()
                        text = f"<{label}>" + ("" if rel == "." else f"/{rel}")
                        break
                else:
                    text = f"<{Path(a).name}>"
            out.append(text)
        return out

    return shown


def _preflight(cfg: PipelineConfig, sources: Path | None) -> None:
    """Fail before minutes of linkage, not after, on what the later stages would refuse."""
    if sources is None:
        return
    problems = []
    if cfg.linkage == "truth":
        links = read_truth_links(sources)
        if links.frame is None:
            problems.append(f"--linkage truth needs a synthetic world's truth: {links.note}")
    has_key = bool(os.environ.get("FDAC_PSEUDONYM_KEY")) or cfg.key_file is not None
    if not has_key and not is_synthetic(sources):
        problems.append(
            f"the build needs a pseudonymisation key for {sources.name} (not a synthetic "
            "world): give --key-file PATH (a file outside any git repository) or set "
            "FDAC_PSEUDONYM_KEY"
        )
    if problems:
        raise ConfigError("pipeline", problems)


def run_pipeline(cfg: PipelineConfig) -> Path:
    """Run the whole flow and write the reports folder; returns its path."""
    layout = None
    if cfg.data is not None:
        # every problem of the folder at once, before anything is written or run (each
        # stage would refuse the folder too, but only after the work before it)
        layout = detect_layout(cfg.data)
        check_folder(cfg.data, layout)
    work = Path(cfg.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    stages: list[dict[str, Any]] = []
    n = 7
    roots = {"work": work, "reports": Path(cfg.out).resolve()}
    if cfg.data is None:
        roots["synthetic"] = Path(cfg.synthetic_dir).resolve()
    else:
        roots["data"] = Path(cfg.data).resolve()
    if cfg.key_file is not None:
        roots["key_file"] = Path(cfg.key_file).resolve()
    shown = _path_shower(roots)

    def stage(name: str, args: list[str], i: int, **kw: Any) -> bool:
        return _run_stage(name, args, stages, i, n, shown=shown, **kw)

    if cfg.data is None:
        sources: Path | None = Path(cfg.synthetic_dir).resolve()
        gen = ["generate", "--out", str(sources), "--preset", cfg.preset]
        if cfg.families is not None:
            gen += ["--families", str(cfg.families)]
        stage("generate", [*gen, "--seed", str(cfg.seed)], 1)
    else:
        sources = Path(cfg.data).resolve() if layout == "sources" else None
    _preflight(cfg, sources)
    linkage = work / "linkage"
    research = work / "research"
    synthetic = work / "synthetic"
    synth_report = work / "synthetic_report"
    disclosure = work / "disclosure"
    if sources is not None:
        if cfg.linkage == "truth":
            stage("link (truth)", ["truth-crosswalk", str(sources), "--out", str(linkage)], 2)
        else:
            stage("link", ["link", str(sources), "--out", str(linkage)], 2)
        build = ["build", str(sources), "--crosswalk", str(linkage), "--out", str(research)]
        if cfg.key_file is not None:
            build += ["--key-file", str(cfg.key_file)]
        elif not os.environ.get("FDAC_PSEUDONYM_KEY") and is_synthetic(sources):
            build.append("--demo-key")  # synthetic data only; the build refuses it otherwise
        stage("build", build, 3)
    else:
        research = Path(cfg.data).resolve()  # type: ignore[arg-type]
        linkage = research
    out = Path(cfg.out).resolve()
    with private_tempdir("fdac-notebooks-") as scratch, atomic_dir(out) as tmp:
        # The reviewer's full risk report names the riskiest key combinations, which would
        # themselves disclose: it stays with the work files; the published review is notebook 4.
        stage("risk", ["risk", str(research), "--out", str(disclosure)], 4)
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
        stage("synthesise", synth, 5, refused_if=synth_report / "synthetic_report.json")
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
        notebooks = {nb: sha256_file(Path(cfg.notebooks) / nb) for nb, _, _ in NOTEBOOKS}
        manifest = build_manifest(
            parameters=cfg.public(),
            inputs=inputs,
            outputs=tmp,
            stages=stages,
            notebooks=notebooks,
        )
        write_json(manifest, tmp / "manifest.json")
    print(f"reports written to {out}", file=sys.stderr, flush=True)
    return out


def _notes(cfg: PipelineConfig, sources: Path | None) -> list[str]:
    if cfg.data is None:
        return [
            f"Synthetic world ({cfg.preset}): {cfg.n_families} families, seed {cfg.seed}. "
            "No real person is described.",
            "The world's planted effects are in data/synthetic/truth/effects.json.",
            "The reviewer's full disclosure-risk report (with the riskiest key combinations) is in "
            "data/work/disclosure/ and is not published; the Disclosure review above shows aggregate measures.",
        ]
    return [f"Data folder: {Path(cfg.data).name}."]
