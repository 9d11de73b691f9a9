"""Fixtures for the risk tests: a small research folder built by hand from a seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fdac_research import reference, schema
from fdac_research.dataset import ResearchData, write_research


def make_research(n_cases: int = 120, seed: int = 0) -> ResearchData:
    """A research dataset (contract section 2) with realistic-looking values."""
    rng = np.random.default_rng(seed)
    las = sorted(reference.LOCAL_AUTHORITIES)
    courts = sorted(reference.COURTS)
    case_id = [f"c{i:05d}" for i in range(n_cases)]
    n_children = rng.integers(1, 5, n_cases)
    cases = pd.DataFrame(
        {
            "case_id": case_id,
            "cohort": rng.choice(schema.COHORTS, n_cases),
            "court": rng.choice(courts[:4], n_cases),
            "local_authority": rng.choice(las[:8], n_cases),
            "application_year": rng.integers(2015, 2024, n_cases),
            "duration_weeks": np.round(rng.gamma(6, 6, n_cases), 1),
            "n_children": n_children,
            "contested_final_hearing": rng.random(n_cases) < 0.2,
            "expert_witness": rng.random(n_cases) < 0.5,
        }
    )
    adults, children = [], []
    for i, cid in enumerate(case_id):
        roles = ["mother"] + (["father"] if rng.random() < 0.6 else [])
        for role in roles:
            adults.append(
                {
                    "person_id": f"p{len(adults):05d}a",
                    "case_id": cid,
                    "role": role,
                    "sex": "F" if role == "mother" else "M",
                    "age_at_application": int(rng.integers(18, 50)),
                    "ethnicity": rng.choice(schema.ETHNICITIES, p=[0.75, 0.07, 0.08, 0.06, 0.04]),
                    "substances": ";".join(
                        sorted(
                            rng.choice(
                                schema.SUBSTANCES[:5], int(rng.integers(1, 3)), replace=False
                            )
                        )
                    ),
                    "domestic_abuse": bool(rng.random() < 0.5),
                    "mental_health": bool(rng.random() < 0.4),
                    "prior_proceedings": int(rng.poisson(0.6)),
                    "convictions": int(rng.poisson(1.0)),
                    "hearings_attended_pct": float(np.round(rng.uniform(40, 100), 1)),
                    "ceased_misuse": bool(rng.random() < 0.35),
                }
            )
        for _ in range(int(n_children[i])):
            children.append(
                {
                    "person_id": f"p{len(children):05d}c",
                    "case_id": cid,
                    "sex": rng.choice(["F", "M"]),
                    "age_at_application": int(rng.integers(0, 17)),
                    "ethnicity": rng.choice(schema.ETHNICITIES, p=[0.7, 0.12, 0.08, 0.06, 0.04]),
                    "final_order": rng.choice(schema.FINAL_ORDERS),
                    "placement_at_end": rng.choice(schema.PLACEMENTS),
                    "reunified": bool(rng.random() < 0.3),
                    "returned_to_court_3y": bool(rng.random() < 0.2),
                }
            )
    quality = pd.DataFrame(
        {
            "agency": list(schema.AGENCIES),
            "n_records": [200] * len(schema.AGENCIES),
            "n_linked": [150] * len(schema.AGENCIES),
            "match_threshold": [0.9] * len(schema.AGENCIES),
            "precision": [0.98] * len(schema.AGENCIES),
            "recall": [0.95] * len(schema.AGENCIES),
        }
    )
    return ResearchData(
        cases=cases,
        adults=pd.DataFrame(adults),
        children=pd.DataFrame(children),
        linkage_quality=quality,
    )


@pytest.fixture(scope="session")
def research_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small research folder written with ``dataset.write_research`` (read-only)."""
    out = tmp_path_factory.mktemp("research") / "research"
    write_research(make_research(), out)
    return out
