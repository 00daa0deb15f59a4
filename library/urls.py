"""Item file links: read and download redirects to short-lived signed URLs (OWNER: readers helper).
Mounted at /library-files/ by cms/urls."""

from django.urls import path

from .file_views import item_download, item_read

app_name = "library_files"
urlpatterns = [
    path("items/<int:item_id>/download/", item_download, name="download"),
    path("items/<int:item_id>/read/", item_read, name="read"),
]
