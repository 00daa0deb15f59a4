"""Admin views for search editors: the index chooser for promotions, the query report (with CSV) and the
status page. Who may open them: Wagtail's model permission policy. Province editors and administrators hold the
synonym, promotion and statistics permissions through their role (cms.services.ROLE_LEVEL_MODEL_PERMISSIONS); the
status page is for whoever runs the servers (superusers)."""

import csv
import io

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.generic import chooser as chooser_views
from wagtail.admin.views.generic.models import CreateView, IndexView
from wagtail.admin.viewsets.base import ViewSet
from wagtail.admin.viewsets.chooser import ChooserViewSet
from wagtail.permissions import policy_registry

from search.forms import IndexEntryFilterForm
from search.models import IndexEntry, OutboxEntry, Promotion, QueryStat
from search.registry import kind_label
from search.selectors import (
    ACCESS_LABELS,
    PERIODS,
    period_start,
    promotions_with_titles,
    search_status,
    top_queries,
    zero_result_queries,
)

REPORT_PER_PAGE = 50
REPORTS = {"top": top_queries, "zero": zero_result_queries}
# Spreadsheet programs run a cell that starts with one of these as a formula; queries are typed by anyone.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _require(request: HttpRequest, model, actions: list[str]) -> None:
    if not policy_registry.get_by_type(model).user_has_any_permission(request.user, actions):
        raise PermissionDenied


def _allowed(model, actions: list[str]):
    def is_shown(_item, request) -> bool:
        return policy_registry.get_by_type(model).user_has_any_permission(request.user, actions)

    return is_shown


# --- Choosing a document to promote, from the embedded index (the rows every engine's documents reach).


def access_label(entry: IndexEntry) -> str:
    return str(ACCESS_LABELS.get(entry.access, entry.access))


class _PromotionEditorsOnly:
    def dispatch(self, request, *args, **kwargs):
        # The index holds members-only and unit-only titles: only promotion editors browse it.
        _require(request, Promotion, ["add", "change"])
        return super().dispatch(request, *args, **kwargs)


class _IndexEntryListing(_PromotionEditorsOnly):
    filter_form_class = IndexEntryFilterForm
    # Newest first before anything is typed: the primary key is indexed, a title sort over 300,000 rows is not
    # (a search orders by its own ranking instead).
    ordering = ["-pk"]

    @property
    def columns(self):
        title = TitleColumn(
            "title",
            label=gettext_lazy("标题"),
            accessor="title",
            get_url=lambda entry: self.append_preserved_url_parameters(reverse(self.chosen_url_name, args=(entry.pk,))),
            link_attrs={"data-chooser-modal-choice": True},
        )
        # Titles and kinds in words: the document's id ("library.libraryitem:28") is for machines, not editors.
        return [
            title,
            Column("kind", label=gettext_lazy("类型"), accessor=lambda entry: kind_label(entry.kind)),
            Column("access", label=gettext_lazy("访问权限"), accessor=access_label),
        ]


class IndexEntryChooseView(_IndexEntryListing, chooser_views.ChooseView):
    pass


class IndexEntryChooseResultsView(_IndexEntryListing, chooser_views.ChooseResultsView):
    pass


class IndexEntryChosenView(_PromotionEditorsOnly, chooser_views.ChosenView):
    def get_object_id(self, instance):
        return instance.doc_id

    def get_display_title(self, instance):
        return instance.title

    def get_edit_item_url(self, instance):
        return ""


class IndexEntryChooserViewSet(ChooserViewSet):
    model = IndexEntry
    icon = "search"
    choose_one_text = gettext_lazy("选择推荐内容")
    page_title = gettext_lazy("从搜索索引中选择")
    search_tab_label = gettext_lazy("搜索")
    register_widget = False  # the promotion form uses forms.IndexEntryChooser (it stores doc_id)
    per_page = 20
    choose_view_class = IndexEntryChooseView
    choose_results_view_class = IndexEntryChooseResultsView
    chosen_view_class = IndexEntryChosenView


# --- Create views that take a starting value from the query report's links ("推荐 / 同义词 for this query").


class PrefilledCreateView(CreateView):
    prefill_field = ""

    def get_initial(self):
        initial = super().get_initial()
        value = self.request.GET.get(self.prefill_field, "").strip()
        if value:
            initial[self.prefill_field] = value[:100]
        return initial


class SynonymCreateView(PrefilledCreateView):
    prefill_field = "terms"


class PromotionCreateView(PrefilledCreateView):
    prefill_field = "query"


class PromotionIndexView(IndexView):
    def get_base_queryset(self):
        return promotions_with_titles()


# --- 搜索统计


def _period(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", PERIODS[0]))
    except ValueError:
        return PERIODS[0]
    return days if days in PERIODS else PERIODS[0]


def _safe_cell(value) -> str:
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _report_csv(report: str, days: int) -> HttpResponse:
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow([_("搜索词"), _("搜索次数"), _("无结果次数"), _("最近结果数")])
    for row in REPORTS[report](since=period_start(days)).iterator():
        writer.writerow(
            [_safe_cell(row["query"]), row["search_count"], row["no_result_count"], row["latest_total"] or 0]
        )
    # With a BOM, Excel on Chinese Windows reads the file as UTF-8.
    response = HttpResponse("\ufeff" + stream.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="search-{report}-{days}d.csv"'
    return response


@require_GET
def query_report(request: HttpRequest) -> HttpResponse:
    _require(request, QueryStat, ["view"])
    days = _period(request)
    export = request.GET.get("export", "")
    if export in REPORTS:
        return _report_csv(export, days)
    since = period_start(days)
    context = {
        "days": days,
        "periods": PERIODS,
        "since": since,
        "top": Paginator(top_queries(since=since), REPORT_PER_PAGE).get_page(request.GET.get("top_page")),
        "zero": Paginator(zero_result_queries(since=since), REPORT_PER_PAGE).get_page(request.GET.get("zero_page")),
    }
    return TemplateResponse(request, "search/admin/query_report.html", context)


@require_GET
def status_page(request: HttpRequest) -> HttpResponse:
    _require(request, OutboxEntry, ["view"])
    return TemplateResponse(request, "search/admin/status.html", {"status": search_status()})


class PageViewSet(ViewSet):
    """One plain admin page with a menu entry shown only to users with `actions` on `model`."""

    view = None
    model = None
    actions: list[str] = ["view"]

    def get_urlpatterns(self):
        return [path("", self.view, name="index")]

    @property
    def menu_item_class(self):
        return type(f"{self.name}MenuItem", (MenuItem,), {"is_shown": _allowed(self.model, self.actions)})


class QueryReportViewSet(PageViewSet):
    view = staticmethod(query_report)
    model = QueryStat
    icon = "table"
    menu_label = gettext_lazy("搜索统计")


class StatusViewSet(PageViewSet):
    view = staticmethod(status_page)
    model = OutboxEntry
    icon = "info-circle"
    menu_label = gettext_lazy("搜索状态")
    add_to_settings_menu = True
