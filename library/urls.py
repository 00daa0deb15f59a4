"""Item file links: read and download redirects to short-lived signed URLs (OWNER: readers helper).
Mounted at /library-files/ by cms/urls."""

app_name = "library_files"
urlpatterns = []
