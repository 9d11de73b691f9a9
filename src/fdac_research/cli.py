"""The ``fdac-research`` command line.

Each capability registers its own sub-commands from a private ``_cli`` module exposing
``register(subparsers)``; this module only assembles them, so nothing imports the CLI.
Errors the package raises on purpose are printed as one clear message (exit 2), never as a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from fdac_research import __version__
from fdac_research.exceptions import FdacResearchError

__all__ = ["main", "build_parser"]

# Modules that contribute sub-commands, in help order.
_COMMAND_MODULES = (
    "fdac_research._core_cli",
    "fdac_research.world._cli",
    "fdac_research.linkage._cli",
    "fdac_research.governance._cli",
    "fdac_research.risk._cli",
    "fdac_research.synth._cli",
    "fdac_research.reports._cli",
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="fdac-research",
        description="Reproducible research toolkit for evaluating Family Drug and Alcohol Courts.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name is not None and name.startswith(err.name):
                continue  # capability not present in this build
            raise
        module.register(sub)
    return parser


def _exit_cleanly_on_sigterm() -> None:
    """SIGTERM (a job scheduler, ``kill``, a pipeline ending its stage) becomes an exception
    in the main thread, so every stage's temporary folders are removed on the way out."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose + 1, 2)
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
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
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
