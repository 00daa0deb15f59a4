"""Reads about the organisation: one answer to "which units may this person manage or see"."""

from django.db.models import Q, QuerySet

from .models import OrgUnit, UnitRole

MANAGING_ROLES = (UnitRole.Role.EDITOR, UnitRole.Role.ADMINISTRATOR)


def units_managed_by(user) -> QuerySet[OrgUnit]:
    """Every unit in the subtrees where the user is an editor or administrator (all units for superusers)."""
    if not user.is_authenticated:
        return OrgUnit.objects.none()
    if user.is_superuser:
        return OrgUnit.objects.all()
    roots = OrgUnit.objects.filter(roles__group__user=user, roles__role__in=MANAGING_ROLES)
    return subtree_of(roots)


def subtree_of(roots) -> QuerySet[OrgUnit]:
    paths = {unit.path for unit in roots}
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(path__startswith=path)
    return OrgUnit.objects.filter(condition)


def unit_by_code(code: str) -> OrgUnit | None:
    return OrgUnit.objects.filter(code=code).first()
