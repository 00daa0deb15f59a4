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


def unit_and_ancestor_paths(path: str) -> list[str]:
    """The paths of a unit and every unit above it (treebeard paths are prefixes of their descendants')."""
    step = OrgUnit.steplen
    return [path[:end] for end in range(step, len(path) + 1, step)]


def unit_and_ancestors(user) -> QuerySet[OrgUnit]:
    """The member's own unit and the units above it: where "this unit and below" content may come from.
    Lazy: callers may use it as a subquery."""
    unit_id = getattr(user, "org_unit_id", None)
    # The unit's path as stored now (a tree insert can shift siblings' paths under an object held in memory).
    path = OrgUnit.objects.filter(pk=unit_id).values_list("path", flat=True).first() if unit_id else None
    if not path:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(path__in=unit_and_ancestor_paths(path))


def unit_and_ancestor_ids(user) -> list[int]:
    return list(unit_and_ancestors(user).values_list("pk", flat=True))


def unit_path(unit_id: int | None) -> str | None:
    """The tree path of unit `unit_id` (what a subtree filter matches on), or None when there is no such unit."""
    if not unit_id:
        return None
    return OrgUnit.objects.filter(pk=unit_id).values_list("path", flat=True).first()
