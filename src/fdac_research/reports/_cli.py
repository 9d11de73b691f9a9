"""``fdac-research pipeline``: the whole flow into ``reports/``."""

from __future__ import annotations

import argparse
from pathlib import Path


def _pipeline(args: argparse.Namespace) -> int:
    # imported here: the notebook machinery (nbformat, papermill) takes seconds to import,
    # and every other command, each stage the pipeline starts among them, would pay for it
    from fdac_research.reports.pipeline import PipelineConfig, run_pipeline

    cfg = PipelineConfig(
        out=Path(args.out),
        work=Path(args.work),
        data=Path(args.data) if args.data else None,
        synthetic_dir=Path(args.synthetic_dir),
        seed=args.seed,
        families=args.families,
        preset=args.preset,
        linkage=args.linkage,
        synth_model=args.synth_model,
        key_file=Path(args.key_file) if args.key_file else None,
        labels=Path(args.labels) if args.labels else None,
        **({"notebooks": Path(args.notebooks)} if args.notebooks else {}),
    )
    run_pipeline(cfg)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pipeline",
        help="generate/link/build/risk/synthesise, then run every notebook into reports/",
        description=(
            "The whole flow into the reports folder: generate the synthetic world (or read "
            "--data), link, build the pseudonymised research dataset, score its disclosure "
            "risk, synthesise a gated release, then run and render the five notebooks. "
            "Everything a later stage would refuse (a missing or weak key, unreadable labels, "
            "a folder that breaks the data contract) is refused before the first stage runs. "
            "Real data in a secure environment: docs/tre.md."
        ),
    )
    p.add_argument("--out", default="reports", help="reports folder (replaced atomically)")
    p.add_argument("--work", default="data/work", help="folder for intermediate stage outputs")
    p.add_argument(
        "--data", help="a sources or research folder (default: generate the synthetic world)"
    )
    p.add_argument(
        "--synthetic-dir", default="data/synthetic", help="where the default world is generated"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=20261121,
        help="seed of the generated world, the synthetic release and the notebooks",
    )
    p.add_argument(
        "--families", type=int, help="families of the generated world (default: the preset's)"
    )
    p.add_argument(
        "--preset",
        default="default",
        help="named synthetic world to generate: default (3,000 families) or small_site "
        "(about 100 FDAC and 100 comparison families)",
    )
    p.add_argument(
        "--linkage",
        choices=["model", "truth"],
        default="model",
        help="'truth' skips linkage (synthetic only)",
    )
    p.add_argument("--synth-model", help="synthesizer name (default: the package default)")
    p.add_argument("--notebooks", help="notebook folder (default: the checkout's notebooks/)")
    p.add_argument(
        "--key-file",
        help="pseudonymisation key file for the build (outside any git work tree; checked "
        "before any stage runs); default: FDAC_PSEUDONYM_KEY, or the public demo key for a "
        "synthetic world",
    )
    p.add_argument(
        "--labels",
        help="a reviewed clerical_review.csv (is_match 1/0 on every row) for the link stage: "
        "precision and recall are estimated from it (default: none; without truth/ the "
        "linkage report then has no precision or recall)",
    )
    p.set_defaults(func=_pipeline)
