"""What the pipeline tells other apps, without knowing them: they connect receivers in their own ready().

The pipeline knows assets, jobs and renditions, never who uses them (the library's items, later courses and
screens), so it announces and listeners decide what follows (new text for search, an item that became playable).
"""

from django.dispatch import Signal

# Sent after commit, once per finished job whose renditions are stored and described.
# Keyword arguments: asset_id (int), group (the job group's name: "ladder", "documents", …).
renditions_published = Signal()
