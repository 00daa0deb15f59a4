"""Captions: SRT or WebVTT in; a clean WebVTT file plus a segmented HLS subtitle playlist out.

Parsing and writing WebVTT is left to ``webvtt-py``; what is ours is the decoding of the files editors
bring (UTF-8 with or without a BOM, and GB18030/GBK from Chinese subtitle tools), cleaning cue text
(players render it: only ``<b>``, ``<i>``, ``<u>`` survive) and cutting the HLS segments.
"""

import codecs
import html
import io
import math
import posixpath
import re
from collections.abc import Iterable

import webvtt
from django.utils.translation import gettext as _
from webvtt.errors import MalformedCaptionError, MalformedFileError

from ..errors import BadInputError, Cancelled
from ..ffmpeg.commands import PLAYLIST_NAME
from .contract import CaptionTrack, Output, StepContext
from .master_playlist import SubtitleMedia
from .profiles import CaptionProfile

CAPTIONS_FILE = "captions.vtt"  # the whole track, for download and for TV boxes
SEGMENT_NAME = "sub_{:05d}.vtt"
# utf-8-sig first (it also reads plain UTF-8); GB18030 is a superset of GBK and GB2312.
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")
ALLOWED_TAGS = frozenset({"b", "i", "u"})
# BCP 47 as it appears in practice (zh-Hans, en, zh-Hant-TW); it also names a folder and a URL part.
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")
# The ladder's fMP4 starts its video decode timeline at 0 (tfdt 0, measured on ffmpeg 5.1 output), and
# hls.js takes that first tfdt as its initPTS: MPEGTS:0 puts cue times on the programme's own clock.
# (Safari maps MPEGTS to the first presentation time, which x264's B-frame delay puts 2 frames later:
# cues may show up to ~80 ms early there, far below what a viewer notices.)
TIMESTAMP_MAP_MPEGTS = 0

_TAG_SPLIT = re.compile(r"(<[^<>]*>)")
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z]+)[^>]*>")
# Script and style bodies are code, not words: dropped with their tags.
_CODE_BLOCK = re.compile(r"<\s*(script|style)\b.*?(<\s*/\s*\1\s*>|$)", re.IGNORECASE | re.DOTALL)
# ASS override blocks ({\an8}, {\pos(…)}) that SRT files exported from Aegisub often carry.
_ASS_OVERRIDE = re.compile(r"\{\\[^}]*\}")


# --- Reading and cleaning ----------------------------------------------------------------------------------


