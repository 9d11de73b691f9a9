"""``fdac-research risk`` (reviewer's report) and ``fdac-research check-table`` (output checking)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from fdac_research._io import write_json, write_table
from fdac_research.exceptions import ContractError, Problem
from fdac_research.risk.report import write_risk_report
from fdac_research.risk.tables import PRESETS, TableSpec, check_table


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [c.strip() for c in text.split(",") if c.strip()]


def _risk(args: argparse.Namespace) -> int:
    report = write_risk_report(
        args.research,
        args.out,
        quasi_identifiers=_split(args.qi),
        sensitive=_split(args.sensitive),
        k=args.k,
        validate=not args.no_validate,
    )
    lines = {}
    for name, t in report["tables"].items():
        m = t.get("measures")
        if m:
            lines[name] = {
                "records": m["n_records"],
                "k_anonymity": m["k_anonymity"],
                "sample_uniques": m["n_sample_uniques"],
                "expected_reidentifications": round(m["expected_reidentifications"], 3),
                "global_risk": round(m["global_risk"], 5),
            }
    print(json.dumps({"out": str(args.out), "tables": lines}, indent=2, sort_keys=True))
    return 0


def _read(path: str | None, what: str) -> pd.DataFrame | None:
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} file not found: {p}")
    try:
        return pd.read_csv(p, index_col=0)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ContractError(
            str(p),
            [
                Problem(
                    p.name,
                    None,
                    None,
                    str(err)[:100],
                    f"a readable CSV {what} with row labels in the first column",
                )
            ],
        ) from err


def _check_table(args: argparse.Namespace) -> int:
    values = _read(args.table, "table")
    assert values is not None
    spec = TableSpec(
        values=values,
        kind=args.kind,
        n_contributors=_read(args.contributors, "contributor-count"),
        largest=_read(args.largest, "largest-contribution"),
        second=_read(args.second, "second-largest-contribution"),
    )
    rules = args.rules_file or args.rules
    res = check_table(spec, rules)
    print(
        f"table {args.table}: rules {res.rules.name}, {res.summary['n_cells']} cells (with margins)"
    )
    for r in res.reasons.index:
        for c in res.reasons.columns:
            why = res.reasons.loc[r, c]
            shown = res.published.loc[r, c]
            verdict = "ok" if why == "ok" else f"SUPPRESS ({why})"
            print(f"  [{r}, {c}] {shown!s:>10}  {verdict}")
    if len(res.bounds):
        print("suppressed cells: feasible range an attacker can derive from the margins")
        for _, b in res.bounds.iterrows():
            tag = "protected" if b["protected"] else "EXPOSED"
            print(f"  [{b['row']}, {b['column']}] {b['lower']:g} to {b['upper']:g} ({tag})")
    safe = res.passes and res.is_protected
    print(
        "verdict: "
        + (
            "SAFE to publish as given"
            if safe
            else "UNSAFE as given"
            + ("; publish the suppressed table" if res.is_protected else "; protection FAILED")
        )
    )
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        write_table(res.published.reset_index(names=""), out / "safe_table.csv")
        write_table(res.reasons.reset_index(names=""), out / "reasons.csv")
        write_json(res.to_dict(), out / "check.json")
    return 0 if safe else 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("risk", help="disclosure-risk report (HTML + JSON) for a research folder")
    p.add_argument("research", help="research folder (data contract section 2)")
    p.add_argument("--out", required=True, help="folder to write (replaced atomically)")
    p.add_argument("--qi", help="comma-separated quasi-identifiers (default: schema roles)")
    p.add_argument("--sensitive", help="comma-separated sensitive columns (default: schema roles)")
    p.add_argument(
        "--k", type=int, default=3, help="target k for k-anonymity and suppression (default 3)"
    )
    p.add_argument("--no-validate", action="store_true", help="skip contract validation")
    p.set_defaults(func=_risk)
    p = sub.add_parser("check-table", help="output-check a table CSV (exit 1 if unsafe)")
    p.add_argument("table", help="CSV: row labels in the first column, one column per category")
    p.add_argument("--rules", default="tre_10_zeros", choices=sorted(PRESETS), help="rule preset")
    p.add_argument("--rules-file", help="custom rules as JSON/YAML (TableRules); overrides --rules")
    p.add_argument("--kind", default="frequency", choices=["frequency", "magnitude"])
    p.add_argument("--contributors", help="magnitude tables: CSV of contributor counts per cell")
    p.add_argument("--largest", help="magnitude tables: CSV of the largest contribution per cell")
    p.add_argument(
        "--second", help="magnitude tables: CSV of the second-largest contribution per cell"
    )
    p.add_argument("--out", help="folder for safe_table.csv, reasons.csv and check.json")
    p.set_defaults(func=_check_table)
