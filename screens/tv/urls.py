"""The TV's URLs, mounted at /tv/ by cms.project.urls."""

from django.urls import path

from . import views

app_name = "screens_tv"
urlpatterns = [
    path("", views.home, name="home"),
    path("course/", views.course, name="course"),
    path("watch/<int:item_id>/", views.watch, name="watch"),
    path("search/", views.search_page, name="search"),
    path("signin/", views.signin_page, name="signin"),
    path("signin/poll/", views.signin_poll, name="signin_poll"),
    path("signin/phone/", views.signin_phone, name="signin_phone"),
    path("signout/", views.signout, name="signout"),
]
