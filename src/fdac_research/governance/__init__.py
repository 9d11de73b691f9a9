"""Governance: from identifiable sources to a pseudonymised research dataset, honouring every
objection, and from the research dataset to each recipient's minimised extract.

* :func:`build_research` — keyed pseudonyms (HMAC-SHA256 with a controller-held key),
  identifiers removed and replaced by derived fields, agency attributes joined through the
  linkage crosswalk, family-level opt-outs applied before anything is derived.
* :class:`ExtractSpec` / :func:`write_extract` — per-recipient data minimisation (tables,
  columns, coarsening), external recipients never receive families who objected to sharing.
* :class:`RetentionRules` / :func:`retention_due` — what is due for deletion, as counts.
"""

from fdac_research.governance._attributes import ATTRIBUTE_RULES, AttributeRule
from fdac_research.governance._build import (
    EXCLUSIONS_FILE,
    BuildConfig,
    BuildResult,
    build_research,
)
from fdac_research.governance._crosswalk import read_crosswalk, read_linkage_quality
from fdac_research.governance._extract import verify_manifest, write_extract
from fdac_research.governance._keys import KEY_ENV, Pseudonymiser, is_synthetic, load_key
from fdac_research.governance._optouts import OptOutResolution, disclosed_count, resolve_opt_outs
from fdac_research.governance._retention import (
    ANCHORS,
    RetentionReport,
    RetentionRules,
    retention_due,
)
from fdac_research.governance._spec import TRANSFORMS, ExtractSpec, load_spec, shipped_specs

__all__ = [
    "ANCHORS",
    "ATTRIBUTE_RULES",
    "ExtractSpec",
    "RetentionReport",
    "RetentionRules",
    "TRANSFORMS",
    "load_spec",
    "retention_due",
    "shipped_specs",
    "verify_manifest",
    "write_extract",
    "AttributeRule",
    "BuildConfig",
    "BuildResult",
    "EXCLUSIONS_FILE",
    "KEY_ENV",
    "OptOutResolution",
    "Pseudonymiser",
    "build_research",
    "disclosed_count",
    "is_synthetic",
    "load_key",
    "read_crosswalk",
    "read_linkage_quality",
    "resolve_opt_outs",
]
