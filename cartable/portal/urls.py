from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("connexion/", views.start, name="start"),
    path("accueil/", views.home, name="home"),
]
