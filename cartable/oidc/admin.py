"""OpenID Connect clients in the staff console, in French.

DOT's own admin screens (English, every field) are replaced: a client here is always an
authorization-code client with PKCE, RS256-signed ID tokens and a secret hashed at rest (shown
once, on the creation form). Superusers manage every client; a secretary manages the clients of
her établissement, through the service registry's link (`sso.Service.oidc_application`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application, Grant, IDToken, RefreshToken

from cartable.directory.scoping import managed_etablissements
from cartable.sso.models import Service

from .models import Consent

for model in (Application, AccessToken, Grant, IDToken, RefreshToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class ClientForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = [
            "name", "client_type", "client_secret", "redirect_uris", "post_logout_redirect_uris", "skip_authorization"
        ]
        labels = {
            "name": _("Nom du service"),
            "client_type": _("Type de client"),
            "client_secret": _("Secret du client"),
            "redirect_uris": _("Adresses de retour (redirect_uri)"),
            "post_logout_redirect_uris": _("Adresses de retour après déconnexion"),
            "skip_authorization": _("Service de confiance"),
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

    service = forms.ModelChoiceField(
        label=_("Service du registre"),
        queryset=Service.objects.none(),
        required=False,
        help_text=_(
            "L'entrée « OpenID Connect » du registre des services partenaires que ce client sert "
            "(son établissement, ses profils autorisés, sa tuile). Sans service : ouvert à tous les "
            "comptes (réservé à l'administration de l'ENT, par exemple l'application mobile)."
        ),
    )
    user: Any = None  # the console user, set by ClientAdmin.get_form

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = getattr(self.instance, "sso_service", None) if self.instance.pk else None
        services = Service.objects.filter(
            protocol=Service.Protocol.OIDC, etablissement__in=managed_etablissements(self.user)
        ).filter(Q(oidc_application__isnull=True) | Q(pk=getattr(current, "pk", None)))
        self.fields["service"].queryset = services  # type: ignore[attr-defined]
        self.fields["service"].initial = current
        if not (self.user is not None and self.user.is_superuser):
            self.fields["service"].required = True  # a secretary's client belongs to her établissement
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
            client.client_secret = ""  # a public client proves nothing with a secret: PKCE only
            client.hash_client_secret = False  # (DOT would store a digest of the empty string)
        if commit:
            client.save()
            self.save_service(client)
        return client

    def save_service(self, client: Application) -> None:
        """Link the chosen registry entry to this client (and unlink a previous one)."""
        chosen = self.cleaned_data.get("service")
        previous = Service.objects.filter(oidc_application=client)
        if chosen is not None:
            previous = previous.exclude(pk=chosen.pk)
        previous.update(oidc_application=None)
        if chosen is not None and chosen.oidc_application_id != client.pk:
            chosen.oidc_application = client
            chosen.save(update_fields=["oidc_application"])


def clients_managed_by(user) -> QuerySet[Application]:
    """The clients `user` may see in the console (module docstring)."""
    if user.is_active and user.is_superuser:
        return Application.objects.all()
    return Application.objects.filter(sso_service__etablissement__in=managed_etablissements(user))


@admin.register(Application)
class ClientAdmin(admin.ModelAdmin):
    form = ClientForm
    # DOT's field names are English: every column and read-only field is labelled here.
    list_display = ["service_name", "identifier", "kind", "trusted"]
    search_fields = ["name", "client_id"]
    readonly_fields = ["identifier"]

    @admin.display(description=_("service"), ordering="name")
    def service_name(self, obj: Application) -> str:
        return obj.name

    @admin.display(description=_("identifiant du client (client_id)"))
    def identifier(self, obj: Application) -> str:
        return obj.client_id

    @admin.display(description=_("type de client"))
    def kind(self, obj: Application) -> str:
        return str(_("public") if obj.client_type == Application.CLIENT_PUBLIC else _("confidentiel"))

    @admin.display(description=_("service de confiance"), boolean=True)
    def trusted(self, obj: Application) -> bool:
        return obj.skip_authorization

    def get_fields(self, request: HttpRequest, obj: Application | None = None):  # type: ignore[override]
        fields = [*ClientForm.Meta.fields, "service"]
        if obj is not None:
            fields.remove("client_secret")  # only its digest is stored: nothing to show
        return ["identifier", *fields] if obj is not None else fields

    def get_form(self, request: HttpRequest, obj: Application | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type("BoundClientForm", (form,), {"user": request.user})

    def save_model(self, request: HttpRequest, obj: Application, form: ClientForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        form.save_service(obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Application]:
        return clients_managed_by(request.user)

    def _in_scope(self, request: HttpRequest, obj: Application | None) -> bool:
        if request.user.is_superuser:
            return True
        return obj is not None and clients_managed_by(request.user).filter(pk=obj.pk).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or managed_etablissements(request.user).exists()

    def has_view_permission(self, request: HttpRequest, obj: Application | None = None) -> bool:
        return self._in_scope(request, obj) if obj is not None else self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Application | None = None) -> bool:
        return self.has_view_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Application | None = None) -> bool:
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ["user", "application", "scope", "granted_at"]
    search_fields = ["user__username", "application__name"]
    raw_id_fields = ["user"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
