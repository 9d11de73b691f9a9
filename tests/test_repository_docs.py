"""The repository's own papers: licence, citation metadata, and documents that point only at
files that exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_licence_file_matches_the_package_metadata() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert PROJECT["license"] == "MIT" and text.startswith("MIT License")
    assert re.search(r"Copyright \(c\) \d{4} fdac-research contributors", text)


def test_citation_metadata_is_cff_1_2_0_and_names_this_version() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    # the keys CFF 1.2.0 requires, and the version and licence of this package
    assert cff["cff-version"] == "1.2.0"
    assert cff["message"] and cff["title"] == PROJECT["name"]
    assert cff["authors"] and all(a.get("name") or a.get("family-names") for a in cff["authors"])
    assert str(cff["version"]) == PROJECT["version"] and cff["license"] == "MIT"
    assert cff.get("type", "software") in ("software", "dataset")


def _documents() -> list[Path]:
    docs = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
    return [p for p in docs if p.is_file()]


def test_no_reference_to_the_old_top_level_documents() -> None:
    """DATA-CONTRACT.md, FDAC-FIGURES.md and STYLE.md are not in the repository (the first
    two are docs/data-contract.md and docs/fdac-figures.md)."""
    old = re.compile(r"\b(DATA-CONTRACT|FDAC-FIGURES|STYLE)\.md")
    files = [*_documents(), *ROOT.glob("src/**/*.py"), *ROOT.glob("notebooks/*.ipynb")]
    hits = [p.relative_to(ROOT).as_posix() for p in files if old.search(p.read_text("utf-8"))]
    assert hits == []


def test_relative_links_in_the_documents_resolve() -> None:
    link = re.compile(r"\]\((?!https?:|#|mailto:)([^)#\s]+)")
    broken = [
        f"{doc.relative_to(ROOT)} -> {target}"
        for doc in _documents()
        for target in link.findall(doc.read_text(encoding="utf-8"))
        if not (doc.parent / target).exists()
    ]
    assert broken == []


def _readme_figures():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "readme_figures", ROOT / "tools" / "readme_figures.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_readme_figures_are_those_of_the_committed_benchmark_json() -> None:
    """Every ``<!-- figures:NAME -->`` block of the README is what tools/readme_figures.py
    renders from reports/benchmarks/NAME.json: no measured figure is typed by hand."""
    mod = _readme_figures()
    names = []
    for doc in mod.DOCUMENTS:
        text = doc.read_text(encoding="utf-8")
        names += re.findall(r"<!-- figures:([a-z_]+) -->", text)
        assert mod.render(text) == text, (
            f"{doc.name} figures are stale: run python tools/readme_figures.py"
        )
    assert {"world", "linkage", "synth", "linkage_peers"} <= set(names)


def test_readme_figures_name_the_missing_benchmark(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    mod = _readme_figures()
    monkeypatch.setattr(mod, "BENCH", tmp_path)
    monkeypatch.setattr(mod, "ROOT", tmp_path.parent)
    import pytest

    with pytest.raises(
        mod.FiguresError, match=r"world\.json not found: run `make bench BENCH=world`"
    ):
        mod.render("<!-- figures:world -->\nold\n<!-- /figures:world -->\n")
    with pytest.raises(mod.FiguresError, match="block 'nope' has no renderer"):
        mod.render("<!-- figures:nope -->\n<!-- /figures:nope -->\n")


def test_committed_benchmark_results_hold_no_local_paths() -> None:
    """reports/benchmarks/ is committed: no temporary folder or home path may leak into it."""
    leak = re.compile(r"(/tmp/|/home/|/root/|/work/|/Users/|[A-Z]:\\\\)")
    files = sorted((ROOT / "reports" / "benchmarks").glob("*.*"))
    assert files
    bad = [p.name for p in files if leak.search(p.read_text(encoding="utf-8"))]
    assert not bad, f"local paths in {bad}"
