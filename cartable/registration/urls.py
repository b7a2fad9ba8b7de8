from django.urls import path

from . import views

app_name = "registration"
urlpatterns = [
    path("", views.start, name="start"),
    path("portable/", views.mobile, name="mobile"),
    path("code/", views.code, name="code"),
    path("code/renvoyer/", views.resend, name="resend"),
    path("enfants/", views.children, name="children"),
    path("charte/", views.charter, name="charter"),
    path("mot-de-passe/", views.password, name="password"),
    path("terminer/", views.finish, name="finish"),
    path("compte-active/", views.done, name="done"),
]
