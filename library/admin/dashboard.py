"""The library on the editor's dashboard, and its names for the media pipeline's jobs.

Panels: items of the editor's units not published yet (drafts, and imports waiting for review) and the latest
imports. The pipeline's job screens name a job by the item whose file it transcodes (``asset_labels``, the
``media_pipeline_asset_labels`` hook registered in wagtail_hooks): the pipeline itself knows no library item.
"""

from django.urls import reverse
from wagtail.admin.ui.components import Component

from .selectors import import_batches_recent_with_items, items_on_assets, items_unpublished


class UnpublishedItemsPanel(Component):
    """未发布的馆藏: drafts and imported items waiting for review, in the editor's units."""

    name = "lighthouse_unpublished_items"
    template_name = "library/admin/dashboard_unpublished.html"
    order = 40

    def get_context_data(self, parent_context):
        return {"items": items_unpublished(parent_context["request"].user)}


class RecentImportsPanel(Component):
    """最近导入: the latest catalogue imports into the editor's units, with what came of them and the first items
    each real import created (linked to their edit forms; 待审核 when they wait unpublished)."""

    name = "lighthouse_recent_imports"
    template_name = "library/admin/dashboard_imports.html"
    order = 60

    def get_context_data(self, parent_context):
        return {"batches": import_batches_recent_with_items(parent_context["request"].user)}


def asset_labels(*, asset_ids, user) -> dict[int, tuple[str, str]]:
    """{asset id: (item title, item edit URL)} for the assets of items this user manages; an asset two items share
    is named by the first."""
    labels = {}
    for item in items_on_assets(user=user, asset_ids=asset_ids).order_by("pk"):
        labels.setdefault(item.media_asset_id, (item.title, reverse("library_items:edit", args=[item.pk])))
    return labels
