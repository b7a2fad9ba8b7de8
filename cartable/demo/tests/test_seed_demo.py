import io
import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory, override_settings

from cartable.accounts.models import Charter, CharterAcceptance, User


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_refuses_outside_demo(settings):
    settings.DEMO = False
    with pytest.raises(CommandError, match="DEMO=true"):
        call_command("seed_demo")


@pytest.mark.django_db
def test_printed_logins_work_and_seed_is_repeatable(settings, tmp_path):
    settings.DEMO = True
    settings.VAR_DIR = tmp_path
    first = seed()
    second = seed()  # make demo twice: same accounts, logins still valid
    logins = re.findall(r"identifiant : (\S+)\s+mot de passe : (\S+)", second)
    assert len(logins) == 5
    for username, password in logins:
        assert authenticate(username=username, password=password) is not None, username
    pending = User.objects.get(username=logins[-1][0])
    assert pending.activated_at is None and pending.credentials_issued_at is not None
    assert (tmp_path / "demo-lettre-parent.pdf").read_bytes().startswith(b"%PDF")
    secretary = User.objects.get(username=logins[2][0])
    assert secretary.is_staff
    activated = User.objects.get(username=logins[0][0])
    assert CharterAcceptance.objects.filter(user=activated, charter=Charter.current()).exists()
    assert "valerie.exemple" in first


@pytest.mark.django_db
def test_outbox_page_lists_emails_and_sms(client):
    from django.core.mail import send_mail

    from cartable.delivery.models import OutgoingSMS

    with override_settings(EMAIL_BACKEND="cartable.demo.mail.OutboxBackend"):
        send_mail("Activez votre compte", "Suivez ce lien", None, ["parent@example.org"])
    OutgoingSMS.objects.create(to="+33699001122", text="Votre code Cartable : 123456")
    from cartable.demo import views

    response = views.outbox(RequestFactory().get("/demo/outbox/"))
    body = response.content.decode()
    assert "Activez votre compte" in body and "123456" in body


@pytest.mark.django_db
def test_the_printed_parent_without_a_letter_can_register(settings, tmp_path):
    from cartable.lib.phones import to_e164
    from cartable.registration.services import find_accounts

    settings.DEMO = True
    settings.VAR_DIR = tmp_path
    output = seed()
    hint = re.search(r"nom (\S+), prénom (\S+), portable (\S+) ; enfant\(s\) : (.+)", output)
    assert hint is not None, output
    last_name, first_name, mobile, children = hint.groups()
    assert "né·e le" in children
    [account] = find_accounts(to_e164(mobile), last_name=last_name, first_names=[first_name])
    assert account.activated_at is None
