"""Helpers for the import tests: the samples, variants of them built in code, table dumps.

Variants are made by string replacement on the decoded sample and re-encoded to ISO-8859-15,
so each test shows the one thing it changes and no fixture file is needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from cartable.accounts.models import User
from cartable.directory.models import (
    Division,
    Group,
    Guardianship,
    Membership,
    Person,
    Subject,
    Teaching,
)

ELEVES = "ElevesSansAdresses.xml"
RESPONSABLES = "ResponsablesAvecAdresses.xml"
STS = "sts_emp_0999999X_2026.xml"
SAMPLES = (ELEVES, RESPONSABLES, STS)


@pytest.fixture
def sample_text(samples_dir) -> Callable[[str], str]:
    def read(name: str) -> str:
        return (samples_dir / name).read_bytes().decode("iso-8859-15")

    return read


@pytest.fixture
def variant(tmp_path, sample_text) -> Callable[..., Path]:
    """variant(sample, {old: new, …}, name=…, encoding=…, transform=…) -> path of the new file."""

    def make(
        sample: str,
        replacements: dict[str, str] | None = None,
        *,
        name: str | None = None,
        encoding: str = "iso-8859-15",
        transform: Callable[[str], str] | None = None,
        count: int = -1,
    ) -> Path:
        text = sample_text(sample)
        for old, new in (replacements or {}).items():
            assert old in text, f"{old!r} not in {sample}"
            text = text.replace(old, new, count)
        if transform is not None:
            text = transform(text)
        path = tmp_path / (name or sample)
        path.write_bytes(text.encode(encoding))
        return path

    return make


@pytest.fixture
def sample_files(samples_dir) -> list[Path]:
    return [samples_dir / name for name in SAMPLES]


def without_pupil(eleve_id: str) -> Callable[[str], str]:
    """Remove a pupil (ELEVE, OPTION, STRUCTURES_ELEVE) from an Eleves export."""

    def transform(text: str) -> str:
        for tag in ("ELEVE", "OPTION", "STRUCTURES_ELEVE"):
            text = re.sub(rf'\s*<{tag} ELEVE_ID="{eleve_id}".*?</{tag}>', "", text, flags=re.S)
        return text

    return transform


def pupil_block(text: str, eleve_id: str) -> str:
    match = re.search(rf'<ELEVE ELEVE_ID="{eleve_id}".*?</ELEVE>', text, flags=re.S)
    assert match
    return match.group(0)


def person_block(text: str, personne_id: str) -> str:
    match = re.search(rf'<PERSONNE PERSONNE_ID="{personne_id}">.*?</PERSONNE>', text, flags=re.S)
    assert match
    return match.group(0)


def dump() -> dict[str, list]:
    """Every row the importer may write, for before/after comparisons."""
    through = {
        "membership_groups": Membership.groups.through,
        "group_divisions": Group.divisions.through,
        "main_teachers": Division.main_teachers.through,
    }
    tables: dict[str, list] = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Person, Membership, Guardianship, Teaching, Division, Group, Subject)
    }
    tables.update({name: sorted(model.objects.values_list(*[f.attname for f in model._meta.concrete_fields])) for name, model in through.items()})
    tables["User"] = list(User.objects.order_by("pk").values("username", "person_id", "password", "is_staff", "is_active"))
    return tables


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """1-based line number of the n-th line containing `needle`."""
    seen = 0
    for number, line in enumerate(path.read_bytes().decode("iso-8859-15").splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not found")
