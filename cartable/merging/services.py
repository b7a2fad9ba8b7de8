"""Regroupement: one parent, several accounts (siblings on different letters) become one.

merge_accounts(keep, absorbed, actor=…, via=…), in one transaction:
  1. Lock both account rows, in primary-key order (two merges of the same pair, in either
     direction, wait for each other instead of deadlocking), and check on the fresh rows:
     not the same account, neither already merged, neither a console or superuser account,
     both parents' accounts (a responsable profile or child links), the kept one active.
  2. Move everything that points to the absorbed account over to the kept one. The move is
     generic (every relation to User found by introspection), except the relations listed in
     RELATIONS, which are credentials of one account or records that must not change. A new
     model pointing to User is moved by default, and test_relations fails until it is listed
     in RELATIONS: whoever adds it decides.
  3. Accounts merged earlier into the absorbed one are repointed to the kept one (chains are
     flattened: cartable.accounts.persons needs only one level).
  4. The kept account gets the absorbed one's verified e-mail address and mobile when it has
     none.
  5. The absorbed account is closed: is_active=False (Django's auth then refuses its sessions
     on their next request), merged_into=keep, deactivated_at, deactivation_reason="merged".
     It keeps its person (the importer keeps finding an account for it) and its password: the
     portal tells whoever signs in with it, with the right password only, which identifier to
     use now (portal.services.Outcome.MERGED).
  6. Audit lines under both identifiers ("account.merged", what moved) and an e-mail notice to
     the addresses on file of both accounts, queued in the same transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from cartable.accounts.models import Confirmation, ExternalIdentity, User
from cartable.accounts.persons import is_responsable, person_ids
from cartable.accounts.services import audit
from cartable.delivery.services import queue_email
from cartable.directory.models import Guardianship, Membership, Person
from cartable.portal.services import Outcome, attempt_login, credentials_expired, refusal_message

REASON = "merged"  # User.deactivation_reason of an absorbed account
VIA = ("self_service", "staff", "self_registration")
NOTICE_EMAIL = "merging/email/merged"

# What happens to each relation pointing to User, keyed "app_label.Model.field" (the field on
# the model that points to User). Every relation not listed here is MOVEd generically; the test
# cartable/merging/tests/test_relations.py fails on any relation missing from this table, so a
# new app (internal messaging…) must say what a merge does to its rows.
MOVE = "move"  # repoint the rows to the kept account (rows that would break a unique constraint stay)
VOID = "void"  # single-use links and codes of the absorbed account: marked used, left where they are
KEEP_KEPT = "keep_kept"  # the kept account's rows win; the absorbed account's stay on it, unused
MOVE_NEW = "move_new"  # move the rows the kept account has no equivalent of (unique constraint)
MOVE_IF_FREE = "move_if_free"  # move per provider, only if the kept account has none for it
LEAVE = "leave"  # not moved
REVOKE = "revoke"  # sign-in tickets and tokens issued to the absorbed account: deleted (it is closed)
REPOINT = "repoint"  # accounts merged into the absorbed one now point to the kept one

RELATIONS: dict[str, tuple[str, str]] = {
    # Credentials of one account.
    "accounts.Confirmation.user": (VOID, "liens et codes à usage unique du compte fermé : annulés"),
    "accounts.SecretAnswer.user": (KEEP_KEPT, "questions secrètes : celles du compte conservé restent"),
    "accounts.CharterAcceptance.user": (MOVE_NEW, "acceptations de la charte : celles du compte conservé, sans doublon"),
    "accounts.ExternalIdentity.user": (MOVE_IF_FREE, "FranceConnect : déplacé seulement si le compte conservé n'en a pas"),
    # Rights are not inherited by merging (a parent's account holds none: staff are refused).
    "accounts.User_groups.user": (LEAVE, "groupes Django : non transférés"),
    "accounts.User_user_permissions.user": (LEAVE, "permissions Django : non transférées"),
    # The trail is append-only: a line says which account acted. The link between the two
    # accounts is `merged_into` and the "account.merged" lines under both identifiers.
    "accounts.AuditEvent.actor": (LEAVE, "journal d'audit : inchangé (append-only)"),
    "accounts.User.merged_into": (REPOINT, "comptes déjà regroupés dans le compte fermé : rattachés au compte conservé"),
    # Single sign-on credentials issued to the absorbed account (CAS tickets, OAuth/OIDC tokens
    # and codes): they must not keep working, nor start working as the kept account.
    "sso.Ticket.user": (REVOKE, "tickets CAS du compte fermé : supprimés"),
    "oauth2_provider.AccessToken.user": (REVOKE, "jetons d'accès du compte fermé : supprimés"),
    "oauth2_provider.RefreshToken.user": (REVOKE, "jetons de rafraîchissement du compte fermé : supprimés"),
    "oauth2_provider.IDToken.user": (REVOKE, "jetons d'identité du compte fermé : supprimés"),
    "oauth2_provider.Grant.user": (REVOKE, "codes d'autorisation du compte fermé : supprimés"),
    "oauth2_provider.DeviceGrant.user": (REVOKE, "codes d'appareil du compte fermé : supprimés"),
    # Reviewed: the person's own records, they follow the person.
    "linking.LinkReport.reporter": (MOVE, "signalements de rattachement faits par le parent"),
    "oidc.Consent.user": (MOVE, "consentements donnés aux services (ceux du compte conservé priment)"),
    # Reviewed: plain ownership, moved as is (staff rows in practice: staff accounts are refused,
    # so these stay empty, but moving is right if that ever changes).
    "admin.LogEntry.user": (MOVE, "historique de la console"),
    "accounts.Charter.created_by": (MOVE, "auteur d'une version de la charte"),
    "imports.ImportRun.started_by": (MOVE, "auteur d'un import"),
    "linking.LinkReport.handled_by": (MOVE, "signalement traité par un personnel"),
    "oauth2_provider.Application.user": (MOVE, "propriétaire d'un client OpenID Connect"),
}


class MergeRefused(Exception):
    """A merge that must not happen; `str(error)` is the French message for the person."""

    code = "refused"

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class MergeResult:
    kept: User
    absorbed: User
    # "app_label.Model.field" -> rows moved / rows left on the absorbed account (constraints).
    moved: dict[str, int] = field(default_factory=dict)
    left: dict[str, int] = field(default_factory=dict)
    voided: int = 0
    revoked: dict[str, int] = field(default_factory=dict)  # rows deleted (REVOKE)
    repointed: list[str] = field(default_factory=list)  # identifiers of earlier merged accounts
    filled: list[str] = field(default_factory=list)  # "email", "mobile"
    notified: list[str] = field(default_factory=list)  # addresses the notice went to


# --- Relations to User ---------------------------------------------------------------------------


def relation_key(model: type[models.Model], field_name: str) -> str:
    return f"{model._meta.app_label}.{model.__name__}.{field_name}"


def relations_to_user() -> list[tuple[str, type[models.Model], models.Field]]:
    """Every (key, model, field) whose field points to User, in every installed app.

    Reverse relations found on User itself, hidden ones included (related_name="+", the
    automatic tables of many-to-many fields, which hold the rows of a many-to-many to User).
    """
    found = []
    for rel in User._meta.get_fields(include_hidden=True):
        if not rel.auto_created or rel.concrete or rel.many_to_many:
            # Forward fields of User (person, merged_into, groups…) and many-to-many relations,
            # whose rows live in their through table (listed as its own foreign key).
            continue
        remote = rel.field  # type: ignore[union-attr]
        found.append((relation_key(remote.model, remote.name), remote.model, remote))
    return sorted(found, key=lambda item: item[0])


def _unique_sets(model: type[models.Model], fk: models.Field) -> list[list[str]]:
    """The other fields of each unique constraint that includes `fk` ([] : the fk alone is unique)."""
    sets: list[list[str]] = []
    if fk.unique:
        sets.append([])
    groups: list[Iterable[str]] = [tuple(fields) for fields in model._meta.unique_together]
    groups += [c.fields for c in model._meta.constraints if isinstance(c, models.UniqueConstraint) and c.fields]
    for fields in groups:
        names = list(fields)
        if fk.name in names or fk.attname in names:
            sets.append([n for n in names if n not in (fk.name, fk.attname)])
    return sets


def _move(model: type[models.Model], fk: models.Field, keep: User, absorbed: User) -> tuple[int, int]:
    """Repoint rows from `absorbed` to `keep`; rows that would break a unique constraint stay.

    (moved, left). Without a unique constraint on the field, one UPDATE.
    """
    manager = model._base_manager
    rows = manager.filter(**{fk.name: absorbed})
    unique_sets = _unique_sets(model, fk)
    if not unique_sets:
        return rows.update(**{fk.name: keep}), 0
    moved = left = 0
    for row in rows:
        conflict = False
        for others in unique_sets:
            lookup: dict[str, Any] = {fk.name: keep}
            lookup.update({name: getattr(row, model._meta.get_field(name).attname) for name in others})  # type: ignore[union-attr]
            if manager.filter(**lookup).exclude(pk=row.pk).exists():
                conflict = True
                break
        if conflict:
            left += 1
        else:
            manager.filter(pk=row.pk).update(**{fk.name: keep})
            moved += 1
    return moved, left


def _transfer(keep: User, absorbed: User, now: Any, result: MergeResult) -> None:
    for key, model, fk in relations_to_user():
        policy = RELATIONS.get(key, (MOVE, ""))[0]
        if policy == LEAVE or policy == KEEP_KEPT:
            continue
        if policy == REVOKE:
            deleted, _by_model = model._base_manager.filter(**{fk.name: absorbed}).delete()
            if deleted:
                result.revoked[key] = deleted
            continue
        if policy == VOID:
            if model is Confirmation:
                result.voided = Confirmation.objects.filter(user=absorbed, used_at__isnull=True).update(used_at=now)
            continue
        if policy == REPOINT:
            earlier = list(User.objects.filter(merged_into=absorbed).values_list("username", flat=True))
            User.objects.filter(merged_into=absorbed).update(merged_into=keep)
            result.repointed = sorted(earlier)
            continue
        if policy == MOVE_IF_FREE and model is ExternalIdentity:
            taken = set(ExternalIdentity.objects.filter(user=keep).values_list("provider", flat=True))
            moved = ExternalIdentity.objects.filter(user=absorbed).exclude(provider__in=taken).update(user=keep)
            left = ExternalIdentity.objects.filter(user=absorbed).count()
        else:
            # MOVE, and MOVE_NEW (charter acceptances): the generic move leaves the rows that
            # would duplicate one of the kept account's under a unique constraint.
            moved, left = _move(model, fk, keep, absorbed)
        if moved:
            result.moved[key] = moved
        if left:
            result.left[key] = left


# --- Checks ------------------------------------------------------------------------------------


def refusal(keep: User, absorbed: User) -> MergeRefused | None:
    """Why these two accounts may not be merged (None: they may). Read on fresh rows."""
    if keep.pk == absorbed.pk:
        return MergeRefused(_("Il s'agit du même compte : il n'y a rien à regrouper."), "same")
    for account in (keep, absorbed):
        if account.merged_into_id is not None:
            return MergeRefused(
                _("Le compte « %(identifier)s » a déjà été regroupé avec un autre compte.")
                % {"identifier": account.username},
                "already_merged",
            )
    for account in (keep, absorbed):
        if account.is_staff or account.is_superuser:
            return MergeRefused(
                _("Le compte « %(identifier)s » donne accès à la console : il ne peut pas être regroupé.")
                % {"identifier": account.username},
                "staff",
            )
    for account in (keep, absorbed):
        if not is_responsable(account):
            return MergeRefused(
                _("Seuls des comptes de parents (responsables d'élèves) peuvent être regroupés ; « %(identifier)s » n'en est pas un.")
                % {"identifier": account.username},
                "not_responsable",
            )
    if not keep.is_active:
        return MergeRefused(
            _("Le compte conservé « %(identifier)s » est désactivé : réactivez-le d'abord.")
            % {"identifier": keep.username},
            "keep_inactive",
        )
    return None


# --- The merge ---------------------------------------------------------------------------------


def _uai(user: User) -> str:
    ids = person_ids(user)
    membership = (
        Membership.objects.current().filter(person_id__in=ids).select_related("etablissement").order_by("pk").first()
        or Membership.objects.filter(person_id__in=ids).select_related("etablissement").order_by("pk").first()
    )
    return membership.etablissement.uai if membership else ""


def notice_addresses(*accounts: User) -> list[str]:
    """The addresses on file: each account's verified address, and the one the school recorded."""
    seen: dict[str, str] = {}
    persons = {p.pk: p for p in Person.objects.filter(pk__in=[a.person_id for a in accounts if a.person_id])}
    for account in accounts:
        candidates = [account.email if account.email_verified else ""]
        person = persons.get(account.person_id) if account.person_id else None
        candidates.append(person.email if person is not None else "")
        for address in candidates:
            if address and address.lower() not in seen:
                seen[address.lower()] = address
    return list(seen.values())


