"""Progress bars for long work: tqdm, switched off under CI or when stderr is not a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress_enabled() -> bool:
    """Whether progress bars should be shown (not under CI, papermill or a non-TTY)."""
    if os.environ.get("FDAC_PROGRESS", "").lower() in {"0", "false", "off"}:
        return False
    if os.environ.get("CI") or os.environ.get("PAPERMILL_EXECUTION"):
        return False
    return sys.stderr.isatty()


def progress(iterable: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """Wrap ``iterable`` in a progress bar when progress is enabled."""
    yield from tqdm(iterable, desc=desc, total=total, disable=not progress_enabled(), leave=False)
