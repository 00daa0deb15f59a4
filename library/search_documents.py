"""Registers library items with the search index (discovered by the search app at start-up)."""

from search.registry import SearchDocument, register

from .models import LibraryItem
from .selectors import item_url


def item_document(item: LibraryItem) -> SearchDocument | None:
    if not item.is_published:
        return None
    return SearchDocument(
        doc_id=f"library.libraryitem:{item.pk}",
        kind=item.kind,
        title=item.title,
        subtitle=item.subtitle,
        body="\n".join(part for part in (item.summary, item.body) if part),
        creators=item.creators,
        unit_id=item.owning_unit_id,
        access=item.access,
        url=item_url(item),
        date=item.published_at,
    )


register(
    LibraryItem,
    to_document=item_document,
    queryset=lambda: LibraryItem.objects.select_related("owning_unit"),
    kind_labels=LibraryItem.Kind.choices,
)
