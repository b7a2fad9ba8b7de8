"""The mobile JSON API, /api/v1/, and its OpenAPI 3 document (/api/v1/openapi.json).

django-ninja writes the OpenAPI document from these typed views, so the document and the code
cannot drift apart. Its interactive documentation page is not served: it loads scripts from a
CDN, which the site's CSP forbids (and pupils' pages never load third-party assets).

Errors are JSON, in French: {"error": code, "detail": message}; 401 carries WWW-Authenticate.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError

from cartable.oidc.scopes import API_SCOPE

from . import services
from .auth import AccessToken, InsufficientScope

api = NinjaAPI(
    title="API mobile Cartable",
    version="1.0.0",
    description=(
        "API de l'application mobile de l'ENT Cartable. Chaque requête porte un jeton d'accès "
        "délivré par le fournisseur OpenID Connect de l'ENT (/oidc/, code d'autorisation avec "
        f"PKCE ; l'application mobile est un client public) avec la portée « {API_SCOPE} »."
    ),
    auth=AccessToken(),
    docs_url=None,
    openapi_url="/openapi.json",
    urls_namespace="api",
)


class Error(Schema):
    error: str
    detail: str


class EtablissementOut(Schema):
    uai: str
    name: str
    profiles: list[str]


class MeOut(Schema):
    identifier: str
    given_name: str
    family_name: str
    profiles: list[str]
    etablissements: list[EtablissementOut]


class ChildOut(Schema):
    given_name: str
    family_name: str
    uai: str
    etablissement: str
    division: str


def _error(request: HttpRequest, status: int, code: str, detail: str) -> HttpResponse:
    response = api.create_response(request, {"error": code, "detail": detail}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = f'Bearer realm="cartable", error="{code}"' if code != "no_token" else 'Bearer realm="cartable"'
    elif status == 403:
        response["WWW-Authenticate"] = f'Bearer realm="cartable", error="insufficient_scope", scope="{API_SCOPE}"'
    return response


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    if not request.headers.get("Authorization"):
        return _error(request, 401, "no_token", "Authentification requise : jeton d'accès absent.")
    return _error(request, 401, "invalid_token", "Jeton d'accès invalide, expiré ou révoqué.")


@api.exception_handler(InsufficientScope)
def _insufficient_scope(request: HttpRequest, exc: InsufficientScope) -> HttpResponse:
    return _error(
        request, 403, "insufficient_scope", f"Ce jeton d'accès n'autorise pas l'API mobile (portée « {API_SCOPE} » requise)."
    )


@api.get("/me", response={200: MeOut, 401: Error, 403: Error}, summary="Mon compte", operation_id="me")
def me(request: HttpRequest):
    """Identifiant, nom, profils et établissements du titulaire du jeton."""
    return services.me(request.user)  # type: ignore[arg-type]


@api.get(
    "/children", response={200: list[ChildOut], 401: Error, 403: Error}, summary="Mes enfants", operation_id="children"
)
def children(request: HttpRequest):
    """Les élèves dont le titulaire est responsable légal ou en charge ; une liste vide pour les autres."""
    return services.children(request.user)  # type: ignore[arg-type]
