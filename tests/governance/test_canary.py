"""Canary test: plant unique identities in the sources, then look for them in every byte the
build and every shipped extract write, and in everything logged or printed."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import logging
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from fdac_research.cli import main
from fdac_research.governance import KEY_ENV, shipped_specs
from fdac_research.world import truth_crosswalk
from tests.governance._scan import all_bytes, tokens
from tests.governance.conftest import TEST_KEY

CANARY_DOB = "1901-02-03"
CANARY_POSTCODE = "ZZ9 9ZZ"


def _plant(sources: Path) -> list[str]:
    """Replace identities of some court people and agency records with unique canaries."""
    canaries = [CANARY_DOB, CANARY_POSTCODE]
    people = pd.read_csv(sources / "court_people.csv", dtype=str, keep_default_na=False)
    for k, i in enumerate(range(0, len(people), max(len(people) // 12, 1))):
        given, family = f"Zyxcanaryqv{k}", f"Qjcanaryfam{k}"
        people.loc[i, ["given_name", "family_name"]] = [given, family]
        canaries += [given, family]
        if k % 2 == 0:
            people.loc[i, ["date_of_birth", "postcode"]] = [CANARY_DOB, CANARY_POSTCODE]
    people.to_csv(sources / "court_people.csv", index=False, lineterminator="\n")
    for f in sorted((sources / "agencies").glob("*.csv")):
        rec = pd.read_csv(f, dtype=str, keep_default_na=False)
        for k in range(3):
            name = f"Vwcanaryag{f.stem.replace('_', '')}{k}"
            rec.loc[k * 7, ["given_name", "postcode"]] = [name, CANARY_POSTCODE]
            canaries.append(name)
        rec.to_csv(f, index=False, lineterminator="\n")
    return canaries


@pytest.fixture(scope="module")
def canary_run(
    small_world: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[str], dict[str, bytes], str, set[str]]:
    root = tmp_path_factory.mktemp("planted")  # the word "canary" must not be in paths
    src = root / "sources"
    shutil.copytree(small_world, src)
    canaries = _plant(src)
    truth_crosswalk(src, root / "link")
    keyfile = root / "keyfile"
    keyfile.write_bytes(TEST_KEY)
    keyfile.chmod(0o600)
    outputs = [root / "research"] + [root / f"extract_{n}" for n in sorted(shipped_specs())]
    mp = pytest.MonkeyPatch()
    mp.delenv(KEY_ENV, raising=False)
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record) + repr(record.args))

    handler = Keep(level=logging.DEBUG)
    root_logger = logging.getLogger()
    old = root_logger.level
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.DEBUG)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rcs = [
                main(
                    [
                        "-vv",
                        "build",
                        str(src),
                        "--crosswalk",
                        str(root / "link"),
                        "--out",
                        str(outputs[0]),
                        "--key-file",
                        str(keyfile),
                    ]
                )
            ]
            for name, folder in zip(sorted(shipped_specs()), outputs[1:], strict=True):
                rcs.append(main(["extract", str(outputs[0]), "--spec", name, "--out", str(folder)]))
    finally:
        root_logger.removeHandler(handler)
        root_logger.setLevel(old)
        mp.undo()
    assert rcs == [0] * len(rcs)
    blobs = all_bytes(*outputs)
    text = "\n".join(records) + out.getvalue() + err.getvalue()
    blobs["<logs and console>"] = text.encode()
    refs = set(pd.read_csv(src / "court_people.csv", dtype=str)["person_ref"])
    refs |= set(pd.read_csv(src / "court_cases.csv", dtype=str)["case_ref"])
    for f in (src / "agencies").glob("*.csv"):
        refs |= set(pd.read_csv(f, dtype=str)["record_id"])
    return src, canaries, blobs, text, refs


def test_outputs_were_written(canary_run: tuple) -> None:  # type: ignore[type-arg]
    _, canaries, blobs, text, _ = canary_run
    assert len(blobs) >= 12 and len(canaries) > 20
    assert "research dataset" in text  # the run's log was captured


def test_no_canary_anywhere(canary_run: tuple) -> None:  # type: ignore[type-arg]
    _, canaries, blobs, _, _ = canary_run
    for path, b in blobs.items():
        low = b.lower()
        for c in canaries:
            assert c.lower().encode() not in low, f"canary {c!r} in {path}"
        assert b"canary" not in low, path
        # no date and no postcode of any kind: the research side holds neither
        assert not re.search(rb"\b(19|20)\d\d-\d\d-\d\d\b", b), path
        assert not re.search(rb"\b[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}\b", b), path


def test_key_nowhere(canary_run: tuple) -> None:  # type: ignore[type-arg]
    _, _, blobs, _, _ = canary_run
    forms = [
        TEST_KEY,
        TEST_KEY.hex().encode(),
        TEST_KEY.hex().upper().encode(),
        base64.b64encode(TEST_KEY),
        base64.urlsafe_b64encode(TEST_KEY),
        base64.b64encode(TEST_KEY).rstrip(b"="),
    ]
    for path, b in blobs.items():
        for f in forms:
            assert f not in b, f"key form {f[:6]!r}... in {path}"


def test_no_source_reference_and_no_unkeyed_hash(canary_run: tuple) -> None:  # type: ignore[type-arg]
    _, _, blobs, _, refs = canary_run
    found = tokens(blobs)
    assert not refs & found, sorted(refs & found)[:5]
    hexes = {t.lower() for t in found if len(t) >= 8 and re.fullmatch(r"[0-9a-fA-F]+", t)}
    assert len(hexes) > 500  # the pseudonyms themselves are among the tokens
    lengths = {len(h) for h in hexes}
    for ref in refs:
        for text in (ref, f"case|{ref}", f"person|{ref}"):
            for algo in ("sha256", "md5", "sha1"):
                d = hashlib.new(algo, text.encode()).hexdigest()
                for n in lengths:
                    assert d[:n] not in hexes, f"unkeyed {algo} of a reference"
