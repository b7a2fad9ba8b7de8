"""The service registry and the CAS tickets.

`Service` is one partner tool an établissement opens to its users (Pronote, the CDI catalogue…):
which URLs may receive tickets, which attributes it receives, for which profiles, whether it
shows as a tile on the home page. The OpenID Connect provider (cartable.oidc) links its clients
to a Service of protocol "oidc" in a later migration, so the tile, the profiles and the scoping
to the établissement stay in one registry for both protocols.

`Ticket` keeps every CAS ticket as an HMAC digest (accounts.tokens.digest): a copy of the table
does not give usable tickets, and a lookup is still one indexed query.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cartable.accounts.models import User
from cartable.directory.models import Etablissement, Profile

from .patterns import parse_patterns, validate_patterns


class Attribute(models.TextChoices):
    """Attributes a service may receive (each released only when ticked, never by default)."""

    UID = "uid", _("Identifiant (uid)")
    NOM = "nom", _("Nom")
    PRENOM = "prenom", _("Prénom")
    DATE_NAISSANCE = "dateNaissance", _("Date de naissance (JJ/MM/AAAA)")
    PROFILS = "profils", _("Profils dans l'établissement")
    UAI = "uai", _("UAI de l'établissement")
    CLASSES = "classes", _("Classes (de l'élève, ou enseignées)")
    ENFANTS = "enfants", _("Enfants d'un parent (leurs identifiants)")


class AttributeProfile(models.TextChoices):
    NONE = "", _("Aucun")
    PRONOTE = "pronote", _("Pronote (nom, prenom, dateNaissance, codePostal, categories)")


class Service(models.Model):
    class Protocol(models.TextChoices):
        CAS = "cas", _("CAS")
        OIDC = "oidc", _("OpenID Connect")

    etablissement = models.ForeignKey(
        Etablissement, on_delete=models.CASCADE, related_name="sso_services", verbose_name=_("établissement")
    )
    name = models.CharField(_("nom"), max_length=100, help_text=_("Titre de la tuile : « Pronote », « Le CDI »…"))
    description = models.CharField(
        _("description"), max_length=300, blank=True, help_text=_("Une phrase sous le titre de la tuile.")
    )
    protocol = models.CharField(_("protocole"), max_length=10, choices=Protocol.choices, default=Protocol.CAS)
    access_url = models.URLField(
        _("adresse d'accès"),
        max_length=2000,
        help_text=_("Ce qu'ouvre la tuile. En CAS, c'est l'adresse « service » envoyée au serveur CAS."),
    )
    service_patterns = models.TextField(
        _("adresses de service autorisées (CAS)"),
        blank=True,
        validators=[validate_patterns],
        help_text=_(
            "Une adresse par ligne : une adresse exacte, ou un préfixe terminé par * "
            "(https://pronote.exemple.fr/pronote/*). https:// obligatoire."
        ),
    )
    released_attributes = models.JSONField(_("attributs transmis"), default=list, blank=True)
    attribute_profile = models.CharField(
        _("profil d'attributs"), max_length=20, choices=AttributeProfile.choices, default="", blank=True
    )
    allowed_profiles = models.JSONField(_("profils autorisés"), default=list)
    single_logout = models.BooleanField(
        _("déconnexion unique"), default=False, help_text=_("Prévenir le service quand l'utilisateur se déconnecte.")
    )
    logout_url = models.URLField(
        _("adresse de déconnexion unique"),
        max_length=2000,
        blank=True,
        help_text=_("Reçoit la requête de déconnexion (POST). Vide : l'adresse du service qui a reçu le ticket."),
    )
    proxy_allowed = models.BooleanField(
        _("mandataire (proxy) autorisé"),
        default=False,
        help_text=_("Le service peut obtenir des tickets pour d'autres services en votre nom."),
    )
    # Protocol "oidc": the service's client at the OpenID Connect provider (cartable.oidc).
    oidc_application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="sso_service", verbose_name=_("client OpenID Connect"),
    )
    show_tile = models.BooleanField(_("afficher une tuile"), default=True)
    active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("service partenaire")
        verbose_name_plural = _("services partenaires")
        ordering = ["etablissement__name", "name"]
        indexes = [models.Index(fields=["etablissement", "active"])]

    def __str__(self) -> str:
        return self.name

    @property
    def patterns(self) -> list[str]:
        return parse_patterns(self.service_patterns)

    def allows_profiles(self, profiles: set[str]) -> bool:
        return bool(profiles & set(self.allowed_profiles or []))

    def profile_labels(self) -> list[str]:
        labels = dict(Profile.choices)
        return [str(labels.get(p, p)) for p in self.allowed_profiles or []]


class Ticket(models.Model):
    """A CAS ticket; only its digest is stored (the module docstring says why)."""

    class Kind(models.TextChoices):
        SERVICE = "ST", _("ticket de service")
        PROXY = "PT", _("ticket de mandataire")
        PROXY_GRANTING = "PGT", _("ticket d'octroi de mandataire")

    kind = models.CharField(max_length=3, choices=Kind.choices)
    digest = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="tickets")
    # ST/PT: the exact `service` URL the ticket was issued for. PGT: its pgtUrl callback.
    url = models.TextField()
    # The Cartable session that obtained the ticket: logout kills its PGTs and sends single logout.
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    primary = models.BooleanField(default=False)  # issued on a presentation of the password (renew)
    # PT: the PGT it came from. PGT: the ST or PT whose validation created it.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    # PGT: the chain of proxies, most recent first (the <cas:proxies> of its PTs).
    proxies = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)  # ST/PT: validated (or voided); PGT: dead
    # ST, once validated by a service with single logout: the (now useless) ticket, which the
    # SAML LogoutRequest must name as SessionIndex.
    logout_index = models.CharField(max_length=80, blank=True)

    class Meta:
        verbose_name = _("ticket CAS")
        verbose_name_plural = _("tickets CAS")
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"
