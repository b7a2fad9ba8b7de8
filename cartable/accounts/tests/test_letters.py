"""Credential letters: contents, QR code, passwords that work, and the print_letters command."""

from __future__ import annotations

import datetime
import io
import logging
import stat
from unittest import mock
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pypdf
import pypdfium2
import pytest
import time_machine
import zxingcpp
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from cartable.accounts.letters import (
    french_date,
    issue_letters,
    letter_recipients,
    letters_filename,
    login_url,
    render_letters,
)
from cartable.accounts.management.commands.print_letters import Command
from cartable.accounts.models import AuditEvent, User
from cartable.accounts.services import issue_provisional_credentials
from cartable.conftest import make_user
from cartable.directory.models import Division, Guardianship, Membership, Profile

PARIS = ZoneInfo("Europe/Paris")
PRINT_DAY = datetime.datetime(2026, 11, 23, 10, 30, tzinfo=PARIS)  # + 92 days = 23 February 2027


# --- helpers ---------------------------------------------------------------------------------


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """Text with line breaks and repeated spaces collapsed, for checking whole sentences."""
    return " ".join(text.split())


def qr_codes(pdf: bytes, page: int = 0) -> list[str]:
    """Decode the QR codes of one page rendered at 200 dpi, as a phone camera would see it."""
    image = pypdfium2.PdfDocument(pdf)[page].render(scale=200 / 72).to_pil()
    return [code.text for code in zxingcpp.read_barcodes(image) if code.format == zxingcpp.BarcodeFormat.QRCode]


def new_account(username: str, profile: str, etab, **kwargs) -> User:
    """An imported account: no usable password, never activated."""
    return make_user(username, profile, etab, password=None, activated=False, **kwargs)


@pytest.fixture
def printed(parent, pupil, teacher):
    """Letters for three personas, printed on PRINT_DAY; returns (pdf, {username: password})."""
    with time_machine.travel(PRINT_DAY, tick=False):
        pairs = issue_provisional_credentials([parent, pupil, teacher], actor=None, reset_activated=True)
        pdf = render_letters(pairs)
    return pdf, {user.username: password for user, password in pairs}


def page_of(pdf: bytes, username: str) -> tuple[int, str]:
    for index, text in enumerate(pages_text(pdf)):
        if username in text:
            return index, text
    raise AssertionError(f"no letter for {username}")


# --- contents --------------------------------------------------------------------------------


def test_one_page_per_person(printed):
    pdf, passwords = printed
    assert len(pages_text(pdf)) == 3
    for username in passwords:
        assert sum(username in text for text in pages_text(pdf)) == 1


def test_letter_contents(printed, etab):
    pdf, passwords = printed
    _, text = page_of(pdf, "paul.prof")
    assert "Mise à disposition de services en ligne" in text
    assert etab.name in text and etab.uai in text
    assert "Paul PROF" in text
    assert "paul.prof" in text
    assert passwords["paul.prof"] in text
    assert "23 février 2027" in text
    assert "http://127.0.0.1:8000" in text
    assert "secretariat@college-exemples.invalid" in text
    assert "le compte est désactivé ; il est supprimé au bout d'un an" in flat(text)
    assert "acceptez la charte" in flat(text)
    assert "Confirmez la date de naissance" not in text
    assert "« Personnel de l'Éducation nationale », puis le niveau « Collège »" in flat(text)
    # Another person's password is on their own page only.
    assert passwords["claire.exemple"] not in text


def test_parent_letter_names_own_children_only(printed, etab, division):
    other_child = new_account("tom.voisin", Profile.ELEVE, etab, first_name="Tom", last_name="VOISIN", division=division)
    other_parent = new_account("anne.voisin", Profile.RESPONSABLE, etab, first_name="Anne", last_name="VOISIN")
    Guardianship.objects.create(pupil=other_child.person, guardian=other_parent.person, etablissement=etab, level=1)
    pdf, _ = printed
    _, text = page_of(pdf, "claire.exemple")
    assert "Léa (6e A)" in text
    assert "Tom" not in text
    assert "date de naissance de votre enfant" in text
    assert "Choisissez le profil « Élève ou parent », puis le niveau « Collège »" in flat(text)
    _, pupil_text = page_of(pdf, "lea.exemple")
    assert "Classe : 6e A" in pupil_text
    assert "date de naissance" not in pupil_text


