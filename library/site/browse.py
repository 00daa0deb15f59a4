"""Member-facing browse pages, served through LibraryPage's routes: the library index with its filters and sorts,
a creator's items and a curated list.

Pages stay light for weak rural networks: keyset pages of 24 cards, counts read from FacetCount (never counted
per request), and the same handful of queries whatever the page number or filters.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet, prefetch_related_objects
from django.http import Http404, QueryDict
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.models import OrgUnit
from library import selectors
from library.catalogue.clc import CLC_SECOND, CLC_TOP, clc_label, clc_validate
from library.facets import facet_rows
from library.models import FacetCount, ItemList, LibraryItem, LibraryTag
from library.site.cards import CARDS_EAGER, cards_prepare

logger = logging.getLogger(__name__)

PER_PAGE = 24
SORTS = ("newest", "popular")
FILTERS = ("clc", "year", "unit", "tag")
UNIT_FACETS, TAG_FACETS, YEAR_FACETS = 20, 30, 30  # how many values a facet shows, most used first
CURATED_SHOWN = 6
INT_MAX = 2**31 - 1  # larger numbers are no id or count of ours, and some databases refuse them
Cursor = tuple[datetime | int, int]


@dataclass
class Browse:
    """What the visitor asked for, cleaned: anything that does not parse is dropped, never an error."""

    kind: str | None = None
    sort: str = "newest"
    filters: dict = field(default_factory=dict)
    before: Cursor | None = None

    def params(self, **changes) -> QueryDict:
        """The query string of this view with some parameters changed (None removes one); cursors never carry over."""
        values = {"kind": self.kind, "sort": None if self.sort == "newest" else self.sort, **self.filters}
        values |= changes
        query = QueryDict(mutable=True)
        for key in ("kind", "sort", *FILTERS, "before"):
            if values.get(key) not in (None, ""):
                query[key] = str(values[key])
        return query


# -- parsing the query string ----------------------------------------------------------------------------------


def _small_int(raw: str | None, *, low: int = 0) -> int | None:
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if low <= value <= INT_MAX else None


def _parse_cursor(raw: str | None, *, sort: str) -> Cursor | None:
    """ "<published_at ISO>_<id>" for newest, "<read_count>_<id>" for popular; anything else means page one."""
    value, _sep, item_id = (raw or "").rpartition("_")
    item_id = _small_int(item_id, low=1)
    if not value or item_id is None:
        return None
    if sort == "popular":
        count = _small_int(value)
        return (count, item_id) if count is not None else None
    try:
        # A "+" in an offset that was not URL-encoded arrives as a space.
        stamp = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        return None
    if timezone.is_naive(stamp):
        stamp = timezone.make_aware(stamp, timezone.get_default_timezone())
    return stamp, item_id


def _format_cursor(cursor: Cursor | None) -> str:
    if cursor is None:
        return ""
    value, item_id = cursor
    return f"{value.isoformat() if isinstance(value, datetime) else value}_{item_id}"


def _parse_clc(raw: str | None) -> str | None:
    if not raw or len(raw) > 32:
        return None
    try:
        return clc_validate(raw)
    except ValidationError:
        return None


def browse_parse(query: QueryDict) -> Browse:
    kind = query.get("kind")
    sort = query.get("sort")
    browse = Browse(kind=kind if kind in LibraryItem.Kind.values else None, sort=sort if sort in SORTS else "newest")
    year = _small_int(query.get("year"), low=1)
    tag = (query.get("tag") or "").strip()
    candidates = {
        "clc": _parse_clc(query.get("clc")),
        "year": year if year and year <= 9999 else None,
        "unit": _small_int(query.get("unit"), low=1),
        "tag": tag if 0 < len(tag) <= 100 and "\x00" not in tag else None,
    }
    browse.filters = {key: value for key, value in candidates.items() if value is not None}
    browse.before = _parse_cursor(query.get("before"), sort=browse.sort)
    return browse


# -- reads the pages share -------------------------------------------------------------------------------------


def _audience(user) -> str:
    """Members see members' counts; unit-only items are in no count (see facets)."""
    if getattr(user, "is_authenticated", False):
        return FacetCount.Audience.MEMBERS
    return FacetCount.Audience.PUBLIC


