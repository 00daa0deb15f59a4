"""Which models are searchable and how each becomes a `SearchDocument`.

Apps register themselves from a `search_documents` module (autodiscovered in `SearchConfig.ready`), so
the search app never imports them.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.db import models


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
) -> None:
    """Make `model` searchable.

    `to_document` returns None for an instance that must not be found (for example unpublished);
    `queryset` narrows what a rebuild indexes. With `signals`, saves and deletes reach the outbox by
    themselves; bulk writes (`update()`, `bulk_create`) must call the services explicitly.
    `kind_labels` ((value, label) pairs, e.g. `Kind.choices`) names the kinds on the search page.
    """
    _kind_labels.update(dict(kind_labels or _kind_choices(model)))
    label = model._meta.label_lower
    if queryset is None:
        make_queryset = model._default_manager.all
    elif isinstance(queryset, models.QuerySet):
        make_queryset = queryset.all
    else:
        make_queryset = queryset
    _registrations[label] = _Registration(model, to_document, make_queryset)
    if signals:
        from search.signals import connect

        connect(model)


def unregister(model: type[models.Model]) -> None:
    from search.signals import disconnect

    _registrations.pop(model._meta.label_lower, None)
    disconnect(model)


def kind_label(kind: str) -> str:
    return str(_kind_labels.get(kind, kind))


def is_registered(model_label: str) -> bool:
    return model_label.lower() in _registrations


def registered_labels() -> list[str]:
    return sorted(_registrations)


def document_for(model_label: str, pk) -> SearchDocument | None:
    """The current document for one object, or None when it is gone or must not be found."""
    registration = _registrations.get(model_label.lower())
    if registration is None:
        return None
    instance = registration.queryset().filter(pk=pk).first()
    return registration.to_document(instance) if instance is not None else None


def split_doc_id(doc_id: str) -> tuple[str, str]:
    model_label, _, pk = doc_id.rpartition(":")
    return model_label, pk


def document_for_id(doc_id: str) -> SearchDocument | None:
    return document_for(*split_doc_id(doc_id))


def iter_documents(*, chunk_size: int = 500) -> Iterator[SearchDocument]:
    """Every document a full rebuild indexes, streamed in primary-key order."""
    for registration in _registrations.values():
        for instance in registration.queryset().order_by("pk").iterator(chunk_size=chunk_size):
            document = registration.to_document(instance)
            if document is not None:
                yield document


def count_objects() -> int:
    """How many objects a rebuild will look at (for a progress bar)."""
    return sum(registration.queryset().count() for registration in _registrations.values())
