"""The library in the Wagtail admin: editors see and change only items of their part of the tree."""

from django.db.models import F
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from cms.selectors import units_managed_by
from media_pipeline.models import MediaAsset

from .forms import LibraryItemForm
from .models import LibraryItem
from .playback import item_playback
from .services import library_item_delete, library_item_save


def items_managed_by(user):
    return LibraryItem.objects.filter(owning_unit__in=units_managed_by(user))


class UnitScopedMixin:
    """Edit and delete views find only the editor's own items: another unit's item is a 404."""

    def get_queryset(self):
        return items_managed_by(self.request.user)


class ItemIndexView(generic.IndexView):
    def get_base_queryset(self):
        # Wagtail orders, filters and searches on top of this; the asset's job summary (kept on the asset at
        # every job transition) comes in the same query: one query per page, not one per row.
        return (
            items_managed_by(self.request.user)
            .select_related("owning_unit")  # the list shows each row's unit: one join, not a query per row
            .annotate(media_job_state=F("media_asset__state"))
        )


class ItemSaveMixin:
    def save_instance(self):
        form = self.form
        return library_item_save(
            item=form.instance,
            user=self.request.user,
            upload=form.cleaned_data.get("upload"),
            captions=form.cleaned_data.get("captions"),
            media_options=form.media_options() if form.cleaned_data.get("kind") == "video" else None,
            upload_id=form.cleaned_data.get("upload_id") if form.took_resumable_upload else None,
        )


class ItemCreateView(ItemSaveMixin, generic.CreateView):
    pass


class ItemEditView(ItemSaveMixin, UnitScopedMixin, generic.EditView):
    template_name = "library/admin/item_edit.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["playback"] = item_playback(self.object)
        return context


class ItemDeleteView(UnitScopedMixin, generic.DeleteView):
    def delete_action(self):
        library_item_delete(item=self.object)


def media_state(item):
    state = getattr(item, "media_job_state", None)
    return MediaAsset.State(state).label if state else ""


class LibraryItemViewSet(ModelViewSet):
    model = LibraryItem
    icon = "media"
    menu_label = _("数字图书馆")
    menu_order = 150
    add_to_admin_menu = True
    index_view_class = ItemIndexView
    add_view_class = ItemCreateView
    edit_view_class = ItemEditView
    delete_view_class = ItemDeleteView
    list_display = [
        "title",
        "kind",
        "owning_unit",
        "access",
        Column("media_state", label=_("转码状态"), accessor=media_state),
        "published_at",
    ]
    list_filter = ["kind", "access", "is_published"]
    search_fields = ["title", "creators"]
    list_per_page = 50

    def get_form_class(self, for_update=False):
        return LibraryItemForm


@hooks.register("register_admin_viewset")
def register_library_viewset():
    return LibraryItemViewSet("library_items")


# The import screen registers its own admin URLs and menu item (library/import_admin.py).
from . import import_admin  # noqa: E402, F401
