"""Shared test fixtures: an établissement and personas for each profile.

Personas (password "Motdepasse-2026" unless said): `parent` (activated, legal representative of `pupil`, in 6A),
`pupil`, `teacher`, `secretary` (console access to `etab` only), `other_secretary` (another
établissement). Argon2 is set to its cheapest parameters in tests to keep the suite fast;
the real parameters are measured by bench/login.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from cartable.accounts.models import Charter, CharterAcceptance, User
from cartable.delivery.testing import smtp_server  # noqa: F401 (fixture)
from cartable.directory.models import Division, Etablissement, Guardianship, Membership, Person, Profile
from cartable.lib.browser import browser  # noqa: F401 (fixture)

PASSWORD = "Motdepasse-2026"
SAMPLES = Path(__file__).resolve().parent / "demo" / "samples"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.ARGON2_TIME_COST = 1
    settings.ARGON2_MEMORY_COST_KIB = 64
    settings.ARGON2_PARALLELISM = 1


# Published long ago, so that tests travelling in time still find it current.
CHARTER_PUBLISHED = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def charter(request) -> Charter | None:
    """Version 1 (the data migration's; transactional tests flush it, so it is made again).

    Autouse, so that it exists before any persona: an activated persona accepts the current
    charter when it is made (cartable.conftest.make_user), as a real activation would.
    """
    if not ({"db", "transactional_db", "live_server"} & set(request.fixturenames) or request.node.get_closest_marker("django_db")):
        return None
    request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
    charter, _created = Charter.objects.update_or_create(
        version=1, defaults={"title": "Charte d'utilisation de l'ENT", "text": "# Règles\nRespectez les autres.\n\n- Ne prêtez pas votre mot de passe.", "published_at": CHARTER_PUBLISHED}
    )
    return charter


@pytest.fixture(autouse=True)
def _deliver_during_request(settings):
    """Deliver e-mails and SMS synchronously after commit, so tests see them deterministically."""
    settings.DELIVERY_IN_BACKGROUND = False


@pytest.fixture(autouse=True)
def _clear_cache(request):
    """Throttling counters live in the cache (a database table here): start each test clean."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    )
    if not uses_db:
        yield
        return
    from django.core.cache import cache

    request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def samples_dir() -> Path:
    return SAMPLES


def make_etablissement(uai: str = "0999999X", name: str = "Collège des Exemples", **extra) -> Etablissement:
    extra.setdefault("kind", Etablissement.Kind.COLLEGE)
    extra.setdefault("support_contact", "secretariat@college-exemples.invalid")
    extra.setdefault("current_year", 2026)
    return Etablissement.objects.create(uai=uai, name=name, **extra)


def make_user(
    username: str,
    profile: str,
    etab: Etablissement,
    *,
    first_name: str = "Test",
    last_name: str = "PERSONNE",
    password: str | None = PASSWORD,
    activated: bool = True,
    division: Division | None = None,
    birth_date: datetime.date | None = None,
    is_staff: bool = False,
) -> User:
    person = Person.objects.create(first_name=first_name, last_name=last_name, birth_date=birth_date)
    Membership.objects.create(person=person, etablissement=etab, profile=profile, division=division)
    user = User(username=username, person=person, is_staff=is_staff)
    user.set_password(password)
    if activated:
        user.activated_at = timezone.now()
    user.save()
    charter = Charter.current()
    if activated and charter is not None:
        # An activated account accepted the charter on activation (cartable.activation).
        CharterAcceptance.objects.create(user=user, charter=charter)
    return user


@pytest.fixture
def etab(db) -> Etablissement:
    return make_etablissement()


@pytest.fixture
def other_etab(db) -> Etablissement:
    return make_etablissement(uai="0371122U", name="Collège Jean Moulin")


@pytest.fixture
def division(etab) -> Division:
    return Division.objects.create(etablissement=etab, year=2026, code="6A", label="6e A")


@pytest.fixture
def pupil(etab, division) -> User:
    return make_user(
        "lea.exemple", Profile.ELEVE, etab, first_name="Léa", last_name="EXEMPLE", division=division,
        birth_date=datetime.date(2015, 3, 14),
    )


@pytest.fixture
def parent(etab, division, pupil) -> User:
    user = make_user("claire.exemple", Profile.RESPONSABLE, etab, first_name="Claire", last_name="EXEMPLE")
    Guardianship.objects.create(pupil=pupil.person, guardian=user.person, etablissement=etab, level=1, relationship="10")
    return user


@pytest.fixture
def teacher(etab) -> User:
    return make_user("paul.prof", Profile.ENSEIGNANT, etab, first_name="Paul", last_name="PROF")


@pytest.fixture
def secretary(etab) -> User:
    return make_user("sophie.secretaire", Profile.SECRETARIAT, etab, first_name="Sophie", last_name="SECRETAIRE", is_staff=True)


@pytest.fixture
def other_secretary(other_etab) -> User:
    return make_user(
        "marc.autre", Profile.SECRETARIAT, other_etab, first_name="Marc", last_name="AUTRE", is_staff=True
    )
