"""The notebook runner: parameters injected, a cell error fails the run, HTML is byte-identical
across runs and self-contained (no remote scripts)."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

import nbformat
import pytest

from fdac_research.reports import NotebookFailed, execute_notebook, render_html


def _notebook(path: Path, *bodies: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("n = 3\nlabel = 'x'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), params]
    nb.cells += [nbformat.v4.new_code_cell(body) for body in bodies]
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
        assert "cdnjs" not in html and "import(" not in html  # nor a module loading one
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


KERNEL = """import sys
from ipykernel.kernelapp import IPKernelApp
app = IPKernelApp.instance()
print("transport", app.transport)
print("warning from the analysis: SENTINEL" + "-STDERR", file=sys.stderr)
"""


@pytest.mark.skipif(os.name != "posix", reason="Unix-domain sockets")
def test_kernel_on_private_unix_sockets_and_stderr_kept_out_of_the_report(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    src = _notebook(tmp_path / "k.ipynb", KERNEL)
    with caplog.at_level(logging.INFO, logger="fdac_research.reports._notebooks"):
        nb = execute_notebook(src, tmp_path / "out" / "k.ipynb", {})
    html = render_html(nb, tmp_path / "k.html", title="k").read_text()
    # papermill talked to the kernel over IPC, so ipykernel (which inherits this process's
    # stderr) did not warn about plain-text TCP
    assert "transport ipc" in html
    assert "without encryption" not in capfd.readouterr().err
    # what the notebook wrote to stderr went to the researcher's log, not into the report
    assert "SENTINEL-STDERR" not in html
    assert "SENTINEL-STDERR" not in (tmp_path / "out" / "k.ipynb").read_text()
    assert any("SENTINEL-STDERR" in r.getMessage() for r in caplog.records)
    # ... at INFO; the warning only says how much there was
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "SENTINEL" not in warned[0] and "1 line(s)" in warned[0]


GUARDED = """import pandas as pd
from IPython.display import display
from fdac_research.reports import publish_table, require_checked_tables
assert require_checked_tables()
counts = pd.DataFrame({"fdac": [120, 40], "comparison": [200, 30]}, index=["a", "b"])
display(publish_table(counts, "ok", tables_dir))
"""


def test_an_unchecked_table_fails_the_report(tmp_path: Path) -> None:
    """Once a report notebook asks for it, only tables returned by publish_* can be shown:
    showing the raw counts (or a copy of a published table) fails the cell and the build."""
    _notebook(tmp_path / "guard.ipynb", GUARDED, "display(counts)")
    (tmp_path / "tables").mkdir()
    out = tmp_path / "out.ipynb"
    with pytest.raises(NotebookFailed, match="DisclosureError.*not passed the output check"):
        execute_notebook(tmp_path / "guard.ipynb", out, {"tables_dir": str(tmp_path / "tables")})
    executed = nbformat.read(out, as_version=4)
    cells = {c.source.split("\n")[0]: c.get("outputs", []) for c in executed.cells}
    # the published table was shown; the unchecked one was not rendered at all
    assert any("text/html" in o.get("data", {}) for o in cells["import pandas as pd"])
    assert all(o["output_type"] == "error" for o in cells["display(counts)"])
    assert (tmp_path / "tables" / "ok.csv").is_file()


def test_no_interrupt_before_a_graceful_kernel_shutdown(monkeypatch: pytest.MonkeyPatch) -> None:
    """jupyter_client interrupts a kernel before shutting it down; the finished notebook's
    kernel is not interrupted (the SIGINT only raced with its tidying up), a running one is."""
    import asyncio

    from jupyter_client.manager import AsyncKernelManager

    from fdac_research.reports._notebooks import _kernel_manager_class

    calls = []

    async def record(self: AsyncKernelManager) -> None:
        calls.append(self.shutting_down)

    monkeypatch.setattr(AsyncKernelManager, "_async_interrupt_kernel", record)
    km = _kernel_manager_class()()
    asyncio.run(km.interrupt_kernel())  # e.g. a cell that timed out: interrupted
    km.shutting_down = True
    asyncio.run(km._async_interrupt_kernel())  # the step of shutdown_kernel: skipped
    assert calls == [False]
