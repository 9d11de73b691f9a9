"""A table with a small cell never reaches reports/ unsuppressed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fdac_research.exceptions import ConfigError, DisclosureError
from fdac_research.reports import publish_estimates, publish_table


def _table() -> pd.DataFrame:
    # hand-made counts: cell (b, fdac) = 3 is under the threshold of 10
    return pd.DataFrame(
        {"fdac": [120, 3, 40], "comparison": [200, 25, 30]},
        index=pd.Index(["a", "b", "c"], name="court"),
    )


def test_small_cell_is_suppressed_before_it_is_written(tmp_path: Path) -> None:
    published = publish_table(_table(), "by_court", tmp_path)
    text = (tmp_path / "by_court.csv").read_text()
    assert published.loc["b", "fdac"] == "[c]"
    # the small count appears nowhere, and neither can it be recovered: the fdac column
    # total and its other suppressed cell are not both published with the rest
    body = pd.read_csv(tmp_path / "by_court.csv", index_col=0, dtype=str)
    assert "3" not in set(body.to_numpy().ravel())
    assert body.loc["b", "fdac"] == "[c]"
    visible = [v for v in body["fdac"].tolist() if v != "[c]"]
    assert (body["fdac"] == "[c]").sum() >= 2, (
        "a lone suppressed cell could be recovered from its total"
    )
    # every published count is a multiple of 5
    assert all(int(v) % 5 == 0 for v in visible)
    assert "[c]" in text


def test_without_suppression_the_build_fails_naming_the_cell(tmp_path: Path) -> None:
    with pytest.raises(DisclosureError, match=r"by_court.*\(b, fdac\).*threshold"):
        publish_table(_table(), "by_court", tmp_path, allow_suppression=False)
    assert not (tmp_path / "by_court.csv").exists()


def test_estimates_need_enough_people(tmp_path: Path) -> None:
    est = pd.DataFrame({"estimate": [0.12, 0.3], "n": [240, 7]}, index=["reunified", "tiny group"])
    with pytest.raises(DisclosureError, match="tiny group.*7 people"):
        publish_estimates(est, "effects", tmp_path)
    assert not (tmp_path / "effects.csv").exists()
    ok = publish_estimates(est.iloc[:1], "effects", tmp_path)
    assert ok["n"].iloc[0] == 240 and (tmp_path / "effects.csv").is_file()


def test_bad_names_and_folders(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="lower-case"):
        publish_table(_table(), "../escape", tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        publish_table(_table(), "t", tmp_path / "nope")
