"""The published site opens in headless Chromium with every link and image resolving.

Skipped where Chromium is not installed (CI installs Debian's chromium first).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from fdac_research.reports import execute_notebook, render_html
from fdac_research.reports._index import write_index
from tests.reports._browser import check_site, chromium, layout_problems

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed"),
]


def _site(tmp: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A report"),
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "from IPython.display import display\nfig, ax = plt.subplots(); ax.bar(['a', 'b'], [3, 4]); display(fig); plt.close(fig)"
        ),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    src = tmp / "src.ipynb"
    nbformat.write(nb, src)
    site = tmp / "site"
    executed = execute_notebook(src, tmp / "run.ipynb", {})
    render_html(executed, site / "report.html", title="A report")
    (site / "tables").mkdir()
    (site / "tables" / "t.csv").write_text("a,b\n10,15\n")
    (site / "manifest.json").write_text("{}\n")
    return write_index(site, [("report.html", "A report", "test")], ["tables/t.csv"], ["note"])


def test_site_opens_with_links_and_images(tmp_path: Path) -> None:
    counts = check_site(_site(tmp_path))
    # index links: the report, the table, the manifest; the report holds one figure
    assert counts == {"pages": 2, "links": 3, "images": 1}


def test_broken_link_is_caught(tmp_path: Path) -> None:
    index = _site(tmp_path)
    (index.parent / "tables" / "t.csv").unlink()
    with pytest.raises(AssertionError, match="does not resolve"):
        check_site(index)


def test_layout_probe_finds_wide_tables_and_missing_alt_text(tmp_path: Path) -> None:
    """The probe the pipeline test runs on every page: a table wider than the page and an
    image with nbconvert's placeholder alt text are both reported; a narrow table and an
    image with real alt text are not."""
    page = tmp_path / "page.html"
    wide = "".join(f"<td>{'x' * 40}</td>" for _ in range(60))
    page.write_text(
        "<!DOCTYPE html><html><body><div style='max-width:1339px'>"
        "<table><caption>narrow</caption><tr><td>1</td></tr></table>"
        f"<table><caption>wide</caption><tr>{wide}</tr></table></div>"
        '<img src="a.png" alt="No description has been provided for this image">'
        '<img src="b.png" alt="Bar chart of cases by court">'
        "</body></html>",
        encoding="utf-8",
    )
    found = layout_problems(page)
    assert len(found["overflow"]) == 1 and "wide" in found["overflow"][0]
    assert found["alt"] == ["a.png"]
