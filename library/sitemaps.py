"""The library's part of /sitemap.xml (mounted by cms/project/urls): the item pages an anonymous visitor may open,
with when each last changed. Members-only and unit-only items, and anything under a closed parent, are never listed
(``selectors.items_visible_to`` of an anonymous user decides, as for every other surface)."""

from django.contrib.auth.models import AnonymousUser
from django.contrib.sitemaps import Sitemap

from library.selectors import item_url, items_visible_to, library_page

# One sitemap file holds at most 50,000 URLs; the site's pages take the rest. The newest changes come first.
MAX_ITEMS = 45_000


class LibraryItemSitemap(Sitemap):
    limit = MAX_ITEMS

    def __init__(self):
        self.page = library_page()

    def items(self):
        if self.page is None:
            return []
        visible = items_visible_to(AnonymousUser()).only("id", "updated_at")
        return visible.order_by("-updated_at", "-id")[:MAX_ITEMS]

    def location(self, item) -> str:
        # A path: Django's sitemap view puts the served scheme and host in front.
        return item_url(item, page=self.page)

    def lastmod(self, item):
        return item.updated_at
