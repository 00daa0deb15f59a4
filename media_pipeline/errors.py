"""Errors the pipeline raises, split by whether trying again could help."""


class MediaPipelineError(Exception):
    """Base class. ``message`` is shown to editors (Chinese); ``reason`` is the tool's own words."""

    # A bad input file fails the same way every time; only transient errors are retried.
    transient = False

    def __init__(self, message: str, reason: str = "", log_tail: str = ""):
        super().__init__(f"{message}：{reason}" if reason else message)
        self.message = message
        self.reason = reason
        self.log_tail = log_tail


class ProbeError(MediaPipelineError):
    """ffprobe could not read the file: empty, not media, truncated."""


class BadInputError(MediaPipelineError):
    """ffmpeg choked on the input's content; retrying will not help."""


class EncodeError(MediaPipelineError):
    """ffmpeg failed for a reason that may not recur (killed, out of disk, out of memory)."""

    transient = True


class VerifyError(MediaPipelineError):
    """An output does not match its profile. The same commands would make it again: not retried."""


class StorageError(MediaPipelineError):
    """Uploading the renditions failed; the storage may be back on the next attempt."""

    transient = True


class Cancelled(Exception):
    """The job was cancelled, or another worker took it over; stop quietly."""
