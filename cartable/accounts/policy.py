"""Password policies, one per deployment (settings.PASSWORD_POLICY).

- ``scolarite-services`` (seed 001): 8 to 14 characters, letters AND digits.
- ``eschool`` (seed 003): at least 8 characters; mixing kinds is advised, not required.
- ``cnil`` (CNIL deliberation 2022-100): at least 50 bits of entropy, enough because login
  guesses are throttled (80 bits without throttling), e.g. 8 characters from 3 of the 4 kinds,
  or 12 characters from 4 kinds for 80 bits. Entropy here is length × log2(size of the alphabet
  made of the kinds used), as the CNIL computes it.

Every policy also refuses the identifier, the person's names and birth date, and the common
passwords of Django's shipped list (20,000 entries, offline).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cartable.lib.text import ascii_fold

# Sizes of the character kinds (CNIL's method): lower, upper, digits, specials.
_KINDS = [(re.compile(r"[a-z]"), 26), (re.compile(r"[A-Z]"), 26), (re.compile(r"[0-9]"), 10), (re.compile(r"[^a-zA-Z0-9]"), 33)]


@dataclass(frozen=True)
class Policy:
    name: str
    min_length: int
    max_length: int | None
    letters_and_digits: bool
    min_entropy_bits: float

    def describe(self) -> str:
        """The rule in French, shown beside every new-password field."""
        if self.name == "scolarite-services":
            return _("De 8 à 14 caractères, avec des lettres ET des chiffres.")
        if self.name == "cnil":
            return _(
                "Au moins 8 caractères mêlant au moins trois types parmi minuscules, majuscules, chiffres "
                "et caractères spéciaux (ou un mot de passe plus long)."
            )
        return _(
            "Au moins 8 caractères. Complexifiez-le avec des majuscules, des minuscules, des chiffres "
            "et des caractères spéciaux."
        )


POLICIES = {
    "scolarite-services": Policy("scolarite-services", 8, 14, True, 0),
    "eschool": Policy("eschool", 8, None, False, 0),
    "cnil": Policy("cnil", 8, None, False, 50),
}


def current_policy() -> Policy:
    return POLICIES[settings.PASSWORD_POLICY]


def entropy_bits(password: str) -> float:
    alphabet = sum(size for pattern, size in _KINDS if pattern.search(password))
    return len(password) * math.log2(alphabet) if alphabet else 0.0


def _personal_words(user: Any) -> list[str]:
    words: list[str] = []
    if user is None:
        return words
    username = getattr(user, "username", "") or ""
    words += [username, *re.split(r"[.\-]", username)]
    person = getattr(user, "person", None)
    if person is not None:
        for name in (person.first_name, person.last_name, person.usage_name):
            words += re.split(r"[\s\-']+", name or "")
        if person.birth_date:
            d = person.birth_date
            words += [d.strftime("%d%m%Y"), d.strftime("%Y%m%d"), d.strftime("%d%m%y"), d.strftime("%d/%m/%Y")]
    return [ascii_fold(w).casefold() for w in words if w and len(w) >= 3]


class PolicyValidator:
    """A Django password validator applying settings.PASSWORD_POLICY (see the module docstring)."""

    def validate(self, password: str, user: Any = None) -> None:
        policy = current_policy()
        errors: list[str] = []
        if len(password) < policy.min_length:
            errors.append(_("Le mot de passe doit contenir au moins %(n)d caractères.") % {"n": policy.min_length})
        if policy.max_length and len(password) > policy.max_length:
            errors.append(_("Le mot de passe doit contenir au plus %(n)d caractères.") % {"n": policy.max_length})
        if policy.letters_and_digits and not (re.search(r"[A-Za-z]", password) and re.search(r"[0-9]", password)):
            errors.append(_("Le mot de passe doit contenir des lettres ET des chiffres."))
        if policy.min_entropy_bits and entropy_bits(password) < policy.min_entropy_bits:
            errors.append(
                _(
                    "Ce mot de passe est trop facile à deviner : allongez-le ou mêlez davantage de types de "
                    "caractères (minuscules, majuscules, chiffres, caractères spéciaux)."
                )
            )
        folded = ascii_fold(password).casefold()
        if any(word in folded for word in _personal_words(user)):
            errors.append(
                _("Le mot de passe ne doit contenir ni votre identifiant, ni vos noms, ni votre date de naissance.")
            )
        try:
            CommonPasswordValidator().validate(password)
        except ValidationError:
            errors.append(_("Ce mot de passe fait partie des mots de passe les plus courants : choisissez-en un autre."))
        if errors:
            raise ValidationError(errors, code="password_policy")

    def get_help_text(self) -> str:
        return current_policy().describe()
