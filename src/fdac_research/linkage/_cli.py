"""``fdac-research link``: link court people to every agency extract."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

import pandas as pd

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
        engine_options=_engine_options(args) or None,
    )
    q = result.quality
    print(q.to_string(index=False), file=sys.stdout)
    print(f"wrote {result.out} ({len(result.crosswalk)} crosswalk rows)", file=sys.stdout)
    return 0


#: ``link`` options that are engine options, and the engine and backend each applies to.
_ENGINE_FLAGS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("threads", "threads", ("duckdb",)),
    ("memory_limit", "memory_limit", ("duckdb",)),
    ("temp_dir", "temp_directory", ("duckdb",)),
    ("spark_master", "spark_master", ("spark",)),
    ("predict_chunks", "predict_chunks", ("duckdb", "spark")),
)


def _engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Splink engine options given on the command line; an option that does not apply
    to the chosen engine and backend is an error rather than silently ignored."""
    from fdac_research.exceptions import FdacResearchError

    options: dict[str, Any] = {}
    for attr, option, backends in _ENGINE_FLAGS:
        value = getattr(args, attr)
        if value is None:
            continue
        flag = "--" + attr.replace("_", "-")
        if args.engine != "splink" or args.backend not in backends:
            where = " or ".join(f"--backend {b}" for b in backends)
            raise FdacResearchError(
                f"{flag} {value} applies to the splink engine with {where}, not to "
                f"--engine {args.engine} --backend {args.backend}"
            )
        options[option] = value
    return options


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _read_table(path: str) -> pd.DataFrame:
    from fdac_research.exceptions import ContractError, Problem

    try:
        if path.endswith(".parquet"):
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as err:
        raise ContractError(
            path, [Problem(path, None, None, None, f"a CSV or Parquet table ({err})")]
        ) from err


def _table_model(args: argparse.Namespace, df: pd.DataFrame) -> Any:
    from fdac_research.linkage._config import LinkageModelConfig
    from fdac_research.linkage._tables import infer_model

    if args.model:
        return LinkageModelConfig.from_file(args.model)
    ignore = [args.truth] if getattr(args, "truth", None) else []
    ignore += [c for c in (args.ignore or "").split(",") if c]
    return infer_model(df, args.id_column, ignore=ignore)


def _write_result(out: str, fitted: Any, pairs: pd.DataFrame, clusters: pd.DataFrame) -> None:
    from pathlib import Path

    from fdac_research._io import atomic_dir

    with atomic_dir(Path(out)) as tmp:
        fitted.to_json(tmp / "model.json")
        pairs.to_csv(tmp / "pairs.csv", index=False)
        clusters.to_csv(tmp / "clusters.csv", index=False)


def _dedupe(args: argparse.Namespace) -> int:
    from fdac_research.linkage._tables import dedupe_table

    df = _read_table(args.table)
    fitted, pairs, clusters = dedupe_table(
        df,
        _table_model(args, df),
        name=args.name,
        engine=args.engine,
        id_column=args.id_column,
        seed=args.seed,
        threshold=args.threshold,
    )
    _write_result(args.out, fitted, pairs, clusters)
    print(
        f"wrote {args.out}: {len(clusters)} records in {clusters['person_key'].nunique()} "
        f"clusters, {len(pairs)} scored pairs",
        file=sys.stdout,
    )
    return 0


def _link_tables(args: argparse.Namespace) -> int:
    from fdac_research.linkage._tables import link_tables

    a, b = _read_table(args.left), _read_table(args.right)
    fitted, pairs, clusters = link_tables(
        a,
        b,
        _table_model(args, a),
        names=(args.left_name, args.right_name),
        link_type=args.link_type,
        one_to_one=args.one_to_one,
        engine=args.engine,
        id_column=args.id_column,
        seed=args.seed,
        threshold=args.threshold,
    )
    _write_result(args.out, fitted, pairs, clusters)
    print(f"wrote {args.out}: {len(pairs)} scored pairs", file=sys.stdout)
    return 0


