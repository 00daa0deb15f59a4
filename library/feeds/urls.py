"""OPDS catalogue and podcast feeds. Mounted at /opds/ and /podcasts/ by cms/project/urls."""

from django.urls import path

from . import opds, podcast

opds_urlpatterns = [
    path("", opds.opds_root, name="opds_root"),
    path("login/", opds.opds_login, name="opds_login"),
    path("opensearch.xml", opds.opds_opensearch, name="opds_opensearch"),
    path("search", opds.opds_search, name="opds_search"),
    path("new/<str:kind>/", opds.opds_newest, name="opds_newest"),
    path("clc/", opds.opds_clc_index, name="opds_clc_index"),
    path("clc/<str:letter>/", opds.opds_clc, name="opds_clc"),
    path("lists/", opds.opds_lists, name="opds_lists"),
    path("lists/<slug:slug>/", opds.opds_list, name="opds_list"),
    path("periodicals/<int:item_id>/", opds.opds_periodical, name="opds_periodical"),
]

podcast_urlpatterns = [
    path("", podcast.podcast_index, name="podcast_index"),
    path("<int:series_id>.xml", podcast.podcast_feed, name="podcast_feed"),
    path("artwork.png", podcast.podcast_artwork, name="podcast_artwork"),
    path("episodes/<int:item_id>/audio.<str:extension>", podcast.podcast_episode_audio, name="podcast_episode_audio"),
    path(
        "episodes/<int:item_id>/transcript.vtt", podcast.podcast_episode_transcript, name="podcast_episode_transcript"
    ),
    path("episodes/<int:item_id>/chapters.json", podcast.podcast_episode_chapters, name="podcast_episode_chapters"),
]
