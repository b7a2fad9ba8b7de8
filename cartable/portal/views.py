"""Placeholder, replaced by the portal implementation."""

from django.http import HttpRequest, HttpResponse


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Cartable")


start = home = index
