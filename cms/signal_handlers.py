"""Signal receivers of the organisation app: permission names in Chinese after every migrate.

Django stores a permission's name when it creates it, in English ("Can add group", "Can access Wagtail admin"), and
Wagtail's group editor shows those stored names (as labels and screen-reader text) to whoever grants rights. After
each app's migrate the names are rewritten in the site's language: "可以添加组" for a model's own four permissions,
the catalogue's translation for Wagtail's and other named permissions (a name the catalogue does not know stays).
"""

from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

BUILTIN_NAMES = {
    "add": gettext_noop("可以添加%(model)s"),
    "change": gettext_noop("可以修改%(model)s"),
    "delete": gettext_noop("可以删除%(model)s"),
    "view": gettext_noop("可以查看%(model)s"),
}


def permission_name_in_chinese(*, codename: str, name: str, model) -> str:
    """The name this permission should have in the site's language (the current one when nothing fits)."""
    action, _, model_name = codename.partition("_")
    if model is not None and action in BUILTIN_NAMES and model_name == model._meta.model_name:
        return gettext(BUILTIN_NAMES[action]) % {"model": model._meta.verbose_name}
    return gettext(name)


def _model(app_label: str, model_name: str):
    try:
        return global_apps.get_model(app_label, model_name, require_ready=False)
    except LookupError:  # a content type left behind by a model that is gone
        return None


def permission_names_translated(sender, app_config=None, using=DEFAULT_DB_ALIAS, apps=global_apps, **kwargs):
    """post_migrate: the app's permissions renamed. They are created first (Django's own receiver, which creates
    them, may run after this one), so the rename never misses a permission that this migrate added."""
    app_config = app_config or sender
    if not app_config.models_module:
        return
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    Permission = apps.get_model("auth", "Permission")
    with translation.override(settings.LANGUAGE_CODE):
        permissions = Permission.objects.using(using).filter(content_type__app_label=app_config.label)
        for permission in permissions.select_related("content_type"):
            model = _model(app_config.label, permission.content_type.model)
            name = permission_name_in_chinese(codename=permission.codename, name=permission.name, model=model)
            name = name[: Permission._meta.get_field("name").max_length]
            if name != permission.name:
                Permission.objects.using(using).filter(pk=permission.pk).update(name=name)
