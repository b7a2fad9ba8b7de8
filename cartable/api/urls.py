from django.http import HttpRequest, JsonResponse
from django.urls import re_path

from .api import api


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other address under /api/v1/: a JSON answer too (a mobile app parses every answer)."""
    return JsonResponse({"error": "not_found", "detail": "Cette adresse n'existe pas dans l'API."}, status=404)


# Mounted at /api/v1/ by cartable.urls, under the namespace "api" (django-ninja reverses its
# views there to write the OpenAPI document).
urlpatterns, app_name, _namespace = api.urls
app_name = "api"
urlpatterns = [*urlpatterns, re_path(r"^(?P<rest>.*)$", not_found)]
