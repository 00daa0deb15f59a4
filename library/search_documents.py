"""Registers library items with the search index (discovered by the search app at start-up).

Every item is findable, children included (episodes, issues, and the articles inside periodical and newspaper
issues). Items opened to one unit and below are indexed with access "unit" and the unit they are opened to
(`access_unit_id`); search shows them only where its access rules allow (never to others, never in public facet
counts). The body carries the text extracted from the item's files (`fulltext`, see text.extraction).

A rebuild reads 300,000 items in chunks: the queryset joins what every document needs (owning unit, the parent
chain and the units it is opened to, for the effective opening) and prefetches tags per chunk, so the query count
does not grow with the items.
"""

import math
from functools import lru_cache

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from wagtail.rich_text import get_text_for_indexing
from wagtail.signals import page_published

from search.registry import SearchDocument, batch_memo, register

from .catalogue.clc import CLC_TOP, clc_label, clc_validate
from .models import LibraryItem, LibraryItemTag, LibraryPage
from .selectors import library_page

PAGE_URL_CACHE_KEY = "library:page-url-base"
# Indexing runs item by item (a rebuild, the outbox drain), so the library page's URL is remembered for a minute
# instead of looked up for every document. A moved library page shows in new documents within that minute.
PAGE_URL_CACHE_SECONDS = 60


def _facets(item: LibraryItem, tags: list[str]) -> dict:
    facets = {"role": item.role}
    if item.clc:
        facets["clc"] = item.clc
        facets["clc_top"] = item.clc[0]
    if tags:
        facets["tags"] = tags
    return facets


ACCESS_ORDER = [LibraryItem.Access.PUBLIC, LibraryItem.Access.MEMBERS]


def _effective_opening(item: LibraryItem) -> tuple[str, int | None] | None:
    """(access, access_unit_id) that search applies: what the library asks (items_visible_to) is that every row of
    the chain (the item and the series, title or issue holding it) is published and open to the reader.

    Rows opened to units: a member can open the item only from inside all of those units, which is possible only
    when they nest (each is above or at the narrowest); then the narrowest one decides. Units that do not nest
    (济南市 and 青岛市) leave no member who may open it: None, not indexed. Otherwise "members" beats "public".
    None as well when any row is unpublished."""
    chain = [item]
    while chain[-1].parent_id and len(chain) < 3:
        chain.append(chain[-1].parent)
    if not all(row.is_published for row in chain):
        return None
    units = [row.access_unit for row in chain if row.access == LibraryItem.Access.UNIT]
    if not units:
        return max((row.access for row in chain), key=ACCESS_ORDER.index), None
    narrowest = max(units, key=lambda unit: len(unit.path))
    if not all(narrowest.path.startswith(unit.path) for unit in units):
        return None
    return LibraryItem.Access.UNIT, narrowest.pk


# Popularity lifts an item a little (1 read: ×1.03, 1,000: ×1.3) and never more than this, so a famous book does
# not bury a better title match.
MAX_BOOST = 1.5


def popularity_boost(read_count: int) -> float:
    return min(1 + math.log10(1 + max(read_count, 0)) / 10, MAX_BOOST)


def item_document(item: LibraryItem) -> SearchDocument | None:
    opening = _effective_opening(item)
    if opening is None:
        return None
    access, access_unit_id = opening
    tags = [tagged.tag.name for tagged in _tagged(item)]
    subjects = " ".join(filter(None, [_clc_text(item.clc), *tags]))
    parts = (item.summary, _body_text(item.body or ""), subjects, item.publisher, item.fulltext)
    return SearchDocument(
        doc_id=f"library.libraryitem:{item.pk}",
        kind=item.kind,
        title=item.title,
        subtitle=item.subtitle,
        body="\n".join(part for part in parts if part),
        creators=item.creators,
        unit_id=item.owning_unit_id,
        unit_path=item.owning_unit.path,
        access=access,
        access_unit_id=access_unit_id,
        subject=clc_subject(item.clc),
        year=item.year,
        boost=popularity_boost(item.read_count),
        url=_item_url(item),
        date=item.published_at,
        facets=_facets(item, tags),
    )


