"""Benchmark: output control against an intruder who reads every published table (issue 15).

Sections (column ``section``):

* ``random``: random frequency tables (the issue's T2, 24 tables of 2x2 to 12x8, three
  40x12) under every preset: suppressed cells with the preset's protection level and
  without it (``min_interval=0``, a positive width only), and with the pre-issue greedy
  heuristic; the least interval width of any suppressed cell found by the intruder's audit
  written for the tests (``tests/risk/_intruder.py``: full cover table, linprog, and milp
  for whole counts), against the level.
* ``reports``: every count table a run publishes, audited together per population by the
  same independent audit (rounded cells within their rounding interval): the default
  ``make reports`` tables folder as it is, and the report tables rebuilt and published
  with links under each preset for the default world and a 300-family world (where small
  cells exist).
* ``acro``: primary cell decisions side by side with ACRO 1.0.2 (``acro.crosstab``) on the
  microdata of the report tables (default world) and of random frequency and magnitude
  tables, with every difference and its reason.
* ``near_copies``: the default synthesizer and memorisers releasing 1%, 5% and 10% of real
  families with one or several values nudged, through ``synthesise`` on the default world.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._util import measure

SEED = 20261121
PRESETS = ("ons_10_5", "nhs_1_7_round_5", "tre_10_zeros")
REPORTS = Path(__file__).resolve().parents[1] / "reports" / "tables"


def _random_tables() -> Iterator[tuple[str, np.ndarray]]:
    from tests.risk._examples import T2

    yield "T2 (issue 15)", np.array(T2, dtype=float)
    rng = np.random.default_rng(SEED)
    for k in range(24):
        shape = (int(rng.integers(2, 13)), int(rng.integers(2, 9)))
        yield (
            f"random {k} {shape[0]}x{shape[1]}",
            rng.poisson(rng.choice([4, 9, 15, 30]), shape).astype(float),
        )
    for k in range(3):
        yield f"random 40x12 #{k}", rng.poisson(rng.choice([8, 15]), (40, 12)).astype(float)


def _exact(values: np.ndarray, published: pd.DataFrame) -> Any:
    from tests.risk._intruder import Published

    grid = np.zeros((values.shape[0] + 1, values.shape[1] + 1))
    grid[:-1, :-1] = values
    grid[:-1, -1], grid[-1, :-1], grid[-1, -1] = values.sum(1), values.sum(0), values.sum()
    grid[published.to_numpy() == "[c]"] = np.nan
    r, c = values.shape
    return Published(
        "t", ("r",), ("c",), [(str(i),) for i in range(r)], [(str(j),) for j in range(c)], grid
    )


def _random_rows() -> list[dict[str, Any]]:
    from fdac_research.risk import PRESETS as RULES
    from fdac_research.risk import check_table
    from fdac_research.risk._audit import extend, greedy_suppression
    from fdac_research.risk._primary import primary_reasons
    from fdac_research.risk._protect import Levels
    from fdac_research.risk.tables import TableSpec
    from tests.risk._intruder import audit

    rows = []
    for name, values in _random_tables():
        big = values.size > 200
        for preset in PRESETS:
            rules = RULES[preset]
            level = rules.sliding_level("frequency")
            frame = pd.DataFrame(values)
            t0 = time.perf_counter()
            with_ = check_table(frame, rules, time_limit=20.0 if big else 60.0)
            dt = time.perf_counter() - t0
            bare = check_table(
                frame, {**rules.to_dict(), "min_interval": 0}, time_limit=20.0 if big else 60.0
            )
            grid = extend(values)
            prim = primary_reasons(TableSpec(frame), values, grid, rules) != "ok"
            greedy, _ = greedy_suppression(grid, prim, Levels.zeros(grid.size), floor=1.0)
            cells_w = audit([_exact(values, with_.published)], integer=not big)
            cells_b = audit([_exact(values, bare.published)])
            gpub = pd.DataFrame(np.where(greedy, "[c]", "0"))
            cells_g = audit([_exact(values, gpub)])
            rows.append(
                {
                    "section": "random",
                    "table": name,
                    "preset": preset,
                    "level (least width)": level,
                    "primary": with_.summary["n_primary"],
                    "secondary with level": with_.summary["n_secondary"],
                    "secondary without level": bare.summary["n_secondary"],
                    "secondary, greedy before issue 15": int(greedy.sum() - prim.sum()),
                    "least width with level": _least(cells_w),
                    "least width without level": _least(cells_b),
                    "cells under the level without it": sum(
                        c["width"] < level - 1e-6 for c in cells_b
                    ),
                    "cells under the level, greedy": sum(
                        c["width"] < level - 1e-6 for c in cells_g
                    ),
                    "suppressed cells": len(cells_w),
                    "audit": "LP" + ("" if big else " + integer"),
                    "method": with_.summary["secondary_method"],
                    "check s": round(dt, 2),
                }
            )
    return rows


def _least(cells: list[dict[str, Any]]) -> float | None:
    return round(min(c["width"] for c in cells), 3) if cells else None


def _intruder_tables(folder: Path) -> dict[str, list[Any]]:
    """Every registered count table of ``folder`` as the intruder reads it, by unit."""
    from tests.risk._intruder import Published

    out: dict[str, list[Any]] = {}
    for p in sorted(folder.glob("*.check.json")):
        rec = json.loads(p.read_text())
        reg = rec.get("linked")
        if not reg:
            continue
        link = reg["link"]
        body = pd.read_csv(
            p.with_name(f"{rec['table']}.csv"), index_col=list(range(len(link["rows"]))), dtype=str
        )
        grid = body.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        out.setdefault(link["unit"], []).append(
            Published(
                rec["table"],
                tuple(link["rows"]),
                tuple(link["columns"]),
                [tuple(x) for x in reg["row_categories"]],
                [tuple(x) for x in reg["column_categories"]],
                grid,
                round_base=rec.get("rounded_to"),
                subset=link.get("subset"),
                multi=frozenset(link.get("multi_valued") or ()),
                exclusive=frozenset(link.get("exclusive") or ()),
            )
        )
    return out


def _audit_folder(label: str, folder: Path, level: float) -> list[dict[str, Any]]:
    from tests.risk._intruder import audit

    rows = []
    estimates = [json.loads(p.read_text()) for p in folder.glob("*.check.json")]
    for unit, tables in sorted(_intruder_tables(folder).items()):
        t0 = time.perf_counter()
        cells = audit(tables, integer=True)
        rows.append(
            {
                "section": "reports",
                "tables": label,
                "population": unit,
                "tables audited together": len(tables),
                "suppressed cells": len(cells),
                "least width (independent, whole counts)": _least(cells),
                "level": level,
                "cells under the level": sum(c["width"] < level - 1e-6 for c in cells),
                "audit s": round(time.perf_counter() - t0, 1),
            }
        )
    rows.append(
        {
            "section": "reports",
            "tables": label,
            "population": "estimates and summaries",
            "tables audited together": sum(
                e.get("kind") in ("estimates", "summary") for e in estimates
            ),
            "suppressed cells": sum(len(e.get("suppressed_rows", [])) for e in estimates),
            "least width (independent, whole counts)": "rows of [c] (every value of the row)",
        }
    )
    return rows


def _world(base: Path, families: int, seed: int) -> Path:
    from fdac_research.governance import build_research, load_key
    from fdac_research.world import generate_world, truth_crosswalk

    generate_world(base / "W", n_families=families, seed=seed)
    truth_crosswalk(base / "W", base / "L")
    key, kind = load_key(demo=True, sources=base / "W")
    build_research(base / "W", base / "L", base / "R", key=key, key_kind=kind)
    return base / "R"


def _publish_report_tables(research: Path, folder: Path, preset: str) -> None:
    """The count tables of notebooks 1 and 3, published as the notebooks publish them."""
    from fdac_research import analysis
    from fdac_research.dataset import load_research
    from fdac_research.reports.links import outcome_link, profile_link
    from fdac_research.reports.outcomes_view import _count_table
    from fdac_research.reports.publish import publish_table

    data = load_research(research)
    for key, table in analysis.profile_tables(data).items():
        publish_table(
            analysis.as_check_table(table),
            f"cohort_{key}",
            folder,
            rules=preset,
            link=profile_link(key),
        )
    for col in ("final_order", "placement_at_end"):
        counts = _count_table(data.children, data.cases, col)
        publish_table(counts, f"outcomes_{col}", folder, rules=preset, link=outcome_link(col))


def _reports_rows(base: Path) -> list[dict[str, Any]]:
    from fdac_research.risk import PRESETS as RULES

    rows = []
    if REPORTS.is_dir() and any(REPORTS.glob("*.check.json")):
        rows += _audit_folder(
            "make reports (reports/tables)", REPORTS, RULES["ons_10_5"].sliding_level("frequency")
        )
    worlds = {
        "default world (3,000 families)": _world(base / "w3000", 3000, SEED),
        "300-family world": _world(base / "w300", 300, 7),
    }
    for label, research in worlds.items():
        for preset in PRESETS:
            folder = base / f"{label[:6]}_{preset}"
            folder.mkdir()
            t0 = time.perf_counter()
            _publish_report_tables(research, folder, preset)
            dt = time.perf_counter() - t0
            got = _audit_folder(
                f"{label}, {preset}", folder, RULES[preset].sliding_level("frequency")
            )
            for r in got:
                r["publish s"] = round(dt, 1)
            rows += got
    return rows


# --- ACRO side by side ---------------------------------------------------------------------
_OURS = {
    "threshold": "MinimumThresholdCheck",
    "zero": "PresenceOfZeroCheck",
    "p_percent": "PPercentCheck",
    "dominance": "NKCheck",
}


def _acro_flags(
    acro: Any, rows: pd.Series, cols: pd.Series, values: pd.Series | None = None
) -> pd.DataFrame:
    kw = {} if values is None else {"values": values, "aggfunc": "sum"}
    acro.crosstab(rows, cols, **kw)
    out = acro.results.get_index(-1).outcome
    return out.map(lambda s: frozenset(x.strip() for x in s.split(";") if x.strip()) - {"ok"})


def _compare(label: str, flags: pd.DataFrame, reasons: pd.DataFrame, preset: str) -> dict[str, Any]:
    agree, diffs = 0, []
    for r in flags.index:
        for c in flags.columns:
            theirs = flags.loc[r, c]
            mine = reasons.loc[str(r), str(c)]
            primary = mine not in ("ok", "secondary")
            if primary == bool(theirs) and (not primary or _OURS[mine] in theirs):
                agree += 1
            else:
                diffs.append(f"({r}, {c}): ours {mine}, ACRO {sorted(theirs) or 'ok'}")
    secondary = int((reasons.iloc[:-1, :-1].to_numpy() == "secondary").sum())
    return {
        "section": "acro",
        "table": label,
        "preset": preset,
        "cells": flags.size,
        "primary decisions agreeing": agree,
        "differences": "; ".join(diffs[:6]) + (f" (+{len(diffs) - 6})" if len(diffs) > 6 else ""),
        "our secondary cells (ACRO has none)": secondary,
    }


def _report_microdata(research: Path) -> Iterator[tuple[str, pd.Series, pd.Series]]:
    from fdac_research.analysis import AGE_BANDS
    from fdac_research.dataset import load_research

    d = load_research(research)
    cases = d.cases
    for v in ("court", "local_authority", "application_year"):
        yield f"cases by {v}", cases[v].astype(str), cases["cohort"].astype(str)
    nch = cases["n_children"].astype(int).map(lambda n: "4 or more" if n >= 4 else str(n))
    yield "cases by n_children", nch, cases["cohort"].astype(str)
    cohort = cases.set_index("case_id")["cohort"]
    mothers = d.adults[d.adults["role"] == "mother"]
    for v in ("domestic_abuse", "mental_health"):
        cat = mothers[v].map({True: "yes", False: "no"}).fillna("not recorded")
        yield f"mothers by {v}", cat.astype(str), mothers["case_id"].map(cohort).astype(str)
    age = d.children["age_at_application"]
    band = pd.Series("16 and over", index=age.index)
    for lab, lo, hi in AGE_BANDS:
        band[(age >= lo) & (age <= hi)] = lab
    yield "children by age band", band, d.children["case_id"].map(cohort).astype(str)
    done = d.children[d.children["final_order"].notna()]
    yield (
        "children by final order",
        done["final_order"].astype(str),
        done["case_id"].map(cohort).astype(str),
    )


def _acro_rows(base: Path) -> list[dict[str, Any]]:
    from acro import ACRO

    from fdac_research.risk import check_table, tabulate

    logging.getLogger("acro").setLevel(logging.ERROR)
    acro = ACRO(suppress=False)
    rows = []
    research = base / "w3000" / "R"
    for label, r, c in _report_microdata(research):
        flags = _acro_flags(acro, r, c)
        counts = pd.crosstab(r, c)
        for preset in ("tre_10_zeros", "ons_10_5"):
            reasons = check_table(
                counts.reindex(index=flags.index, columns=flags.columns), preset
            ).reasons
            rows.append(_compare(label, flags, reasons, preset))
    rng = np.random.default_rng(SEED + 1)
    for k in range(10):
        counts = rng.poisson(
            rng.choice([6, 12, 25]), (int(rng.integers(3, 9)), int(rng.integers(2, 6)))
        )
        counts[:, 0] += 1
        counts[0, 0] = 0
        recs = [
            (f"r{i}", f"c{j}")
            for i in range(counts.shape[0])
            for j in range(counts.shape[1])
            for _ in range(int(counts[i, j]))
        ]
        df = pd.DataFrame(recs, columns=["r", "c"])
        flags = _acro_flags(acro, df["r"], df["c"])
        reasons = check_table(
            pd.DataFrame(counts, index=flags.index, columns=flags.columns), "tre_10_zeros"
        ).reasons
        rows.append(_compare(f"random frequency {k}", flags, reasons, "tre_10_zeros"))
    for k in range(10):
        recs = []
        for i in range(4):
            for j in range(3):
                n = int(rng.choice([3, 12, 25]))
                v = rng.gamma(2.0, 10.0, n)
                if rng.random() < 0.3:
                    v[0] = 50 * v.sum()
                elif rng.random() < 0.3 and n > 2:
                    v[:2] = rng.uniform(3, 30) * v[2:].sum()
                recs += [(f"r{i}", f"c{j}", float(x)) for x in v]
        df = pd.DataFrame(recs, columns=["r", "c", "v"])
        flags = _acro_flags(acro, df["r"], df["c"], df["v"])
        for preset in ("tre_10_zeros", "ons_10_5"):
            reasons = check_table(tabulate(df, "r", "c", "v"), preset).reasons
            rows.append(_compare(f"random magnitude {k}", flags, reasons, preset))
    return rows


# --- near copies -----------------------------------------------------------------------------
def _release(research: str, model: Any) -> dict[str, Any]:
    from fdac_research.exceptions import ReleaseRefusedError
    from fdac_research.synth import synthesise

    try:
        res = synthesise(research, None, model=model, seed=1, n_attacks=200)
    except ReleaseRefusedError as err:
        res = err.result  # type: ignore[attr-defined]
    near = res.report["privacy"]["near_copies"]
    return {
        "passed": res.passed,
        "failed checks": ", ".join(c.name for c in res.failed) or "none",
        "families near copies": round(near["families"]["synthetic"], 4),
        "families held-out share": round(near["families"]["holdout"], 4),
        "adults near copies": round(near["adults"]["synthetic"], 4),
        "exact family copies": res.report["privacy"]["exact_copies"]["synthetic"]["families"],
        "rare categories": len(res.report["privacy"]["real_categories_reproduced"]),
    }


def _near_rows(base: Path) -> list[dict[str, Any]]:
    from fdac_research.synth._cart import CARTSynthesizer
    from tests.synth._memorise import NudgingMemoriser

    research = str(base / "w3000" / "R")
    models: dict[str, Any] = {"default (cart)": CARTSynthesizer(seed=1)}
    for share in (0.01, 0.05, 0.10):
        for how in ("one", "several"):
            models[f"memoriser {share:.0%}, {how} value(s) nudged"] = NudgingMemoriser(
                share, how, seed=1
            )
    rows = []
    for label, model in models.items():
        m = measure(_release, research, model)
        rows.append(
            {"section": "near_copies", "synthesizer": label, **m["result"], "wall s": m["wall_s"]}
        )
    return rows


def run() -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-sdc-") as tmp:
        base = Path(tmp)
        rows += measure(_random_rows)["result"]
        rows += measure(_reports_rows, base)["result"]
        rows += measure(_acro_rows, base)["result"]
        rows += _near_rows(base)
    rnd = [r for r in rows if r["section"] == "random"]
    return {
        "title": "Output control against an intruder reading every table (issue 15)",
        "rows": rows,
        "notes": [
            "random: every suppressed cell's interval from the independent audit (tests/risk/_intruder.py) "
            f"is at least the preset's level in {sum(r['least width with level'] is None or r['least width with level'] >= r['level (least width)'] - 1e-6 for r in rnd)} of {len(rnd)} table x preset runs; "
            f"secondary cells with the level {sum(r['secondary with level'] for r in rnd)}, without it {sum(r['secondary without level'] for r in rnd)}, "
            f"greedy before issue 15 {sum(r['secondary, greedy before issue 15'] for r in rnd)}; suppressed cells under the level "
            f"without it {sum(r['cells under the level without it'] for r in rnd)}, greedy {sum(r['cells under the level, greedy'] for r in rnd)}.",
            "reports: rounded cells are known to the intruder only within their rounding interval; every count table is registered with its population and audited with the others of it.",
            "acro: ACRO flags every cell under 10 including zeros (threshold check), so ons_10_5 (zeros shown) differs on zero cells by design; ACRO suppresses primary cells only and recomputes the margins without them, we publish the true margins and suppress secondary cells instead.",
            "near_copies: synthesise on the default world (seed 1, 200 attacks), nothing written.",
        ],
    }