def _decorate(items: list[LibraryItem], page, *, eager: int = 0) -> list[LibraryItem]:
    """Each card's link, and the cover renditions of the whole page in one query (library.site.cards)."""
    cards_prepare(items, eager=eager)
    selectors.item_hrefs_set(items, page)
    return items


def _curated_current(today: date) -> ItemList | None:
    """本月推荐: the editors' current curated list, the latest to start when several overlap."""
    return selectors.item_list_current(today=today)


def _list_items(*, user, item_list: ItemList, page) -> list[LibraryItem]:
    items = selectors.item_list_items(user=user, item_list=item_list)
    prefetch_related_objects(items, "owning_unit")
    return _decorate(items, page, eager=CARDS_EAGER)  # a list's cards are the first on its page


def _list_url(page, item_list: ItemList) -> str:
    return page.url + page.reverse_subpage("list_route", kwargs={"slug": item_list.slug})


def _keyset(items: QuerySet, before: Cursor | None) -> tuple[list[LibraryItem], Cursor | None]:
    """One newest-first page of a queryset already ordered by (-published_at, -id)."""
    if before:
        stamp, item_id = before
        items = items.filter(Q(published_at__lt=stamp) | Q(published_at=stamp, id__lt=item_id))
    rows = list(items[: PER_PAGE + 1])
    last = rows[PER_PAGE - 1] if len(rows) > PER_PAGE else None
    return rows[:PER_PAGE], (last.published_at, last.pk) if last else None


# -- facets ----------------------------------------------------------------------------------------------------


def _clc_name(code: str) -> str:
    name = CLC_TOP.get(code) or CLC_SECOND.get(code)
    if name:
        return f"{code} {name}"
    try:
        return clc_label(code)
    except ValidationError:
        return code


def _facets(browse: Browse, rows: list[FacetCount]) -> dict:
    """The facet lists and the total, from the page's FacetCount rows (plus one name lookup each for units and
    tags). Counts are per kind: they do not narrow as other filters combine."""
    by_dimension: dict[str, list[FacetCount]] = {}
    for row in rows:
        by_dimension.setdefault(row.dimension, []).append(row)
    kind_counts = {row.value: row.count for row in by_dimension.get("kind", [])}
    clc = browse.filters.get("clc")
    letter = clc[0] if clc else None
    clc_rows = [
        row
        for row in by_dimension.get("clc", [])
        if (row.value.startswith(letter) and len(row.value) > 1 if letter else len(row.value) == 1)
    ]
    units = by_dimension.get("unit", [])[:UNIT_FACETS]
    tags = by_dimension.get("tag", [])[:TAG_FACETS]
    unit_names = _unit_names({int(row.value) for row in units} | {browse.filters.get("unit")} - {None})
    tag_names = _tag_names({row.value for row in tags} | {browse.filters.get("tag")} - {None})
    years = sorted(by_dimension.get("year", []), key=lambda row: -int(row.value))[:YEAR_FACETS]
    groups = [
        ("clc", _("学科分类（中图法）"), [(row.value, _clc_name(row.value), row.count) for row in clc_rows]),
        ("year", _("年份"), [(row.value, row.value, row.count) for row in years]),
        ("unit", _("所属单位"), [(row.value, unit_names.get(int(row.value), row.value), row.count) for row in units]),
        ("tag", _("标签"), [(row.value, tag_names.get(row.value, row.value), row.count) for row in tags]),
    ]
    return {
        "kinds": [(value, label, kind_counts.get(value, 0)) for value, label in LibraryItem.Kind.choices],
        "all_count": sum(kind_counts.values()),
        "groups": [
            {
                "key": key,
                "title": title,
                "values": [
                    {
                        "label": label,
                        "count": count,
                        "active": str(browse.filters.get(key, "")) == value,
                        "url": "?" + browse.params(**{key: value}).urlencode(),
                    }
                    for value, label, count in values
                ],
            }
            for key, title, values in groups
            if values
        ],
        "chips": _chips(browse, unit_names, tag_names),
        "total": _total(browse, rows, kind_counts),
    }


