import mimetypes

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LibraryConfig(AppConfig):
    name = "library"
    verbose_name = _("数字图书馆")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The readers (pdf.js, foliate-js) are ES modules: browsers run a module only when it is served as
        # JavaScript, and Python 3.11's table does not know ".mjs".
        mimetypes.add_type("text/javascript", ".mjs")
        # What the library hears from the media pipeline and from Wagtail's document model.
        from . import signal_handlers

        signal_handlers.connect()
