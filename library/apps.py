from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LibraryConfig(AppConfig):
    name = "library"
    verbose_name = _("数字图书馆")
    default_auto_field = "django.db.models.BigAutoField"
