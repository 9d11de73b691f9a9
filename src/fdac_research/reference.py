"""Reference data shared by the world generator, linkage and governance.

Names are ordered roughly from most to least common in England and Wales; the generator draws
them with Zipf-like weights and adds a long tail of rarer names made from name parts, so that
name frequencies have the skew real records have (many Smiths, a long tail of rare names).
Courts, local authorities and postcode districts are illustrative of FDAC sites and their
neighbours; they are labels for a synthetic world, not statistics about those places. Stages
never read these lists: regions come from :mod:`fdac_research.refdata` (every local authority
of England and Wales, with its source).
"""

from __future__ import annotations

__all__ = [
    "FEMALE_NAMES",
    "MALE_NAMES",
    "SURNAMES",
    "SURNAME_PARTS",
    "NICKNAMES",
    "nickname_groups",
    "COURTS",
    "LOCAL_AUTHORITIES",
]

FEMALE_NAMES: tuple[str, ...] = tuple(
    """
    Sarah Emma Laura Claire Lisa Rebecca Gemma Amy Kelly Nicola Michelle Samantha Hannah
    Jessica Louise Rachel Charlotte Victoria Jennifer Stacey Kirsty Danielle Natalie
    Katherine Elizabeth Joanne Donna Leanne Amanda Stephanie Jade Chloe Sophie Lauren Zoe
    Holly Jodie Kerry Emily Lucy Jasmine Megan Shannon Courtney Chelsea Abigail Olivia
    Amelia Jacqueline Tracey Julie Karen Angela Helen Susan Deborah Sharon Dawn Alison
    Margaret Patricia Catherine Anna Natasha Toni Kayleigh Carly Aimee Bethany Georgia Paige
    Kimberley Maria Fatima Aisha Ayesha Sadia Shabana Nasreen Precious Grace Blessing
    Chantelle Tanisha Agnieszka Katarzyna Monika Ioana Elena Siobhan Bronwen Rhiannon Megan
    Eleanor Ruth Joanna Melissa Vanessa Leah Demi Tia Mollie Ellie Kayla Sian Hayley Marie
    Josephine Frances Alexandra Christine Theresa Eileen Lorraine Beverley Sabrina Yasmin
    Naomi Esther Miriam Roxanne Tamara
    """.split()
)
MALE_NAMES: tuple[str, ...] = tuple(
    """
    David Daniel James Michael Christopher Paul Mark Andrew Matthew Richard Robert Thomas
    Lee Craig Steven Darren Jamie Ryan Adam Stephen Anthony Jonathan Benjamin Samuel Joseph
    William Kevin Dean Carl Wayne Gary Scott Shaun Martin Peter John Ian Neil Simon Jason
    Nathan Liam Luke Jordan Connor Callum Kieran Aaron Ashley Bradley Jack Joshua Alexander
    Edward Charles George Harry Alan Brian Keith Colin Graham Philip Nicholas Timothy
    Patrick Sean Dominic Gavin Russell Terry Barry Dale Ricky Jermaine Tyrone Marcus Dwayne
    Leon Mohammed Muhammad Imran Tariq Asif Bilal Hassan Kwame Emmanuel Chinedu Tomasz Piotr
    Marek Andrei Florin Gareth Rhys Dylan Owen Cameron Reece Kyle Bailey Mason Tyler Elliot
    Frederick Henry Albert Arthur Francis Lewis Kenneth Raymond Gordon Stuart Derek Trevor
    Vincent
    """.split()
)
SURNAMES: tuple[str, ...] = tuple(
    """
    Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson
    Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson
    Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan
    Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell
    Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan
    Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb
    Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes
    Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham
    Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds
    Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer
    Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong
    Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page
    Marsh Riley Dennis Holland Hopkins Warren Kennedy Stone Doyle Newton Lambert Woods Nowak
    Kowalski Popescu Okafor Mensah Osei Adeyemi Hamilton Chambers Sutton Fraser Gordon
    Hawkins Buckley Lamb Cunningham Dunn Barber Hargreaves Ashworth Sutcliffe Greenwood
    Whittaker Pickering Ainsworth Entwistle
    """.split()
)
# Parts from which rarer surnames are composed for the long tail (e.g. "Ash" + "bury").
SURNAME_PARTS: tuple[tuple[str, ...], tuple[str, ...]] = (
    tuple(
        """
        Ash Black Brad Brook Bur Cal Chad Craw Dun Fair Firth Glad Hal Hart Hay Kings
        Lang Mar Mid Mill Nor Oak Pen Red Rush Sal Shel Stan Stock Thorn War West Whit
        Wil Wins Wood Yar Bram Cart Dal
        """.split()
    ),
    tuple(
        """
        bury by combe croft den field ford gate ham hurst ington ley low more ridge shaw
        stone thwaite ton wick well worth wood
        """.split()
    ),
)

