"""The web player's URLs, mounted at /screens/player/ by cms.project.urls."""

from django.urls import path

from . import views

app_name = "screens_player"
urlpatterns = [
    path("", views.player_page, name="page"),
    path("sw.js", views.service_worker, name="service_worker"),
]
