"""The notebook runner: parameters injected, a cell error fails the run, HTML is byte-identical
across runs and self-contained (no remote scripts)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import nbformat
import pytest

from fdac_research.reports import NotebookFailed, execute_notebook, render_html


def _notebook(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("n = 3\nlabel = 'x'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), params, nbformat.v4.new_code_cell(body)]
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


PLOT = """import matplotlib.pyplot as plt
from IPython.display import display
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot(range(n), [i * i for i in range(n)])
ax.set_title(label)
display(fig)
plt.close(fig)
print("n is", n)
"""


def test_parameters_injected_and_html_deterministic(tmp_path: Path) -> None:
    src = _notebook(tmp_path / "nb.ipynb", PLOT)
    digests = []
    for run in ("a", "b"):
        nb = execute_notebook(src, tmp_path / run / "nb.ipynb", {"n": 5, "label": "five"})
        out = render_html(nb, tmp_path / run / "nb.html", title="Test")
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
        html = out.read_text()
        assert "n is 5" in html  # the injected parameter won
        assert re.search(r'<img[^>]+src="data:image/png;base64,', html)  # figures inline
        assert 'src="http' not in html  # no remote scripts: opens offline
    assert digests[0] == digests[1]
    executed = nbformat.read(tmp_path / "a" / "nb.ipynb", as_version=4)
    assert "papermill" not in executed.metadata
    assert [c["id"] for c in executed.cells] == [
        f"cell-{i:03d}" for i in range(len(executed.cells))
    ]


def test_cell_error_fails_the_run(tmp_path: Path) -> None:
    src = _notebook(tmp_path / "bad.ipynb", "raise ValueError('table cell 3 is disclosive')")
    with pytest.raises(NotebookFailed, match="bad.ipynb.*disclosive"):
        execute_notebook(src, tmp_path / "out.ipynb", {})
