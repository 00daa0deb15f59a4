from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("站点与组织")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import checks  # noqa: F401  (registers system checks)
        from .signal_handlers import permission_names_translated

        post_migrate.connect(permission_names_translated, dispatch_uid="cms-permission-names")
