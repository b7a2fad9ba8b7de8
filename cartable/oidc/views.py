"""The provider's pages: authorization (consent), userinfo and RP-initiated logout, in French.

django-oauth-toolkit's views do the protocol; these subclasses add Cartable's rules:

Authorization (`/oidc/authorize/`):
  1. not signed in → the portal's login page (LOGIN_URL), back here afterwards; a newer
     charter not yet accepted → the charter page first;
  2. a disabled or merged account → a refusal page, no code; so is an account the service
     registry does not open the client to (cartable.oidc.registry);
  3. a trusted client (`skip_authorization`) or a consent already given for these scopes
     (`Consent`) → straight back to the client with a code;
  4. otherwise the consent page ("consent_required" for prompt=none); "Autoriser" records
     the consent for next time.
Back from our own pages (after the login form), the way to the client is a page that moves on
by itself rather than a redirect (`_continue_page`: the login page's CSP).
Logout (`/oidc/logout/`, the end_session endpoint): DOT ends the Cartable session, deletes the
account's tokens at the client, and redirects only to a registered post_logout_redirect_uri.
"""

from __future__ import annotations

import re
from typing import cast
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider import views as dot_views
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_application_model
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import AuthorizationView, RPInitiatedLogoutView

from cartable.accounts.models import User
from cartable.activation.decorators import charter_required

from . import registry
from .claims import account_usable
from .models import Consent

# Why a request is refused, by oauthlib's error class (its own descriptions are in English).
_ERRORS = {
    "InvalidClientIdError": gettext_lazy("Ce service n'est pas enregistré auprès de Cartable."),
    "MissingClientIdError": gettext_lazy("Ce service n'est pas enregistré auprès de Cartable."),
    "MismatchingRedirectURIError": gettext_lazy(
        "L'adresse de retour demandée n'est pas enregistrée pour ce service : Cartable refuse d'y envoyer vos informations."
    ),
    "InvalidRedirectURIError": gettext_lazy("L'adresse de retour demandée est invalide."),
    "MissingRedirectURIError": gettext_lazy("Ce service n'a pas indiqué d'adresse de retour."),
}
_LOGOUT_ERRORS = {
    "InvalidOIDCRedirectURIError": gettext_lazy("Cette adresse de retour n'est pas enregistrée pour ce service."),
    "InvalidOIDCClientError": gettext_lazy("Ce service n'est pas enregistré auprès de Cartable."),
    "InvalidIDTokenError": gettext_lazy("La demande de déconnexion de ce service est invalide ou a expiré."),
    "ClientIdMissmatch": gettext_lazy("La demande de déconnexion de ce service est invalide."),
}


_ORIGIN = re.compile(r"[a-z][a-z0-9+.\-]*(://[A-Za-z0-9.\-]+(:[0-9]+)?|:)")


def _with_form_action(response: HttpResponse, redirect_uri: str) -> HttpResponse:
    """Let the consent form's redirect reach the client's origin (CSP form-action covers redirects)."""
    parts = urlsplit(redirect_uri)
    if parts.scheme and parts.netloc:
        origin = f"{parts.scheme}://{parts.netloc}"
    elif parts.scheme:
        origin = f"{parts.scheme}:"  # a mobile app's private-use scheme
    else:
        return response
    if not _ORIGIN.fullmatch(origin):
        return response  # nothing but an origin goes into the header
    response.headers["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {origin}"
    )
    return response


def _refused(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "oidc/refused.html", {"reason": reason}, status=403)


def _refusal(request: HttpRequest) -> HttpResponse | None:
    """Steps 2 and 2b: the account, then the service registry's rules for this client."""
    user = cast(User, request.user)
    if not account_usable(user):
        return _refused(request)
    client_id = request.POST.get("client_id") if request.method == "POST" else request.GET.get("client_id")
    reason = registry.refusal(user, client_id or "")
    return _refused(request, reason) if reason else None


