"""Getting renditions to players: who may play (the access seams the library plugs into), playlists rewritten
per request to point at our views and at storage, and byte ranges for local media. The views themselves are
``media_pipeline/views.py``; signed URLs and storage backends are ``media_pipeline/storage.py``."""