def children_names(user: User) -> list[str]:
    """Names of the pupils an account's persons are responsible for (levels 1 and 2)."""
    links = (
        Guardianship.objects.filter(
            guardian_id__in=person_ids(user), level__in=[Guardianship.Level.LEGAL, Guardianship.Level.IN_CHARGE]
        )
        .select_related("pupil")
        .order_by("pupil__first_name", "pupil__last_name")
    )
    names: list[str] = []
    for link in links:
        if link.pupil.full_name not in names:
            names.append(link.pupil.full_name)
    return names


@transaction.atomic
def merge_accounts(keep: User, absorbed: User, *, actor: User | None, via: str, uai: str = "") -> MergeResult:
    """Merge `absorbed` into `keep` (the steps are in the module docstring); raises MergeRefused.

    `actor`: who asked (the parent, a staff member, None for a command). `via`: "self_service",
    "staff" or "self_registration". `uai`: the établissement to file the audit lines under (a
    staff member's); by default each account's own. The instances passed in are refreshed.
    """
    if via not in VIA:
        raise ValueError(f"unknown merge channel {via!r}")
    if keep.pk == absorbed.pk:
        raise MergeRefused(_("Il s'agit du même compte : il n'y a rien à regrouper."), "same")
    # 1. Lock in pk order, then decide on what the database says now (a concurrent merge may
    #    have closed one of them since the caller read it).
    locked = {u.pk: u for u in User.objects.select_for_update().filter(pk__in=[keep.pk, absorbed.pk]).order_by("pk")}
    if len(locked) != 2:
        raise MergeRefused(_("Ce compte n'existe plus."), "missing")
    fresh_keep, fresh_absorbed = locked[keep.pk], locked[absorbed.pk]
    problem = refusal(fresh_keep, fresh_absorbed)
    if problem is not None:
        raise problem
    keep_children, absorbed_children = children_names(fresh_keep), children_names(fresh_absorbed)
    addresses = notice_addresses(fresh_keep, fresh_absorbed)
    now = timezone.now()
    result = MergeResult(kept=fresh_keep, absorbed=fresh_absorbed)

    # 2 and 3. Everything that points to the absorbed account.
    _transfer(fresh_keep, fresh_absorbed, now, result)

    # 4. Contact details the kept account lacks (only verified ones: they are where recovery goes).
    updates = []
    if not (fresh_keep.email and fresh_keep.email_verified) and fresh_absorbed.email and fresh_absorbed.email_verified:
        fresh_keep.email, fresh_keep.email_verified = fresh_absorbed.email, True
        updates += ["email", "email_verified"]
        result.filled.append("email")
    if not fresh_keep.mobile and fresh_absorbed.mobile:
        fresh_keep.mobile = fresh_absorbed.mobile
        updates.append("mobile")
        result.filled.append("mobile")
    if updates:
        fresh_keep.save(update_fields=updates)

    # 5. Close the absorbed account.
    fresh_absorbed.is_active = False
    fresh_absorbed.merged_into = fresh_keep
    fresh_absorbed.deactivated_at = now
    fresh_absorbed.deactivation_reason = REASON
    fresh_absorbed.save(update_fields=["is_active", "merged_into", "deactivated_at", "deactivation_reason"])

    # 6. Audit under both identifiers, and tell both.
    detail = {
        "kept": fresh_keep.username,
        "absorbed": fresh_absorbed.username,
        "via": via,
        "moved": result.moved,
        "left": result.left,
        "voided_confirmations": result.voided,
        "revoked": result.revoked,
        "repointed": result.repointed,
        "filled": result.filled,
        "absorbed_children": absorbed_children,
    }
    audit("account.merged", actor=actor, target=fresh_keep, uai=uai or _uai(fresh_keep), **detail)
    audit("account.merged", actor=actor, target=fresh_absorbed, uai=uai or _uai(fresh_absorbed), **detail)
    context = {
        "name": fresh_keep.get_full_name(),
        "kept": fresh_keep.username,
        "absorbed": fresh_absorbed.username,
        "children": keep_children + [n for n in absorbed_children if n not in keep_children],
        "by_staff": via == "staff",
        "at": now,
    }
    for address in addresses:
        # One message per address: the school's record and a personal address need not see each other.
        queue_email(address, NOTICE_EMAIL, context)
    result.notified = addresses

    # The caller's instances now say what the database says.
    for instance, fresh in ((keep, fresh_keep), (absorbed, fresh_absorbed)):
        if instance is not fresh:
            instance.refresh_from_db()
    return result


