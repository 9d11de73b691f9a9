"""The command line: a fast top-level ``--help``, defaults in every sub-command's help, and
how much logging reaches the terminal at each verbosity."""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest

from fdac_research import cli

HEAVY = ("pandas", "numpy", "splink", "duckdb", "matplotlib", "sdv", "papermill", "sklearn")


def test_top_level_help_imports_no_capability() -> None:
    """`fdac-research --help` lists every command without importing any capability (each
    takes a second or more to import); measured by what is imported, not by a clock."""
    code = (
        "import sys\n"
        "from fdac_research.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('IMPORTED', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "IMPORTED []" in out
    for name, _, _ in cli.COMMANDS:
        assert f"    {name}" in out


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sub


@pytest.fixture(scope="module")
def full_parser() -> argparse.ArgumentParser:
    return cli.build_parser()  # every capability's own registration


def test_command_table_matches_what_the_modules_register(
    full_parser: argparse.ArgumentParser,
) -> None:
    """The help lines `--help` shows without importing are the ones each module registers,
    for the same commands in the same order."""
    sub = _subparsers(full_parser)
    registered = [(a.dest, a.help) for a in sub._choices_actions]
    assert registered == [(name, help_line) for name, _, help_line in cli.COMMANDS]


def _shown(default: object) -> set[str]:
    forms = {str(default)}
    if isinstance(default, float):
        forms.add(f"{default:g}")
    return forms


def test_every_subcommand_help_shows_its_defaults(full_parser: argparse.ArgumentParser) -> None:
    sub = _subparsers(full_parser)
    missing = []
    for name, parser in sub.choices.items():
        text = " ".join(parser.format_help().split())  # unwrap the help columns
        for action in parser._actions:
            d = action.default
            if not action.option_strings or d is None or d is False or d == argparse.SUPPRESS:
                continue
            if not any(f"default {s})" in text or f"default: {s})" in text for s in _shown(d)):
                missing.append(f"{name} {action.option_strings[-1]} (default {d!r})")
    assert missing == []


def test_only_the_chosen_command_is_set_up() -> None:
    parser = cli.build_parser(["pipeline"])
    sub = _subparsers(parser)
    assert sub.choices["pipeline"].get_default("func") is not None
    assert sub.choices["link"].get_default("func") is None  # listed, not imported
    assert cli._chosen_command(["-v", "link", "sources", "--out", "x"]) == "link"
    assert cli._chosen_command(["--help"]) is None


@pytest.fixture
def terminal_logging() -> Iterator[None]:
    """Leave the root logger as it was (configure_logging changes it process-wide)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    logging.captureWarnings(False)


LEVELS = (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR)


@pytest.mark.parametrize(
    ("verbose", "own_shown", "library_shown"),
    [
        # default: this package's warnings and errors, only errors of other libraries (so
        # Splink's INFO lines and its "unable to train m value" warnings stay hidden)
        (0, 2, 1),
        # -v: INFO and up from everyone
        (1, 3, 3),
        # -vv: everything
        (2, 4, 4),
        (3, 4, 4),
    ],
)
def test_verbosity_levels(
    verbose: int,
    own_shown: int,
    library_shown: int,
    terminal_logging: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli.configure_logging(verbose)
    for level in LEVELS:
        logging.getLogger("fdac_research.linkage._pipeline").log(level, "own message")
        logging.getLogger("splink.internals.expectation_maximisation").log(level, "lib message")
    err = capsys.readouterr().err.splitlines()
    assert sum("own message" in line for line in err) == own_shown
    assert sum("lib message" in line for line in err) == library_shown


def test_configuring_twice_does_not_double_lines(
    terminal_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.configure_logging(0)
    cli.configure_logging(0)
    logging.getLogger("fdac_research.x").warning("once")
    assert capsys.readouterr().err.count("once") == 1


def test_verbose_flag_reaches_the_logging(
    terminal_logging: None, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    """`-v` and `-vv` are different levels (they were the same)."""
    levels = []
    for flags in ([], ["-v"], ["-vv"]):
        cli.main([*flags, "validate", str(tmp_path)])
        levels.append(logging.getLogger().level)
    capsys.readouterr()
    assert levels == [logging.WARNING, logging.INFO, logging.DEBUG]
