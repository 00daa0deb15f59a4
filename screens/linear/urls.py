"""The linear channel's public routes, mounted at /linear/ by cms/project/urls.py."""

from django.urls import path

from . import views

app_name = "screens_linear"

urlpatterns = [
    path("<int:channel_id>/master.m3u8", views.master, name="master"),
    path("<int:channel_id>/<slug:rung>.m3u8", views.media, name="media"),
    path("units/<slug:code>/guide.xml", views.guide_xml, name="guide"),
    path("units/<slug:code>/channels.m3u", views.channels_m3u, name="channels"),
]
