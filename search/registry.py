"""Which models are searchable and how each becomes a `SearchDocument`.

Apps register themselves from a `search_documents` module (autodiscovered in `SearchConfig.ready`), so
the search app never imports them.
"""

from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, transaction


@dataclass
class SearchDocument:
    """One findable thing, as every engine stores it.

    `access` is "public", "members" or "unit" (then `access_unit_id` names the unit that opened it to itself
    and the units below). `unit_id`/`unit_path` name the owning unit (filters take a unit and its subtree).
    `subject` is one human-readable subject ("K 历史、地理") used as a facet; `boost` (around 1.0) lets an app
    weigh documents (popularity, editorial weight); `facets` carries extra exact values (tags, role, …).
    `body` may be long (extracted text): engines index all of it, the embedded index a capped amount.
    """

    doc_id: str
    kind: str
    title: str
    url: str
    subtitle: str = ""
    body: str = ""
    creators: str = ""
    unit_id: int | None = None
    unit_path: str = ""
    access: str = "public"
    access_unit_id: int | None = None
    subject: str = ""
    year: int | None = None
    boost: float = 1.0
    date: datetime | None = None
    facets: dict = field(default_factory=dict)


@dataclass
class _Registration:
    model: type[models.Model]
    to_document: Callable[[models.Model], SearchDocument | None]
    queryset: Callable[[], models.QuerySet]
    rows: Callable[[models.QuerySet], models.QuerySet] | None = None
    prepare: Callable[[list], None] | None = None


_registrations: dict[str, _Registration] = {}
_kind_labels: dict[str, str] = {}


def doc_id_for(instance: models.Model) -> str:
    return make_doc_id(instance._meta.label_lower, instance.pk)


def make_doc_id(model_label: str, pk) -> str:
    return f"{model_label.lower()}:{pk}"


def _kind_choices(model: type[models.Model]) -> list:
    # Default labels: the choices of a `kind` field, where the model has one.
    try:
        return list(model._meta.get_field("kind").choices or [])
    except FieldDoesNotExist:
        return []


def register(
    model: type[models.Model],
    *,
    to_document: Callable[[models.Model], SearchDocument | None],
    queryset: models.QuerySet | Callable[[], models.QuerySet] | None = None,
    signals: bool = True,
    kind_labels=None,
    rows: Callable[[models.QuerySet], models.QuerySet] | None = None,
    prepare: Callable[[list], None] | None = None,
) -> None:
    """Make `model` searchable.

    `to_document` returns None for an instance that must not be found (for example unpublished);
    `queryset` narrows what a rebuild indexes. With `signals`, saves and deletes reach the outbox by
    themselves; bulk writes (`update()`, `bulk_create`) must call the services explicitly.
    `kind_labels` ((value, label) pairs, e.g. `Kind.choices`) names the kinds on the search page.

    `rows(queryset)` may turn the objects to read into plain rows for `to_document` (`values_list(..., named=True)`
    with a `pk` field): building 300,000 model instances costs a rebuild more than reading them. (The rebuild lists
    and counts the objects from `queryset` itself, without the rows' joins.) `prepare(rows)` then reads, once per
    batch, what the documents need beyond their rows (tags) and keeps it in `batch_memo()` for `to_document`.
    """
    _kind_labels.update(dict(kind_labels or _kind_choices(model)))
    label = model._meta.label_lower
    if queryset is None:
        make_queryset = model._default_manager.all
    elif isinstance(queryset, models.QuerySet):
        make_queryset = queryset.all
    else:
        make_queryset = queryset
    _registrations[label] = _Registration(model, to_document, make_queryset, rows, prepare)
    if signals:
        from search.signal_handlers import connect_outbox

        connect_outbox(model)


def kind_label(kind: str) -> str:
    return str(_kind_labels.get(kind, kind))


class Lookup(NamedTuple):
    """What `documents_for` found: pk → document (None: gone, or must not be found), and pk → why it failed (each
    pk in exactly one of them)."""

    documents: dict[object, SearchDocument | None]
    errors: dict[object, str]


# What to_document may keep for the rest of one documents_for call (see batch_memo).
_batch: ContextVar[dict | None] = ContextVar("search_batch", default=None)


