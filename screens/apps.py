from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreensConfig(AppConfig):
    name = "screens"
    verbose_name = _("屏幕与电视")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Every change a stored manifest depends on enqueues its recomputation (screens/signal_handlers.py).
        from . import signal_handlers

        signal_handlers.connect()
