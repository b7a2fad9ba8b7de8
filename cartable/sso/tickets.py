"""CAS tickets: issue, validate, proxy, end with the session. Read top to bottom.

  issue_service_ticket()  /login: an ST- for one registered service URL
  validate()              /validate, /serviceValidate, /proxyValidate (and p3/): in order,
      1. the ticket is looked up by its digest (unknown: INVALID_TICKET);
      2. a proxy ticket presented to a service-ticket endpoint is voided (INVALID_TICKET_SPEC);
      3. it is claimed by one conditional UPDATE (used_at IS NULL AND not expired), so two
         simultaneous validations cannot both succeed (lost race, used or expired: INVALID_TICKET);
      4. the `service` given must be the exact URL the ticket was issued for; a mismatch has
         already voided the ticket (INVALID_SERVICE, as the specification asks);
      5. renew=true needs a ticket issued on a presentation of the password (INVALID_TICKET_SPEC);
      6. the service must still be active and the account usable (INVALID_SERVICE / INVALID_TICKET);
      7. a pgtUrl asks for a proxy-granting ticket: the service must be allowed to proxy
         (UNAUTHORIZED_SERVICE_PROXY) and the URL must be https and one of the service's own
         registered URLs (INVALID_PROXY_CALLBACK); the PGT- and PGTIOU- are sent to it by GET and
         the PGT lives only if it answers 200 (otherwise the validation succeeds without PGT).
  issue_proxy_ticket()    /proxy: a PT- for a target service the user may use (BAD_PGT, INVALID_REQUEST)
  end_session()           logout: PGTs die, single-logout callbacks are told

Tickets are `PREFIX-` + 64 hexadecimal characters from `secrets` (256 bits); only their HMAC
digest is stored.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from dataclasses import dataclass, field

import requests
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cartable.accounts.models import User
from cartable.accounts.tokens import digest

from . import hotpath, registry
from .models import Service, Ticket
from .patterns import acceptable_url, matches

log = logging.getLogger(__name__)

Kind = Ticket.Kind


def new_value(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(32)}"


def _shown(value: str) -> str:
    """The ticket as echoed in an error: ticket characters only, so any input makes valid XML."""
    return "".join(c for c in value[:80] if c.isascii() and (c.isalnum() or c == "-"))


def _now() -> datetime.datetime:
    return timezone.now()


def issue_service_ticket(
    user: User, service: Service, url: str, *, session_key: str, primary: bool = False
) -> str:
    """A new ST- for `url` (a URL of `service`); returned in clear, stored as a digest."""
    value = new_value("ST")
    now = _now()
    Ticket.objects.create(
        kind=Kind.SERVICE,
        digest=digest(value),
        user=user,
        service=service,
        url=url,
        session_key=session_key or "",
        primary=primary,
        created_at=now,
        expires_at=now + datetime.timedelta(seconds=settings.SSO_TICKET_SECONDS),
    )
    return value


class CasError(Exception):
    """A refused CAS request: `code` is the specification's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Validation:
    user: User
    service: Service
    ticket: Ticket
    pgtiou: str = ""
    proxies: list[str] = field(default_factory=list)


def validate(
    value: str, service_url: str, *, kinds: tuple[str, ...], renew: bool = False, pgt_url: str = ""
) -> Validation:
    """Validate a ticket once (steps in the module docstring); raises CasError."""
    if not value or not service_url:
        raise CasError("INVALID_REQUEST", _("Les paramètres « ticket » et « service » sont obligatoires."))
    # 1. Lookup.
    ticket = hotpath.lookup(digest(value))
    if ticket is None:
        raise CasError("INVALID_TICKET", _("Ticket %(ticket)s inconnu.") % {"ticket": _shown(value)})
    now = _now()
    # 2. A proxy ticket is not a service ticket.
    if ticket.kind not in kinds:
        _void(ticket, now)
        raise CasError(
            "INVALID_TICKET_SPEC",
            _("Un ticket de mandataire (PT) ne se valide que par /proxyValidate."),
        )
    # 3. Single use, within its lifetime.
    if not hotpath.claim(ticket.pk, now):
        raise CasError("INVALID_TICKET", _("Ticket %(ticket)s déjà utilisé ou expiré.") % {"ticket": _shown(value)})
    ticket.used_at = now
    # 4. Bound to its service URL.
    if ticket.url != service_url:
        raise CasError("INVALID_SERVICE", _("Ce ticket a été délivré pour un autre service ; il est annulé."))
    # 5. renew.
    if renew and not ticket.primary:
        raise CasError(
            "INVALID_TICKET_SPEC",
            _("renew=true : ce ticket n'a pas été délivré sur présentation du mot de passe."),
        )
    # 6. Still allowed.
    service, user = ticket.service, ticket.user
    if not service.active:
        raise CasError("INVALID_SERVICE", _("Ce service n'est plus actif."))
    if not user.is_active:
        raise CasError("INVALID_TICKET", _("Ce compte est désactivé."))
    result = Validation(user=user, service=service, ticket=ticket)
    if ticket.kind == Kind.PROXY and ticket.parent_id is not None:
        result.proxies = list(Ticket.objects.filter(pk=ticket.parent_id).values_list("proxies", flat=True)[0])
    if service.single_logout:
        # The ticket is spent: keeping it only lets the LogoutRequest name it (SessionIndex).
        Ticket.objects.filter(pk=ticket.pk).update(logout_index=value)
    # 7. Proxy-granting ticket.
    if pgt_url:
        result.pgtiou = _grant_pgt(ticket, pgt_url, result.proxies, now)
    return result


