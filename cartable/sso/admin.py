"""The service registry in the staff console, scoped like every console screen.

A secretary or the direction manages the services of their own établissement only (the
directory's ScopedAdminMixin: querysets, choices, permissions, 404 outside the scope); a
superuser manages all of them.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartable.directory.admin import SCOPES, ScopedAdminMixin, column
from cartable.directory.models import Profile

from .attributes import PRONOTE_ATTRIBUTES
from .models import Attribute, Service
from .patterns import acceptable_url, matches

# Services belong to an établissement: the console's scope rule for them.
SCOPES[Service] = lambda qs, scope: qs.filter(etablissement_id__in=scope.ids)


class ServiceForm(forms.ModelForm):
    released_attributes = forms.MultipleChoiceField(
        label=gettext_lazy("Attributs transmis"),
        choices=Attribute.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Seuls les attributs cochés sont transmis au service, jamais d'autres."),
    )
    allowed_profiles = forms.MultipleChoiceField(
        label=gettext_lazy("Profils autorisés"),
        choices=Profile.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Cochez au moins un profil.")},
    )

    class Meta:
        model = Service
        fields = [
            "etablissement", "name", "description", "protocol", "access_url", "show_tile", "active",
            "allowed_profiles", "released_attributes", "attribute_profile",
            "service_patterns", "proxy_allowed", "single_logout", "logout_url",
        ]
        # An address typed without a scheme is an https one (Django 6's default, chosen now).
        field_classes = {
            "access_url": partial(forms.URLField, assume_scheme="https"),
            "logout_url": partial(forms.URLField, assume_scheme="https"),
        }
        help_texts = {
            "attribute_profile": gettext_lazy(
                "Pronote ajoute : %(attributes)s (catégories National_1 élève, National_2 parent, "
                "National_3 enseignant, National_4 personnel)."
            )
            % {"attributes": ", ".join(PRONOTE_ATTRIBUTES)},
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        access_url = data.get("access_url") or ""
        if access_url and not acceptable_url(access_url):
            self.add_error(
                "access_url",
                _("Adresse refusée : https:// obligatoire (http:// seulement pour 127.0.0.1 ou localhost)."),
            )
        if data.get("protocol") == Service.Protocol.CAS and "service_patterns" not in self.errors:
            patterns = [line.strip() for line in (data.get("service_patterns") or "").splitlines() if line.strip()]
            if not patterns:
                self.add_error("service_patterns", _("Un service CAS a besoin d'au moins une adresse de service autorisée."))
            elif access_url and acceptable_url(access_url) and not matches(patterns, access_url):
                self.add_error("access_url", _("L'adresse d'accès doit faire partie des adresses de service autorisées."))
        logout_url = data.get("logout_url") or ""
        if logout_url and not acceptable_url(logout_url):
            self.add_error("logout_url", _("Adresse refusée : https:// obligatoire (http:// seulement pour 127.0.0.1 ou localhost)."))
        return data


@admin.register(Service)
class ServiceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = ServiceForm
    list_display = ["name", column("etablissement"), "protocol", "access_url", "show_tile", "active"]
    list_filter = ["protocol", "active", "show_tile"]
    search_fields = ["name", "access_url"]
    fieldsets = [
        (None, {"fields": ["etablissement", "name", "description", "protocol", "access_url", "show_tile", "active"]}),
        (gettext_lazy("Qui y accède, et ce qu'il reçoit"), {"fields": ["allowed_profiles", "released_attributes", "attribute_profile"]}),
        (gettext_lazy("CAS"), {"fields": ["service_patterns", "proxy_allowed", "single_logout", "logout_url"]}),
    ]
