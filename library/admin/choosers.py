"""Choosers for library items in the admin: any item an editor may use (curated lists, related items), and the
series/titles/issues an item may be filed under. Both search 300,000 rows by title in one page query."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import chooser as chooser_views
from wagtail.admin.viewsets.chooser import ChooserViewSet

from library.models import LibraryItem

from .selectors import items_choosable_by, parents_managed_by


class ItemSearchForm(BaseFilterForm):
    q = forms.CharField(
        label=_("搜索"), required=False, widget=forms.TextInput(attrs={"placeholder": _("标题、编号或 ISBN")})
    )

    def filter(self, objects):
        query = (self.cleaned_data.get("q") or "").strip()
        if not query:
            return objects
        self.is_searching, self.search_query = True, query
        if query.isdigit():
            # An id, an ISBN or an external number: exact lookups on indexed columns, no scan.
            return objects.filter(Q(pk=int(query)) | Q(isbn=query) | Q(external_id=query) | Q(title__istartswith=query))
        return objects.filter(title__icontains=query)


class ScopedChooseMixin:
    filter_form_class = ItemSearchForm
    ordering = ["-published_at", "-id"]
    per_page = 20

    def scoped(self):
        return items_choosable_by(self.request.user)

    def get_object_list(self):
        return self.scoped().only("id", "title", "kind", "role", "number", "year", "published_at")

    @property
    def columns(self):
        return [
            self.title_column,
            Column("kind", label=_("类型"), accessor="get_kind_display"),
            Column("role", label=_("层级"), accessor="get_role_display"),
            Column("number", label=_("期号"), accessor="number"),
            Column("year", label=_("年份"), accessor="year"),
        ]


class ItemChooseView(ScopedChooseMixin, chooser_views.ChooseView):
    pass


class ItemChooseResultsView(ScopedChooseMixin, chooser_views.ChooseResultsView):
    pass


class ItemChosenView(chooser_views.ChosenView):
    def get_object(self, pk):
        return items_choosable_by(self.request.user).get(pk=pk)


class ItemChooserViewSet(ChooserViewSet):
    model = LibraryItem
    icon = "media"
    choose_one_text = _("选择条目")
    choose_another_text = _("另选条目")
    edit_item_text = _("编辑条目")
    choose_view_class = ItemChooseView
    choose_results_view_class = ItemChooseResultsView
    chosen_view_class = ItemChosenView


class ParentScopedMixin(ScopedChooseMixin):
    def scoped(self):
        return parents_managed_by(self.request.user, kind=self.request.GET.get("kind") or None)


class ParentChooseView(ParentScopedMixin, chooser_views.ChooseView):
    pass


class ParentChooseResultsView(ParentScopedMixin, chooser_views.ChooseResultsView):
    pass


class ParentChosenView(chooser_views.ChosenView):
    def get_object(self, pk):
        return parents_managed_by(self.request.user).get(pk=pk)


class ParentChooserViewSet(ChooserViewSet):
    model = LibraryItem
    icon = "list-ul"
    choose_one_text = _("选择所属系列/期")
    choose_another_text = _("另选所属系列/期")
    edit_item_text = _("编辑")
    register_widget = False  # the item chooser is the default for LibraryItem; this one is asked for by name
    preserve_url_parameters = ["multiple", "kind"]
    choose_view_class = ParentChooseView
    choose_results_view_class = ParentChooseResultsView
    chosen_view_class = ParentChosenView


item_chooser_viewset = ItemChooserViewSet("library_item_chooser")
parent_chooser_viewset = ParentChooserViewSet("library_parent_chooser")


def parent_chooser_widget():
    """The parent chooser, told the form's current kind so it lists only series/issues of that kind."""
    return parent_chooser_viewset.widget_class(linked_fields={"kind": "#id_kind"})
