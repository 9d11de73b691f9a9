"""The reports manifest: code version, parameters, input and output hashes, package versions."""

from __future__ import annotations

import importlib.metadata as md
import platform
from pathlib import Path
from typing import Any

from fdac_research._io import sha256_file
from fdac_research.dataset import code_version

__all__ = ["hash_tree", "package_versions", "build_manifest"]

_PACKAGES = (
    "fdac-research",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "statsmodels",
    "splink",
    "duckdb",
    "recordlinkage",
    "sdv",
    "sdmetrics",
    "torch",
    "matplotlib",
    "papermill",
    "nbconvert",
    "nbformat",
    "ipykernel",
    "pyarrow",
)


def hash_tree(folder: Path, *, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (relative POSIX paths, sorted)."""
    folder = Path(folder)
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and not any(rel == e or rel.startswith(e + "/") for e in exclude):
            out[rel] = sha256_file(p)
    return out


def package_versions() -> dict[str, str]:
    """Installed versions of the packages the results depend on."""
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def build_manifest(
    *,
    parameters: dict[str, Any],
    inputs: dict[str, Path],
    outputs: Path,
    stages: list[dict[str, Any]],
    notebooks: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A manifest linking every output to the code, parameters and inputs that made it.

    Paths in it are relative (``<work>/research``, ``<data>``): no local folder names.
    ``code_version`` ends in ``.dirty`` when the checkout had local changes; ``notebooks``
    gives the SHA-256 of each notebook that was run."""
    return {
        "code_version": code_version(),
        "notebooks": notebooks or {},
        "python": platform.python_version(),
        "packages": package_versions(),
        "parameters": parameters,
        "inputs": {name: hash_tree(path) for name, path in inputs.items() if Path(path).is_dir()},
        "stages": stages,
        "outputs": hash_tree(outputs, exclude=("manifest.json", "benchmarks")),
        # benchmark results carried over from an earlier `make bench`, not made by this run
        "carried_over": hash_tree(Path(outputs) / "benchmarks")
        if (Path(outputs) / "benchmarks").is_dir()
        else {},
    }
