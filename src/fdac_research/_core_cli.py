"""Core sub-commands: ``validate`` and ``schema`` (the data contract is imported by the
handlers, so ``--help`` does not wait for pandas)."""

from __future__ import annotations

import argparse
import sys


def _validate(args: argparse.Namespace) -> int:
    from fdac_research.validation import validate_folder

    report = validate_folder(args.folder, args.layout)
    print(report.summary(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


def _schema(args: argparse.Namespace) -> int:
    from fdac_research import schema

    layout = schema.SOURCES if args.layout == "sources" else schema.RESEARCH
    table = schema.describe(layout)
    if args.role:
        table = table[table["roles"].str.contains(args.role)]
    print(table.to_csv(index=False) if args.csv else table.to_string(index=False))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate", help="check a sources or research folder against the data contract"
    )
    p.add_argument("folder", help="folder to check")
    p.add_argument(
        "--layout", choices=["sources", "research"], help="expected layout (default: detect)"
    )
    p.set_defaults(func=_validate)
    p = sub.add_parser("schema", help="print the data dictionary (columns, types, roles)")
    p.add_argument("layout", choices=["sources", "research"], help="which folder's columns")
    p.add_argument("--role", help="only columns with this role (e.g. quasi_identifier)")
    p.add_argument("--csv", action="store_true", help="print CSV")
    p.set_defaults(func=_schema)
