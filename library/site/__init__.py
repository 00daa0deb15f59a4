"""What members see on the site: browse pages, an item's page with its player or reader, 我的图书馆, and the links
to an item's protected files (signed, short-lived). LibraryPage's routes (library/models.py) and library/urls.py
call the views here; the API and the admin reuse ``links``, ``playback`` and ``readers.page_image_url``."""
