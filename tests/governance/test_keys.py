"""The key: where it may come from, what is refused, and the pseudonyms it gives."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from fdac_research.cli import main
from fdac_research.exceptions import ConfigError, KeyMissingError
from fdac_research.governance import KEY_ENV, Pseudonymiser, load_key

GOOD = "a-perfectly-fine-random-key-91827"


def test_missing_key_says_how(tmp_path: Path) -> None:
    with pytest.raises(KeyMissingError) as err:
        load_key(environ={})
    assert KEY_ENV in str(err.value) and "--key-file" in str(err.value)


def test_env_and_file(tmp_path: Path) -> None:
    assert load_key(environ={KEY_ENV: GOOD}) == (GOOD.encode(), "secret")
    f = tmp_path / "k"
    f.write_text(GOOD + "\n")
    f.chmod(0o600)
    assert load_key(f, environ={KEY_ENV: "ignored-because-file-wins-123"})[0] == GOOD.encode()


@pytest.mark.parametrize("key", ["short-key", "aaaaaaaaaaaaaaaaaaaaaaaa", "abababababababababab"])
def test_weak_keys_refused(key: str) -> None:
    with pytest.raises(ConfigError, match="key"):
        load_key(environ={KEY_ENV: key})


def test_key_file_in_git_work_tree_refused(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    f = tmp_path / "repo" / "secrets" / "k.txt"
    f.parent.mkdir()
    f.write_text(GOOD)
    with pytest.raises(ConfigError, match="git work tree"):
        load_key(f, environ={})


def test_demo_only_for_synthetic(small_world: Path, non_synthetic: Path) -> None:
    key, kind = load_key(demo=True, sources=small_world, environ={})
    assert kind == "demo" and len(key) >= 16
    with pytest.raises(ConfigError, match="synthetic"):
        load_key(demo=True, sources=non_synthetic, environ={})
    with pytest.raises(ConfigError, match="choose one"):
        load_key(demo=True, sources=small_world, environ={KEY_ENV: GOOD})


def test_cli_refuses_without_key_and_demo_on_real(
    non_synthetic: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    args = ["build", str(non_synthetic), "--crosswalk", str(tmp_path), "--out", str(tmp_path / "r")]
    assert main(args) == 2
    assert KEY_ENV in capsys.readouterr().err
    assert main([*args, "--demo-key"]) == 2
    assert "only accepted for synthetic worlds" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_pseudonyms_match_stdlib_hmac() -> None:
    key = GOOD.encode()
    p = Pseudonymiser(key)
    got = p.pseudonyms("case", ["FD1", "FD2"])
    # oracle: Python's hmac module, HMAC-SHA256 over "case|<ref>", first 16 hex characters
    want = [
        hmac.new(key, f"case|{r}".encode(), hashlib.sha256).hexdigest()[:16] for r in ("FD1", "FD2")
    ]
    assert list(got) == want
    assert p.pseudonyms("person", ["FD1"])[0] != got[0]  # domains are separated
    assert GOOD not in repr(p) and key.hex() not in repr(p)
    assert len(Pseudonymiser(key, length=20).pseudonyms("case", ["FD1"])[0]) == 20


def test_cli_build_with_env_key_and_demo_key_never_written(
    linked_world: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from fdac_research.governance._keys import _DEMO_KEY

    src, link = linked_world
    monkeypatch.setenv(KEY_ENV, GOOD)
    base = ["build", str(src), "--crosswalk", str(link)]
    assert main([*base, "--out", str(tmp_path / "env")]) == 0
    monkeypatch.delenv(KEY_ENV)
    assert main([*base, "--out", str(tmp_path / "demo"), "--demo-key"]) == 0
    printed = capsys.readouterr()
    assert "fingerprint" in printed.out
    for p in tmp_path.rglob("*"):
        if p.is_file():
            b = p.read_bytes()
            assert (
                GOOD.encode() not in b and _DEMO_KEY not in b and _DEMO_KEY.hex().encode() not in b
            )
    assert GOOD not in printed.out + printed.err
    assert _DEMO_KEY.decode() not in printed.out + printed.err
    m = (tmp_path / "demo" / "manifest.json").read_text()
    assert '"kind": "demo"' in m
