from django.urls import path

from . import views

app_name = "myaccount"
urlpatterns = [
    path("", views.profile, name="profile"),
    path("telephone/", views.mobile, name="mobile"),
    path("telephone/code/", views.mobile_confirm, name="mobile_confirm"),
    path("enfants/", views.children, name="children"),
    path("securite/", views.security, name="security"),
    path("securite/mot-de-passe/", views.password, name="password"),
    path("securite/adresse/", views.email, name="email"),
    path("securite/questions/", views.questions, name="questions"),
    path("adresse/confirmer/", views.email_confirm, name="email_confirm"),
    path("adresse/<str:token>/", views.email_link, name="email_link"),
]
