"""The population and variables of each count table the reports publish, for
``publish_table(..., link=...)``: tables of one population are protected together.

* Cohort profile tables (``analysis.profile_tables``): cases, mothers or children by one
  characteristic and cohort; mothers' substances are multi-valued (a mother is counted once
  per substance), "not recorded" held alone.
* Outcome count tables (final orders, placements): children whose value is recorded, by
  cohort (each a subset of the children: the children of closed cases).

Examples
--------
>>> profile_link("court").unit, profile_link("court").rows
('cases', ('court',))
>>> outcome_link("final_order").subset
'children with final_order recorded'
"""

from __future__ import annotations

from fdac_research.analysis import NOT_RECORDED, PROFILE_VARIABLES
from fdac_research.exceptions import ConfigError
from fdac_research.risk.linked import TableLink

__all__ = ["profile_link", "outcome_link", "COHORT"]

#: The column variable of every report table (FDAC vs comparison).
COHORT = "cohort"
_MULTI_VALUED = ("substances",)


def profile_link(variable: str, *, adults: str = "mothers") -> TableLink:
    """The registration of the cohort-profile table of ``variable``.

    Parameters
    ----------
    variable : str
        One of ``analysis.PROFILE_VARIABLES``.
    adults : str
        Whose characteristics the adult tables count (``profile_tables(adults=...)``).
    """
    if variable not in PROFILE_VARIABLES:
        raise ConfigError(
            "profile link",
            [f"unknown profile variable {variable!r}; expected one of {list(PROFILE_VARIABLES)}"],
        )
    unit = PROFILE_VARIABLES[variable][0]
    multi = variable in _MULTI_VALUED
    return TableLink(
        unit=adults if unit == "adults" else unit,
        rows=(variable,),
        columns=(COHORT,),
        multi_valued=(variable,) if multi else (),
        exclusive=(NOT_RECORDED,) if multi else (),
    )


def outcome_link(column: str) -> TableLink:
    """The registration of the outcome count table of children's ``column`` by cohort
    (children whose ``column`` is recorded)."""
    return TableLink(
        unit="children",
        rows=(column,),
        columns=(COHORT,),
        subset=f"children with {column} recorded",
    )
