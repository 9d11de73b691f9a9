"""Run a parameterised notebook with papermill and render it to deterministic HTML.

The kernel talks to papermill over Unix-domain sockets in a private (0700) temporary folder
rather than over TCP on localhost, where any local user of a shared machine could subscribe
to the kernel's output channel and read the outputs (real data in a secure environment);
that is also why ipykernel's "running over TCP without encryption" warning no longer appears.
Where Unix sockets are unavailable (Windows) or the socket path would be too long, TCP is
used and the warning stays.

Anything a notebook writes to stderr (warnings, log records) is for the researcher, not for
publication: it is taken out of the executed notebook and logged on the researcher's
terminal, so it never reaches a report.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # nbformat takes over a second to import: only where notebooks are run
    import nbformat

from fdac_research._io import private_tempdir
from fdac_research.exceptions import FdacResearchError

__all__ = ["NotebookFailed", "execute_notebook", "render_html", "normalise_notebook"]

log = logging.getLogger(__name__)

# Remote assets the default nbconvert templates reference; reports must open offline in a
# secure environment, so they are removed (the reports use no maths or widgets).
_REMOTE_ASSET = re.compile(r'<script[^>]+src="https?://[^"]+"[^>]*>\s*</script>\s*', re.I)
_MATHJAX_BLOCK = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
# The lab template's loader for Mermaid diagrams imports scripts from a CDN (the reports have
# no diagrams): removed so that a report holds no remote address at all.
_MERMAID_LOADER = re.compile(
    r'<script type="module">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*</script>\s*', re.S
)


#: Longest Unix-domain socket path (sun_path is 108 bytes on Linux, 104 on macOS).
_MAX_SOCKET_PATH = 100


class NotebookFailed(FdacResearchError, RuntimeError):
    """A notebook cell raised: the report is not produced."""


def _kernel_manager_class() -> type:
    """jupyter_client's kernel manager, without the interrupt it sends before a graceful
    shutdown: the notebook has finished by then, and the SIGINT only races with whatever
    the kernel is tidying up ("KeyboardInterrupt caught in kernel" in the build log). A
    kernel that does not stop is still sent SIGTERM and then SIGKILL."""
    from jupyter_client.manager import AsyncKernelManager

    class _KernelManager(AsyncKernelManager):
        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

        interrupt_kernel = _async_interrupt_kernel

    return _KernelManager


def _kernel_options(folder: Path) -> dict[str, Any]:
    """papermill keyword arguments for the kernel: the manager above and, where possible,
    the kernel's channels on Unix sockets in ``folder`` (TCP otherwise, as before)."""
    options: dict[str, Any] = {"kernel_manager_class": _kernel_manager_class()}
    prefix = folder / "k"
    if os.name != "posix" or len(f"{prefix}-65535") > _MAX_SOCKET_PATH:
        log.debug("kernel transport: tcp (no short private path for Unix sockets)")
        return options
    from traitlets.config import Config

    options["config"] = Config({"KernelManager": {"transport": "ipc", "ip": str(prefix)}})
    return options


def _move_stderr_to_log(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """Take every stderr stream out of the executed notebook and log it instead: the text
    at INFO (``fdac-research -v`` shows it), and one WARNING line saying how much there was."""
    lines = cells = 0
    for i, cell in enumerate(nb.cells):
        outputs = cell.get("outputs")
        if not outputs:
            continue
        errs = [
            o for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"
        ]
        if errs:
            text = "".join(str(o.get("text", "")) for o in errs).rstrip()
            log.info("%s, cell %d wrote to stderr (not published):\n%s", name, i, text)
            cell["outputs"] = [o for o in outputs if o not in errs]
            lines, cells = lines + len(text.splitlines()), cells + 1
    if cells:
        log.warning(
            "%s wrote %d line(s) to stderr in %d cell(s), not published (logged at INFO: "
            "`fdac-research -v` shows them)",
            name,
            lines,
            cells,
        )
    return nb


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
    progress_bar: bool | dict[str, Any] = False,
) -> nbformat.NotebookNode:
    """Execute ``notebook`` with ``parameters`` (papermill, ``python3`` kernel), write the
    normalised executed copy to ``output`` and return it. A cell error raises
    :class:`NotebookFailed` naming the notebook and the cell; stderr output is logged, not
    kept in the notebook. ``progress_bar`` is papermill's (tqdm arguments for a bar over
    the cells, on the terminal)."""
    import nbformat
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
        with private_tempdir("fdac-kernel-") as sockets:
            pm.execute_notebook(
                str(notebook),
                str(output),
                parameters=parameters,
                kernel_name="python3",
                progress_bar=progress_bar,
                log_output=False,
                cwd=str(cwd) if cwd else None,
                execution_timeout=timeout,
                **_kernel_options(Path(sockets)),
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
    nb = _move_stderr_to_log(nbformat.read(output, as_version=4), notebook.name)
    nb = normalise_notebook(nb)
    nbformat.write(nb, output)
    return nb


def render_html(nb: nbformat.NotebookNode, output: Path, *, title: str) -> Path:
    """Render an executed notebook to self-contained HTML (images inline, no remote assets,
    input code hidden behind the report's prose)."""
    import nbformat
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
    body = _MERMAID_LOADER.sub("", body)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(body, encoding="utf-8")
    return output
