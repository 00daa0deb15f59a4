from django.urls import path

from . import views

app_name = "media_pipeline"

urlpatterns = [
    path("hls/<int:rendition_id>/master.m3u8", views.hls_master, name="hls_master"),
    path("hls/<int:rendition_id>/<slug:variant>/index.m3u8", views.hls_variant, name="hls_variant"),
    path("hls/<int:rendition_id>/iframes/<slug:variant>.m3u8", views.hls_iframes, name="hls_iframes"),
    path("hls/<int:rendition_id>/subs/<slug:language>.m3u8", views.hls_subtitles, name="hls_subtitles"),
    path("assets/<int:asset_id>/poster.jpg", views.poster, name="poster"),
    path("jobs/<int:job_id>/status.json", views.job_status, name="job_status"),
]
