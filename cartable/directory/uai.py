"""UAI (Unité Administrative Immatriculée, ex-RNE): 7 characters then a check letter.

The letter is the number formed by the first seven characters, modulo 23, read in the alphabet
without I, O and Q (checked on real codes: 0371122U). Corsican codes start with 620/720, so the
first three characters are digits in every current code.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CHECK_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
UAI_RE = re.compile(r"^[0-9]{7}[A-Z]$")


def normalise_uai(value: str) -> str:
    return (value or "").strip().upper()


def expected_letter(uai: str) -> str:
    return CHECK_LETTERS[int(uai[:7]) % 23]


def validate_uai(value: str) -> None:
    """Raise ValidationError (in French) unless value is a well-formed UAI with the right letter."""
    uai = normalise_uai(value)
    if not UAI_RE.match(uai):
        raise ValidationError(
            _("« %(uai)s » n'est pas un UAI : il faut 7 chiffres suivis d'une lettre (ex. 0371122U)."),
            code="uai_format",
            params={"uai": value},
        )
    if uai in {normalise_uai(code) for code in settings.UAI_FICTIONAL}:
        return
    letter = expected_letter(uai)
    if uai[7] != letter:
        raise ValidationError(
            _("L'UAI « %(uai)s » est invalide : la lettre de contrôle devrait être %(letter)s."),
            code="uai_check_letter",
            params={"uai": value, "letter": letter},
        )
