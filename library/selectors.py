"""Reads for the library. Who may read or download an item is decided here, and every surface asks these
(pages, admin previews, the JSON API, OPDS, podcast feeds, signed links, search)."""

from datetime import date, datetime

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Length

from cms.selectors import unit_and_ancestors

from .models import (
    LISTED,
    FacetCount,
    IssuePage,
    ItemCredit,
    ItemList,
    LibraryItem,
    LibraryItemTag,
    LibraryPage,
    LibraryTag,
    StudyDay,
)

Cursor = tuple[datetime | int, int]  # (published_at or read_count, id) of the last row shown


def access_q(user, *, prefix: str = "") -> Q:
    """The condition an item's read access must meet for this user (publication is checked separately).
    ``prefix`` applies it to a related row instead ("parent__" for an item's series, title or issue)."""
    condition = Q(**{f"{prefix}access": LibraryItem.Access.PUBLIC})
    if not getattr(user, "is_authenticated", False):
        return condition
    condition |= Q(**{f"{prefix}access": LibraryItem.Access.MEMBERS})
    if user.is_superuser:
        return condition | Q(**{f"{prefix}access": LibraryItem.Access.UNIT})
    # "A unit and below": the member's own unit or any unit above it in the tree opened the item to them.
    if user.org_unit_id:
        ancestors = _unit_and_ancestor_ids(user)
        condition |= Q(**{f"{prefix}access": LibraryItem.Access.UNIT, f"{prefix}access_unit__in": ancestors})
    return condition


def _unit_and_ancestor_ids(user) -> QuerySet:
    """The member's unit and the units above it, as a subquery of their ids. Building it reads the unit's path
    (cms.selectors.unit_and_ancestors); that is done once per user object (one request) however many lists a page
    reads (the home page has eight), again if the member's unit changes."""
    cached = getattr(user, "_library_unit_ids", None)
    if cached is None or cached[0] != user.org_unit_id:
        cached = (user.org_unit_id, unit_and_ancestors(user).values("pk"))
        try:
            user._library_unit_ids = cached
        except AttributeError:  # a stand-in that takes no attributes: built each time
            pass
    return cached[1]


def _open_q(user, *, prefix: str = "") -> Q:
    """Published, and open to this user, by the row's own settings."""
    return Q(**{f"{prefix}is_published": True}) & access_q(user, prefix=prefix)


def visible_q(user) -> Q:
    """The condition of ``items_visible_to``, for combining with another (the admin's chooser)."""
    parent_open = Q(parent__isnull=True) | (
        _open_q(user, prefix="parent__") & (Q(parent__parent__isnull=True) | _open_q(user, prefix="parent__parent__"))
    )
    return _open_q(user) & parent_open


def items_visible_to(user) -> QuerySet[LibraryItem]:
    """Published items the user may open. A child (episode, issue, article) is never more open than what holds
    it: closing or unpublishing a series, title or issue closes everything under it (trees are at most three
    deep: title → issue → article)."""
    return LibraryItem.objects.filter(visible_q(user))


def visible_item_q(user, *, field: str = "item") -> Exists:
    """A condition on rows that point at an item (list entries, favourites, progress, article areas): the item in
    ``field`` is one the user may open. Checked row by row, so SQLite looks up just those items; ``field__in=
    items_visible_to(user)`` has it list every item the user may open first (140 ms at 300,000 items)."""
    return Exists(items_visible_to(user).filter(pk=OuterRef(field)))


def listed_items_visible_to(user) -> QuerySet[LibraryItem]:
    """Top-level items (standalone, series, titles) the user may open: no parent to check, so no joins."""
    return LibraryItem.objects.filter(_open_q(user), LISTED)


def item_visible_to(user, item_id: int) -> LibraryItem | None:
    return (
        items_visible_to(user)
        .select_related("owning_unit", "media_asset", "cover", "parent", "document")
        .filter(pk=item_id)
        .first()
    )


class _AnyMember:
    """A signed-in member of no particular unit: who "members only" opens an item to."""

    is_authenticated = True
    is_superuser = False
    org_unit_id = None


def item_opens_on_sign_in(item_id: int) -> LibraryItem | None:
    """The item if any signed-in member may open it: for an anonymous visitor who may not, its page asks them to sign
    in (showing the title and cover only). Unit-only items, and anything under one, are not among these, so an
    outsider still cannot tell them from an item that does not exist."""
    return items_visible_to(_AnyMember()).select_related("cover", "parent").filter(pk=item_id).first()


def images_closed_to_public(image_ids) -> set[int]:
    """Those of these Wagtail images that show a page (版面) of an issue not everyone may open (members-only, one
    unit's, unpublished, or under a closed title) and of no issue everyone may: pictures that local disk serves
    only signed (``library.access.image_file_public``) and that nothing public (a lobby screen) may show."""
    on_pages = set(IssuePage.objects.filter(image_id__in=image_ids).values_list("image_id", flat=True))
    if not on_pages:
        return set()
    public_issues = items_visible_to(AnonymousUser()).values("pk")
    shown = IssuePage.objects.filter(image_id__in=on_pages, issue_id__in=public_issues)
    return on_pages - set(shown.values_list("image_id", flat=True))