def batch_memo() -> dict | None:
    """A dict that lives for one `documents_for` call (None outside one): a `to_document` keeps there what is the
    same for every object of the batch (a page URL), so a batch of 1,000 asks the cache once, not 1,000 times."""
    return _batch.get()


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _primary_keys(model: type[models.Model], pks: Iterable) -> tuple[dict, dict]:
    """Each pk as the database takes it (→ the pk as given), and the pks that cannot be one ("abc" for an int)."""
    keys, errors = {}, {}
    for pk in pks:
        try:
            key = model._meta.pk.to_python(pk)
        except (ValidationError, ValueError, TypeError) as exc:
            errors[pk] = _describe(exc)
            continue
        if key in keys:  # "05" next to "5": one object, and the index only knows the canonical doc_id
            errors[pk] = f"与主键 {keys[key]} 是同一对象"
        else:
            keys[key] = pk
    return keys, errors


def _convert(registration: _Registration, instances: list, keys: dict, lookup: Lookup) -> None:
    """to_document for each instance; one that raises is an error for that pk only.

    A savepoint around the run, taken again after each failure, so a failed query in one to_document (which
    PostgreSQL answers by aborting the transaction) spoils neither the others nor the caller's transaction.
    """
    remaining = instances
    while remaining:
        done = 0
        try:
            with transaction.atomic():
                for instance in remaining:
                    lookup.documents[keys[instance.pk]] = registration.to_document(instance)
                    done += 1
            return
        except Exception as exc:  # one object's bug must not hold up the others
            if done == len(remaining):  # the savepoint itself failed: nothing to blame on one object
                raise
            failed = keys[remaining[done].pk]
            del lookup.documents[failed]
            lookup.errors[failed] = _describe(exc)
            remaining = remaining[done + 1 :]


def documents_for(model_label: str, pks: Iterable) -> Lookup:
    """The current documents of many objects of one model, read with one query (prefetches run once).

    Keys are the pks as given (the strings of doc_ids, or what `iter_pks` yields).

    A pk whose object is gone, outside the registered queryset, or not findable (`to_document` gave None) maps to
    None; so does every pk of a model that is no longer registered. A pk that is not valid for the model, or whose
    `to_document` raised, is in `errors` instead, with why.
    """
    pks = list(dict.fromkeys(pks))
    registration = _registrations.get(model_label.lower())
    if registration is None:
        return Lookup(dict.fromkeys(pks), {})
    keys, errors = _primary_keys(registration.model, pks)
    lookup = Lookup({}, errors)
    try:
        with transaction.atomic():  # a failing query must not abort the caller's transaction (PostgreSQL)
            chosen = registration.queryset().filter(pk__in=list(keys))
            instances = list(registration.rows(chosen) if registration.rows else chosen)
    except Exception as exc:  # noqa: BLE001 — e.g. a broken queryset: these objects wait, not the whole batch
        lookup.errors.update(dict.fromkeys(keys.values(), _describe(exc)))
        return lookup
    lookup.documents.update(dict.fromkeys(keys.values()))
    token = _batch.set({})
    try:
        if registration.prepare is not None and not _prepared(registration, instances, keys, lookup):
            return lookup
        _convert(registration, instances, keys, lookup)
    finally:
        _batch.reset(token)
    return lookup


def _prepared(registration: _Registration, instances: list, keys: dict, lookup: Lookup) -> bool:
    """Run the batch's `prepare`; when it fails, every object of the batch waits with why (as a failed read)."""
    try:
        with transaction.atomic():
            registration.prepare(instances)
    except Exception as exc:  # noqa: BLE001 — these objects wait, not the whole drain
        for instance in instances:
            lookup.documents.pop(keys[instance.pk], None)
            lookup.errors[keys[instance.pk]] = _describe(exc)
        return False
    return True


def split_doc_id(doc_id: str) -> tuple[str, str]:
    model_label, _, pk = doc_id.rpartition(":")
    return model_label, pk


def iter_pks(*, chunk_size: int = 500) -> Iterator[tuple[str, list]]:
    """Every object a full rebuild looks at, as (model label, pks) chunks of one model, in primary-key order.

    Only keys: the rebuild reads the objects themselves (`documents_for`) when it is about to write them.
    """
    for label, registration in _registrations.items():
        chunk = []
        pks = registration.queryset().prefetch_related(None).order_by("pk").values_list("pk", flat=True)
        for pk in pks.iterator(chunk_size=chunk_size):
            chunk.append(pk)
            if len(chunk) == chunk_size:
                yield label, chunk
                chunk = []
        if chunk:
            yield label, chunk


def iter_documents(*, chunk_size: int = 500) -> Iterator[SearchDocument]:
    """Every findable document, read as a rebuild reads them (chunks of `iter_pks`, each through `documents_for`)."""
    for label, pks in iter_pks(chunk_size=chunk_size):
        yield from filter(None, documents_for(label, pks).documents.values())


def count_objects() -> int:
    """How many objects a rebuild will look at (for a progress bar)."""
    return sum(registration.queryset().count() for registration in _registrations.values())
