"""Progress of long work, on the researcher's terminal only (never in an output file).

Where progress goes (:func:`progress_mode`):

* ``"bar"``: stderr is a terminal (and not CI): tqdm bars on stderr, nested bars beneath.
* ``"plain"``: stderr is not a terminal (a log file, ``make`` in CI, a pipe): a few plain
  lines per outermost task (at its quarters), so a log shows what is running without a
  bar's carriage returns.
* ``"events"``: ``fdac-research pipeline`` runs this process as a stage and has set
  ``FDAC_PROGRESS_FD``: one JSON line per change goes to that file descriptor, and the
  pipeline draws it under its own line for the stage.
* ``"off"``: ``FDAC_PROGRESS=0`` (or ``off``/``false``), or inside a notebook kernel.

``FDAC_PROGRESS=bar`` or ``plain`` forces a mode. Status lines that belong with progress
(a pipeline stage starting) go through :func:`say`, which does not tear a drawn bar.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar

__all__ = [
    "Progress",
    "progress",
    "progress_enabled",
    "progress_from_log",
    "progress_mode",
    "say",
]

T = TypeVar("T")

MODE_ENV = "FDAC_PROGRESS"
FD_ENV = "FDAC_PROGRESS_FD"
_OFF = {"0", "false", "off", "no"}
_PLAIN_AFTER = 5.0  # seconds: a task quicker than this writes no plain line at all

_lock = threading.Lock()
_depth = 0  # bars open in this process's main flow (nested bars draw beneath)
_next_id = 0
_events: IO[str] | None = None
_events_lost = False  # the pipeline's pipe could not be opened or went away: report nothing


def progress_mode() -> str:
    """``"bar"``, ``"plain"``, ``"events"`` or ``"off"`` (see the module docstring)."""
    forced = os.environ.get(MODE_ENV, "").strip().lower()
    if forced in _OFF or os.environ.get("PAPERMILL_EXECUTION"):
        return "off"
    if os.environ.get(FD_ENV):
        return "off" if _events_lost else "events"
    if forced in ("bar", "plain"):
        return forced
    if type(sys.stderr).__module__.startswith("ipykernel"):  # a notebook cell's stderr
        return "off"
    tty = getattr(sys.stderr, "isatty", lambda: False)()
    return "bar" if tty and not os.environ.get("CI") else "plain"


def progress_enabled() -> bool:
    """Whether progress is reported at all (in any mode but ``"off"``)."""
    return progress_mode() != "off"


def say(text: str) -> None:
    """Write one status line to stderr without tearing a progress bar drawn there."""
    if progress_mode() == "bar":
        from tqdm import tqdm

        tqdm.write(text, file=sys.stderr)
    else:
        print(text, file=sys.stderr, flush=True)


def _emit(event: dict[str, Any]) -> None:
    global _events, _events_lost
    if _events_lost:
        return
    try:
        if _events is None:
            _events = os.fdopen(int(os.environ[FD_ENV]), "w", buffering=1, encoding="utf-8")
        _events.write(json.dumps(event, sort_keys=True) + "\n")
    except (KeyError, ValueError, OSError):  # no such pipe, or the pipeline went away
        _events, _events_lost = None, True


class Progress:
    """A progress report for one task: a bar, plain lines or events (see the module docs).

    Parameters
    ----------
    desc : str
        What is being done (``"linking agencies"``).
    total : int, optional
        Steps expected (unknown: only a count and the elapsed time are shown).
    depth : int, optional
        Nesting level (default: one below the innermost open report of this process).
    plain : bool, optional
        Write plain lines in ``"plain"`` mode (default: only for an outermost report).
    prefix : str
        Written before each plain line (the pipeline indents a stage's lines).
    mode : str, optional
        Override :func:`progress_mode` (the pipeline draws its stages' events this way).
    leave : bool, optional
        Keep a finished bar on the terminal (default: only an outermost one).
    bar_format : str, optional
        tqdm's ``bar_format`` (a bar only).
    """

    def __init__(
        self,
        desc: str,
        total: int | None = None,
        *,
        depth: int | None = None,
        plain: bool | None = None,
        prefix: str = "",
        mode: str | None = None,
        leave: bool | None = None,
        bar_format: str | None = None,
    ) -> None:
        global _depth, _next_id
        self.desc, self.total, self.n = desc, total, 0
        self.mode = progress_mode() if mode is None else mode
        self._nested = depth is None
        with _lock:
            self.depth = _depth if depth is None else depth
            if self._nested:
                _depth += 1
            _next_id += 1
            self._id = _next_id
        self._plain = (self.depth == 0 if plain is None else plain) and self.mode == "plain"
        self._prefix = prefix
        self._t0 = self._last = time.perf_counter()
        self._quarter = 0
        self._closed = False
        self._bar: Any = None
        self.status = ""
        if self.mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                desc=desc,
                file=sys.stderr,
                position=self.depth,
                leave=self.depth == 0 if leave is None else leave,
                dynamic_ncols=True,
                bar_format=bar_format,
            )
        elif self.mode == "events":
            self._event(open=True, desc=desc, total=total)

    def _event(self, **fields: Any) -> None:
        _emit({"id": self._id, "depth": self.depth, "n": self.n, **fields})

    def update(self, n: int = 1, status: str | None = None) -> None:
        """Advance by ``n`` steps; ``status`` names the current step (``"police"``)."""
        self.n += n
        if status is not None:
            self.status = status
        if self._bar is not None:
            if status is not None:
                self._bar.set_postfix_str(status, refresh=False)
            self._bar.update(n)
        elif self.mode == "events":
            now = time.perf_counter()
            if now - self._last >= 0.2 or (self.total is not None and self.n >= self.total):
                self._last = now
                self._event(status=self.status)
        elif self._plain and self.total:
            quarter = min(4, 4 * self.n // self.total)
            quick = time.perf_counter() - self._t0 < _PLAIN_AFTER
            if quarter > self._quarter and self.n < self.total and not quick:
                self._quarter = quarter
                self._line(f"{self.n}/{self.total}")

    def set_status(self, status: str) -> None:
        """Name the current step without advancing."""
        self.status = status
        if self._bar is not None:
            self._bar.set_postfix_str(status)
        elif self.mode == "events":
            self._event(status=status)

    def refresh(self) -> None:
        """Redraw (a bar's elapsed time moves on even without steps)."""
        if self._bar is not None:
            self._bar.refresh()

    def close(self) -> None:
        """End the report: a bar disappears; a plain report writes its last line."""
        global _depth
        if self._closed:
            return
        self._closed = True
        if self._nested:
            with _lock:
                _depth -= 1
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "events":
            self._event(close=True)
        elif self._plain and time.perf_counter() - self._t0 >= _PLAIN_AFTER:
            seconds = time.perf_counter() - self._t0
            done = f"{self.n}/{self.total} " if self.total and self.n == self.total else ""
            self._line(f"{done}done in {seconds:.1f} s")

    def _line(self, text: str) -> None:
        print(f"{self._prefix}{self.desc}: {text}", file=sys.stderr, flush=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(
    iterable: Iterable[T], desc: str, total: int | None = None, *, status: Any = None
) -> Iterator[T]:
    """Yield from ``iterable`` while reporting progress.

    Parameters
    ----------
    iterable : iterable
        The steps.
    desc : str
        What is being done.
    total : int, optional
        Number of steps (default ``len(iterable)`` when it has one).
    status : callable, optional
        ``status(item)`` names the step being worked on (shown beside the bar).
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if not progress_enabled():
        yield from iterable
        return
    with Progress(desc, total) as bar:
        for item in iterable:
            if status is not None:
                bar.set_status(str(status(item)))
            yield item
            bar.update()


class _StepHandler(logging.Handler):
    """Advance ``bar`` on each record whose message matches ``step``; forward records at
    or above ``forward`` to the logger's ancestors (when propagation was switched off)."""

    def __init__(self, bar: Progress, step: re.Pattern[str], forward: int | None) -> None:
        super().__init__(logging.DEBUG)
        self.bar, self.step, self.forward = bar, step, forward

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.step.match(record.getMessage().lstrip()):
                self.bar.update()
        except Exception:  # pragma: no cover - a progress bar never breaks the work
            pass
        logger = logging.getLogger(record.name)
        if self.forward is not None and record.levelno >= self.forward and logger.parent:
            logger.parent.handle(record)


@contextmanager
def progress_from_log(logger: str, desc: str, total: int, step: str) -> Iterator[None]:
    """A progress report advanced by another library's own INFO messages.

    Splink reports each EM iteration and each comparison whose u it estimates only as a log
    message; this turns those messages into steps of a bar without showing them (they are
    shown as before when logging is set to show that library's INFO).

    Parameters
    ----------
    logger : str
        The library's logger (``"splink.internals.expectation_maximisation"``).
    desc : str
        What is being done.
    total : int
        Steps expected at most (the bar closes early if the work ends sooner).
    step : str
        A regular expression matching the start of each step's message.
    """
    if not progress_enabled():
        yield
        return
    lib = logging.getLogger(logger)
    level, propagate = lib.level, lib.propagate
    shown = lib.getEffectiveLevel()
    quiet = shown > logging.INFO  # its INFO records would not be made: make them, unshown
    with Progress(desc, total) as bar:
        handler = _StepHandler(bar, re.compile(step), shown if quiet else None)
        lib.addHandler(handler)
        if quiet:
            lib.setLevel(logging.INFO)
            lib.propagate = False
        try:
            yield
        finally:
            lib.removeHandler(handler)
            lib.setLevel(level)
            lib.propagate = propagate
