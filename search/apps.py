from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = _("搜索")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Apps register their searchable models in `<app>/search_documents.py`; search imports none of them.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("search_documents")
        import search.signal_handlers  # noqa: F401  (connects the editors' cache receivers)

        from . import checks  # noqa: F401  (registers the engine probe)
