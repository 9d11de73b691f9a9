"""Names of the offered synthesizers (a light module: the command line reads it at start)."""

from __future__ import annotations

__all__ = ["MODEL_NAMES", "DEFAULT_MODEL", "MAX_TRAIN_CASES"]

#: Offered synthesizers (``fdac_research.synth.MODELS`` maps them to classes).
MODEL_NAMES = ("cart", "hma")
#: The default, chosen by measured utility, privacy and time (benchmarks/bench_synth.py, default
#: world 3,000 families seed 20261121, 2 cores): cart scored quality 0.971, two-way S_pMSE
#: 1.37/2.39/2.22 (cases/adults/children), 4/4 effects inside the real 95% CI, no family
#: copies, fit+sample 3.4 s and passed the gate; SDV's HMA scored 0.856, S_pMSE
#: 17.7/12.0/30.3, 0/4 effects, 68% of its rows breaking a rule before enforcement,
#: 313 s, and was refused.
DEFAULT_MODEL = "cart"
#: Real cases a synthesizer trains on at most (``synth._release.sample_families``): a national
#: research folder of a few hundred thousand cases is synthesised from a random sample of
#: whole families, so fitting, sampling and the checks stay minutes long. Not tuned on any
#: world: it is about three times the default world's size, and releases of 150 to 3,000
#: families are measured by ``make bench BENCH=synth_sizes``.
MAX_TRAIN_CASES = 10_000
