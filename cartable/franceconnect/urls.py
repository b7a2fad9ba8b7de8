from django.urls import path

from . import views

app_name = "franceconnect"
urlpatterns = [
    path("connexion/", views.start, name="start"),
    path("retour/", views.callback, name="callback"),
    path("deconnecte/", views.logged_out, name="logged_out"),
]
