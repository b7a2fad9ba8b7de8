"""The parent's confirmation of a link report (Mon compte → Enfants)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import COMMENT_MAX_LENGTH, NOTE_MAX_LENGTH


class ReportForm(forms.Form):
    confirme = forms.BooleanField(
        label=_("Je confirme que je ne suis pas le représentant légal ou la personne en charge de cet élève."),
        error_messages={"required": _("Cochez la case pour confirmer le signalement.")},
    )
    commentaire = forms.CharField(
        label=_("Commentaire pour l'établissement (facultatif)"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Par exemple : « Je ne connais pas cet élève » ou « Ce n'est plus le cas depuis le jugement du… »."),
        error_messages={"max_length": _("Votre commentaire est trop long (au plus %(limit_value)d caractères).")},
    )


class StaffNoteForm(forms.Form):
    """The note the staff leave when they handle a report (the parent reads it): required to
    reject (the parent must learn why the link stays), optional to remove the link."""

    note = forms.CharField(
        label=_("Note (visible par le parent)"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        error_messages={"required": _("Expliquez au parent pourquoi le lien est conservé.")},
    )

    def __init__(self, *args: Any, note_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].required = note_required
