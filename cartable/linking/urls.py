from django.urls import path

from . import views

app_name = "linking"
urlpatterns = [
    path("signaler/<int:pk>/", views.report, name="report"),
]