def item_readable(*, user, item: LibraryItem) -> bool:
    return items_visible_to(user).filter(pk=item.pk).exists()


def item_downloadable(*, user, item: LibraryItem, known_readable: bool = False) -> bool:
    """Download is its own right: never more than reading, and only as far as the item's download setting allows.
    ``known_readable``: the item came from ``items_visible_to(user)`` (a feed's rows), so reading needs no query."""
    if item.download == LibraryItem.Download.NONE:
        return False
    if item.download == LibraryItem.Download.MEMBERS and not getattr(user, "is_authenticated", False):
        return False
    return known_readable or item_readable(user=user, item=item)


def items_page(
    *,
    user,
    kind: str | None = None,
    sort: str = "newest",
    filters: dict | None = None,
    before: Cursor | None = None,
    per_page: int = 24,
) -> tuple[list[LibraryItem], Cursor | None]:
    """One page of listed items (standalone items, series, titles), by keyset so the last page is as fast as the
    first; ``sort`` is "newest" (published_at) or "popular" (read_count). Returns (items, next cursor)."""
    key = "read_count" if sort == "popular" else "published_at"
    items = listed_items_visible_to(user).select_related("owning_unit", "cover").order_by(f"-{key}", "-id")
    if kind:
        items = items.filter(kind=kind)
    items = _filtered(items, filters or {}, kind=kind)
    if before:
        items = items.filter(keyset_after(key, *before))
    rows = list(items[: per_page + 1])
    next_cursor = (getattr(rows[per_page - 1], key), rows[per_page - 1].pk) if len(rows) > per_page else None
    return rows[:per_page], next_cursor


def keyset_after(key: str, value, item_id: int) -> Q:
    """The rows after a keyset cursor (value, id) in (-key, -id) order. The first condition repeats what the OR
    says: it lets the database start reading the list's index at the cursor. Without it SQLite, given the two
    values as separate parameters, walks the index from the top (the last page of 300,000 items: 30-50 ms)."""
    return Q(**{f"{key}__lte": value}) & (Q(**{f"{key}__lt": value}) | Q(**{key: value, "id__lt": item_id}))


def _filtered(items: QuerySet, filters: dict, *, kind: str | None = None) -> QuerySet:
    """Browse filters: clc (a class and everything under it), year, unit (owning unit id), tag (slug)."""
    if any(isinstance(value, str) and "\x00" in value for value in filters.values()):
        return items.none()  # nothing stored holds a NUL, and PostgreSQL refuses to compare text with one
    if filters.get("clc"):
        items = items.filter(clc__startswith=filters["clc"])
    if filters.get("year"):
        items = items.filter(year=filters["year"])
    if filters.get("unit"):
        items = items.filter(owning_unit_id=filters["unit"])
    if filters.get("tag"):
        items = items.filter(_tagged(filters["tag"], kind=kind))
    return items


# A tag on at least this many listed items (of the kind browsed) is read by walking the list's index and looking each
# row's tag up; on fewer, from the tag's own rows, sorting them. Either way a page reads a few thousand rows at most.
TAG_COMMON = 1000


def _tagged(slug: str, *, kind: str | None) -> Q | Exists:
    """Items with this tag, written so that SQLite (which knows no value's frequency) reads few rows: a common tag
    as a lookup per row of the list's index (no sort; a page within ~25 ÷ the tag's share rows), a rare one as a list
    of ids (its rows sorted). The stored browse counts say which (a tag missing there is rare). The tag's id is
    read first, with that, so that PostgreSQL estimates the tag's rows from its statistics for that id."""
    common = FacetCount.objects.filter(
        kind=kind or "", dimension="tag", value=OuterRef("slug"), audience=FacetCount.Audience.MEMBERS
    )
    common = Exists(common.filter(count__gte=TAG_COMMON))
    tag = LibraryTag.objects.filter(slug=slug).annotate(common=common).values_list("pk", "common").first()
    if tag is None:
        return Q(pk__in=[])  # no such tag: nothing, and no query for it
    tagged = LibraryItemTag.objects.filter(tag_id=tag[0])
    if tag[1]:
        return Exists(tagged.filter(content_object=OuterRef("pk")))
    return Q(pk__in=tagged.values("content_object_id"))


def item_children(*, user, item: LibraryItem) -> QuerySet[LibraryItem]:
    """Episodes of a series, issues of a title, articles of an issue, in order."""
    return items_visible_to(user).filter(parent=item).order_by("position", "id")


def items_by_creator(*, user, name: str) -> QuerySet[LibraryItem]:
    ids = ItemCredit.objects.filter(name=name).values("item_id")
    return items_visible_to(user).filter(pk__in=ids).order_by("-published_at", "-id")


def item_list_get(*, slug: str) -> ItemList | None:
    return ItemList.objects.filter(slug=slug, is_published=True).first()


