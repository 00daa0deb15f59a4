"""Re-sealing every stored ID number with the current key and re-hashing it with the current hash key, in batches
of short transactions so a province's roster rotates without holding locks for long. Safe to run again: rows
already under the current key and hash are left alone."""

from collections.abc import Callable

from django.db import transaction

from ..models import Member
from . import keys

BATCH = 500


def _rotate_one(member: Member, ring: keys.Keyring) -> bool:
    number = keys.decrypt(member.id_number_sealed, member_id=member.pk)
    digest = keys.digest(number)
    if keys.key_id_of(bytes(member.id_number_sealed)) == ring.current_id and member.id_number_digest == digest:
        return False
    member.id_number_sealed = keys.encrypt(number, member_id=member.pk)
    member.id_number_digest = digest
    member.save(update_fields=["id_number_sealed", "id_number_digest"])
    return True


def rotate(*, progress: Callable[[int], None] = lambda n: None) -> int:
    """Rotate every member's sealed number; returns how many rows changed."""
    ring = keys.keyring()
    changed, last_pk = 0, 0
    while True:
        with transaction.atomic():
            batch = list(
                Member.objects.select_for_update()
                .filter(pk__gt=last_pk, id_number_sealed__isnull=False)
                .order_by("pk")
                .only("pk", "id_number_sealed", "id_number_digest")[:BATCH]
            )
            if not batch:
                return changed
            changed += sum(_rotate_one(member, ring) for member in batch)
        last_pk = batch[-1].pk
        progress(len(batch))
