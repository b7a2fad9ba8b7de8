import datetime

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from cartable.accounts.policy import entropy_bits


def errors(password, user=None):
    try:
        validate_password(password, user)
    except ValidationError as error:
        return " ".join(error.messages)
    return ""


@pytest.mark.parametrize(
    "policy, password, ok",
    [
        ("scolarite-services", "soleil2026b", True),
        ("scolarite-services", "soleilbleu", False),  # no digit
        ("scolarite-services", "12345678901", False),  # no letter
        ("scolarite-services", "abc12", False),  # too short
        ("scolarite-services", "soleilbleu2026xy", False),  # over 14
        ("eschool", "randonnee-verte", True),
        ("eschool", "court", False),
        ("cnil", "Vert-Lac7", True),  # 9 chars, 4 kinds: ~59 bits
        ("cnil", "abcdefgh", False),  # 8 lower-case: ~38 bits
        ("cnil", "tournesolvioletpapillon", True),  # long passphrase
    ],
)
def test_policies(settings, policy, password, ok):
    settings.PASSWORD_POLICY = policy
    assert (errors(password) == "") is ok, errors(password)


def test_personal_data_and_common_passwords_refused(parent, settings):
    settings.PASSWORD_POLICY = "eschool"
    parent.person.birth_date = datetime.date(1984, 5, 17)
    parent.person.save()
    assert "identifiant" in errors("claire.exemple-99", parent)
    assert "noms" in errors("Exemple!Gateau42", parent)
    assert "date de naissance" in errors("Soleil17051984", parent)
    assert "courants" in errors("password123")
    assert errors("Rivière-Haute-27", parent) == ""


def test_entropy_counts_kinds():
    assert round(entropy_bits("abcdefgh")) == 38
    assert entropy_bits("Abcdef1!") > 50
