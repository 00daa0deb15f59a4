"""Curated lists (专题与推荐) in the admin: a list's items in the editor's order, chosen with the item chooser."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.model import ModelViewSet

from library.models import ItemList

from .export import SafeExportMixin
from .scoping import scoped
from .selectors import item_lists_managed_by, items_choosable_by, units_for_editor
from .units import tree_field


class OrderedInlinePanel(InlinePanel):
    """An InlinePanel with up/down ordering, for child models that keep a sort_order column but do not declare
    Wagtail's sort_order_field (ItemListEntry): the form writes the order itself (ItemListForm.save)."""

    def get_form_options(self):
        options = super().get_form_options()
        options["formsets"][self.relation_name]["can_order"] = True
        return options


class ItemListForm(WagtailAdminModelForm):
    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        if for_user is not None:
            # The editor's units as an indented tree, like the item form's (admin/units.py).
            self.fields["owning_unit"] = tree_field(self.fields["owning_unit"], units_for_editor(for_user))
            # An entry names an item the editor manages or a public one (the chooser offers the same).
            entries = self.formsets.get("entries")
            for form in entries.forms if entries is not None else ():
                form.fields["item"].queryset = items_choosable_by(for_user)

    def save(self, commit=True):
        entries = self.formsets.get("entries")
        if entries is not None and entries.can_order:
            for index, form in enumerate(entries.ordered_forms):
                form.instance.sort_order = index
        return super().save(commit=commit)


class ListScopedMixin:
    def get_queryset(self):
        return item_lists_managed_by(self.request.user)


class ItemListIndexView(SafeExportMixin, generic.IndexView):
    def get_base_queryset(self):
        return item_lists_managed_by(self.request.user).select_related("owning_unit")


class ItemListEditView(ListScopedMixin, generic.EditView):
    pass


class ItemListDeleteView(ListScopedMixin, generic.DeleteView):
    pass


class ItemListViewSet(ModelViewSet):
    model = ItemList
    icon = "list-ul"
    menu_label = _("专题与推荐")
    index_view_class = ItemListIndexView
    edit_view_class = ItemListEditView
    delete_view_class = ItemListDeleteView
    list_display = [
        "title",
        "kind",
        "owning_unit",
        BooleanColumn("is_published", label=_("已发布"), sort_key="is_published"),  # a tick, not "True"
        "starts_on",
        "ends_on",
    ]
    list_filter = ["kind", "is_published"]
    search_fields = ["title"]
    copy_view_enabled = False
    history_view_class = scoped(HistoryView, item_lists_managed_by)
    usage_view_class = scoped(UsageView, item_lists_managed_by)
    edit_handler = ObjectList(
        [
            FieldPanel("title"),
            FieldPanel("slug"),
            FieldRowPanel([FieldPanel("kind"), FieldPanel("owning_unit")]),
            FieldPanel("summary"),
            FieldPanel("cover"),
            FieldRowPanel([FieldPanel("starts_on"), FieldPanel("ends_on")]),
            FieldPanel("is_published"),
            OrderedInlinePanel("entries", label=_("条目"), panels=[FieldPanel("item"), FieldPanel("note")]),
        ],
        base_form_class=ItemListForm,
    )
