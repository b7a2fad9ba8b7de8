"""UAI validation: format, check letter (with the expected one in the message), fictional codes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cartable.directory.models import Etablissement
from cartable.directory.uai import expected_letter, normalise_uai, validate_uai


@pytest.mark.parametrize("uai", ["0371122U", "0750655E", "0130040Y"])
def test_valid_uai(uai, settings):
    settings.UAI_FICTIONAL = []
    validate_uai(uai)


def test_wrong_letter_names_the_expected_one(settings):
    settings.UAI_FICTIONAL = []
    with pytest.raises(ValidationError) as error:
        validate_uai("0371122A")
    assert error.value.code == "uai_check_letter"
    message = error.value.messages[0]
    assert "0371122A" in message and "lettre de contrôle devrait être U" in message


@pytest.mark.parametrize("value", ["", "037112U", "03711222U", "A371122U", "0371122", "0371 122U", "0371122É"])
def test_bad_format(value):
    with pytest.raises(ValidationError) as error:
        validate_uai(value)
    assert error.value.code == "uai_format"
    assert "7 chiffres suivis d'une lettre" in error.value.messages[0]


def test_lowercase_and_spaces_are_normalised(db, settings):
    settings.UAI_FICTIONAL = []
    validate_uai(" 0371122u ")
    assert normalise_uai(" 0371122u ") == "0371122U"
    etab = Etablissement.objects.create(uai="0371122u", name="Collège")
    assert etab.uai == "0371122U"


def test_fictional_uai_accepted_through_setting(settings):
    assert expected_letter("0999999X") != "X"  # really fictional: its letter is wrong
    settings.UAI_FICTIONAL = ["0999999X"]
    validate_uai("0999999X")
    validate_uai("0999999x")


def test_fictional_uai_refused_when_setting_emptied(settings):
    settings.UAI_FICTIONAL = []
    with pytest.raises(ValidationError) as error:
        validate_uai("0999999X")
    assert error.value.code == "uai_check_letter"
    assert f"devrait être {expected_letter('0999999X')}" in error.value.messages[0]


def test_model_field_validates(db, settings):
    settings.UAI_FICTIONAL = []
    etab = Etablissement(uai="0371122A", name="Collège")
    with pytest.raises(ValidationError) as error:
        etab.full_clean()
    assert "uai" in error.value.message_dict