# Formal given name -> informal forms found in other agencies' records.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will", "Billy", "Liam"),
    "Robert": ("Bob", "Rob", "Bobby", "Robbie"),
    "Richard": ("Rick", "Dick", "Richie"),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betty"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Katherine": ("Kate", "Katie", "Kath"),
    "Catherine": ("Cathy", "Kate", "Cath"),
    "Jennifer": ("Jen", "Jenny"),
    "Rebecca": ("Becky", "Becca"),
    "Samantha": ("Sam", "Sammy"),
    "Victoria": ("Vicky", "Tori"),
    "Jacqueline": ("Jackie",),
    "Deborah": ("Debbie", "Deb"),
    "Susan": ("Sue", "Susie"),
    "Patricia": ("Pat", "Trish"),
    "Stephanie": ("Steph",),
    "Natalie": ("Nat",),
    "Natasha": ("Tasha",),
    "Kimberley": ("Kim",),
    "Alexandra": ("Alex", "Lexi"),
    "Josephine": ("Jo", "Josie"),
    "Joanne": ("Jo",),
    "Christine": ("Chris", "Chrissie"),
    "Abigail": ("Abbie", "Abby"),
    "Danielle": ("Dani",),
    "Nicola": ("Nicky",),
    "Amanda": ("Mandy",),
    "Eleanor": ("Ellie", "Nell"),
    "Frances": ("Fran",),
    "Theresa": ("Tess", "Terri"),
    "Michael": ("Mike", "Mick", "Micky"),
    "Christopher": ("Chris", "Kit"),
    "Anthony": ("Tony", "Ant"),
    "Andrew": ("Andy", "Drew"),
    "Matthew": ("Matt",),
    "Daniel": ("Dan", "Danny"),
    "David": ("Dave", "Davy"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "Jonathan": ("Jon", "Jonny"),
    "Joseph": ("Joe", "Joey"),
    "Thomas": ("Tom", "Tommy"),
    "Samuel": ("Sam", "Sammy"),
    "Benjamin": ("Ben", "Benny"),
    "Nicholas": ("Nick", "Nicky"),
    "Timothy": ("Tim",),
    "Stephen": ("Steve",),
    "Steven": ("Steve",),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Charles": ("Charlie", "Chas"),
    "Alexander": ("Alex", "Sandy"),
    "Frederick": ("Fred", "Freddie"),
    "Henry": ("Harry", "Hal"),
    "Philip": ("Phil",),
    "Kenneth": ("Ken", "Kenny"),
    "Raymond": ("Ray",),
    "Terence": ("Terry",),
    "Patrick": ("Pat", "Paddy"),
    "Gregory": ("Greg",),
    "Joshua": ("Josh",),
    "Nathan": ("Nat", "Nate"),
    "Muhammad": ("Mohammed",),
    "Mohammed": ("Muhammad",),
    "Albert": ("Bert", "Albie"),
    "Arthur": ("Art", "Artie"),
}


def nickname_groups() -> dict[str, frozenset[str]]:
    """Map every name in :data:`NICKNAMES` (formal or informal) to the set of names that
    may stand for the same person (its formal form and all informal forms)."""
    groups: dict[str, set[str]] = {}
    for formal, informal in NICKNAMES.items():
        members = {formal, *informal}
        for m in members:
            groups.setdefault(m, set()).update(members)
    return {k: frozenset(v) for k, v in groups.items()}


# Local authority -> (region, postcode districts addresses fall in).
LOCAL_AUTHORITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Camden": ("London", ("NW1", "NW3", "NW5", "WC1")),
    "Islington": ("London", ("N1", "N5", "N7", "N19")),
    "Westminster": ("London", ("W2", "W9", "SW1", "NW8")),
    "Southwark": ("London", ("SE1", "SE5", "SE15", "SE17")),
    "Hackney": ("London", ("E5", "E8", "E9", "N16")),
    "Gloucestershire": ("South West", ("GL1", "GL2", "GL4", "GL50", "GL51")),
    "Plymouth": ("South West", ("PL1", "PL2", "PL4", "PL5", "PL6")),
    "Torbay": ("South West", ("TQ1", "TQ2", "TQ3", "TQ4")),
    "Milton Keynes": ("South East", ("MK1", "MK6", "MK9", "MK12", "MK13")),
    "Buckinghamshire": ("South East", ("HP5", "HP11", "HP13", "HP19", "HP21")),
    "East Sussex": ("South East", ("BN20", "BN21", "BN22", "TN34", "TN37")),
    "Kent": ("South East", ("CT1", "CT9", "ME15", "TN23", "TN24")),
    "Medway": ("South East", ("ME1", "ME2", "ME4", "ME5", "ME7")),
    "Coventry": ("West Midlands", ("CV1", "CV2", "CV3", "CV5", "CV6")),
    "Stoke-on-Trent": ("West Midlands", ("ST1", "ST2", "ST3", "ST4", "ST6")),
    "Leeds": ("Yorkshire and the Humber", ("LS6", "LS8", "LS9", "LS11", "LS14")),
    "Kirklees": ("Yorkshire and the Humber", ("HD1", "HD2", "HD3", "WF13", "WF17")),
}

# Court -> (local authorities it hears, whether it runs an FDAC, relative caseload).
COURTS: dict[str, tuple[tuple[str, ...], bool, float]] = {
    "Central Family Court": (
        ("Camden", "Islington", "Westminster", "Southwark", "Hackney"),
        True,
        3.0,
    ),
    "Gloucester Family Court": (("Gloucestershire",), True, 1.0),
    "Plymouth Family Court": (("Plymouth", "Torbay"), True, 1.2),
    "Milton Keynes Family Court": (("Milton Keynes", "Buckinghamshire"), True, 1.2),
    "Brighton Family Court": (("East Sussex",), True, 0.8),
    "Medway Family Court": (("Kent", "Medway"), False, 1.5),
    "Coventry Family Court": (("Coventry",), True, 1.0),
    "Stoke-on-Trent Family Court": (("Stoke-on-Trent",), False, 1.0),
    "Leeds Family Court": (("Leeds", "Kirklees"), True, 1.6),
}
