"""The steps that make outputs, one module per kind of output, and the profiles they follow (``profiles.py``).
A step is ``produce(ctx, profile) -> list[Output]`` (``contract.py``): it writes files into a work folder and
never touches the database or storage. The web ladder's helpers live beside it: the master playlist, I-frame
playlists, captions and the chunked encode of long sources. Documents (PDF, EPUB) have their own sub-package."""
