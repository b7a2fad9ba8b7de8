from django.urls import path

from cartable.activation import views as activation_views
from cartable.recovery import views as recovery_views

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("connexion/", views.start, name="start"),
    path("connexion/identifiant/", views.login_view, name="login"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("accueil/", views.home, name="home"),
    path("aide/", views.help_page, name="help"),
    # The recovery app's first steps, also under these names (the login page links to them).
    path("connexion/identifiant-oublie/", recovery_views.identifier_request, name="forgot_identifier"),
    path("connexion/mot-de-passe-oublie/", recovery_views.password_request, name="forgot_password"),
    path("activation/", activation_views.start, name="activate"),  # the activation flow's start page
]
