"""Staff console: « Doublons probables », the merge confirmation and the accounts-list action."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from cartable.accounts.models import AuditEvent, User
from cartable.conftest import PASSWORD, make_user
from cartable.delivery.models import OutgoingEmail
from cartable.directory.models import Guardianship, Profile
from cartable.merging.duplicates import name_key, probable_duplicates

pytestmark = pytest.mark.django_db

DUPLICATES = reverse("admin:merging_probableduplicate_changelist")
MERGE = reverse("admin:merging_probableduplicate_merge")
ACCOUNTS = reverse("admin:accounts_user_changelist")


def _parent(username: str, etab, *, first="Claire", last="EXEMPLE", mobile="", email="", activated=True, child=None):
    user = make_user(username, Profile.RESPONSABLE, etab, first_name=first, last_name=last, activated=activated,
                     password=PASSWORD if activated else None)
    user.person.mobile, user.person.email = mobile, email
    user.person.save()
    if child is not None:
        Guardianship.objects.create(pupil=child.person, guardian=user.person, etablissement=etab, level=1)
    return user


def _text(response) -> str:
    return html.unescape(response.content.decode())


# --- Detection ---------------------------------------------------------------------------------


def test_name_key_ignores_case_accents_hyphens_and_apostrophes():
    assert name_key("Éloïse-Marie", "d'Arc") == name_key("ELOISE MARIE", "D ARC") == name_key(" éloïse  marie ", "D’Arc")
    assert name_key("Claire", "EXEMPLE") != name_key("Claire", "EXEMPLES")


def test_same_names_and_a_shared_phone_or_address(etab, pupil, sibling):
    a = _parent("claire.exemple", etab, mobile="06 12 34 56 78", child=pupil)
    b = _parent("claire.exemple2", etab, first="CLAIRE", last="Exemple", mobile="+33612345678", email="C@Exemple.fr",
                activated=False, child=sibling)
    c = _parent("claire.exemple3", etab, first="Claire", last="Exemple", email="c@exemple.fr", activated=False)
    _parent("claire.exemple4", etab, mobile="0699999999")  # same names, nothing in common
    _parent("marc.exemple", etab, first="Marc", mobile="0612345678")  # same phone, another name
    make_user("claire.prof", Profile.ENSEIGNANT, etab, first_name="Claire", last_name="EXEMPLE")  # not a parent

    [group] = probable_duplicates(User.objects.all())
    assert [u.username for u in group.accounts] == [a.username, b.username, c.username]  # the activated one first
    assert group.suggested == a
    assert group.shared == ["+33612345678", "c@exemple.fr"]


def test_merged_staff_and_inactive_accounts_are_not_candidates(etab, secretary):
    a = _parent("claire.exemple", etab, mobile="0612345678")
    b = _parent("claire.exemple2", etab, mobile="0612345678")
    b.is_active = False
    b.save()
    assert probable_duplicates(User.objects.all()) == []
    assert [g.suggested for g in probable_duplicates(User.objects.filter(pk__in=[a.pk]))] == []


# --- The console page --------------------------------------------------------------------------


@pytest.fixture
def pair(etab, pupil, sibling):
    kept = _parent("claire.exemple", etab, mobile="0612345678", child=pupil)
    other = _parent("claire.exemple2", etab, mobile="06 12 34 56 78", email="claire@exemple.fr", activated=False, child=sibling)
    return kept, other


def test_secretary_sees_the_duplicates_of_her_etablissement(client, secretary, pair):
    client.force_login(secretary)
    page = _text(client.get(DUPLICATES))
    assert "Doublons probables" in page and "claire.exemple2" in page and "+33612345678" in page
    assert "Léa EXEMPLE" in page and "Hugo EXEMPLE" in page
    # Listed on the console's home page, under the app.
    assert DUPLICATES in _text(client.get(reverse("admin:index")))


def test_another_etablissement_secretary_sees_nothing_and_cannot_merge(client, other_secretary, pair):
    kept, other = pair
    client.force_login(other_secretary)
    page = _text(client.get(DUPLICATES))
    assert "claire.exemple" not in page and "Aucun doublon probable" in page
    response = client.post(MERGE, {"comptes": [kept.pk, other.pk], "conserver": kept.pk, "confirm": "oui"})
    assert response.status_code == 302
    assert "Choisissez au moins deux comptes de votre établissement." in _text(client.get(response["Location"]))
    assert User.objects.get(pk=other.pk).merged_into_id is None


def test_half_a_pair_in_another_etablissement_is_neither_shown_nor_merged(client, secretary, etab, other_etab, pupil):
    here = _parent("claire.exemple", etab, mobile="0612345678", child=pupil)
    there = _parent("claire.exemple2", other_etab, mobile="0612345678")
    client.force_login(secretary)
    assert "claire.exemple2" not in _text(client.get(DUPLICATES))
    client.post(MERGE, {"comptes": [here.pk, there.pk], "conserver": here.pk, "confirm": "oui"})
    assert User.objects.get(pk=there.pk).merged_into_id is None
    # A superuser manages every établissement: he sees the pair and may merge it.
    admin = User.objects.create_superuser("admin", PASSWORD)
    client.force_login(admin)
    assert "claire.exemple2" in _text(client.get(DUPLICATES))
    client.post(MERGE, {"comptes": [here.pk, there.pk], "conserver": here.pk, "confirm": "oui"})
    assert User.objects.get(pk=there.pk).merged_into_id == here.pk


def test_regrouper_asks_for_confirmation_then_merges(client, secretary, pair, etab):
    kept, other = pair
    client.force_login(secretary)
    page = _text(client.post(MERGE, {"comptes": [kept.pk, other.pk]}))
    assert "Compte à conserver" in page and f'value="{kept.pk}" id="conserver-{kept.pk}" checked' in page
    assert User.objects.get(pk=other.pk).is_active  # nothing yet

    response = client.post(MERGE, {"comptes": [kept.pk, other.pk], "conserver": kept.pk, "confirm": "oui"})
    assert response.status_code == 302
    assert "claire.exemple est conservé, claire.exemple2 est fermé" in _text(client.get(response["Location"]))
    other.refresh_from_db()
    assert other.merged_into_id == kept.pk and not other.is_active
    line = AuditEvent.objects.get(action="account.merged", target_username="claire.exemple2")
    assert line.actor_id == secretary.pk and line.detail["via"] == "staff" and line.etablissement_uai == etab.uai
    # The staff member's établissement's audit lists both lines.
    page = _text(client.get(reverse("admin:accounts_auditevent_changelist") + "?action=account.merged"))
    assert "claire.exemple2" in page
    assert OutgoingEmail.objects.get().to == ["claire@exemple.fr"]
    assert "le secrétariat de votre établissement a regroupé" in OutgoingEmail.objects.get().text
    # The pair is no longer a duplicate.
    assert "claire.exemple2" not in _text(client.get(DUPLICATES))


def test_staff_may_keep_the_other_account(client, secretary, pair):
    kept, other = pair
    client.force_login(secretary)
    client.post(MERGE, {"comptes": [kept.pk, other.pk], "conserver": other.pk, "confirm": "oui"})
    assert User.objects.get(pk=kept.pk).merged_into_id == other.pk


def test_a_refused_merge_says_why(client, secretary, pair, etab, teacher):
    kept, _other = pair
    client.force_login(secretary)
    response = client.post(MERGE, {"comptes": [kept.pk, teacher.pk], "conserver": kept.pk, "confirm": "oui"})
    assert "Seuls des comptes de parents" in _text(client.get(response["Location"]))
    assert User.objects.get(pk=teacher.pk).is_active


# --- The accounts-list action ------------------------------------------------------------------


def test_action_merges_two_selected_accounts(client, secretary, pair):
    kept, other = pair
    client.force_login(secretary)
    data = {"action": "merge_selected_accounts", "_selected_action": [other.pk, kept.pk]}
    page = _text(client.post(ACCOUNTS, data))
    assert "Compte à conserver" in page and f'value="{kept.pk}" id="conserver-{kept.pk}" checked' in page
    client.post(MERGE, {"comptes": [kept.pk, other.pk], "conserver": kept.pk, "confirm": "oui"})
    assert User.objects.get(pk=other.pk).merged_into_id == kept.pk


def test_action_wants_exactly_two(client, secretary, pair, pupil):
    kept, other = pair
    client.force_login(secretary)
    response = client.post(ACCOUNTS, {"action": "merge_selected_accounts", "_selected_action": [kept.pk, other.pk, pupil.pk]})
    assert response.status_code == 302
    assert "Sélectionnez exactement deux comptes" in _text(client.get(response["Location"]))


def test_action_cannot_reach_another_etablissement(client, other_secretary, pair, other_etab):
    kept, other = pair
    client.force_login(other_secretary)
    response = client.post(ACCOUNTS, {"action": "merge_selected_accounts", "_selected_action": [kept.pk, other.pk]})
    # The scoped accounts list finds neither: Django says no action was taken.
    assert response.status_code == 302
    assert User.objects.get(pk=other.pk).merged_into_id is None


def test_account_pages_show_the_merge_and_the_whole_history(client, secretary, pair, etab):
    from cartable.accounts.services import audit

    kept, other = pair
    audit("password.changed", actor=other, target=other, uai=etab.uai)  # the closed account's past
    client.force_login(secretary)
    client.post(MERGE, {"comptes": [kept.pk, other.pk], "conserver": kept.pk, "confirm": "oui"})

    page = _text(client.get(reverse("admin:accounts_user_change", args=[other.pk])))
    assert "Regroupé dans le compte" in page and reverse("admin:accounts_user_change", args=[kept.pk]) in page
    page = _text(client.get(reverse("admin:accounts_user_change", args=[kept.pk])))
    assert "Comptes regroupés dans celui-ci" in page
    history = reverse("admin:accounts_auditevent_changelist") + "?target_username__in=claire.exemple,claire.exemple2"
    assert history in page
    page = _text(client.get(history))
    assert "password.changed" in page and "account.merged" in page
