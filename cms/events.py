"""What the organisation app announces to the apps built on it: they listen, and cms imports none of them.

- ``member_changed`` (``member_id``): a member's unit or party role changed. Sent after the change commits, so a
  listener reads the new state; figures other apps keep per member (the courses' yearly study hours: where a year
  counts and what it must reach) follow at once instead of at the member's next activity.
"""

from django.db import transaction
from django.dispatch import Signal

member_changed = Signal()


def member_changed_on_commit(*, member_id: int) -> None:
    """Announce after commit; a listener's failure never undoes the roster's change (it is logged)."""

    def announce():
        member_changed.send(sender=None, member_id=member_id)

    transaction.on_commit(announce, robust=True)
