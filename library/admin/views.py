"""The admin views of library items: a list that stays one page of queries at 300,000 rows, the item form, and
a series/title/issue's children with links that add the next one. A stale edit form (another editor saved since
it was opened) is re-shown with the editor's values and the conflict, never saved over the other's work."""

from urllib.parse import urlencode

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn, Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.log_actions import log

from library.models import LISTED, LibraryItem
from library.services import library_item_delete, library_item_save
from library.site.playback import item_playback
from media_pipeline.models import MediaAsset

from .export import SafeExportMixin
from .selectors import (
    child_role,
    children_for_admin,
    items_managed_by,
    next_child_position,
    parents_managed_by,
)
from .services import EditConflict, library_item_claim_version

ADD_CHILD_LABELS = {
    LibraryItem.Role.EPISODE: _("添加一集"),
    LibraryItem.Role.ISSUE: _("添加一期"),
    LibraryItem.Role.ARTICLE: _("添加文章"),
}
PREFILL = ("kind", "role", "parent", "owning_unit", "position", "access")


class UnitScopedMixin:
    """Edit and delete views find only the editor's own items: another unit's item is a 404."""

    def get_queryset(self):
        return items_managed_by(self.request.user)


class ItemIndexView(SafeExportMixin, generic.IndexView):
    template_name = "library/admin/item_index.html"

    def get_base_queryset(self):
        # Wagtail orders, filters and searches on top of this; the asset's job summary (kept on the asset at
        # every job transition) comes in the same query: one query per page, not one per row. A subquery, not a
        # join: the paginator's COUNT(*) drops it, where a join stays (SQLite then reads every row's asset: 0.6 s
        # at 300,000 items; PostgreSQL removes the join itself).
        job_state = MediaAsset.objects.filter(pk=OuterRef("media_asset_id")).values("state")[:1]
        return (
            items_managed_by(self.request.user)
            .select_related("owning_unit")  # the list shows each row's unit: one join, not a query per row
            .annotate(media_job_state=Subquery(job_state))
        )

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # The list shows standalone items, series and titles (the rows readers browse); a series' episodes, a
        # title's issues and an issue's articles show when asked for (by parent or level) or found by search.
        asked = {"parent", "role"} & {key for key, value in self.request.GET.items() if value}
        if not asked and not self.is_searching:
            queryset = queryset.filter(LISTED)
        return queryset

    @cached_property
    def columns(self):
        return [BulkActionsCheckboxColumn("bulk_actions", obj_type="libraryitem"), *super().columns]

    def _get_title_column(self, *args, **kwargs):
        return super()._get_title_column(
            *args, **kwargs, get_title_id=lambda instance: f"libraryitem_{instance.pk}_title"
        )


class ItemSaveMixin:
    logged_action = "wagtail.create"  # in the item's history; an edit conflict names the last editor from it

    def claim(self, form):
        """Edit views check the form's version here, first thing in the save's transaction (new items: nothing)."""

    def save_instance(self):
        form = self.form
        with transaction.atomic():  # the item, its credits, tags and related items: all or nothing
            self.claim(form)
            item = library_item_save(
                item=form.save(commit=False),
                user=self.request.user,
                upload=form.cleaned_data.get("upload"),
                captions=form.cleaned_data.get("captions"),
                media_options=form.media_options() if form.cleaned_data.get("kind") == "video" else None,
                upload_id=form.cleaned_data.get("upload_id") if form.took_resumable_upload else None,
                credits=form.credits_list(),
                edited_fields=form.edited_fields(),
            )
            form.save_m2m()
            log(instance=item, action=self.logged_action, user=self.request.user)
        return item


KIND_HINTS = {
    LibraryItem.Kind.VIDEO: _("党课、讲座、纪录片：先上传视频文件，再填写介绍"),
    LibraryItem.Kind.AUDIO: _("有声读物、广播、讲座录音：先上传音频文件"),
    LibraryItem.Kind.ARTICLE: _("图文文章、通知、学习材料"),
    LibraryItem.Kind.EBOOK: _("图书：PDF 或 EPUB 文档，可填 ISBN"),
    LibraryItem.Kind.PERIODICAL: _("期刊的刊名、各期和文章"),
    LibraryItem.Kind.NEWSPAPER: _("报纸的报名、各期（日报）和文章"),
}


