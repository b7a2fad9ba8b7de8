"""Forms of the self-registration steps, each validating one step's input, in French."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartable.activation.forms import FrenchDateField
from cartable.lib.phones import is_mobile, to_e164
from cartable.lib.text import clean

from .services import ChildToConfirm


class TelInput(forms.TextInput):
    input_type = "tel"  # phones show their numeric keypad


class MobileField(forms.CharField):
    """A mobile number in any French form (06…, +33 6…, 0033 6…); cleaned to E.164."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", gettext_lazy("Numéro de téléphone portable"))
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault(
            "help_text",
            gettext_lazy("Celui que vous avez donné à l'établissement de vos enfants. Exemple : 06 12 34 56 78."),
        )
        kwargs.setdefault("error_messages", {"required": gettext_lazy("Saisissez votre numéro de téléphone portable.")})
        kwargs.setdefault(
            "widget", TelInput(attrs={"autocomplete": "tel", "inputmode": "tel"})
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        number = to_e164(text)
        # Only the form of the number is checked here: whether it is on file is never said.
        if not number or not is_mobile(number):
            raise ValidationError(
                _("Saisissez un numéro de téléphone portable valide, par exemple 06 12 34 56 78."), code="invalid"
            )
        return number


class MobileForm(forms.Form):
    """FranceConnect's first use: the names come from the provider, only the number is asked."""

    portable = MobileField()


class IdentityForm(MobileForm):
    """Step 1 of « Je n'ai pas de compte »: as the établissement knows you."""

    nom = forms.CharField(
        label=gettext_lazy("Nom"),
        max_length=150,
        help_text=gettext_lazy("Votre nom de famille ou votre nom d'usage."),
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
        error_messages={"required": gettext_lazy("Saisissez votre nom.")},
    )
    prenom = forms.CharField(
        label=gettext_lazy("Prénom"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={"required": gettext_lazy("Saisissez votre prénom.")},
    )

    field_order = ["nom", "prenom", "portable"]

    def clean_nom(self) -> str:
        return clean(self.cleaned_data["nom"])

    def clean_prenom(self) -> str:
        return clean(self.cleaned_data["prenom"])


class ChildrenForm(forms.Form):
    """For each child: the birth date, or « Je ne suis pas le représentant légal de cet élève »."""

    def __init__(self, *args: Any, children: list[ChildToConfirm], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.children = [child for child in children if child.checkable]
        for child in self.children:
            pk = child.pupil.pk
            self.fields[f"naissance_{pk}"] = FrenchDateField(
                label=_("Date de naissance de %(name)s") % {"name": child.pupil.first_name}, required=False
            )
            self.fields[f"refus_{pk}"] = forms.BooleanField(
                label=_("Je ne suis pas le représentant légal de cet élève"), required=False
            )

    def rows(self) -> list[tuple[ChildToConfirm, forms.BoundField, forms.BoundField]]:
        return [(child, self[f"naissance_{child.pupil.pk}"], self[f"refus_{child.pupil.pk}"]) for child in self.children]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for child in self.children:
            pk = child.pupil.pk
            if not data.get(f"refus_{pk}") and f"naissance_{pk}" not in self.errors and not data.get(f"naissance_{pk}"):
                self.add_error(
                    f"naissance_{pk}",
                    _("Saisissez la date de naissance de %(name)s, ou cochez « Je ne suis pas le représentant légal de cet élève ».")
                    % {"name": child.pupil.first_name},
                )
        return data

    def typed_dates(self) -> dict[int, datetime.date]:
        """Pupil person id -> the date typed, for the children confirmed."""
        return {
            child.pupil.pk: self.cleaned_data[f"naissance_{child.pupil.pk}"]
            for child in self.children
            if not self.cleaned_data.get(f"refus_{child.pupil.pk}")
        }

    def rejected(self) -> list[ChildToConfirm]:
        return [child for child in self.children if self.cleaned_data.get(f"refus_{child.pupil.pk}")]
