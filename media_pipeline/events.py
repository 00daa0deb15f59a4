"""What the pipeline tells other apps, without knowing them: they connect receivers in their own ready().

The pipeline knows assets, jobs and renditions, never who uses them (the library's items, later courses and
screens), so it announces and listeners decide what follows (new text for search, an item that became playable).
"""

from django.dispatch import Signal

# Sent after commit, once per finished job whose renditions are stored and described.
# Keyword arguments: asset_id (int), group (the job group's name: "ladder", "documents", …).
renditions_published = Signal()

# Sent when an asset's caption tracks were attached or replaced (caption_attach), before any re-run finishes: what
# the captions say (a transcript for search) is news at once. Sent inside that transaction, so a receiver must only
# record what to do after commit (transaction.on_commit). Keyword arguments: asset_id (int).
captions_changed = Signal()
