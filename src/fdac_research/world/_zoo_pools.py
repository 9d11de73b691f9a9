"""Fixed vocabularies of the world zoo: another name pool, other courts and local
authorities, another substance-misuse service's words.

Every mapping here is fixed (independent of any seed), so the same reference name or place
always becomes the same foreign one, in every file and every zoo world.
"""

from __future__ import annotations

import re

from fdac_research import reference

__all__ = [
    "FOREIGN_FEMALE",
    "FOREIGN_MALE",
    "FOREIGN_SURNAMES",
    "NAME_MAP",
    "NAME_TOKEN_SPLIT",
    "COURT_MAP",
    "LA_MAP",
    "FAKE_LOCAL_AUTHORITY",
    "SUBSTANCE_WORDS",
    "OTHER_SUBSTANCES",
]


def _names(text: str) -> tuple[str, ...]:
    """Comma-separated names (names may hold spaces, apostrophes and hyphens)."""
    return tuple(n.strip() for n in text.replace("\n", " ").split(",") if n.strip())


# One pool per origin; interleaved below so that the commonest reference names map onto
# names of every origin, not all onto the first list.
_FEMALE_BY_ORIGIN = (
    _names("""Siân, Ffion, Angharad, Cerys, Eluned, Gwenllian, Nia, Lowri, Mali, Seren, Carys,
        Eirlys, Bethan, Catrin, Elin, Glesni, Heledd, Manon, Mererid, Nerys, Sioned, Awen,
        Branwen, Delyth, Dilys, Enfys, Gwawr, Llinos, Meinir, Olwen, Tegwen, Eleri, Gwenno"""),
    _names("""Łucja, Małgorzata, Zofia, Wiktoria, Beata, Bożena, Dorota, Ewa, Grażyna, Halina,
        Iwona, Jadwiga, Krystyna, Magdalena, Renata, Urszula, Weronika, Zuzanna, Żaneta,
        Aleksandra, Danuta, Elżbieta, Justyna, Karolina, Marta, Paulina, Sylwia, Wanda, Agata"""),
    _names("""Ngozi, Chiamaka, Adaeze, Nneka, Folasade, Funmilayo, Abimbola, Yetunde, Adwoa,
        Akosua, Ama, Abena, Efua, Esi, Afua, Oluwaseun, Temitope, Titilayo, Omolara, Ifeoma,
        Chinwe, Amaka, Ebele, Nkechi, Obiageli, Bisola, Kemi, Morayo, Damilola, Mariama"""),
    _names("""Priya, Ananya, Deepika, Harpreet, Simran, Gurpreet, Jaspreet, Manpreet, Kiran,
        Nusrat, Rukhsana, Farzana, Tahmina, Shirin, Anjali, Kavita, Lakshmi, Meera, Nisha,
        Pooja, Sunita, Zainab, Rubina, Samina, Nazia, Parveen, Humaira, Bushra"""),
    _names("""Aoife, Niamh, Saoirse, Caoimhe, Síle, Orla, Róisín, Gráinne, Clodagh, Máire, Úna,
        Bríd, Éabha, Sinéad, Clíodhna, Ailbhe, Ciara, Deirdre, Fionnuala, Muireann, Nuala,
        Órlaith, Sorcha, Treasa, Aisling, Bláthnaid, Eimear, Emer"""),
    _names("Zoë, Chloë, Noémie, Léa, Inès, Renée, Anaïs"),
)
_MALE_BY_ORIGIN = (
    _names("""Dafydd, Gruffudd, Iwan, Llywelyn, Emyr, Geraint, Gwilym, Huw, Ieuan, Iolo,
        Meirion, Rhodri, Siôn, Tomos, Aled, Bryn, Cai, Deiniol, Elis, Goronwy, Hywel, Idris,
        Islwyn, Macsen, Medwyn, Osian, Peredur, Tudur, Wyn, Caradog"""),
    _names("""Wojciech, Grzegorz, Krzysztof, Łukasz, Paweł, Przemysław, Sławomir, Stanisław,
        Zbigniew, Jarosław, Mirosław, Radosław, Bartłomiej, Jędrzej, Kacper, Maciej, Mateusz,
        Michał, Rafał, Szymon, Tadeusz, Wiesław, Zdzisław, Bogdan, Dariusz, Henryk, Janusz,
        Jerzy, Kazimierz, Leszek, Ryszard, Waldemar, Witold, Zygmunt"""),
    _names("""Adebayo, Babatunde, Chukwuemeka, Chidi, Emeka, Ikechukwu, Obinna, Olumide,
        Oluwafemi, Tunde, Kofi, Kwabena, Kwaku, Kojo, Yaw, Kweku, Nnamdi, Uchechukwu, Segun,
        Femi, Gbenga, Ayodele, Olusegun, Mamadou, Ousmane, Ibrahima, Moussa, Abdoulaye, Sékou"""),
    _names("""Arjun, Rohan, Vikram, Sanjay, Rajesh, Harjit, Gurdeep, Jaswinder, Kuldeep,
        Sukhwinder, Amarjit, Faisal, Kamran, Zubair, Waqas, Shahid, Nadeem, Farhan, Junaid,
        Irfan, Rizwan, Arif, Anwar, Aamir, Pradeep, Suresh, Ramesh, Dinesh, Ravi, Anil"""),
    _names("""Oisín, Seán, Ciarán, Pádraig, Eoin, Cathal, Donnacha, Fiachra, Tadhg, Diarmuid,
        Colm, Lorcan, Ruairí, Darragh, Cormac, Niall, Éamonn, Séamus, Tomás, Micheál, Dónal,
        Fergal, Ronan, Cillian, Odhrán, Conall"""),
)
_SURNAMES_BY_ORIGIN = (
    _names("""Pugh, ab Owain, Prosser, Vaughan, Llewellyn, Meredith, Gruffydd, Rhydderch,
        Cadwaladr, Bevan, Parry, Preece, Probert, Bowen, Gwynne, Howells, Jenkin, Madoc,
        Watkin, Craddock, Eynon, Beddoe, Gethin, Hopcyn, ap Iorwerth, Maddox, Penry,
        Prydderch, Rowlands, Wynne, Tudor, Pritchard, Parri-Huws"""),
    _names("""Wiśniewski, Nowakowska-Kowalska, Wójcik, Kamiński, Lewandowski, Zieliński,
        Szymański, Woźniak, Dąbrowski, Kozłowski, Jankowski, Mazur, Wojciechowski,
        Kwiatkowski, Krawczyk, Kaczmarek, Piotrowski, Grabowski, Zając, Pawłowski, Michalski,
        Król, Wieczorek, Jabłoński, Wróbel, Majewski, Olszewski, Stępień, Malinowski,
        Jaworski, Adamczyk, Dudek, Nowicki, Pawlak, Górski, Witkowski, Walczak, Sikora, Baran,
        Rutkowski, Michalak, Szewczyk, Ostrowski, Tomaszewski, Pietrzak, Zalewski,
        Wróblewski, Wiśniewska-Kowalczyk"""),
    _names("""Okonkwo, Okeke, Nwosu, Eze, Obi, Chukwu, Adeleke, Ogunleye, Oyelaran, Babalola,
        Olaniyan, Ogundipe, Akinwale, Oyinlola, Boateng, Asante, Owusu, Appiah, Agyeman,
        Ofori, Amoah, Darko, Addo, Acheampong, Quaye, Tetteh, Nkrumah, Diallo, Bah, Sow,
        Camara, Touré, Konaté, Keïta, Traoré, Coulibaly, Sesay, Kamara, Conteh, Bangura,
        Okoro-Bassey, Adéṣínà"""),
    _names("""D'Souza, D'Costa, D'Mello, Fernandes, Sharma, Gupta, Chaudhry, Choudhury,
        Mahmood, Qureshi, Siddiqui, Rahman, Uddin, Miah, Chowdhury, Islam, Haque, Bibi,
        Akhtar, Iqbal, Nawaz, Raza, Malik, Sandhu, Dhillon, Sidhu, Grewal, Bains, Johal,
        Atwal, Virdee, Mistry, Parmar, Chauhan, Solanki, Joshi, Mehta, Desai, Shah, Nair,
        Menon, Pillai, Iyer, Reddy, Bhatt, Banerjee-Rao"""),
    _names("""Ó Briain, Ó Súilleabháin, Mac Giolla Phádraig, Ó Murchú, Mac Cárthaigh,
        Ó Ceallaigh, Ó Dónaill, Mag Uidhir, Ó Néill, Ní Bhriain, Mac an tSaoi, MacNamara,
        McGuinness, O'Sullivan, O'Donnell, O'Reilly, O'Connor, O'Neill, O'Leary, Fitzgerald,
        Byrne, Gallagher, Quinn, Brennan, Donnelly, Flanagan, Kavanagh, McCarthy, Nolan,
        Ó Ríordáin"""),
)


