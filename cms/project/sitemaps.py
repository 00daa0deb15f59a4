"""/sitemap.xml: the site's live public pages (Wagtail) and the library's open items, every URL on the host that
was asked for. Wagtail writes a page's URL with its Site record's hostname (the demo's is ``localhost``); a
crawler that reached us as ``dangjian.example.cn`` must get that host back, so each page URL keeps only its path
and takes the request's scheme and host (ALLOWED_HOSTS already decided which hosts are ours)."""

from urllib.parse import urlsplit

from django.contrib.sitemaps.views import sitemap as django_sitemap
from wagtail.contrib.sitemaps.sitemap_generator import Sitemap as WagtailSitemap

from library.sitemaps import LibraryItemSitemap


class ServedHostPageSitemap(WagtailSitemap):
    def _urls(self, page, protocol, domain):
        urls = super()._urls(page, protocol, domain)
        for url in urls:
            parts = urlsplit(url["location"])
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            url["location"] = self.request.build_absolute_uri(path)
        return urls


def sitemap(request):
    sections = {"pages": ServedHostPageSitemap(request), "library": LibraryItemSitemap()}
    return django_sitemap(request, sections)
