"""Staff console (Django admin at /console/) for the directory, scoped to the user's établissements.

The scoping rule, applied by `ScopedAdminMixin` to every screen:

- a superuser sees and manages everything;
- any other console user (`is_staff`) sees and manages only the rows belonging to the
  établissements returned by `managed_etablissements(user)`: list querysets, foreign-key and
  many-to-many choices, list filters, inlines and object-level permissions. An object outside the
  scope answers 404 (the same as a missing one, so ids cannot be probed), never its data;
- those users need no Django model permission: console access follows the directory (direction
  and secrétariat memberships, see `services.sync_staff_access`), so the permissions are granted
  here, by the scope, rather than assigned by hand to each secretary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.models import Group as AuthGroup
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.debug import sensitive_variables

from cartable.accounts.letters import LetterBatch, issue_letters, letter_recipients, letters_filename
from cartable.accounts.models import AuditEvent, User

from .models import (
    Division,
    Etablissement,
    Group,
    Guardianship,
    Membership,
    Person,
    Profile,
    Subject,
)
from .scoping import managed_etablissements

admin.site.site_header = gettext_lazy("Cartable — console de gestion")
admin.site.site_title = gettext_lazy("Console Cartable")
admin.site.index_title = gettext_lazy("Gestion de l'établissement")
# Console access follows the directory, not Django groups and permissions (module docstring):
# the auth groups screen would only suggest a second, unused way of granting rights.
if admin.site.is_registered(AuthGroup):
    admin.site.unregister(AuthGroup)


# --- The scope -------------------------------------------------------------------------------


class _Scope:
    """The établissements a request's user manages, computed once per request."""

    def __init__(self, request: HttpRequest) -> None:
        user = request.user
        self.everything = bool(user.is_active and user.is_superuser)
        etabs = list(managed_etablissements(user).values_list("pk", "uai")) if not self.everything else []
        self.ids = frozenset(pk for pk, _uai in etabs)
        self.uais = frozenset(uai for _pk, uai in etabs)

    @property
    def is_console_user(self) -> bool:
        return self.everything or bool(self.ids)


def scope_of(request: HttpRequest) -> _Scope:
    scope = getattr(request, "_cartable_scope", None)
    if scope is None:
        scope = _Scope(request)
        request._cartable_scope = scope  # type: ignore[attr-defined]
    return scope


def managed_for(request: HttpRequest) -> list[Etablissement] | None:
    """The user's établissements as objects, or None for a superuser (no restriction)."""
    scope = scope_of(request)
    return None if scope.everything else list(Etablissement.objects.filter(pk__in=scope.ids))


def _current_people(ids: frozenset[int]) -> QuerySet[Membership, dict[str, Any]]:
    # People are in scope through a *current* membership: once a pupil has left for another
    # school, the old school no longer sees the shared record (contacts, e-mail) as it changes.
    return Membership.objects.current().filter(etablissement_id__in=ids).values("person_id")


def _by_etablissement(qs: QuerySet, scope: _Scope) -> QuerySet:
    return qs.filter(etablissement_id__in=scope.ids)


def _accounts(qs: QuerySet, scope: _Scope) -> QuerySet:
    # A superuser's account is never within a secretary's reach, even with a membership here:
    # resetting it would hand over every établissement.
    return qs.filter(person_id__in=_current_people(scope.ids), is_superuser=False)


SCOPES: dict[type[models.Model], Callable[[QuerySet, _Scope], QuerySet]] = {
    Etablissement: lambda qs, scope: qs.filter(pk__in=scope.ids),
    Division: _by_etablissement,
    Group: _by_etablissement,
    Membership: _by_etablissement,
    Guardianship: _by_etablissement,
    Person: lambda qs, scope: qs.filter(pk__in=_current_people(scope.ids)),
    User: _accounts,
    AuditEvent: lambda qs, scope: qs.filter(etablissement_uai__in=scope.uais),
}


