"""A base for configs: frozen dataclasses that validate every field at once and round-trip
through JSON (and YAML) with a ``schema_version``; unknown keys are an error.

Subclasses implement ``_problems()`` returning a list of messages; ``__post_init__`` raises
one :class:`~fdac_research.exceptions.ConfigError` listing all of them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml

from fdac_research.exceptions import ConfigError

__all__ = ["ConfigBase"]

C = TypeVar("C", bound="ConfigBase")


@dataclasses.dataclass(frozen=True)
class ConfigBase:
    """Mixin for frozen, self-validating, serialisable configs."""

    SCHEMA_VERSION: ClassVar[int] = 1

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise ConfigError(type(self).__name__, problems)

    def _problems(self) -> list[str]:
        return []

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with ``schema_version``."""
        d = dataclasses.asdict(self)
        d = json.loads(json.dumps(d, default=list))  # tuples -> lists
        return {"schema_version": self.SCHEMA_VERSION, **d}

    @classmethod
    def from_dict(cls: type[C], d: dict[str, Any]) -> C:
        """Build from a dict; unknown keys and a wrong ``schema_version`` are errors."""
        if not isinstance(d, dict):
            raise ConfigError(cls.__name__, [f"expected a mapping, got {type(d).__name__}"])
        d = dict(d)
        version = d.pop("schema_version", cls.SCHEMA_VERSION)
        problems = []
        if version != cls.SCHEMA_VERSION:
            problems.append(
                f"schema_version {version!r} is not supported (expected {cls.SCHEMA_VERSION})"
            )
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            problems.append(f"unknown key(s) {unknown}; allowed keys are {sorted(names)}")
        if problems:
            raise ConfigError(cls.__name__, problems)
        try:
            return cls(**d)
        except TypeError as err:
            raise ConfigError(cls.__name__, [str(err)]) from err

    def to_json(self, path: Path | str | None = None) -> str:
        """Serialise to JSON text, writing it to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_file(cls: type[C], path: Path | str) -> C:
        """Load from a ``.json`` or ``.yaml``/``.yml`` file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
            data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
        except (OSError, json.JSONDecodeError, yaml.YAMLError) as err:
            raise ConfigError(f"{cls.__name__} file {path}", [str(err)]) from err
        return cls.from_dict(data)
