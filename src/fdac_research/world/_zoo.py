"""The world zoo: synthetic worlds that differ from the package's own in every way the data
contract allows (and two ways it forbids), so that every stage can be tested on data
"someone else" made.

A zoo world is the package's own world (:func:`generate_world`, with some
:class:`WorldConfig` overrides) read back as raw text, changed by a list of perturbations
(:mod:`fdac_research.world._zoo_perturb`) and written atomically. The same name, families
and seed give byte-identical files.

Examples
--------
>>> import tempfile
>>> from fdac_research.world import ZOO_WORLDS, make_zoo_world
>>> sorted(ZOO_WORLDS)[:3]
['bad_agency_name', 'duplicate_header', 'foreign']
>>> s = make_zoo_world("foreign", tempfile.mkdtemp() + "/z", families=30, seed=1)
>>> s["perturbations"][:2]
['foreign_names', 'foreign_places']
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from fdac_research._io import atomic_dir
from fdac_research.exceptions import ConfigError
from fdac_research.world._config import WorldConfig
from fdac_research.world._generate import generate_world
from fdac_research.world._zoo_io import ZooFiles, load_files, write_files
from fdac_research.world._zoo_perturb import PERTURBATIONS

__all__ = [
    "ZooWorld",
    "ZOO_WORLDS",
    "make_zoo_world",
    "zoo_config",
    "apply_perturbations",
    "perturbation_rng",
]

log = logging.getLogger(__name__)

Expect = Literal["valid", "reject"]


@dataclasses.dataclass(frozen=True)
class ZooWorld:
    """One zoo world.

    Attributes
    ----------
    name, description : str
        Its name and a one-line description.
    config : mapping
        :class:`WorldConfig` overrides (``n_families``, ``seed``, effect sizes, hidden
        confounder); ``families``/``seed`` given to :func:`make_zoo_world` override these.
    perturbations : tuple of str
        Names in :data:`PERTURBATIONS` (applied in that registry's order).
    expect : {"valid", "reject"}
        Whether ``fdac-research validate`` should accept the folder, or reject it naming
        the problem.
    slow : bool
        Too big for the fast test suite.
    """

    name: str
    description: str
    config: Mapping[str, Any] = dataclasses.field(hash=False)
    perturbations: tuple[str, ...]
    expect: Expect
    slow: bool = False


_VALID_COMBINABLE = (
    "foreign_names",
    "foreign_places",
    "foreign_substances",
    "extra_columns",
    "text_noise",
    "drop_optional",
)
_NO_EFFECT = {
    "reunification_odds_ratio": 1.0,
    "mother_cessation_odds_ratio": 1.0,
    "father_cessation_odds_ratio": 1.0,
}

ZOO_WORLDS: dict[str, ZooWorld] = {
    w.name: w
    for w in (
        ZooWorld(
            "foreign",
            "someone else's names, courts, local authorities and substance words, extra "
            "columns and text noise (BOM, CRLF, whitespace, case)",
            {"n_families": 150, "seed": 1101},
            (
                "foreign_names",
                "foreign_places",
                "foreign_substances",
                "extra_columns",
                "text_noise",
            ),
            "valid",
        ),
        ZooWorld(
            "parquet_minimal",
            "typed Parquet, no effect (all odds ratios 1), only required files and columns, "
            "no analysis attributes, no truth/",
            {"n_families": 150, "seed": 1102, **_NO_EFFECT},
            ("parquet", "drop_optional", "drop_attributes", "no_truth"),
            "valid",
        ),
        ZooWorld(
            "other_truth",
            "large effects (odds ratios 4) with hidden confounding, truth/ in another "
            "generator's layout, other courts and local authorities",
            {
                "n_families": 150,
                "seed": 1103,
                "reunification_odds_ratio": 4.0,
                "mother_cessation_odds_ratio": 4.0,
                "hidden_confounder": 1.0,
            },
            ("foreign_truth", "foreign_places"),
            "valid",
        ),
        ZooWorld(
            "noisy",
            "text noise only: after stripping whitespace and folding case of closed "
            "vocabularies it reads exactly like the clean world",
            {"n_families": 150, "seed": 1104},
            ("text_noise",),
            "valid",
        ),
        ZooWorld(
            "bad_agency_name",
            "an agency file named agencies/youth-offending.csv (hyphen): must be rejected, "
            "naming the file",
            {"n_families": 60, "seed": 1105},
            ("bad_agency_name",),
            "reject",
        ),
        ZooWorld(
            "duplicate_header",
            "court_cases.csv with the column 'court' twice (different values): must be rejected",
            {"n_families": 60, "seed": 1106},
            ("duplicate_header",),
            "reject",
        ),
        ZooWorld(
            "foreign_large",
            "1,000 families with every combinable valid perturbation (foreign names, places, "
            "substances, extra columns, text noise, optional parts dropped)",
            {"n_families": 1000, "seed": 1107},
            _VALID_COMBINABLE,
            "valid",
            slow=True,
        ),
    )
}


def _spec(world: str | ZooWorld) -> ZooWorld:
    if isinstance(world, ZooWorld):
        unknown = [p for p in world.perturbations if p not in PERTURBATIONS]
        if unknown:
            raise ConfigError(
                f"zoo world {world.name!r}",
                [f"unknown perturbation {p!r}; known: {', '.join(PERTURBATIONS)}" for p in unknown],
            )
        return world
    if world not in ZOO_WORLDS:
        raise ConfigError(
            "zoo world", [f"no zoo world {world!r}; known: {', '.join(sorted(ZOO_WORLDS))}"]
        )
    return ZOO_WORLDS[world]


def zoo_config(
    world: str | ZooWorld, *, families: int | None = None, seed: int | None = None
) -> WorldConfig:
    """The :class:`WorldConfig` a zoo world is generated with (before perturbation).

    ``generate_world(out, zoo_config(name, families=n, seed=s))`` writes the clean world
    that ``make_zoo_world(name, ..., families=n, seed=s)`` perturbs.
    """
    spec = _spec(world)
    overrides = dict(spec.config)
    if families is not None:
        overrides["n_families"] = families
    if seed is not None:
        overrides["seed"] = seed
    return dataclasses.replace(WorldConfig(), **overrides)


def perturbation_rng(seed: int, name: str) -> np.random.Generator:
    """The generator perturbation ``name`` draws from: seeded by the world's seed and the
    perturbation's name, so adding or removing another perturbation changes nothing else."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def apply_perturbations(files: ZooFiles, names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Apply ``names`` to ``files`` in place, in the registry's order; returns what each did."""
    unknown = [n for n in names if n not in PERTURBATIONS]
    if unknown:
        raise ConfigError(
            "perturbations",
            [f"unknown perturbation {n!r}; known: {', '.join(PERTURBATIONS)}" for n in unknown],
        )
    details = {}
    for name, fn in PERTURBATIONS.items():
        if name in names:
            details[name] = fn(files, perturbation_rng(files.config.seed, name))
    return details


def make_zoo_world(
    name: str | ZooWorld,
    out: Path | str,
    *,
    families: int | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """Write zoo world ``name`` (a key of :data:`ZOO_WORLDS`, or a :class:`ZooWorld`) to
    ``out``, replacing it atomically.

    Parameters
    ----------
    name : str or ZooWorld
        Which world.
    out : path
        Folder to write (nothing is half-written on failure).
    families, seed : int, optional
        Override the world's number of families and seed.

    Returns
    -------
    dict
        ``name``, ``description``, ``expect``, ``out``, ``families``, ``seed``, ``config``
        (the WorldConfig overrides used), ``perturbations`` (in the order applied),
        ``format``, ``files`` (relative paths written, sorted), ``rows`` (rows per table
        file), ``details`` (what each perturbation did) and ``seconds``.
    """
    start = time.perf_counter()
    spec = _spec(name)
    cfg = zoo_config(spec, families=families, seed=seed)
    with tempfile.TemporaryDirectory(prefix="fdac-zoo-") as tmp:
        base = Path(tmp) / "world"
        generate_world(base, cfg)
        files = load_files(base, cfg)
    details = apply_perturbations(files, spec.perturbations)
    out = Path(out)
    with atomic_dir(out) as target:
        written = write_files(files, target)
    log.info("wrote zoo world %r (%s) to %s", spec.name, ", ".join(spec.perturbations), out)
    suffix = ".parquet" if files.parquet else ".csv"
    overrides = {k: v for k, v in cfg.to_dict().items() if v != getattr(WorldConfig(), k, v)}
    return {
        "name": spec.name,
        "description": spec.description,
        "expect": spec.expect,
        "out": str(out),
        "families": cfg.n_families,
        "seed": cfg.seed,
        "config": overrides,
        "perturbations": [p for p in PERTURBATIONS if p in spec.perturbations],
        "format": suffix[1:],
        "files": written,
        "rows": {f"{k}{suffix}": int(len(v)) for k, v in sorted(files.tables.items())},
        "details": details,
        "seconds": round(time.perf_counter() - start, 3),
    }
