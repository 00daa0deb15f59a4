"""Bulk actions on selected items of the admin list (publish, unpublish, set access, delete).

Wagtail's bulk-action framework is model-agnostic: the item list (a ModelViewSet, which keeps /admin/library_items/)
adds the checkbox column and the action bar, and these actions are dispatched at /admin/bulk/library/libraryitem/…/.
Every action finds the selected ids among the editor's own items; one that is not theirs makes it a 404. The writes
are services in admin/services.py.
"""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.views.bulk_action import BulkAction

from library.models import LibraryItem

from .selectors import items_managed_by, units_for_editor
from .services import library_items_delete, library_items_publish, library_items_set_access

MAX_SELECTED = 500  # one listing page is 50; a request naming more ids than this is not from the list


class LibraryItemBulkAction(BulkAction):
    models = [LibraryItem]
    template_name = "library/admin/bulk_confirm.html"
    confirm_text = ""
    action_button_class = ""

    @cached_property
    def _selected(self):
        ids = {value for value in self.request.GET.getlist("id") if value.isdigit()}
        if not ids or len(ids) > MAX_SELECTED:
            raise Http404
        items = list(items_managed_by(self.request.user).filter(pk__in=ids).only("id", "title", "kind", "access"))
        if len(items) != len(ids):
            raise Http404  # another unit's item (or one that is gone): not the editor's to change
        return items

    def get_actionable_objects(self):
        return self._selected, {"items_with_no_access": []}

    def object_context(self, obj):
        return {"item": obj, "edit_url": reverse("library_items:edit", args=[obj.pk])}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            confirm_text=self.confirm_text,
            action_button_class=self.action_button_class,
            display_name=self.display_name,
            header_icon="media",
        )
        return context

    def get_execution_context(self):
        return {"user": self.request.user, "form": self.cleaned_form}

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext("已处理 %(count)d 个条目。", "已处理 %(count)d 个条目。", num_parent_objects) % {
            "count": num_parent_objects
        }


class PublishBulkAction(LibraryItemBulkAction):
    display_name = _("发布")
    action_type = "publish"
    aria_label = _("发布所选条目")
    action_priority = 10
    confirm_text = _("确定发布以下条目吗？")

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        return library_items_publish(user=user, item_ids=[obj.pk for obj in objects], published=True), 0


class UnpublishBulkAction(LibraryItemBulkAction):
    display_name = _("取消发布")
    action_type = "unpublish"
    aria_label = _("取消发布所选条目")
    action_priority = 20
    confirm_text = _("确定取消发布以下条目吗？读者将看不到它们。")

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        return library_items_publish(user=user, item_ids=[obj.pk for obj in objects], published=False), 0


class AccessForm(forms.Form):
    access = forms.ChoiceField(label=_("阅读权限"), choices=LibraryItem.Access.choices)
    access_unit = forms.ModelChoiceField(label=_("可阅读的单位"), queryset=None, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["access_unit"].queryset = units_for_editor(user)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("access") == LibraryItem.Access.UNIT and not cleaned.get("access_unit"):
            self.add_error("access_unit", _("阅读权限为“指定单位及下级”时，请选择可阅读的单位。"))
        return cleaned


class SetAccessBulkAction(LibraryItemBulkAction):
    display_name = _("设置阅读权限")
    action_type = "set_access"
    aria_label = _("设置所选条目的阅读权限")
    action_priority = 30
    form_class = AccessForm
    confirm_text = _("为以下条目设置阅读权限：")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    @classmethod
    def execute_action(cls, objects, user=None, form=None, **kwargs):
        data = form.cleaned_data
        try:
            count = library_items_set_access(
                user=user, item_ids=[obj.pk for obj in objects], access=data["access"], access_unit=data["access_unit"]
            )
        except (ValidationError, PermissionDenied) as exc:
            raise Http404 from exc  # the form offers only the editor's units; anything else is not from it
        return count, 0


class DeleteBulkAction(LibraryItemBulkAction):
    display_name = _("删除")
    action_type = "delete"
    aria_label = _("删除所选条目")
    action_priority = 40
    classes = {"serious"}
    action_button_class = "serious"
    confirm_text = _("确定删除以下条目吗？系列、刊名和期下面的单集、期和文章会一起删除，无法恢复。")

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        return library_items_delete(user=user, item_ids=[obj.pk for obj in objects]), 0


BULK_ACTIONS = [PublishBulkAction, UnpublishBulkAction, SetAccessBulkAction, DeleteBulkAction]
