"""Activation pages (the flow is described in views.py). /activation/ itself is portal:activate."""

from django.urls import path

from . import views

app_name = "activation"
urlpatterns = [
    path("compte-reinitialise/", views.start, {"reset": True}, name="reset"),
    path("charte/", views.charter, name="charter"),
    path("enfants/", views.birth_dates, name="birth_dates"),
    path("adresse/", views.email, name="email"),
    path("questions-secretes/", views.questions, name="questions"),
    path("mot-de-passe/", views.password, name="password"),
    path("courriel-envoye/", views.sent, name="sent"),
    path("confirmer/", views.confirm, name="confirm"),
    path("confirmer/<str:token>/", views.link, name="link"),
    path("compte-active/", views.done, name="done"),
    path("charte/nouvelle-version/", views.charter_update, name="charter_update"),
]