def merged_identifiers(user: User) -> list[str]:
    """The identifiers whose history belongs to `user`: its own and those merged into it."""
    return [user.username] + list(
        User.objects.filter(merged_into=user).order_by("deactivated_at", "pk").values_list("username", flat=True)
    )


def history_filter(user: User) -> Q:
    """AuditEvent lines of an account and of the accounts merged into it (for history pages)."""
    return Q(target_username__in=merged_identifiers(user))


# --- Self-service: a parent signed in to one account proves control of the other -------------
#
# 1. `prove_control`: the other account's identifier and password, checked by the portal's own
#    login rules (portal.services.attempt_login): the same counters per identifier and per
#    address, the same single Argon2 computation for an unknown identifier, the same message
#    for an unknown identifier and a wrong password. Its password proves an activated account;
#    its provisional password proves one not yet activated, until the letter's deadline.
# 2. `remember_proof`: the proof waits in the session, bound to both accounts and to the other
#    account's password (its change voids the proof), for PROOF_SECONDS.
# 3. The confirmation page shows both accounts' children and asks the current password; then
#    merge_accounts(keep=the signed-in account, absorbed=the other, via="self_service").

PROOF_KEY = "cartable.merging.proof"
DONE_KEY = "cartable.merging.done"
# How long a proven other account waits for the confirmation (a person reading the page).
PROOF_SECONDS = 15 * 60


