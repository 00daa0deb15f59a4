"""What the library tells other apps, without knowing them: they connect receivers in their own ready().

The library knows items and members' study time, never what uses them (courses count lessons done from it), so it
announces and listeners decide what follows.
"""

from django.dispatch import Signal

# Sent after commit, once per heartbeat that credited honest study time (library.activity.progress_heartbeat).
# Keyword arguments: member_id (int), item_id (int), seconds (int, credited by this beat), at (datetime, the beat).
study_credited = Signal()
