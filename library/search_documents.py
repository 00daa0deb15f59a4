"""Registers library items with the search index (discovered by the search app at start-up).

Every item is findable, children included (episodes, issues, and the articles inside periodical and newspaper
issues). Items opened to one unit and below are indexed with access "unit" and the unit they are opened to
(`access_unit_id`); search shows them only where its access rules allow (never to others, never in public facet
counts). The body carries the text extracted from the item's files (`fulltext`, see text.extraction).

A rebuild reads 300,000 items in chunks: the queryset joins what every document needs (owning unit, the parent
chain and the units it is opened to, for the effective opening) into one plain row per item, and the tags of a
chunk come in one more query, so the query count does not grow with the items.
"""

import math
import re
from collections import defaultdict
from functools import lru_cache
from html import unescape
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
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


# An item as indexing reads it: a named row of item_rows() (pk, ITEM_FIELDS, CHAIN_FIELDS), not a model instance.
Row = Any


def _facets(item: Row, tags: list[str]) -> dict:
    facets = {"role": item.role}
    if item.clc:
        facets["clc"] = item.clc
        facets["clc_top"] = item.clc[0]
    if tags:
        facets["tags"] = tags
    return facets


ACCESS_ORDER = [LibraryItem.Access.PUBLIC, LibraryItem.Access.MEMBERS]


def _effective_opening(item: Row) -> tuple[str, int | None] | None:
    """(access, access_unit_id) that search applies: what the library asks (items_visible_to) is that every row of
    the chain (the item and the series, title or issue holding it) is published and open to the reader.

    Rows opened to units: a member can open the item only from inside all of those units, which is possible only
    when they nest (each is above or at the narrowest); then the narrowest one decides. Units that do not nest
    (济南市 and 青岛市) leave no member who may open it: None, not indexed. Otherwise "members" beats "public".
    None as well when any row is unpublished."""
    chain = list(_chain(item))
    if not all(is_published for _access, is_published, _unit in chain):
        return None
    units = [unit for access, _published, unit in chain if access == LibraryItem.Access.UNIT]
    if not units:
        return max((access for access, _published, _unit in chain), key=ACCESS_ORDER.index), None
    narrowest = max(units, key=lambda unit: len(unit[1]))
    if not all(narrowest[1].startswith(path) for _pk, path in units):
        return None
    return LibraryItem.Access.UNIT, narrowest[0]


def _chain(item: Row):
    """(access, is_published, (unit id, unit path)) of the item, its parent and its grandparent (where they are)."""
    yield item.access, item.is_published, (item.access_unit_id, item.access_unit__path)
    if item.parent_id:
        parent = (item.parent__access_unit_id, item.parent__access_unit__path)
        yield item.parent__access, item.parent__is_published, parent
        if item.parent__parent_id:
            grandparent = (item.parent__parent__access_unit_id, item.parent__parent__access_unit__path)
            yield item.parent__parent__access, item.parent__parent__is_published, grandparent


# Popularity lifts an item a little (1 read: ×1.03, 1,000: ×1.3) and never more than this, so a famous book does
# not bury a better title match.
MAX_BOOST = 1.5


def popularity_boost(read_count: int) -> float:
    return min(1 + math.log10(1 + max(read_count, 0)) / 10, MAX_BOOST)


def row_document(item: Row) -> SearchDocument | None:
    """The document of one row of item_rows(); None when it must not be found."""
    opening = _effective_opening(item)
    if opening is None:
        return None
    access, access_unit_id = opening
    tags = _tags(item.pk)
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
        unit_path=item.owning_unit__path,
        access=access,
        access_unit_id=access_unit_id,
        subject=clc_subject(item.clc),
        year=item.year,
        boost=popularity_boost(item.read_count),
        url=_item_url(item),
        date=item.published_at,
        facets=_facets(item, tags),
    )


def item_document(item: LibraryItem | Row) -> SearchDocument | None:
    """The document of a stored item, read as indexing reads it (its row, then its tags)."""
    return row_document(item_rows(LibraryItem.objects.filter(pk=item.pk)).get())


# Where prepare_rows keeps the tag names of a batch's items (in the registry's batch memo).
BATCH_TAGS = "library:tags"


def prepare_rows(rows: list[Row]) -> None:
    """The tag names of a batch's items, in one query (in the order they were tagged); [] for an untagged one."""
    names = _tag_names([row.pk for row in rows])
    batch_memo()[BATCH_TAGS] = {row.pk: names.get(row.pk, []) for row in rows}


