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
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdac_research._io import atomic_dir, private_tempdir, sha256_file, write_json
from fdac_research._progress import Progress, progress_mode, say
from fdac_research.exceptions import (
    ConfigError,
    ContractError,
    DisclosureError,
    KeyMissingError,
)
from fdac_research.reports._index import write_index
from fdac_research.reports._manifest import build_manifest, hash_tree
from fdac_research.reports._notebooks import execute_notebook, render_html
from fdac_research.reports._stages import INDENT, StageFailed, failure, run_command, show_lines
from fdac_research.truth import is_synthetic, read_truth_links
from fdac_research.validation import check_folder, detect_layout
from fdac_research.world import WORLD_PRESETS, preset_config

__all__ = [
    "NOTEBOOKS",
    "RUN_ORDER",
    "PipelineConfig",
    "StageFailed",
    "run_pipeline",
    "default_notebook_dir",
]

log = logging.getLogger(__name__)

# (notebook file, report title, what it shows)
NOTEBOOKS: tuple[tuple[str, str, str], ...] = (
    (
        "01_cohort_profile.ipynb",
        "Cohort profile",
        "Who goes through FDAC and ordinary care proceedings?",
    ),
    (
        "02_linkage_quality.ipynb",
        "Linkage quality",
        "How well were agency records linked, and could linkage errors change the findings?",
    ),
    (
        "03_outcomes_evaluation.ipynb",
        "Outcomes evaluation",
        "Did more children go home, and more parents stop misusing substances, in FDAC?",
    ),
    (
        "04_disclosure_review.ipynb",
        "Disclosure review",
        "Could the research data or the published tables identify a family?",
    ),
    (
        "05_synthetic_release.ipynb",
        "Synthetic release",
        "Was a synthetic copy released, how useful is it, and how private?",
    ),
)

#: The order the notebooks run in: the disclosure review last, so that its list of output
#: checks holds every table the run publishes (the other reports' and its own), whatever an
#: earlier run left on disk (the tables folder starts empty).
_REVIEW = "04_disclosure_review.ipynb"
RUN_ORDER: tuple[str, ...] = (
    *(nb for nb, _, _ in NOTEBOOKS if nb != _REVIEW),
    _REVIEW,
)


