"""Errors the pipeline raises, split by whether trying again could help.

``message`` is what an editor reads: one short Chinese sentence saying what to do, never a server path or a
tool's English. ``reason`` and ``log_tail`` are for administrators: they go to the job's log only.
"""

from django.db import OperationalError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# A transient error that kept failing: an administrator has to look.
RETRIES_EXHAUSTED = gettext_lazy("多次自动重试仍未成功，请稍后在“转码任务”中点重试；仍不行请联系管理员")


class MediaPipelineError(Exception):
    """Base class. ``message`` is shown to editors (Chinese, what to do); ``reason`` is the tool's own words."""

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


class ConversionError(MediaPipelineError):
    """ffmpeg stopped with a reason of its own that is not about resources: the same run fails again, so an
    administrator has to look (the input is unusual in a way the pipeline does not handle yet)."""


class VerifyError(MediaPipelineError):
    """An output does not match its profile. The same commands would make it again: not retried."""


class StorageError(MediaPipelineError):
    """Uploading the renditions failed; the storage may be back on the next attempt."""

    transient = True


def unexpected_error(exc: Exception) -> MediaPipelineError:
    """What a crash outside the pipeline's own errors means: a lost disk or database connection may be back
    on the next attempt; anything else is a bug that would crash the same way again."""
    if isinstance(exc, (OSError, OperationalError)):
        return EncodeError(_("转码意外中断，系统将自动重试"), repr(exc))
    return ConversionError(_("转码时发生内部错误，请联系管理员"), repr(exc))


def editor_message(exc: MediaPipelineError, *, retrying: bool) -> str:
    """What the editor reads after a failure: the error's own sentence, unless retries of a transient error
    ran out (then its "will retry" would be untrue)."""
    if exc.transient and not retrying:
        return str(RETRIES_EXHAUSTED)
    return exc.message


class Cancelled(Exception):
    """The job was cancelled, or another worker took it over; stop quietly."""
