"""Recipient extract specs: which research tables and columns one recipient receives, how
each column is coarsened, and whether the recipient is external (data minimisation)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from fdac_research import schema
from fdac_research.config import ConfigBase
from fdac_research.exceptions import ConfigError

__all__ = ["ExtractSpec", "TRANSFORMS", "shipped_specs", "load_spec"]

#: Coarsening transforms: name -> (what it does, column kinds it applies to).
TRANSFORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "region": (
        "local authority -> ONS region (fdac_research.refdata local_authorities.csv); "
        "{region: {unknown: error}} lists every unknown local authority once and stops, "
        "{region: {unknown: <label>}} puts them in that category",
        ("str",),
    ),
    "bands": ("numeric value -> band label between the given edges", ("int", "float")),
    "top_code": ("counts at or above N -> 'N+'", ("int",)),
    "round_to": ("numeric value -> nearest multiple of the step", ("int", "float")),
}
_TABLE_KEYS = {"columns", "coarsen"}


def _transform_problems(where: str, col: schema.Column, transform: Any) -> list[str]:
    """Problems of one coarsening entry ``column: transform``."""
    if isinstance(transform, str):
        name, arg = transform, None
    elif isinstance(transform, Mapping) and len(transform) == 1:
        name, arg = next(iter(transform.items()))
    else:
        return [
            f"{where}: a transform is a name ('region') or a one-key mapping "
            f"({{bands: [...]}}, {{top_code: N}}, {{round_to: step}}), got {transform!r}"
        ]
    if name not in TRANSFORMS:
        return [f"{where}: unknown transform {name!r}; known: {sorted(TRANSFORMS)}"]
    kinds = TRANSFORMS[name][1]
    p = []
    if "key" in col.roles:
        p.append(f"{where}: key columns are passed through (re-keyed), not coarsened")
    elif col.kind not in kinds:
        p.append(f"{where}: {name} applies to {'/'.join(kinds)} columns, not {col.kind}")
    if name == "region":
        if col.name != "local_authority":
            p.append(f"{where}: region applies to local_authority only")
        region_ok = arg is None or (
            isinstance(arg, Mapping)
            and set(arg) == {"unknown"}
            and isinstance(arg["unknown"], str)
            and bool(arg["unknown"].strip())
        )
        if not region_ok:
            p.append(
                f"{where}: region takes no argument or {{unknown: error}} or "
                f"{{unknown: <label>}}, got {arg!r}"
            )
    elif name == "bands":
        ok = (
            isinstance(arg, list)
            and arg
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in arg)
        )
        if not ok or sorted(set(arg or [])) != arg:
            p.append(f"{where}: bands needs a strictly increasing list of numbers, got {arg!r}")
    elif name == "top_code":
        if not isinstance(arg, int) or isinstance(arg, bool) or arg < 1:
            p.append(f"{where}: top_code needs a positive integer, got {arg!r}")
    elif name == "round_to" and (
        not isinstance(arg, (int, float)) or isinstance(arg, bool) or arg <= 0
    ):
        p.append(f"{where}: round_to needs a positive step, got {arg!r}")
    return p


def _table_problems(name: str, spec: Any) -> list[str]:
    try:
        table = schema.RESEARCH.table(name)
    except KeyError:
        known = [t.name for t in schema.RESEARCH.tables]
        return [f"tables: unknown research table {name!r}; known tables: {known}"]
    if not isinstance(spec, Mapping):
        return [f"tables.{name}: expected a mapping with 'columns' (and 'coarsen'), got {spec!r}"]
    p = []
    extra = sorted(set(spec) - _TABLE_KEYS)
    if extra:
        p.append(f"tables.{name}: unknown key(s) {extra}; allowed: {sorted(_TABLE_KEYS)}")
    columns = spec.get("columns")
    if not isinstance(columns, list) or not columns:
        p.append(f"tables.{name}.columns: a non-empty list of column names is required")
        columns = []
    for c in columns:
        if c not in table.names:
            p.append(
                f"tables.{name}.columns: unknown column {c!r} in research table {name!r}; "
                f"its columns are {table.names}"
            )
    dups = sorted({c for c in columns if isinstance(c, str) and columns.count(c) > 1})
    if dups:
        p.append(f"tables.{name}.columns: listed more than once: {dups}")
    coarsen = spec.get("coarsen") or {}
    if not isinstance(coarsen, Mapping):
        return [*p, f"tables.{name}.coarsen: expected a mapping column -> transform"]
    for c, t in coarsen.items():
        where = f"tables.{name}.coarsen.{c}"
        if c not in columns:
            p.append(f"{where}: coarsens a column that is not in tables.{name}.columns")
            if c not in table.names:
                continue
        p.extend(_transform_problems(where, table.column(c), t))
    return p


@dataclasses.dataclass(frozen=True)
class ExtractSpec(ConfigBase):
    """One recipient's extract, validated against :data:`fdac_research.schema.RESEARCH`.

    Parameters
    ----------
    recipient : str
        Who receives the extract (also separates its re-keyed ids from other recipients').
    purpose : str
        What the extract is for (the purpose limits what it may contain).
    external : bool
        An external recipient never receives cases whose family objected to external
        sharing (the build's ``_governance/external_exclusions.csv``).
    tables : dict
        ``{table: {"columns": [...], "coarsen": {column: transform}}}``; transforms are
        ``region`` (same as ``{region: {unknown: error}}``: a local authority not in the
        reference table stops the extract, every unknown value listed once) or
        ``{region: {unknown: "Unknown region"}}`` (such authorities get that label),
        ``{bands: [edges]}``, ``{top_code: N}``, ``{round_to: step}`` (see
        :data:`TRANSFORMS`). Columns not listed are not delivered.
    rekey_ids : bool
        Replace ``case_id``/``person_id`` with recipient-specific ids so that two
        recipients' extracts cannot be joined with each other or the research dataset.

    Examples
    --------
    >>> spec = ExtractSpec(
    ...     recipient="example charity",
    ...     purpose="case statistics",
    ...     external=True,
    ...     tables={"cases": {"columns": ["cohort", "local_authority"],
    ...                       "coarsen": {"local_authority": "region"}}},
    ... )
    >>> spec.output_columns("cases")
    ['cohort', 'region']
    """

    recipient: str
    purpose: str
    external: bool
    tables: dict[str, Any]
    rekey_ids: bool = True

    def _problems(self) -> list[str]:
        p = []
        if not isinstance(self.recipient, str) or not self.recipient.strip():
            p.append("recipient: a non-empty name is required")
        if not isinstance(self.purpose, str) or not self.purpose.strip():
            p.append("purpose: a non-empty statement of purpose is required")
        if not isinstance(self.external, bool):
            p.append(f"external: must be true or false, got {self.external!r}")
        if not isinstance(self.rekey_ids, bool):
            p.append(f"rekey_ids: must be true or false, got {self.rekey_ids!r}")
        if not isinstance(self.tables, Mapping) or not self.tables:
            p.append("tables: a non-empty mapping of research tables is required")
            return p
        for name, spec in self.tables.items():
            p.extend(_table_problems(name, spec))
        return p

    def transform(self, table: str, column: str) -> tuple[str, Any] | None:
        """The ``(name, argument)`` coarsening of ``table.column``, or ``None``."""
        t = (self.tables[table].get("coarsen") or {}).get(column)
        if t is None:
            return None
        return (t, None) if isinstance(t, str) else next(iter(t.items()))

    def output_columns(self, table: str) -> list[str]:
        """Column names as delivered (``region`` for a coarsened local authority,
        ``<column>_band`` for banded columns)."""
        out = []
        for c in self.tables[table]["columns"]:
            t = self.transform(table, c)
            out.append(
                "region" if t and t[0] == "region" else f"{c}_band" if t and t[0] == "bands" else c
            )
        return out


def shipped_specs() -> dict[str, Path]:
    """The example specs shipped with the package, by name."""
    folder = resources.files("fdac_research.governance") / "specs"
    return {
        Path(str(p)).stem: Path(str(p))
        for p in folder.iterdir()
        if str(p).endswith(".yaml") and "retention" not in Path(str(p)).stem
    }


def load_spec(spec: str | Path) -> ExtractSpec:
    """Load a spec from a YAML/JSON file, or a shipped spec by name (``case_statistics``)."""
    shipped = shipped_specs()
    if isinstance(spec, str) and spec in shipped and not Path(spec).exists():
        return ExtractSpec.from_file(shipped[spec])
    if not Path(spec).is_file():
        raise ConfigError(
            "extract spec",
            [f"{spec} is neither a spec file nor a shipped spec ({', '.join(sorted(shipped))})"],
        )
    return ExtractSpec.from_file(spec)