class ItemCreateView(ItemSaveMixin, generic.CreateView):
    """A new item starts with its kind (a page of big buttons), then that kind's form (forms.KIND_FIELDS); a link
    that adds an episode, issue or article brings its kind along and skips the choice."""

    template_name = "library/admin/item_create.html"

    def get(self, request, *args, **kwargs):
        if not self._chosen_kind() and not request.GET.get("parent"):
            self.object = None
            return self._choose_kind()
        return super().get(request, *args, **kwargs)

    def _chosen_kind(self) -> str | None:
        kind = self.request.GET.get("kind")
        return kind if kind in LibraryItem.Kind.values else None

    def _choose_kind(self):
        query = {key: value for key, value in self.request.GET.items() if key in PREFILL and key != "kind"}
        kinds = [
            {
                "value": value,
                "label": label,
                "hint": KIND_HINTS[value],
                "url": "?" + urlencode({**query, "kind": value}),
            }
            for value, label in LibraryItem.Kind.choices
        ]
        context = {**self.get_context_data(), "kinds": kinds}
        return TemplateResponse(self.request, "library/admin/item_kind_choose.html", context)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context.get("form")
        kind = getattr(form, "kind", None)
        if kind:
            context["kind_label"] = LibraryItem.Kind(kind).label
            query = {key: value for key, value in self.request.GET.items() if key in PREFILL and key != "kind"}
            context["choose_kind_url"] = reverse("library_items:add") + ("?" + urlencode(query) if query else "")
        return context

    def get_initial(self):
        """ "添加一集/一期/文章" links open this form with the child's kind, level, parent, unit and position."""
        initial = super().get_initial()
        wanted = {key: self.request.GET[key] for key in PREFILL if self.request.GET.get(key)}
        parent_id = wanted.get("parent", "")
        parent = parents_managed_by(self.request.user).filter(pk=parent_id).first() if parent_id.isdigit() else None
        if parent is not None:
            wanted.setdefault("kind", parent.kind)
            wanted.setdefault("role", child_role(parent))
            wanted.setdefault("owning_unit", parent.owning_unit_id)
            wanted.setdefault("access", parent.access)
            wanted.setdefault("position", next_child_position(parent))
            wanted["parent"] = parent.pk
        else:
            wanted.pop("parent", None)
        return {**initial, **wanted}


class ItemCopyView(ItemSaveMixin, generic.CopyView):
    """A copy starts as a new item: no file, no import identity, nothing the editor changed yet."""

    def get_initial_form_instance(self):
        instance = super().get_initial_form_instance()
        instance.media_asset, instance.external_id, instance.source, instance.edited_fields = None, "", "", []
        return instance


class ItemEditView(ItemSaveMixin, UnitScopedMixin, generic.EditView):
    template_name = "library/admin/item_edit.html"
    logged_action = "wagtail.edit"

    def claim(self, form):
        library_item_claim_version(item_id=self.object.pk, version=form.cleaned_data.get("version"))

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except EditConflict as conflict:  # the transaction rolled back: nothing of this save was kept
            form.add_error(None, conflict.message)
            form.reshow_at_version(conflict.version)
            self.produced_error_message, self.produced_error_code = conflict.message, "conflict"
            return self.form_invalid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["playback"] = item_playback(self.object)
        context.update(children_context(self.object))
        return context


def children_context(item: LibraryItem) -> dict:
    role = child_role(item)
    if role is None:
        return {}
    query = {"parent": item.pk, "kind": item.kind, "role": role, "owning_unit": item.owning_unit_id}
    query["position"] = next_child_position(item)
    return {
        "children": children_for_admin(parent=item),
        "children_total_url": reverse("library_items:index") + "?" + urlencode({"parent": item.pk}),
        "add_child_url": reverse("library_items:add") + "?" + urlencode(query),
        "add_child_label": ADD_CHILD_LABELS[role],
        "issue_pages_url": (
            reverse("library_issue_pages:index") + "?" + urlencode({"issue": item.pk})
            if item.role == LibraryItem.Role.ISSUE
            else ""
        ),
    }


class ItemDeleteView(UnitScopedMixin, generic.DeleteView):
    def delete_action(self):
        library_item_delete(item=self.object)


def media_state(item):
    state = getattr(item, "media_job_state", None)
    return MediaAsset.State(state).label if state else ""


def children_link(item):
    return _("下级 →") if child_role(item) else ""


def children_url(item):
    return reverse("library_items:index") + f"?parent={item.pk}" if child_role(item) else None


ITEM_COLUMNS = [
    "title",
    "kind",
    "role",
    "owning_unit",
    "access",
    Column("media_state", label=_("转码状态"), accessor=media_state),
    Column("year", label=_("年份"), accessor="year", sort_key="year"),
    Column("is_published", label=_("已发布"), accessor=lambda item: _("是") if item.is_published else _("否")),
    Column("published_at", label=_("发布时间"), accessor="published_at", sort_key="published_at"),
    TitleColumn("children", label=_("下级"), accessor=children_link, get_url=children_url),
]
# The list's CSV/XLSX export (Wagtail's ?export=): the catalogue fields an editor works with in a spreadsheet.
ITEM_EXPORT = [
    "id",
    "title",
    "get_kind_display",
    "get_role_display",
    "parent_id",
    "owning_unit",
    "get_access_display",
    "get_download_display",
    "is_published",
    "published_at",
    "creators",
    "isbn",
    "issn",
    "source",
    "external_id",
]
ITEM_EXPORT_HEADINGS = {
    "id": _("编号"),
    "title": _("标题"),
    "get_kind_display": _("类型"),
    "get_role_display": _("层级"),
    "parent_id": _("上级编号"),
    "owning_unit": _("所属单位"),
    "get_access_display": _("阅读权限"),
    "get_download_display": _("下载权限"),
    "is_published": _("已发布"),
    "published_at": _("发布时间"),
    "creators": _("作者"),
    "isbn": "ISBN",
    "issn": "ISSN",
    "source": _("导入来源"),
    "external_id": _("外部编号"),
}
