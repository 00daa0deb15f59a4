from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("灯塔大课堂")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # What the courses hear from the library (credited study time) and from Wagtail (a course published).
        from . import signal_handlers

        signal_handlers.connect()
