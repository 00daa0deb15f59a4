from django.urls import include, path
from django.views.generic import TemplateView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms.project.api import api
from cms.project.sitemaps import sitemap
from cms.views import favicon, javascript_catalogue, large_type_toggle
from library.feeds.urls import opds_urlpatterns, podcast_urlpatterns
from media_pipeline.views import media_file

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("search/", include("search.urls")),
    path("study/", include("courses.urls")),
    path("tv/", include("screens.tv.urls")),  # the TV's 10-foot interface (screens/tv)
    path("api/v1/", api.urls),
    path("screens/player/", include("screens.player.urls")),  # the screens' web player (kiosks, TV browsers)
    path("opds/", include(opds_urlpatterns)),
    path("podcasts/", include(podcast_urlpatterns)),
    path("library-files/", include("library.urls")),
    path("media-pipeline/uploads/", include("media_pipeline.uploads.urls")),
    path("media-pipeline/", include("media_pipeline.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", javascript_catalogue, name="javascript-catalog"),
    path("preferences/large-type/", large_type_toggle, name="cms_large_type"),
    path("", include("cms.accounts.urls")),
    path("favicon.ico", favicon),
    path("sitemap.xml", sitemap),
    path("robots.txt", TemplateView.as_view(template_name="robots.txt", content_type="text/plain")),
]

# Local media (the embedded default), deny by default: Wagtail's images as they are, every other file (masters,
# renditions, captions, documents) only by its exact path with a signed, expiring URL. With S3 the storage hands
# out presigned S3 URLs and nothing is stored under MEDIA_ROOT, so this serves nothing there. Wagtail documents
# are served by /documents/<id>/<name> above, after the library's before_serve_document check.
urlpatterns += [path("media/<path:path>", media_file, name="media_file")]  # GET and HEAD (require_safe)

# The screens' linear channel (issue 18): live HLS, XMLTV guide and M3U for IPTV boxes, anonymous like broadcast.
urlpatterns += [path("linear/", include("screens.linear.urls"))]

urlpatterns += [path("", include(wagtail_urls))]
