"""The report notebooks as JupyterLab runs them, without parameters: their tables go to a
scratch folder, never into ``reports/`` (whose files ``reports/manifest.json`` hashes); a
missing input names the parameter, the folder and what to run; the kernel is the one
``make env`` installs."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from fdac_research.exceptions import ConfigError
from fdac_research.reports import NotebookFailed, execute_notebook
from fdac_research.reports._inputs import SCRATCH_TABLES, prepare_notebook
from fdac_research.reports.pipeline import NOTEBOOKS, RUN_ORDER, default_notebook_dir

NOTEBOOK_DIR = default_notebook_dir()


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _checkout(tmp: Path, name: str) -> Path:
    """A checkout's layout: ``notebooks/<name>`` and a published ``reports/`` folder."""
    (tmp / "notebooks").mkdir()
    shutil.copy(NOTEBOOK_DIR / name, tmp / "notebooks" / name)
    (tmp / "reports" / "tables").mkdir(parents=True)
    (tmp / "reports" / "tables" / "cohort_court.csv").write_text("court,families\nA,15\n")
    (tmp / "reports" / "manifest.json").write_text("{}\n")
    return tmp / "notebooks" / name


@pytest.mark.parametrize("name", [nb for nb, _, _ in NOTEBOOKS])
def test_every_notebook_defaults_to_scratch_and_the_installed_kernel(name: str) -> None:
    nb = json.loads((NOTEBOOK_DIR / name).read_text())
    assert nb["metadata"]["kernelspec"] == {
        "display_name": "Python 3 (fdac-research)",  # Makefile: ipykernel install --display-name
        "language": "python",
        "name": "python3",
    }
    params = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    source = "".join(params["source"])
    assert f'tables_dir = "{SCRATCH_TABLES}"' in source
    assert "reports/" not in source.replace("never into reports/", "")
    # every parameter the pipeline passes is in the cell, with a comment saying what it is
    for line in source.splitlines():
        if "=" in line and not line.startswith("#"):
            assert "  # " in line, f"{name}: parameter without a comment: {line}"


def test_run_order_is_every_notebook_with_the_review_last() -> None:
    assert sorted(RUN_ORDER) == sorted(nb for nb, _, _ in NOTEBOOKS)
    assert RUN_ORDER[-1] == "04_disclosure_review.ipynb"


def test_missing_input_says_what_to_run(tmp_path: Path) -> None:
    src = _checkout(tmp_path, "01_cohort_profile.ipynb")
    before = _tree(tmp_path / "reports")
    with pytest.raises(NotebookFailed) as err:
        execute_notebook(src, tmp_path / "run.ipynb", {}, cwd=src.parent)
    text = str(err.value)
    assert "research_dir = '../data/work/research'" in text
    assert "make reports" in text and "parameters cell" in text
    assert _tree(tmp_path / "reports") == before


def test_prepare_notebook_lists_every_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        prepare_notebook(tmp_path / "t", research_dir=tmp_path / "r", linkage_dir=tmp_path / "l")
    assert len(err.value.problems) == 2
    assert "linkage_dir" in err.value.problems[1] and "data/work/linkage" in err.value.problems[1]
    assert not (tmp_path / "t").exists()  # nothing written when an input is missing
    assert prepare_notebook(tmp_path / "t", sources_dir="") == tmp_path / "t"  # "": not given


def test_unparameterised_run_leaves_reports_untouched(tmp_path: Path, small_research: Path) -> None:
    src = _checkout(tmp_path, "01_cohort_profile.ipynb")
    shutil.copytree(small_research, tmp_path / "data" / "work" / "research")
    before = _tree(tmp_path / "reports")
    execute_notebook(src, tmp_path / "run.ipynb", {}, cwd=src.parent)
    assert _tree(tmp_path / "reports") == before
    scratch = tmp_path / "data" / "work" / "scratch" / "tables"
    assert (scratch / "cohort_court.csv").is_file()
    assert (scratch / "cohort_court.check.json").is_file()


def test_pipeline_refuses_a_review_that_misses_a_table(tmp_path: Path) -> None:
    from fdac_research.exceptions import DisclosureError
    from fdac_research.reports.pipeline import _check_review_lists_every_table

    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "cohort_court.csv").write_text("court,families\nA,15\n")
    with pytest.raises(DisclosureError, match="did not publish its list"):
        _check_review_lists_every_table(tables)
    listing = tables / "disclosure_output_checks.csv"
    listing.write_text("published table\ncohort_court.csv\n")
    _check_review_lists_every_table(tables)  # every table but the list itself
    (tables / "synthetic_utility.csv").write_text("measure,value\nx,1\n")
    with pytest.raises(DisclosureError, match=r"not listed: \['synthetic_utility.csv'\]"):
        _check_review_lists_every_table(tables)
