"""File helpers shared by every stage: reading contract tables as text, writing them back in
the contract's format, atomic output folders, hashing and deterministic JSON."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research.exceptions import ContractError, Problem

try:  # advisory locks: POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

__all__ = [
    "find_table",
    "read_text_table",
    "write_table",
    "atomic_dir",
    "atomic_file",
    "private_tempdir",
    "sweep_stale",
    "sha256_file",
    "write_json",
    "to_contract_text",
    "neutralise_formula",
    "FORMULA_STARTS",
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


_PANDAS_INDEX = re.compile(r"^__index_level_\d+__$")


def _header_problems(names: list[str], file: str) -> list[Problem]:
    """Empty or repeated column names (after stripping surrounding whitespace)."""
    problems = []
    seen: set[str] = set()
    for i, name in enumerate(names, start=1):
        if not name:
            problems.append(
                Problem(file, None, 1, None, f"a column name in header cell {i} (it is empty)")
            )
        elif name in seen:
            problems.append(
                Problem(file, name, 1, None, "each column name once in the header (it is repeated)")
            )
        seen.add(name)
    return problems


def _csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        row = next(csv.reader(f), None)
    return [c.strip() for c in row] if row is not None else []


def read_text_table(path: Path, *, name: str | None = None) -> pd.DataFrame:
    """Read a contract table as raw text (every cell a ``str``, missing = ``""``).

    Column names are stripped of surrounding whitespace; an empty or repeated column name
    is a :class:`ContractError`. CSV may start with a UTF-8 byte-order mark. Parquet columns
    are rendered to the CSV text form so that one validator serves both. ``name`` is how
    the file is named in messages (default: its file name).
    """
    path = Path(path)
    file = name or path.name
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            names = [str(c) for c in pq.read_schema(path).names]
            header = [c.strip() for c in names if not _PANDAS_INDEX.match(c)]
        else:
            header = _csv_header(path)
        problems = _header_problems(header, file)
        if problems:
            raise ContractError(file, problems)
        if path.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            table = table.drop_columns([c for c in names if _PANDAS_INDEX.match(c)])
            nullable = {
                pa.bool_(): pd.BooleanDtype(),
                **{t: pd.Int64Dtype() for t in (pa.int8(), pa.int16(), pa.int32(), pa.int64())},
            }
            df = table.to_pandas(ignore_metadata=True, types_mapper=nullable.get)
            df.columns = header
            return pd.DataFrame({c: to_contract_text(df[c]) for c in df.columns})
        df = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            index_col=False,
        )
        df.columns = header
        return df
    except UnicodeDecodeError as err:
        raise ContractError(file, [Problem(file, None, None, None, "UTF-8 text")]) from err
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, ValueError) as err:
        if isinstance(err, ContractError):
            raise
        raise ContractError(
            file,
            [
                Problem(
                    file,
                    None,
                    None,
                    str(err)[:120],
                    "a readable CSV/Parquet file with a header row",
                )
            ],
        ) from err


#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise_formula(text: str) -> str:
    """``text`` made inert in a spreadsheet: a cell starting with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return gets a leading apostrophe, unless it is a plain number
    (``-3``, ``+0.5``).

    Examples
    --------
    >>> print(neutralise_formula('=HYPERLINK("http://x")'), neutralise_formula("-3"))
    '=HYPERLINK("http://x") -3
    >>> neutralise_formula("-cmd"), neutralise_formula("@SUM(A1)"), neutralise_formula("Leeds")
    ("'-cmd", "'@SUM(A1)", 'Leeds')
    """
    if text.startswith(FORMULA_STARTS) and not _NUMBER.match(text):
        return "'" + text
    return text


def write_table(df: pd.DataFrame, path: Path, *, published: bool = False) -> None:
    """Write ``df`` as a contract CSV (deterministic bytes: fixed formats, ``\\n`` endings).

    ``published=True`` is for anything that leaves (report tables, external extracts, a
    synthetic release): every cell and column name that a spreadsheet would run as a
    formula is neutralised (:func:`neutralise_formula`).
    """
    text = pd.DataFrame({c: to_contract_text(df[c]) for c in df.columns})
    if published:
        text = text.apply(lambda col: col.map(neutralise_formula))
        text.columns = [neutralise_formula(str(c)) for c in text.columns]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    text.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


class _Claim:
    """A lock file held (``flock``) while a process owns a temporary folder.

    Folders left by a process that was killed (``SIGKILL``, a power cut) are recognised by
    their lock file no longer being held, and removed by the next run that starts beside
    them (:func:`sweep_stale`): a process id alone could be reused.
    """

    def __init__(self, lock: Path) -> None:
        self.path = lock
        self._fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            os.close(self._fd)


def _is_held(lock: Path) -> bool:
    """Whether another live process holds ``lock``."""
    if fcntl is None:  # no advisory locks (Windows): never sweep what might be in use
        return lock.exists()
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def _token() -> str:
    return f"{os.getpid()}-{secrets.token_hex(4)}"


def sweep_stale(parent: Path, data_prefixes: tuple[str, ...], lock_prefix: str) -> list[str]:
    """Remove entries of ``parent`` named ``<data prefix><token>`` whose lock file
    ``<lock_prefix><token>`` is absent or no longer held, and such free lock files.

    Returns the names removed. Entries of live processes (held locks) are left alone.
    """
    removed: list[str] = []
    try:
        entries = sorted(os.listdir(parent))
    except OSError:
        return removed
    for name in entries:
        prefix = next((p for p in data_prefixes if name.startswith(p)), None)
        if prefix is not None:
            token = name[len(prefix) :]
            if token and not _is_held(parent / f"{lock_prefix}{token}"):
                path = parent / name
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        path.unlink()
                removed.append(name)
        elif name.startswith(lock_prefix) and not _is_held(parent / name):
            with contextlib.suppress(OSError):
                (parent / name).unlink()
    if removed:
        log.info("removed %d folder(s) left by an interrupted run in %s", len(removed), parent)
    return removed


@contextlib.contextmanager
def atomic_dir(target: Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target``.

    On any exception (``SIGTERM`` and ``SIGINT`` included, which the command line turns into
    exceptions) the temporary folder is removed and ``target`` is left untouched, so a
    failed stage never leaves a half-written output. Temporary and ``.old`` folders that a
    killed run left beside ``target`` are removed first.
    """
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; refusing to overwrite it")
    stem, parent = target.name, target.parent
    lock_prefix = f".{stem}.lock-"
    sweep_stale(parent, (f".{stem}.tmp-", f".{stem}.old-"), lock_prefix)
    token = _token()
    claim = _Claim(parent / f"{lock_prefix}{token}")
    tmp = parent / f".{stem}.tmp-{token}"
    old = parent / f".{stem}.old-{token}"
    try:
        tmp.mkdir(mode=0o700)
        try:
            yield tmp
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        had_old = target.exists()
        if had_old:
            target.rename(old)
        tmp.rename(target)
        os.chmod(target, 0o755)
        if had_old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        claim.release()


@contextlib.contextmanager
def private_tempdir(prefix: str, base: Path | str | None = None) -> Iterator[Path]:
    """A private (0700) temporary folder ``<base>/<prefix><token>`` removed on exit; folders
    with this prefix that a killed run left in ``base`` (default: the system temporary
    folder) are removed first."""
    parent = Path(base or tempfile.gettempdir())
    lock_prefix = f".{prefix}lock-"
    sweep_stale(parent, (prefix,), lock_prefix)
    token = _token()
    claim = _Claim(parent / f"{lock_prefix}{token}")
    folder = parent / f"{prefix}{token}"
    try:
        folder.mkdir(mode=0o700)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        claim.release()


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
