"""Light side effects of editors' changes: what searches cache (synonyms, promoted queries, unit names) is
forgotten, so the very next search uses the change."""

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from cms.models import OrgUnit
from search.models import Promotion, Synonym


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
