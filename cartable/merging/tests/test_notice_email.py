"""The merge notice: written in the merge's transaction, delivered through a real SMTP server."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from cartable.accounts.models import User
from cartable.conftest import PASSWORD
from cartable.delivery.models import OutgoingEmail
from cartable.merging.services import merge_accounts


@pytest.mark.django_db(transaction=True)
def test_both_addresses_get_the_notice_through_smtp(client, parent, second_account, smtp_server):
    parent.email, parent.email_verified = "claire.perso@exemple.fr", True
    parent.save()
    second_account.person.email = "claire.ecole@exemple.fr"  # the address the school recorded
    second_account.person.save()

    client.force_login(parent)
    client.post(reverse("merging:start"), {"identifiant": "claire.exemple2", "mot_de_passe": PASSWORD})
    client.post(reverse("merging:confirm"), {"mot_de_passe_actuel": PASSWORD})

    for address in ("claire.perso@exemple.fr", "claire.ecole@exemple.fr"):
        message = smtp_server.wait_for(address)
        assert message["Subject"] == "Cartable : vos comptes ont été regroupés"
        assert str(message["To"]) == address  # one message each: the two addresses do not see each other
        text = smtp_server.text_of(message)
        assert "vos comptes Cartable « claire.exemple2 » et « claire.exemple » ont été regroupés à votre demande" in text
        assert "Utilisez désormais l'identifiant claire.exemple, avec son mot de passe." in text
        assert "- Hugo EXEMPLE" in text and "- Léa EXEMPLE" in text
        assert "&#x27;" not in text  # the text part is not HTML-escaped
        assert "<li>Hugo EXEMPLE</li>" in smtp_server.html_of(message)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_merge_sends_nothing(parent, second_account):
    second_account.email, second_account.email_verified = "claire@exemple.fr", True
    second_account.save()
    with pytest.raises(RuntimeError), transaction.atomic():
        merge_accounts(parent, second_account, actor=None, via="staff")
        raise RuntimeError("the caller's transaction fails after the merge")
    assert not OutgoingEmail.objects.exists()
    assert User.objects.get(pk=second_account.pk).is_active
