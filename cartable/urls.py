from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("console/", admin.site.urls),
    path("recuperation/", include("cartable.recovery.urls")),
    path("mon-compte/", include("cartable.myaccount.urls")),
    path("", include("cartable.portal.urls")),
    path("activation/", include("cartable.activation.urls")),
    path("inscription/", include("cartable.registration.urls")),
    path("liens/", include("cartable.linking.urls")),
    path("regroupement/", include("cartable.merging.urls")),
    path("franceconnect/", include("cartable.franceconnect.urls")),
    path("oidc/", include("cartable.oidc.urls")),
    path("api/v1/", include("cartable.api.urls")),
    path("cas/", include("cartable.sso.urls")),
]
if settings.DEMO:
    urlpatterns.append(path("demo/", include("cartable.demo.urls")))
