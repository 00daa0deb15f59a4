from django.conf import settings
from django.urls import include, path
from django.views.generic import TemplateView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from cms.views import large_type_toggle

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("search/", include("search.urls")),
    path("media-pipeline/uploads/", include("media_pipeline.upload_urls")),
    path("media-pipeline/", include("media_pipeline.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("preferences/large-type/", large_type_toggle, name="cms_large_type"),
    path("sitemap.xml", sitemap),
    path("robots.txt", TemplateView.as_view(template_name="robots.txt", content_type="text/plain")),
]

if not settings.S3_BUCKET:
    # Local media (the embedded default): masters and renditions only with a signed, expiring URL.
    from media_pipeline.views import media_file

    urlpatterns += [path("media/<path:path>", media_file, name="media_file")]

urlpatterns += [path("", include(wagtail_urls))]
