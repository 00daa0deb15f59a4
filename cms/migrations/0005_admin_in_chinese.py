"""The admin in Chinese: Wagtail's own starting rows get Chinese names, page types a plural, search tools a role.

Wagtail's migrations create a few rows with English names that every editor then meets: the root page and the
root collection ("Root", in every page and collection chooser), the default moderation workflow and its task
("Moderators approval", on every page's "submit" button), the two default groups ("Editors", "Moderators") and the
placeholder home page ("Welcome to your new Wagtail site!", which the demo deletes but the site history keeps).
They are renamed here, each only while it still has Wagtail's English name (a name someone chose stays).

Province editors look after search for the whole province (synonyms, promoted results, search statistics):
cms.services grants those permissions to the province's role groups; this brings the groups already in a database
level with them (a fresh database has no groups yet, and no permissions before its first migrate ends).
"""

from django.db import migrations

RENAMES = [
    # (app label, model, field, Wagtail's English value, Chinese value)
    ("wagtailcore", "Page", "title", "Root", "根目录"),
    ("wagtailcore", "Page", "draft_title", "Root", "根目录"),
    ("wagtailcore", "Collection", "name", "Root", "全部素材"),
    ("wagtailcore", "Workflow", "name", "Moderators approval", "审核"),
    ("wagtailcore", "Task", "name", "Moderators approval", "审核员审批"),
    ("auth", "Group", "name", "Moderators", "审核员"),
    ("auth", "Group", "name", "Editors", "全站编辑"),
    ("wagtailcore", "Page", "title", "Welcome to your new Wagtail site!", "欢迎页"),
    ("wagtailcore", "Page", "draft_title", "Welcome to your new Wagtail site!", "欢迎页"),
    ("wagtailcore", "PageLogEntry", "label", "Welcome to your new Wagtail site!", "欢迎页"),
]
# What cms.services.ROLE_LEVEL_MODEL_PERMISSIONS grants province editors and administrators.
SEARCH_PERMISSIONS = [
    "add_synonym",
    "change_synonym",
    "delete_synonym",
    "view_synonym",
    "add_promotion",
    "change_promotion",
    "delete_promotion",
    "view_promotion",
    "view_querystat",
]


def rename_wagtail_defaults(apps, schema_editor):
    for app_label, model_name, field, english, chinese in RENAMES:
        model = apps.get_model(app_label, model_name)
        model.objects.filter(**{field: english}).update(**{field: chinese})


def grant_search_tools(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    UnitRole = apps.get_model("cms", "UnitRole")
    permissions = list(Permission.objects.filter(content_type__app_label="search", codename__in=SEARCH_PERMISSIONS))
    roles = UnitRole.objects.filter(unit__level="province", role__in=("editor", "administrator")).select_related("group")
    for role in roles:
        role.group.permissions.add(*permissions)


def forwards(apps, schema_editor):
    rename_wagtail_defaults(apps, schema_editor)
    grant_search_tools(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0004_image_file_indexes"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="educationbasepage",
            options={"verbose_name": "教育基地", "verbose_name_plural": "教育基地"},
        ),
        migrations.AlterModelOptions(
            name="homepage",
            options={"verbose_name": "首页", "verbose_name_plural": "首页"},
        ),
        migrations.AlterModelOptions(
            name="sectionpage",
            options={"verbose_name": "栏目页", "verbose_name_plural": "栏目页"},
        ),
        migrations.AlterModelOptions(
            name="standardpage",
            options={"verbose_name": "普通页面", "verbose_name_plural": "普通页面"},
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
