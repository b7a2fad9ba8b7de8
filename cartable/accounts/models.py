"""Accounts: the login of a directory person, with an identifier that never changes.

An account is created for every imported person who may log in (pupils, legal representatives,
staff), with an unusable password. Provisional credentials are issued when a letter is produced
(`services.issue_provisional_credentials`): the password exists in clear only on that letter and
is stored hashed, so the secretariat chooses when the activation deadline starts to run.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra) -> User:
        user = self.model(username=username, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("activated_at", timezone.now())
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    username = models.CharField(
        _("identifiant"),
        max_length=80,
        unique=True,
        help_text=_("Attribué à la création du compte ; il ne change jamais."),
    )
    person = models.OneToOneField(
        "directory.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="account"
    )
    email = models.EmailField(_("adresse électronique personnelle"), blank=True)
    email_verified = models.BooleanField(_("adresse vérifiée"), default=False)
    is_staff = models.BooleanField(
        _("accès à la console"), default=False, help_text=_("Peut se connecter à la console de gestion.")
    )
    is_active = models.BooleanField(_("actif"), default=True)
    date_joined = models.DateTimeField(_("créé le"), default=timezone.now)
    credentials_issued_at = models.DateTimeField(_("identifiants provisoires émis le"), null=True, blank=True)
    activated_at = models.DateTimeField(_("activé le"), null=True, blank=True)
    mobile = models.CharField(
        _("téléphone portable vérifié"), max_length=20, blank=True, help_text=_("Au format international (+33…).")
    )
    deactivated_at = models.DateTimeField(_("désactivé le"), null=True, blank=True)
    deactivation_reason = models.CharField(_("motif de désactivation"), max_length=30, blank=True)
    # Regroupement: a parent's second account, closed and merged into the one they keep. Its
    # person stays attached (the importer keeps finding an account for it), and its children,
    # messages and history now belong to `merged_into` (cartable.merging).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="absorbed_accounts",
        verbose_name=_("regroupé dans le compte"),
    )

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = []  # type: ignore[var-annotated]

    class Meta:
        verbose_name = _("compte")
        verbose_name_plural = _("comptes")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username

    def save(self, *args, **kwargs) -> None:
        # The identifier is printed on letters and known to partner services: it never changes.
        update_fields = kwargs.get("update_fields")
        if self.pk is not None and (update_fields is None or "username" in update_fields):
            old = type(self).objects.filter(pk=self.pk).values_list("username", flat=True).first()
            if old is not None and old != self.username:
                raise ValidationError(_("L'identifiant d'un compte ne peut pas être modifié."))
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.person.full_name if self.person is not None else self.username

    def get_short_name(self) -> str:
        return self.person.first_name if self.person is not None else self.username

    @property
    def is_activated(self) -> bool:
        return self.activated_at is not None

    @property
    def activation_deadline(self) -> datetime.datetime | None:
        """Provisional credentials stop working after this instant (None: none issued)."""
        if self.credentials_issued_at is None:
            return None
        return self.credentials_issued_at + datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS)


class AuditEvent(models.Model):
    """An append-only line saying who did what to which account (kept when accounts are erased)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=50)
    target_username = models.CharField(max_length=80, blank=True, db_index=True)
    etablissement_uai = models.CharField(max_length=8, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("événement d'audit")
        verbose_name_plural = _("journal d'audit")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_username}"


class Confirmation(models.Model):
    """One row per link or code sent to a person (Zulip's single confirmation model).

    Only a keyed digest of the token is stored (`cartable.accounts.tokens`): a copy of the
    database does not give working links. Each row is single use (`used_at`) and expires
    (`expires_at`); codes also count their wrong tries (`attempts`).
    """

    class Kind(models.TextChoices):
        ACTIVATION_EMAIL = "activation_email", _("vérification de l'adresse à l'activation")
        EMAIL_CHANGE = "email_change", _("vérification d'une nouvelle adresse")
        PASSWORD_RESET = "password_reset", _("réinitialisation du mot de passe (lien)")
        PASSWORD_RESET_SMS = "password_reset_sms", _("réinitialisation du mot de passe (code SMS)")
        PHONE_CODE = "phone_code", _("code SMS de vérification du téléphone")
        REGISTRATION_CODE = "registration_code", _("code SMS d'inscription (je n'ai pas de compte)")

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="confirmations")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    digest = models.CharField(max_length=64, unique=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("lien ou code de confirmation")
        verbose_name_plural = _("liens et codes de confirmation")
        indexes = [models.Index(fields=["user", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.user}"


class SecretAnswer(models.Model):
    """One of the two secret questions chosen when no e-mail address is given (answer hashed)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="secret_answers")
    question = models.PositiveSmallIntegerField(_("question"))  # index into accounts.questions.QUESTIONS
    answer_hash = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("question secrète")
        verbose_name_plural = _("questions secrètes")
        constraints = [models.UniqueConstraint(fields=["user", "question"], name="secret_answer_unique_question")]

    def __str__(self) -> str:
        return f"{self.user} — {self.question}"


class Charter(models.Model):
    """The ENT's charter (CGU), versioned: a new version is asked again at the next login."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    title = models.CharField(_("titre"), max_length=200, default=_("Charte d'utilisation de l'ENT"))
    text = models.TextField(_("texte"))
    published_at = models.DateTimeField(_("publiée le"), default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("charte")
        verbose_name_plural = _("chartes")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    @classmethod
    def current(cls) -> Charter | None:
        return cls.objects.filter(published_at__lte=timezone.now()).order_by("-version").first()


class CharterAcceptance(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="charter_acceptances")
    charter = models.ForeignKey(Charter, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("acceptation de la charte")
        verbose_name_plural = _("acceptations de la charte")
        constraints = [models.UniqueConstraint(fields=["user", "charter"], name="charter_acceptance_unique")]

    def __str__(self) -> str:
        return f"{self.user} v{self.charter.version}"


class ExternalIdentity(models.Model):
    """An account's identity at a national provider (FranceConnect): its `sub` logs straight in.

    Created once the person has proved, on first use, that the account is theirs (SMS code to
    the number the school recorded and their children's birth dates: cartable.registration).
    """

    class Provider(models.TextChoices):
        FRANCECONNECT = "franceconnect", _("FranceConnect")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="external_identities")
    provider = models.CharField(_("fournisseur"), max_length=30, choices=Provider.choices)
    subject = models.CharField(_("identifiant chez le fournisseur (sub)"), max_length=255)
    linked_at = models.DateTimeField(_("lié le"), default=timezone.now)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)

    class Meta:
        verbose_name = _("identité externe")
        verbose_name_plural = _("identités externes")
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="external_identity_unique_subject"),
            models.UniqueConstraint(fields=["user", "provider"], name="external_identity_one_per_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} — {self.user}"