def test_parent_letter_leaves_out_children_of_another_etablissement(parent, other_etab):
    elsewhere = Division.objects.create(etablissement=other_etab, year=2026, code="5B", label="5e B")
    sibling = new_account("jules.exemple", Profile.ELEVE, other_etab, first_name="Jules", last_name="EXEMPLE", division=elsewhere)
    Guardianship.objects.create(pupil=sibling.person, guardian=parent.person, etablissement=other_etab, level=1)
    Membership.objects.create(person=parent.person, etablissement=other_etab, profile=Profile.RESPONSABLE)
    pairs = issue_provisional_credentials([parent], actor=None, reset_activated=True)
    text = pages_text(render_letters(pairs, etablissements=[parent.person.memberships.first().etablissement]))[0]
    assert "Léa" in text and "Jules" not in text and "0371122U" not in text


def test_etablissement_ent_url_and_empty_support(parent, etab):
    etab.ent_url = "https://ent.college-exemples.invalid/"
    etab.support_contact = ""
    etab.save()
    pairs = issue_provisional_credentials([parent], actor=None, reset_activated=True)
    pdf = render_letters(pairs)
    text = pages_text(pdf)[0]
    assert "https://ent.college-exemples.invalid" in text
    assert "secrétariat de l'établissement" in text
    assert qr_codes(pdf) == ["https://ent.college-exemples.invalid/connexion/identifiant/?identifiant=claire.exemple"]


def test_many_children_still_one_page(parent, etab, division):
    for n in range(12):
        child = new_account(f"enfant{n}.exemple", Profile.ELEVE, etab, first_name=f"Enfant{n}", last_name="EXEMPLE", division=division)
        Guardianship.objects.create(pupil=child.person, guardian=parent.person, etablissement=etab, level=1)
    pairs = issue_provisional_credentials([parent], actor=None, reset_activated=True)
    pages = pages_text(render_letters(pairs))
    assert len(pages) == 1
    assert "Enfant11" in pages[0] and pairs[0][1] in pages[0]


def test_qr_code_opens_login_with_identifier(printed):
    pdf, _ = printed
    index, _text = page_of(pdf, "claire.exemple")
    (url,) = qr_codes(pdf, index)
    assert url == "http://127.0.0.1:8000/connexion/identifiant/?identifiant=claire.exemple"
    parts = urlsplit(url)
    assert parts.path == "/connexion/identifiant/"
    assert parse_qs(parts.query) == {"identifiant": ["claire.exemple"]}


def test_qr_code_never_carries_the_password(printed):
    pdf, passwords = printed
    for username, password in passwords.items():
        index, _text = page_of(pdf, username)
        (url,) = qr_codes(pdf, index)
        assert password not in url


def test_login_url_escapes_identifier(settings):
    settings.SITE_URL = "https://ent.example.invalid"
    assert login_url("a b&c") == "https://ent.example.invalid/connexion/identifiant/?identifiant=a+b%26c"


# --- passwords -------------------------------------------------------------------------------


def test_password_from_letter_logs_in_and_is_hashed(printed):
    _pdf, passwords = printed
    for username, password in passwords.items():
        user = User.objects.get(username=username)
        assert user.password.startswith("argon2")
        assert password not in user.password
        assert authenticate(username=username, password=password) == user


def test_reprinting_replaces_earlier_password(printed, parent):
    pdf, passwords = printed
    first = passwords["claire.exemple"]
    assert first in page_of(pdf, "claire.exemple")[1]
    batch = issue_letters([User.objects.get(pk=parent.pk)], actor=None)
    second = _password_on(batch.pdf)
    assert second != first
    assert authenticate(username="claire.exemple", password=first) is None
    assert authenticate(username="claire.exemple", password=second) is not None


def _password_on(pdf: bytes) -> str:
    """The password line of a single-letter PDF (the word right after « Mot de passe provisoire »)."""
    lines = pages_text(pdf)[0].splitlines()
    start = lines.index("Mot de passe provisoire")
    return next(line for line in lines[start + 1 :] if len(line) >= 10 and " " not in line)


