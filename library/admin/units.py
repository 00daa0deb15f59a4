"""The unit picker of the admin's library forms (item form, import): the editor's own part of the organisation
tree, in tree order and indented one '— ' per level below the editor's top unit (山东省, — 滨州市, — — 邹平市), so a
county is read as part of its city and not as one more line of a flat list. Only the levels that own items are
offered (branches have no editors; a province has thousands of them)."""

from django import forms
from django.db.models import Min, Q, QuerySet

from cms.models import OrgUnit
from cms.selectors import units_managed_by

OWNING_LEVELS = [OrgUnit.Level.PROVINCE, OrgUnit.Level.CITY, OrgUnit.Level.COUNTY, OrgUnit.Level.TOWNSHIP]
INDENT = "— "


def owning_units_for(user, *, keep_id: int | None = None) -> QuerySet[OrgUnit]:
    """Units the user may file items under, in tree order; ``keep_id`` (an item's current unit) stays choosable."""
    units = units_managed_by(user).filter(Q(level__in=OWNING_LEVELS) | Q(pk=keep_id or 0))
    return units.order_by("path")


class UnitTreeChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField whose labels show the unit's place in the tree (relative to the shallowest unit offered)."""

    _base_depth: int | None = None

    def _set_queryset(self, queryset):
        super()._set_queryset(queryset)
        self._base_depth = None

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def label_from_instance(self, unit: OrgUnit) -> str:
        if self._base_depth is None:
            self._base_depth = self.queryset.aggregate(depth=Min("depth"))["depth"] or unit.depth
        return INDENT * max(unit.depth - self._base_depth, 0) + unit.name


def tree_field(field: forms.ModelChoiceField, queryset: QuerySet[OrgUnit]) -> UnitTreeChoiceField:
    """A form's generated unit field turned into the tree picker (label, help, required kept)."""
    tree = UnitTreeChoiceField(
        queryset=queryset,
        label=field.label,
        help_text=field.help_text,
        required=field.required,
        empty_label=field.empty_label,
    )
    tree.widget.attrs.update(field.widget.attrs)
    return tree
