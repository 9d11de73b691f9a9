"""``fdac-research link``: link court people to every agency extract."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from fdac_research.linkage._pipeline import link_sources, load_model_file


def _link(args: argparse.Namespace) -> int:
    base = fitted = None
    if args.model:
        base, fitted = load_model_file(args.model)
    if args.threshold is not None:
        from fdac_research.linkage._uk import uk_person_model

        base = dataclasses.replace(base or uk_person_model(), match_threshold=args.threshold)
        fitted = {
            a: dataclasses.replace(m, match_threshold=args.threshold)
            for a, m in (fitted or {}).items()
        }
    options = {}
    if args.engine == "splink" and args.backend == "duckdb":
        if args.threads:
            options["threads"] = args.threads
        if args.memory_limit:
            options["memory_limit"] = args.memory_limit
    result = link_sources(
        args.sources,
        args.out,
        model=base,
        fitted=fitted,
        engine=args.engine,
        backend=args.backend,
        seed=args.seed,
        agencies=args.agencies.split(",") if args.agencies else None,
        labels=args.labels,
        n_review=args.review_size,
        charts=not args.no_charts,
        engine_options=options or None,
    )
    q = result.quality
    print(q.to_string(index=False), file=sys.stdout)
    print(f"wrote {result.out} ({len(result.crosswalk)} crosswalk rows)", file=sys.stdout)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``link`` command."""
    p = sub.add_parser(
        "link",
        help="probabilistic linkage of court people to agency extracts (writes crosswalk.csv)",
        description=(
            "Link court people (the reference) to each agency extract of a sources folder with a "
            "Fellegi-Sunter model; write crosswalk.csv, model.json, linkage_quality.csv, pairs/, "
            "charts/ and evaluation.json (with truth/) or clerical_review.csv (without)."
        ),
    )
    p.add_argument("sources", help="sources folder (docs/data-contract.md section 1)")
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
    p.add_argument(
        "--engine", choices=["splink", "recordlinkage"], default="splink", help="linkage engine"
    )
    p.add_argument(
        "--backend", choices=["duckdb", "spark"], default="duckdb", help="Splink backend"
    )
    p.add_argument(
        "--model",
        help="model config (JSON/YAML) or a model.json from a previous run (default: "
        "uk_person_model(), trained on these sources)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        help="match-probability threshold (default: the model's)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of u sampling and the review sample")
    p.add_argument("--agencies", help="comma-separated agencies to link (default: all)")
    p.add_argument(
        "--labels",
        help="a reviewed clerical_review.csv (is_match 1/0): precision/recall are estimated "
        "from it and its matches inform m (default: none)",
    )
    p.add_argument("--review-size", type=int, default=25, help="review pairs per agency and band")
    p.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's, every core)")
    p.add_argument(
        "--memory-limit",
        help="DuckDB memory limit, e.g. 6GB, spilling to disk beyond (default: DuckDB's, 80%% "
        "of RAM)",
    )
    p.add_argument("--no-charts", action="store_true", help="do not write PNG charts")
    p.set_defaults(func=_link)