def _void(ticket: Ticket, now: datetime.datetime) -> None:
    Ticket.objects.filter(pk=ticket.pk, used_at__isnull=True).update(used_at=now)


def _grant_pgt(ticket: Ticket, pgt_url: str, proxies: list[str], now: datetime.datetime) -> str:
    service = ticket.service
    if not service.proxy_allowed:
        raise CasError("UNAUTHORIZED_SERVICE_PROXY", _("Ce service n'est pas autorisé à agir comme mandataire."))
    if not acceptable_url(pgt_url) or not matches(service.patterns, pgt_url):
        raise CasError(
            "INVALID_PROXY_CALLBACK",
            _("L'adresse pgtUrl doit être en https et faire partie des adresses enregistrées du service."),
        )
    pgt_value, pgtiou = new_value("PGT"), new_value("PGTIOU")
    pgt = Ticket.objects.create(
        kind=Kind.PROXY_GRANTING,
        digest=digest(pgt_value),
        user=ticket.user,
        service=service,
        url=pgt_url,
        session_key=ticket.session_key,
        parent=ticket,
        proxies=[pgt_url, *proxies],
        created_at=now,
        expires_at=now + datetime.timedelta(seconds=settings.SSO_PGT_SECONDS),
    )
    if not _callback(pgt_url, {"pgtId": pgt_value, "pgtIou": pgtiou}):
        # The specification: no PGT, but the ticket validation itself still succeeds.
        Ticket.objects.filter(pk=pgt.pk).update(used_at=now)
        return ""
    return pgtiou


def _callback(url: str, params: dict[str, str]) -> bool:
    """GET the proxy callback; True only on 200 (certificates verified, short timeout)."""
    try:
        response = requests.get(url, params=params, timeout=settings.SSO_CALLBACK_TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as error:
        log.warning("pgtUrl callback %s failed: %s", url, error)
        return False
    return response.status_code == 200


def issue_proxy_ticket(pgt_value: str, target_url: str) -> str:
    """A PT- for `target_url` on behalf of the PGT's user; raises CasError."""
    if not pgt_value or not target_url:
        raise CasError("INVALID_REQUEST", _("Les paramètres « pgt » et « targetService » sont obligatoires."))
    now = _now()
    pgt = (
        Ticket.objects.select_related("user")
        .filter(digest=digest(pgt_value), kind=Kind.PROXY_GRANTING, used_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if pgt is None or not pgt.user.is_active:
        raise CasError("BAD_PGT", _("Ticket d'octroi (PGT) inconnu, expiré ou terminé par une déconnexion."))
    target = registry.allowed_service(pgt.user, registry.cas_services_for_url(target_url))
    if target is None:
        raise CasError("INVALID_REQUEST", _("Le service cible n'est pas enregistré ou pas ouvert à cet utilisateur."))
    value = new_value("PT")
    Ticket.objects.create(
        kind=Kind.PROXY,
        digest=digest(value),
        user=pgt.user,
        service=target,
        url=target_url,
        session_key=pgt.session_key,
        parent=pgt,
        created_at=now,
        expires_at=now + datetime.timedelta(seconds=settings.SSO_TICKET_SECONDS),
    )
    return value


def end_session(session_key: str) -> None:
    """The Cartable session ends: its PGTs die and single-logout services are told (best effort)."""
    if not session_key:
        return
    now = _now()
    Ticket.objects.filter(session_key=session_key, used_at__isnull=True).update(used_at=now)
    spent = list(
        Ticket.objects.filter(session_key=session_key, service__single_logout=True)
        .exclude(logout_index="")
        .select_related("service")
    )
    if not spent:
        return
    Ticket.objects.filter(pk__in=[t.pk for t in spent]).update(logout_index="")
    from .slo import send_logout_requests

    send_logout_requests(spent)


def purge(now: datetime.datetime | None = None) -> int:
    """Delete tickets that can no longer be used nor named in a logout; returns how many."""
    now = now or _now()
    old = now - datetime.timedelta(seconds=settings.SSO_PGT_SECONDS)
    deleted, _detail = Ticket.objects.filter(
        Q(expires_at__lt=now, logout_index="") | Q(created_at__lt=old)
    ).filter(children__isnull=True).delete()
    return deleted
