"""Light side effects of editors' changes: a synonym change is used by the very next search."""

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from search.models import Synonym


def _forget_synonyms() -> None:
    from search.selectors import SYNONYMS_CACHE_KEY

    cache.delete(SYNONYMS_CACHE_KEY)


@receiver(post_save, sender=Synonym, dispatch_uid="search:synonyms:saved")
@receiver(post_delete, sender=Synonym, dispatch_uid="search:synonyms:deleted")
def synonyms_changed(sender, **kwargs) -> None:
    # Now, for this request; and again after commit, because a search running meanwhile may have cached
    # the groups as they were before the transaction ended.
    _forget_synonyms()
    transaction.on_commit(_forget_synonyms)
