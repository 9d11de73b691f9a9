"""The ``fdac-research`` command line.

Each capability registers its own sub-commands from a private ``_cli`` module exposing
``register(subparsers)``; this module only assembles them, so nothing imports the CLI.
Only the module of the command being run is imported (a capability takes seconds to
import); ``fdac-research --help`` imports none and lists the commands from
:data:`COMMANDS`. Errors the package raises on purpose are printed as one clear message
(exit 2), never as a traceback.

Logging: by default only this package's warnings and other libraries' errors reach the
terminal; ``-v`` adds every library's INFO messages, ``-vv`` debug messages.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from fdac_research import __version__
from fdac_research.exceptions import FdacResearchError

__all__ = ["COMMANDS", "main", "build_parser"]

# Every sub-command, in help order: (name, module that registers it, one-line help). The
# module's own ``add_parser(help=...)`` must say the same (a test compares them).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    (
        "validate",
        "fdac_research._core_cli",
        "check a sources or research folder against the data contract",
    ),
    ("schema", "fdac_research._core_cli", "print the data dictionary (columns, types, roles)"),
    (
        "generate",
        "fdac_research.world._cli",
        "write a synthetic world (sources + truth) to a folder",
    ),
    (
        "truth-crosswalk",
        "fdac_research.world._cli",
        "write a crosswalk from a synthetic world's truth (for testing)",
    ),
    (
        "zoo",
        "fdac_research.world._cli",
        "write a 'world zoo' world: the synthetic world as someone else might have made it",
    ),
    (
        "generate-extract",
        "fdac_research.world._extract",
        "write a world with one national-scale agency extract (Parquet, in chunks)",
    ),
    (
        "link",
        "fdac_research.linkage._cli",
        "probabilistic linkage of court people to agency extracts (writes crosswalk.csv)",
    ),
    (
        "dedupe",
        "fdac_research.linkage._cli",
        "de-duplicate one table (CSV/Parquet): clusters.csv, pairs.csv, model.json",
    ),
    (
        "link-tables",
        "fdac_research.linkage._cli",
        "link two tables (CSV/Parquet): clusters.csv, pairs.csv, model.json",
    ),
    (
        "blocking",
        "fdac_research.linkage._cli",
        "pairs each blocking rule generates (and true pairs reached)",
    ),
    (
        "build",
        "fdac_research.governance._cli",
        "build the pseudonymised research dataset from sources and a linkage crosswalk",
    ),
    (
        "extract",
        "fdac_research.governance._cli",
        "write one recipient's extract of a research folder following a spec",
    ),
    (
        "retention",
        "fdac_research.governance._cli",
        "what is due for deletion on a date (counts; case references only on request)",
    ),
    (
        "risk",
        "fdac_research.risk._cli",
        "disclosure-risk report (HTML + JSON) for a research folder",
    ),
    ("check-table", "fdac_research.risk._cli", "output-check a table CSV (exit 1 if unsafe)"),
    (
        "synthesise",
        "fdac_research.synth._cli",
        "write a gated synthetic release of a research folder (utility + privacy reports)",
    ),
    (
        "pipeline",
        "fdac_research.reports._cli",
        "generate/link/build/risk/synthesise, then run every notebook into reports/",
    ),
)

_LOGGER = "fdac_research"


class _DefaultsFormatter(argparse.HelpFormatter):
    """Help that shows each option's default, unless the help already says it ("(default",
    "default:") or there is none to show (``None``, a flag's ``False``)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        said = "%(default)" in text or "(default" in text.lower() or "default:" in text.lower()
        if said or not _has_default(action) or not action.option_strings:
            return action.help
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """Sub-command parsers: defaults shown in ``--help`` (an option given no help text
    still shows its default)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        if action.help is None and action.option_strings and _has_default(action):
            action.help = "(default: %(default)s)"
        return action


def _has_default(action: argparse.Action) -> bool:
    d = action.default
    return not (d is None or d is False or d == argparse.SUPPRESS)


def _available(module: str) -> bool:
    """Whether a command's capability is part of this build, without importing it."""
    # a private submodule (``pkg._cli``, ``pkg._extract``) is found through its package:
    # finding the submodule itself would import the package and every capability it loads
    parent, _, last = module.rpartition(".")
    package = parent if last.startswith("_") and parent else module
    return importlib.util.find_spec(package) is not None


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The top-level parser.

    Parameters
    ----------
    commands : iterable of str, optional
        Sub-commands to set up in full (their modules are imported); the others are only
        listed, with their help line. Default: every sub-command in full.
    """
    wanted = None if commands is None else set(commands)
    parser = argparse.ArgumentParser(
        prog="fdac-research",
        description="Reproducible research toolkit for evaluating Family Drug and Alcohol Courts.",
        epilog="`fdac-research COMMAND --help` describes a command and its defaults.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more logging: -v every library's INFO messages, -vv debug messages "
        "(default: warnings of this package only)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    full = {m for name, m, _ in COMMANDS if wanted is None or name in wanted}
    for name, module, help_line in COMMANDS:
        if name in sub.choices or not _available(module):
            continue  # registered with its module's first command, or not in this build
        if module in full:
            importlib.import_module(module).register(sub)
        if name not in sub.choices:
            placeholder = sub.add_parser(name, help=help_line, add_help=False)
            placeholder.set_defaults(func=None)
    return parser


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The sub-command named on the command line (the first word that is one)."""
    names = {name for name, _, _ in COMMANDS}
    for word in argv:
        if word in names:
            return word
        if not word.startswith("-"):
            return None  # a word that is no command: argparse will say so
    return None


class _TerminalFilter(logging.Filter):
    """This package's records from ``own`` up, other libraries' from ``others`` up."""

    def __init__(self, own: int, others: int) -> None:
        super().__init__()
        self.own, self.others = own, others

    def filter(self, record: logging.LogRecord) -> bool:
        mine = record.name == _LOGGER or record.name.startswith(_LOGGER + ".")
        return record.levelno >= (self.own if mine else self.others)


class _TerminalHandler(logging.StreamHandler):
    """Log lines on stderr that do not tear a progress bar drawn there."""

    def emit(self, record: logging.LogRecord) -> None:
        from fdac_research._progress import say

        try:
            say(self.format(record))
        except Exception:  # pragma: no cover - as logging.StreamHandler does
            self.handleError(record)


def configure_logging(verbose: int) -> None:
    """Send log records to stderr at the command line's verbosity.

    Parameters
    ----------
    verbose : int
        0: this package's warnings and other libraries' errors (Splink's "unable to train
        m value" and its INFO lines stay hidden); 1 (``-v``): INFO from every library;
        2 or more (``-vv``): DEBUG.
    """
    own, others = {
        0: (logging.WARNING, logging.ERROR),
        1: (logging.INFO, logging.INFO),
    }.get(verbose, (logging.DEBUG, logging.DEBUG))
    root = logging.getLogger()
    for h in [h for h in root.handlers if isinstance(h, _TerminalHandler)]:
        root.removeHandler(h)  # main() called again in one process (tests, notebooks)
    handler = _TerminalHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_TerminalFilter(own, others))
    root.addHandler(handler)
    root.setLevel(min(own, others))
    logging.captureWarnings(True)  # library warnings are log records too (shown with -v)


def _exit_cleanly_on_sigterm() -> None:
    """SIGTERM (a job scheduler, ``kill``, a pipeline ending its stage) becomes an exception
    in the main thread, so every stage's temporary folders are removed on the way out."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    command = _chosen_command(words)
    parser = build_parser([] if command is None else [command])
    args = parser.parse_args(words)
    if args.func is None:  # pragma: no cover - a listed command whose module did not load
        parser.error(f"command {args.command!r} is not available in this installation")
    configure_logging(args.verbose)
    _exit_cleanly_on_sigterm()
    try:
        rc = args.func(args)
    except KeyboardInterrupt:
        print(f"fdac-research {args.command}: interrupted; nothing was written", file=sys.stderr)
        return 130
    except FdacResearchError as err:
        print(f"fdac-research {args.command}: error: {err}", file=sys.stderr)
        return 2
    except FileNotFoundError as err:
        print(f"fdac-research {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`| head`): not an error of ours
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - no flush error at exit
        return 0
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
