"""Forms of "Mon compte": each change starts with the current password (`mot_de_passe_actuel`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cartable.accounts.models import User
from cartable.accounts.questions import QUESTIONS
from cartable.lib import throttle
from cartable.lib.phones import is_mobile, to_e164
from cartable.lib.text import normalise_answer
from cartable.recovery.forms import CodeForm, NewPasswordForm

from . import services

CURRENT = "mot_de_passe_actuel"


def _current_password_field() -> forms.CharField:
    return forms.CharField(
        label=_("Mot de passe actuel"),
        max_length=4096,
        strip=False,
        help_text=_("Obligatoire pour toute modification."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Saisissez votre mot de passe actuel.")},
    )


class CurrentPasswordMixin:
    """Puts the current password first (so it is checked first) and checks it in clean."""

    request: HttpRequest
    user: User
    fields: dict[str, forms.Field]

    def _require_current_password(self, request: HttpRequest, user: User) -> None:
        self.request = request
        self.user = user
        self.fields = {CURRENT: _current_password_field(), **self.fields}

    def clean_mot_de_passe_actuel(self) -> str:
        password = self.cleaned_data[CURRENT]  # type: ignore[attr-defined]
        right, wait = services.verify_current_password(self.request, self.user, password)
        if right:
            return password
        if wait:
            minutes = throttle.minutes_label(wait)
            raise forms.ValidationError(
                ngettext(
                    "Trop de tentatives. Réessayez dans %(minutes)d minute.",
                    "Trop de tentatives. Réessayez dans %(minutes)d minutes.",
                    minutes,
                )
                % {"minutes": minutes}
            )
        raise forms.ValidationError(_("Mot de passe actuel incorrect."))


class PasswordChangeForm(CurrentPasswordMixin, NewPasswordForm):
    def __init__(self, request: HttpRequest, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self._require_current_password(request, user)


class EmailChangeForm(CurrentPasswordMixin, forms.Form):
    nouvelle_adresse = forms.EmailField(
        label=_("Nouvelle adresse électronique"),
        max_length=254,
        help_text=_("Nous y enverrons un lien : l'adresse ne changera que lorsque vous l'aurez ouvert."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={
            "required": _("Saisissez la nouvelle adresse."),
            "invalid": _("Saisissez une adresse électronique valide, par exemple nom@exemple.fr."),
        },
    )

    def __init__(self, request: HttpRequest, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._require_current_password(request, user)

    def clean_nouvelle_adresse(self) -> str:
        address = self.cleaned_data["nouvelle_adresse"].strip()
        if self.user.email_verified and address.lower() == self.user.email.lower():
            raise forms.ValidationError(_("C'est déjà l'adresse de votre compte."))
        return address


class MobileChangeForm(CurrentPasswordMixin, forms.Form):
    nouveau_numero = forms.CharField(
        label=_("Nouveau numéro de téléphone portable"),
        max_length=30,
        help_text=_("Exemple : 06 12 34 56 78. Nous y enverrons un code par SMS."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        error_messages={"required": _("Saisissez le numéro.")},
    )

    def __init__(self, request: HttpRequest, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._require_current_password(request, user)

    def clean_nouveau_numero(self) -> str:
        number = to_e164(self.cleaned_data["nouveau_numero"])
        if not number or not is_mobile(number):
            raise forms.ValidationError(_("Saisissez un numéro de téléphone portable, par exemple 06 12 34 56 78."))
        if number == self.user.mobile:
            raise forms.ValidationError(_("C'est déjà le numéro de votre compte."))
        return number


class MobileCodeForm(CodeForm):
    pass


def _question_choices() -> list[tuple[str, object]]:
    return [("", _("Choisissez une question…"))] + [(str(i), str(q)) for i, q in enumerate(QUESTIONS)]


class QuestionsForm(CurrentPasswordMixin, forms.Form):
    question_1 = forms.TypedChoiceField(
        label=_("Première question secrète"),
        coerce=int,
        choices=_question_choices,
        error_messages={"required": _("Choisissez une question.")},
    )
    reponse_1 = forms.CharField(
        label=_("Votre réponse à la première question"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Saisissez une réponse.")},
    )
    question_2 = forms.TypedChoiceField(
        label=_("Seconde question secrète"),
        coerce=int,
        choices=_question_choices,
        error_messages={"required": _("Choisissez une question.")},
    )
    reponse_2 = forms.CharField(
        label=_("Votre réponse à la seconde question"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Saisissez une réponse.")},
    )

    def __init__(self, request: HttpRequest, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._require_current_password(request, user)

    def clean_reponse_1(self) -> str:
        return self._answer("reponse_1")

    def clean_reponse_2(self) -> str:
        return self._answer("reponse_2")

    def _answer(self, name: str) -> str:
        answer = self.cleaned_data[name]
        # Compared later without case, accents or spaces: what is left must be worth guessing.
        if len(normalise_answer(answer)) < 2:
            raise forms.ValidationError(_("Saisissez une réponse d'au moins 2 caractères."))
        return answer

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("question_1") is not None and data.get("question_1") == data.get("question_2"):
            self.add_error("question_2", _("Choisissez deux questions différentes."))
        return data

    def pairs(self) -> list[tuple[int, str]]:
        data = self.cleaned_data
        return [(data["question_1"], data["reponse_1"]), (data["question_2"], data["reponse_2"])]
