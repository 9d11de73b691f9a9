"""Private: the registration of linked tables and their cover table (see
:mod:`fdac_research.risk.linked`)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from fdac_research.config import ConfigBase
from fdac_research.exceptions import ConfigError

__all__ = [
    "TableLink",
    "LinkedTable",
    "Cover",
    "known_cells",
    "rounding_interval",
    "MAX_COVER_CELLS",
    "RESIDUAL",
]

#: Largest cover table audited (cells); a larger set of linked tables is a configuration
#: error naming the tables (register them under separate units only if they truly count
#: different people).
MAX_COVER_CELLS = 200_000
RESIDUAL = "\x00(not tabulated)"


def _names(v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        return (v,)
    return tuple(str(x) for x in v) if v is not None else ()


@dataclass(frozen=True)
class TableLink(ConfigBase):
    """What population a published count table counts, and by which variables.

    Attributes
    ----------
    unit : str
        The population counted (``"cases"``, ``"mothers"``, ``"children"``): tables of one
        unit are audited together.
    rows, columns : tuple of str
        The variables of the rows and of the columns (several for a table whose rows are
        combinations, e.g. ``("sex", "age_band")``); the table's row labels are their values.
    subset : str or None
        The table counts only this part of the unit (e.g. ``"closed cases"``); tables with
        the same subset count the same people. Every counted person falls in exactly one
        row and one column category (or, for a multi-valued variable, in one or more).
    multi_valued : tuple of str
        Variables under which a person may be counted in several categories (substances).
    exclusive : tuple of str
        Categories of a multi-valued variable held only alone (``"not recorded"``).
    """

    SCHEMA_VERSION: ClassVar[int] = 1

    unit: str = ""
    rows: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    subset: str | None = None
    multi_valued: tuple[str, ...] = ()
    exclusive: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("rows", "columns", "multi_valued", "exclusive"):
            object.__setattr__(self, name, _names(getattr(self, name)))
        super().__post_init__()

    def _problems(self) -> list[str]:
        p = []
        if not isinstance(self.unit, str) or not self.unit.strip():
            p.append("unit must name the population the table counts (e.g. 'children')")
        if not self.rows or not self.columns:
            p.append("rows and columns must each name at least one variable")
        both = set(self.rows) & set(self.columns)
        if both:
            p.append(f"variable(s) {sorted(both)} are in both rows and columns")
        if len(set(self.variables)) != len(self.variables):
            p.append("a variable is named twice")
        odd = sorted(set(self.multi_valued) - set(self.variables))
        if odd:
            p.append(f"multi_valued names {odd}, which are not row or column variables")
        if self.subset is not None and (not isinstance(self.subset, str) or not self.subset):
            p.append(f"subset must be a non-empty name or null, got {self.subset!r}")
        return p

    @property
    def variables(self) -> tuple[str, ...]:
        """Row variables then column variables."""
        return (*self.rows, *self.columns)


@dataclass
class LinkedTable:
    """One table of a linked set: its labels and what is published of it.

    ``published`` is the extended grid (interior, row totals, column totals, grand total)
    with ``nan`` where a cell is suppressed; ``values`` the true extended grid, only for a
    table being decided (the others are known as an intruder knows them).
    """

    name: str
    link: TableLink
    row_labels: list[tuple[str, ...]]
    col_labels: list[tuple[str, ...]]
    published: np.ndarray
    round_base: int | None = None
    min_interval: float = 0.0
    values: np.ndarray | None = None

    def __post_init__(self) -> None:
        r, c = len(self.row_labels), len(self.col_labels)
        problems = []
        if self.published.shape != (r + 1, c + 1):
            problems.append(
                f"{self.name}: published grid has shape {self.published.shape}, expected "
                f"{(r + 1, c + 1)} ({r} rows and {c} columns plus totals)"
            )
        for what, labels, names in (
            ("row", self.row_labels, self.link.rows),
            ("column", self.col_labels, self.link.columns),
        ):
            bad = [lab for lab in labels if len(lab) != len(names)]
            if bad:
                problems.append(
                    f"{self.name}: {what} label {bad[0]!r} does not give one value for each of "
                    f"the {what} variables {list(names)}"
                )
        if problems:
            raise ConfigError("linked table", problems)


def rounding_interval(value: float, base: int | None) -> tuple[float, float]:
    """What an intruder knows of a whole count published as ``value`` rounded to ``base``
    (round half up): ``[value - base/2, value + base/2)`` in whole numbers, not below 0."""
    if not base or base <= 1:
        return value, value
    lo = max(np.ceil(value - base / 2.0), 0.0)
    hi = np.ceil(value + base / 2.0) - 1.0
    return float(lo), float(hi)


def _subset_var(name: str) -> str:
    return f"\x00subset:{name}"


def _acyclic(edges: list[frozenset[str]]) -> bool:
    """GYO reduction: an acyclic hypergraph reduces to nothing by removing vertices in one
    edge only and edges empty or contained in another (of two equal edges, the later)."""
    es = [set(e) for e in edges]
    changed = True
    while changed:
        changed = False
        for e in es:
            lone = {v for v in e if sum(v in f for f in es) == 1}
            if lone:
                e -= lone
                changed = True
        keep = []
        for i, e in enumerate(es):
            inside = any(j != i and e <= f and (e != f or j < i) for j, f in enumerate(es))
            if e and not inside:
                keep.append(e)
            else:
                changed = True
        es = keep
    return not es


def _junction_tree(edges: list[frozenset[str]]) -> list[tuple[int, int]] | None:
    """A junction tree of an acyclic hypergraph (maximum spanning tree on shared variables,
    checked for the running-intersection property), or ``None``."""
    n = len(edges)
    if n <= 1:
        return []
    if not _acyclic(edges):
        return None
    pairs = sorted(
        ((len(edges[i] & edges[j]), i, j) for i in range(n) for j in range(i + 1, n)),
        key=lambda x: (-x[0], x[1], x[2]),
    )
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    tree = []
    for _, i, j in pairs:
        a, b = root(i), root(j)
        if a != b:
            parent[a] = b
            tree.append((i, j))
    adj: dict[int, list[int]] = {i: [] for i in range(n)}
    for i, j in tree:
        adj[i].append(j)
        adj[j].append(i)
    for i in range(n):  # running intersection: shared variables lie on the whole path
        for j in range(i + 1, n):
            path = _path(adj, i, j)
            if any(not (edges[i] & edges[j]) <= edges[k] for k in path):
                return None
    return tree


def _path(adj: dict[int, list[int]], a: int, b: int) -> list[int]:
    prev = {a: a}
    todo = [a]
    while todo:
        x = todo.pop()
        for y in adj[x]:
            if y not in prev:
                prev[y] = x
                todo.append(y)
    out = [b]
    while out[-1] != a:
        out.append(prev[out[-1]])
    return out


@dataclass
class Cover:
    """The cover table of a set of linked tables and every table cell as a sum of its cells.

    Domains: each single-valued variable takes the categories the tables list (plus a
    residual for people outside every subset whose tables use it); a multi-valued variable
    takes every non-empty set of its non-exclusive categories and each exclusive category
    alone; each subset is in or out. ``matrix`` stacks every table's extended grid
    (row-major) over the base, then the separator constraints (known to be 0).

    When the tables' variable sets form an acyclic hypergraph (tables sharing only the
    cohort; a table and its sub-table), the base is each table's own cross-classification,
    tied to the others along a junction tree by equal margins on the shared variables: the
    projection of the cover table, exactly, and much smaller. Otherwise the base is the
    full cover table.
    """

    tables: list[LinkedTable]
    domains: dict[str, list[Any]] = field(default_factory=dict)
    blocks: list[tuple[list[str], np.ndarray]] = field(default_factory=list)
    matrix: sparse.csr_array = field(default_factory=lambda: sparse.csr_array((0, 0)))
    offsets: list[int] = field(default_factory=list)
    n_table_cells: int = 0
    decomposed: bool = False

    @classmethod
    def of(cls, tables: Sequence[LinkedTable]) -> Cover:
        """Build the cover of ``tables`` (all of one unit)."""
        tables = list(tables)
        units = sorted({t.link.unit for t in tables})
        if len(units) != 1:
            raise ConfigError("linked tables", [f"tables of several units {units} given"])
        cover = cls(tables)
        cover._domains()
        edges = [cover._local(t) for t in tables]
        tree = _junction_tree([frozenset(e) for e in edges])
        if tree is not None and len(tables) > 1:
            cover.decomposed = True
            cover.blocks = [(e, cover._codes(e)) for e in edges]
            cover._matrix(list(range(len(tables))), tree)
        else:
            allvars = list(dict.fromkeys(v for e in edges for v in e))
            cover.blocks = [(allvars, cover._codes(allvars))]
            cover._matrix([0] * len(tables), [])
        return cover

    @property
    def n_base(self) -> int:
        """Cells of the base (cover cells, or the tables' own cells when decomposed)."""
        return sum(len(c) for _, c in self.blocks)

    def _local(self, t: LinkedTable) -> list[str]:
        out = list(t.link.variables)
        if t.link.subset is not None:
            out.append(_subset_var(t.link.subset))
        return out

    def _domains(self) -> None:
        cats: dict[str, list[str]] = {}
        multi: set[str] = set()
        exclusive: set[str] = set()
        in_all: dict[str, bool] = {}
        for t in self.tables:
            multi |= set(t.link.multi_valued)
            exclusive |= set(t.link.exclusive)
            for var in t.link.variables:
                labels = t.row_labels if var in t.link.rows else t.col_labels
                pos = list(t.link.rows if var in t.link.rows else t.link.columns).index(var)
                seen = cats.setdefault(var, [])
                for lab in labels:
                    if lab[pos] not in seen:
                        seen.append(lab[pos])
                in_all[var] = in_all.get(var, False) or t.link.subset is None
            if t.link.subset is not None:
                self.domains[_subset_var(t.link.subset)] = [False, True]
        for var, values in cats.items():
            if var in multi:
                plain = [v for v in values if v not in exclusive]
                if len(plain) > 16:
                    raise ConfigError(
                        "linked tables",
                        [f"multi-valued variable {var!r} has {len(plain)} categories (at most 16)"],
                    )
                dom: list[Any] = [
                    frozenset(c)
                    for k in range(1, len(plain) + 1)
                    for c in itertools.combinations(plain, k)
                ]
                dom += [frozenset([v]) for v in values if v in exclusive]
                if not in_all[var]:
                    dom.append(frozenset())
            else:
                dom = list(values) + ([] if in_all[var] else [RESIDUAL])
            self.domains[var] = dom

    def _codes(self, names: list[str]) -> np.ndarray:
        """Every combination of the domains of ``names`` that can hold people."""
        sizes = [len(self.domains[v]) for v in names]
        n = int(np.prod(sizes, dtype=np.float64)) if sizes else 1
        if n > MAX_COVER_CELLS:
            raise ConfigError(
                "linked tables",
                [
                    f"the tables {[t.name for t in self.tables]} of unit "
                    f"{self.tables[0].link.unit!r} span a cover table of {n} cells (at most "
                    f"{MAX_COVER_CELLS}); publish fewer variables of this population"
                ],
            )
        codes = np.array(list(itertools.product(*[range(s) for s in sizes])), dtype=np.int64)
        codes = codes.reshape(len(codes), len(sizes))
        keep = np.ones(len(codes), dtype=bool)
        # inside a subset, every variable its tables use has a tabulated value
        for t in self.tables:
            if t.link.subset is None or _subset_var(t.link.subset) not in names:
                continue
            inside = codes[:, names.index(_subset_var(t.link.subset))] == 1
            for var in t.link.variables:
                if var not in names:
                    continue
                dom = self.domains[var]
                res = [i for i, d in enumerate(dom) if d == RESIDUAL or d == frozenset()]
                if res:
                    keep &= ~(inside & np.isin(codes[:, names.index(var)], res))
        return codes[keep]

    def _weights(
        self, t: LinkedTable, axis: str, names: list[str], codes: np.ndarray
    ) -> np.ndarray:
        """(n_block, n_labels) multiplicity of each base cell under each row/column label."""
        vars_ = t.link.rows if axis == "rows" else t.link.columns
        labels = t.row_labels if axis == "rows" else t.col_labels
        w = np.ones((len(codes), len(labels)))
        for pos, var in enumerate(vars_):
            j = names.index(var)
            dom = self.domains[var]
            for k, lab in enumerate(labels):
                if var in t.link.multi_valued:
                    hit = np.array([lab[pos] in d for d in dom])
                else:
                    hit = np.array([d == lab[pos] for d in dom])
                w[:, k] *= hit[codes[:, j]]
        return w

    def _matrix(self, block_of: list[int], tree: list[tuple[int, int]]) -> None:
        starts = np.cumsum([0] + [len(c) for _, c in self.blocks])
        n_base = int(starts[-1])
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        self.offsets = []
        offset = 0
        for t, b in zip(self.tables, block_of, strict=True):
            names, codes = self.blocks[b]
            rw = self._weights(t, "rows", names, codes)
            cw = self._weights(t, "columns", names, codes)
            if t.link.subset is not None:
                inside = (codes[:, names.index(_subset_var(t.link.subset))] == 1).astype(float)
                rw = rw * inside[:, None]
            rw = np.hstack([rw, rw.sum(axis=1, keepdims=True)])
            cw = np.hstack([cw, cw.sum(axis=1, keepdims=True)])
            self.offsets.append(offset)
            # cell (i, j) of the extended grid = rw[:, i] * cw[:, j], row-major
            for i in range(rw.shape[1]):
                for j in range(cw.shape[1]):
                    w = rw[:, i] * cw[:, j]
                    nz = np.flatnonzero(w)
                    rows.append(np.full(len(nz), offset))
                    cols.append(nz + starts[b])
                    vals.append(w[nz])
                    offset += 1
        self.n_table_cells = offset
        for i, j in tree:  # equal margins on the shared variables
            names_i, codes_i = self.blocks[i]
            names_j, codes_j = self.blocks[j]
            sep = [v for v in names_i if v in names_j]
            key_i = [tuple(r) for r in codes_i[:, [names_i.index(v) for v in sep]]]
            key_j = [tuple(r) for r in codes_j[:, [names_j.index(v) for v in sep]]]
            for key in sorted(set(key_i) | set(key_j)):
                in_i = np.flatnonzero([k == key for k in key_i])
                in_j = np.flatnonzero([k == key for k in key_j])
                rows.append(np.full(len(in_i) + len(in_j), offset))
                cols.append(np.concatenate([in_i + starts[i], in_j + starts[j]]))
                vals.append(np.concatenate([np.ones(len(in_i)), -np.ones(len(in_j))]))
                offset += 1
        self.matrix = sparse.csr_array(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(offset, n_base),
        )

    def cells_of(self, k: int) -> slice:
        """Rows of :attr:`matrix` holding table ``k``'s extended grid."""
        t = self.tables[k]
        n = (len(t.row_labels) + 1) * (len(t.col_labels) + 1)
        return slice(self.offsets[k], self.offsets[k] + n)


def known_cells(cover: Cover) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What an intruder knows of every cell: published cells as points or rounding
    intervals; suppressed cells unknown; separator constraints are 0."""
    n = cover.matrix.shape[0]
    known = np.zeros(n, dtype=bool)
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    known[cover.n_table_cells :] = True
    lo[cover.n_table_cells :] = 0.0
    hi[cover.n_table_cells :] = 0.0
    for k, t in enumerate(cover.tables):
        sl = cover.cells_of(k)
        flat = np.asarray(t.published, dtype=float).ravel()
        seen = ~np.isnan(flat)
        known[sl] = seen
        pairs = [
            rounding_interval(v, t.round_base) if s else (np.nan, np.nan)
            for v, s in zip(flat, seen, strict=True)
        ]
        lo[sl] = [a for a, _ in pairs]
        hi[sl] = [b for _, b in pairs]
    return known, lo, hi