def scope_queryset(qs: QuerySet, request: HttpRequest) -> QuerySet:
    """`qs` narrowed to what the request's user may see (unchanged for a superuser or Subject)."""
    scope = scope_of(request)
    if scope.everything:
        return qs
    if not scope.ids:
        return qs.none()
    rule = SCOPES.get(qs.model)
    return rule(qs, scope) if rule is not None else qs


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    """A PDF download that no browser or proxy keeps: the letters carry clear passwords."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)
    return response


def printable_accounts(request: HttpRequest, users: list[User]) -> tuple[list[User], list[User]]:
    """Split `users` into those this console user may print letters for, and console accounts.

    The list is narrowed to the scope again (a selection may come from a crafted POST). A
    non-superuser never prints a letter for an account with console access, her own included:
    the new password would let her act as a colleague; a superuser does it.
    """
    allowed = set(scope_queryset(User.objects.filter(pk__in=[u.pk for u in users]), request).values_list("pk", flat=True))
    users = [u for u in users if u.pk in allowed]
    if scope_of(request).everything:
        return users, []
    return [u for u in users if not u.is_staff], [u for u in users if u.is_staff]


def letters_message(batch: LetterBatch, console_accounts: list[User]) -> str:
    text = batch.summary
    if console_accounts:
        text += " " + ngettext(
            "%(count)d compte de la console ignoré (à demander à un administrateur).",
            "%(count)d comptes de la console ignorés (à demander à un administrateur).",
            len(console_accounts),
        ) % {"count": len(console_accounts)}
    return text


# Foreign keys of the directory models carry no verbose_name, so Django would print the English
# field names ("guardian", "pupil") in forms and column headers.
FIELD_LABELS = {
    "etablissement": gettext_lazy("établissement"),
    "person": gettext_lazy("personne"),
    "pupil": gettext_lazy("élève"),
    "guardian": gettext_lazy("responsable"),
}


def column(name: str) -> Callable[[Any], str]:
    """A list column for a foreign key, with its French header."""

    @admin.display(description=FIELD_LABELS[name], ordering=name)
    def show(obj: Any) -> str:
        value = getattr(obj, name)
        return str(value) if value is not None else "—"

    show.__name__ = f"{name}_column"
    return show


class _ScopedFormfields:
    """Foreign-key and many-to-many choices limited to the scope (and labelled in French)."""

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        untitled = db_field.verbose_name == db_field.name.replace("_", " ")
        if formfield is not None and untitled and db_field.name in FIELD_LABELS:
            formfield.label = capfirst(FIELD_LABELS[db_field.name])
        return formfield

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model in SCOPES and "queryset" not in kwargs:
            kwargs["queryset"] = scope_queryset(db_field.related_model._default_manager.all(), request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model in SCOPES and "queryset" not in kwargs:
            kwargs["queryset"] = scope_queryset(db_field.related_model._default_manager.all(), request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


class ScopedAdminMixin(_ScopedFormfields):
    """Querysets, choices and permissions of a ModelAdmin limited to the user's établissements."""

    # Set False on a screen that non-superusers may only read.
    staff_can_edit = True
    staff_can_add = True
    staff_can_delete = True

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope_queryset(super().get_queryset(request), request)  # type: ignore[misc]

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if obj is None:
            # Django would redirect to the index with "does not exist": a plain 404 says the same
            # for a missing object and for another établissement's one.
            raise Http404(_("Cet objet n'existe pas ou ne relève pas de votre établissement."))
        return obj

    def in_scope(self, request: HttpRequest, obj: models.Model | None) -> bool:
        if obj is None or scope_of(request).everything:
            return True
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        if request.user.is_superuser:
            return super().has_module_permission(request)  # type: ignore[misc]
        return request.user.is_active and request.user.is_staff and scope_of(request).is_console_user

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if request.user.is_superuser:
            return super().has_view_permission(request, obj)  # type: ignore[misc]
        return self.has_module_permission(request) and self.in_scope(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if request.user.is_superuser:
            return super().has_change_permission(request, obj)  # type: ignore[misc]
        return self.staff_can_edit and self.has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        if request.user.is_superuser:
            return super().has_add_permission(request, *args)  # type: ignore[misc]
        return self.staff_can_add and self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if request.user.is_superuser:
            return super().has_delete_permission(request, obj)  # type: ignore[misc]
        return self.staff_can_delete and self.has_view_permission(request, obj)


class ScopedInlineMixin(_ScopedFormfields):
    """Inline rows limited to the scope; permissions follow the parent screen's."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope_queryset(super().get_queryset(request), request)  # type: ignore[misc]

    def _allowed(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and scope_of(request).is_console_user

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or self._allowed(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or self._allowed(request)


def related_only(field: str) -> tuple[str, type[admin.RelatedOnlyFieldListFilter]]:
    # The plain related filter lists every row of the related table (every établissement's
    # classes); this one lists only the values present in the scoped queryset.
    return (field, admin.RelatedOnlyFieldListFilter)


# --- List filters ----------------------------------------------------------------------------


class ProfileFilter(admin.SimpleListFilter):
    """People (or accounts) by current profile, counting only the user's établissements."""

    title = gettext_lazy("profil")
    parameter_name = "profil"
    person_field = "pk"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, str(label)) for value, label in Profile.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        memberships = scope_queryset(Membership.objects.current(), request).filter(profile=self.value())
        return queryset.filter(**{f"{self.person_field}__in": memberships.values("person_id")})


