"""Filters of the admin item list. Each is an indexed equality or prefix test on the page query: no counts per
value (they would scan 300,000 rows on every page view)."""

import django_filters
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet

from cms.models import OrgUnit
from library.catalogue.clc import CLC_TOP
from library.models import ImportBatch, LibraryItem

from .selectors import items_of_import, units_for_editor

# Units that own items: branches have no editors, and listing 300,000 of them would make the filter unusable.
OWNING_LEVELS = [OrgUnit.Level.PROVINCE, OrgUnit.Level.CITY, OrgUnit.Level.COUNTY, OrgUnit.Level.TOWNSHIP]


def _units(request):
    if request is None:
        return OrgUnit.objects.none()
    return units_for_editor(request.user).filter(level__in=OWNING_LEVELS)


class LibraryItemFilterSet(WagtailFilterSet):
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=LibraryItem.Kind.choices)
    role = django_filters.ChoiceFilter(label=_("层级"), choices=LibraryItem.Role.choices)
    access = django_filters.ChoiceFilter(label=_("阅读权限"), choices=LibraryItem.Access.choices)
    is_published = django_filters.ChoiceFilter(
        label=_("发布"), choices=[("true", _("已发布")), ("false", _("未发布"))], method="filter_published"
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("所属单位（含下级）"), queryset=_units, method="filter_unit", field_name="owning_unit"
    )
    year = django_filters.NumberFilter(label=_("年份"), field_name="year")
    clc = django_filters.ChoiceFilter(
        label=_("中图法大类"), choices=[(code, f"{code} {name}") for code, name in CLC_TOP.items()], method="filter_clc"
    )
    parent = django_filters.NumberFilter(label=_("所属系列/期编号"), field_name="parent_id")
    import_batch = django_filters.NumberFilter(label=_("导入批次编号"), method="filter_import_batch")

    class Meta:
        model = LibraryItem
        fields = []

    def filter_published(self, queryset, name, value):
        return queryset.filter(is_published=(value == "true"))

    def filter_unit(self, queryset, name, unit):
        # "A unit and below", by the tree path: one indexed prefix test joined to the unit table.
        return queryset.filter(owning_unit__path__startswith=unit.path)

    def filter_import_batch(self, queryset, name, value):
        """The items an import created (the list is already the editor's own items: another unit's batch finds
        none of theirs)."""
        batch = ImportBatch.objects.filter(pk=value).first()
        if batch is None:
            return queryset.none()
        return queryset.filter(pk__in=items_of_import(batch).values("pk"))

    def filter_clc(self, queryset, name, value):
        return queryset.filter(clc__startswith=value)
