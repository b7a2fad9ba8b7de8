"""FranceConnect views (the steps are in services.py):

  `start`       /franceconnect/connexion/    the button's link: off to the provider
  `callback`    /franceconnect/retour/       back from the provider: logged in, first use, or a
                                             French message on the login page and no session
  `logged_out`  /franceconnect/deconnecte/   back from the provider's logout

The portal's logout view calls services.logout() and, for a FranceConnect session, `leave()`.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cartable.activation.services import charter_to_accept
from cartable.portal.services import LoginResult, Outcome, refusal_message, support_contacts
from cartable.registration.flow import begin_with_identity

from . import client, services
from .client import Failure, FranceConnectError

logger = logging.getLogger(__name__)


def _message(failure: Failure) -> str:
    if failure is Failure.DENIED:
        return _("Vous avez annulé la connexion avec FranceConnect. Vous pouvez réessayer ou vous connecter avec votre identifiant.")
    if failure is Failure.STATE:
        return _(
            "Cette demande de connexion avec FranceConnect n'est plus valable (déjà utilisée ou trop ancienne). "
            "Cliquez à nouveau sur « S'identifier avec FranceConnect »."
        )
    if failure is Failure.UNAVAILABLE:
        return _(
            "FranceConnect ne répond pas pour le moment. Réessayez dans quelques minutes ou connectez-vous "
            "avec votre identifiant."
        )
    return _(
        "La connexion avec FranceConnect n'a pas abouti. Réessayez, ou connectez-vous avec votre identifiant."
    )


def _refuse(request: HttpRequest, error: FranceConnectError) -> HttpResponse:
    # The reason names what failed, never a token or a code.
    logger.warning("FranceConnect login refused (%s): %s", error.failure.value, error.reason)
    messages.error(request, _message(error.failure))
    return redirect("portal:login")


@never_cache
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    if not client.is_configured():
        raise Http404
    next_url = services.safe_next(request, request.GET.get("next"))
    if request.user.is_authenticated:
        return redirect(next_url or "portal:home")
    try:
        return HttpResponseRedirect(services.begin(request, next_url))
    except FranceConnectError as error:
        return _refuse(request, error)


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    if not client.is_configured():
        raise Http404
    try:
        tokens, userinfo, next_url = services.complete(request)
    except FranceConnectError as error:
        return _refuse(request, error)

    identity = services.linked_identity(str(tokens.claims["sub"]))
    if identity is None:
        # First use: the registration flow proves the account is theirs, then links the sub.
        services.remember_id_token(request, tokens.id_token)
        return begin_with_identity(request, services.external_claims(userinfo))

    user = services.log_in(request, identity, tokens.id_token)
    if user is None:
        deactivated = services.account_for(identity)
        text = refusal_message(LoginResult(Outcome.DISABLED, user=deactivated))
        contacts = "; ".join(f"{name} : {contact}" for name, contact in support_contacts(deactivated) if contact)
        messages.error(request, f"{text} {contacts}".strip())
        return redirect("portal:login")
    next_url = services.safe_next(request, next_url) or reverse("portal:home")
    if charter_to_accept(request) is not None:
        return redirect(f"{reverse('activation:charter_update')}?{urlencode({'next': next_url})}")
    return HttpResponseRedirect(next_url)


def leave(request: HttpRequest, provider_url: str) -> HttpResponse:
    """After the local logout: on to the provider's logout, or say why it could not be done.

    A page that moves on by itself rather than a redirect: the logout is a form POST, and the
    CSP's form-action 'self' forbids a form's redirect to another site.
    """
    if not provider_url:
        messages.warning(
            request,
            _(
                "Vous êtes déconnecté de Cartable, mais FranceConnect n'a pas pu être joint : fermez votre "
                "navigateur pour terminer aussi votre session FranceConnect."
            ),
        )
        return redirect("portal:index")
    return render(request, "franceconnect/leaving.html", {"provider_url": provider_url})


@never_cache
@require_GET
def logged_out(request: HttpRequest) -> HttpResponse:
    if services.logged_out(request):
        messages.success(request, _("Vous êtes déconnecté de Cartable et de FranceConnect. À bientôt !"))
    elif not request.user.is_authenticated:
        messages.success(request, _("Vous êtes déconnecté. À bientôt !"))
    return redirect("portal:index")