def _blocking(args: argparse.Namespace) -> int:
    from fdac_research.linkage._tables import blocking_analysis

    tables = [_read_table(t) for t in args.tables]
    data = tables[0] if len(tables) == 1 else {f"t{i}": t for i, t in enumerate(tables)}
    out = blocking_analysis(
        data, _table_model(args, tables[0]), truth=args.truth, id_column=args.id_column
    )
    print(out.to_string(index=False), file=sys.stdout)
    return 0


def _table_options(p: argparse.ArgumentParser, out: bool = True) -> None:
    p.add_argument(
        "--model", help="model config (JSON/YAML; default: inferred from the column names)"
    )
    p.add_argument("--id-column", default="record_id", help="record id column")
    p.add_argument("--ignore", help="comma-separated columns the inferred model leaves out")
    if out:
        p.add_argument("--out", required=True, help="output folder (replaced atomically)")
        p.add_argument(
            "--engine", choices=["splink", "recordlinkage"], default="splink", help="linkage engine"
        )
        p.add_argument("--threshold", type=float, help="match probability (default: the model's)")
        p.add_argument("--seed", type=int, default=0, help="seed of u sampling")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``link``, ``dedupe``, ``link-tables`` and ``blocking`` commands."""
    _register_link(sub)
    d = sub.add_parser(
        "dedupe",
        help="de-duplicate one table (CSV/Parquet): clusters.csv, pairs.csv, model.json",
    )
    d.add_argument("table", help="CSV or Parquet table")
    d.add_argument("--name", default="data", help="the table's name in the outputs")
    _table_options(d)
    d.set_defaults(func=_dedupe)
    lt = sub.add_parser(
        "link-tables", help="link two tables (CSV/Parquet): clusters.csv, pairs.csv, model.json"
    )
    lt.add_argument("left", help="CSV or Parquet table")
    lt.add_argument("right", help="CSV or Parquet table")
    lt.add_argument("--left-name", default="left", help="name of the first table in outputs")
    lt.add_argument("--right-name", default="right", help="name of the second table in outputs")
    lt.add_argument("--link-type", choices=["link_only", "link_and_dedupe"], default="link_only")
    lt.add_argument(
        "--one-to-one", action="store_true", help="each table holds one record per person"
    )
    _table_options(lt)
    lt.set_defaults(func=_link_tables)
    b = sub.add_parser(
        "blocking", help="pairs each blocking rule generates (and true pairs reached)"
    )
    b.add_argument("tables", nargs="+", help="one table (dedupe) or several (link)")
    b.add_argument("--truth", help="column of each record's true entity (adds recall)")
    _table_options(b, out=False)
    b.set_defaults(func=_blocking)


def _register_link(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument(
        "--threads", type=_positive_int, help="DuckDB threads (default: DuckDB's, every core)"
    )
    p.add_argument(
        "--memory-limit",
        help="DuckDB memory limit, e.g. 6GB, spilling to disk beyond (default: DuckDB's, 80%% "
        "of RAM)",
    )
    p.add_argument(
        "--temp-dir",
        help="folder under which DuckDB spills beyond --memory-limit (its own sub-folder, "
        "removed afterwards; default: the system's temporary folder)",
    )
    p.add_argument(
        "--predict-chunks",
        type=_positive_int,
        help="score pairs in this many chunks of each agency's records, one progress step "
        "each (bounds blocking's memory; default: 1)",
    )
    p.add_argument(
        "--spark-master",
        help="Spark master URL for --backend spark, e.g. spark://host:7077 (default: "
        "$FDAC_SPARK_MASTER, else local mode on two cores); see docs/scale.md",
    )
    p.add_argument("--no-charts", action="store_true", help="do not write PNG charts")
    p.set_defaults(func=_link)
