"""The registry reads documents in bulk: one query per model (prefetches once), and one object's failure is its own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from library.models import LibraryItem
from search import registry
from search.registry import SearchDocument

pytestmark = pytest.mark.django_db
LABEL = "library.libraryitem"


@pytest.fixture
def registrations():
    """Tests may register their own versions of a model; the registry is put back as it was afterwards."""
    saved = dict(registry._registrations), dict(registry._kind_labels)
    yield registry
    for current, before in zip((registry._registrations, registry._kind_labels), saved, strict=True):
        current.clear()
        current.update(before)


def simple_document(item) -> SearchDocument | None:
    """A document built from the item and its (prefetched) tags; None while unpublished."""
    if not item.is_published:
        return None
    tags = " ".join(tag.name for tag in item.tags.all())
    return SearchDocument(doc_id=registry.doc_id_for(item), kind="ebook", title=item.title, url="/", body=tags)


def register_items(to_document=simple_document):
    registry.register(
        LibraryItem,
        to_document=to_document,
        queryset=lambda: LibraryItem.objects.prefetch_related("tags"),
        signals=False,
    )


def _items(make_item, count):
    items = [make_item(f"党史读本第{n}卷") for n in range(count)]
    for item in items:
        item.tags.add("党史")
    return items


def test_documents_for_reads_a_model_with_the_same_queries_for_3_or_30(registrations, make_item):
    """documents_for reads all the objects of one model with one query and its prefetches once, however many."""
    register_items()

    def queries_for(count: int) -> int:
        pks = [str(item.pk) for item in _items(make_item, count)]
        with CaptureQueriesContext(connection) as captured:
            lookup = registry.documents_for(LABEL, pks)
        assert [document.body for document in lookup.documents.values()] == ["党史"] * count
        return len(captured)

    assert queries_for(3) == queries_for(30)


def test_gone_unfindable_and_unregistered_objects_map_to_none(registrations, make_item):
    """An object that is gone, or that must not be found (to_document gives None), maps to None; so does every pk
    of a model that is not registered (its rows must leave the index)."""
    register_items()
    shown, hidden = make_item("红楼梦"), make_item("未发布", is_published=False)
    lookup = registry.documents_for(LABEL, [str(shown.pk), str(hidden.pk), "999999"])
    assert lookup.documents[str(shown.pk)].title == "红楼梦"
    assert lookup.documents[str(hidden.pk)] is None and lookup.documents["999999"] is None and not lookup.errors
    assert registry.documents_for("nosuch.model", ["1"]) == registry.Lookup({"1": None}, {})


def test_plain_rows_with_a_prepare_read_once_per_batch(registrations, make_item):
    """A model registered with plain rows (values_list, named) and a `prepare`: documents_for hands the batch's rows
    to `prepare` once (one query for the whole batch), whose findings reach each to_document through batch_memo; a
    failing `prepare` makes every object of the batch wait with why (none of them is dropped as gone). The rebuild
    lists the objects without the rows' columns."""
    items = _items(make_item, 4)
    items[1].is_published = False
    items[1].save()

    def prepare(rows):
        tagged = LibraryItem.tags.through.objects.filter(content_object_id__in=[row.pk for row in rows])
        registry.batch_memo()["tags"] = dict(tagged.values_list("content_object_id", "tag__name"))

    def to_document(row):
        if not row.is_published:
            return None
        tags = registry.batch_memo()["tags"].get(row.pk, "")
        return SearchDocument(doc_id=f"{LABEL}:{row.pk}", kind="ebook", title=row.title, url="/", body=tags)

    def rows(items):
        return items.values_list("pk", "title", "is_published", named=True)

    registry.register(LibraryItem, to_document=to_document, rows=rows, prepare=prepare, signals=False)
    pks = [item.pk for item in items]
    with CaptureQueriesContext(connection) as captured:
        lookup = registry.documents_for(LABEL, pks)
    assert len([query for query in captured if query["sql"].startswith("SELECT")]) == 2  # the rows, the tags
    assert [document and document.body for document in lookup.documents.values()] == ["党史", None, "党史", "党史"]

    def failing(rows):
        raise RuntimeError("标签表读不了")

    registry.register(LibraryItem, to_document=to_document, rows=rows, prepare=failing, signals=False)
    lookup = registry.documents_for(LABEL, [*pks, 10**9])
    assert lookup.documents == {10**9: None}
    assert lookup.errors == dict.fromkeys(pks, "RuntimeError: 标签表读不了")
    with CaptureQueriesContext(connection) as captured:
        listed = [pk for label, chunk in registry.iter_pks() if label == LABEL for pk in chunk]
    assert listed == sorted(pks)
    assert not [query for query in captured if "library_libraryitem" in query["sql"] and "JOIN" in query["sql"]]


def test_a_bad_key_or_a_failing_object_fails_alone(registrations, make_item):
    """A pk the model cannot take ("abc"), or an object whose to_document raises, is an error for that pk only:
    the others are read as usual."""
    first, broken, last = make_item("甲"), make_item("坏"), make_item("丙")

    def to_document(item):
        if item.pk == broken.pk:
            raise RuntimeError("这一页的 get_url 出错了")
        return simple_document(item)

    register_items(to_document)
    lookup = registry.documents_for(LABEL, [str(first.pk), "abc", str(broken.pk), str(last.pk)])
    assert {pk: document.title for pk, document in lookup.documents.items()} == {
        str(first.pk): "甲",
        str(last.pk): "丙",
    }
    assert set(lookup.errors) == {"abc", str(broken.pk)}
    assert "RuntimeError: 这一页的 get_url 出错了" == lookup.errors[str(broken.pk)]


def test_a_failed_query_in_one_object_spoils_neither_the_others_nor_the_transaction(registrations, make_item):
    """A to_document whose query fails (PostgreSQL then aborts the whole transaction) costs only that object: the
    others are read and the caller's transaction goes on working."""
    first, broken, last = make_item("甲"), make_item("坏"), make_item("丙")

    def to_document(item):
        if item.pk == broken.pk:
            with connection.cursor() as cursor:
                cursor.execute("SELECT no_such_column FROM library_libraryitem")
        return simple_document(item)

    register_items(to_document)
    lookup = registry.documents_for(LABEL, [str(first.pk), str(broken.pk), str(last.pk)])
    assert sorted(document.title for document in lookup.documents.values()) == ["丙", "甲"]
    assert list(lookup.errors) == [str(broken.pk)]
    assert LibraryItem.objects.count() == 3  # the transaction still answers


def test_iter_pks_chunks_every_model_in_key_order(registrations, make_item):
    """A rebuild walks every registered object as chunks of one model's keys, in key order."""
    register_items()
    pks = [item.pk for item in _items(make_item, 5)]
    chunks = [chunk for label, chunk in registry.iter_pks(chunk_size=2) if label == LABEL]
    assert chunks == [pks[0:2], pks[2:4], pks[4:5]]
