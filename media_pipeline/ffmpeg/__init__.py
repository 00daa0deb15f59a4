"""Talking to ffmpeg and ffprobe: probing a file, choosing the H.264 encoder, planning the ladder's variants,
building argument lists (pure functions), running them with progress and cancellation, and loudness (EBU R128)."""
