"""The pseudonymisation key and keyed pseudonyms (HMAC-SHA256, domain-separated).

The key is a secret held by the data controller. It is read from the environment variable
``FDAC_PSEUDONYM_KEY`` or from a key file that lives outside any git work tree; it is never
written to an output, a manifest or a log. Only a *fingerprint* (an HMAC of a fixed label,
which cannot be turned back into the key) is recorded, so that two builds can be checked to
have used the same key without revealing it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import stat
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fdac_research.exceptions import ConfigError, FdacResearchError, KeyMissingError
from fdac_research.truth import is_synthetic

__all__ = [
    "KEY_ENV",
    "MIN_KEY_BYTES",
    "Pseudonymiser",
    "load_key",
    "is_synthetic",
]

log = logging.getLogger(__name__)

KEY_ENV = "FDAC_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16
_MIN_DISTINCT_BYTES = 8
# Public and therefore worthless as a secret: only ever accepted for synthetic worlds.
_DEMO_KEY = b"fdac-research public demo key: synthetic worlds only, never real data"
_FINGERPRINT_LABEL = b"fdac-research key fingerprint v1"

_HOW_TO = (
    f"provide a secret key of at least {MIN_KEY_BYTES} bytes in the environment variable "
    f"{KEY_ENV} or in a key file outside the repository (--key-file PATH); for example "
    '`python -c "import secrets; print(secrets.token_hex(32))" > ~/.fdac/pseudonym.key` '
    "(keep it with the controller, never in git). For synthetic worlds only, --demo-key uses "
    "a public demo key."
)


def _git_work_tree(path: Path) -> Path | None:
    """The git work tree ``path`` lies in, or ``None``."""
    for folder in path.parents:
        if (folder / ".git").exists():
            return folder
    return None


def _check_strength(key: bytes, where: str) -> None:
    problems = []
    if len(key) < MIN_KEY_BYTES:
        problems.append(
            f"the key from {where} is too short ({len(key)} bytes); use at least "
            f"{MIN_KEY_BYTES} random bytes (32 recommended)"
        )
    elif len(set(key)) < _MIN_DISTINCT_BYTES:
        problems.append(
            f"the key from {where} has fewer than {_MIN_DISTINCT_BYTES} distinct bytes; "
            "use a random key"
        )
    if problems:
        raise ConfigError("pseudonymisation key", problems)


def load_key(
    key_file: Path | str | None = None,
    *,
    demo: bool = False,
    sources: Path | str | None = None,
    environ: dict[str, str] | None = None,
) -> tuple[bytes, str]:
    """Find the pseudonymisation key.

    Parameters
    ----------
    key_file : path, optional
        A file holding the key (surrounding whitespace is stripped). It must lie outside any
        git work tree. Takes precedence over the environment variable.
    demo : bool
        Use the public demo key. Accepted only when ``sources`` is a synthetic world and no
        other key is given.
    sources : path, optional
        The sources folder (needed to check ``demo``).
    environ : dict, optional
        Environment to read ``FDAC_PSEUDONYM_KEY`` from (default ``os.environ``).

    Returns
    -------
    key : bytes
        The key.
    kind : {"secret", "demo"}
        Which kind of key it is (recorded in the manifest; the key itself never is).

    Raises
    ------
    KeyMissingError
        No key was provided (the message says how to provide one).
    ConfigError
        The key is weak, the key file is inside a git work tree or unreadable, or the demo
        key was asked for on data that is not synthetic.
    """
    env = os.environ if environ is None else environ
    env_key = env.get(KEY_ENV, "")
    if demo:
        problems = []
        if key_file is not None or env_key:
            problems.append(
                "--demo-key was given together with a real key "
                f"({'--key-file' if key_file is not None else KEY_ENV}); choose one"
            )
        if sources is None or not is_synthetic(sources):
            problems.append(
                f"the demo key is only accepted for synthetic worlds (a sources folder with a "
                f"truth/ folder holding people.csv, agency_links.csv or effects.json); "
                f"{sources} is not one. {_HOW_TO}"
            )
        if problems:
            raise ConfigError("pseudonymisation key", problems)
        log.warning("using the PUBLIC demo key: pseudonyms are not secret (synthetic data only)")
        return _DEMO_KEY, "demo"
    if key_file is not None:
        path = Path(key_file).expanduser().resolve()
        tree = _git_work_tree(path)
        if tree is not None:
            raise ConfigError(
                "pseudonymisation key",
                [
                    f"key file {path} is inside the git work tree {tree}; keys must never "
                    "live in a repository. Move it outside (for example ~/.fdac/) and point "
                    "--key-file at it"
                ],
            )
        try:
            key = path.read_bytes().strip()
            mode = path.stat().st_mode
        except OSError as err:
            raise ConfigError(
                "pseudonymisation key", [f"cannot read key file {path}: {err.strerror}"]
            ) from err
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("key file %s is readable by group/others; chmod 600 it", path)
        _check_strength(key, f"key file {path}")
        return key, "secret"
    if env_key:
        key = env_key.strip().encode("utf-8")
        _check_strength(key, f"environment variable {KEY_ENV}")
        return key, "secret"
    raise KeyMissingError(f"no pseudonymisation key: {_HOW_TO}")


class Pseudonymiser:
    """Keyed, domain-separated pseudonyms: ``HMAC-SHA256(key, domain + "|" + ref)``.

    The hex digest is truncated to ``length`` characters (64 bits by default). Different
    domains (``"case"``, ``"person"``) give unrelated pseudonyms for the same text; the same
    key gives the same pseudonyms on every run; without the key they cannot be recomputed or
    reversed.

    Parameters
    ----------
    key : bytes
        The secret key (see :func:`load_key`).
    length : int
        Hex characters kept (16 to 64).

    Examples
    --------
    >>> p = Pseudonymiser(b"an example key, not a real one")
    >>> a = p.pseudonyms("case", ["FD1", "FD2"])
    >>> len(a[0]), a[0] != p.pseudonyms("person", ["FD1"])[0]
    (16, True)
    """

    __slots__ = ("_base", "length", "fingerprint")

    def __init__(self, key: bytes, *, length: int = 16) -> None:
        if not isinstance(key, bytes) or not key:
            raise ConfigError("Pseudonymiser", ["key must be non-empty bytes"])
        if not 16 <= length <= 64:
            raise ConfigError("Pseudonymiser", [f"length must be in [16, 64], got {length!r}"])
        self._base = hmac.new(key, digestmod=hashlib.sha256)
        self.length = length
        fp = self._base.copy()
        fp.update(_FINGERPRINT_LABEL)
        #: A public, irreversible fingerprint of the key (to check two builds used one key).
        self.fingerprint = fp.hexdigest()[:16]

    def __repr__(self) -> str:
        return f"Pseudonymiser(length={self.length}, fingerprint={self.fingerprint!r})"

    def pseudonyms(self, domain: str, refs: Sequence[str] | np.ndarray) -> np.ndarray:
        """Pseudonyms of ``refs`` in ``domain``; raises if two distinct refs collide.

        Parameters
        ----------
        domain : str
            A label separating kinds of identifier (letters only, e.g. ``"case"``).
        refs : sequence of str
            Source references (non-empty strings).

        Returns
        -------
        numpy.ndarray of str (object dtype)
        """
        if not domain.isalpha():
            raise ValueError(f"domain must be letters only, got {domain!r}")
        prefix = f"{domain}|".encode()
        base, n = self._base, self.length
        values = list(refs)
        out = np.empty(len(values), dtype=object)
        for i, ref in enumerate(values):
            if not isinstance(ref, str) or not ref:
                raise FdacResearchError(
                    f"cannot pseudonymise an empty or non-text {domain} reference (row {i})"
                )
            h = base.copy()
            h.update(prefix + ref.encode("utf-8"))
            out[i] = h.hexdigest()[:n]
        distinct_refs = len(set(values))
        if len(set(out)) != distinct_refs:
            raise FdacResearchError(
                f"pseudonym collision among {distinct_refs} {domain} references at "
                f"{n} hex characters; rebuild with a longer pseudonym length"
            )
        return out
