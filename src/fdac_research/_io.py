"""File helpers shared by every stage: reading contract tables as text, writing them back in
the contract's format, atomic output folders, hashing and deterministic JSON."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research.exceptions import ContractError, Problem

__all__ = [
    "find_table",
    "read_text_table",
    "write_table",
    "atomic_dir",
    "atomic_file",
    "sha256_file",
    "write_json",
    "to_contract_text",
]


def find_table(folder: Path, stem: str) -> Path | None:
    """The CSV or Parquet file for ``stem`` in ``folder`` (CSV preferred), or ``None``."""
    for suffix in (".csv", ".parquet"):
        p = Path(folder) / f"{stem}{suffix}"
        if p.is_file():
            return p
    return None


def to_contract_text(s: pd.Series) -> pd.Series:
    """Render a typed column as contract text: ISO dates, ``true``/``false``, empty = missing."""
    if pd.api.types.is_bool_dtype(s) or str(s.dtype) == "boolean":
        out = s.map({True: "true", False: "false"})
        return out.where(s.notna(), "").astype(object)
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.strftime("%Y-%m-%d").where(s.notna(), "").astype(object)
    if pd.api.types.is_integer_dtype(s):
        return s.astype("Int64").astype(str).replace("<NA>", "").astype(object)
    if pd.api.types.is_float_dtype(s):
        vals = s.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(vals) & (np.round(vals) == vals)
        text = np.where(whole, np.char.mod("%d", np.nan_to_num(vals).astype(np.int64)), "")
        other = np.isfinite(vals) & ~whole
        if other.any():
            text = text.astype(object)
            text[other] = [repr(round(float(v), 6)) for v in vals[other]]
        return pd.Series(text, index=s.index, dtype=object)
    out = s.astype(object)
    return out.where(out.notna(), "").astype(str).astype(object)


def read_text_table(path: Path) -> pd.DataFrame:
    """Read a contract table as text (every cell a ``str``, missing = ``""``).

    Parquet columns are rendered to the CSV text form so that one validator serves both.
    """
    path = Path(path)
    try:
        if path.suffix == ".parquet":
            df = pd.read_parquet(path)
            return pd.DataFrame({c: to_contract_text(df[c]) for c in df.columns})
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8"
        )
    except UnicodeDecodeError as err:
        raise ContractError(
            str(path), [Problem(path.name, None, None, None, "UTF-8 text")]
        ) from err
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, ValueError) as err:
        raise ContractError(
            str(path),
            [
                Problem(
                    path.name,
                    None,
                    None,
                    str(err)[:120],
                    "a readable CSV/Parquet file with a header row",
                )
            ],
        ) from err


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` as a contract CSV (deterministic bytes: fixed formats, ``\\n`` endings)."""
    text = pd.DataFrame({c: to_contract_text(df[c]) for c in df.columns})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    text.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


@contextlib.contextmanager
def atomic_dir(target: Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target``.

    On any exception the temporary folder is removed and ``target`` is left untouched, so a
    failed stage never leaves a half-written output.
    """
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; refusing to overwrite it")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    tmp.rename(target)
    os.chmod(target, 0o755)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; renamed onto it only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.replace(target)
    finally:
        if tmp.exists():
            tmp.unlink()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_json(obj: Any, path: Path) -> None:
    """Write JSON deterministically (sorted keys, 2-space indent, trailing newline)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, indent=2, sort_keys=True, default=_default, allow_nan=False)
        f.write("\n")