def _tagged(item: LibraryItem):
    # Through the tagged rows (prefetched with their tags into a list by indexed_items): taggit's own prefetch of
    # `tags`, like a prefetch into the related manager, builds a queryset per item.
    tagged = getattr(item, INDEXED_TAGS, None)
    return item.tagged_items.all() if tagged is None else tagged


def _body_text(body: str) -> str:
    """get_text_for_indexing, without its HTML parser for a body that has no tag or entity (the same text)."""
    return body.strip() if "<" not in body and "&" not in body else get_text_for_indexing(body)


# A catalogue repeats a few thousand class codes over its items: each is worked out once per process.
CLC_CACHE_CODES = 4096


@lru_cache(maxsize=CLC_CACHE_CODES)
def clc_subject(code: str) -> str:
    """The basic class (中图法基本大类) as the subject facet shows it: "K 历史、地理"; "" when there is none."""
    try:
        top = clc_validate(code)[:1] if code else ""
    except ValidationError:  # an old, unvalidated code: its first letter may still name a class
        top = code.strip()[:1].upper()
    return f"{top} {CLC_TOP[top]}" if top in CLC_TOP else ""


def _page_url_base() -> str:
    """The library page's URL ("/library/"), or "" when there is none. Both are remembered for the minute: a site
    without a library page would otherwise look for it once per document of a rebuild; and for the rest of a batch
    of documents (one cache read per batch, not per document)."""
    memo = batch_memo()
    if memo is not None and PAGE_URL_CACHE_KEY in memo:
        return memo[PAGE_URL_CACHE_KEY]
    base = cache.get(PAGE_URL_CACHE_KEY)
    if base is None:
        page = library_page()
        base = (page.url or "") if page is not None else ""
        cache.set(PAGE_URL_CACHE_KEY, base, PAGE_URL_CACHE_SECONDS)
    if memo is not None:
        memo[PAGE_URL_CACHE_KEY] = base
    return base


def _item_url(item: LibraryItem) -> str:
    """What selectors.item_url gives, from the remembered page URL (routes are the same for any LibraryPage)."""
    base = _page_url_base()
    return base + LibraryPage.get_resolver().reverse("item_route", item_id=item.pk) if base else ""


@lru_cache(maxsize=CLC_CACHE_CODES)
def _clc_text(code: str) -> str:
    try:
        return clc_label(code) if code else ""
    except ValidationError:  # an old, unvalidated code must not stop indexing
        return code


# What a document reads: the item's own fields; of its parent and grandparent only their opening (access,
# is_published, the unit opened to, the next parent); of each unit its tree path. Rows of 38 fields (and units of
# 10) built for a rebuild's 300,000 items cost more than reading them: only these are loaded.
ITEM_FIELDS = (
    *("kind", "role", "title", "subtitle", "summary", "body", "creators", "publisher", "year", "clc"),
    *("owning_unit__path", "read_count", "published_at", "fulltext"),
)
OPENING_FIELDS = ("access", "is_published", "access_unit__path", "parent")
CHAIN_FIELDS = [f"{row}{field}" for row in ("", "parent__", "parent__parent__") for field in OPENING_FIELDS]


# Where indexed_items puts each item's tagged rows (a list, see _tagged).
INDEXED_TAGS = "indexed_tagged_items"


def indexed_items():
    # The units the chain is opened to come with it: the effective opening compares their tree paths.
    return (
        LibraryItem.objects.select_related(
            "owning_unit", "access_unit", "parent__access_unit", "parent__parent__access_unit"
        )
        .only(*ITEM_FIELDS, *CHAIN_FIELDS)
        .prefetch_related(
            Prefetch(
                "tagged_items",
                queryset=LibraryItemTag.objects.select_related("tag").order_by("pk"),
                to_attr=INDEXED_TAGS,
            )
        )
    )


def _library_page_published(sender, **kwargs):
    # A new or moved library page: documents written from now on carry its URL, not the remembered one (or none).
    cache.delete(PAGE_URL_CACHE_KEY)


register(LibraryItem, to_document=item_document, queryset=indexed_items, kind_labels=LibraryItem.Kind.choices)
page_published.connect(_library_page_published, sender=LibraryPage, dispatch_uid="library:search:page-published")