class DivisionFilter(admin.SimpleListFilter):
    """Pupils of one class of the current school year (a class's families: see the class screen)."""

    title = gettext_lazy("classe")
    parameter_name = "classe"
    person_field = "pk"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        divisions = scope_queryset(Division.objects.select_related("etablissement"), request).filter(
            year=models.F("etablissement__current_year")
        )
        several = len({d.etablissement_id for d in divisions}) > 1
        return [
            (str(d.pk), f"{d} ({d.etablissement.uai})" if several else str(d))
            for d in divisions.order_by("etablissement__name", "code")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        pupils = scope_queryset(Membership.objects.current(), request).filter(
            profile=Profile.ELEVE, division_id=self.value()
        )
        return queryset.filter(**{f"{self.person_field}__in": pupils.values("person_id")})


# --- Établissements, classes, groups, subjects ------------------------------------------------


@admin.register(Etablissement)
class EtablissementAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "uai", "kind", "current_year", "ent_url", "support_contact"]
    search_fields = ["name", "uai"]
    list_filter = ["kind"]
    # Only a superuser creates or removes an établissement, or changes its UAI (the key every
    # import and audit line refers to).
    staff_can_add = False
    staff_can_delete = False
    # An ENT address typed without a scheme is an https one (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if request.user.is_superuser else ["uai", "kind", "academie"]


class MembershipForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        etab = data.get("etablissement") or getattr(self.instance, "etablissement", None)
        division = data.get("division")
        if etab is not None and division is not None and division.etablissement_id != etab.pk:
            raise ValidationError({"division": _("Cette classe appartient à un autre établissement.")})
        for group in data.get("groups") or []:
            if etab is not None and group.etablissement_id != etab.pk:
                raise ValidationError({"groups": _("Le groupe %(group)s appartient à un autre établissement.") % {"group": group}})
        return data


