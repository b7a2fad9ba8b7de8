"""The school directory: établissements, their classes and groups, people and their profiles.

A `Person` is a human as one source knows them. Imports key persons on the source's own id
(`origin_*`: SIECLE ELEVE_ID, PERSONNE_ID, STS INDIVIDU@ID, CSV id) within one établissement and
never match on names or e-mail: two records of the same human are merged by a person
(regroupement), never silently by the importer. A `Membership` gives a person a profile in an
établissement; a person may hold several (a teacher who is also a parent, a teacher in two
collèges).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .uai import normalise_uai, validate_uai


def school_year_for(day: datetime.date | None = None) -> int:
    """First calendar year of the school year containing `day` (the year switches in August)."""
    day = day or timezone.localdate()
    return day.year if day.month >= 8 else day.year - 1


def school_year_label(start_year: int) -> str:
    return f"{start_year}-{start_year + 1}"


class Etablissement(models.Model):
    class Kind(models.TextChoices):
        ECOLE = "ecole", _("École")
        COLLEGE = "college", _("Collège")
        LYCEE = "lycee", _("Lycée")
        LYCEE_AGRICOLE = "lycee_agricole", _("Lycée agricole")

    uai = models.CharField(_("UAI"), max_length=8, unique=True, validators=[validate_uai])
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.COLLEGE)
    academie = models.CharField(_("académie"), max_length=100, blank=True)
    address = models.CharField(_("adresse postale"), max_length=300, blank=True)
    ent_url = models.URLField(
        _("adresse de l'ENT"), blank=True, help_text=_("Imprimée sur les lettres. Par défaut : l'adresse du site.")
    )
    support_contact = models.CharField(
        _("contact d'assistance"),
        max_length=200,
        blank=True,
        help_text=_("Adresse électronique ou téléphone à contacter en cas de difficulté (imprimé sur les lettres)."),
    )
    current_year = models.PositiveSmallIntegerField(
        _("année scolaire en cours"), default=school_year_for, help_text=_("Première année : 2026 pour 2026-2027.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("établissement")
        verbose_name_plural = _("établissements")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.uai})"

    def save(self, *args, **kwargs) -> None:
        self.uai = normalise_uai(self.uai)
        super().save(*args, **kwargs)

    @property
    def current_year_label(self) -> str:
        return school_year_label(self.current_year)

    @property
    def level(self) -> str:
        """Portal level (école, collège, lycée) of this établissement."""
        return "lycee" if self.kind == self.Kind.LYCEE_AGRICOLE else self.kind


class Subject(models.Model):
    """A subject (matière) from the national nomenclature, keyed on its 6-digit code."""

    code = models.CharField(_("code matière"), max_length=10, unique=True)
    short_code = models.CharField(_("code de gestion"), max_length=20, blank=True)
    label = models.CharField(_("libellé"), max_length=200)

    class Meta:
        verbose_name = _("matière")
        verbose_name_plural = _("matières")
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class Division(models.Model):
    """A class (division in SIECLE/STS): 6A, 2nde 3…"""

    etablissement = models.ForeignKey(
        Etablissement, on_delete=models.CASCADE, related_name="divisions", verbose_name=_("établissement")
    )
    year = models.PositiveSmallIntegerField(_("année scolaire"))
    # Codes are free text in SIECLE ("3 A", "301", "_301P1") and shared with STS: never normalised.
    code = models.CharField(_("code"), max_length=50)
    label = models.CharField(_("libellé"), max_length=200, blank=True)
    mef_code = models.CharField(_("code MEF"), max_length=11, blank=True)
    main_teachers: models.ManyToManyField[Person, Any] = models.ManyToManyField(
        "Person", blank=True, related_name="main_teacher_of", verbose_name=_("professeurs principaux")
    )

    class Meta:
        verbose_name = _("classe")
        verbose_name_plural = _("classes")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["etablissement", "year", "code"], name="division_unique_code"),
        ]

    def __str__(self) -> str:
        return self.label or self.code


class Group(models.Model):
    """A teaching group (groupe in SIECLE/STS): 6A_LATIN, a language group across classes…"""

    etablissement = models.ForeignKey(
        Etablissement, on_delete=models.CASCADE, related_name="groups", verbose_name=_("établissement")
    )
    year = models.PositiveSmallIntegerField(_("année scolaire"))
    code = models.CharField(_("code"), max_length=50)
    label = models.CharField(_("libellé"), max_length=200, blank=True)
    divisions = models.ManyToManyField(Division, blank=True, related_name="groups", verbose_name=_("classes"))

    class Meta:
        verbose_name = _("groupe")
        verbose_name_plural = _("groupes")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["etablissement", "year", "code"], name="group_unique_code"),
        ]

    def __str__(self) -> str:
        return self.label or self.code


class Profile(models.TextChoices):
    ELEVE = "eleve", _("Élève")
    RESPONSABLE = "responsable", _("Parent / responsable légal")
    ENSEIGNANT = "enseignant", _("Enseignant")
    DIRECTION = "direction", _("Personnel de direction")
    VIE_SCOLAIRE = "vie_scolaire", _("CPE / vie scolaire")
    SECRETARIAT = "secretariat", _("Secrétariat")
    PERSONNEL = "personnel", _("Autre personnel de l'établissement")
    COLLECTIVITE = "collectivite", _("Personnel de collectivité")
    INVITE = "invite", _("Invité")


# Profiles whose members manage their établissement in the staff console.
STAFF_CONSOLE_PROFILES = frozenset({Profile.DIRECTION, Profile.SECRETARIAT})


class Source(models.TextChoices):
    SIECLE_ELEVE = "siecle_eleve", _("SIECLE (élève)")
    SIECLE_PERSONNE = "siecle_personne", _("SIECLE (responsable)")
    STS = "sts", _("STS-web")
    CSV = "csv", _("Fichier CSV")
    MANUAL = "manual", _("Saisie manuelle")


class Person(models.Model):
    class Sex(models.TextChoices):
        MALE = "M", _("Masculin")
        FEMALE = "F", _("Féminin")

    # Who created this record, and under which id (see the module docstring).
    origin_etablissement = models.ForeignKey(
        Etablissement, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("établissement d'origine"),
    )
    origin_source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.MANUAL)
    origin_id = models.CharField(_("identifiant dans la source"), max_length=64, blank=True)

    civility = models.CharField(_("civilité"), max_length=10, blank=True)
    last_name = models.CharField(_("nom de famille"), max_length=150)
    usage_name = models.CharField(_("nom d'usage"), max_length=150, blank=True)
    first_name = models.CharField(_("prénom"), max_length=150)
    other_first_names = models.CharField(_("autres prénoms"), max_length=200, blank=True)
    birth_date = models.DateField(_("date de naissance"), null=True, blank=True)
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices, blank=True)
    ine = models.CharField(_("INE"), max_length=11, blank=True)
    email = models.EmailField(_("adresse électronique (source)"), blank=True)
    mobile = models.CharField(_("téléphone portable"), max_length=20, blank=True)
    phone_home = models.CharField(_("téléphone personnel"), max_length=20, blank=True)
    phone_work = models.CharField(_("téléphone professionnel"), max_length=20, blank=True)
    accepts_sms = models.BooleanField(_("accepte les SMS"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("personne")
        verbose_name_plural = _("personnes")
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["origin_etablissement", "origin_source", "origin_id"],
                condition=~Q(origin_id=""),
                name="person_unique_origin",
            ),
        ]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return self.full_name

    @property
    def display_last_name(self) -> str:
        return self.usage_name or self.last_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.display_last_name}".strip()


class MembershipQuerySet(models.QuerySet):
    def current(self) -> MembershipQuerySet:
        return self.filter(departed_at__isnull=True)


class Membership(models.Model):
    """A person's profile in an établissement (with the pupil's class, the staff's function)."""

    # On PostgreSQL, person, etablissement and division (and Guardianship's three, Person's
    # origin_etablissement) are checked per statement by triggers, not per row: migration 0004.
    # No single-column index on person or etablissement: the unique constraint (person, …) and
    # the (etablissement, profile) index serve those lookups, and every index costs each insert
    # of a large import (a 100,000-pupil import writes 280,000 memberships).
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("personne"), db_index=False
    )
    etablissement = models.ForeignKey(
        Etablissement, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("établissement"),
        db_index=False,
    )
    profile = models.CharField(_("profil"), max_length=20, choices=Profile.choices)
    function = models.CharField(
        _("fonction"), max_length=20, blank=True, help_text=_("Code FONCTION de STS-web (ENS, DIR, EDU…).")
    )
    division = models.ForeignKey(
        Division, null=True, blank=True, on_delete=models.SET_NULL, related_name="pupils", verbose_name=_("classe")
    )
    groups = models.ManyToManyField(Group, blank=True, related_name="members", verbose_name=_("groupes"))
    mef_code = models.CharField(_("code MEF"), max_length=11, blank=True)
    departed_at = models.DateTimeField(
        _("parti le"), null=True, blank=True, help_text=_("Absent du dernier import : compte conservé, marqué parti.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("rattachement")
        verbose_name_plural = _("rattachements")
        constraints = [
            models.UniqueConstraint(fields=["person", "etablissement", "profile"], name="membership_unique"),
        ]
        indexes = [models.Index(fields=["etablissement", "profile"])]

    def __str__(self) -> str:
        return f"{self.person} — {self.get_profile_display()} ({self.etablissement.uai})"


class Relationship(models.TextChoices):
    """CODE_PARENTE of SIECLE (Nomenclature LIENS_PARENTE)."""

    MERE = "10", _("Mère")
    PERE = "20", _("Père")
    FRATRIE = "37", _("Frère ou sœur")
    ASCENDANT = "38", _("Grand-parent")
    FAMILLE = "39", _("Autre membre de la famille")
    EDUCATEUR = "41", _("Éducateur")
    ASSISTANT_FAMILIAL = "42", _("Assistant familial")
    TUTEUR = "50", _("Tuteur")
    ASE = "51", _("Aide sociale à l'enfance")
    ELEVE = "70", _("L'élève lui-même")
    AUTRE = "90", _("Autre lien")


class Guardianship(models.Model):
    """A pupil ↔ responsable link (SIECLE RESPONSABLE_ELEVE)."""

    class Level(models.IntegerChoices):
        LEGAL = 1, _("Représentant légal")
        IN_CHARGE = 2, _("Personne en charge de l'élève")
        CONTACT = 3, _("Personne à contacter")

    # No index of its own: the unique constraint (pupil, guardian) serves lookups by pupil.
    pupil = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="guardian_links", verbose_name=_("élève"), db_index=False
    )
    guardian = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="child_links", verbose_name=_("responsable")
    )
    etablissement = models.ForeignKey(
        Etablissement, on_delete=models.CASCADE, related_name="+", verbose_name=_("établissement")
    )
    level = models.PositiveSmallIntegerField(_("niveau de responsabilité"), choices=Level.choices)
    relationship = models.CharField(_("lien de parenté"), max_length=2, blank=True, choices=Relationship.choices)
    pays_fees = models.BooleanField(_("paie les frais scolaires"), default=False)
    lives_with = models.BooleanField(_("héberge l'élève"), null=True, blank=True)
    contact_first = models.BooleanField(_("à contacter en priorité"), null=True, blank=True)

    class Meta:
        verbose_name = _("lien élève–responsable")
        verbose_name_plural = _("liens élève–responsable")
        constraints = [models.UniqueConstraint(fields=["pupil", "guardian"], name="guardianship_unique")]

    def __str__(self) -> str:
        return f"{self.guardian} → {self.pupil}"

    @property
    def is_legal(self) -> bool:
        return self.level == self.Level.LEGAL


class Teaching(models.Model):
    """A teacher teaches a subject to a class or a group (STS-web SERVICE)."""

    teacher = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="teachings", verbose_name=_("enseignant")
    )
    etablissement = models.ForeignKey(
        Etablissement, on_delete=models.CASCADE, related_name="+", verbose_name=_("établissement")
    )
    division = models.ForeignKey(
        Division, null=True, blank=True, on_delete=models.CASCADE, related_name="teachings", verbose_name=_("classe")
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="teachings", verbose_name=_("groupe")
    )
    subject = models.ForeignKey(
        Subject, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("matière")
    )

    class Meta:
        verbose_name = _("enseignement")
        verbose_name_plural = _("enseignements")
        constraints = [
            models.UniqueConstraint(fields=["teacher", "division", "group", "subject"], name="teaching_unique"),
            models.CheckConstraint(
                condition=Q(division__isnull=False) | Q(group__isnull=False), name="teaching_has_structure"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.teacher} — {self.subject or ''} {self.division or self.group}"
