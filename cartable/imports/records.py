"""What the parsers hand to the import service: plain rows, no database access.

Person values travel as tuples in the order of the source's field list (`FIELDS`), so that the
service compares a row with the database by comparing two tuples.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import NamedTuple

from cartable.directory.models import Person, Source

# Which Person fields each source carries. A source never touches the fields it does not carry
# (STS has no e-mail or phone: an STS import must not blank them).
FIELDS: dict[str, tuple[str, ...]] = {
    Source.SIECLE_ELEVE: (
        "last_name", "usage_name", "first_name", "other_first_names", "birth_date", "sex", "ine",
        "email", "mobile", "phone_home", "phone_work", "accepts_sms",
    ),
    Source.SIECLE_PERSONNE: (
        "civility", "last_name", "usage_name", "first_name", "email", "mobile", "phone_home", "phone_work",
        "accepts_sms",
    ),
    Source.STS: ("civility", "last_name", "usage_name", "first_name", "birth_date", "sex"),
    Source.CSV: ("last_name", "usage_name", "first_name", "birth_date", "sex", "email", "mobile"),
}

# Column widths of Person, to cut over-long values instead of failing on PostgreSQL.
MAX_LENGTHS: dict[str, int] = {f.name: f.max_length for f in Person._meta.concrete_fields if f.max_length}


@dataclass(slots=True)
class Header:
    kind: str  # "eleves", "responsables", "sts", "csv"
    uai: str = ""
    year: int | None = None
    version: str = ""
    line: int | None = None
    # STS only: what --create needs to describe the établissement.
    name: str = ""
    academie: str = ""
    sigle: str = ""
    nature: str = ""
    address: str = ""


# Rows of the two large SIECLE files are named tuples: cheap to build, and cheap to send back
# from a parsing worker process (see service.parse_files).
class PersonRow(NamedTuple):
    origin_id: str
    line: int
    values: tuple


class PupilRow(NamedTuple):
    origin_id: str
    line: int
    values: tuple
    mef_code: str
    left_on: datetime.date | None
    division: str  # the class; '' when not placed
    groups: tuple[str, ...]
    placed: bool  # has a class (D structure other than "Inactifs")
    active: bool  # placed, and no DATE_SORTIE in the past


class LinkRow(NamedTuple):
    # Order matters: service._responsables unpacks (eleve_id, personne_id, line, *LINK_FIELDS).
    eleve_id: str
    personne_id: str
    line: int
    level: int
    relationship: str
    pays_fees: bool
    lives_with: bool | None
    contact_first: bool | None

    def values(self) -> tuple:
        return (self.level, self.relationship, self.pays_fees, self.lives_with, self.contact_first)


LINK_FIELDS = ("level", "relationship", "pays_fees", "lives_with", "contact_first")


@dataclass(slots=True)
class StaffRow:
    origin_id: str
    line: int
    values: tuple
    profile: str = ""
    function: str = ""


@dataclass(slots=True)
class StructureRow:
    code: str
    line: int
    label: str = ""
    mef_code: str = ""
    divisions: tuple[str, ...] = ()  # groups: the divisions they belong to


@dataclass
class ElevesData:
    header: Header
    pupils: dict[str, PupilRow] = field(default_factory=dict)
    # In the file but rejected: neither created nor marked departed.
    rejected_ids: set[str] = field(default_factory=set)


@dataclass
class ResponsablesData:
    header: Header
    persons: dict[str, PersonRow] = field(default_factory=dict)
    rejected_ids: set[str] = field(default_factory=set)
    links: list[LinkRow] = field(default_factory=list)


@dataclass
class StsData:
    header: Header
    subjects: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (short_code, label)
    staff: dict[str, StaffRow] = field(default_factory=dict)
    rejected_ids: dict[str, int] = field(default_factory=dict)  # id -> line
    divisions: dict[str, StructureRow] = field(default_factory=dict)
    groups: dict[str, StructureRow] = field(default_factory=dict)
    # (teacher id, "D"|"G", structure code, subject code)
    services: set[tuple[str, str, str, str]] = field(default_factory=set)
    # division code -> teacher ids (mandates valid today)
    main_teachers: dict[str, set[str]] = field(default_factory=dict)


def cut(name: str, value: str) -> str:
    limit = MAX_LENGTHS.get(name)
    return value[:limit] if limit and len(value) > limit else value
