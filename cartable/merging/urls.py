from django.urls import path

from . import views

app_name = "merging"
urlpatterns = [
    path("", views.start, name="start"),
    path("confirmer/", views.confirm, name="confirm"),
    path("termine/", views.done, name="done"),
]
