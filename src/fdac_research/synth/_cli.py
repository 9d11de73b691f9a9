"""``fdac-research synthesise``: a gated synthetic release of a research folder."""

from __future__ import annotations

import argparse
import sys

from fdac_research.exceptions import ReleaseRefusedError


def _synthesise(args: argparse.Namespace) -> int:
    from fdac_research.synth._gate import ReleaseGateConfig
    from fdac_research.synth._release import synthesise

    gate = ReleaseGateConfig.from_file(args.gate) if args.gate else ReleaseGateConfig()
    try:
        result = synthesise(
            args.research,
            args.out,
            model=args.model,
            seed=args.seed,
            scale=args.scale,
            gate=gate,
            holdout_fraction=args.holdout,
            report_dir=args.report_dir,
            max_cases=args.max_cases,
        )
    except ReleaseRefusedError as err:
        print(f"fdac-research synthesise: {err}", file=sys.stderr)
        if args.report_dir:
            print(f"reports written to {args.report_dir}", file=sys.stderr)
        return 1
    print(result.summary())
    print(f"release written to {result.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    from fdac_research.synth._names import DEFAULT_MODEL, MAX_TRAIN_CASES, MODEL_NAMES

    p = sub.add_parser(
        "synthesise",
        help="write a gated synthetic release of a research folder (utility + privacy reports)",
    )
    p.add_argument("research", help="real research folder (docs/data-contract.md section 2)")
    p.add_argument(
        "--out", required=True, help="release folder (replaced atomically; untouched if refused)"
    )
    p.add_argument(
        "--model",
        choices=list(MODEL_NAMES),
        default=DEFAULT_MODEL,
        help=f"synthesizer (default {DEFAULT_MODEL})",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--scale", type=float, default=1.0, help="synthetic cases per real case (default 1)"
    )
    p.add_argument(
        "--holdout",
        type=float,
        default=0.2,
        help="share of real families held out as the privacy baseline",
    )
    p.add_argument("--gate", help="ReleaseGateConfig as JSON/YAML (default thresholds otherwise)")
    p.add_argument(
        "--report-dir",
        help="also write the reports here (the only place a refused release's reports go)",
    )
    p.add_argument(
        "--max-cases",
        type=int,
        default=MAX_TRAIN_CASES,
        help=(
            "with more real cases than this, synthesise from a random sample of whole "
            f"families of at most this many cases (0: every case; default {MAX_TRAIN_CASES})"
        ),
    )
    p.set_defaults(func=_synthesise)
