"""The console form to upload exports."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cartable.directory.models import Etablissement


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's FileField takes one)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".xml,.zip,.csv"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        single = super().clean
        if isinstance(data, (list, tuple)):
            if not data and self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class ImportForm(forms.Form):
    etablissement = forms.ModelChoiceField(
        label=_("Établissement"), queryset=Etablissement.objects.none(), empty_label=None
    )
    # Not "files": forms already have a `files` attribute (the uploaded data).
    fichiers = MultipleFileField(
        label=_("Fichiers"),
        help_text=_(
            "ElevesSansAdresses.xml (ou ElevesAvecAdresses), ResponsablesAvecAdresses.xml, "
            "sts_emp_UAI_ANNEE.xml, tels quels ou zippés (un fichier par zip), ou un fichier CSV Cartable."
        ),
    )
    dry_run = forms.BooleanField(
        label=_("Essai à blanc"),
        required=False,
        help_text=_("Tout est vérifié et le compte rendu indique ce qui changerait, mais rien n'est enregistré."),
    )

    def __init__(self, *args: Any, etablissements: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the établissements this user manages: another one is not even a valid choice.
        cast(forms.ModelChoiceField, self.fields["etablissement"]).queryset = etablissements
