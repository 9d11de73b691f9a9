"""Reference data shipped with the package, each table with its source and date.

* ``local_authorities.csv`` — every local authority of England and Wales (ONS GSS codes,
  official names, tier, region, current and abolished since 2009, aliases): see
  ``local_authorities.md`` for the sources (ONS lookups, Open Government Licence v3.0).
  :func:`region_of` maps any spelling a court or agency writes onto a region.
* ``substances.csv`` — how the free-text substance values of a substance-misuse extract map
  onto the package's analysis categories (:data:`SUBSTANCE_CATEGORIES`): see
  ``substances.md``. :func:`substance_categories` applies it and counts what it could not map.

Open vocabularies in the data contract (courts, local authorities, substances) accept any
value; these tables are where analysis needs categories, and what is not in them is counted
and reported, never an error.

Examples
--------
>>> from fdac_research.refdata import region_of
>>> regions, unknown = region_of(["Tower Hamlets", "Bristol City Council", "Caerdydd", "Atlantis"])
>>> list(regions), unknown
(['London', 'South West', 'Wales', None], ['Atlantis'])
>>> from fdac_research.refdata import normalise_la_name
>>> normalise_la_name("Royal Borough of Kingston-upon-Thames Council")
'kingston upon thames'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import pandas as pd

__all__ = [
    "UNKNOWN_REGION",
    "SUBSTANCE_CATEGORIES",
    "SubstanceMapping",
    "local_authorities",
    "normalise_la_name",
    "region_of",
    "substance_map",
    "substance_categories",
]

#: The region of a local authority that is not in the reference table, where a rule asks
#: for a category rather than an error.
UNKNOWN_REGION = "Unknown region"

#: Analysis categories of substances, in reporting order (NDTMS-style groups).
SUBSTANCE_CATEGORIES: tuple[str, ...] = (
    "alcohol",
    "cannabis",
    "opiates",
    "cocaine",
    "crack",
    "amphetamines",
    "benzodiazepines",
    "other",
)


def _read(name: str) -> pd.DataFrame:
    with resources.files("fdac_research.refdata").joinpath(name).open("r", encoding="utf-8") as f:
        return pd.read_csv(f, dtype=str, keep_default_na=False)


@functools.cache
def local_authorities() -> pd.DataFrame:
    """The local-authority table (one row per GSS code; see ``local_authorities.md``)."""
    return _read("local_authorities.csv")


_SUFFIXES = (  # longest first
    "city and district council",
    "metropolitan borough council",
    "metropolitan district council",
    "county borough council",
    "borough council",
    "city council",
    "county council",
    "district council",
    "council",
)
_PREFIXES = ("london borough of ", "royal borough of ", "city of ", "county of ")
_PUNCT = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")


def normalise_la_name(name: str) -> str:
    """The form local-authority names are matched in: case-folded, ``&`` read as ``and``,
    council suffixes and ``London Borough of``/``Royal Borough of``/``City of`` prefixes
    and ``, City of``/``, County of`` suffixes dropped, punctuation read as a space."""
    s = _SPACES.sub(" ", name.casefold().replace("&", " and ")).strip()
    for suffix in (", city of", ", county of"):
        s = s.removesuffix(suffix)
    s = _SPACES.sub(" ", _PUNCT.sub(" ", s)).strip()
    for suffix in _SUFFIXES:
        if s.endswith(" " + suffix):
            s = s[: -len(suffix) - 1]
            break
    for prefix in _PREFIXES:
        if s.startswith(prefix) and len(s) > len(prefix):
            s = s[len(prefix) :]
            break
    return s


@functools.cache
def _la_lookup() -> dict[str, tuple[str, str]]:
    """Normalised name or alias → (code, region), current rows winning over abolished."""
    table = local_authorities()
    out: dict[str, tuple[str, str]] = {}
    rows = table.sort_values("status", key=lambda s: s != "current", kind="stable")
    for code, name, aliases, region in zip(
        rows["code"], rows["name"], rows["aliases"], rows["region_name"], strict=True
    ):
        for form in [name, code, *(a for a in aliases.split(";") if a)]:
            out.setdefault(normalise_la_name(form), (code, region))
    return out


def region_of(values: Iterable[object]) -> tuple[list[str | None], list[str]]:
    """The region of each local-authority value (``None`` when unknown or missing) and the
    distinct unknown values, sorted, each once.

    A value matches an authority's ONS name, code or alias after :func:`normalise_la_name`.
    """
    lookup = _la_lookup()
    out: list[str | None] = []
    unknown: set[str] = set()
    for v in values:
        if not isinstance(v, str) or not v.strip():
            out.append(None)
            continue
        hit = lookup.get(normalise_la_name(v))
        if hit is None:
            unknown.add(v)
        out.append(hit[1] if hit else None)
    return out, sorted(unknown)


@functools.cache
def substance_map() -> dict[str, str]:
    """Normalised substance value → category (``substances.csv``)."""
    table = _read("substances.csv")
    return {_substance_key(v): c for v, c in zip(table["value"], table["category"], strict=True)}


def _substance_key(value: str) -> str:
    return _SPACES.sub(" ", value.casefold()).strip()


@dataclass(frozen=True)
class SubstanceMapping:
    """Substance lists mapped onto :data:`SUBSTANCE_CATEGORIES`.

    Attributes
    ----------
    categories : pandas.Series
        Per row, the sorted list of categories (empty when no substance was recorded).
    n_unmapped_values : int
        Distinct values not in ``substances.csv`` (counted as ``other``).
    n_unmapped_mentions : int
        How many list items those values account for.
    """

    categories: pd.Series
    n_unmapped_values: int
    n_unmapped_mentions: int


def substance_categories(values: pd.Series) -> SubstanceMapping:
    """Map ``;``-separated substance lists onto :data:`SUBSTANCE_CATEGORIES`.

    A value matches ``substances.csv`` ignoring case and repeated spaces, then with any
    parenthesised part removed (``methadone (not prescribed)`` → ``methadone``); anything
    else is ``other`` and counted in the result.

    Examples
    --------
    >>> import pandas as pd
    >>> m = substance_categories(pd.Series(["Heroin; crack cocaine", None, "spice;glue sniffing"]))
    >>> m.categories.tolist(), m.n_unmapped_values
    ([['opiates', 'crack'], [], ['other']], 1)
    """
    mapping = substance_map()
    order = {c: i for i, c in enumerate(SUBSTANCE_CATEGORIES)}
    unmapped: dict[str, int] = {}

    def category(item: str) -> str:
        key = _substance_key(item)
        hit = mapping.get(key) or mapping.get(_substance_key(re.sub(r"\([^)]*\)", "", key)))
        if hit is None:
            unmapped[key] = unmapped.get(key, 0) + 1
            return "other"
        return hit

    def one(cell: object) -> list[str]:
        if not isinstance(cell, str):
            return []
        cats = {category(x) for x in (p.strip() for p in cell.split(";")) if x}
        return sorted(cats, key=order.__getitem__)

    cats = pd.Series([one(v) for v in values], index=values.index, dtype=object)
    return SubstanceMapping(cats, len(unmapped), sum(unmapped.values()))
