"""Walk the activation steps like a browser (Django test client)."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

NEW_PASSWORD = "Cartable!Ecole-2027"  # noqa: S105 - a test password, under every policy
PUPIL_BIRTH_DATE = "14/03/2015"


def start(client: Client, username: str, password: str, *, reset: bool = False, **extra):
    url = reverse("activation:reset") if reset else reverse("portal:activate")
    return client.post(url, {"identifiant": username, "mot_de_passe": password}, **extra)


def accept_charter(client: Client):
    return client.post(reverse("activation:charter"), {"accepte": "on"})


def give_birth_dates(client: Client, dates: dict[int, str]):
    return client.post(reverse("activation:birth_dates"), {f"enfant_{pk}": value for pk, value in dates.items()})


def give_email(client: Client, email: str, confirmation: str | None = None):
    return client.post(reverse("activation:email"), {"email": email, "email2": email if confirmation is None else confirmation})


def decline_email(client: Client):
    return client.post(reverse("activation:email"), {"email": "", "email2": "", "sans_adresse": "1"})


def answer_questions(client: Client, q1: int = 1, a1: str = "Nounours", q2: int = 13, a2: str = "Le Grand Bleu"):
    return client.post(
        reverse("activation:questions"), {"question1": str(q1), "reponse1": a1, "question2": str(q2), "reponse2": a2}
    )


def choose_password(client: Client, password: str = NEW_PASSWORD, confirmation: str | None = None):
    return client.post(
        reverse("activation:password"),
        {"mot_de_passe1": password, "mot_de_passe2": password if confirmation is None else confirmation},
    )


def until_password(client: Client, user, password: str, *, children: dict[int, str] | None = None, email: str = ""):
    """Start and go through every step before the password; asserts each one moves on."""
    for response in (
        start(client, user.username, password),
        accept_charter(client),
        *([give_birth_dates(client, children)] if children else []),
        give_email(client, email) if email else decline_email(client),
        *([] if email else [answer_questions(client)]),
    ):
        assert response.status_code == 302, response.content.decode()[:3000]
    return response


def location(response) -> str:
    assert response.status_code == 302, response.content.decode()[:3000]
    return response["Location"]


def text(response) -> str:
    """The page with HTML entities decoded (apostrophes are escaped by the templates)."""
    import html

    return html.unescape(response.content.decode())


def link_from_outbox(address: str) -> str:
    """Path of the activation link in the newest e-mail queued for `address` (no SMTP needed)."""
    import re

    from cartable.delivery.models import OutgoingEmail

    message = next((m for m in OutgoingEmail.objects.order_by("-pk") if address in m.to), None)
    assert message is not None, f"no e-mail for {address}"
    match = re.search(r"https?://[^/\s]+(/activation/confirmer/[^/\s]+/)", message.text)
    assert match, message.text
    return match.group(1)
