"""Every admin view that opens one object finds it among the editor's own rows: another unit's row is a 404.

Wagtail's generic views fetch objects in three ways (get_queryset for edit/delete, get_base_object_queryset for
history/usage, the model's default manager for copy); ``scoped`` closes all three over one selector. History and
usage views list rows of another kind (log entries, references) through their own get_queryset, which stays theirs.

media_pipeline's job screens are scoped the same way through its MEDIA_ADMIN_ASSET_SCOPE seam, which names
``media_assets_managed_by`` here: the assets of the items an editor manages.
"""

from django.contrib.admin.utils import unquote
from django.shortcuts import get_object_or_404
from wagtail.admin.views import generic
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView

from .selectors import items_managed_by


class ScopedMixin:
    scope = None  # a function user → queryset of the rows this editor manages

    def get_queryset(self):
        return self.scope(self.request.user)

    def get_base_object_queryset(self):
        return self.scope(self.request.user)


class ScopedObjectMixin:
    """History and usage list rows of their own (log entries, references): only the object they describe is scoped."""

    scope = None

    def get_base_object_queryset(self):
        return self.scope(self.request.user)


class ScopedCopyMixin(ScopedMixin):
    def get_object(self, queryset=None):
        return get_object_or_404(self.get_queryset(), pk=unquote(str(self.kwargs[self.pk_url_kwarg])))


def scoped(view_class, scope):
    """A subclass of a generic view that sees only ``scope(user)``."""
    if issubclass(view_class, generic.CopyView):
        mixin = ScopedCopyMixin
    elif issubclass(view_class, (HistoryView, UsageView)):
        mixin = ScopedObjectMixin  # their get_queryset lists log entries and references, not the scoped rows
    else:
        mixin = ScopedMixin
    return type(view_class.__name__, (mixin, view_class), {"scope": staticmethod(scope)})


def media_assets_managed_by(*, user):
    """Ids of the media assets on items the user manages (MEDIA_ADMIN_ASSET_SCOPE): a subquery, not a list, so a
    province editor's hundreds of thousands of items stay in the database."""
    return items_managed_by(user).filter(media_asset__isnull=False).values("media_asset")
