"""The gated release: a good release passes and validates, a memorising "synthesizer" is
refused with nothing written, outputs are byte-identical for a seed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest

from fdac_research._progress import Progress
from fdac_research.cli import main
from fdac_research.exceptions import ReleaseRefusedError
from fdac_research.synth import (
    REPORT_HTML,
    REPORT_JSON,
    BaseSynthesizer,
    ReleaseGateConfig,
    _release,
    synthesise,
)


class Memoriser(BaseSynthesizer):
    """A "synthesizer" that releases its training rows (what the gate must stop)."""

    name: ClassVar[str] = "memoriser"

    def __init__(self, seed: int = 0, min_tail_count: int = 10) -> None:
        self.seed = seed
        self.min_tail_count = min_tail_count

    def _fit(self, tables: dict[str, pd.DataFrame]) -> None:
        self.tables_ = {k: v.copy() for k, v in tables.items()}

    def _sample_raw(self, n_cases: int, seed: int) -> dict[str, pd.DataFrame]:
        return {k: v.copy() for k, v in self.tables_.items()}


#: On this 400-family fixture (80 held out, about 150 held-out children) the share of
#: synthetic children closer to training than to held-out records varies from 0.51 to 0.66
#: with the seed (measured over seeds 1-6, with and without the rare-category coding: 0.55-0.61
#: without it), around the default gate's 0.6. That threshold's calibration against the
#: held-out split is issue 12's; the good release here is judged with 0.7 on that one check.
SMALL_FIXTURE_GATE = ReleaseGateConfig(max_share_closer_to_train=0.7)


@pytest.fixture(scope="module")
def good_release(research_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rel") / "release"
    res = synthesise(research_folder, out, seed=3, n_attacks=200, gate=SMALL_FIXTURE_GATE)
    assert res.passed, res.summary()
    return out


def test_good_release_passes_and_validates(good_release: Path) -> None:
    assert main(["validate", str(good_release), "--layout", "research"]) == 0
    report = json.loads((good_release / REPORT_JSON).read_text())
    assert report["gate"]["passed"] is True
    assert report["privacy"]["exact_copies"]["synthetic"]["families"] == 0.0
    assert report["utility"]["rules"]["n_rows_violating"] == 0
    assert report["privacy"]["real_extremes_reproduced"] == []
    checks = {c["name"]: c for c in report["gate"]["checks"]}
    assert checks["rare_real_extremes"]["passed"] and checks["rare_real_extremes"]["value"] == 0
    assert "while fewer than 10 training records" in (good_release / REPORT_HTML).read_text()
    # real row counts in the report are rounded to 10 (as linkage_quality)
    sizes = report["sizes"]
    assert all(sizes[k] % 10 == 0 for k in ("real_cases", "train_cases", "holdout_cases"))
    for key in ("pmse", "pmse_holdout_baseline"):
        assert all(v["n_real"] % 10 == 0 for v in report["utility"][key].values())
    for res in report["privacy"]["risk"].values():
        assert res["n_train"] % 10 == 0 and res["n_holdout"] % 10 == 0

    assert (good_release / REPORT_HTML).read_text().count("<svg") == 3
    manifest = json.loads((good_release / "manifest.json").read_text())
    assert manifest["synthetic"] is True and manifest["made_by"] == "fdac_research.synth"


def test_release_is_byte_identical_for_a_seed(
    research_folder: Path, good_release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (this second run also shows its progress: one step per phase, each phase named)
    seen: list[tuple[str, int, str]] = []

    class Spy(Progress):
        def update(self, n: int = 1, status: str | None = None) -> None:
            super().update(n, status)
            seen.append(("update", self.n, self.status))

        def set_status(self, status: str) -> None:
            super().set_status(status)
            seen.append(("status", self.n, status))

    monkeypatch.setattr(_release, "Progress", Spy)
    again = tmp_path / "again"
    synthesise(research_folder, again, seed=3, n_attacks=200, gate=SMALL_FIXTURE_GATE)
    assert seen == [
        ("status", 0, "fitting cart"),
        ("update", 1, "sampling"),
        ("update", 2, "utility and privacy checks"),
        ("update", 3, "utility and privacy checks"),
    ]
    for f in sorted(p.name for p in good_release.iterdir()):
        if f != "manifest.json":
            assert (again / f).read_bytes() == (good_release / f).read_bytes(), f
    a = json.loads((good_release / "manifest.json").read_text())["files"]
    assert a == json.loads((again / "manifest.json").read_text())["files"]


def test_memorising_synthesizer_is_refused_and_nothing_is_written(
    research_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "release"
    with pytest.raises(ReleaseRefusedError) as info:
        synthesise(
            research_folder,
            out,
            model=Memoriser(),
            seed=1,
            report_dir=tmp_path / "rep",
            n_attacks=100,
        )
    text = str(info.value)
    assert "REFUSED" in text and "FAIL family_copies" in text
    assert "Nothing was written" in text
    assert not out.exists()
    report = json.loads((tmp_path / "rep" / REPORT_JSON).read_text())
    assert report["gate"]["passed"] is False
    # top/bottom-coding changes the families holding a rare extreme; most are still copies
    assert report["privacy"]["exact_copies"]["synthetic"]["families"] > 0.5


def test_cli_refusal_exits_non_zero_and_writes_nothing(
    research_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the command line offers only the real models by name: the memoriser stands in for the
    # default one, so that the release is refused whatever the thresholds' calibration
    from fdac_research.synth import _release

    monkeypatch.setitem(_release.MODELS, "cart", Memoriser)
    out = tmp_path / "release"
    rc = main(
        [
            "synthesise",
            str(research_folder),
            "--out",
            str(out),
            "--model",
            "cart",
            "--report-dir",
            str(tmp_path / "rep"),
        ]
    )
    assert rc == 1
    assert not out.exists()
    assert (tmp_path / "rep" / REPORT_HTML).is_file()
    report = json.loads((tmp_path / "rep" / REPORT_JSON).read_text())
    assert report["model"]["name"] == "memoriser" and report["gate"]["passed"] is False


def test_gate_config_rejects_bad_values() -> None:
    from fdac_research.exceptions import ConfigError

    with pytest.raises(ConfigError) as info:
        ReleaseGateConfig(max_family_copy_rate=2.0, max_s_pmse=-1)
    assert "max_family_copy_rate" in str(info.value) and "max_s_pmse" in str(info.value)


def test_bad_cli_input_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["synthesise", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "synthesise" in capsys.readouterr().err


def test_release_size_is_rounded_to_ten(research_folder: Path) -> None:
    try:  # a small release may be refused on noise; its size is what is tested here
        res = synthesise(research_folder, None, seed=2, scale=0.3333, n_attacks=50)
    except ReleaseRefusedError as err:
        res = err.result  # type: ignore[attr-defined]
    # 400 real cases * 0.3333 = 133.3 -> 130 synthetic cases
    assert len(res.synthetic.cases) == 130


def _tables(families: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Cases (family by case id) and one child per case."""
    ids = list(families)
    return {
        "cases": pd.DataFrame({"case_id": ids}),
        "children": pd.DataFrame({"case_id": ids, "child_id": [f"k{c}" for c in ids]}),
    }


