"""The newest newspaper and periodical issues by their own date, for the home page (selectors.latest_issues)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0007_list_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="libraryitem",
            index=models.Index(
                condition=models.Q(("parent__isnull", False)),
                fields=["role", "-issued", "-id"],
                name="library_children_issued",
            ),
        ),
    ]
