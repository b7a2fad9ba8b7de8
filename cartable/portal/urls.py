from django.urls import path
from django.utils.translation import gettext_lazy as _

from cartable.activation import views as activation_views

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("connexion/", views.start, name="start"),
    path("connexion/identifiant/", views.login_view, name="login"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("accueil/", views.home, name="home"),
    path("aide/", views.help_page, name="help"),
    # Built in the next issue (recovery and activation); until then an honest placeholder page.
    path(
        "connexion/identifiant-oublie/",
        views.coming_soon,
        {"title": _("Identifiant oublié")},
        name="forgot_identifier",
    ),
    path(
        "connexion/mot-de-passe-oublie/",
        views.coming_soon,
        {"title": _("Mot de passe oublié")},
        name="forgot_password",
    ),
    path("activation/", activation_views.start, name="activate"),  # the activation flow's start page
]
