"""Forms of the portal: the profile/level choice and the login form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .choice import LEVELS, PROFILES, PortalChoice, needs_level

REMEMBER_CHOICES = [
    ("non", _("Non (je me connecte depuis un lieu public)")),
    ("oui", _("Oui (je me connecte depuis mon ordinateur)")),
]


class ChoiceForm(forms.Form):
    """Step 2 of the portal: level (when the profile has one) and "Mémoriser ce choix"."""

    profil = forms.ChoiceField(choices=list(PROFILES.items()), widget=forms.HiddenInput)
    niveau = forms.ChoiceField(
        label=_("Votre niveau"),
        choices=list(LEVELS.items()),
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choisissez un niveau dans la liste.")},
    )
    memoriser = forms.ChoiceField(
        label=_("Mémoriser ce choix"), choices=REMEMBER_CHOICES, initial="non", widget=forms.RadioSelect
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if needs_level(data.get("profil", "")) and not data.get("niveau"):
            self.add_error("niveau", _("Choisissez votre niveau : école, collège ou lycée."))
        return data

    def choice(self) -> PortalChoice:
        data = self.cleaned_data
        choice = PortalChoice.parse(data["profil"], data.get("niveau", ""), remember=data["memoriser"] == "oui")
        assert choice is not None  # clean() accepted it
        return choice


class LoginForm(forms.Form):
    identifiant = forms.CharField(
        label=_("Identifiant"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}
        ),
        error_messages={"required": _("Saisissez votre identifiant.")},
    )
    mot_de_passe = forms.CharField(
        label=_("Mot de passe"),
        max_length=4096,  # no password is that long; refuses megabytes fed to Argon2
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Saisissez votre mot de passe.")},
    )
    # Offered only when the portal choice is remembered (own computer); ignored otherwise.
    conserver = forms.BooleanField(label=_("Conserver l'identification"), required=False)
