"""The synthetic world: a seeded generator of FDAC and comparison care proceedings.

It writes every identifiable source of docs/data-contract.md §1 (court cases, people, outcomes,
hearings, agency extracts with realistic identifier errors, opt-outs) together with the
ground truth (``truth/``: who is who, the planted effects), so that linkage, governance,
risk, synthesis and the analysis can each be measured against what is true.
"""

from fdac_research.world._config import (
    WORLD_PRESETS,
    CorruptionRates,
    WorldConfig,
    preset_config,
)
from fdac_research.world._generate import generate_world, truth_crosswalk
from fdac_research.world._zoo import ZOO_WORLDS, make_zoo_world

__all__ = [
    "WorldConfig",
    "CorruptionRates",
    "WORLD_PRESETS",
    "preset_config",
    "generate_world",
    "truth_crosswalk",
    "make_zoo_world",
    "ZOO_WORLDS",
]
