from django.urls import path

from . import views

app_name = "media_pipeline"

urlpatterns = [
    path("hls/<int:rendition_id>/master.m3u8", views.hls_master, name="hls_master"),
    path("hls/<int:rendition_id>/<slug:variant>/index.m3u8", views.hls_variant, name="hls_variant"),
    path("assets/<int:asset_id>/poster.jpg", views.poster, name="poster"),
    path("jobs/<int:job_id>/status.json", views.job_status, name="job_status"),
]