# Written into the work folder: what it holds, and that none of it leaves the controller.
WORK_NOTICE = """\
CONTROLLER-SIDE FILES: DO NOT COPY OUT OF THE SECURE ENVIRONMENT.

This folder holds the intermediate files of `fdac-research pipeline`:
  linkage/      the crosswalk, scored pairs and clerical review sample: record ids, and in
                the review sample names, dates of birth and postcodes side by side
  research/     the pseudonymised research dataset (internal: external recipients get
                extracts, see `fdac-research extract`)
  disclosure/   the reviewer's full risk report, which names the riskiest key combinations
  synthetic/, synthetic_report/   the synthetic release and its reports, before export review
  sources_manifest.json           SHA-256 of every identifiable source file
What may leave, after output checking, is described in docs/tre.md of fdac-research.
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
    labels: Path | None = None  # a reviewed clerical_review.csv for the link stage

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
            "labels": self.labels is not None,  # the file itself holds record ids
            "synth_model": self.synth_model,
        }


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
    public = ["fdac-research", *shown(args)]
    run = run_command(
        f"[{i}/{n}] {name}", " ".join(public), [sys.executable, "-m", "fdac_research.cli", *args]
    )
    if run.returncode == 0:
        stages.append({"stage": name, "command": public})
        return True
    if (
        refused_if is not None
        and run.returncode == 1
        and refused_if.is_file()
        and "REFUSED" in run.stderr
    ):
        show_lines(run.stderr.splitlines())  # the gate's reasons
        say(f"{INDENT}release REFUSED by the gate (reported in notebook 5)")
        stages.append({"stage": name, "command": public, "outcome": "refused"})
        return False
    raise failure(name, run)


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


def _preflight(cfg: PipelineConfig, layout: str | None) -> None:
    """Refuse, before any stage runs or anything is written, what a later stage would refuse
    after minutes of work: a missing, weak or misplaced key (the build's own checks), truth
    linkage without truth, labels that cannot be read. ``layout`` is the data folder's
    (``None``: the synthetic world is generated)."""
    builds = cfg.data is None or layout == "sources"
    sources = None if cfg.data is None else Path(cfg.data)
    problems = []
    if cfg.linkage == "truth" and sources is not None and builds:
        links = read_truth_links(sources)
        if links.frame is None:
            problems.append(f"--linkage truth needs a synthetic world's truth: {links.note}")
    if builds:
        problems += _key_problems(cfg, sources)
    if cfg.labels is not None:
        problems += _label_problems(cfg, builds)
    if problems:
        raise ConfigError("pipeline", problems)


def _key_problems(cfg: PipelineConfig, sources: Path | None) -> list[str]:
    """What the build would say about the key, said now (``sources`` ``None``: a world
    about to be generated, which is synthetic)."""
    from fdac_research.governance._keys import KEY_ENV, load_key

    if cfg.key_file is None and not os.environ.get(KEY_ENV):
        if sources is None or is_synthetic(sources):
            return []  # the build uses the public demo key, accepted for synthetic worlds only
        return [
            f"the build needs a pseudonymisation key for {sources.name} (not a synthetic "
            f"world: it has no truth/ folder): give --key-file PATH (a file outside any git "
            f"work tree, for example ~/.fdac/pseudonym.key, chmod 600; with make: KEY_FILE=PATH) "
            f"or set {KEY_ENV}; "
            'make a key once with `python -c "import secrets; print(secrets.token_hex(32))"` '
            "and keep it with the controller (the same key gives the same pseudonyms in a "
            "later wave)"
        ]
    try:
        load_key(cfg.key_file)
    except ConfigError as err:
        return list(err.problems)
    except KeyMissingError as err:  # pragma: no cover - a key was given above
        return [str(err)]
    return []


def _label_problems(cfg: PipelineConfig, builds: bool) -> list[str]:
    """A reviewed clerical sample for the link stage: present, readable, every pair labelled."""
    labels = Path(cfg.labels)  # type: ignore[arg-type]
    if not builds or cfg.linkage == "truth":
        return [
            "--labels is read by the link stage, which runs only on a sources folder with "
            "--linkage model"
        ]
    if not labels.is_file():
        return [
            f"labels file {labels} not found: pass the clerical_review.csv the link stage "
            "wrote to the work folder's linkage/, with is_match filled in (1 same person, "
            "0 different people) on every row"
        ]
    from fdac_research.linkage import read_clerical_labels

    try:
        read_clerical_labels(labels)
    except ContractError as err:
        return [f"labels file {labels}: {p}" for p in err.problems]
    return []


def run_pipeline(cfg: PipelineConfig) -> Path:
    """Run the whole flow and write the reports folder; returns its path."""
    layout = None if cfg.data is None else detect_layout(cfg.data)
    _preflight(cfg, layout)
    if cfg.data is not None:
        # every problem of the folder at once, before anything is written or run (each
        # stage would refuse the folder too, but only after the work before it)
        check_folder(cfg.data, layout)
    work = Path(cfg.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    (work / "README.txt").write_text(WORK_NOTICE, encoding="utf-8")
    stages: list[dict[str, Any]] = []
    n = 7
    roots = {"work": work, "reports": Path(cfg.out).resolve()}
    if cfg.data is None:
        roots["synthetic"] = Path(cfg.synthetic_dir).resolve()
    else:
        roots["data"] = Path(cfg.data).resolve()
    if cfg.key_file is not None:
        roots["key_file"] = Path(cfg.key_file).resolve()
    if cfg.labels is not None:
        roots["labels"] = Path(cfg.labels).resolve()
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
    linkage = work / "linkage"
    research = work / "research"
    synthetic = work / "synthetic"
    synth_report = work / "synthetic_report"
    disclosure = work / "disclosure"
    if sources is not None:
        if cfg.linkage == "truth":
            stage("link (truth)", ["truth-crosswalk", str(sources), "--out", str(linkage)], 2)
            from fdac_research.linkage import write_controller_notice

            write_controller_notice(linkage)
        else:
            link = ["link", str(sources), "--out", str(linkage)]
            if cfg.labels is not None:
                link += ["--labels", str(Path(cfg.labels).resolve())]
            stage("link", link, 2)
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
        _run_notebooks(f"[6/{n}] notebooks", cfg, params, Path(scratch), tmp)
        stages.append({"stage": "notebooks", "notebooks": list(RUN_ORDER)})
        say(f"[7/{n}] index and manifest")
        published = sorted(p.relative_to(tmp).as_posix() for p in tables.rglob("*.csv"))
        _check_review_lists_every_table(tables)
        reports = [(nb.replace(".ipynb", ".html"), t, d) for nb, t, d in NOTEBOOKS]
        from fdac_research.dataset import code_version
        from fdac_research.reports.findings import headline_findings

        refused = any(s.get("outcome") == "refused" for s in stages)
        write_index(
            tmp,
            reports,
            published,
            _notes(cfg, sources),
            findings=headline_findings(tables, released=not refused),
            provenance=_provenance(cfg, code_version()),
        )
        old_bench = out / "benchmarks"
        if old_bench.is_dir():
            shutil.copytree(old_bench, tmp / "benchmarks")
        # Hashes of the identifiable sources stay with the controller-side work files: the
        # published manifest names only the pseudonymised research inputs.
        inputs = {"research": research}
        if sources is not None:
            private = {"sources": hash_tree(sources)}
            if cfg.labels is not None:
                private["labels"] = {Path(cfg.labels).name: sha256_file(Path(cfg.labels))}
            write_json(private, work / "sources_manifest.json")
        notebooks = {nb: sha256_file(Path(cfg.notebooks) / nb) for nb, _, _ in NOTEBOOKS}
        manifest = build_manifest(
            parameters=cfg.public(),
            inputs=inputs,
            outputs=tmp,
            stages=stages,
            notebooks=notebooks,
        )
        write_json(manifest, tmp / "manifest.json")
    say(f"reports written to {out}")
    return out


def _run_notebooks(
    label: str, cfg: PipelineConfig, params: dict[str, Any], executed: Path, site: Path
) -> None:
    """Execute and render every notebook: on a terminal a bar over the notebooks and one
    over the cells of each, then one line; in a log a line per notebook."""
    bar = progress_mode() == "bar"
    t0 = time.perf_counter()
    if not bar:
        say(label)
    titles = {nb: title for nb, title, _ in NOTEBOOKS}
    with Progress(label, len(NOTEBOOKS), depth=0, plain=False, leave=False) as nbs:
        for nb_name in RUN_ORDER:
            title = titles[nb_name]
            nbs.set_status(nb_name.removesuffix(".ipynb"))
            t1 = time.perf_counter()
            cells: dict[str, Any] | bool = False
            if bar:
                cells = {"file": sys.stderr, "position": 1, "leave": False, "desc": "cells"}
            nb = execute_notebook(
                Path(cfg.notebooks) / nb_name,
                executed / nb_name,
                params,
                cwd=Path(cfg.notebooks),
                progress_bar=cells,
            )
            render_html(nb, site / nb_name.replace(".ipynb", ".html"), title=title)
            nbs.update()
            if not bar:
                say(f"{INDENT}{nb_name} in {time.perf_counter() - t1:.1f} s")
    if bar:
        say(f"{label}: {len(NOTEBOOKS)} run and rendered ({time.perf_counter() - t0:.1f} s)")


def _check_review_lists_every_table(tables: Path) -> None:
    """The disclosure review (run last) must list the output check of every published table
    but its own list; anything else is a notebook published after it, or a table published
    without a check."""
    listed_path = tables / "disclosure_output_checks.csv"
    if not listed_path.is_file():
        raise DisclosureError(
            f"tables/{listed_path.name}: the disclosure review did not publish its list of "
            "output checks (expected from notebook 04_disclosure_review)"
        )
    import pandas as pd

    listed = set(pd.read_csv(listed_path, dtype=str)["published table"])
    on_disk = {p.name for p in tables.glob("*.csv")} - {listed_path.name}
    missing, extra = sorted(on_disk - listed), sorted(listed - on_disk)
    if missing or extra:
        raise DisclosureError(
            f"tables/{listed_path.name}, column 'published table': expected every published "
            f"table but its own; not listed: {missing or 'none'}; listed but not published: "
            f"{extra or 'none'}"
        )


def _provenance(cfg: PipelineConfig, version: str) -> list[str]:
    """Where the published figures come from, as the manifest records it (no local paths,
    no dates: the same run gives the same page)."""
    p = cfg.public()
    kind = "Synthetic data" if cfg.data is None else f"Data folder {p['data']}"
    linkage = (
        "linkage taken from the synthetic world's truth"
        if p["linkage"] == "truth"
        else "probabilistic linkage (Fellegi-Sunter)"
    )
    return [
        f"{kind}; {linkage}; seed {p['seed']}.",
        f"Made by fdac-research {version} (manifest.json lists every package version).",
    ]


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
