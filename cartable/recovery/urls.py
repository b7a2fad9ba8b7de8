from django.urls import path

from . import views

app_name = "recovery"
urlpatterns = [
    path("identifiant/", views.identifier_request, name="identifier"),
    path("mot-de-passe/", views.password_request, name="password"),
    path("mot-de-passe/suite/", views.password_next, name="password_next"),
    path("mot-de-passe/renvoyer/", views.password_resend, name="password_resend"),
    path("mot-de-passe/questions/", views.password_questions, name="password_questions"),
    path("mot-de-passe/lien/<str:token>/", views.password_link, name="password_link"),
    path("mot-de-passe/nouveau/", views.password_set, name="password_set"),
    path("mot-de-passe/termine/", views.password_done, name="password_done"),
]
