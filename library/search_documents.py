"""Registers library items with the search index (discovered by the search app at start-up).

Every item is findable, children included (episodes, issues, and the articles inside periodical and newspaper
issues). Items opened to one unit and below are indexed with access "unit" and the owning unit; search shows them
only where its access rules allow (never to others, never in public facet counts).
"""

import html

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.html import strip_tags

from search.registry import SearchDocument, register

from .clc import clc_label
from .models import LibraryItem, LibraryPage
from .selectors import library_page

PAGE_URL_CACHE_KEY = "library:page-url-base"
# Indexing runs item by item (a rebuild, the outbox drain), so the library page's URL is remembered for a minute
# instead of looked up for every document. A moved library page shows in new documents within that minute.
PAGE_URL_CACHE_SECONDS = 60


def _facets(item: LibraryItem) -> dict:
    facets = {"role": item.role}
    if item.clc:
        facets["clc"] = item.clc
        facets["clc_top"] = item.clc[0]
    if item.year:
        facets["year"] = item.year
    tags = [tag.name for tag in item.tags.all()]
    if tags:
        facets["tags"] = tags
    return facets


ACCESS_ORDER = [LibraryItem.Access.PUBLIC, LibraryItem.Access.MEMBERS, LibraryItem.Access.UNIT]


def _effective_opening(item: LibraryItem) -> LibraryItem | None:
    """The row whose access applies: the most closed of the item and what holds it (a child is never more open
    than its series, title or issue); None when any of them is unpublished."""
    chain = [item]
    while chain[-1].parent_id and len(chain) < 3:
        chain.append(chain[-1].parent)
    if not all(row.is_published for row in chain):
        return None
    return max(chain, key=lambda row: ACCESS_ORDER.index(row.access))


def item_document(item: LibraryItem) -> SearchDocument | None:
    opening = _effective_opening(item)
    if opening is None:
        return None
    subjects = " ".join(filter(None, [_clc_text(item.clc), *(tag.name for tag in item.tags.all())]))
    return SearchDocument(
        doc_id=f"library.libraryitem:{item.pk}",
        kind=item.kind,
        title=item.title,
        subtitle=item.subtitle,
        body="\n".join(part for part in (item.summary, _text(item.body), subjects, item.publisher) if part),
        creators=item.creators,
        unit_id=item.owning_unit_id,
        access=opening.access,
        url=_item_url(item),
        date=item.published_at,
        facets=_facets(item) | ({"access_unit_id": opening.access_unit_id} if opening.access == "unit" else {}),
    )


def _page_url_base() -> str:
    """The library page's URL ("/library/"), or "" when there is none (not remembered: it may be created any time)."""
    base = cache.get(PAGE_URL_CACHE_KEY)
    if base is None:
        page = library_page()
        base = (page.url or "") if page is not None else ""
        if base:
            cache.set(PAGE_URL_CACHE_KEY, base, PAGE_URL_CACHE_SECONDS)
    return base


def _item_url(item: LibraryItem) -> str:
    """What selectors.item_url gives, from the remembered page URL (routes are the same for any LibraryPage)."""
    base = _page_url_base()
    return base + LibraryPage.get_resolver().reverse("item_route", item_id=item.pk) if base else ""


def _text(rich_text: str) -> str:
    """Rich text (HTML) as the words a reader sees: tags dropped, entities turned back into characters."""
    return html.unescape(strip_tags(rich_text))


def _clc_text(code: str) -> str:
    try:
        return clc_label(code) if code else ""
    except ValidationError:  # an old, unvalidated code must not stop indexing
        return code


register(
    LibraryItem,
    to_document=item_document,
    queryset=lambda: LibraryItem.objects.select_related("owning_unit", "parent__parent").prefetch_related("tags"),
    kind_labels=LibraryItem.Kind.choices,
)
