"""Saves and deletes of registered models record outbox entries (see services)."""

from django.db.models.signals import post_delete, post_save


def _saved(sender, instance, raw=False, **kwargs):
    # Fixture loading (raw) indexes nothing: a rebuild follows it.
    if raw:
        return
    from search.services import search_document_changed

    search_document_changed(instance=instance)


def _deleted(sender, instance, **kwargs):
    from search.services import search_document_removed

    search_document_removed(model_label=sender._meta.label_lower, pk=instance.pk)


def _uid(model, action: str) -> str:
    return f"search:{action}:{model._meta.label_lower}"


def connect(model) -> None:
    post_save.connect(_saved, sender=model, dispatch_uid=_uid(model, "save"))
    post_delete.connect(_deleted, sender=model, dispatch_uid=_uid(model, "delete"))
