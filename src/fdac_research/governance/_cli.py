"""Sub-commands ``build``, ``extract`` and ``retention``."""

from __future__ import annotations

import argparse
import logging
import sys

from fdac_research.governance._build import BuildConfig, build_research
from fdac_research.governance._extract import write_extract
from fdac_research.governance._keys import KEY_ENV, load_key
from fdac_research.governance._retention import RetentionRules, retention_due
from fdac_research.governance._spec import load_spec, shipped_specs

log = logging.getLogger(__name__)


def _build(args: argparse.Namespace) -> int:
    key, kind = load_key(args.key_file, demo=args.demo_key, sources=args.sources)
    config = BuildConfig.from_file(args.config) if args.config else BuildConfig()
    r = build_research(
        args.sources, args.crosswalk, args.out, key=key, key_kind=kind, config=config
    )
    print(
        f"wrote research dataset {r.folder}: {r.n_cases} cases, {r.n_adults} adults, "
        f"{r.n_children} children; cases removed by objections: {r.removed_all_research}; "
        f"withheld from external recipients: {r.withheld_from_external}; "
        f"key: {r.key_kind} (fingerprint {r.key_fingerprint})"
    )
    return 0


def _extract(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    r = write_extract(args.research, spec, args.out)
    rows = ", ".join(f"{k} {v}" for k, v in r["counts"].items())
    print(
        f"wrote extract for {spec.recipient} ({'external' if spec.external else 'internal'}) "
        f"to {r['folder']}: {rows}; cases withheld for external-sharing objections: "
        f"{r['withheld']}"
    )
    return 0


def _retention(args: argparse.Namespace) -> int:
    rules = RetentionRules.from_file(args.rules) if args.rules else RetentionRules()
    report = retention_due(args.sources, args.as_of, rules)
    print(f"retention as of {report.as_of} (counts of cases):")
    print(report.summary.to_string(index=False))
    if args.show_refs:
        print(
            "WARNING: the case references below identify families; do not copy them outside "
            "the controller's environment.",
            file=sys.stderr,
        )
        for name in report.summary["rule"]:
            for ref in report.due_refs(name):
                print(f"{name},{ref}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "build",
        help="build the pseudonymised research dataset from sources and a linkage crosswalk",
        description=(
            "Pseudonymise with a keyed HMAC (key from $"
            + KEY_ENV
            + " or --key-file outside the repository), remove identifiers, apply "
            "family-level opt-outs, join agency attributes through the crosswalk."
        ),
    )
    p.add_argument("sources", help="identifiable sources folder")
    p.add_argument("--crosswalk", required=True, help="linkage output folder (crosswalk.csv)")
    p.add_argument("--out", required=True, help="research folder to write")
    p.add_argument("--key-file", help=f"file holding the key (else ${KEY_ENV})")
    p.add_argument(
        "--demo-key",
        action="store_true",
        help="use the public demo key (synthetic worlds only; refused for other data)",
    )
    p.add_argument("--config", help="BuildConfig as JSON/YAML")
    p.set_defaults(func=_build)

    p = sub.add_parser(
        "extract",
        help="write one recipient's extract of a research folder following a spec",
        description=f"Shipped specs: {', '.join(sorted(shipped_specs()))} (or a YAML path).",
    )
    p.add_argument("research", help="research folder (built by `build`)")
    p.add_argument("--spec", required=True, help="extract spec: YAML file or shipped name")
    p.add_argument("--out", required=True, help="extract folder to write")
    p.set_defaults(func=_extract)

    p = sub.add_parser(
        "retention",
        help="what is due for deletion on a date (counts; case references only on request)",
    )
    p.add_argument("sources", help="identifiable sources folder")
    p.add_argument("--as-of", required=True, help="date to evaluate, YYYY-MM-DD")
    p.add_argument("--rules", help="retention rules YAML (default: the shipped example)")
    p.add_argument(
        "--show-refs",
        action="store_true",
        help="also print the case references due (identifying; a warning is printed)",
    )
    p.set_defaults(func=_retention)
