"""``fdac-research generate``: write a synthetic world."""

from __future__ import annotations

import argparse
import json
import sys

from fdac_research.world._config import WORLD_PRESETS, WorldConfig, preset_config
from fdac_research.world._generate import generate_world, truth_crosswalk
from fdac_research.world._zoo import ZOO_WORLDS, make_zoo_world


def _generate(args: argparse.Namespace) -> int:
    if args.config and args.preset:
        print("fdac-research generate: error: give --config or --preset, not both", file=sys.stderr)
        return 2
    if args.config:
        cfg = WorldConfig.from_file(args.config)
    else:
        cfg = preset_config(args.preset or "default")
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


def _zoo(args: argparse.Namespace) -> int:
    if args.list:
        tags = {n: f"[{w.expect}{', slow' if w.slow else ''}]" for n, w in ZOO_WORLDS.items()}
        width, twidth = max(map(len, tags)), max(map(len, tags.values()))
        for name, w in ZOO_WORLDS.items():
            print(f"{name:<{width}}  {tags[name]:<{twidth}}  {w.description}")
        return 0
    if not args.name or not args.out:
        print("fdac-research zoo: error: give NAME and --out DIR (or --list)", file=sys.stderr)
        return 2
    summary = make_zoo_world(args.name, args.out, families=args.families, seed=args.seed)
    summary.pop("details")
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="write a synthetic world (sources + truth) to a folder")
    p.add_argument("--out", required=True, help="folder to write (replaced atomically)")
    p.add_argument(
        "--families", type=int, help="number of families/cases (default: the preset's, 3000)"
    )
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument(
        "--hidden-confounder", type=float, help="strength of a hidden confounder (0 = none)"
    )
    p.add_argument("--error-rate", type=float, help="identifier corruption scale (default 0.1)")
    p.add_argument("--opt-out-rate", type=float, help="share of families with an objection")
    p.add_argument("--non-case-ratio", type=float, help="agency people in no case, per case person")
    p.add_argument("--config", help="WorldConfig as JSON/YAML (flags override it)")
    p.add_argument(
        "--preset",
        choices=list(WORLD_PRESETS),
        help="a named world (flags override it): "
        + "; ".join(f"{k}: {d}" for k, (d, _) in WORLD_PRESETS.items()),
    )
    p.set_defaults(func=_generate)
    p = sub.add_parser(
        "truth-crosswalk", help="write a crosswalk from a synthetic world's truth (for testing)"
    )
    p.add_argument("sources")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_truth_crosswalk)
    p = sub.add_parser(
        "zoo",
        help="write a 'world zoo' world: the synthetic world as someone else might have made it",
    )
    p.add_argument("name", nargs="?", choices=list(ZOO_WORLDS), help="which zoo world")
    p.add_argument("--out", help="folder to write (replaced atomically)")
    p.add_argument("--families", type=int, help="number of families (default: the world's)")
    p.add_argument("--seed", type=int, help="random seed (default: the world's)")
    p.add_argument("--list", action="store_true", help="list the zoo worlds and exit")
    p.set_defaults(func=_zoo)
