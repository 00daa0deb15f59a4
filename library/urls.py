"""Item file links: read and download redirects to short-lived signed URLs, and what a reader without the download
right reads instead (a PDF's page images, an EPUB's parts). Mounted at /library-files/ by cms/project/urls; the
views are in library/site/files.py."""

from django.urls import path

from .site.files import epub_index, epub_member, item_download, item_pages, item_read

app_name = "library_files"
urlpatterns = [
    path("items/<int:item_id>/download/", item_download, name="download"),
    path("items/<int:item_id>/read/", item_read, name="read"),
    path("items/<int:item_id>/pages/", item_pages, name="pages"),
    path("items/<int:item_id>/epub/", epub_index, name="epub_index"),
    path("items/<int:item_id>/epub/<path:name>", epub_member, name="epub_member"),
]
