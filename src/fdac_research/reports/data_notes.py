"""What a research dataset lacks, said in words for the reports.

Real data never arrive complete: an agency extract is not supplied, an attribute the
contract names only "for example" is missing, a substance or a local authority is written in
words the package's reference tables do not know. Each report that relies on such data says
so with :func:`data_notes` instead of showing empty tables without a word. Nothing here
counts people, so the notes need no output check.
"""

from __future__ import annotations

from fdac_research import schema
from fdac_research.dataset import ResearchData
from fdac_research.refdata import UNKNOWN_REGION, region_of, substance_categories

__all__ = ["data_notes", "missing_items"]


def missing_items(research: ResearchData) -> list[str]:
    """One sentence per thing these data lack (empty when nothing is missing)."""
    items: list[str] = []
    attributes = research.manifest.get("attributes", {})
    if isinstance(attributes, dict):
        for column, origin in sorted(attributes.items()):
            if isinstance(origin, str) and origin.startswith("not supplied"):
                items.append(f"`{column}`: {origin}; the tables show it as *not recorded*.")
    reported = {c for c, o in attributes.items() if isinstance(o, str)} if attributes else set()
    for name, frame in research.tables().items():
        if name == "linkage_quality":
            continue
        for col in schema.RESEARCH.table(name).columns:
            empty = col.name in frame and len(frame) and frame[col.name].isna().all()
            if col.nullable and empty and col.name not in reported:
                items.append(f"`{name}.{col.name}`: not recorded for anyone in these data.")
    mapped = substance_categories(research.adults["substances"])
    if mapped.n_unmapped_values:
        items.append(
            f"`substances`: {mapped.n_unmapped_values} value(s) are not in the package's "
            "substance table (`fdac_research.refdata`, substances.csv) and are counted as "
            "*other*."
        )
    _, unknown = region_of(research.cases["local_authority"].dropna().unique())
    if unknown:
        items.append(
            f"`local_authority`: {len(unknown)} value(s) are not local authorities of England "
            "or Wales in the reference table (`fdac_research.refdata`, local_authorities.csv); "
            f"where regions are used they are *{UNKNOWN_REGION}*."
        )
    return items


def data_notes(research: ResearchData, lead: str = "") -> str:
    """Markdown: ``lead`` (what the report cannot do without the missing items) and a
    bulleted list of :func:`missing_items`, or one sentence saying there are none (without
    the lead, which would introduce an empty list)."""
    items = missing_items(research)
    if not items:
        return (
            "Every attribute the reports use was supplied, and every substance and local "
            "authority is in the package's reference tables."
        )
    bullets = "\n".join(f"* {i}" for i in items)
    return f"{lead}\n\n{bullets}" if lead else bullets
