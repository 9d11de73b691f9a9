"""Run a parameterised notebook with papermill and render it to deterministic HTML."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import nbformat

from fdac_research.exceptions import FdacResearchError

__all__ = ["NotebookFailed", "execute_notebook", "render_html", "normalise_notebook"]

log = logging.getLogger(__name__)

# Remote assets the default nbconvert templates reference; reports must open offline in a
# secure environment, so they are removed (the reports use no maths or widgets).
_REMOTE_ASSET = re.compile(r'<script[^>]+src="https?://[^"]+"[^>]*>\s*</script>\s*', re.I)
_MATHJAX_BLOCK = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)


class NotebookFailed(FdacResearchError, RuntimeError):
    """A notebook cell raised: the report is not produced."""


def normalise_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip what differs between runs: timestamps, durations, random cell ids."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    return nb


def execute_notebook(
    notebook: Path,
    output: Path,
    parameters: dict[str, Any],
    *,
    cwd: Path | None = None,
    timeout: int = 1800,
) -> nbformat.NotebookNode:
    """Execute ``notebook`` with ``parameters`` (papermill, ``python3`` kernel), write the
    normalised executed copy to ``output`` and return it. A cell error raises
    :class:`NotebookFailed` naming the notebook and the cell."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    output.parent.mkdir(parents=True, exist_ok=True)
    env = {
        "PAPERMILL_EXECUTION": "1",
        "FDAC_PROGRESS": "0",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "PYTHONHASHSEED": "0",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    logging.getLogger("papermill").setLevel(logging.WARNING)  # stage progress is ours to print
    try:
        pm.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            cwd=str(cwd) if cwd else None,
            execution_timeout=timeout,
        )
    except PapermillExecutionError as err:
        raise NotebookFailed(
            f"notebook {notebook.name} failed in cell {err.exec_count}: {err.ename}: {err.evalue}"
        ) from err
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    nb = normalise_notebook(nbformat.read(output, as_version=4))
    nbformat.write(nb, output)
    return nb


def render_html(nb: nbformat.NotebookNode, output: Path, *, title: str) -> Path:
    """Render an executed notebook to self-contained HTML (images inline, no remote assets,
    input code hidden behind the report's prose)."""
    from nbconvert import HTMLExporter

    logging.getLogger("traitlets").setLevel(logging.ERROR)  # alt-text notices for figures
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    nb = nbformat.from_dict(nb)
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb)
    body = _MATHJAX_BLOCK.sub("", body)
    body = _REMOTE_ASSET.sub("", body)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(body, encoding="utf-8")
    return output
