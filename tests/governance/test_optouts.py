"""Opt-out test: for every objection in a world with many, the family is absent where it must
be, whether the objection names an adult, a child or the case."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from fdac_research._io import read_text_table
from fdac_research.governance import (
    ExtractSpec,
    build_research,
    disclosed_count,
    load_spec,
    shipped_specs,
    write_extract,
)
from tests.governance._scan import all_bytes, tokens
from tests.governance.conftest import TEST_KEY


def _hmac(domain: str, ref: str) -> str:
    # Independent oracle: the standard library's HMAC-SHA256, 16 hex characters.
    return hmac.new(TEST_KEY, f"{domain}|{ref}".encode(), hashlib.sha256).hexdigest()[:16]


def _recipient_id(recipient: str, domain: str, pseudonym: str) -> str:
    # The documented re-keying of extract ids (ExtractSpec.rekey_ids), recomputed here.
    text = f"fdac-extract|{recipient}|{domain}|{pseudonym}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


INTERNAL = ExtractSpec(
    recipient="internal analysts",
    purpose="internal service evaluation",
    external=False,
    tables={"adults": {"columns": ["person_id", "case_id", "role"]}},
)


def _noisy_register(src: Path, out: Path) -> Path:
    """A copy of ``src`` whose register is written as another service might: padded and
    re-cased scopes, padded references (spaces, a tab, a non-breaking space), the same
    objection twice, once more with the scope in other case, and an objection given both by
    a person and for their case."""
    shutil.copytree(src, out)
    opt = pd.read_csv(src / "opt_outs.csv", dtype=str, keep_default_na=False)
    scopes = {
        "all_research": [" all_research", "ALL_RESEARCH ", "All_Research\t", "all_research"],
        "external_sharing": ["External_Sharing ", "\u00a0external_sharing", "EXTERNAL_SHARING"],
    }
    pads = [" {} ", "{}\t", "\u00a0{}", "{}"]
    rows = []
    for i, r in enumerate(opt.to_dict("records")):
        variants = scopes[r["scope"]]
        rows.append(
            {
                "person_ref": pads[i % 4].format(r["person_ref"]) if r["person_ref"] else "",
                "case_ref": pads[(i + 1) % 4].format(r["case_ref"]) if r["case_ref"] else "",
                "received_date": f" {r['received_date']} ",
                "scope": variants[i % len(variants)],
            }
        )
    rows += [dict(rows[0]), dict(rows[1], scope=rows[1]["scope"].swapcase())]
    people = pd.read_csv(src / "court_people.csv", dtype=str)
    first = next(r for r in opt.to_dict("records") if r["person_ref"])
    case = people.loc[people["person_ref"] == first["person_ref"], "case_ref"].iloc[0]
    rows.append({**rows[0], "person_ref": "", "case_ref": f"  {case}", "scope": first["scope"]})
    pd.DataFrame(rows).to_csv(out / "opt_outs.csv", index=False)
    return out


@pytest.fixture(scope="module", params=["clean", "noisy"])
def run(
    optout_world: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> dict:  # type: ignore[type-arg]
    src, link = optout_world
    root = tmp_path_factory.mktemp("optrun")
    if request.param == "noisy":
        src = _noisy_register(src, root / "sources")
    build_research(src, link, root / "research", key=TEST_KEY)
    extracts = {}
    for name in sorted(shipped_specs()):
        spec = load_spec(name)
        assert spec.external
        write_extract(root / "research", spec, root / name)
        extracts[name] = spec
    write_extract(root / "research", INTERNAL, root / "internal")
    people = pd.read_csv(src / "court_people.csv", dtype=str)
    # the oracle reads the register by hand: stripped, scope case-folded, duplicates dropped
    opt = pd.read_csv(src / "opt_outs.csv", dtype=str, keep_default_na=False)
    opt = opt.apply(lambda c: c.str.strip())
    opt["scope"] = opt["scope"].str.lower()
    opt = opt.drop_duplicates(["person_ref", "case_ref", "scope"])
    role = dict(zip(people["person_ref"], people["role"], strict=True))
    case_of = dict(zip(people["person_ref"], people["case_ref"], strict=True))
    opt["kind"] = [
        "case" if not p else ("child" if role[p] == "child" else "adult") for p in opt["person_ref"]
    ]
    opt["case"] = [
        c if c else case_of[p] for p, c in zip(opt["person_ref"], opt["case_ref"], strict=True)
    ]
    # an objection follows the person into every other case naming them (docs/data-contract.md
    # "Opt-outs"): the oracle finds those cases through the world's truth, not the crosswalk
    truth = pd.read_csv(src / "truth" / "people.csv", dtype=str)
    true_of = dict(zip(truth["person_ref"], truth["true_person_id"], strict=True))
    people["true"] = people["person_ref"].map(true_of)
    affected = {}
    for scope in ("all_research", "external_sharing"):
        o = opt[opt["scope"] == scope]
        objectors = set(o.loc[o["person_ref"] != "", "person_ref"]) | set(
            people.loc[
                people["case_ref"].isin(o.loc[o["case_ref"] != "", "case_ref"]), "person_ref"
            ]
        )
        who = set(people.loc[people["person_ref"].isin(objectors), "true"])
        affected[scope] = set(people.loc[people["true"].isin(who), "case_ref"])
    return {
        "root": root,
        "people": people,
        "opt": opt,
        "extracts": extracts,
        "affected": affected,
    }


def _family_ids(people: pd.DataFrame, case_ref: str) -> tuple[str, list[str]]:
    members = people.loc[people["case_ref"] == case_ref, "person_ref"]
    return _hmac("case", case_ref), [_hmac("person", p) for p in members]


def test_world_has_every_kind_of_objection(run: dict) -> None:  # type: ignore[type-arg]
    opt = run["opt"]
    for scope in ("all_research", "external_sharing"):
        kinds = set(opt.loc[opt["scope"] == scope, "kind"])
        assert kinds == {"adult", "child", "case"}, (scope, kinds)


def test_all_research_families_absent_everywhere(run: dict) -> None:  # type: ignore[type-arg]
    root, people, opt = run["root"], run["people"], run["opt"]
    found = tokens(all_bytes(root))  # research, every extract, manifests
    removed = opt[opt["scope"] == "all_research"]
    assert len(removed) >= 10
    for _, o in removed.iterrows():
        case_id, person_ids = _family_ids(people, o["case"])
        ids = {case_id, *person_ids}
        for spec in [*run["extracts"].values(), INTERNAL]:
            ids |= {_recipient_id(spec.recipient, "case", case_id)}
            ids |= {_recipient_id(spec.recipient, "person", p) for p in person_ids}
        assert not ids & found, f"objection by {o['kind']}: family found in outputs"


def test_external_objections_internal_only(run: dict) -> None:  # type: ignore[type-arg]
    root, people, opt = run["root"], run["people"], run["opt"]
    all_research = run["affected"]["all_research"]
    ext = opt[(opt["scope"] == "external_sharing") & ~opt["case"].isin(all_research)]
    assert len(ext) >= 3
    research = read_text_table(root / "research" / "adults.csv")
    children = read_text_table(root / "research" / "children.csv")
    internal = read_text_table(root / "internal" / "adults.csv")
    for _, o in ext.iterrows():
        case_id, person_ids = _family_ids(people, o["case"])
        # kept for internal research: in the research dataset and the internal extract
        assert set(person_ids) <= set(research["person_id"]) | set(children["person_id"])
        assert _recipient_id(INTERNAL.recipient, "case", case_id) in set(internal["case_id"])
        # withheld from every external extract
        for name, spec in run["extracts"].items():
            found = tokens(all_bytes(root / name))
            ids = {_recipient_id(spec.recipient, "case", case_id)}
            ids |= {_recipient_id(spec.recipient, "person", p) for p in person_ids}
            assert not ids & found, f"{name}: external objection by {o['kind']} not honoured"


def test_extract_sizes_and_rounded_reports(run: dict) -> None:  # type: ignore[type-arg]
    root = run["root"]
    n_cases = len(read_text_table(root / "research" / "cases.csv"))
    all_research = run["affected"]["all_research"]
    n_ext = len(run["affected"]["external_sharing"] - all_research)
    for name in run["extracts"]:
        assert len(read_text_table(root / name / "cases.csv")) == n_cases - n_ext
        m = json.loads((root / name / "manifest.json").read_text())
        assert m["cases_withheld_for_external_sharing_objections"] == disclosed_count(n_ext)
    m = json.loads((root / "research" / "manifest.json").read_text())
    shown = m["opt_outs"]["cases_removed_all_research"]
    assert shown == "fewer than 10" or int(shown) % 5 == 0
    assert abs(int(shown) - len(all_research)) <= 2  # rounded to the nearest 5


def test_an_objection_in_a_first_case_removes_the_later_case_everywhere(
    run: dict,  # type: ignore[type-arg]
) -> None:
    """A mother who objected to all research in her first case is absent with her later case
    too (a case she is named in that the register never names), from the research dataset
    and every extract. Oracle: the world's truth (the same true person in both cases)."""
    root, people, opt = run["root"], run["people"], run["opt"]
    named = set(opt.loc[opt["scope"] == "all_research", "case"])
    later_only = run["affected"]["all_research"] - named
    assert later_only, "the world must hold an objector named again in a later case"
    found = tokens(all_bytes(root))
    for case in sorted(later_only):
        case_id, person_ids = _family_ids(people, case)
        ids = {case_id, *person_ids}
        for spec in [*run["extracts"].values(), INTERNAL]:
            ids |= {_recipient_id(spec.recipient, "case", case_id)}
            ids |= {_recipient_id(spec.recipient, "person", p) for p in person_ids}
        assert not ids & found, f"later case {case} of an objector found in outputs"
    m = json.loads((root / "research" / "manifest.json").read_text())
    shown = m["opt_outs"]["cases_removed_all_research"]
    assert abs(int(shown) - len(run["affected"]["all_research"])) <= 2
