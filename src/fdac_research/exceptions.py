"""The package's exceptions: one base class, a few subclasses that also inherit the built-in
they specialise, so callers may catch either ``FdacResearchError`` or the built-in.

Every error raised for bad input names what was wrong and where (file, column, row, value and
what was expected). Third-party failures are re-raised with context (``raise ... from err``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "FdacResearchError",
    "ConfigError",
    "ContractError",
    "Problem",
    "NotFittedError",
    "KeyMissingError",
    "ReleaseRefusedError",
    "DisclosureError",
    "DependencyError",
    "TrainingError",
]


class FdacResearchError(Exception):
    """Base class of every error this package raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found while validating data or a config.

    Attributes
    ----------
    file : str
        The file (or config section) the problem is in.
    column : str or None
        The column (or config key), if the problem concerns one.
    line : int or None
        The file line number of an example row (the header is line 1), if any.
    value : str or None
        An example of the offending value, if any.
    expected : str
        What was expected instead.
    count : int
        How many rows share the problem (the line/value are one example).
    """

    file: str
    column: str | None
    line: int | None
    value: str | None
    expected: str
    count: int = 1

    def __str__(self) -> str:
        where = self.file
        if self.column is not None:
            where += f", column '{self.column}'"
        if self.line is not None:
            where += f", line {self.line}"
        text = f"{where}: {self.expected}"
        if self.value is not None:
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            text += f" (got {shown!r})"
        if self.count > 1:
            text += f" [{self.count} rows]"
        return text


class ConfigError(FdacResearchError, ValueError):
    """A configuration (linkage model, extract spec, rule set, report run) is invalid.

    The message lists every problem found, not just the first.
    """

    def __init__(self, what: str, problems: Iterable[str]) -> None:
        self.what = what
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid {what} ({len(self.problems)} problem(s)):\n{lines}")


class ContractError(FdacResearchError, ValueError):
    """Data does not follow docs/data-contract.md. Lists every problem found."""

    def __init__(self, where: str, problems: Iterable[Problem]) -> None:
        self.where = where
        self.problems = list(problems)
        shown = self.problems[:200]
        lines = "\n".join(f"  - {p}" for p in shown)
        more = len(self.problems) - len(shown)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"{where} does not follow the data contract "
            f"({len(self.problems)} problem(s)):\n{lines}{tail}"
        )


class NotFittedError(FdacResearchError, AttributeError):
    """An estimator was used before ``fit``."""


class KeyMissingError(FdacResearchError, KeyError):
    """No pseudonymisation key was provided (environment variable or key file)."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "pseudonymisation key missing"


class DisclosureError(FdacResearchError, ValueError):
    """An output failed a disclosure (statistical disclosure control) check."""


class ReleaseRefusedError(FdacResearchError, RuntimeError):
    """A synthetic release failed the release gate; nothing was written."""


class DependencyError(FdacResearchError, RuntimeError):
    """An optional system dependency (Java for Spark, Chromium, ...) is unavailable."""


class TrainingError(FdacResearchError, ValueError):
    """A linkage model could not be estimated from the data itself: the blocking rules give
    no candidate pairs to train on, or EM/ECM has nothing to learn (for example a court in
    which no two people of different cases look alike). Engine failures (a Spark master that
    is not there, a backend out of memory) are not training errors."""