def _tag_names(pks: list) -> dict[Any, list[str]]:
    names = defaultdict(list)
    tagged = LibraryItemTag.objects.filter(content_object_id__in=pks).order_by("pk")
    for pk, name in tagged.values_list("content_object_id", "tag__name"):
        names[pk].append(name)
    return names


def _tags(pk) -> list[str]:
    prepared = (batch_memo() or {}).get(BATCH_TAGS, {})
    if pk in prepared:
        return prepared[pk]
    return _tag_names([pk]).get(pk, [])  # one item read outside a batch of items


# Rich text as editors and importers write it: tags whose attribute values hold no "<", ">" or "&", entities ended by
# ";", no comment, script or style. Its text is get_text_for_indexing's without that function's HTML parser (which
# strip_tags runs twice per body: most of a rebuild's reading of HTML bodies). Anything else goes to the function.
_WS = "[ \t\n\r\f]"
_START_TAG = rf'<[a-zA-Z][a-zA-Z0-9]*+(?:{_WS}++[a-zA-Z][-a-zA-Z0-9_:]*+(?:="[^"<>&]*+")?)*+{_WS}*+/?>'
_TAG = rf"{_START_TAG}|</[a-zA-Z][a-zA-Z0-9]*+{_WS}*+>"
_ENTITY = r"&(?:[a-zA-Z][a-zA-Z0-9]*+|#[0-9]++|#[xX][0-9a-fA-F]++);"
_PLAIN_RICH_TEXT = re.compile(rf"(?:[^<&]++|{_TAG}|{_ENTITY})*+")
_TAGS = re.compile(_TAG)
# Elements whose content html.parser reads as text (some only in later 3.11 patch releases): left to the parser.
_RAW_TEXT = re.compile(r"<(?:script|style|textarea|title|xmp|iframe|noembed|noframes|plaintext)", re.IGNORECASE)
# What get_text_for_indexing puts after block ends and line breaks, so that <p>a</p><p>b</p> reads "a b".
_BLOCK_END = re.compile(r"(</(p|h\d|li|blockquote)>)", re.IGNORECASE)
_BREAK = re.compile(r"(<(br|hr)\s*/>)", re.IGNORECASE)


def _body_text(body: str) -> str:
    """get_text_for_indexing(body), computed without an HTML parser where the body allows (the same text)."""
    if "<" not in body and "&" not in body:
        return body.strip()
    if _RAW_TEXT.search(body) or not _PLAIN_RICH_TEXT.fullmatch(body):
        return get_text_for_indexing(body)
    spaced = _BREAK.sub(r"\1 ", _BLOCK_END.sub(r"\1 ", body))
    return unescape(_TAGS.sub("", spaced).strip())


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


# What a document reads, as one plain row per item: the item's own fields; of its parent and grandparent only their
# opening (access, is_published, the unit opened to and its tree path, the next parent). Model instances (the item,
# two parents, three units) built for a rebuild's 300,000 items cost more than reading the rows.
ITEM_FIELDS = (
    *("kind", "role", "title", "subtitle", "summary", "body", "creators", "publisher", "year", "clc"),
    *("owning_unit_id", "owning_unit__path", "read_count", "published_at", "fulltext"),
)
OPENING_FIELDS = ("access", "is_published", "access_unit_id", "access_unit__path", "parent_id")
# The chain stops at the grandparent: its own parent is not read.
CHAIN_FIELDS = [f"{row}{field}" for row in ("", "parent__", "parent__parent__") for field in OPENING_FIELDS]
CHAIN_FIELDS.remove("parent__parent__parent_id")


def indexed_items():
    """Every item a rebuild looks at (each is indexed, or removed when it must not be found)."""
    return LibraryItem.objects.all()


def item_rows(items):
    """Items as indexing reads them: named rows (pk, ITEM_FIELDS, CHAIN_FIELDS), joins included."""
    return items.values_list("pk", *ITEM_FIELDS, *CHAIN_FIELDS, named=True)


def _library_page_published(sender, **kwargs):
    # A new or moved library page: documents written from now on carry its URL, not the remembered one (or none).
    cache.delete(PAGE_URL_CACHE_KEY)


register(
    LibraryItem,
    to_document=row_document,
    queryset=indexed_items,
    rows=item_rows,
    prepare=prepare_rows,
    kind_labels=LibraryItem.Kind.choices,
)
page_published.connect(_library_page_published, sender=LibraryPage, dispatch_uid="library:search:page-published")
