"""The "搜索" admin menu: synonyms, promoted results, the query report; the status page under Settings.

Only users holding the models' permissions see them (Wagtail's model permission policy): the province's editors and
administrators, whose role grants them (cms.services), and superusers.
"""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from search.admin_views import (
    IndexEntryChooserViewSet,
    PromotionCreateView,
    PromotionIndexView,
    QueryReportViewSet,
    StatusViewSet,
    SynonymCreateView,
)
from search.forms import INDEX_CHOOSER_NAME, PromotionForm, SynonymForm
from search.models import Promotion, Synonym


class SynonymViewSet(ModelViewSet):
    model = Synonym
    icon = "list-ul"
    menu_label = _("同义词")
    add_view_class = SynonymCreateView
    form_fields = ["terms", "is_active"]
    list_display = ["terms", BooleanColumn("is_active", label=_("启用"), sort_key="is_active"), "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["terms"]
    copy_view_enabled = False
    list_per_page = 50

    def get_form_class(self, for_update=False):
        return SynonymForm


def promoted_title(promotion: Promotion) -> str:
    # A document that left the index (deleted, unpublished) is shown by its id, so editors can clean up.
    return promotion.document_title or _("（已不在索引中）%(doc_id)s") % {"doc_id": promotion.doc_id}


class PromotionViewSet(ModelViewSet):
    model = Promotion
    icon = "pick"
    menu_label = _("推荐结果")
    index_view_class = PromotionIndexView
    add_view_class = PromotionCreateView
    form_fields = ["query", "doc_id", "sort_order", "starts_at", "ends_at", "note"]
    list_display = [
        "query",
        Column("document_title", label=_("推荐内容"), accessor=promoted_title),
        "sort_order",
        "starts_at",
        "ends_at",
        "note",
    ]
    search_fields = ["query", "doc_id", "note"]
    copy_view_enabled = False
    list_per_page = 50

    def get_form_class(self, for_update=False):
        return PromotionForm


class SearchViewSetGroup(ViewSetGroup):
    menu_label = _("搜索")
    menu_icon = "search"
    menu_order = 170
    items = (
        SynonymViewSet("search_synonyms"),
        PromotionViewSet("search_promotions"),
        QueryReportViewSet("search_report"),
    )


@hooks.register("register_admin_viewset")
def register_search_viewsets():
    return [SearchViewSetGroup(), StatusViewSet("search_status"), IndexEntryChooserViewSet(INDEX_CHOOSER_NAME)]
