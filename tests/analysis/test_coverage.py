"""Monte Carlo check of the intervals: repeated simulations with a known effect."""

from __future__ import annotations

import numpy as np
import pytest

from fdac_research.analysis import (
    aipw,
    analysis_frame,
    g_computation,
    ipw,
    naive_contrast,
    ps_matching,
)

from .conftest import simulate_research


@pytest.mark.slow  # a coverage study (about a minute); `make bench BENCH=coverage` is the full one
def test_interval_coverage_over_repeated_simulations() -> None:
    # 40 independent data sets (seeds 0..39) of 800 families. A 95% interval should cover the
    # planted effect in about 38 of 40 (binomial: below 33 has probability < 0.1%); the
    # naive contrast, confounded by design, should rarely cover it.
    covered: dict[str, list[bool]] = {}
    for seed in range(40):
        sim = simulate_research(seed, n_cases=800)
        frame = analysis_frame(sim.research, "reunified", "children")
        truth = sim.truth["reunified_children"]
        for r in (
            naive_contrast(frame),
            g_computation(frame),
            ipw(frame),
            aipw(frame),
            ipw(frame, estimand="ATT"),
            ps_matching(frame),
        ):
            t = truth["att" if r.estimand == "ATT" else "ate"]["risk_difference"]
            covered.setdefault(f"{r.method} {r.estimand}", []).append(r.risk_difference.covers(t))
    rates = {k: float(np.mean(v)) for k, v in covered.items()}
    assert rates["naive association"] < 0.5, rates
    for k, rate in rates.items():
        if k != "naive association":
            assert rate >= 33 / 40, (k, rates)
