"""The synthetic world: determinism, calibration against docs/fdac-figures.md, realism of the
identifier errors, and the truth tables."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fdac_research import reference
from fdac_research.exceptions import ConfigError
from fdac_research.world import WorldConfig, generate_world, truth_crosswalk


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    generate_world(tmp_path / "a", n_families=120, seed=3, hidden_confounder=0.5)
    generate_world(tmp_path / "b", n_families=120, seed=3, hidden_confounder=0.5)
    generate_world(tmp_path / "c", n_families=120, seed=4, hidden_confounder=0.5)
    a, b, c = (_digest(tmp_path / x) for x in "abc")
    assert a == b
    assert len(a) == 16  # 5 court files + 7 agencies + 4 truth files
    assert a["court_people.csv"] != c["court_people.csv"]


def test_config_validation_lists_every_problem() -> None:
    with pytest.raises(ConfigError) as err:
        WorldConfig(n_families=2, error_rate=2.0, extract_date="31/03/2025")
    msg = str(err.value)
    assert (
        "3 problem(s)" in msg
        and "n_families" in msg
        and "error_rate" in msg
        and "extract_date" in msg
    )
    with pytest.raises(ConfigError, match="unknown key"):
        WorldConfig.from_dict({"n_families": 100, "colour": "blue"})
    cfg = WorldConfig(n_families=100, seed=5)
    assert WorldConfig.from_dict(json.loads(cfg.to_json())) == cfg


def test_people_are_plausible(small_world: Path) -> None:
    people = _read(small_world, "court_people.csv")
    cases = _read(small_world, "court_cases.csv")
    dob = pd.to_datetime(people["date_of_birth"])
    app = pd.to_datetime(people["case_ref"].map(cases.set_index("case_ref")["application_date"]))
    age = (app - dob).dt.days / 365.25
    role = people["role"]
    assert (age[role == "child"] < 18).all() and (age[role == "child"] >= 0).all()
    assert (age[role == "mother"] >= 16).all()
    # every child is younger than its mother, by at least 14 years
    mothers = people[role == "mother"].set_index("case_ref")["date_of_birth"]
    kids = people[(role == "child") & people["case_ref"].isin(mothers.index)]
    gap = (
        pd.to_datetime(kids["date_of_birth"]) - pd.to_datetime(kids["case_ref"].map(mothers))
    ).dt.days / 365.25
    assert (gap >= 14).all()
    # realistic names: shared surnames across families, a long tail of rarer ones
    counts = people["family_name"].value_counts()
    assert counts.iloc[0] >= 10 and (counts == 1).sum() >= 50
    assert people["postcode"].str.match(r"^[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}$").all()
    # both cohorts, several courts and local authorities
    assert set(cases["cohort"]) == {"fdac", "comparison"}
    assert cases["court"].nunique() >= 5 and cases["local_authority"].nunique() >= 8
    # FDAC only where the court runs one
    no_fdac = {c for c, (_, has, _) in reference.COURTS.items() if not has}
    assert not ((cases["cohort"] == "fdac") & cases["court"].isin(no_fdac)).any()


def test_agency_records_carry_realistic_errors(tmp_path: Path) -> None:
    generate_world(tmp_path / "w", n_families=400, seed=21, error_rate=0.2)
    w = tmp_path / "w"
    court = _read(w, "court_people.csv")
    truth = _read(w, "truth/people.csv").set_index("person_ref")["true_person_id"]
    app = _read(w, "court_cases.csv").set_index("case_ref")["application_date"]
    # an agency holds a person in several cases once, as the latest case names them
    court = (
        court.assign(tid=court["person_ref"].map(truth), app=court["case_ref"].map(app))
        .sort_values(["app", "person_ref"])
        .drop_duplicates("tid", keep="last")
        .set_index("tid")
    )
    links = _read(w, "truth/agency_links.csv")
    rec = pd.concat(
        [_read(w, f"agencies/{a}.csv").assign(agency=a) for a in links["agency"].unique()]
    )
    rec = rec.merge(links, on=["agency", "record_id"])
    assert len(rec) == len(links)  # every record has a truth link
    # people in no case are present too
    assert (~rec["true_person_id"].isin(court.index)).mean() > 0.2
    r = rec[rec["true_person_id"].isin(court.index)]
    c = court.loc[r["true_person_id"]]
    g, cg = r["given_name"].to_numpy(), c["given_name"].to_numpy()
    nick = np.array([x in reference.NICKNAMES.get(y, ()) for x, y in zip(g, cg, strict=True)])
    assert nick.sum() > 10, "nicknames (Bill for William) appear"
    swapped = (g == c["family_name"].to_numpy()) & (r["family_name"].to_numpy() == cg)
    assert swapped.sum() > 0, "given/family name swaps appear"
    assert r["family_name"].str.contains("-").sum() > c["family_name"].str.contains("-").sum(), (
        "double-barrelled surnames"
    )
    d_r, d_c = r["date_of_birth"].to_numpy(), c["date_of_birth"].to_numpy()
    transposed = np.array(
        [
            a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7] and a != b
            for a, b in zip(d_r, d_c, strict=True)
        ]
    )
    assert transposed.sum() > 0, "day/month transpositions appear"
    assert (r["postcode"].to_numpy() != c["postcode"].to_numpy()).mean() > 0.1, "moved postcodes"
    assert (r["date_of_birth"] == "").sum() > 0 and (r["postcode"] == "").sum() > 0, (
        "missing values"
    )
    dup = r.groupby(["agency", "true_person_id"]).size()
    assert (dup > 1).sum() > 0, "duplicate records within an agency"
    differs = (
        (g != cg) | (r["family_name"].to_numpy() != c["family_name"].to_numpy()) | (d_r != d_c)
    )
    assert 0.1 < differs.mean() < 0.6


def test_error_rate_zero_gives_clean_names(tmp_path: Path) -> None:
    generate_world(tmp_path / "w", n_families=60, seed=2, error_rate=0.0)
    w = tmp_path / "w"
    court = _read(w, "court_people.csv").merge(
        _read(w, "truth/people.csv")[["person_ref", "true_person_id"]]
    )
    links = _read(w, "truth/agency_links.csv")
    police = _read(w, "agencies/health.csv").merge(links[links["agency"] == "health"])
    m = police.merge(court, on="true_person_id", suffixes=("", "_court"))
    assert (m["given_name"] == m["given_name_court"]).all()
    assert (m["date_of_birth"] == m["date_of_birth_court"]).all()


def test_opt_outs_name_adults_children_and_cases(tmp_path: Path) -> None:
    generate_world(tmp_path / "w", n_families=600, seed=9, opt_out_rate=0.1)
    opt = _read(tmp_path / "w", "opt_outs.csv")
    people = _read(tmp_path / "w", "court_people.csv").set_index("person_ref")["role"]
    assert len(opt) == 60
    named = opt.loc[opt["person_ref"] != "", "person_ref"].map(people)
    assert (named == "child").any() and named.isin(["mother", "father", "other_carer"]).any()
    assert (opt["case_ref"] != "").any()
    assert set(opt["scope"]) == {"all_research", "external_sharing"}


def test_truth_crosswalk_covers_every_record(small_world: Path, tmp_path: Path) -> None:
    out = truth_crosswalk(small_world, tmp_path / "link")
    cw = _read(out, "crosswalk.csv")
    n_agency = sum(
        len(_read(small_world, f"agencies/{p.name}")) for p in (small_world / "agencies").iterdir()
    )
    assert len(cw) == len(_read(small_world, "court_people.csv")) + n_agency
    assert not cw.duplicated(["source", "record_id"]).any()


def test_hidden_confounder_inflates_naive_contrast(tmp_path: Path) -> None:
    """With a strong hidden confounder the naive FDAC-vs-comparison contrast exceeds the
    planted effect by more than it does without one (selection on unobservables)."""
    out = {}
    for h in (0.0, 1.5):
        generate_world(tmp_path / f"h{h}", n_families=3000, seed=5, hidden_confounder=h)
        w = tmp_path / f"h{h}"
        people = (
            _read(w, "court_people.csv")
            .merge(_read(w, "court_outcomes.csv"))
            .merge(_read(w, "court_cases.csv")[["case_ref", "cohort"]])
        )
        kids = people[(people["role"] == "child") & (people["placement_at_end"] != "")]
        rate = kids.assign(r=kids["placement_at_end"] == "parent").groupby("cohort")["r"].mean()
        naive_or = (rate["fdac"] / (1 - rate["fdac"])) / (
            rate["comparison"] / (1 - rate["comparison"])
        )
        planted = json.loads((w / "truth" / "effects.json").read_text())["effects"][
            "reunified_children"
        ]["ate"]["odds_ratio"]
        out[h] = naive_or / planted
    assert out[1.5] > out[0.0] * 1.5


@pytest.mark.slow
def test_calibration_on_20000_families(tmp_path: Path) -> None:
    """Calibration targets from docs/fdac-figures.md (Harwin et al. 2016: reunification 25% in the
    comparison group, mothers' cessation 30%; true reunification odds ratio 1.75 from Zhang
    et al.) are reproduced by the data within a few points."""
    _check_calibration(tmp_path, 20000)


def test_calibration_on_5000_families(tmp_path: Path) -> None:
    """The same check at a size that fits the default run (looser tolerance)."""
    _check_calibration(tmp_path, 5000, tol_rate=0.03, tol_or=0.3)


def _check_calibration(
    tmp_path: Path, n: int, tol_rate: float = 0.02, tol_or: float = 0.15
) -> None:
    w = tmp_path / "w"
    generate_world(w, n_families=n, seed=11)
    cfg = json.loads((w / "truth" / "effects.json").read_text())["config"]
    people = (
        _read(w, "court_people.csv")
        .merge(_read(w, "court_outcomes.csv"))
        .merge(_read(w, "court_cases.csv")[["case_ref", "cohort"]])
        .merge(
            _read(w, "truth/people.csv")[
                ["person_ref", "potential_outcome_untreated", "potential_outcome_treated"]
            ]
        )
    )
    comp = people[people["cohort"] == "comparison"]
    kids = comp[(comp["role"] == "child") & (comp["placement_at_end"] != "")]
    assert (
        abs((kids["placement_at_end"] == "parent").mean() - cfg["reunification_comparison"])
        < tol_rate
    )
    mothers = comp[(comp["role"] == "mother") & (comp["ceased_misuse"] != "")]
    assert (
        abs((mothers["ceased_misuse"] == "true").mean() - cfg["mother_cessation_comparison"])
        < tol_rate
    )
    # the true odds ratio, from the potential outcomes of every child with an outcome
    allk = people[(people["role"] == "child") & (people["potential_outcome_untreated"] != "")]
    y0 = (allk["potential_outcome_untreated"] == "true").mean()
    y1 = (allk["potential_outcome_treated"] == "true").mean()
    assert abs((y1 / (1 - y1)) / (y0 / (1 - y0)) - cfg["reunification_odds_ratio"]) < tol_or


def test_small_site_preset_has_about_100_families_per_arm(tmp_path) -> None:
    """The named small-site world: about 100 FDAC and 100 comparison families (Harwin et
    al. 2014 compared 90 with 101). Binomial: 200 families at share 0.5 give 100 +- 14 (2 SD)."""
    from fdac_research.cli import main
    from fdac_research.world import WORLD_PRESETS, preset_config

    assert set(WORLD_PRESETS) >= {"default", "small_site"}
    assert preset_config("default") == WorldConfig()
    assert (
        main(["generate", "--out", str(tmp_path / "w"), "--preset", "small_site", "--seed", "4"])
        == 0
    )
    cases = pd.read_csv(tmp_path / "w" / "court_cases.csv", dtype=str)
    n_fdac = int((cases["cohort"] == "fdac").sum())
    assert len(cases) == 200 and 86 <= n_fdac <= 114
    with pytest.raises(Exception, match="no preset 'tiny'"):
        preset_config("tiny")


@pytest.fixture(scope="module")
def repeat_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("repeat") / "w"
    generate_world(out, n_families=1500, seed=8)
    return out


def test_repeat_proceedings_carry_the_mother_into_a_later_case(repeat_world: Path) -> None:
    w = repeat_world
    cases = _read(w, "court_cases.csv").set_index("case_ref")
    people = _read(w, "court_people.csv").merge(
        _read(w, "truth/people.csv")[["person_ref", "true_person_id"]]
    )
    rec = _read(w, "truth/recurrence.csv").set_index("case_ref")
    pairs = rec[rec["later_case_ref"] != ""]
    # about one case in ten is the later case of an earlier one (config docstring)
    assert 0.05 < len(pairs) / len(cases) < 0.2
    mothers = people[people["role"] == "mother"].set_index("case_ref")
    a, b = pairs.index, pairs["later_case_ref"].to_numpy()
    # one true person, one date of birth, in both cases
    assert (
        mothers.loc[a, "true_person_id"].to_numpy() == mothers.loc[b, "true_person_id"].to_numpy()
    ).all()
    assert (
        mothers.loc[a, "date_of_birth"].to_numpy() == mothers.loc[b, "date_of_birth"].to_numpy()
    ).all()
    # the later case begins after the earlier one's final hearing, at the recorded gap
    final = pd.to_datetime(cases.loc[a, "final_hearing_date"]).to_numpy()
    later_app = pd.to_datetime(cases.loc[b, "application_date"]).to_numpy()
    gap = (later_app - final) / np.timedelta64(1, "D") / 365.25
    assert (gap > 0).all()
    assert np.allclose(gap, pairs["years_to_later_case"].astype(float), atol=1e-3)
    # with a new baby; some mothers changed surname, most moved, some partners came back
    kids = people[people["role"] == "child"]
    app = pd.to_datetime(kids["case_ref"].map(cases["application_date"]))
    age = (app - pd.to_datetime(kids["date_of_birth"])).dt.days / 365.25
    baby = (age < 1).groupby(kids["case_ref"]).any()
    assert baby.reindex(b).all()
    same_name = mothers.loc[a, "family_name"].to_numpy() == mothers.loc[b, "family_name"].to_numpy()
    moved = mothers.loc[a, "postcode"].to_numpy() != mothers.loc[b, "postcode"].to_numpy()
    assert 0.02 < 1 - same_name.mean() < 0.4 and 0.3 < moved.mean() < 0.95
    several = people.groupby("true_person_id")["case_ref"].nunique()
    roles = people[people["true_person_id"].isin(several[several > 1].index)]["role"]
    assert {"mother", "father", "child"} <= set(roles)
    # the recurrence outcome is not written ready-made by default
    assert (_read(w, "court_outcomes.csv")["returned_to_court_3y"] == "").all()
    eff = json.loads((w / "truth" / "effects.json").read_text())
    block = eff["effects"]["returned_to_court_3y_children"]
    assert block["hazard_ratio"] == eff["config"]["recurrence_hazard_ratio"] == 0.44
    assert block["ate"]["p_treated"] < block["ate"]["p_untreated"]


def test_recurrence_supplied_on_request_and_none_without_repeats(tmp_path: Path) -> None:
    generate_world(tmp_path / "s", n_families=400, seed=8, supply_recurrence=True)
    out = _read(tmp_path / "s", "court_outcomes.csv").merge(
        _read(tmp_path / "s", "court_people.csv")
    )
    kids = out[out["role"] == "child"]
    assert set(kids["returned_to_court_3y"]) == {"true", "false", ""}
    # a child returned exactly when the mother's later case began within three years
    rec = _read(tmp_path / "s", "truth/recurrence.csv").set_index("case_ref")
    yrs = pd.to_numeric(kids["case_ref"].map(rec["years_to_later_case"]), errors="coerce")
    known = kids["returned_to_court_3y"] != ""
    assert ((kids.loc[known, "returned_to_court_3y"] == "true") == (yrs[known] <= 3)).all()
    generate_world(tmp_path / "n", n_families=400, seed=8, repeat_rate=0.0)
    truth = _read(tmp_path / "n", "truth/people.csv")
    assert not truth["true_person_id"].duplicated().any()
    eff = json.loads((tmp_path / "n" / "truth" / "effects.json").read_text())["effects"]
    assert "returned_to_court_3y_children" not in eff