@admin.register(Division)
class DivisionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "label", "year", column("etablissement"), "pupil_count"]
    list_filter = ["year", related_only("etablissement")]
    search_fields = ["code", "label"]
    ordering = ["etablissement__name", "-year", "code"]
    autocomplete_fields = ["main_teachers"]
    actions = ["print_class_letters"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("etablissement")
            .annotate(_pupils=Count("pupils", filter=Q(pupils__departed_at__isnull=True, pupils__profile=Profile.ELEVE)))
        )

    @admin.display(description=gettext_lazy("élèves"), ordering="_pupils")
    def pupil_count(self, obj: Division) -> int:
        return getattr(obj, "_pupils", 0)

    AUDIENCES = {
        "both": (Profile.ELEVE, Profile.RESPONSABLE),
        "eleves": (Profile.ELEVE,),
        "parents": (Profile.RESPONSABLE,),
    }

    @admin.action(description=gettext_lazy("Imprimer les lettres de la classe"))
    @sensitive_variables()
    def print_class_letters(self, request: HttpRequest, queryset: QuerySet[Division]) -> HttpResponse | None:
        """Letters for the pupils and/or legal representatives of the selected classes.

        A confirmation page first asks for whom; accounts already activated are skipped.
        """
        divisions = list(queryset.select_related("etablissement"))
        audience = request.POST.get("audience", "")
        if request.POST.get("confirm") != "yes" or audience not in self.AUDIENCES:
            return self._confirm_class_letters(request, divisions)
        profiles = self.AUDIENCES[audience]
        users: dict[int, User] = {}
        for division in divisions:
            for user in letter_recipients(division.etablissement, division=division, profiles=profiles):
                users.setdefault(user.pk, user)
        printable, console_accounts = printable_accounts(request, list(users.values()))
        batch = issue_letters(
            printable,
            actor=request.user if isinstance(request.user, User) else None,
            etablissements=managed_for(request) or [d.etablissement for d in divisions],
        )
        if not batch.printed:
            self.message_user(
                request,
                letters_message(batch, console_accounts),
                messages.WARNING,
            )
            return None
        self.message_user(request, letters_message(batch, console_accounts), messages.SUCCESS)
        etab = divisions[0].etablissement if len({d.etablissement_id for d in divisions}) == 1 else None
        label = divisions[0].code if len(divisions) == 1 else ""
        return pdf_response(batch.pdf, letters_filename(etab, label=label))

    def _confirm_class_letters(self, request: HttpRequest, divisions: list[Division]) -> TemplateResponse:
        rows = []
        for division in divisions:
            pupils = letter_recipients(division.etablissement, division=division, profiles=[Profile.ELEVE])
            parents = letter_recipients(division.etablissement, division=division, profiles=[Profile.RESPONSABLE])
            rows.append(
                {
                    "division": division,
                    "pupils": pupils.count(),
                    "pupils_waiting": pupils.filter(activated_at__isnull=True).count(),
                    "parents": parents.count(),
                    "parents_waiting": parents.filter(activated_at__isnull=True).count(),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Imprimer les lettres de la classe"),
            "opts": self.model._meta,
            "rows": rows,
            "divisions": divisions,
            "action": "print_class_letters",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "audiences": [
                ("both", _("Élèves et représentants légaux")),
                ("eleves", _("Élèves seulement")),
                ("parents", _("Représentants légaux seulement")),
            ],
        }
        return TemplateResponse(request, "admin/directory/division/print_letters.html", context)


@admin.register(Group)
class GroupAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "label", "year", column("etablissement")]
    list_filter = ["year", related_only("etablissement")]
    search_fields = ["code", "label"]
    filter_horizontal = ["divisions"]


