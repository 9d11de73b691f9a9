"""The reviewer command, its report and the check-table command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fdac_research.cli import main
from fdac_research.risk.report import write_risk_report


def test_risk_report_is_complete_and_byte_identical(research_dir: Path, tmp_path: Path) -> None:
    out1, out2 = tmp_path / "a", tmp_path / "b"
    assert main(["risk", str(research_dir), "--out", str(out1)]) == 0
    assert main(["risk", str(research_dir), "--out", str(out2)]) == 0
    names = sorted(p.name for p in out1.iterdir())
    assert "risk.html" in names and "risk.json" in names and "adults_fixes.png" in names
    for name in names:
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes(), name
    report = json.loads((out1 / "risk.json").read_text())
    adults = report["tables"]["adults"]
    # schema roles: adult QIs plus the case-level QIs joined on; sensitive excludes QIs
    assert adults["quasi_identifiers"][:4] == ["role", "sex", "age_at_application", "ethnicity"]
    assert "local_authority" in adults["quasi_identifiers"]
    assert "ethnicity" not in adults["sensitive"] and "mental_health" in adults["sensitive"]
    assert adults["measures"]["family"]["n_families"] > 0
    fixes = [f["name"] for f in adults["figures"]["fixes"]]
    assert "local authority to region" in fixes and fixes[-1].startswith(
        "all recodings + local suppression"
    )
    assert adults["figures"]["fixes"][-1]["after"]["k_anonymity"] >= 3
    html = (out1 / "risk.html").read_text()
    assert html.count("data:image/png;base64,") == 6
    # the records-by-fk figure counts every record once
    assert sum(adults["figures"]["records_by_fk"].values()) == adults["measures"]["n_records"]


def test_risk_report_qi_override(research_dir: Path, tmp_path: Path) -> None:
    report = write_risk_report(research_dir, tmp_path / "o", quasi_identifiers=["sex", "ethnicity"])
    assert report["tables"]["adults"]["quasi_identifiers"] == ["sex", "ethnicity"]
    assert report["tables"]["adults"]["measures"]["k_anonymity"] > 1


def test_risk_command_bad_qi_is_a_clear_error(
    research_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["risk", str(research_dir), "--out", str(tmp_path / "x"), "--qi", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


def test_check_table_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unsafe = tmp_path / "t.csv"
    unsafe.write_text(",fdac,comparison\na,12,15\nb,3,11\nc,20,30\n")
    assert (
        main(["check-table", str(unsafe), "--rules", "tre_10_zeros", "--out", str(tmp_path / "o")])
        == 1
    )
    out = capsys.readouterr().out
    assert "[b, fdac]" in out and "SUPPRESS (threshold)" in out and "protected" in out
    assert (tmp_path / "o" / "safe_table.csv").read_text().splitlines()[2].startswith("b,[c],[c]")
    safe = tmp_path / "s.csv"
    safe.write_text(",x,y\na,12,15\nb,30,11\n")
    assert main(["check-table", str(safe), "--rules", "tre_10_zeros"]) == 0
    assert main(["check-table", str(safe), "--kind", "magnitude"]) == 2
    assert "contributor" in capsys.readouterr().err
