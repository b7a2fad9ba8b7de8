"""Staff console screens for accounts and the audit trail (scoped like the directory's).

Accounts are created by imports (`services.create_accounts`), never here, and their identifier
never changes. The password hash is never shown: a forgotten or lost password is replaced by
printing a new letter, which the audit trail records.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from cartable.directory.admin import (
    DivisionFilter,
    ProfileFilter,
    ScopedAdminMixin,
    letters_message,
    managed_for,
    pdf_response,
    printable_accounts,
    scope_queryset,
)
from cartable.directory.models import Membership

from .letters import french_date, issue_letters, letters_filename
from .models import AuditEvent, User
from .services import audit


class AccountProfileFilter(ProfileFilter):
    person_field = "person_id"


class AccountDivisionFilter(DivisionFilter):
    person_field = "person_id"


class StatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("état")
    parameter_name = "etat"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("active", _("Activé")),
            ("waiting", _("Lettre remise, en attente d'activation")),
            ("expired", _("Délai d'activation dépassé")),
            ("never", _("Aucune lettre remise")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        start_of_valid = timezone.now() - datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS)
        waiting = queryset.filter(activated_at__isnull=True, credentials_issued_at__isnull=False)
        match self.value():
            case "active":
                return queryset.filter(activated_at__isnull=False)
            case "waiting":
                return waiting.filter(credentials_issued_at__gt=start_of_valid)
            case "expired":
                return waiting.filter(credentials_issued_at__lte=start_of_valid)
            case "never":
                return queryset.filter(activated_at__isnull=True, credentials_issued_at__isnull=True)
        return queryset


@admin.register(User)
class UserAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["username", "full_name", "profiles", "status", "is_active"]
    list_filter = [StatusFilter, AccountProfileFilter, AccountDivisionFilter, "is_active", "is_staff"]
    search_fields = ["username", "person__last_name", "person__usage_name", "person__first_name", "email"]
    list_select_related = ["person"]
    actions = ["print_letters", "reset_and_print_letters"]
    # Accounts are made by imports, and deleting one is left to the retention rules (and to a
    # superuser): a secretary deactivates an account instead.
    staff_can_add = False
    staff_can_delete = False

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        # `password` is in no fieldset: neither the hash nor a way to set one is ever shown.
        access = ["is_active", "is_staff", "is_superuser"] if request.user.is_superuser else ["is_active"]
        return [
            (None, {"fields": ["username", "person_link", "email", "email_verified"]}),
            (
                gettext_lazy("Identifiants provisoires"),
                {"fields": ["status", "credentials_issued_at", "deadline", "activated_at"]},
            ),
            (gettext_lazy("Accès"), {"fields": [*access, "last_login", "date_joined"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        readonly = [
            "username",  # the identifier never changes (printed on letters, known to partners)
            "person_link",
            "status",
            "credentials_issued_at",
            "deadline",
            "activated_at",
            "last_login",
            "date_joined",
        ]
        if not request.user.is_superuser:
            # The personal address is where password recovery goes: changed by someone else, it
            # would hand over the account silently. A staff reset goes through a letter instead.
            readonly += ["email", "email_verified"]
        return readonly

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A colleague's console account is left to a superuser (deactivating the principal's
        # account is not a secretary's call).
        if obj is not None and obj.is_staff and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            audit(
                "account.updated",
                actor=request.user if isinstance(request.user, User) else None,
                target=obj,
                uai=_uai_for(request, obj),
                fields=sorted(form.changed_data),
            )

    # --- columns ---

    @admin.display(description=gettext_lazy("nom"), ordering="person__last_name")
    def full_name(self, obj: User) -> str:
        return obj.person.full_name if obj.person is not None else "—"

    @admin.display(description=gettext_lazy("personne"))
    def person_link(self, obj: User) -> str:
        if obj.person is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:directory_person_change", args=[obj.person.pk]), obj.person)

    @admin.display(description=gettext_lazy("profils"))
    def profiles(self, obj: User) -> str:
        if obj.person is None:
            return "—"
        return ", ".join(
            f"{m.get_profile_display()} {m.division}" if m.division_id else str(m.get_profile_display())
            for m in getattr(obj.person, "scoped_memberships", [])
        )

    @admin.display(description=gettext_lazy("état"))
    def status(self, obj: User) -> str:
        if obj.is_activated:
            return _("Activé le %(date)s") % {"date": french_date(obj.activated_at)}  # type: ignore[arg-type]
        if obj.activation_deadline is None:
            return _("Aucune lettre remise")
        if obj.activation_deadline <= timezone.now():
            return _("Délai dépassé le %(date)s") % {"date": french_date(obj.activation_deadline)}
        return _("À activer avant le %(date)s") % {"date": french_date(obj.activation_deadline)}

    @admin.display(description=gettext_lazy("date limite d'activation"))
    def deadline(self, obj: User) -> str:
        return french_date(obj.activation_deadline) if obj.activation_deadline else "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The profiles column shows only this console's établissements (prefetched, scoped).
        memberships = scope_queryset(Membership.objects.current(), request).select_related("division")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("person__memberships", queryset=memberships, to_attr="scoped_memberships"))
        )

    # --- letter actions ---

    @admin.action(description=gettext_lazy("Imprimer les lettres (nouveaux identifiants provisoires)"))
    def print_letters(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        """Letters for accounts not yet activated; activated ones are skipped and counted."""
        return self._print(request, queryset, reset=False)

    @admin.action(description=gettext_lazy("Réinitialiser le compte et imprimer la lettre"))
    def reset_and_print_letters(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        """Activated accounts too, after a confirmation page: their current password stops working."""
        if request.POST.get("confirm") != "yes":
            users = list(queryset.select_related("person"))
            context = {
                **self.admin_site.each_context(request),
                "title": _("Réinitialiser le compte et imprimer la lettre"),
                "opts": self.model._meta,
                "users": users,
                "activated": sum(u.is_activated for u in users),
                "action": "reset_and_print_letters",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/accounts/user/reset_letters.html", context)
        return self._print(request, queryset, reset=True)

    @sensitive_variables()
    def _print(self, request: HttpRequest, queryset: QuerySet[User], *, reset: bool) -> HttpResponse | None:
        printable, console_accounts = printable_accounts(request, list(queryset.select_related("person")))
        batch = issue_letters(
            printable,
            actor=request.user if isinstance(request.user, User) else None,
            reset_activated=reset,
            etablissements=managed_for(request),
        )
        message = letters_message(batch, console_accounts)
        if not batch.printed:
            self.message_user(request, message, messages.WARNING)
            return None
        self.message_user(request, message, messages.SUCCESS)
        etabs = managed_for(request)
        return pdf_response(batch.pdf, letters_filename(etabs[0] if etabs and len(etabs) == 1 else None))


def _uai_for(request: HttpRequest, user: User) -> str:
    managed = managed_for(request)
    memberships = Membership.objects.current().filter(person_id=user.person_id).select_related("etablissement")
    if managed is not None:
        memberships = memberships.filter(etablissement__in=managed)
    first = memberships.first()
    return first.etablissement.uai if first else ""


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read-only, for everyone: the trail is append-only."""

    list_display = ["at", "action", "target_username", "etablissement_uai", "actor"]
    list_filter = ["action"]
    search_fields = ["target_username", "action"]
    date_hierarchy = "at"
    list_select_related = ["actor"]
    fields = readonly_fields = ("at", "action", "target_username", "etablissement_uai", "actor", "detail")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