@admin.register(Subject)
class SubjectAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The national nomenclature: shared by every établissement, so only a superuser edits it."""

    list_display = ["code", "short_code", "label"]
    search_fields = ["code", "short_code", "label"]
    staff_can_edit = staff_can_add = staff_can_delete = False


# --- People, memberships, guardianships -------------------------------------------------------


class MembershipInline(ScopedInlineMixin, admin.TabularInline):
    model = Membership
    form = MembershipForm
    extra = 0
    fields = ["etablissement", "profile", "function", "division", "groups", "departed_at"]

    def get_min_num(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int | None:
        # A secretary sees people through their memberships: a person she creates without one
        # would vanish from her console at once.
        return None if request.user.is_superuser else 1

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("validate_min", not request.user.is_superuser)
        return super().get_formset(request, obj, **kwargs)


class GuardiansInline(ScopedInlineMixin, admin.TabularInline):
    model = Guardianship
    fk_name = "pupil"
    extra = 0
    verbose_name = gettext_lazy("responsable")
    verbose_name_plural = gettext_lazy("responsables (de cet élève)")
    autocomplete_fields = ["guardian"]
    fields = ["guardian", "etablissement", "level", "relationship", "pays_fees", "lives_with", "contact_first"]


class ChildrenInline(ScopedInlineMixin, admin.TabularInline):
    model = Guardianship
    fk_name = "guardian"
    extra = 0
    verbose_name = gettext_lazy("enfant")
    verbose_name_plural = gettext_lazy("enfants (dont cette personne est responsable)")
    autocomplete_fields = ["pupil"]
    fields = ["pupil", "etablissement", "level", "relationship", "pays_fees", "lives_with", "contact_first"]


@admin.register(Person)
class PersonAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["last_name", "first_name", "profiles", "account_link", "birth_date"]
    list_display_links = ["last_name", "first_name"]
    list_filter = [ProfileFilter, DivisionFilter]
    search_fields = ["last_name", "usage_name", "first_name", "account__username", "ine"]
    inlines = [MembershipInline, GuardiansInline, ChildrenInline]
    actions = ["create_missing_accounts"]
    fieldsets = [
        (None, {"fields": ["civility", "last_name", "usage_name", "first_name", "other_first_names", "birth_date", "sex", "ine"]}),
        (gettext_lazy("Coordonnées"), {"fields": ["email", "mobile", "phone_home", "phone_work", "accepts_sms"]}),
        (gettext_lazy("Compte"), {"fields": ["account_link"]}),
        (
            gettext_lazy("Origine (import)"),
            {"fields": ["origin_etablissement", "origin_source", "origin_id"], "classes": ["collapse"]},
        ),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The origin keys are how the next import recognises this person: edited by hand, the
        # import would create a duplicate.
        if request.user.is_superuser:
            return ["account_link"]
        return ["account_link", "origin_etablissement", "origin_source", "origin_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The profiles column shows only this console's établissements (prefetched, scoped).
        memberships = scope_queryset(Membership.objects.current(), request).select_related("division", "etablissement")
        return (
            super()
            .get_queryset(request)
            .select_related("account")
            .prefetch_related(Prefetch("memberships", queryset=memberships, to_attr="scoped_memberships"))
        )

    @admin.display(description=gettext_lazy("profils"))
    def profiles(self, obj: Person) -> str:
        return ", ".join(
            f"{m.get_profile_display()} {m.division}" if m.division_id else str(m.get_profile_display())
            for m in getattr(obj, "scoped_memberships", [])
        )

    @admin.display(description=gettext_lazy("identifiant"))
    def account_link(self, obj: Person) -> str:
        account = getattr(obj, "account", None)
        if account is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:accounts_user_change", args=[account.pk]), account.username)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A person shared with another établissement (a teacher in two collèges) is removed by
        # each import separately, never by one secretary for both.
        if not super().has_delete_permission(request, obj):
            return False
        if obj is None or request.user.is_superuser:
            return True
        ids = scope_of(request).ids
        return not (
            obj.memberships.exclude(etablissement_id__in=ids).exists()
            or Guardianship.objects.filter(Q(pupil=obj) | Q(guardian=obj)).exclude(etablissement_id__in=ids).exists()
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            # Bulk deletion would list (and try to delete) other établissements' memberships.
            actions.pop("delete_selected", None)
        return actions

    @admin.action(description=gettext_lazy("Créer les comptes manquants"))
    def create_missing_accounts(self, request: HttpRequest, queryset: QuerySet[Person]) -> None:
        from django.db import transaction

        from cartable.accounts.services import create_accounts

        with transaction.atomic():
            created = create_accounts(list(queryset))
        self.message_user(
            request,
            ngettext("%(count)d compte créé.", "%(count)d comptes créés.", len(created)) % {"count": len(created)},
            messages.SUCCESS,
        )


@admin.register(Membership)
class MembershipAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = MembershipForm
    list_display = [column("person"), "profile", column("etablissement"), "division", "function", "departed_at"]
    list_filter = ["profile", related_only("etablissement"), related_only("division"), ("departed_at", admin.EmptyFieldListFilter)]
    search_fields = ["person__last_name", "person__first_name", "person__account__username"]
    list_select_related = ["person", "etablissement", "division"]
    autocomplete_fields = ["person"]
    filter_horizontal = ["groups"]


@admin.register(Guardianship)
class GuardianshipAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [column("guardian"), column("pupil"), "level", "relationship", column("etablissement")]
    list_filter = ["level", "relationship", related_only("etablissement")]
    search_fields = ["guardian__last_name", "guardian__first_name", "pupil__last_name", "pupil__first_name"]
    list_select_related = ["guardian", "pupil", "etablissement"]
    autocomplete_fields = ["guardian", "pupil"]
