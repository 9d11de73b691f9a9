"""Retention: hand-worked due dates on the tiny sources, and a CLI that shows no identities
unless asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from fdac_research.cli import main
from fdac_research.exceptions import ConfigError
from fdac_research.governance import RetentionRules, retention_due
from tests.governance._tiny import write_tiny

RULES = RetentionRules(
    rules=(
        {"name": "sources", "holds": "identities", "anchor": "youngest_child_birth", "years": 22},
        {"name": "research", "holds": "research data", "anchor": "case_closure", "years": 10},
    )
)


def _row(report, rule: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return report.summary.set_index("rule").loc[rule].to_dict()


def test_known_due_dates(tmp_path: Path) -> None:
    src, _ = write_tiny(tmp_path)
    # Youngest children (tiny world): FDA1 2019-06-30, FDB2 2015-03-11, FDC3 2018-01-01,
    # FDD4 2021-12-01 -> aged 22 on 2041-06-30, 2037-03-11, 2040-01-01, 2043-12-01.
    r = retention_due(src, "2040-01-01", RULES)
    assert r.due_refs("sources") == ("FDB2", "FDC3")
    assert _row(r, "sources")["next_due"] == "2041-06-30"
    assert retention_due(src, "2039-12-31", RULES).due_refs("sources") == ("FDB2",)
    # Closures: FDA1 2020-07-01, FDC3 2020-05-01, FDD4 2022-09-01; FDB2 open (undetermined).
    r = retention_due(src, "2030-07-01", RULES)
    assert r.due_refs("research") == ("FDA1", "FDC3")
    row = _row(r, "research")
    assert (row["n_due"], row["n_not_yet_due"], row["n_undetermined"]) == (2, 1, 1)
    assert "FDA1" not in repr(r)


def test_bad_rules() -> None:
    with pytest.raises(ConfigError) as err:
        RetentionRules(rules=({"name": "x", "holds": "h", "anchor": "moon", "years": -1},))
    assert "anchor" in str(err.value) and "years" in str(err.value)


def test_cli_counts_only_unless_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, _ = write_tiny(tmp_path)
    assert main(["retention", str(src), "--as-of", "2045-01-01"]) == 0
    out = capsys.readouterr()
    assert "identifiable_sources" in out.out
    assert not any(ref in out.out + out.err for ref in ("FDA1", "FDB2", "FDC3", "FDD4"))
    assert main(["retention", str(src), "--as-of", "2045-01-01", "--show-refs"]) == 0
    out = capsys.readouterr()
    assert "identifiable_sources,FDA1" in out.out and "WARNING" in out.err


def test_shipped_rules_file_and_bad_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib import resources

    shipped = resources.files("fdac_research.governance") / "specs" / "retention.yaml"
    rules = RetentionRules.from_file(Path(str(shipped)))
    assert rules.to_dict() == RetentionRules().to_dict()  # the file documents the defaults
    src, _ = write_tiny(tmp_path)
    assert main(["retention", str(src), "--as-of", "21/11/2026"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
