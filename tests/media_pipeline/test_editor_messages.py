"""What an editor reads when something fails: one short Chinese sentence saying what to do, no server path,
no English from ffmpeg (that stays in the job's log); and only what can succeed on a retry is retried."""

import re

import pytest

from media_pipeline.errors import (
    RETRIES_EXHAUSTED,
    BadInputError,
    ConversionError,
    EncodeError,
    ProbeError,
    VerifyError,
    editor_message,
    unexpected_error,
)
from media_pipeline.ffmpeg.probe import probe_upload
from media_pipeline.ffmpeg.runner import RunResult, failure_of
from media_pipeline.jobs.verify import verify_hls
from media_pipeline.synthetic.media import BAD_KINDS, CORPUS_SUFFIXES, make_corpus_clip

# Latin words of two letters or more: an English tool message, a codec name, a path component; except the
# names of formats an editor chooses between when exporting a file.
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
FORMAT_NAMES = {"PDF", "EPUB", "DRM", "SRT", "WebVTT", "UTF", "GBK"}
WHAT_TO_DO = ("请", "自动重试")


def assert_plain_chinese(text: str) -> None:
    """The shape of every editor-facing failure: short, Chinese, no path, no English, says what to do."""
    text = str(text)
    assert text and len(text) <= 60, text
    assert "/" not in text and "\\" not in text, text
    assert set(LATIN_WORD.findall(text)) <= FORMAT_NAMES, text
    assert any(words in text for words in WHAT_TO_DO), text


# ffmpeg 5.1's last log lines for each way a run ends badly, and what it must mean.
RUNS = {
    "corrupt input": (1, "[mov,mp4 @ 0x1] moov atom not found\n/var/x/source.mp4: Invalid data found", BadInputError),
    "filter refused": (1, "Error initializing filter 'loudnorm'\nNumerical result out of range", ConversionError),
    "killed by the OOM killer": (-9, "frame=  120 fps= 30 q=28.0 size=512kB", EncodeError),
    "died without a word": (1, "", EncodeError),
    "disk full": (1, "/var/work/job1/out/360p/seg_003.m4s: No space left on device", EncodeError),
    "unknown complaint": (1, "[libx264 @ 0x1] broken ffmpeg default settings detected", ConversionError),
}


@pytest.mark.parametrize("case", sorted(RUNS))
def test_a_failed_run_is_retried_only_when_a_retry_can_succeed(case):
    """Killed, silent or short of disk: transient; a corrupt input, a filter that cannot be built or any other
    complaint of ffmpeg's: not retried. Every message is plain Chinese; ffmpeg's words stay in the log."""
    returncode, log, expected = RUNS[case]
    error = failure_of(RunResult(returncode=returncode, log_tail=log, cancelled=False))
    assert type(error) is expected and error.transient == (expected is EncodeError)
    assert_plain_chinese(error.message)
    assert error.log_tail == log


def test_crashes_outside_ffmpeg_retry_only_for_a_lost_disk_or_database():
    """An OSError or a lost database connection may pass; a Python bug would crash again: not retried."""
    from django.db import OperationalError

    assert unexpected_error(OSError("connection reset")).transient
    assert unexpected_error(OperationalError("server closed the connection")).transient
    bug = unexpected_error(KeyError("width"))
    assert not bug.transient and "KeyError" in bug.reason
    for error in (bug, unexpected_error(OSError("x"))):
        assert_plain_chinese(error.message)


def test_retries_that_ran_out_say_so_instead_of_promising_another():
    """A transient error still read as "will retry" after the last attempt would mislead: it becomes
    RETRIES_EXHAUSTED; errors that are not retried keep their own sentence."""
    transient = EncodeError("转码意外中断，系统将自动重试", "killed")
    assert editor_message(transient, retrying=True) == transient.message
    assert editor_message(transient, retrying=False) == str(RETRIES_EXHAUSTED)
    assert_plain_chinese(RETRIES_EXHAUSTED)


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_refused_uploads_say_what_to_do(tmp_path, kind):
    """Truncated (index last or first), empty and text-as-MP4 uploads are refused with a plain Chinese sentence."""
    with pytest.raises(ProbeError) as caught:
        probe_upload(make_corpus_clip(kind, tmp_path / f"{kind}{CORPUS_SUFFIXES[kind]}"))
    assert_plain_chinese(caught.value.message)


def test_a_failed_output_check_keeps_its_mismatches_for_the_log(tmp_path):
    """A ladder that fails its check tells the editor to ask an administrator; the details are the reason."""
    (tmp_path / "master.m3u8").write_text("#EXTM3U\n")
    with pytest.raises(VerifyError) as caught:
        verify_hls(master_path=tmp_path / "master.m3u8", expect_duration=1.0)
    assert_plain_chinese(caught.value.message) and "master" in caught.value.reason


JOB_ERRORS = {"ProbeError", "BadInputError", "EncodeError", "ConversionError", "VerifyError", "StorageError"}


def _raised_messages():
    """Every ``SomeError(_("…"), …)`` of the pipeline's job errors in its source: what an editor can be shown."""
    import ast
    from pathlib import Path

    import media_pipeline

    root = Path(media_pipeline.__file__).parent
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") in JOB_ERRORS and node.args):
                continue
            first = node.args[0]
            while isinstance(first, ast.BinOp):  # _("…%(x)s") % {...} or _("…") + other
                first = first.left
            if isinstance(first, ast.Call) and getattr(first.func, "id", "") == "_":
                yield f"{path.relative_to(root)}:{node.lineno}", first.args[0].value


def test_every_error_message_in_the_source_says_what_to_do():
    """No pipeline error carries an editor message without a next step, or with English or a path in it
    (placeholders such as %(pages)d are filled with numbers or names the editor gave)."""
    found = dict(_raised_messages())
    assert len(found) > 30
    for where, message in found.items():
        filled = re.sub(r"%\(\w+\)[sd]", "1", message)
        if filled.endswith("："):  # a prefix naming which caption file; the inner error says what to do
            continue
        try:
            assert_plain_chinese(filled)
        except AssertionError as exc:
            raise AssertionError(f"{where}: {message}") from exc
