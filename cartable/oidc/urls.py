"""The provider under /oidc/ (the issuer): discovery, authorize, token, userinfo, JWKS, logout.

DOT's own views, except authorization, token, userinfo and logout (cartable.oidc.views). The client management
pages DOT also offers are not mounted: clients are managed in the staff console.
"""

from django.urls import path, re_path
from oauth2_provider import views as dot

from . import views

app_name = "oauth2_provider"  # DOT reverses its endpoints under this namespace
urlpatterns = [
    re_path(r"^\.well-known/openid-configuration$", dot.ConnectDiscoveryInfoView.as_view(), name="oidc-connect-discovery-info"),
    path(".well-known/jwks.json", dot.JwksInfoView.as_view(), name="jwks-info"),
    path("authorize/", views.AuthorizeView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", dot.RevokeTokenView.as_view(), name="revoke-token"),
    path("userinfo/", views.UserInfoView.as_view(), name="user-info"),
    path("logout/", views.LogoutView.as_view(), name="rp-initiated-logout"),
]
