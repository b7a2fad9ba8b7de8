"""OpenID Connect clients in the staff console, in French.

DOT's own admin screens (English, every field) are replaced: a client here is always an
authorization-code client with PKCE, RS256-signed ID tokens and a secret hashed at rest (shown
once, on the creation form). Superusers manage every client; a secretary manages the clients of
her établissement, through the service registry's link (`sso.Service.oidc_application`).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application, Grant, IDToken, RefreshToken

from cartable.directory.scoping import managed_etablissements

from .models import Consent

for model in (Application, AccessToken, Grant, IDToken, RefreshToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class ClientForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = ["name", "client_type", "client_secret", "redirect_uris", "post_logout_redirect_uris", "skip_authorization"]
        labels = {
            "name": _("nom du service"),
            "client_type": _("type de client"),
            "client_secret": _("secret du client"),
            "redirect_uris": _("adresses de retour (redirect_uri)"),
            "post_logout_redirect_uris": _("adresses de retour après déconnexion"),
            "skip_authorization": _("service de confiance"),
        }
        help_texts = {
            "client_type": _(
                "« Confidentiel » : un serveur qui garde un secret. « Public » : une application mobile "
                "ou une page web, sans secret (PKCE seulement)."
            ),
            "client_secret": _(
                "Copiez ce secret maintenant et transmettez-le au service : il est enregistré sous "
                "forme d'empreinte et ne pourra plus être affiché."
            ),
            "redirect_uris": _("Une adresse par ligne, exactement celles que le service utilise."),
            "post_logout_redirect_uris": _("Une adresse par ligne (facultatif)."),
            "skip_authorization": _(
                "Service pré-approuvé par l'établissement : le consentement n'est pas demandé aux utilisateurs."
            ),
        }
        widgets = {"client_secret": forms.TextInput(attrs={"size": 70, "autocomplete": "off"})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client_type"].choices = [  # type: ignore[attr-defined]
            (Application.CLIENT_CONFIDENTIAL, _("Confidentiel (serveur)")),
            (Application.CLIENT_PUBLIC, _("Public (application mobile, sans secret)")),
        ]
        if self.instance.pk:
            self.fields.pop("client_secret", None)  # only its digest is stored
        else:
            self.fields["client_secret"].initial = generate_client_secret()
            self.fields["client_secret"].required = False

    def save(self, commit: bool = True) -> Application:
        client = super().save(commit=False)
        # Always an authorization-code client signing ID tokens with the provider's RSA key.
        client.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
        client.algorithm = Application.RS256_ALGORITHM
        client.hash_client_secret = True
        if client.client_type == Application.CLIENT_PUBLIC:
            client.client_secret = ""
        if commit:
            client.save()
        return client


def clients_managed_by(user) -> QuerySet[Application]:
    """The clients `user` may see in the console (module docstring)."""
    if user.is_active and user.is_superuser:
        return Application.objects.all()
    field = "sso_service"
    if not any(getattr(f, "name", None) == field for f in Application._meta.get_fields()):
        return Application.objects.none()  # no registry link yet: superusers only
    return Application.objects.filter(**{f"{field}__etablissement__in": managed_etablissements(user)})


@admin.register(Application)
class ClientAdmin(admin.ModelAdmin):
    form = ClientForm
    list_display = ["name", "client_id", "client_type", "skip_authorization"]
    search_fields = ["name", "client_id"]
    readonly_fields = ["client_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Application]:
        return clients_managed_by(request.user)

    def _in_scope(self, request: HttpRequest, obj: Application | None) -> bool:
        if request.user.is_superuser:
            return True
        return obj is not None and clients_managed_by(request.user).filter(pk=obj.pk).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or clients_managed_by(request.user).exists()

    def has_view_permission(self, request: HttpRequest, obj: Application | None = None) -> bool:
        return self._in_scope(request, obj) if obj is not None else self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Application | None = None) -> bool:
        return self.has_view_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Application | None = None) -> bool:
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A secretary adds her établissement's clients from the service registry.
        return request.user.is_superuser


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ["user", "application", "scope", "granted_at"]
    search_fields = ["user__username", "application__name"]
    raw_id_fields = ["user"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
