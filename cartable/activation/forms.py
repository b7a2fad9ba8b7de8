"""Forms of the activation steps: each validates one step's input, in French."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cartable.accounts.models import User
from cartable.accounts.policy import Policy
from cartable.accounts.questions import QUESTIONS
from cartable.directory.models import Person
from cartable.lib.text import normalise_answer
from cartable.portal.forms import LoginForm


class StartForm(LoginForm):
    """Identifier and provisional password, as on the letter (same checks as the login)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["conserver"]  # nobody is logged in by the activation
        self.fields["mot_de_passe"].label = _("Mot de passe provisoire")
        self.fields["mot_de_passe"].error_messages["required"] = _("Saisissez le mot de passe provisoire de la lettre.")


class CharterForm(forms.Form):
    accepte = forms.BooleanField(
        label=_("J'ai lu et j'accepte la charte d'utilisation de l'ENT."),
        error_messages={"required": _("Cochez la case pour accepter la charte : c'est nécessaire pour utiliser l'ENT.")},
    )


# "14/03/2015", "14-03-2015", "14.03.2015", "14 03 2015", "14/3/2015" or "14032015" (a phone's
# numeric keypad often has no slash).
_DATE = re.compile(r"^\s*(\d{1,2})\s*[/.\- ]\s*(\d{1,2})\s*[/.\- ]\s*(\d{4})\s*$|^\s*(\d{2})(\d{2})(\d{4})\s*$")


def parse_french_date(value: str) -> datetime.date | None:
    match = _DATE.match(value or "")
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups() if g is not None)
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


class FrenchDateField(forms.CharField):
    """A date typed as JJ/MM/AAAA in one text field (no date picker: typing is faster and works
    with every screen reader)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "error_messages",
            {"required": _("Saisissez cette date de naissance.")},
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        text = super().clean(value)  # required, max_length
        if not text:
            return None
        day = parse_french_date(text)
        if day is None:
            raise ValidationError(_("Saisissez une date au format JJ/MM/AAAA, par exemple 31/01/2012."), code="invalid")
        return day


class BirthDatesForm(forms.Form):
    """One date field per child, named after the child's first name."""

    def __init__(self, *args: Any, children: list[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.children = children
        for child in children:
            self.fields[f"enfant_{child.pk}"] = FrenchDateField(
                label=_("Date de naissance de %(name)s") % {"name": child.first_name}
            )

    def typed_dates(self) -> dict[int, datetime.date]:
        return {child.pk: self.cleaned_data[f"enfant_{child.pk}"] for child in self.children}


class EmailForm(forms.Form):
    """The personal address, typed twice; « Je ne souhaite pas indiquer d'adresse » when allowed."""

    email = forms.EmailField(
        label=_("Votre adresse électronique personnelle"),
        max_length=254,
        required=False,
        error_messages={"invalid": _("Saisissez une adresse électronique valide, par exemple prenom.nom@exemple.fr.")},
    )
    email2 = forms.EmailField(
        label=_("Confirmation de l'adresse électronique"),
        max_length=254,
        required=False,
        error_messages={"invalid": _("Saisissez une adresse électronique valide, par exemple prenom.nom@exemple.fr.")},
    )

    def __init__(self, *args: Any, declining: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.declining = declining and not settings.ACTIVATION_EMAIL_REQUIRED

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.declining:
            data["email"] = ""
            self.errors.clear()  # whatever was typed is ignored
            return data
        email, email2 = data.get("email"), data.get("email2")
        if "email" not in self.errors and not email:
            self.add_error("email", _("Saisissez votre adresse électronique."))
        elif email and "email2" not in self.errors:
            if not email2:
                self.add_error("email2", _("Saisissez de nouveau votre adresse électronique pour la confirmer."))
            elif email.casefold() != email2.casefold():
                self.add_error("email2", _("Les deux adresses ne sont pas identiques."))
        if email:
            local, _sep, domain = email.rpartition("@")
            data["email"] = f"{local}@{domain.lower()}"
        return data


def question_choices() -> list[tuple[str, str]]:
    return [("", str(_("Choisissez une question")))] + [(str(i), str(q)) for i, q in enumerate(QUESTIONS)]


class QuestionsForm(forms.Form):
    """Two different secret questions and their answers (used to recover a lost password)."""

    question1 = forms.TypedChoiceField(
        label=_("Première question secrète"),
        coerce=int,
        choices=question_choices,
        error_messages={"required": _("Choisissez une question.")},
    )
    reponse1 = forms.CharField(
        label=_("Votre réponse à la première question"),
        max_length=100,
        error_messages={"required": _("Saisissez votre réponse.")},
    )
    question2 = forms.TypedChoiceField(
        label=_("Seconde question secrète"),
        coerce=int,
        choices=question_choices,
        error_messages={"required": _("Choisissez une question.")},
    )
    reponse2 = forms.CharField(
        label=_("Votre réponse à la seconde question"),
        max_length=100,
        error_messages={"required": _("Saisissez votre réponse.")},
    )

    def clean_reponse1(self) -> str:
        return self._answer("reponse1")

    def clean_reponse2(self) -> str:
        return self._answer("reponse2")

    def _answer(self, name: str) -> str:
        value = self.cleaned_data[name]
        if len(normalise_answer(value)) < 2:
            raise ValidationError(_("Votre réponse est trop courte : au moins 2 caractères."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("question1") is not None and data.get("question1") == data.get("question2"):
            self.add_error("question2", _("Choisissez deux questions différentes."))
        return data


def policy_data(policy: Policy) -> dict[str, object]:
    """The policy as the data-* attributes password-check.js mirrors (the server decides)."""
    return {
        "min": policy.min_length,
        "max": policy.max_length or "",
        "letters_digits": "1" if policy.letters_and_digits else "",
        "min_bits": int(policy.min_entropy_bits) or "",
    }


class PasswordForm(forms.Form):
    """The new password, typed twice, under the deployment's policy (settings.PASSWORD_POLICY)."""

    mot_de_passe1 = forms.CharField(
        label=_("Nouveau mot de passe"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Choisissez votre mot de passe.")},
    )
    mot_de_passe2 = forms.CharField(
        label=_("Confirmation du mot de passe"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Saisissez de nouveau votre mot de passe pour le confirmer.")},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_mot_de_passe1(self) -> str:
        password = self.cleaned_data["mot_de_passe1"]
        validate_password(password, self.user)  # raises the policy's French messages
        # The provisional password was printed on paper that may lie around. Checked without
        # User.check_password, which would rehash and save the account in the middle of the flow.
        if check_password(password, self.user.password):
            raise ValidationError(_("Choisissez un mot de passe différent du mot de passe provisoire."))
        return password

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("mot_de_passe1"), data.get("mot_de_passe2")
        if first and second is not None and first != second:
            self.add_error("mot_de_passe2", _("Les deux mots de passe ne sont pas identiques."))
        return data