def test_password_never_stored_or_logged(parent, caplog):
    caplog.set_level(logging.DEBUG)
    batch = issue_letters([parent], actor=None, reset_activated=True)
    password = _password_on(batch.pdf)
    assert password not in caplog.text
    for event in AuditEvent.objects.all():
        assert password not in str(event.detail)
    assert password not in User.objects.get(pk=parent.pk).password


def test_issue_letters_skips_activated_accounts(etab, pupil):
    fresh = new_account("nina.neuve", Profile.ELEVE, etab, first_name="Nina", last_name="NEUVE")
    batch = issue_letters([pupil, fresh], actor=None)
    assert [u.username for u in batch.printed] == ["nina.neuve"]
    assert [u.username for u in batch.skipped_activated] == ["lea.exemple"]
    assert len(pages_text(batch.pdf)) == 1
    assert batch.summary == "1 lettre imprimée (nouvel identifiant provisoire). 1 compte déjà activé ignoré."
    pupil.refresh_from_db()
    assert pupil.is_activated
    assert AuditEvent.objects.filter(action="credentials.issued", target_username="nina.neuve").count() == 1


def test_issue_letters_rolls_back_when_rendering_fails(etab, monkeypatch):
    fresh = new_account("nina.neuve", Profile.ELEVE, etab, first_name="Nina", last_name="NEUVE")

    def broken(*args, **kwargs):
        raise RuntimeError("printer on fire")

    monkeypatch.setattr("cartable.accounts.letters.render_letters", broken)
    with pytest.raises(RuntimeError):
        issue_letters([fresh], actor=None)
    fresh.refresh_from_db()
    assert fresh.credentials_issued_at is None and not fresh.has_usable_password()
    assert not AuditEvent.objects.exists()


# --- dates and names -------------------------------------------------------------------------


def test_french_date():
    assert french_date(datetime.date(2027, 2, 23)) == "23 février 2027"
    assert french_date(datetime.date(2027, 3, 1)) == "1er mars 2027"
    # 23:30 UTC on 31 December is already the 1st of January in Paris.
    assert french_date(datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC)) == "1er janvier 2027"


def test_deadline_follows_setting(parent, settings):
    settings.ACTIVATION_DEADLINE_DAYS = 10
    with time_machine.travel(PRINT_DAY, tick=False):
        batch = issue_letters([parent], actor=None, reset_activated=True)
    assert "3 décembre 2026" in pages_text(batch.pdf)[0]


def test_letters_filename(etab):
    assert letters_filename(etab, label="6e A", now=PRINT_DAY) == "lettres-0999999X-6e-a-2026-11-23.pdf"
    assert letters_filename(now=PRINT_DAY) == "lettres-2026-11-23.pdf"


# --- recipients ------------------------------------------------------------------------------


def test_recipients_of_a_division(etab, division, parent, pupil, teacher, other_etab):
    assert set(letter_recipients(etab, division=division)) == {parent, pupil}
    assert set(letter_recipients(etab, division=division, profiles=[Profile.ELEVE])) == {pupil}
    assert set(letter_recipients(etab, division=division, profiles=[Profile.RESPONSABLE])) == {parent}
    assert set(letter_recipients(etab, profiles=[Profile.ENSEIGNANT])) == {teacher}
    assert set(letter_recipients(other_etab)) == set()


def test_recipients_leave_out_departed_and_contacts(etab, division, parent, pupil):
    contact = new_account("oncle.exemple", Profile.RESPONSABLE, etab, first_name="Oncle", last_name="EXEMPLE")
    Guardianship.objects.create(pupil=pupil.person, guardian=contact.person, etablissement=etab, level=3)
    assert contact not in set(letter_recipients(etab, division=division))
    Membership.objects.filter(person=pupil.person).update(departed_at=PRINT_DAY)
    assert set(letter_recipients(etab, division=division)) == set()


