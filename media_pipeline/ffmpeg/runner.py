"""Run one ffmpeg argument list: report progress, keep the log's tail, stop on request, leave no orphans."""

import collections
import ctypes
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from ..errors import BadInputError, Cancelled, ConversionError, EncodeError

LOG_TAIL_LINES = 40
# ffmpeg's words for a broken input: retrying such a file only burns CPU.
BAD_INPUT_MARKERS = ("Invalid data found", "moov atom not found", "Error while decoding", "corrupt", "truncated")
# A filter graph that cannot be built (an option out of range for this input) fails identically on every try.
DETERMINISTIC_MARKERS = ("Error initializing filter", "Numerical result out of range")
# What a run that may well succeed next time looks like: the machine ran short, or the process was killed.
RESOURCE_MARKERS = (
    "No space left on device",
    "Cannot allocate memory",
    "Resource temporarily unavailable",
    "Input/output error",
    "Connection reset",
    "Connection timed out",
)
# Exit statuses of a process killed by a signal (SIGKILL from the OOM killer, SIGTERM at shutdown), as a shell
# reports them; Popen reports a signal as a negative status.
KILLED_STATUSES = (137, 143)
TERMINATE_GRACE_SECONDS = 5

# Called with progress 0..1; returning False asks the runner to stop ffmpeg.
ProgressCallback = Callable[[float], bool]


@dataclass
class RunResult:
    returncode: int
    log_tail: str
    cancelled: bool


def run_ffmpeg(args: list[str], *, duration: float, on_progress: ProgressCallback | None = None) -> RunResult:
    """Execute ``ffmpeg <args>``; ``args`` must include ``-progress pipe:1`` for progress to be reported."""
    process = subprocess.Popen(
        [settings.FFMPEG_BINARY, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
    # stderr is drained on a thread so a chatty ffmpeg never blocks on a full pipe.
    reader = threading.Thread(target=_drain, args=(process.stderr, tail), daemon=True)
    reader.start()
    cancelled = False
    try:
        cancelled = not _follow_progress(process, duration, on_progress)
    finally:
        if process.poll() is None:
            _stop(process)
        process.wait()  # reap: never a zombie
        reader.join(timeout=TERMINATE_GRACE_SECONDS)
    return RunResult(process.returncode, "\n".join(tail), cancelled)


def check_run(result: RunResult) -> None:
    """Raise what a finished run means: Cancelled; EncodeError (retried) only where a retry can succeed;
    BadInputError or ConversionError (not retried) for what fails the same way every time."""
    if result.cancelled:
        raise Cancelled()
    if result.returncode == 0:
        return
    raise failure_of(result)


def failure_of(result: RunResult) -> Exception:
    """The error a failed run means; the editor's message says what to do, ffmpeg's words stay in the log."""
    log = result.log_tail
    reason = log.splitlines()[-1] if log else f"ffmpeg exit {result.returncode}"
    if any(marker in log for marker in BAD_INPUT_MARKERS):
        return BadInputError(_("文件已损坏或格式无法识别，请检查原文件后重新上传"), reason, log)
    if any(marker in log for marker in DETERMINISTIC_MARKERS):
        return ConversionError(_("这个文件暂时无法转码，请联系管理员"), reason, log)
    # Killed, or died without a word (the OOM killer leaves no log line), or short of disk/memory: retry.
    killed = result.returncode < 0 or result.returncode in KILLED_STATUSES or not log.strip()
    if killed or any(marker in log for marker in RESOURCE_MARKERS):
        return EncodeError(_("转码意外中断，系统将自动重试"), reason, log)
    return ConversionError(_("这个文件暂时无法转码，请联系管理员"), reason, log)


def _follow_progress(process: subprocess.Popen, duration: float, on_progress: ProgressCallback | None) -> bool:
    """Read ``-progress`` blocks; return False when the callback asked to stop."""
    block: dict[str, str] = {}
    for line in process.stdout:
        key, _, value = line.strip().partition("=")
        block[key] = value
        if key != "progress":
            continue
        fraction = 1.0 if value == "end" else progress_fraction(block, duration)
        block = {}
        if on_progress is not None and on_progress(fraction) is False:
            return False
    return True


def progress_fraction(block: dict[str, str], duration: float) -> float:
    """out_time vs. the source's duration, clamped to 0..1 (ffmpeg 5.1's out_time_ms is µs too)."""
    try:
        seconds = int(block.get("out_time_us") or block.get("out_time_ms") or 0) / 1_000_000
    except ValueError:
        return 0.0
    if duration <= 0:
        return 0.0
    return max(0.0, min(1.0, seconds / duration))


def _drain(stream, tail: collections.deque) -> None:
    for line in stream:
        if line.strip():
            tail.append(line.rstrip())


def _stop(process: subprocess.Popen) -> None:
    # "q"-style graceful stop is useless for a job we are abandoning: SIGTERM, then SIGKILL.
    process.terminate()
    try:
        process.wait(timeout=TERMINATE_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()


def _die_with_parent() -> None:
    # If the worker is SIGKILLed, the kernel kills ffmpeg too, instead of leaving it encoding for nobody.
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
