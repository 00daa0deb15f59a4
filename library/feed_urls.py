"""OPDS catalogue and podcast feeds (OWNER: feeds helper). Mounted at /opds/ and /podcasts/ by cms/urls."""

opds_urlpatterns = []
podcast_urlpatterns = []
