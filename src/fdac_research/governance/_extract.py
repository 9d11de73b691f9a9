"""Write one recipient's extract from a research folder, following its :class:`ExtractSpec`."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research._io import atomic_dir, sha256_file, write_json, write_table
from fdac_research.dataset import code_version, file_manifest, load_research
from fdac_research.exceptions import ContractError, Problem
from fdac_research.governance._build import EXCLUSIONS_FILE
from fdac_research.governance._optouts import check_out_path, disclosed_count
from fdac_research.governance._spec import ExtractSpec
from fdac_research.refdata import region_of

__all__ = ["ExtractResult", "write_extract", "verify_manifest"]

log = logging.getLogger(__name__)

ExtractResult = dict[str, Any]


def verify_manifest(folder: Path | str) -> dict[str, Any]:
    """Check every file listed in ``<folder>/manifest.json`` against its SHA-256.

    Returns the manifest. Raises :class:`ContractError` naming each missing or changed file
    (an extract must not be made from a research folder that was altered after its build).
    """
    folder = Path(folder)
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ContractError(
            str(folder), [Problem("manifest.json", None, None, None, "a readable manifest")]
        ) from err
    problems = []
    for rel, entry in sorted(manifest.get("files", {}).items()):
        p = folder / rel
        if not p.is_file():
            problems.append(Problem(rel, None, None, None, "this file listed in the manifest"))
        elif sha256_file(p) != entry.get("sha256"):
            problems.append(
                Problem(rel, None, None, None, "the SHA-256 recorded in manifest.json (changed)")
            )
    if problems:
        raise ContractError(f"research folder {folder}", problems)
    return manifest


def _bands(values: pd.Series, edges: list[float], kind: str) -> pd.Series:
    """Band labels: ``under e0``, ``e0-e1`` (ints: ``lo-(hi-1)``), ..., ``eK+``."""
    v = values.astype("Float64").astype(float).to_numpy()
    labels = [f"under {edges[0]:g}"]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if kind == "int":
            labels.append(f"{lo:g}" if hi - lo == 1 else f"{lo:g}-{hi - 1:g}")
        else:
            labels.append(f"{lo:g} to <{hi:g}")
    labels.append(f"{edges[-1]:g}+")
    idx = np.searchsorted(np.asarray(edges, dtype=float), v, side="right")
    out = np.asarray(labels, dtype=object)[np.clip(idx, 0, len(labels) - 1)]
    return pd.Series(out, index=values.index, dtype=object).mask(np.isnan(v))


def _coarsen(
    values: pd.Series,
    name: str,
    arg: Any,
    kind: str,
    where: str,
    counts: dict[str, int] | None = None,
) -> pd.Series:
    counts = {} if counts is None else counts
    if name == "region":
        regions, unknown = region_of(values)
        label = (arg or {}).get("unknown", "error")
        if unknown and label == "error":
            raise ContractError(
                where,
                [
                    Problem(
                        where,
                        "local_authority",
                        None,
                        u,
                        "a local authority of England or Wales in the reference table "
                        "(fdac_research.refdata local_authorities.csv: ONS names, codes and "
                        "aliases), or a spec rule {region: {unknown: <label>}}",
                    )
                    for u in unknown
                ],
            )
        out = pd.Series(regions, index=values.index, dtype=object)
        is_unknown = values.notna() & out.isna()
        counts["local_authorities_not_in_reference_table"] = len(unknown)
        counts["rows_with_unknown_region"] = int(is_unknown.sum())
        if unknown:
            log.warning(
                "extract: %d local authorit%s not in the reference table delivered as %r: %s",
                len(unknown),
                "y" if len(unknown) == 1 else "ies",
                label,
                "; ".join(unknown),
            )
        return out.mask(is_unknown, label)
    if name == "bands":
        return _bands(values, arg, kind)
    if name == "top_code":
        v = values.astype("Int64")
        text = pd.Series(v.astype(str), dtype=object).mask(v.isna())
        return text.mask((v.fillna(-1) >= arg).astype(bool), f"{arg}+")
    # round_to
    f = values.astype("Float64").astype(float)
    r = np.round(f / arg) * arg
    return r.round(6).astype("Int64") if kind == "int" else r.round(6)


#: Pseudonym columns re-keyed per recipient (``<domain>_id``).
_IDS = ("case_id", "person_id", "individual_id", "family_id")


def _rekey(ids: pd.Series, recipient: str, domain: str) -> pd.Series:
    """Recipient-specific ids: SHA-256 of recipient, domain and the research pseudonym."""
    prefix = f"fdac-extract|{recipient}|{domain}|".encode()
    return ids.map(lambda x: hashlib.sha256(prefix + x.encode()).hexdigest()[:16])


def _table(
    df: pd.DataFrame, spec: ExtractSpec, name: str, where: str, counts: dict[str, int]
) -> pd.DataFrame:
    table = schema.RESEARCH.table(name)
    cols: dict[str, pd.Series] = {}
    for c, out_name in zip(spec.tables[name]["columns"], spec.output_columns(name), strict=True):
        values = df[c]
        t = spec.transform(name, c)
        if t is not None:
            values = _coarsen(values, t[0], t[1], table.column(c).kind, where, counts)
        elif spec.rekey_ids and c in _IDS:
            values = _rekey(values, spec.recipient, c.split("_")[0])
        cols[out_name] = values
    out = pd.DataFrame(cols, index=df.index)
    order = [c for c in ("case_id", "person_id") if c in out.columns]
    if order:
        out = out.sort_values(order, kind="stable")
    else:  # no ids: sort by every column so row order carries no information
        out = out.sort_values(list(out.columns), kind="stable", na_position="last")
    return out.reset_index(drop=True)


def _dictionary(spec: ExtractSpec) -> pd.DataFrame:
    rows = []
    for name in spec.tables:
        table = schema.RESEARCH.table(name)
        for c, out_name in zip(
            spec.tables[name]["columns"], spec.output_columns(name), strict=True
        ):
            col = table.column(c)
            t = spec.transform(name, c)
            transform = "" if t is None else (t[0] if t[1] is None else f"{t[0]}: {t[1]}")
            if t is None and spec.rekey_ids and c in _IDS:
                transform = "re-keyed for this recipient"
            rows.append(
                {
                    "table": name,
                    "column": out_name,
                    "from_column": c,
                    "transform": transform,
                    "roles": ", ".join(sorted(col.roles)),
                    "description": (
                        "Region of the local authority (England)."
                        if out_name == "region"
                        else col.description
                    ),
                }
            )
    return pd.DataFrame(rows)


def write_extract(research: Path | str, spec: ExtractSpec, out: Path | str) -> ExtractResult:
    """Write one recipient's extract of ``research`` into ``out`` (atomically).

    The research folder's manifest is verified first (no file changed since the build). For
    an external recipient, every case listed in ``_governance/external_exclusions.csv``
    (families who objected to external sharing) is removed from every table with a
    ``case_id``; a research folder without that list is refused. Only the spec's columns are
    delivered, coarsened as it says, with a ``data_dictionary.csv`` and a ``manifest.json``
    (spec, counts, SHA-256 of every file).

    Returns
    -------
    dict
        Rows per table and the (rounded, suppressed) count of withheld cases.
    """
    research = Path(research)
    check_out_path(out, research)
    manifest = verify_manifest(research)
    data = load_research(research)
    frames = data.tables()
    withheld = 0
    if spec.external:
        if EXCLUSIONS_FILE not in manifest.get("files", {}):
            raise ContractError(
                f"research folder {research}",
                [
                    Problem(
                        EXCLUSIONS_FILE,
                        None,
                        None,
                        None,
                        "the build's list of cases withheld from external recipients "
                        "(rebuild with `fdac-research build`); an external extract cannot "
                        "otherwise honour external-sharing objections",
                    )
                ],
            )
        data, withheld = data.for_external_use()
        frames = data.tables()
    missing = [t for t in spec.tables if t not in frames]
    if missing:
        raise ContractError(
            f"research folder {research}",
            [
                Problem(f"{t}.csv", None, None, None, "this table, named by the spec")
                for t in missing
            ],
        )
    coarsening: dict[str, int] = {}
    tables = {
        name: _table(frames[name], spec, name, f"{research / name}.csv", coarsening)
        for name in spec.tables
    }
    shown = disclosed_count(withheld)
    with atomic_dir(Path(out)) as tmp:
        for name, df in tables.items():
            write_table(df, tmp / f"{name}.csv", published=True)
        write_table(_dictionary(spec), tmp / "data_dictionary.csv", published=True)
        extra = {
            "stage": "governance.extract",
            "code_version": code_version(),
            "spec": spec.to_dict(),
            "research_manifest_sha256": sha256_file(research / "manifest.json"),
            "counts": {k: len(v) for k, v in tables.items()},
            "cases_withheld_for_external_sharing_objections": shown if spec.external else 0,
            "coarsening": coarsening,
        }
        write_json(file_manifest(tmp, **extra), tmp / "manifest.json")
    log.info(
        "extract for %s: %s; cases withheld (external-sharing objections): %s",
        spec.recipient,
        ", ".join(f"{k} {len(v)} rows" for k, v in tables.items()),
        shown if spec.external else "none (internal recipient)",
    )
    return {
        "folder": Path(out),
        "counts": extra["counts"],
        "withheld": extra["cases_withheld_for_external_sharing_objections"],
    }
