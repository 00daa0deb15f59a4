"""When a device should ask again: every ``POLL_INTERVAL`` seconds at its own moment of the interval.

The moment (``poll_phase``) comes from a hash of the device's credential id, so it is the same on every answer and
100,000 screens are spread evenly over the five minutes instead of arriving in the same second after a power cut
or a window roll: whatever moment a device asks, ``poll_after`` sends it to its own next slot (1 to 300 seconds
later). The manifest carries it as ``poll_after``, the heartbeat's answer too, and both set ``Retry-After``.
"""

import hashlib
from datetime import datetime

POLL_INTERVAL = 300


def poll_phase(credential_id: str) -> int:
    """The device's second of the interval, 0 to POLL_INTERVAL − 1, the same every time."""
    digest = hashlib.sha256(f"lighthouse.screens.poll:{credential_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % POLL_INTERVAL


def poll_after(credential_id: str, now: datetime) -> int:
    """Whole seconds from ``now`` to the device's next slot (1 to POLL_INTERVAL)."""
    seconds = int(now.timestamp())
    return (poll_phase(credential_id) - seconds) % POLL_INTERVAL or POLL_INTERVAL
