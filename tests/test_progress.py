"""Progress on the terminal: a bar only on a terminal, a few plain lines in a log (never a
bar's carriage returns), JSON events for a pipeline that draws them, off in notebooks."""

from __future__ import annotations

import io
import json
import logging
import os

import pytest

from fdac_research import _progress
from fdac_research._progress import Progress, progress, progress_from_log, progress_mode
from fdac_research.reports._stages import _draw_events


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("FDAC_PROGRESS", "FDAC_PROGRESS_FD", "CI", "PAPERMILL_EXECUTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_progress, "_PLAIN_AFTER", 0.0)  # every task counts as long
    monkeypatch.setattr(_progress, "_events", None)
    monkeypatch.setattr(_progress, "_events_lost", False)
    return monkeypatch


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_mode_follows_the_terminal(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setattr("sys.stderr", _Stream(tty=True))
    assert progress_mode() == "bar"
    clean_env.setenv("CI", "true")  # a CI log is no terminal, whatever it claims
    assert progress_mode() == "plain"
    clean_env.delenv("CI")
    clean_env.setattr("sys.stderr", _Stream(tty=False))
    assert progress_mode() == "plain"
    kernel_stream = type("OutStream", (io.StringIO,), {"__module__": "ipykernel.iostream"})
    clean_env.setattr("sys.stderr", kernel_stream())  # a JupyterLab cell shows its own output
    assert progress_mode() == "off"
    clean_env.setenv("FDAC_PROGRESS", "0")
    assert progress_mode() == "off"
    clean_env.setenv("FDAC_PROGRESS", "bar")
    clean_env.setenv("PAPERMILL_EXECUTION", "1")
    assert progress_mode() == "off"


def test_plain_lines_are_few_and_carry_no_bar(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("FDAC_PROGRESS", "plain")
    assert list(progress(range(100), "scoring", status=lambda i: f"item {i}")) == list(range(100))
    err = capsys.readouterr().err
    lines = err.splitlines()
    # a line at each quarter and one at the end, whatever the number of steps
    assert 2 <= len(lines) <= 5 and all(line.startswith("scoring: ") for line in lines)
    assert "\r" not in err and "|" not in err and "100/100" in lines[-1]


def test_nested_tasks_write_no_plain_lines(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("FDAC_PROGRESS", "plain")
    for _ in progress(range(3), "outer"):
        for _ in progress(range(50), "inner"):
            pass
    err = capsys.readouterr().err
    assert "outer" in err and "inner" not in err


def test_events_for_a_pipeline(clean_env: pytest.MonkeyPatch) -> None:
    read, write = os.pipe()
    clean_env.setenv("FDAC_PROGRESS_FD", str(write))
    assert progress_mode() == "events"
    for _ in progress(["police", "health"], "linking agencies", status=str):
        with Progress("EM", 4) as em:
            em.update(4)
    assert _progress._events is not None
    _progress._events.close()
    with os.fdopen(read, encoding="utf-8") as f:
        events = [json.loads(line) for line in f]
    outer = [e for e in events if e["depth"] == 0]
    assert outer[0]["open"] and outer[0]["total"] == 2 and outer[-1].get("close")
    assert outer[-1]["n"] == 2
    assert {e["status"] for e in outer if "status" in e} == {"police", "health"}
    inner_opens = [e for e in events if e["depth"] == 1 and e.get("open")]
    assert len(inner_opens) == 2  # one EM per agency, drawn beneath


def test_a_pipeline_draws_its_stage_events_as_plain_lines(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [
        {"id": 1, "depth": 0, "n": 0, "open": True, "desc": "linking agencies", "total": 4},
        {"id": 2, "depth": 1, "n": 0, "open": True, "desc": "EM", "total": 25},
        {"id": 2, "depth": 1, "n": 25, "close": True},
        *({"id": 1, "depth": 0, "n": k, "status": f"a{k}"} for k in range(1, 5)),
        "not an event",
        {"id": 1, "depth": 0, "n": 4, "close": True},
    ]
    stream = io.StringIO("".join(json.dumps(e) + "\n" for e in events))
    _draw_events(stream, "plain")
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.startswith("      linking agencies: ") for line in lines)
    assert "4/4 done" in lines[-1]


def test_progress_from_a_librarys_log_messages(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Splink reports EM iterations only as INFO messages: they advance a bar, are not shown
    where they would not have been, and its warnings still reach the log."""
    clean_env.setenv("FDAC_PROGRESS", "plain")
    lib = logging.getLogger("fakelib.em")
    seen = []
    clean_env.setattr(Progress, "update", lambda self, n=1, status=None: seen.append(n))
    caplog.set_level(logging.WARNING)
    with progress_from_log("fakelib.em", "EM", 10, r"Iteration \d+:"):
        for i in range(1, 4):
            lib.info("Iteration %d: largest change 0.1", i)
        lib.info("EM converged")
        lib.warning("unable to train m value")
    assert seen == [1, 1, 1]
    messages = [r.getMessage() for r in caplog.records if r.name == "fakelib.em"]
    assert messages == ["unable to train m value"]
    assert lib.level == logging.NOTSET and lib.propagate  # as it was