def _continue_page(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """A redirect to the client, turned into a page that goes on by itself when it must be.

    Chromium applies the login page's `form-action 'self'` to every redirect that follows the
    login form: login → /oidc/authorize/ → the client (consent remembered, or a trusted client)
    would be blocked on its last step. When this request comes from one of our own pages
    (Sec-Fetch-Site same-origin: the login form's redirect, a tile), the browser gets a page
    that moves on with a meta refresh (not a form navigation) and a link; a request from the
    client's site (cross-site) keeps the plain redirect.
    """
    location = response.get("Location", "") if response.status_code in (301, 302, 303) else ""
    if not location or request.headers.get("Sec-Fetch-Site") not in ("same-origin", "same-site"):
        return response
    parts = urlsplit(location)
    if not parts.scheme or (parts.netloc and parts.netloc == request.get_host()):
        return response  # our own pages (the login page) need no help
    return render(request, "oidc/continue.html", {"url": location})


class AuthorizeView(AuthorizationView):
    template_name = "oidc/authorize.html"

    @method_decorator(charter_required)  # a newer charter is accepted before any service opens
    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refused = _refusal(request)
        if refused is not None:
            return refused
        response = self._remembered(request) or super().get(request, *args, **kwargs)
        if response.status_code == 200 and self.oauth2_data.get("redirect_uri"):
            _with_form_action(response, self.oauth2_data["redirect_uri"])
        return _continue_page(request, response)

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refused = _refusal(request)
        if refused is not None:
            return refused
        return super().post(request, *args, **kwargs)

    def _remembered(self, request: HttpRequest) -> HttpResponse | None:
        """Step 3 for a consent given earlier: the code at once, or None to go on as DOT does."""
        prompt = set(request.GET.get("prompt", "").split())
        if prompt & {"login", "consent", "create"} or "resource" in request.GET:
            return None  # DOT handles those (and asks again for "consent")
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError:
            return None  # DOT answers the error itself
        consent = (
            Consent.objects.filter(user=cast(User, request.user), application__client_id=credentials["client_id"])
            .select_related("application")
            .first()
        )
        if consent is None or not consent.covers(scopes):
            if "none" in prompt:
                return self._consent_required(credentials)
            return None
        if isinstance(credentials.get("ui_locales"), list):
            credentials["ui_locales"] = " ".join(credentials["ui_locales"])
        try:
            uri, _headers, _body, _status = self.create_authorization_response(
                request=request, scopes=" ".join(scopes), credentials=credentials, allow=True
            )
        except OAuthToolkitError as error:
            return self.error_response(error, consent.application)
        return self.redirect(uri, consent.application)

    def _consent_required(self, credentials: dict) -> HttpResponse | None:
        """prompt=none (no page may be shown) and no consent yet: OIDC Core 3.1.2.6's error."""
        application = get_application_model().objects.get(client_id=credentials["client_id"])
        if application.skip_authorization:
            return None  # a trusted client needs no consent: DOT answers with a code
        params = {"error": "consent_required"}
        if credentials.get("state"):
            params["state"] = credentials["state"]
        redirect_uri = credentials["redirect_uri"]  # validated against the client's list
        separator = "&" if "?" in redirect_uri else "?"
        return self.redirect(f"{redirect_uri}{separator}{urlencode(params)}", application)

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        if form.cleaned_data.get("allow") and self.success_url:
            self._remember(form.cleaned_data["client_id"], form.cleaned_data.get("scope", "").split())
        return response

    def _remember(self, client_id: str, scopes: list[str]) -> None:
        application = get_application_model().objects.get(client_id=client_id)
        with transaction.atomic():
            consent, created = Consent.objects.select_for_update().get_or_create(
                user=cast(User, self.request.user), application=application, defaults={"scope": " ".join(scopes)}
            )
            if not created:
                consent.scope = " ".join(sorted(set(consent.scope.split()) | set(scopes)))
                consent.save(update_fields=["scope"])

    def render_to_response(self, context, **response_kwargs):
        error = context.get("error")
        if error is not None:
            context["error_message"] = _ERRORS.get(
                type(error).__name__, _("La demande de connexion de ce service est invalide.")
            )
        return super().render_to_response(context, **response_kwargs)


class TokenView(dot_views.TokenView):
    """DOT's token endpoint, without reading back the token it has just issued for nobody.

    DOT loads the new access token after every exchange to send `app_authorized`; Cartable has no
    receiver for that signal, so the query is made only if one is connected.
    """

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def authorization_flow_token_response(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if app_authorized.has_listeners():
            return super().authorization_flow_token_response(request, *args, **kwargs)
        _url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status)
        for key, value in headers.items():
            response[key] = value
        return response


class UserInfoView(dot_views.UserInfoView):
    """DOT's userinfo, with the access token taken from the Authorization header only.

    DOT's RFC 9700 gate refuses tokens in the query string for protected resources but not
    here: a token in a URL ends up in logs and Referer headers (RFC 6750 §2.3).
    """

    @method_decorator(csrf_exempt)  # as DOT's: a bearer token, no cookie (as_view reads dispatch)
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if "access_token" in request.GET or "access_token" in request.POST:
            response = HttpResponse(status=400)
            response["WWW-Authenticate"] = 'Bearer error="invalid_request"'
            return response
        return super().dispatch(request, *args, **kwargs)


class LogoutView(RPInitiatedLogoutView):
    template_name = "oidc/logout_confirm.html"

    def form_valid(self, form) -> HttpResponse:
        if not form.cleaned_data.get("allow") and self.request.user.is_authenticated:
            return redirect("portal:home")  # "Rester connecté"
        return super().form_valid(form)

    def render_to_response(self, context, **response_kwargs):
        error = context.get("error")
        if error is not None:
            context["error_message"] = _LOGOUT_ERRORS.get(
                type(error).__name__, _("La demande de déconnexion de ce service est invalide.")
            )
        return super().render_to_response(context, **response_kwargs)
