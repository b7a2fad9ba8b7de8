"""Forms of the recovery pages; `NewPasswordForm` is also used by "Mon compte"."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from cartable.accounts.models import User
from cartable.accounts.policy import current_policy
from cartable.accounts.questions import QUESTIONS


class IdentifierReminderForm(forms.Form):
    adresse = forms.EmailField(
        label=_("Votre adresse électronique"),
        max_length=254,
        help_text=_("L'adresse personnelle que vous avez enregistrée et vérifiée dans l'ENT."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={
            "required": _("Saisissez votre adresse électronique."),
            "invalid": _("Saisissez une adresse électronique valide, par exemple nom@exemple.fr."),
        },
    )


class PasswordRequestForm(forms.Form):
    identifiant = forms.CharField(
        label=_("Votre identifiant"),
        max_length=150,
        help_text=_("Exemple : prenom.nom (il figure sur le courrier de votre établissement)."),
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}
        ),
        error_messages={"required": _("Saisissez votre identifiant.")},
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code reçu par SMS"),
        max_length=20,
        help_text=_("6 chiffres."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
        error_messages={"required": _("Saisissez le code reçu par SMS.")},
    )

    def clean_code(self) -> str:
        code = re.sub(r"[\s.\-]", "", self.cleaned_data["code"])
        if not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError(_("Le code comporte 6 chiffres."))
        return code


class AnswersForm(forms.Form):
    """The two secret questions, asked in the order given (question numbers)."""

    def __init__(self, questions: list[int], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for position, question in enumerate(questions, start=1):
            self.fields[f"reponse_{position}"] = forms.CharField(
                label=QUESTIONS[question],
                max_length=200,
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
                error_messages={"required": _("Répondez à cette question.")},
            )

    def answers(self) -> list[str]:
        return [self.cleaned_data[name] for name in self.fields]


class NewPasswordForm(forms.Form):
    """A new password typed twice, checked against the deployment's policy for `user`."""

    nouveau_mot_de_passe = forms.CharField(
        label=_("Nouveau mot de passe"),
        max_length=4096,  # refuses megabytes fed to Argon2
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Saisissez un nouveau mot de passe.")},
    )
    confirmation = forms.CharField(
        label=_("Confirmez le nouveau mot de passe"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Saisissez une seconde fois le nouveau mot de passe.")},
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["nouveau_mot_de_passe"].help_text = current_policy().describe()

    def clean_nouveau_mot_de_passe(self) -> str:
        password = self.cleaned_data["nouveau_mot_de_passe"]
        validate_password(password, self.user)
        return password

    def clean_confirmation(self) -> str:
        confirmation = self.cleaned_data["confirmation"]
        password = self.cleaned_data.get("nouveau_mot_de_passe")
        if password is not None and confirmation != password:
            raise forms.ValidationError(_("Les deux mots de passe ne sont pas identiques."))
        return confirmation

    @property
    def password(self) -> str:
        return self.cleaned_data["nouveau_mot_de_passe"]
