"""The tus endpoint for resumable master uploads. Mount it with
``path("media-pipeline/uploads/", include("media_pipeline.uploads.urls"))`` in cms/project/urls.py."""

from django.urls import path

from .views import UploadCollectionView, UploadResourceView

app_name = "media_uploads"

urlpatterns = [
    path("", UploadCollectionView.as_view(), name="collection"),
    path("<uuid:upload_id>", UploadResourceView.as_view(), name="resource"),
]
