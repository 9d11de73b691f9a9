"""Private: the rule sets of the table output check (:class:`TableRules`) and the presets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from fdac_research.config import ConfigBase
from fdac_research.exceptions import ConfigError

__all__ = ["TableRules", "PRESETS", "rules_from"]


@dataclass(frozen=True)
class TableRules(ConfigBase):
    """A disclosure-control rule set for tables.

    Attributes
    ----------
    name : str
        Label used in reports.
    threshold : int
        Cells counting fewer than this many people (contributors for magnitudes), but more
        than zero, are suppressed.
    zeros_disclosive : bool
        Suppress zero cells too (a zero can reveal that nobody in a group has an attribute).
    p_percent : float or None
        p%-rule for magnitudes (percent): unsafe when the cell minus its two largest
        contributions is below ``p%`` of the largest.
    dominance_n, dominance_k : int, float or None
        (n,k)-dominance for magnitudes: unsafe when the ``n`` largest contributions exceed
        ``k`` percent of the cell.
    dominance_inclusive : bool
        Unsafe also when the ``n`` largest hold exactly ``k`` percent (ACRO's ``>=``).
    round_base : int or None
        Round every published value to a multiple of this (after suppression).
    secondary : bool
        Add complementary suppressions so no suppressed cell is recoverable from margins.
    min_interval : float or None
        Sliding protection level: the intruder's feasible interval of every suppressed cell
        (primary or secondary) must be at least this wide. ``None`` (default): the
        ``threshold`` for frequency tables (nobody can tell a suppressed count within a band
        as wide as the threshold), and no level beyond a positive width for magnitudes
        (whose primary cells get the levels of their rule, below). ``0``: only a positive
        width (one person, for counts), the rule before protection levels.
    protection_percent : float
        Sliding level as a percent of the cell's value, for every suppressed cell (the
        larger of this and ``min_interval`` applies).
    upper_protection_percent, lower_protection_percent : float
        Upper and lower protection levels of primary cells, in percent of the cell's value:
        the intruder's upper bound must reach ``value * (1 + upper%)`` and the lower bound
        ``value * (1 - lower%)``. Primary magnitude cells also get the upper level their
        sensitivity rule implies (tau-Argus): ``p% * x1 - (X - x1 - x2)`` for the p%-rule and
        ``(100 / k) * (top n) - X`` for dominance, so that the intruder's best estimate of the
        cell cannot bring the largest contributor within p% (or the top n within k%).
    """

    SCHEMA_VERSION: ClassVar[int] = 1

    name: str = "custom"
    threshold: int = 10
    zeros_disclosive: bool = False
    p_percent: float | None = 10.0
    dominance_n: int | None = 2
    dominance_k: float | None = 85.0
    dominance_inclusive: bool = False
    round_base: int | None = None
    secondary: bool = True
    min_interval: float | None = None
    protection_percent: float = 0.0
    upper_protection_percent: float = 0.0
    lower_protection_percent: float = 0.0

    def _problems(self) -> list[str]:
        p = []
        if not isinstance(self.threshold, int) or self.threshold < 0:
            p.append(f"threshold must be a whole number >= 0, got {self.threshold!r}")
        if self.p_percent is not None and not 0 < self.p_percent < 100:
            p.append(f"p_percent must be in (0, 100), got {self.p_percent!r}")
        if (self.dominance_n is None) != (self.dominance_k is None):
            p.append("give both dominance_n and dominance_k, or neither")
        if self.dominance_n is not None and (
            not isinstance(self.dominance_n, int) or self.dominance_n < 1
        ):
            p.append(f"dominance_n must be a whole number >= 1, got {self.dominance_n!r}")
        if self.dominance_k is not None and not 0 < self.dominance_k <= 100:
            p.append(f"dominance_k must be in (0, 100], got {self.dominance_k!r}")
        if self.round_base is not None and (
            not isinstance(self.round_base, int) or self.round_base < 1
        ):
            p.append(f"round_base must be a whole number >= 1, got {self.round_base!r}")
        if self.min_interval is not None and (
            isinstance(self.min_interval, bool)
            or not isinstance(self.min_interval, int | float)
            or self.min_interval < 0
        ):
            p.append(f"min_interval must be a number >= 0 or null, got {self.min_interval!r}")
        if not 0 <= self.protection_percent < 100:
            p.append(f"protection_percent must be in [0, 100), got {self.protection_percent!r}")
        for name in ("upper_protection_percent", "lower_protection_percent"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 100:
                p.append(f"{name} must be in [0, 100], got {v!r}")
        for name in ("dominance_inclusive", "zeros_disclosive", "secondary"):
            if not isinstance(getattr(self, name), bool):
                p.append(f"{name} must be true or false, got {getattr(self, name)!r}")
        return p

    def sliding_level(self, kind: str) -> float:
        """The sliding protection level (least interval width) for a ``kind`` table."""
        if self.min_interval is not None:
            return float(self.min_interval)
        return float(self.threshold) if kind == "frequency" else 0.0

    def protection(self, kind: str = "frequency") -> dict[str, Any]:
        """The protection levels, as recorded with a published table."""
        return {
            "min_interval": self.sliding_level(kind),
            "protection_percent": self.protection_percent,
            "upper_protection_percent": self.upper_protection_percent,
            "lower_protection_percent": self.lower_protection_percent,
            "sensitivity_levels": kind == "magnitude",
        }


PRESETS: dict[str, TableRules] = {
    "ons_10_5": TableRules(name="ons_10_5", threshold=10, round_base=5),
    "nhs_1_7_round_5": TableRules(name="nhs_1_7_round_5", threshold=8, round_base=5),
    "tre_10_zeros": TableRules(
        name="tre_10_zeros",
        threshold=10,
        zeros_disclosive=True,
        dominance_k=90.0,
        dominance_inclusive=True,
    ),
}


def rules_from(rules: TableRules | str | dict[str, Any]) -> TableRules:
    """A :class:`TableRules` from a preset name, a dict / JSON / YAML path, or itself."""
    if isinstance(rules, TableRules):
        return rules
    if isinstance(rules, dict):
        return TableRules.from_dict(rules)
    if isinstance(rules, str):
        if rules in PRESETS:
            return PRESETS[rules]
        if rules.endswith((".json", ".yaml", ".yml")):
            return TableRules.from_file(rules)
        raise ConfigError(
            "table rules",
            [
                f"unknown preset {rules!r}; presets are {sorted(PRESETS)} (or give a .json/.yaml rules file)"
            ],
        )
    raise ConfigError(
        "table rules", [f"expected a preset name, a dict or TableRules, got {type(rules).__name__}"]
    )
