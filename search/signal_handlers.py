"""The search app's signal receivers, both kinds in one place:

- the outbox: saves and deletes of every registered model record outbox entries (see services). `registry.register`
  connects these per model through `connect_outbox`, so only searchable models pay for them;
- the caches: editors' changes to synonyms, promotions and unit names forget what searches cached, so the very next
  search uses the change. These are connected when this module is imported (`SearchConfig.ready`).
"""

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from cms.models import OrgUnit
from search.models import Promotion, Synonym

# --- The outbox: registered models.


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


def connect_outbox(model) -> None:
    post_save.connect(_saved, sender=model, dispatch_uid=_uid(model, "save"))
    post_delete.connect(_deleted, sender=model, dispatch_uid=_uid(model, "delete"))


# --- The caches: what editors change.


def _forget(*keys: str) -> None:
    # Now, for this request; and again after commit, because a search running meanwhile may have cached
    # the old value before the transaction ended.
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


@receiver(post_save, sender=Synonym, dispatch_uid="search:synonyms:saved")
@receiver(post_delete, sender=Synonym, dispatch_uid="search:synonyms:deleted")
def synonyms_changed(sender, **kwargs) -> None:
    from search.selectors import SYNONYMS_CACHE_KEY

    _forget(SYNONYMS_CACHE_KEY)


@receiver(post_save, sender=Promotion, dispatch_uid="search:promotions:saved")
@receiver(post_delete, sender=Promotion, dispatch_uid="search:promotions:deleted")
def promotions_changed(sender, **kwargs) -> None:
    from search.selectors import PROMOTED_QUERIES_CACHE_KEY

    _forget(PROMOTED_QUERIES_CACHE_KEY)


@receiver(post_save, sender=OrgUnit, dispatch_uid="search:units:saved")
def unit_renamed(sender, instance, **kwargs) -> None:
    from search.selectors import UNIT_NAME_CACHE_PREFIX

    _forget(f"{UNIT_NAME_CACHE_PREFIX}{instance.pk}")
