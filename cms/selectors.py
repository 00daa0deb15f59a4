"""Reads about the organisation: one answer to "which units may this person manage or see", and the pages of an
editor's part of the site that wait for something (the dashboard's drafts and reviews)."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from wagtail.models import Page, WorkflowState
from wagtail.permission_policies.pages import PagePermissionPolicy

from .models import BranchMembership, OrgUnit, UnitRole

page_permission_policy = PagePermissionPolicy()

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


# --- The editor's dashboard: pages of the editor's part of the site that wait for something.

DASHBOARD_ROWS = 8


def pages_editable_by(user) -> QuerySet[Page]:
    """The pages this user may edit: their unit's section page and everything below it (all pages for superusers)."""
    return page_permission_policy.instances_user_has_permission_for(user, "change")


def pages_awaiting_review(user, *, limit: int = DASHBOARD_ROWS) -> list[WorkflowState]:
    """Pages of the user's part of the site in a moderation workflow (waiting for a reviewer, or sent back for
    changes), newest submission first, with the page, who submitted it and the task it waits at."""
    page_ids = pages_editable_by(user).annotate(text_pk=Cast("pk", CharField())).values("text_pk")
    states = (
        WorkflowState.objects.active()
        .filter(base_content_type=ContentType.objects.get_for_model(Page), object_id__in=page_ids)
        .select_related("requested_by", "current_task_state__task", "workflow")
        .order_by("-created_at")[:limit]
    )
    pages = Page.objects.in_bulk([int(state.object_id) for state in states])
    for state in states:
        state.page_in_review = pages.get(int(state.object_id))
    return [state for state in states if state.page_in_review is not None]


def pages_with_drafts(user, *, limit: int = DASHBOARD_ROWS) -> QuerySet[Page]:
    """Pages of the user's part of the site with changes not yet published (never-published drafts included),
    most recently edited first."""
    return (
        pages_editable_by(user)
        .filter(has_unpublished_changes=True)
        .select_related("latest_revision__user")
        .order_by("-latest_revision_created_at", "-pk")[:limit]
    )


# --- Unit history: who belonged where on a given day (reports for a month count the people of that month).


def unit_of_member_on(member, day) -> OrgUnit | None:
    """The unit a member belonged to on ``day`` (their unit history; None before their first row)."""
    row = (
        BranchMembership.objects.filter(member=member, started_on__lte=day)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=day))
        .select_related("unit")
        .first()
    )
    return row.unit if row else None


def members_of_unit_between(unit, start, end) -> QuerySet[BranchMembership]:
    """The unit-history rows of ``unit`` that overlap the days [start, end): each a member's stay there, so a
    member who moved mid-month appears in both branches' month, each for their own days."""
    return BranchMembership.objects.filter(unit=unit, started_on__lt=end).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=start)
    )


# --- The member's inbox.


def notices_of(member) -> QuerySet:
    from .models import Notice

    return Notice.objects.filter(member=member).order_by("-created_at", "-pk")


def notices_unread_count(member) -> int:
    from .models import Notice

    if not getattr(member, "is_authenticated", False):
        return 0
    return Notice.objects.filter(member=member, read_at__isnull=True).count()


# --- Branch secretaries.

LEADING_ROLES = ("secretary", "committee")  # Member.PartyRole values that lead their own branch


def branches_led_by(member) -> QuerySet[OrgUnit]:
    """The branches this member leads themselves: their own branch as its secretary or committee member (roster),
    or a branch whose secretary role group they hold. They reset their members' passwords and see their scores."""
    if not getattr(member, "is_authenticated", False):
        return OrgUnit.objects.none()
    condition = Q(level=OrgUnit.Level.BRANCH, roles__role=UnitRole.Role.SECRETARY, roles__group__user=member)
    if getattr(member, "party_role", None) in LEADING_ROLES and member.org_unit_id:
        condition |= Q(pk=member.org_unit_id, level=OrgUnit.Level.BRANCH)
    return OrgUnit.objects.filter(pk__in=OrgUnit.objects.filter(condition).values("pk"))
