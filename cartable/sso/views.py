"""The CAS 3.0 server (Apereo CAS protocol specification 3.0.2) under /cas/.

Written here rather than with django-cas-server 3.1, which was evaluated first: its registry
(`ServicePattern`) is global, keyed on regular expressions typed by an administrator, with no
établissement and no profile, so the per-établissement registry of the staff console would
have had to be mirrored into it; it keeps clear ticket values in its tables; it authenticates
through its own login views and templates (which load CSS from a CDN) rather than the portal's;
its "release all attributes" option sends the password hash; and its migrations are incomplete.
The protocol itself is small: the views below, tickets.py and xml.py.

  login      service, renew, gateway. A logged-in user gets a ticket at once (single sign-on);
             an anonymous one goes through the portal's login (?next= brings them back);
             renew=true always asks for the password on our own form; gateway=true never
             asks anything (no session: back to the service without ticket). An unregistered
             or inactive service, or a profile the service does not accept: a French page.
  logout     ends the Cartable session (every CAS session with it: PGTs die, single logout is
             sent); `service` is followed only when it is a registered service URL. GET, as
             the specification and every CAS client use it (unlike the portal's POST-only
             logout, a CAS logout link is part of the protocol).
  validate, serviceValidate, proxyValidate, p3/serviceValidate, p3/proxyValidate, proxy:
             see tickets.py; the XML is built in xml.py. p3/ adds the attributes the registry
             lists for the service, and nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from cartable.accounts.models import User
from cartable.activation.services import charter_to_accept
from cartable.portal import services as portal
from cartable.portal.choice import current_choice
from cartable.portal.forms import LoginForm

from . import registry, tickets, xml
from .attributes import attributes_for
from .models import Service, Ticket

log = logging.getLogger(__name__)


def _flag(value: str | None) -> bool:
    # The specification says "true"; some clients send "1" or an empty value for a flag.
    return value is not None and value.lower() in ("true", "1", "yes", "")


def with_ticket(url: str, ticket: str) -> str:
    """`url` with ticket=… appended to its query, before any fragment.

    Appended as text rather than re-encoded: a client rebuilds its `service` from the URL it
    was sent to, minus the ticket, and must find exactly the URL the ticket is bound to.
    """
    base, hash_mark, fragment = url.partition("#")
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}ticket={ticket}{hash_mark}{fragment}"


def _refuse(request: HttpRequest, reason: str, service: Service | None = None) -> HttpResponse:
    return render(request, "sso/refused.html", {"reason": reason, "service": service}, status=403)


# --- /cas/login --------------------------------------------------------------------------------


@sensitive_post_parameters("mot_de_passe")
@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    params = request.POST if request.method == "POST" else request.GET
    service_url = params.get("service", "").strip()
    renew = _flag(params.get("renew"))
    # The specification recommends ignoring gateway when renew is set.
    gateway = _flag(params.get("gateway")) and not renew

    if not service_url:
        return redirect("portal:home" if request.user.is_authenticated else "portal:start")

    candidates = registry.cas_services_for_url(service_url)
    if not candidates:
        return _refuse(request, "unknown")

    if renew:
        return _renew(request, service_url, candidates)

    if not request.user.is_authenticated:
        if gateway:
            return HttpResponseRedirect(service_url)
        return redirect(f"{reverse('portal:login')}?{urlencode({'next': request.get_full_path()})}")

    user = request.user
    assert isinstance(user, User)
    if charter_to_accept(request) is not None:
        if gateway:  # gateway: never a page to read, so no ticket until the charter is accepted
            return HttpResponseRedirect(service_url)
        return redirect(f"{reverse('activation:charter_update')}?{urlencode({'next': request.get_full_path()})}")
    service = registry.allowed_service(user, candidates)
    if service is None:
        if gateway:
            return HttpResponseRedirect(service_url)
        return _refuse(request, "profile", candidates[0])
    ticket = tickets.issue_service_ticket(user, service, service_url, session_key=request.session.session_key or "")
    return HttpResponseRedirect(with_ticket(service_url, ticket))


def _renew(request: HttpRequest, service_url: str, candidates: list[Service]) -> HttpResponse:
    """renew=true: the password is asked again, even within a session (our own form)."""
    current = request.user if request.user.is_authenticated else None
    status = 200
    error = ""
    if request.method == "POST":
        form = LoginForm(request.POST)
        if form.is_valid():
            result = portal.attempt_login(request, form.cleaned_data["identifiant"], form.cleaned_data["mot_de_passe"])
            if result.outcome is portal.Outcome.OK and result.user is not None:
                user = result.user
                service = registry.allowed_service(user, candidates)
                if service is None:
                    return _refuse(request, "profile", candidates[0])
                if current is None or current.pk != user.pk:
                    if current is not None:
                        portal.end_session(request)
                    portal.start_session(request, user, current_choice(request))
                if charter_to_accept(request) is not None:
                    # The charter first, as after the portal's login; then single sign-on.
                    back = f"{reverse('sso:login')}?{urlencode({'service': service_url})}"
                    return redirect(f"{reverse('activation:charter_update')}?{urlencode({'next': back})}")
                ticket = tickets.issue_service_ticket(
                    user, service, service_url, session_key=request.session.session_key or "", primary=True
                )
                return HttpResponseRedirect(with_ticket(service_url, ticket))
            if result.outcome is portal.Outcome.ACTIVATE:
                error = _("Votre compte n'est pas encore activé : connectez-vous d'abord sur le portail de l'ENT.")
            else:
                error = portal.refusal_message(result)
            status = 429 if result.outcome is portal.Outcome.BLOCKED else 400
        else:
            status = 400
    else:
        form = LoginForm(initial={"identifiant": current.get_username() if current else ""})
    context = {
        "form": form,
        "error": error,
        "service": candidates[0],
        "service_url": service_url,
        "current": current,
    }
    return render(request, "sso/login.html", context, status=status)


# --- /cas/logout -------------------------------------------------------------------------------


@never_cache
@require_GET
def logout(request: HttpRequest) -> HttpResponse:
    was_logged_in = request.user.is_authenticated
    portal.end_session(request)
    target = request.GET.get("service") or request.GET.get("url") or ""
    if target and registry.cas_services_for_url(target):
        return HttpResponseRedirect(target)
    if was_logged_in:
        messages.success(request, _("Vous êtes déconnecté. À bientôt !"))
    return redirect("portal:index")


# --- Validation --------------------------------------------------------------------------------


def _safely(view: Callable[[HttpRequest], HttpResponse], fail: Callable[[str, str], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """INTERNAL_ERROR instead of a stack trace when something unexpected breaks."""

    def wrapped(request: HttpRequest) -> HttpResponse:
        try:
            return view(request)
        except Exception:
            log.exception("CAS %s failed", request.path)
            return fail("INTERNAL_ERROR", _("Erreur interne du serveur CAS."))

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _xml_validation(*, kinds: tuple[str, ...], with_attributes: bool) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        try:
            result = tickets.validate(
                request.GET.get("ticket", ""),
                request.GET.get("service", ""),
                kinds=kinds,
                renew=_flag(request.GET.get("renew")),
                pgt_url=request.GET.get("pgtUrl", ""),
            )
        except tickets.CasError as error:
            return xml.failure(error.code, error.message)
        attributes = attributes_for(result.user, result.service) if with_attributes else None
        return xml.success(
            result.user.get_username(), attributes=attributes, pgtiou=result.pgtiou, proxies=result.proxies
        )

    return require_GET(never_cache(_safely(view, xml.failure)))


SERVICE_ONLY = (Ticket.Kind.SERVICE,)
SERVICE_OR_PROXY = (Ticket.Kind.SERVICE, Ticket.Kind.PROXY)

service_validate = _xml_validation(kinds=SERVICE_ONLY, with_attributes=False)
proxy_validate = _xml_validation(kinds=SERVICE_OR_PROXY, with_attributes=False)
p3_service_validate = _xml_validation(kinds=SERVICE_ONLY, with_attributes=True)
p3_proxy_validate = _xml_validation(kinds=SERVICE_OR_PROXY, with_attributes=True)


@never_cache
@require_GET
def validate(request: HttpRequest) -> HttpResponse:
    """CAS 1.0: "yes\\n<user>\\n" or "no\\n\\n"."""
    try:
        result = tickets.validate(
            request.GET.get("ticket", ""),
            request.GET.get("service", ""),
            kinds=SERVICE_ONLY,
            renew=_flag(request.GET.get("renew")),
        )
    except tickets.CasError:
        return HttpResponse("no\n\n", content_type="text/plain; charset=utf-8")
    except Exception:
        log.exception("CAS /validate failed")
        return HttpResponse("no\n\n", content_type="text/plain; charset=utf-8")
    return HttpResponse(f"yes\n{result.user.get_username()}\n", content_type="text/plain; charset=utf-8")


def _proxy(request: HttpRequest) -> HttpResponse:
    try:
        ticket = tickets.issue_proxy_ticket(request.GET.get("pgt", ""), request.GET.get("targetService", ""))
    except tickets.CasError as error:
        return xml.proxy_failure(error.code, error.message)
    return xml.proxy_success(ticket)


proxy = require_GET(never_cache(_safely(_proxy, xml.proxy_failure)))


@never_cache
@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """The server's simplest answer, through the same middleware: bench/sso.py's baseline."""
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