def _unit_names(ids: set[int]) -> dict[int, str]:
    return dict(OrgUnit.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def _tag_names(slugs: set[str]) -> dict[str, str]:
    return dict(LibraryTag.objects.filter(slug__in=slugs).values_list("slug", "name")) if slugs else {}


def _total(browse: Browse, rows: list[FacetCount], kind_counts: dict[str, int]) -> int | None:
    """How many items match, when FacetCount knows: no filter or one; with two or more, unknown (not counted)."""
    if not browse.filters:
        return kind_counts.get(browse.kind, 0) if browse.kind else sum(kind_counts.values())
    if len(browse.filters) > 1:
        return None
    (key, value), kind = next(iter(browse.filters.items())), browse.kind or ""
    for row in rows:
        if row.kind == kind and row.dimension == key and row.value == str(value):
            return row.count
    return None  # not stored: a finer CLC code, a rarely used tag; better no total than a wrong one


def _chips(browse: Browse, unit_names: dict[int, str], tag_names: dict[str, str]) -> list[dict]:
    """The active filters, each with a link that removes it."""
    chips = []
    if browse.kind:
        chips.append((_("类型"), LibraryItem.Kind(browse.kind).label, {"kind": None}))
    labels = {
        "clc": (_("分类"), lambda v: _clc_name(v)),
        "year": (_("年份"), lambda v: f"{v}"),
        "unit": (_("单位"), lambda v: unit_names.get(v, _("未知单位"))),
        "tag": (_("标签"), lambda v: tag_names.get(v, v)),
    }
    for key, value in browse.filters.items():
        title, label = labels[key]
        chips.append((title, label(value), {key: None}))
    return [{"title": t, "label": lbl, "url": "?" + browse.params(**change).urlencode()} for t, lbl, change in chips]


# -- pages -----------------------------------------------------------------------------------------------------


def item_list(request, *, page):
    """The library index: kind, subject, year, unit and tag filters, newest or most read, keyset pages."""
    browse = browse_parse(request.GET)
    items, next_cursor = selectors.items_page(
        user=request.user,
        kind=browse.kind,
        sort=browse.sort,
        filters=browse.filters,
        before=browse.before,
        per_page=PER_PAGE,
    )
    facets = _facets(browse, facet_rows(kind=browse.kind, audience=_audience(request.user)))
    curated = None
    if not browse.filters and not browse.kind and not browse.before:
        curated = _curated_current(timezone.localdate())
    context = {
        "page": page,
        "items": _decorate(items, page, eager=0 if curated else CARDS_EAGER),
        "browse": browse,
        "facets": facets,
        "sorts": [
            (value, label, "?" + browse.params(sort=value).urlencode())
            for value, label in (("newest", _("最新")), ("popular", _("最热")))
        ],
        "kind_links": [
            {"value": value, "label": label, "count": count, "url": "?" + browse.params(kind=value).urlencode()}
            for value, label, count in facets["kinds"]
        ],
        "all_kinds_url": "?" + browse.params(kind=None).urlencode(),
        "curated": curated,
        "curated_url": _list_url(page, curated) if curated else "",
        "curated_items": _list_items(user=request.user, item_list=curated, page=page)[:CURATED_SHOWN]
        if curated
        else [],
        "next_url": "?" + browse.params(before=_format_cursor(next_cursor)).urlencode() if next_cursor else "",
        "first_url": "?" + browse.params().urlencode() if browse.before else "",
    }
    return TemplateResponse(request, "library/item_list.html", context)


def creator_items(request, *, page, name):
    """Everything by one creator (by the credits table, not the display string), newest first, keyset pages."""
    name = name.strip()
    if not name or len(name) > 100:
        raise Http404
    before = _parse_cursor(request.GET.get("before"), sort="newest")
    queryset = selectors.items_by_creator(user=request.user, name=name).select_related("owning_unit", "cover", "parent")
    items, next_cursor = _keyset(queryset, before)
    next_query = QueryDict(mutable=True)
    if next_cursor:
        next_query["before"] = _format_cursor(next_cursor)
    context = {
        "page": page,
        "name": name,
        "items": _decorate(items, page, eager=CARDS_EAGER),
        "next_url": f"?{next_query.urlencode()}" if next_cursor else "",
        "first_url": "?" if before else "",
    }
    return TemplateResponse(request, "library/creator_items.html", context)


def item_list_detail(request, *, page, slug):
    """A collection (专题) or curated list, in the editors' order, showing only what this visitor may open."""
    item_list = selectors.item_list_get(slug=slug)
    if item_list is None:
        raise Http404
    context = {
        "page": page,
        "item_list": item_list,
        "items": _list_items(user=request.user, item_list=item_list, page=page),
    }
    return TemplateResponse(request, "library/item_list_detail.html", context)
