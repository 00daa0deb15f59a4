"""Gives existing editor and administrator groups "choose document" on their unit's collection.

Role groups made before cms.services.ROLE_COLLECTION_PERMISSIONS listed choose_document could upload documents but
not choose them in the item form, so city and county editors could not attach an e-book or a periodical issue.
New groups get it from the service; this brings the groups already in a database level with them. Idempotent;
reversing leaves the permission in place (taking it away would break items editors are working on).
"""

from django.db import migrations

GRANTED_ROLES = ("editor", "administrator")  # the roles cms.services grants collection permissions to


def grant_choose_document(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    UnitRole = apps.get_model("cms", "UnitRole")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    # A fresh database has neither the permission (created after migrating) nor any role group: nothing to do.
    choose = Permission.objects.filter(content_type__app_label="wagtaildocs", codename="choose_document").first()
    if choose is None:
        return
    roles = UnitRole.objects.filter(role__in=GRANTED_ROLES, unit__collection__isnull=False).select_related("unit")
    for role in roles:
        GroupCollectionPermission.objects.get_or_create(
            group_id=role.group_id, collection_id=role.unit.collection_id, permission=choose
        )


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0002_site_and_media"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(grant_choose_document, migrations.RunPython.noop)]
