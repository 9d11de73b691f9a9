"""One pipeline stage on the terminal: its command in a child process, announced once, with
the child's progress drawn beneath.

The child reports progress as JSON events on a pipe (``FDAC_PROGRESS_FD``, see
:mod:`fdac_research._progress`); this module draws them in the pipeline's own mode: bars
under a live ``[i/n] stage`` line on a terminal (one line stays per stage), a few plain lines
in a log. The child's stderr is kept for the error message of a failed stage; on success
what it wrote (warnings only, at the default verbosity) is shown beneath the stage's line.
With ``-v`` the child gets ``-v`` too and its log lines are shown as they come. Nothing here
is ever written to a file.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from fdac_research._progress import FD_ENV, Progress, progress_mode, say
from fdac_research.exceptions import FdacResearchError

__all__ = ["INDENT", "StageFailed", "StageRun", "failure", "run_command", "show_lines"]

INDENT = "      "
_TAIL = 2000  # stderr lines kept per stage (enough for any error, bounded at -vv)


class StageFailed(FdacResearchError, RuntimeError):
    """A pipeline stage failed; nothing was written to the reports folder.

    The message ends with the last lines the stage's command wrote to stderr. On real data
    they can quote a bad cell (a validation message names the value, which may be a name),
    so the text lives only in this exception, for the researcher's terminal: the pipeline
    writes no log file, the manifest records only the command of each stage, and the
    reports folder is left exactly as it was.
    """


@dataclass
class StageRun:
    """What a stage's command did."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the stage gets SIGTERM if the pipeline dies, even by SIGKILL, so a killed
    pipeline never leaves a stage running (and writing) on its own."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _verbosity_flags() -> list[str]:
    """``-v``/``-vv`` for a stage, matching how much this process's log shows."""
    level = logging.getLogger("fdac_research").getEffectiveLevel()
    return ["-vv"] if level <= logging.DEBUG else ["-v"] if level <= logging.INFO else []


@contextmanager
def _stage_display(label: str, mode: str) -> Iterator[Progress | None]:
    """On a terminal: a live ``label  elapsed`` line, redrawn every second, cleared at the
    end (the caller then writes the stage's lasting line)."""
    if mode != "bar":
        yield None
        return
    bar = Progress(label, depth=0, mode="bar", leave=False, bar_format="{desc}  {elapsed}")
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(1.0):
            bar.refresh()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield bar
    finally:
        stop.set()
        ticker.join()
        bar.close()


def _draw_events(stream: IO[str], mode: str) -> None:
    """Draw a child's progress events (one JSON object a line) until the child closes the
    pipe: nested bars on a terminal, its outermost tasks' plain lines otherwise."""
    bars: dict[int, Progress] = {}
    try:
        for line in stream:
            try:
                ev = json.loads(line)
                key, depth, n = int(ev["id"]), int(ev["depth"]), int(ev["n"])
            except (ValueError, KeyError, TypeError):
                continue  # not an event: ignore rather than break the stage
            if ev.get("open"):
                bars[key] = Progress(
                    str(ev.get("desc", "")),
                    ev.get("total"),
                    depth=depth + 1,
                    plain=depth == 0,
                    prefix=INDENT,
                    mode=mode,
                    leave=False,
                )
                continue
            bar = bars.get(key)
            if bar is None:
                continue
            if n > bar.n or ev.get("status") is not None:
                bar.update(max(n - bar.n, 0), status=ev.get("status"))
            if ev.get("close"):
                bars.pop(key).close()
    finally:
        for bar in bars.values():
            bar.close()
        stream.close()


def _drain(stream: IO[str], sink: deque[str], echo: bool) -> None:
    for line in stream:
        sink.append(line)
        if echo:
            say(INDENT + line.rstrip("\n"))
    stream.close()


def run_command(label: str, public: str, cmd: list[str]) -> StageRun:
    """Run ``cmd`` (``python -m fdac_research.cli ...``) as the stage ``label``.

    Parameters
    ----------
    label : str
        ``"[2/7] link"``.
    public : str
        The command as shown (no local paths).
    cmd : list of str
        The command run.

    The stage is announced once: in a log, ``label: public`` when it starts and how long it
    took when it ends; on a terminal, a live line while it runs and ``label: public (time)``
    when it ends. The child gets this process's verbosity (``-v``/``-vv``) and a pipe for
    its progress; it dies with the pipeline. If the pipeline is interrupted meanwhile, the
    stage is ended first (it removes its own temporary folders on SIGTERM) and the
    interruption re-raised.
    """
    mode = progress_mode()
    if mode != "bar":
        say(f"{label}: {public}")
    flags = _verbosity_flags()
    cmd = [*cmd[:3], *flags, *cmd[3:]] if cmd[1:3] == ["-m", "fdac_research.cli"] else cmd
    env = {**os.environ}
    env.pop(FD_ENV, None)
    read_fd = write_fd = None
    if mode in ("bar", "plain") and os.name == "posix":
        read_fd, write_fd = os.pipe()
        env[FD_ENV] = str(write_fd)
    else:
        env["FDAC_PROGRESS"] = "0"
    t0 = time.perf_counter()
    out: deque[str] = deque()
    err: deque[str] = deque(maxlen=_TAIL)
    with _stage_display(label, mode):
        try:
            proc = subprocess.Popen(
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                pass_fds=() if write_fd is None else (write_fd,),
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        finally:
            if write_fd is not None:
                os.close(write_fd)  # the child holds the only writing end now
        assert proc.stdout is not None and proc.stderr is not None
        threads = [
            threading.Thread(target=_drain, args=(proc.stdout, out, False), daemon=True),
            threading.Thread(target=_drain, args=(proc.stderr, err, bool(flags)), daemon=True),
        ]
        if read_fd is not None:
            events = os.fdopen(read_fd, encoding="utf-8", errors="replace")
            threads.append(threading.Thread(target=_draw_events, args=(events, mode), daemon=True))
        for t in threads:
            t.start()
        try:
            proc.wait()
        except BaseException:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise
        finally:
            for t in threads:
                t.join(timeout=30)
    seconds = time.perf_counter() - t0
    rc = proc.returncode
    outcome = f"done in {seconds:.1f} s" if rc == 0 else f"exit {rc} after {seconds:.1f} s"
    stderr = "".join(err)
    # what a successful stage wrote to stderr: its warnings (all it writes by default)
    warnings = stderr.splitlines() if rc == 0 and not flags else []
    if mode == "bar":
        say(f"{label}: {public} ({outcome})")
    show_lines(warnings)
    if mode != "bar":
        say(INDENT + outcome)
    return StageRun(rc, "".join(out), stderr, seconds)


def show_lines(lines: list[str]) -> None:
    """A stage's own lines, indented under its line."""
    for line in lines:
        say(INDENT + line)


def failure(name: str, run: StageRun) -> StageFailed:
    """The error for a stage that failed, ending with its last output lines."""
    tail = "\n".join((run.stderr or run.stdout).strip().splitlines()[-25:])
    return StageFailed(
        f"stage '{name}' failed (exit {run.returncode}); its output, shown here only and "
        f"written nowhere:\n{tail}"
    )