def item_list_items(*, user, item_list: ItemList) -> list[LibraryItem]:
    entries = item_list.entries.filter(visible_item_q(user)).select_related("item", "item__cover")
    return [entry.item for entry in entries.order_by("sort_order")]


def library_page() -> LibraryPage | None:
    return LibraryPage.objects.live().first()


def item_url(item: LibraryItem, page: LibraryPage | None = None) -> str:
    page = page or library_page()
    if page is None:
        return ""
    return page.url + page.reverse_subpage("item_route", kwargs={"item_id": item.pk})


def item_hrefs_set(items, page: LibraryPage | None) -> None:
    """Set ``href`` on each item (a card's link) under the one library page, reading the page's URL once: Wagtail
    looks the site's root paths up in the cache on every ``page.url``, 24 times for a page of cards otherwise."""
    if not items:
        return
    base = page.url if page is not None else None
    for item in items:
        item.href = base + page.reverse_subpage("item_route", kwargs={"item_id": item.pk}) if base else ""


def study_seconds_by_item(*, member_ids, item_ids, since: date, until: date) -> dict[tuple[int, int], int]:
    """Honest study seconds per (member id, item id) on the organisation's local days ``since``..``until`` (both
    included), from the heartbeat's StudyDay rows (library.activity): one GROUP BY for one member, many, or
    (``member_ids`` None) everyone."""
    rows = StudyDay.objects.filter(item_id__in=item_ids, day__gte=since, day__lte=until)
    if member_ids is not None:
        rows = rows.filter(member_id__in=member_ids)
    rows = rows.values("member_id", "item_id").annotate(total=Sum("seconds"))
    return {(row["member_id"], row["item_id"]): row["total"] for row in rows}


def study_seconds_by_member(*, member_ids, since: date, until: date) -> dict[int, int]:
    """Honest study seconds per member id on the local days ``since``..``until`` (both included), all items: the
    online part of the courses' study hours, for one member or many in one GROUP BY."""
    rows = StudyDay.objects.filter(member_id__in=member_ids, day__gte=since, day__lte=until)
    rows = rows.values("member_id").annotate(total=Sum("seconds"))
    return {row["member_id"]: row["total"] for row in rows}


def item_study_lengths(item_ids) -> dict[int, dict]:
    """What decides how long an item takes to study: its kind, its media's duration in seconds (None when unknown)
    and how many characters of text it has (summary, body and extracted text), per item id."""
    rows = LibraryItem.objects.filter(pk__in=item_ids).values("pk", "kind", "media_asset__duration")
    rows = rows.annotate(text_chars=Length("summary") + Length("body") + Length("fulltext"))
    return {
        row["pk"]: {"kind": row["kind"], "duration": row["media_asset__duration"], "text_chars": row["text_chars"] or 0}
        for row in rows
    }


# --- The home page and cards (issue 13) --------------------------------------------------------------------------

HOME_ISSUE_CANDIDATES = 60  # newest issues read to find one per title: a daily paper's run is not six cards of itself


def item_list_current(*, today: date) -> ItemList | None:
    """本月推荐: the editors' current curated list (published, its dates around ``today``), the latest to start when
    several overlap."""
    showing = Q(starts_on__isnull=True) | Q(starts_on__lte=today)
    not_ended = Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    lists = ItemList.objects.filter(showing, not_ended, kind=ItemList.Kind.CURATED, is_published=True)
    return lists.order_by("-starts_on", "-updated_at", "-id").first()


def latest_listed(*, user, kinds: tuple[str, ...], count: int) -> list[LibraryItem]:
    """The newest listed items (standalone items, series) of these kinds the user may open, newest first. One query
    per kind, each the first rows of its kind's list index (never a sort, at any size), merged here."""
    rows = []
    for kind in kinds:
        rows += items_page(user=user, kind=kind, per_page=count)[0]
    return sorted(rows, key=lambda item: (item.published_at, item.pk), reverse=True)[:count]


def latest_issues(*, user, count: int) -> list[LibraryItem]:
    """The newest issue of the newspapers and periodicals the user may open, by the issue's own date (``issued``, the
    day it came out, not the day it was loaded), one per title: what the home page shows instead of one card per
    article. Read newest first from the issues' index (library_issues_issued), a bounded number of rows."""
    issues = (
        items_visible_to(user)
        .filter(role=LibraryItem.Role.ISSUE, parent__isnull=False, issued__isnull=False)
        .select_related("parent", "parent__cover", "cover", "owning_unit")
        .order_by("-issued", "-id")
    )
    shown, titles = [], set()
    for issue in issues[:HOME_ISSUE_CANDIDATES]:
        if issue.parent_id not in titles:
            titles.add(issue.parent_id)
            shown.append(issue)
        if len(shown) == count:
            break
    return shown


def series_first_child(*, user, series: LibraryItem) -> LibraryItem | None:
    """The first episode of a series (in the series' order) the user may open: what 播放第一集 plays."""
    return item_children(user=user, item=series).first()
