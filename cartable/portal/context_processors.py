from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, object]:
    return {"SITE_URL": settings.SITE_URL, "DEMO": settings.DEMO, "SOURCE_CODE_URL": settings.SOURCE_CODE_URL}
