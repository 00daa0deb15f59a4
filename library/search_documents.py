"""Registers library items with the search index (discovered by the search app at start-up).

Every item is findable, children included (episodes, issues, and the articles inside periodical and newspaper
issues). Items opened to one unit and below are indexed with access "unit" and the owning unit; search shows them
only where its access rules allow (never to others, never in public facet counts).
"""

import html

from django.core.exceptions import ValidationError
from django.utils.html import strip_tags

from search.registry import SearchDocument, register

from .clc import clc_label
from .models import LibraryItem
from .selectors import item_url


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
    if item.access == LibraryItem.Access.UNIT:
        facets["access_unit_id"] = item.access_unit_id
    return facets


def item_document(item: LibraryItem) -> SearchDocument | None:
    if not item.is_published:
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
        access=item.access,
        url=item_url(item),
        date=item.published_at,
        facets=_facets(item),
    )


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
    queryset=lambda: LibraryItem.objects.select_related("owning_unit").prefetch_related("tags"),
    kind_labels=LibraryItem.Kind.choices,
)
