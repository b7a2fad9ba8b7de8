"""Forms of the regroupement: proof of the other account, then the current password."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cartable.accounts.models import User
from cartable.myaccount.forms import CurrentPasswordMixin


class ProofForm(forms.Form):
    """The other account's identifier and its password (or its provisional password)."""

    identifiant = forms.CharField(
        label=_("Identifiant de l'autre compte"),
        max_length=150,
        help_text=_("Celui qui figure sur l'autre lettre de l'établissement, par exemple prenom.nom2."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}
        ),
        error_messages={"required": _("Saisissez l'identifiant de l'autre compte.")},
    )
    mot_de_passe = forms.CharField(
        label=_("Mot de passe de l'autre compte"),
        max_length=4096,  # as the login form: no megabytes fed to Argon2
        strip=False,
        help_text=_("Son mot de passe, ou le mot de passe provisoire de sa lettre s'il n'a pas encore été activé."),
        # "new-password" keeps the browser from filling in the password of the signed-in account.
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Saisissez le mot de passe de l'autre compte.")},
    )


class ConfirmForm(CurrentPasswordMixin, forms.Form):
    """Only the current password of the signed-in account (checked with the login's counters)."""

    def __init__(self, request: HttpRequest, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._require_current_password(request, user)
