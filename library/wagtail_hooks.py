"""The library in the Wagtail admin: items, serial trees, issue pages with article areas, curated lists.

Editors see and change only items of their part of the organisation tree (admin.selectors.items_managed_by);
another unit's item is a 404 in edit, delete and bulk actions. Items stay a ModelViewSet at /admin/library_items/
(Wagtail's bulk-action framework works for any model, see admin/bulk.py), under one "数字图书馆" menu with the
curated lists.
"""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import registry as log_registry
from wagtail.models import ModelLogEntry
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from .admin.bulk import BULK_ACTIONS
from .admin.choosers import item_chooser_viewset, parent_chooser_viewset
from .admin.dashboard import RecentImportsPanel, UnpublishedItemsPanel
from .admin.dashboard import asset_labels as dashboard_asset_labels
from .admin.documents import library_document_guard
from .admin.filters import LibraryItemFilterSet
from .admin.forms import LibraryItemForm
from .admin.issues import IssuePageViewSet
from .admin.lists import ItemListViewSet
from .admin.scoping import scoped
from .admin.selectors import items_managed_by
from .admin.views import (
    ITEM_COLUMNS,
    ITEM_EXPORT,
    ITEM_EXPORT_HEADINGS,
    ItemCopyView,
    ItemCreateView,
    ItemDeleteView,
    ItemEditView,
    ItemIndexView,
)
from .models import IssuePage, ItemList, LibraryItem

# Unit editors hold the library item permissions (cms.services.ROLE_MODEL_PERMISSIONS); pages of an issue and
# curated lists are part of the same work, so the same permissions open them (which rows: the views' querysets).
register_permission_policy(IssuePage, ModelPermissionPolicy(IssuePage, auth_model=LibraryItem), exact_class=True)
register_permission_policy(ItemList, ModelPermissionPolicy(ItemList, auth_model=LibraryItem), exact_class=True)
# The item form's saves are logged (who, when): the history view shows them, and an edit conflict names who saved.
log_registry.register_model(LibraryItem, ModelLogEntry)


class LibraryItemViewSet(ModelViewSet):
    model = LibraryItem
    icon = "media"
    menu_label = _("馆藏条目")
    index_view_class = ItemIndexView
    add_view_class = ItemCreateView
    edit_view_class = ItemEditView
    delete_view_class = ItemDeleteView
    history_view_class = scoped(HistoryView, items_managed_by)
    usage_view_class = scoped(UsageView, items_managed_by)
    copy_view_class = scoped(ItemCopyView, items_managed_by)
    list_display = ITEM_COLUMNS
    list_export = ITEM_EXPORT
    export_headings = ITEM_EXPORT_HEADINGS
    export_filename = "library-items"
    filterset_class = LibraryItemFilterSet
    search_fields = ["title", "creators", "isbn", "external_id"]
    list_per_page = 50

    def get_form_class(self, for_update=False):
        return LibraryItemForm


class LibraryViewSetGroup(ViewSetGroup):
    menu_label = _("数字图书馆")
    menu_icon = "media"
    menu_order = 150
    items = (LibraryItemViewSet("library_items"), ItemListViewSet("library_lists"))


@hooks.register("register_admin_viewset")
def register_library_viewsets():
    return [
        LibraryViewSetGroup(),
        IssuePageViewSet("library_issue_pages"),
        item_chooser_viewset,
        parent_chooser_viewset,
    ]


for _action in BULK_ACTIONS:
    hooks.register("register_bulk_action", _action)


@hooks.register("construct_homepage_panels")
def dashboard_library_panels(request, panels):
    panels += [UnpublishedItemsPanel(), RecentImportsPanel()]


# The pipeline's job screens name a job by the item whose file it transcodes (the pipeline knows no item).
hooks.register("media_pipeline_asset_labels", dashboard_asset_labels)


@hooks.register("before_serve_document")
def guard_library_documents(document, request):
    return library_document_guard(document, request)


# The import screen registers its own admin URLs and menu item (library/imports/admin.py).
from .imports import admin as import_screen  # noqa: E402, F401


@hooks.register("construct_home_page")
def home_page_rows(request, sections):
    """The site's home page: 本月推荐, 继续学习, the newest videos, audio, reading and newspaper/periodical issues."""
    from .site.home import home_sections

    home_sections(request, sections)