def test_sample_families_keeps_families_whole_and_under_the_cap() -> None:
    # 12 families: F0 has 3 cases, F1 2, the other ten 1 each -> 17 cases
    fam = {f"c{i}": "F0" for i in range(3)} | {f"c{i}": "F1" for i in range(3, 5)}
    fam |= {f"c{i}": f"F{i - 3}" for i in range(5, 17)}
    tables = _tables(fam)
    families = pd.Series(fam)
    for seed in range(20):
        got, n_all = _release.sample_families(tables, 10, seed, families)
        assert n_all == 17
        cases = set(got["cases"]["case_id"])
        assert 8 <= len(cases) <= 10  # at most the cap; at most one 3-case family short of it
        for f in ("F0", "F1"):  # a family is in whole or not at all
            members = {c for c, g in fam.items() if g == f}
            assert members <= cases or not members & cases
        assert set(got["children"]["case_id"]) == cases
    again, _ = _release.sample_families(tables, 10, 3, families)
    first, _ = _release.sample_families(tables, 10, 3, families)
    assert again["cases"].equals(first["cases"])  # the seed fixes the sample
    same, n_all = _release.sample_families(tables, 17, 0, families)  # no more than the cap
    assert same is tables and n_all == 17
    assert _release.sample_families(tables, 0, 0, families)[0] is tables  # 0: every case
    with pytest.raises(ValueError, match="at least 10"):
        _release.sample_families(tables, 5, 0, families)


def test_a_research_folder_over_max_cases_is_synthesised_from_a_sample(
    research_folder: Path,
) -> None:
    try:  # a small release may be refused on noise; its size and report are tested here
        res = synthesise(research_folder, None, seed=2, n_attacks=50, max_cases=200)
    except ReleaseRefusedError as err:
        res = err.result  # type: ignore[attr-defined]
    sizes = res.report["sizes"]
    # fake_research has no family_id: every case is its own family, so exactly 200 of 400
    assert (sizes["real_cases"], sizes["all_real_cases"], sizes["max_cases"]) == (200, 400, 200)
    assert sizes["train_cases"] + sizes["holdout_cases"] == 200
    assert len(res.synthetic.cases) == 200  # scale 1 of the sample
    from fdac_research.synth._html import _sample_note

    assert "random sample of whole families, about 200 cases" in _sample_note(sizes)
    assert _sample_note({**sizes, "all_real_cases": 200}) == ""


def test_holdout_split_keeps_a_familys_cases_on_one_side() -> None:
    # 40 families of two cases each (a mother and her later case) -> 80 cases
    fam = {f"c{i}": f"F{i // 2}" for i in range(80)}
    tables = {
        name: pd.DataFrame({"case_id": list(fam)}) for name in ("cases", "adults", "children")
    }
    train, hold = _release.split_holdout(tables, 0.2, 4, pd.Series(fam))
    held = set(hold["cases"]["case_id"])
    assert len(held) == 16  # 20% of 40 families = 8 families, 16 cases
    assert {fam[c] for c in held}.isdisjoint({fam[c] for c in train["cases"]["case_id"]})
    # without families each case is its own: 16 of 80 cases, some families split
    _, by_case = _release.split_holdout(tables, 0.2, 4)
    assert len(by_case["cases"]) == 16
