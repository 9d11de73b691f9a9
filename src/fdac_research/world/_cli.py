"""``fdac-research generate``: write a synthetic world."""

from __future__ import annotations

import argparse
import json

from fdac_research.world._config import WorldConfig
from fdac_research.world._generate import generate_world, truth_crosswalk


def _generate(args: argparse.Namespace) -> int:
    cfg = WorldConfig.from_file(args.config) if args.config else WorldConfig()
    overrides = {
        k: v
        for k, v in {
            "n_families": args.families,
            "seed": args.seed,
            "hidden_confounder": args.hidden_confounder,
            "error_rate": args.error_rate,
            "opt_out_rate": args.opt_out_rate,
            "non_case_ratio": args.non_case_ratio,
        }.items()
        if v is not None
    }
    summary = generate_world(args.out, cfg, **overrides)
    summary.pop("effects")
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


def _truth_crosswalk(args: argparse.Namespace) -> int:
    truth_crosswalk(args.sources, args.out)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="write a synthetic world (sources + truth) to a folder")
    p.add_argument("--out", required=True, help="folder to write (replaced atomically)")
    p.add_argument("--families", type=int, help="number of families/cases (default 3000)")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument(
        "--hidden-confounder", type=float, help="strength of a hidden confounder (0 = none)"
    )
    p.add_argument("--error-rate", type=float, help="identifier corruption scale (default 0.1)")
    p.add_argument("--opt-out-rate", type=float, help="share of families with an objection")
    p.add_argument("--non-case-ratio", type=float, help="agency people in no case, per case person")
    p.add_argument("--config", help="WorldConfig as JSON/YAML (flags override it)")
    p.set_defaults(func=_generate)
    p = sub.add_parser(
        "truth-crosswalk", help="write a crosswalk from a synthetic world's truth (for testing)"
    )
    p.add_argument("sources")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_truth_crosswalk)