def _interleave(groups: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    out: list[str] = []
    for i in range(max(len(g) for g in groups)):
        out.extend(g[i] for g in groups if i < len(g))
    return tuple(out)


FOREIGN_FEMALE = _interleave(_FEMALE_BY_ORIGIN)
FOREIGN_MALE = _interleave(_MALE_BY_ORIGIN)
FOREIGN_SURNAMES = _interleave(_SURNAMES_BY_ORIGIN)

# Name cells are split into tokens on hyphens and spaces (double-barrelled surnames).
NAME_TOKEN_SPLIT = re.compile(r"([- ])")


def _name_map() -> dict[str, str]:
    """Every token of the reference name lists -> a foreign name, one to one.

    A token in several lists (Thomas is a given name and a surname) takes the pool of the
    first list it is in (female, male, surname), so it maps to one foreign name everywhere.
    """
    mapping: dict[str, str] = {}
    for ref, pool in (
        (reference.FEMALE_NAMES, FOREIGN_FEMALE),
        (reference.MALE_NAMES, FOREIGN_MALE),
        (reference.SURNAMES, FOREIGN_SURNAMES),
    ):
        todo = [t for t in dict.fromkeys(ref) if t not in mapping]
        if len(todo) > len(pool):  # pragma: no cover - guarded by a test
            raise ValueError(f"foreign name pool too small: {len(pool)} < {len(todo)}")
        mapping.update(zip(todo, pool, strict=False))
    return mapping


NAME_MAP: dict[str, str] = _name_map()

# Old court -> new court; old local authority -> new local authority. Each old court's local
# authorities map onto the new court's, so the court <-> local-authority structure is kept.
# Written the way another data owner would write them (official long forms, "&", "City of",
# "... City Council"), with one local authority that exists nowhere.
FAKE_LOCAL_AUTHORITY = "Northmoor Borough Council"
_PLACES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Central Family Court",
        "East London Family Court",
        (
            ("Camden", "Tower Hamlets"),
            ("Islington", "Newham"),
            ("Westminster", "Royal Borough of Greenwich"),
            ("Southwark", FAKE_LOCAL_AUTHORITY),
            ("Hackney", "Brighton & Hove"),
        ),
    ),
    (
        "Gloucester Family Court",
        "Bristol Civil and Family Justice Centre",
        (("Gloucestershire", "Bristol, City of"),),
    ),
    (
        "Plymouth Family Court",
        "Carlisle Combined Court Centre",
        (("Plymouth", "Cumberland"), ("Torbay", "Westmorland and Furness")),
    ),
    (
        "Milton Keynes Family Court",
        "Cardiff Civil & Family Justice Centre",
        (("Milton Keynes", "Cardiff"), ("Buckinghamshire", "Rhondda Cynon Taff")),
    ),
    (
        "Brighton Family Court",
        "Swansea Civil Justice Centre",
        (("East Sussex", "Swansea"),),
    ),
    (
        "Medway Family Court",
        "Birmingham Civil and Family Justice Centre",
        (("Kent", "Birmingham"), ("Medway", "Wolverhampton City Council")),
    ),
    (
        "Coventry Family Court",
        "Hereford Justice Centre",
        (("Coventry", "Herefordshire"),),
    ),
    (
        "Stoke-on-Trent Family Court",
        "Hull Combined Court Centre",
        (("Stoke-on-Trent", "Kingston upon Hull"),),
    ),
    (
        "Leeds Family Court",
        "Leeds Combined Court Centre",
        (("Leeds", "North Yorkshire"), ("Kirklees", "City of York")),
    ),
)
COURT_MAP: dict[str, str] = {old: new for old, new, _ in _PLACES}
LA_MAP: dict[str, str] = {old: new for _, _, las in _PLACES for old, new in las}

# Another service's words for the contract's substances (heroin sometimes "Heroin").
SUBSTANCE_WORDS: dict[str, str] = {
    "alcohol": "alcohol",
    "cannabis": "cannabis",
    "heroin": "opiates",
    "amphetamine": "amphetamines",
    "cocaine": "Cocaine powder",
    "crack": "crack cocaine",
    "benzodiazepines": "benzos",
}
# The last two are not in the package's substance table (a street name and a misspelling):
# a report must count them as unmapped, not lose them.
OTHER_SUBSTANCES = (
    "ketamine",
    "spice",
    "methadone (not prescribed)",
    "pregabalin",
    "GHB",
    "poppers",
    "herion",
)
