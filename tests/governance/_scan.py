"""Helpers that read every byte an output folder holds."""

from __future__ import annotations

import re
from pathlib import Path

_TOKEN = re.compile(rb"[A-Za-z0-9]+")


def all_bytes(*folders: Path) -> dict[str, bytes]:
    """Every file under ``folders`` (recursively, hidden files too), by path."""
    out = {}
    for folder in folders:
        for p in sorted(Path(folder).rglob("*")):
            if p.is_file():
                out[str(p)] = p.read_bytes()
    return out


def tokens(blobs: dict[str, bytes]) -> set[str]:
    """Every alphanumeric run in the files (ids, words, numbers)."""
    found: set[str] = set()
    for b in blobs.values():
        found.update(t.decode() for t in _TOKEN.findall(b))
    return found
