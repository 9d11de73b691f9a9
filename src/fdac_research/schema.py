"""The data contract (docs/data-contract.md, version 1) declared once, in code.

Every table, column, type, allowed values, keys and each column's *roles* live here. Other
stages and the reports read roles from this module (for example the quasi-identifiers a
disclosure-risk review scores) and never re-declare them.

Roles
-----
``direct_identifier``
    Names, dates of birth, postcodes: never leave the controller side.
``reference``
    Source references and record ids (``case_ref``, ``person_ref``, ``record_id``): never
    leave the controller side either.
``key``
    Keyed pseudonyms in the research dataset (``case_id``, ``person_id``).
``quasi_identifier``
    Not identifying alone, but identifying in combination with what someone already knows.
``sensitive``
    Special-category or otherwise sensitive attributes (health, offending, ethnicity...).
``treatment``
    The exposure the evaluation compares (``cohort``).
``outcome``
    An outcome of the evaluation.
``attribute``
    Anything else.

Examples
--------
>>> from fdac_research import schema
>>> schema.RESEARCH.table("adults").column("ethnicity").roles == {"quasi_identifier", "sensitive"}
True
>>> "age_at_application" in schema.RESEARCH.table("children").with_role("quasi_identifier")
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

__all__ = [
    "CONTRACT_VERSION",
    "ROLES",
    "Column",
    "Table",
    "Layout",
    "SOURCES",
    "RESEARCH",
    "AGENCIES",
    "AGENCY_ATTRIBUTES",
    "COHORTS",
    "ROLES_OF_PEOPLE",
    "ADULT_ROLES",
    "SEXES",
    "ETHNICITIES",
    "FINAL_ORDERS",
    "PLACEMENTS",
    "HEARING_KINDS",
    "OPT_OUT_SCOPES",
    "SUBSTANCES",
    "POSTCODE_PATTERN",
    "agency_table",
    "describe",
]

CONTRACT_VERSION = "1"

Kind = Literal["str", "category", "date", "bool", "int", "float", "list"]
ROLES = frozenset(
    {
        "direct_identifier",
        "reference",
        "key",
        "quasi_identifier",
        "sensitive",
        "treatment",
        "outcome",
        "attribute",
    }
)

COHORTS = ("fdac", "comparison")
ROLES_OF_PEOPLE = ("mother", "father", "other_carer", "child")
ADULT_ROLES = ("mother", "father", "other_carer")
SEXES = ("F", "M")
ETHNICITIES = ("White", "Mixed", "Asian", "Black", "Other")
FINAL_ORDERS = (
    "care_order",
    "placement_order",
    "special_guardianship_order",
    "supervision_order",
    "child_arrangements_order",
    "no_order",
)
PLACEMENTS = ("parent", "kinship", "foster", "adoption", "other")
HEARING_KINDS = (
    "first_hearing",
    "fdac_review",
    "case_management",
    "issues_resolution",
    "final_hearing",
)
OPT_OUT_SCOPES = ("all_research", "external_sharing")
# The substance values the package's own synthetic world writes. Substances are an open
# vocabulary in the contract: analysis maps any value onto categories through
# fdac_research.refdata (substances.csv).
SUBSTANCES = (
    "alcohol",
    "cannabis",
    "cocaine",
    "crack",
    "heroin",
    "amphetamine",
    "benzodiazepines",
    "other",
)
AGENCIES = (
    "cafcass",
    "local_authority",
    "police",
    "health",
    "education",
    "substance_misuse",
    "domestic_abuse",
)
# A full UK postcode: outward code (area + district) and inward code (sector + unit).
POSTCODE_PATTERN = r"^[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}$"


@dataclass(frozen=True)
class Column:
    """One column of a contract table.

    Parameters
    ----------
    name : str
        Column name as it appears in the header.
    kind : {"str", "category", "date", "bool", "int", "float", "list"}
        How values are written: ``date`` is ISO ``YYYY-MM-DD``, ``bool`` is ``true``/``false``,
        ``list`` is ``;``-separated.
    description : str
        What the column means (printed in every report).
    roles : frozenset of str
        Roles from :data:`ROLES`.
    nullable : bool
        Whether an empty cell is allowed.
    allowed : tuple of str, optional
        Allowed values for ``category`` and items of ``list`` columns.
    minimum, maximum : float, optional
        Bounds for numeric columns.
    pattern : str, optional
        A regular expression every non-empty value must match.
    required : bool
        Whether the column must be present (optional columns are validated when present).
    """

    name: str
    kind: Kind
    description: str
    roles: frozenset[str] = frozenset({"attribute"})
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    required: bool = True

    def __post_init__(self) -> None:
        unknown = set(self.roles) - ROLES
        if unknown:
            raise ValueError(f"column {self.name!r}: unknown roles {sorted(unknown)}")


@dataclass(frozen=True)
class ForeignKey:
    """``column`` of this table refers to ``parent_column`` of ``parent``."""

    column: str
    parent: str
    parent_column: str


@dataclass(frozen=True)
class Table:
    """A contract table: its file stem, columns, primary key and foreign keys.

    ``optional`` tables may be absent; ``may_be_empty`` ones may hold a header and no rows
    (an opt-out register with no objections); any other empty table is an error.
    """

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: str | None = None
    foreign_keys: tuple[ForeignKey, ...] = ()
    optional: bool = False
    may_be_empty: bool = False

    @property
    def names(self) -> list[str]:
        """Names of all declared columns, in order."""
        return [c.name for c in self.columns]

    @property
    def required_names(self) -> list[str]:
        """Names of required columns."""
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        """The declared column ``name``; ``KeyError`` naming the table if absent."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}; it has {self.names}")

    def with_role(self, role: str) -> list[str]:
        """Names of the columns that carry ``role``."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {sorted(ROLES)}")
        return [c.name for c in self.columns if role in c.roles]


@dataclass(frozen=True)
class Layout:
    """A folder layout of the contract (``sources`` or ``research``)."""

    name: str
    tables: tuple[Table, ...] = field(default_factory=tuple)

    def table(self, name: str) -> Table:
        """The table ``name``; ``KeyError`` naming the layout if absent."""
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(
            f"layout {self.name!r} has no table {name!r}; it has {[t.name for t in self.tables]}"
        )


def _c(name: str, kind: Kind, description: str, *roles: str, **kw: object) -> Column:
    return Column(name, kind, description, frozenset(roles or ("attribute",)), **kw)  # type: ignore[arg-type]


# The declarations below read as a table, one column per line: keep them unformatted.
# fmt: off
_BOOL_NULL = {"nullable": True}

# --- identifier columns shared by court people and every agency extract -------------------
_IDENTITY = (
    _c("given_name", "str", "Given (first) name as recorded.", "direct_identifier", nullable=True),
    _c("family_name", "str", "Family name (surname) as recorded.", "direct_identifier", nullable=True),
    _c("date_of_birth", "date", "Date of birth.", "direct_identifier", nullable=True),
    _c("sex", "category", "Sex as recorded.", "quasi_identifier", nullable=True, allowed=SEXES),
    _c(
        "postcode",
        "str",
        "Full UK postcode of the address on record.",
        "direct_identifier",
        nullable=True,
        pattern=POSTCODE_PATTERN,
    ),
)

# --- 1. identifiable sources ------------------------------------------------------------------
COURT_CASES = Table(
    "court_cases",
    "One row per care-proceedings case.",
    (
        _c("case_ref", "str", "Court's case reference.", "reference"),
        _c("cohort", "category", "FDAC or ordinary (comparison) proceedings.", "treatment", allowed=COHORTS),
        _c("court", "str", "Family court hearing the case.", "quasi_identifier"),
        _c("local_authority", "str", "Local authority bringing the proceedings.", "quasi_identifier"),
        _c("application_date", "date", "Date the care application was issued.", "quasi_identifier"),
        _c("final_hearing_date", "date", "Date of the final hearing; empty while open.", "attribute", nullable=True),
        _c("contested_final_hearing", "bool", "Whether the final hearing was contested.", "outcome", **_BOOL_NULL),
        _c("expert_witness", "bool", "Whether an external expert witness was used.", "outcome", **_BOOL_NULL),
    ),
    primary_key="case_ref",
)
COURT_PEOPLE = Table(
    "court_people",
    "One row per parent/carer or child named in a case.",
    (
        _c("case_ref", "str", "Case the person is named in.", "reference"),
        _c("person_ref", "str", "Court's reference for the person in this case.", "reference"),
        _c("role", "category", "Role in the case.", "quasi_identifier", allowed=ROLES_OF_PEOPLE),
        *_IDENTITY,
        _c(
            "ethnicity",
            "category",
            "Ethnic group (optional diversity data).",
            "quasi_identifier",
            "sensitive",
            nullable=True,
            allowed=ETHNICITIES,
        ),
    ),
    primary_key="person_ref",
    foreign_keys=(ForeignKey("case_ref", "court_cases", "case_ref"),),
)
COURT_OUTCOMES = Table(
    "court_outcomes",
    "One row per person at the end of proceedings.",
    (
        _c("person_ref", "str", "Person the outcome is about.", "reference"),
        _c("ceased_misuse", "bool", "Adult: ceased substance misuse by the end of proceedings.", "outcome", nullable=True),
        _c("final_order", "category", "Child: final order; empty while open.", "outcome", nullable=True, allowed=FINAL_ORDERS),
        _c("placement_at_end", "category", "Child: where the child lives at the end.", "outcome", nullable=True, allowed=PLACEMENTS),
        _c("returned_to_court_3y", "bool", "Child: returned to court within 3 years; empty if not yet observable.", "outcome", nullable=True),
    ),
    primary_key="person_ref",
    foreign_keys=(ForeignKey("person_ref", "court_people", "person_ref"),),
)
HEARINGS = Table(
    "hearings",
    "One row per scheduled hearing or FDAC review.",
    (
        _c("case_ref", "str", "Case the hearing belongs to.", "reference"),
        _c("date", "date", "Date of the hearing.", "attribute"),
        _c("kind", "category", "Kind of hearing.", "attribute", allowed=HEARING_KINDS),
        _c("parent_attended", "bool", "Whether a parent attended.", "attribute", nullable=True),
    ),
    foreign_keys=(ForeignKey("case_ref", "court_cases", "case_ref"),),
)
OPT_OUTS = Table(
    "opt_outs",
    "One row per objection received (names a person or a case).",
    (
        _c("person_ref", "str", "Person objecting or objected for.", "reference", nullable=True),
        _c("case_ref", "str", "Case objected for.", "reference", nullable=True),
        _c("received_date", "date", "Date the objection was received.", "attribute"),
        _c("scope", "category", "What the objection covers.", "attribute", allowed=OPT_OUT_SCOPES),
    ),
    foreign_keys=(
        ForeignKey("person_ref", "court_people", "person_ref"),
        ForeignKey("case_ref", "court_cases", "case_ref"),
    ),
    optional=True,
    may_be_empty=True,
)

# Agency attributes: the contract names them "for example", so every one is optional (a
# stage that uses one says in its report when it was not supplied). Validated when present.
_COUNT = {"minimum": 0, "required": False}
_OPT = {"required": False}
AGENCY_ATTRIBUTES: dict[str, tuple[Column, ...]] = {
    "cafcass": (
        _c("safeguarding_concerns", "int", "Safeguarding concerns noted by Cafcass.", "sensitive", nullable=True, **_COUNT),
    ),
    "local_authority": (
        _c("prior_proceedings", "int", "Earlier care proceedings involving the person.", "sensitive", nullable=True, **_COUNT),
        _c("child_protection_plans", "int", "Child-protection plans on record.", "sensitive", nullable=True, **_COUNT),
    ),
    "police": (
        _c("convictions", "int", "Convictions on record.", "sensitive", nullable=True, **_COUNT),
        _c("cautions", "int", "Cautions on record.", "sensitive", nullable=True, **_COUNT),
    ),
    "health": (
        _c("mental_health", "bool", "Recorded mental-health condition.", "sensitive", nullable=True, **_OPT),
    ),
    "education": (
        _c("school_attendance_pct", "float", "School attendance, percent.", "sensitive", nullable=True, minimum=0, maximum=100, **_OPT),
    ),
    "substance_misuse": (
        _c("substances", "list", "Substances misused (;-separated).", "sensitive", nullable=True, **_OPT),
        _c("treatment_episodes", "int", "Treatment episodes on record.", "sensitive", nullable=True, **_COUNT),
    ),
    "domestic_abuse": (
        _c("domestic_abuse", "bool", "Domestic abuse recorded.", "sensitive", nullable=True, **_OPT),
    ),
}


def agency_table(agency: str) -> Table:
    """The table declaration of ``agencies/<agency>``.

    Agencies not named in the contract are allowed and get the identity columns only.
    """
    if not agency or not agency.replace("_", "").isalnum():
        raise ValueError(f"agency name {agency!r} must be letters, digits and underscores")
    return Table(
        f"agencies/{agency}",
        f"One row per record held by {agency}.",
        (
            _c("record_id", "str", "The agency's record identifier.", "reference"),
            *_IDENTITY,
            *AGENCY_ATTRIBUTES.get(agency, ()),
        ),
        primary_key="record_id",
        optional=True,
    )


SOURCES = Layout(
    "sources",
    (COURT_CASES, COURT_PEOPLE, COURT_OUTCOMES, HEARINGS, OPT_OUTS)
    + tuple(agency_table(a) for a in AGENCIES),
)

# --- 2. research dataset --------------------------------------------------------------------
_PSEUDO = "Keyed pseudonym (HMAC-SHA256); not reversible without the controller's key."
_INDIVIDUAL = "Keyed pseudonym of the person across cases (the linkage's court person): a mother named in two cases has two person_id and one individual_id."
_FAMILY = "Keyed pseudonym of the family: cases joined by a person named in both (a mother in two proceedings, the father of either) share it; cluster intervals on it."
CASES = Table(
    "cases",
    "One row per case (pseudonymised).",
    (
        _c("case_id", "str", _PSEUDO, "key"),
        _c("cohort", "category", "FDAC or ordinary (comparison) proceedings.", "treatment", allowed=COHORTS),
        _c("court", "str", "Family court.", "quasi_identifier"),
        _c("local_authority", "str", "Local authority.", "quasi_identifier"),
        _c("application_year", "int", "Year the application was issued.", "quasi_identifier", minimum=1990, maximum=2100),
        _c("duration_weeks", "float", "Weeks from application to final hearing; empty while open.", "outcome", nullable=True, minimum=0),
        _c("n_children", "int", "Children named in the case.", "quasi_identifier", minimum=0),
        _c("contested_final_hearing", "bool", "Final hearing contested.", "outcome", nullable=True),
        _c("expert_witness", "bool", "External expert witness used.", "outcome", nullable=True),
        _c("family_id", "str", _FAMILY, "key", required=False),
        _c("years_to_later_case", "float", "Years from the final hearing to the family's next care proceedings (the first later case naming any of its people); empty when none began within follow-up, while open, or when that case was removed by an objection.", "outcome", nullable=True, minimum=0, required=False),
        _c("follow_up_years", "float", "Years from the final hearing to the end of follow-up (the latest application in the court records unless set); empty while open.", "attribute", nullable=True, minimum=0, required=False),
    ),
    primary_key="case_id",
)
ADULTS = Table(
    "adults",
    "One row per parent or carer (pseudonymised).",
    (
        _c("person_id", "str", _PSEUDO, "key"),
        _c("case_id", "str", "Case the adult is named in.", "key"),
        _c("individual_id", "str", _INDIVIDUAL, "key", required=False),
        _c("role", "category", "Role in the case.", "quasi_identifier", allowed=ADULT_ROLES),
        _c("sex", "category", "Sex.", "quasi_identifier", nullable=True, allowed=SEXES),
        _c("age_at_application", "int", "Age in whole years at the application date.", "quasi_identifier", nullable=True, minimum=10, maximum=100),
        _c("ethnicity", "category", "Ethnic group.", "quasi_identifier", "sensitive", nullable=True, allowed=ETHNICITIES),
        _c("substances", "list", "Substances misused (;-separated, as the service wrote them), from linked substance-misuse records.", "sensitive", nullable=True),
        _c("domestic_abuse", "bool", "Domestic abuse recorded (linked domestic-abuse records).", "sensitive", nullable=True),
        _c("mental_health", "bool", "Mental-health condition recorded (linked health records).", "sensitive", nullable=True),
        _c("prior_proceedings", "int", "Earlier care proceedings (linked local-authority records).", "quasi_identifier", "sensitive", nullable=True, minimum=0),
        _c("convictions", "int", "Convictions (linked police records).", "sensitive", nullable=True, minimum=0),
        _c("child_protection_plans", "int", "Child-protection plans on record before the proceedings (linked local-authority records); FDAC cannot change it, so the evaluation uses it as a negative control.", "sensitive", nullable=True, minimum=0, required=False),
        _c("hearings_attended_pct", "float", "Percent of the case's hearings a parent attended.", "attribute", nullable=True, minimum=0, maximum=100),
        _c("ceased_misuse", "bool", "Ceased substance misuse by the end of proceedings.", "outcome", nullable=True),
    ),
    primary_key="person_id",
    foreign_keys=(ForeignKey("case_id", "cases", "case_id"),),
)
CHILDREN = Table(
    "children",
    "One row per child (pseudonymised).",
    (
        _c("person_id", "str", _PSEUDO, "key"),
        _c("case_id", "str", "Case the child is named in.", "key"),
        _c("individual_id", "str", _INDIVIDUAL, "key", required=False),
        _c("sex", "category", "Sex.", "quasi_identifier", nullable=True, allowed=SEXES),
        _c("age_at_application", "int", "Age in whole years at the application date.", "quasi_identifier", nullable=True, minimum=0, maximum=18),
        _c("ethnicity", "category", "Ethnic group.", "quasi_identifier", "sensitive", nullable=True, allowed=ETHNICITIES),
        _c("final_order", "category", "Final order; empty while open.", "outcome", nullable=True, allowed=FINAL_ORDERS),
        _c("placement_at_end", "category", "Where the child lives at the end.", "outcome", nullable=True, allowed=PLACEMENTS),
        _c("reunified", "bool", "Living with a parent at the end of proceedings.", "outcome", nullable=True),
        _c("returned_to_court_3y", "bool", "The family back in care proceedings (a later case naming any of the case's people) within 3 years of the final hearing; empty while fewer than 3 years of follow-up have passed without one (manifest: supplied or derived).", "outcome", nullable=True),
    ),
    primary_key="person_id",
    foreign_keys=(ForeignKey("case_id", "cases", "case_id"),),
)
LINKAGE_QUALITY = Table(
    "linkage_quality",
    "One row per agency: how well its records linked.",
    (
        _c("agency", "str", "Agency.", "attribute"),
        _c("n_records", "int", "Records in the agency extract.", "attribute", minimum=0),
        _c("n_linked", "int", "Records linked to a person in a case.", "attribute", minimum=0),
        _c("match_threshold", "float", "Match-probability threshold used.", "attribute", minimum=0, maximum=1),
        _c("precision", "float", "Estimated pairwise precision, where known.", "attribute", nullable=True, minimum=0, maximum=1),
        _c("recall", "float", "Estimated pairwise recall, where known.", "attribute", nullable=True, minimum=0, maximum=1),
    ),
    primary_key="agency",
)
RESEARCH = Layout("research", (CASES, ADULTS, CHILDREN, LINKAGE_QUALITY))
# fmt: on


def describe(layout: Layout) -> pd.DataFrame:
    """A data dictionary of ``layout``: one row per column with meaning, type, values, roles.

    Printed in every report so a reviewer knows which columns are quasi-identifiers.
    """
    rows = []
    for t in layout.tables:
        for c in t.columns:
            rows.append(
                {
                    "table": t.name,
                    "column": c.name,
                    "type": c.kind,
                    "required": c.required,
                    "nullable": c.nullable,
                    "allowed": "; ".join(c.allowed) if c.allowed else "",
                    "roles": ", ".join(sorted(c.roles)),
                    "description": c.description,
                }
            )
    return pd.DataFrame(rows)
