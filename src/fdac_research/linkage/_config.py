"""The engine-neutral linkage model: settings as data (Splink's idea), validated as a whole.

A :class:`LinkageModelConfig` holds everything that defines a Fellegi-Sunter model: which
input columns are standardised how (which derived columns that creates), the blocking rules
that generate candidate pairs, the comparisons (each an ordered list of levels, the first
level whose condition holds wins), term-frequency adjustments, the prior (probability that
two random records match), the EM settings and the match threshold. Fitted m and u
probabilities live on the levels, so a fitted model is the same JSON with numbers filled in.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any, ClassVar

from fdac_research.config import ConfigBase
from fdac_research.exceptions import ConfigError
from fdac_research.linkage._blocking import Rule, normalise_rule, rule_problems

__all__ = [
    "LEVEL_KINDS",
    "COLUMN_KINDS",
    "ColumnSpec",
    "Level",
    "Comparison",
    "EMSettings",
    "LinkageModelConfig",
    "derived_columns",
]

#: Level kinds and what their condition means (``l``/``r``: the two records of a pair).
LEVEL_KINDS: dict[str, str] = {
    "null": "any of the columns is missing on either side",
    "exact": "every column equal on both sides",
    "jaro_winkler": "Jaro-Winkler similarity of the column >= threshold",
    "jaro": "Jaro similarity of the column >= threshold",
    "levenshtein": "Levenshtein distance of the column <= threshold",
    "damerau_levenshtein": "Damerau-Levenshtein distance of the column <= threshold",
    "columns_reversed": "two columns swapped: l.a = r.b and l.b = r.a (with a threshold: both "
    "crossed Jaro-Winkler similarities >= threshold)",
    "any_exact": "some column of the list on the left equals some column of the list on the right",
    "date_within": "dates (ISO text) at most threshold days apart",
    "sql": "a SQL condition in Splink's DuckDB syntax on <column>_l and <column>_r (custom level)",
    "else": "anything else (must be last)",
}
_NEEDS_THRESHOLD = {"jaro_winkler", "jaro", "levenshtein", "damerau_levenshtein", "date_within"}
_ONE_COLUMN = {"jaro_winkler", "jaro", "levenshtein", "damerau_levenshtein", "date_within"}

#: Column kinds: how a column is standardised and which derived columns it adds.
COLUMN_KINDS: dict[str, tuple[str, ...]] = {
    "name": ("", "_nick", "_first", "_last"),
    "postcode": ("", "_sector", "_district", "_area"),
    "date": ("", "_dm", "_ym", "_year", "_key"),
    "text": ("",),
    "category": ("",),
}


def derived_columns(name: str, kind: str) -> tuple[str, ...]:
    """The column names a :class:`ColumnSpec` of ``kind`` provides (``name`` first).

    Examples
    --------
    >>> derived_columns("postcode", "postcode")
    ('postcode', 'postcode_sector', 'postcode_district', 'postcode_area')
    """
    return tuple(f"{name}{suffix}" for suffix in COLUMN_KINDS[kind])


_SQL_COL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)_[lr]\b")


def sql_level_columns(sql: str) -> tuple[str, ...]:
    """Columns a custom SQL level reads (``x`` for every ``x_l`` / ``x_r``), in order.

    Examples
    --------
    >>> sql_level_columns("jaro_winkler_similarity(surname_l, surname_r) >= 0.9")
    ('surname',)
    """
    seen: list[str] = []
    for m in _SQL_COL.finditer(sql):
        if m.group(1) not in seen:
            seen.append(m.group(1))
    return tuple(seen)


def _is_prob(v: Any, *, open_: bool = False) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return False
    return 0 < v < 1 if open_ else 0 <= v <= 1


@dataclasses.dataclass(frozen=True)
class ColumnSpec(ConfigBase):
    """An input column and how it is standardised before comparison.

    Parameters
    ----------
    name : str
        Column in the input data.
    kind : {"name", "postcode", "date", "text", "category"}
        ``name``: upper-cased letters, hyphens and spaces; adds ``<name>_nick`` (nickname
        group), ``<name>_first`` and ``<name>_last`` (parts of a double-barrelled name).
        ``postcode``: upper-case, one space; adds ``_sector``, ``_district``, ``_area``.
        ``date``: a date (text in ``format``, ISO ``YYYY-MM-DD`` by default, any year
        from 1 to 9999; invalid dates become missing, counted in a warning); adds ``_dm`` (day and month swapped), ``_ym``
        (year-month), ``_year`` and ``_key`` (year plus the sorted day and month, equal for
        a date and its transposition: a blocking key). ``text``: trimmed upper case.
        ``category``: as given. Names are transliterated to Latin letters (``anyascii``:
        Михаил -> MIKHAIL), apostrophes dropped (d'Arcy -> DARCY) and generation suffixes
        (Jr, III, 3rd) removed.
    format : str, optional
        For ``date`` columns: the ``strftime`` format of the text (``"%Y%m%d"`` for FEBRL's
        ``19151111``); ``None`` reads ISO ``YYYY-MM-DD``.
    """

    name: str
    kind: str
    format: str | None = None

    def _problems(self) -> list[str]:
        p = []
        if not isinstance(self.name, str) or not self.name:
            p.append(f"column name must be a non-empty string, got {self.name!r}")
        if self.kind not in COLUMN_KINDS:
            p.append(
                f"column {self.name!r}: kind must be one of {sorted(COLUMN_KINDS)}, got {self.kind!r}"
            )
        if self.format is not None:
            if self.kind != "date":
                p.append(
                    f"column {self.name!r}: format applies only to kind 'date', not {self.kind!r}"
                )
            elif not isinstance(self.format, str) or "%" not in self.format:
                p.append(
                    f"column {self.name!r}: format must be a strftime format such as '%Y%m%d', "
                    f"got {self.format!r}"
                )
        return p


@dataclasses.dataclass(frozen=True)
class Level(ConfigBase):
    """One level of a comparison.

    Parameters
    ----------
    kind : str
        One of :data:`LEVEL_KINDS`.
    columns : tuple of str
        Columns the condition reads (input or derived names).
    threshold : float, optional
        Similarity (Jaro/Jaro-Winkler, in (0, 1]), distance (Levenshtein, whole number) or
        days (``date_within``).
    label : str
        Label shown in charts and the model JSON.
    tf_adjustment : bool
        Term-frequency adjustment on an ``exact`` level of one column: agreement on a rare
        value counts for more than agreement on a common one.
    m_probability, u_probability : float, optional
        Fitted probabilities of the level among matches (m) and non-matches (u).
    sql : str
        For kind ``sql``: the condition, in DuckDB SQL as Splink writes it, on
        ``<column>_l`` and ``<column>_r`` (for example ``"jaro_winkler_similarity(
        surname_l, surname_r) >= 0.9 AND substr(postcode_l, 1, 2) = substr(postcode_r, 1,
        2)"``). ``columns`` is then filled from the names the condition uses.
    """

    kind: str
    columns: tuple[str, ...] = ()
    threshold: float | None = None
    label: str = ""
    tf_adjustment: bool = False
    m_probability: float | None = None
    u_probability: float | None = None
    sql: str = ""

    def __post_init__(self) -> None:
        cols = tuple(self.columns)
        if self.kind == "sql" and not cols and isinstance(self.sql, str):
            cols = sql_level_columns(self.sql)
        object.__setattr__(self, "columns", cols)
        super().__post_init__()

    def _problems(self) -> list[str]:
        p = []
        if self.kind not in LEVEL_KINDS:
            p.append(f"level kind must be one of {sorted(LEVEL_KINDS)}, got {self.kind!r}")
            return p
        cols = self.columns
        if not all(isinstance(c, str) and c for c in cols):
            p.append(f"level {self.kind!r}: columns must be non-empty strings, got {list(cols)!r}")
        if self.kind == "else" and cols:
            p.append("level 'else' takes no columns")
        if self.kind == "sql" and (not isinstance(self.sql, str) or not self.sql.strip()):
            p.append("level 'sql' needs a SQL condition in 'sql' (on <column>_l and <column>_r)")
        elif self.kind != "sql" and self.sql:
            p.append(f"level {self.kind!r} takes no 'sql' (only kind 'sql' does)")
        if self.kind != "else" and not cols:
            p.append(f"level {self.kind!r} needs at least one column")
        if self.kind in _ONE_COLUMN and len(cols) > 1:
            p.append(f"level {self.kind!r} compares one column, got {list(cols)}")
        if self.kind == "columns_reversed" and len(cols) != 2:
            p.append(f"level 'columns_reversed' needs exactly two columns, got {list(cols)}")
        if self.kind in _NEEDS_THRESHOLD:
            t = self.threshold
            if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
                p.append(
                    f"level {self.kind!r} on {list(cols)} needs a numeric threshold, got {t!r}"
                )
            elif self.kind in {"jaro_winkler", "jaro"} and not 0 < t <= 1:
                p.append(f"level {self.kind!r}: threshold must be in (0, 1], got {t!r}")
            elif self.kind in {"levenshtein", "damerau_levenshtein", "date_within"} and (
                t < 0 or t != int(t)
            ):
                p.append(f"level {self.kind!r}: threshold must be a whole number >= 0, got {t!r}")
        elif self.kind == "columns_reversed" and self.threshold is not None:
            t = self.threshold
            if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t <= 1:
                p.append(
                    f"level 'columns_reversed': threshold (Jaro-Winkler) must be in (0, 1], got {t!r}"
                )
        elif self.threshold is not None:
            p.append(f"level {self.kind!r} takes no threshold, got {self.threshold!r}")
        if self.tf_adjustment and (self.kind != "exact" or len(cols) != 1):
            p.append("tf_adjustment applies only to an 'exact' level of one column")
        for name in ("m_probability", "u_probability"):
            v = getattr(self, name)
            if v is not None and not _is_prob(v):
                p.append(f"level {self.label or self.kind!r}: {name} must be in [0, 1], got {v!r}")
        return p

    @property
    def is_null(self) -> bool:
        """Whether this is the null level (no evidence either way)."""
        return self.kind == "null"


@dataclasses.dataclass(frozen=True)
class Comparison(ConfigBase):
    """A comparison: an ordered list of levels, the first matching level wins.

    The first level should be ``null`` (missing values give no evidence) and the last
    ``else``.
    """

    name: str
    levels: tuple[Level, ...]
    description: str = ""

    def __post_init__(self) -> None:
        levels = tuple(
            lv if isinstance(lv, Level) else _build(Level, lv, f"comparison {self.name!r} level")
            for lv in self.levels
        )
        object.__setattr__(self, "levels", levels)
        super().__post_init__()

    def _problems(self) -> list[str]:
        p = []
        if not isinstance(self.name, str) or not self.name.isidentifier():
            p.append(
                f"comparison name must be an identifier (letters, digits, _), got {self.name!r}"
            )
        if len(self.levels) < 2:
            p.append(f"comparison {self.name!r} needs at least two levels, got {len(self.levels)}")
            return p
        if self.levels[-1].kind != "else":
            p.append(
                f"comparison {self.name!r}: the last level must be 'else', got {self.levels[-1].kind!r}"
            )
        if any(lv.kind == "else" for lv in self.levels[:-1]):
            p.append(f"comparison {self.name!r}: 'else' may only be the last level")
        if any(lv.kind == "null" for lv in self.levels[1:]):
            p.append(f"comparison {self.name!r}: a 'null' level may only come first")
        if not [lv for lv in self.levels if lv.kind not in ("null", "else")]:
            p.append(
                f"comparison {self.name!r}: needs a level besides 'null' and 'else' (a "
                "comparison whose pairs all fall in 'else' carries no evidence)"
            )
        return p

    @property
    def columns(self) -> list[str]:
        """Every column the comparison's levels read (sorted, unique)."""
        return sorted({c for lv in self.levels for c in lv.columns})

    @property
    def is_fitted(self) -> bool:
        """Whether every non-null level has m and u probabilities."""
        return all(
            lv.m_probability is not None and lv.u_probability is not None
            for lv in self.levels
            if not lv.is_null
        )


@dataclasses.dataclass(frozen=True)
class EMSettings(ConfigBase):
    """How the model is trained without labels.

    Parameters
    ----------
    blocking_rules : tuple of rules
        One EM session per rule (a rule as in :mod:`fdac_research.linkage._blocking`: a list
        of columns or terms, or a SQL condition); parameters of
        the comparisons that use those columns are not estimated in that session.
    max_iterations : int
        EM iterations per session.
    tolerance : float
        Stop when no parameter moves more than this.
    u_max_pairs : int
        Random pairs sampled to estimate u probabilities.
    prior_rules : tuple of rules
        Deterministic rules (as ``blocking_rules``) used to estimate the prior when the
        model gives none.
    prior_recall : float
        Assumed recall of ``prior_rules``.
    max_pairs : int, optional
        Sample EM training pairs down to about this many per session (bounded time and
        memory on large data); ``None`` uses every blocked pair.
    """

    blocking_rules: tuple[Rule, ...] = ()
    max_iterations: int = 25
    tolerance: float = 1e-4
    u_max_pairs: int = 2_000_000
    prior_rules: tuple[Rule, ...] = ()
    prior_recall: float = 0.8
    max_pairs: int | None = 1_000_000

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "blocking_rules", tuple(normalise_rule(r) for r in self.blocking_rules)
        )
        object.__setattr__(self, "prior_rules", tuple(normalise_rule(r) for r in self.prior_rules))
        super().__post_init__()

    def _problems(self) -> list[str]:
        p = []
        if (
            isinstance(self.max_iterations, bool)
            or not isinstance(self.max_iterations, int)
            or self.max_iterations < 1
        ):
            p.append(f"max_iterations must be an integer >= 1, got {self.max_iterations!r}")
        if not _is_prob(self.tolerance, open_=True):
            p.append(f"tolerance must be in (0, 1), got {self.tolerance!r}")
        if (
            isinstance(self.u_max_pairs, bool)
            or not isinstance(self.u_max_pairs, int)
            or self.u_max_pairs < 1000
        ):
            p.append(f"u_max_pairs must be an integer >= 1000, got {self.u_max_pairs!r}")
        if self.max_pairs is not None and (
            isinstance(self.max_pairs, bool)
            or not isinstance(self.max_pairs, int)
            or self.max_pairs < 1000
        ):
            p.append(f"max_pairs must be an integer >= 1000 or null, got {self.max_pairs!r}")
        if not _is_prob(self.prior_recall) or self.prior_recall == 0:
            p.append(f"prior_recall must be in (0, 1], got {self.prior_recall!r}")
        for what in ("blocking_rules", "prior_rules"):
            for rule in getattr(self, what):
                p += [q for q in rule_problems(rule, (), what) if "that are not declared" not in q]
        return p