# --- the command -----------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    """Run the command as manage.py would, returning (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    command = Command(stdout=out, stderr=err)
    # run_from_argv closes the database connections when done, which would end the test's
    # transaction (PostgreSQL); the command itself is what is under test here.
    with mock.patch("django.core.management.base.connections.close_all"):
        try:
            command.run_from_argv(["manage.py", "print_letters", *args])
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_command_prints_a_class(etab, division, pupil, parent, tmp_path):
    output = tmp_path / "lettres.pdf"
    code, out, err = run("--uai", "0999999x", "--division", "6A", "--reset", "--output", str(output))
    assert code == 0, err
    assert "2 lettres imprimées" in out and str(output) in out
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    pdf = output.read_bytes()
    assert len(pages_text(pdf)) == 2
    assert AuditEvent.objects.filter(action="account.reset").count() == 2


def test_command_skips_activated_accounts(etab, division, pupil, tmp_path):
    fresh = new_account("nina.neuve", Profile.ELEVE, etab, first_name="Nina", last_name="NEUVE", division=division)
    output = tmp_path / "lettres.pdf"
    code, out, _ = run("--uai", "0999999X", "--division", "6A", "--profile", "eleve", "--output", str(output))
    assert code == 0
    assert "1 lettre imprimée" in out and "1 compte déjà activé ignoré" in out
    assert pages_text(output.read_bytes())[0].count("nina.neuve") >= 1
    fresh.refresh_from_db()
    assert fresh.credentials_issued_at is not None


def test_command_by_identifier(etab, teacher, pupil, tmp_path):
    output = tmp_path / "x.pdf"
    call_command("print_letters", uai="0999999X", identifier=["paul.prof"], reset=True, output=output, stdout=io.StringIO())
    (text,) = pages_text(output.read_bytes())
    assert "paul.prof" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--uai", "0000000A"], "Aucun établissement"),
        (["--uai", "0999999X", "--division", "9Z"], "Aucune classe « 9Z »"),
        (["--uai", "0999999X", "--identifier", "personne.inconnue"], "Identifiants inconnus"),
        (["--uai", "0999999X", "--division", "6A", "--profile", "enseignant"], "seuls les profils"),
        (["--uai", "0999999X", "--profile", "invite"], "Aucun compte"),
        (["--uai", "0999999X", "--profile", "eleve"], "déjà activés"),
    ],
)
def test_command_errors(etab, division, pupil, tmp_path, args, message):
    output = tmp_path / "lettres.pdf"
    code, out, err = run(*args, "--output", str(output))
    assert code == 1
    assert message in err
    assert not output.exists()


def test_command_refuses_to_overwrite(etab, pupil, tmp_path):
    output = tmp_path / "lettres.pdf"
    output.write_bytes(b"old")
    with pytest.raises(CommandError, match="existe déjà"):
        call_command("print_letters", uai="0999999X", reset=True, output=output)
    assert output.read_bytes() == b"old"
    pupil.refresh_from_db()
    assert pupil.is_activated  # nothing was issued
    call_command("print_letters", uai="0999999X", reset=True, output=output, force=True, stdout=io.StringIO())
    assert stat.S_IMODE(output.stat().st_mode) == 0o600


def test_command_keeps_passwords_when_file_cannot_be_written(etab, tmp_path, monkeypatch):
    fresh = new_account("nina.neuve", Profile.ELEVE, etab, first_name="Nina", last_name="NEUVE")

    def full_disk(path, data):
        raise OSError("No space left on device")

    monkeypatch.setattr("cartable.accounts.management.commands.print_letters._write_private", full_disk)
    with pytest.raises(OSError):
        call_command("print_letters", uai="0999999X", output=tmp_path / "x.pdf")
    fresh.refresh_from_db()
    assert fresh.credentials_issued_at is None


def test_command_help_states_the_rules():
    parser = Command().create_parser("manage.py", "print_letters")
    text = flat(parser.format_help())
    assert "remplace tout mot de passe provisoire" in text
    assert "délai d'activation commence à l'impression" in text


def test_letter_for_an_account_without_person(db):
    """A technical account (no directory record) still gets a usable letter."""
    account = User.objects.create_user("service.technique")
    pairs = issue_provisional_credentials([account], actor=None)
    pdf = render_letters(pairs)
    (text,) = pages_text(pdf)
    assert "service.technique" in text and pairs[0][1] in text
    assert "secrétariat de l'établissement" in text
    assert qr_codes(pdf) == ["http://127.0.0.1:8000/connexion/identifiant/?identifiant=service.technique"]