def prove_control(request: HttpRequest, user: User, identifier: str, password: str) -> User:
    """The other account, once its credentials are right and it may be merged into `user`.

    Raises MergeRefused with the French message (for a wrong or unknown identifier, the login's
    generic one; while blocked, when to retry).
    """
    result = attempt_login(request, identifier, password)
    if result.outcome not in (Outcome.OK, Outcome.ACTIVATE, Outcome.MERGED) or result.user is None:
        if result.outcome is Outcome.DISABLED and result.user is not None and credentials_expired(result.user):
            # Said only after the right password, as the login does.
            raise MergeRefused(
                _("Le mot de passe provisoire de ce compte a expiré : demandez une nouvelle lettre au secrétariat de l'établissement."),
                "expired",
            )
        raise MergeRefused(refusal_message(result), result.outcome.value)
    other = result.user
    if other.pk == user.pk:
        raise MergeRefused(
            _("C'est le compte avec lequel vous êtes connecté : saisissez l'identifiant de votre autre compte."), "same"
        )
    problem = refusal(user, other)
    if problem is not None:
        raise problem
    return other


def remember_proof(request: HttpRequest, user: User, other: User) -> None:
    request.session[PROOF_KEY] = {
        "user": user.pk,
        "other": other.pk,
        "auth": other.get_session_auth_hash(),
        "at": time.time(),
    }


def proven_account(request: HttpRequest, user: User) -> User | None:
    """The other account proven in this session, if the proof still holds (else None)."""
    proof = request.session.get(PROOF_KEY)
    if not isinstance(proof, dict) or proof.get("user") != user.pk:
        return None
    if time.time() - float(proof.get("at", 0)) > PROOF_SECONDS:
        return None
    other = User.objects.select_related("person").filter(pk=int(proof.get("other") or 0)).first()
    if other is None or not constant_time_compare(other.get_session_auth_hash(), str(proof.get("auth", ""))):
        return None  # its password changed since (a new letter, a reset): prove it again
    if credentials_expired(other):
        return None  # its provisional password proved it, and has expired since
    return other


def forget_proof(request: HttpRequest) -> None:
    request.session.pop(PROOF_KEY, None)