def _build(cls: type[Any], value: Any, where: str) -> Any:
    if isinstance(value, cls):
        return value
    try:
        return cls.from_dict(value)
    except ConfigError as err:
        raise ConfigError(f"{where}", err.problems) from err


@dataclasses.dataclass(frozen=True)
class LinkageModelConfig(ConfigBase):
    """An engine-neutral Fellegi-Sunter linkage model (settings as data).

    Parameters
    ----------
    columns : tuple of ColumnSpec
        Input columns and how each is standardised (see :class:`ColumnSpec`).
    comparisons : tuple of Comparison
        The comparisons whose levels make up the comparison vector of a pair.
    blocking_rules : tuple of rules
        Candidate pairs are those accepted by at least one rule. A rule is a list of terms
        that must all hold (a column name: equal on both records; ``{"left": a, "right":
        b}``: a column of one record equal to another of the other; ``{"column": c,
        "prefix": n}``: the first ``n`` characters equal), a SQL condition on ``l.`` and
        ``r.`` (Splink's syntax), or a ``splink.block_on(...)`` object.
    prior : float, optional
        Probability that two random records match; ``None`` estimates it at fit time from
        ``em.prior_rules``.
    em : EMSettings
        Training settings.
    match_threshold : float
        Match probability at or above which a pair is a link.
    prediction_floor : float
        Pairs below this match probability are not kept after prediction (keeps output
        bounded; the precision/recall curve starts here).
    nicknames : dict of str to list of str, optional
        Formal name -> informal forms. ``None`` uses :data:`fdac_research.reference.NICKNAMES`.
    description : str
        Free text.

    Examples
    --------
    >>> from fdac_research.linkage import uk_person_model, LinkageModelConfig
    >>> model = uk_person_model()
    >>> LinkageModelConfig.from_dict(model.to_dict()) == model
    True
    """

    SCHEMA_VERSION: ClassVar[int] = 1

    columns: tuple[ColumnSpec, ...]
    comparisons: tuple[Comparison, ...]
    blocking_rules: tuple[Rule, ...]
    prior: float | None = None
    em: EMSettings = dataclasses.field(default_factory=EMSettings)
    match_threshold: float = 0.9
    prediction_floor: float = 0.01
    nicknames: dict[str, tuple[str, ...]] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        errors: list[str] = []

        def build(cls: type[Any], value: Any, where: str) -> Any:
            try:
                return _build(cls, value, where)
            except ConfigError as err:
                errors.extend(f"{where}: {p}" for p in err.problems)
                return None

        cols = tuple(build(ColumnSpec, c, f"columns[{i}]") for i, c in enumerate(self.columns))
        comps = tuple(
            build(
                Comparison,
                c,
                f"comparisons[{i}]" + (f" ({c.get('name')!r})" if isinstance(c, dict) else ""),
            )
            for i, c in enumerate(self.comparisons)
        )
        em = build(EMSettings, self.em, "em")
        if errors:
            raise ConfigError(type(self).__name__, errors)
        object.__setattr__(self, "columns", cols)
        object.__setattr__(self, "comparisons", comps)
        object.__setattr__(self, "em", em)
        object.__setattr__(
            self, "blocking_rules", tuple(normalise_rule(r) for r in self.blocking_rules)
        )
        if self.nicknames is not None and isinstance(self.nicknames, dict):
            object.__setattr__(
                self, "nicknames", {str(k): tuple(v) for k, v in sorted(self.nicknames.items())}
            )
        super().__post_init__()

    def __hash__(self) -> int:  # nicknames is a dict; hash the JSON form
        return hash(self.to_json())

    # ------------------------------------------------------------------ validation
    @property
    def available_columns(self) -> list[str]:
        """Every column levels and blocking rules may name (inputs and derived)."""
        return [d for c in self.columns for d in derived_columns(c.name, c.kind)]

    @property
    def input_columns(self) -> list[str]:
        """The columns the input data must hold."""
        return [c.name for c in self.columns]

    def _problems(self) -> list[str]:
        p = []
        if not self.columns:
            p.append("columns: declare at least one input column")
        names = [c.name for c in self.columns]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            p.append(f"columns: each input column may be declared once; repeated {dup}")
        avail = set(self.available_columns)
        if not self.comparisons:
            p.append("comparisons: define at least one comparison")
        cnames = [c.name for c in self.comparisons]
        dupc = sorted({n for n in cnames if cnames.count(n) > 1})
        if dupc:
            p.append(f"comparisons: names must be unique; repeated {dupc}")
        for comp in self.comparisons:
            missing = [c for c in comp.columns if c not in avail]
            if missing:
                p.append(
                    f"comparison {comp.name!r} names column(s) {missing} that are not declared; available: {sorted(avail)}"
                )
        if not self.blocking_rules:
            p.append("blocking_rules: give at least one rule (a list of columns)")
        rules = [("blocking_rules", r) for r in self.blocking_rules]
        rules += [("em.blocking_rules", r) for r in self.em.blocking_rules]
        rules += [("em.prior_rules", r) for r in self.em.prior_rules]
        for where, rule in rules:
            p += rule_problems(rule, avail, where)
        if self.prior is not None and not _is_prob(self.prior, open_=True):
            p.append(f"prior must be in (0, 1) or null (estimate), got {self.prior!r}")
        if self.prior is None and not self.em.prior_rules:
            p.append(
                "prior is null (estimate) but em.prior_rules is empty: give a prior or rules to estimate it"
            )
        if not _is_prob(self.match_threshold, open_=True):
            p.append(f"match_threshold must be in (0, 1), got {self.match_threshold!r}")
        if not _is_prob(self.prediction_floor) or (
            _is_prob(self.match_threshold) and self.prediction_floor > self.match_threshold
        ):
            p.append(
                f"prediction_floor must be in [0, match_threshold], got {self.prediction_floor!r}"
            )
        if self.nicknames is not None and (
            not isinstance(self.nicknames, dict)
            or not all(
                isinstance(k, str) and isinstance(v, tuple) and all(isinstance(x, str) for x in v)
                for k, v in self.nicknames.items()
            )
        ):
            p.append("nicknames must map a formal name to a list of informal names")
        return p

    # ------------------------------------------------------------------ fitted state
    @property
    def is_fitted(self) -> bool:
        """Whether the prior and every level's m and u probabilities are set."""
        return self.prior is not None and all(c.is_fitted for c in self.comparisons)

    def with_parameters(
        self, prior: float | None, m_u: dict[str, list[tuple[float | None, float | None]]]
    ) -> LinkageModelConfig:
        """A copy with the prior and per-level (m, u) replaced.

        ``m_u`` maps a comparison name to one ``(m, u)`` per level (``None`` keeps the level
        unfitted, as for null levels).
        """
        comps = []
        for comp in self.comparisons:
            values = m_u.get(comp.name)
            if values is None:
                comps.append(comp)
                continue
            if len(values) != len(comp.levels):
                raise ConfigError(
                    "LinkageModelConfig",
                    [
                        f"comparison {comp.name!r}: {len(values)} (m, u) pairs for {len(comp.levels)} levels"
                    ],
                )
            levels = tuple(
                dataclasses.replace(lv, m_probability=_round(m), u_probability=_round(u))
                for lv, (m, u) in zip(comp.levels, values, strict=True)
            )
            comps.append(dataclasses.replace(comp, levels=levels))
        return dataclasses.replace(self, prior=_round(prior), comparisons=tuple(comps))

    def unfitted(self) -> LinkageModelConfig:
        """A copy with every m and u probability cleared (the prior is kept)."""
        m_u: dict[str, list[tuple[float | None, float | None]]] = {
            c.name: [(None, None)] * len(c.levels) for c in self.comparisons
        }
        return self.with_parameters(self.prior, m_u)


def _round(v: float | None) -> float | None:
    """Round fitted parameters to 10 significant digits so JSON is stable across runs."""
    if v is None:
        return None
    return float(f"{float(v):.10g}")
