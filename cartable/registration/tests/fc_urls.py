"""The site's URLs plus one test entry standing for cartable.franceconnect's callback."""

from __future__ import annotations

import datetime

from django.http import HttpRequest, HttpResponse
from django.urls import path

from cartable.registration.flow import ExternalClaims, begin_with_identity
from cartable.urls import urlpatterns as site


def callback(request: HttpRequest) -> HttpResponse:
    request.session["franceconnect_id_token"] = "id-token-for-logout"
    claims = ExternalClaims(
        provider="franceconnect",
        subject=request.GET.get("sub", "sub-claire"),
        given_name=request.GET.get("given_name", "Claire Marie"),
        family_name=request.GET.get("family_name", "EXEMPLE"),
        birthdate=datetime.date(1985, 5, 1),
        email="",
    )
    return begin_with_identity(request, claims)


urlpatterns = [path("test-franceconnect/", callback), *site]