def decode_captions(data: bytes) -> str:
    """Bytes → text: a UTF-16 BOM, else UTF-8 (BOM or not), else GB18030."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    for encoding in TEXT_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as error:
            reason = str(error)
    raise BadInputError(_("无法识别字幕文件的文字编码，请保存为 UTF-8 或 GBK"), reason)


def clean_vtt(data: bytes) -> str:
    """An SRT or WebVTT file (told apart by content, not name) → clean WebVTT text, cues in time order."""
    captions = [caption for caption in map(_clean_caption, _parse(decode_captions(data))) if caption]
    if not captions:
        raise BadInputError(
            _("字幕文件中没有有效的字幕条目，请检查字幕文件后重新上传"), "no cue with valid timings and text"
        )
    captions.sort(key=lambda caption: (caption.start_time.in_milliseconds(), caption.end_time.in_milliseconds()))
    return webvtt.WebVTT(captions=captions).content


def _parse(text: str) -> list[webvtt.Caption]:
    body = text.lstrip("\ufeff \t\r\n")
    try:
        if body.startswith("WEBVTT"):
            return webvtt.from_string(body).captions  # malformed cue blocks are skipped, not fatal
        return webvtt.from_buffer(io.StringIO(body), format="srt").captions
    except (MalformedFileError, MalformedCaptionError) as error:
        raise BadInputError(_("字幕文件格式无法识别，请上传 SRT 或 WebVTT 字幕"), str(error)) from error


def _clean_caption(caption: webvtt.Caption) -> webvtt.Caption | None:
    if caption.end_time <= caption.start_time:
        return None
    lines = [line.strip() for line in sanitize_cue_text(caption.raw_text).split("\n")]
    lines = [line for line in lines if line]  # an empty line would end the cue early
    if not lines:
        return None
    settings = caption.settings
    settings.region = None  # regions are not carried over, so nothing for the setting to name
    return webvtt.Caption(caption.start, caption.end, lines, settings=settings)


def sanitize_cue_text(text: str) -> str:
    """Keep the words and ``<b>``/``<i>``/``<u>``; drop every other tag; escape what could read as markup."""
    text = _ASS_OVERRIDE.sub("", _CODE_BLOCK.sub("", text))
    parts = []
    for index, part in enumerate(_TAG_SPLIT.split(text)):
        if index % 2:  # a tag
            match = _TAG.fullmatch(part)
            if match and match.group(2).lower() in ALLOWED_TAGS:
                parts.append(f"<{match.group(1)}{match.group(2).lower()}>")
        else:
            # Unescape first so an already escaped "&amp;" is not escaped twice.
            parts.append(html.escape(html.unescape(part), quote=False))
    return "".join(parts)


# --- HLS segments (pure) -----------------------------------------------------------------------------------


def caption_segments(
    *, vtt: str, segment_seconds: float, duration: float, mpegts: int = TIMESTAMP_MAP_MPEGTS
) -> list[tuple[str, float]]:
    """(WebVTT text, seconds) per segment, on the video's segment boundaries.

    Every segment carries the header and X-TIMESTAMP-MAP, even when empty; a cue overlapping a boundary
    is in both segments (cue times stay absolute: players drop the duplicate). Cues after ``duration``
    are left out: there is no picture for them.
    """
    captions = webvtt.from_string(vtt).captions
    if duration <= 0:
        duration = max((caption.end_time.in_milliseconds() / 1000 for caption in captions), default=0.0)
    count = max(1, math.ceil(duration / segment_seconds - 1e-6))
    header = [f"X-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000"]
    segments = []
    for index in range(count):
        start = index * segment_seconds
        end = duration if index == count - 1 else min(start + segment_seconds, duration)
        cues = [caption for caption in captions if _overlaps(caption, start, end)]
        segments.append((webvtt.WebVTT(captions=cues, metadata=header).content, max(end - start, 0.0)))
    return segments


def _overlaps(caption: webvtt.Caption, start: float, end: float) -> bool:
    return caption.start_time.in_milliseconds() / 1000 < end and caption.end_time.in_milliseconds() / 1000 > start


def subtitle_playlist(*, segments: list[tuple[str, float]]) -> str:
    """The HLS media playlist for (file name, seconds) pairs."""
    target = max((math.ceil(seconds) for _name, seconds in segments), default=1)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{max(target, 1)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]
    for name, seconds in segments:
        lines += [f"#EXTINF:{seconds:.6f},", name]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


# --- The step ----------------------------------------------------------------------------------------------


def produce(ctx: StepContext, profile: CaptionProfile) -> list[Output]:
    """One Output per caption track: ``<profile>/<lang>/captions.vtt``, ``index.m3u8`` and its segments."""
    tracks = ctx.captions
    languages = [_language(track, profile) for track in tracks]
    if len(set(languages)) != len(languages):
        raise BadInputError(_("同一种语言上传了多个字幕文件，请删除多余的一个"), ", ".join(languages))
    default = next((track for track in tracks if track.default), None)  # at most one default track
    outputs = []
    for index, (track, language) in enumerate(zip(tracks, languages, strict=True)):
        outputs.append(_produce_track(ctx, profile, track, language=language, default=track is default))
        if ctx.on_progress((index + 1) / len(tracks)) is False:
            raise Cancelled()
    return outputs


def _language(track: CaptionTrack, profile: CaptionProfile) -> str:
    language = track.language or profile.default_language
    if not LANGUAGE_TAG.fullmatch(language):
        raise BadInputError(_("字幕语言代码无效，请重新选择字幕语言"), language)
    return language


def _produce_track(
    ctx: StepContext, profile: CaptionProfile, track: CaptionTrack, *, language: str, default: bool
) -> Output:
    folder = f"{profile.name}/{language}"
    (ctx.out_dir / folder).mkdir(parents=True, exist_ok=True)
    try:
        vtt = clean_vtt(track.path.read_bytes())
    except BadInputError as error:
        raise BadInputError(_("字幕“%(label)s”：") % {"label": track.label} + error.message, error.reason) from error
    (ctx.out_dir / folder / CAPTIONS_FILE).write_text(vtt, encoding="utf-8")
    segments = caption_segments(vtt=vtt, segment_seconds=profile.segment_seconds, duration=ctx.probe.duration)
    entries = []
    for index, (text, seconds) in enumerate(segments):
        entries.append((SEGMENT_NAME.format(index), seconds))
        (ctx.out_dir / folder / entries[-1][0]).write_text(text, encoding="utf-8")
    names = [name for name, _seconds in entries]
    playlist = subtitle_playlist(segments=entries)
    (ctx.out_dir / folder / PLAYLIST_NAME).write_text(playlist, encoding="utf-8")
    return Output(
        profile=profile.name,
        kind=profile.kind,
        path=f"{folder}/{PLAYLIST_NAME}",
        files=tuple(f"{folder}/{name}" for name in (PLAYLIST_NAME, CAPTIONS_FILE, *names)),
        duration=ctx.probe.duration or None,
        meta={
            "language": language,
            "label": track.label or language,
            "default": default,
            "vtt": f"{folder}/{CAPTIONS_FILE}",
        },
    )


def subtitle_media(outputs: Iterable[Output], *, master_dir: str) -> list[SubtitleMedia]:
    """Caption Outputs → the master's subtitle renditions, URIs relative to ``master_dir`` (e.g. "hls")."""
    return [
        SubtitleMedia(
            name=output.meta["label"],
            language=output.meta["language"],
            uri=posixpath.relpath(output.path, master_dir),
            default=output.meta["default"],
        )
        for output in outputs
        if output.kind == "captions" and "language" in output.meta
    ]
