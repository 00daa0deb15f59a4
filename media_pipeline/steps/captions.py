"""Captions: SRT or WebVTT in; a clean WebVTT file plus a segmented HLS subtitle playlist out.

Parsing and writing WebVTT is left to ``webvtt-py``; what is ours is the decoding of the files editors
bring (UTF-8 with or without a BOM, and GB18030/GBK from Chinese subtitle tools), cleaning cue text
(players render it: only ``<b>``, ``<i>``, ``<u>`` survive) and cutting the HLS segments.

Subtitle streams inside the master (an MKV's SRT or ASS, an MP4's mov_text, WebVTT) become caption tracks
too (``embedded_tracks``): ffmpeg converts each to WebVTT, which then goes the same way as an attached file.
A file the editor attached wins over an embedded stream of the same language. Picture subtitles (PGS, DVB,
VobSub) cannot become text: ``image_subtitle_notices`` tells the editor instead of dropping them silently.
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
from ..ffmpeg.commands import GLOBAL_ARGS, PLAYLIST_NAME
from ..ffmpeg.runner import check_run, run_ffmpeg
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


# Subtitle codecs (as ffprobe names them) that are text, and those that are pictures.
TEXT_SUBTITLE_CODECS = frozenset({"subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text"})
IMAGE_SUBTITLE_CODECS = frozenset({"hdmv_pgs_subtitle", "dvb_subtitle", "dvd_subtitle", "xsub"})
# ISO 639-2 (what containers store) → the BCP 47 tag and the label the player's menu shows.
LANGUAGES = {
    "chi": ("zh-Hans", "中文"),
    "zho": ("zh-Hans", "中文"),
    "zh": ("zh-Hans", "中文"),
    "eng": ("en", "英语"),
    "en": ("en", "英语"),
    "jpn": ("ja", "日语"),
    "kor": ("ko", "韩语"),
    "rus": ("ru", "俄语"),
    "fre": ("fr", "法语"),
    "fra": ("fr", "法语"),
    "ger": ("de", "德语"),
    "deu": ("de", "德语"),
    "spa": ("es", "西班牙语"),
}


# --- Subtitle streams inside the master -------------------------------------------------------------------


def stream_language(stream: dict, default: str) -> tuple[str, str]:
    """(BCP 47 tag, menu label) of an embedded subtitle stream; its title, if any, is the label."""
    code = (stream.get("language") or "").lower()
    tag, label = LANGUAGES.get(code, (code if LANGUAGE_TAG.fullmatch(code or "-") else default, ""))
    return tag, stream.get("title") or label or tag


def extract_subtitle_command(*, source, stream_index: int, out_path) -> list[str]:
    """The ``stream_index``-th subtitle stream of ``source`` as a WebVTT file (ffmpeg converts text codecs)."""
    return [*GLOBAL_ARGS, "-i", str(source), "-map", f"0:s:{stream_index}", "-c:s", "webvtt", "-f", "webvtt"] + [
        str(out_path),
        "-y",
    ]


def embedded_tracks(ctx: StepContext, profile: CaptionProfile) -> list[CaptionTrack]:
    """Text subtitle streams of the master as caption tracks, each written to WebVTT under ``work_dir``.

    A language the editor attached a file for is skipped (the attached file wins); a second stream of one
    language is numbered ("zh-Hans-2"), so both reach the menu.
    """
    attached = {track.language for track in ctx.captions}
    taken = set(attached)
    tracks = []
    for number, stream in enumerate(ctx.probe.subtitle_streams):
        if stream.get("codec") not in TEXT_SUBTITLE_CODECS:
            continue
        language, label = stream_language(stream, profile.default_language)
        if language in attached:
            continue
        tag, copy = language, 2
        while tag in taken:
            tag, copy = f"{language}-{copy}", copy + 1
        taken.add(tag)
        path = ctx.work_dir / f"embedded_{number}.vtt"
        path.parent.mkdir(parents=True, exist_ok=True)
        check_run(
            run_ffmpeg(extract_subtitle_command(source=ctx.source, stream_index=number, out_path=path), duration=0)
        )
        tracks.append(CaptionTrack(language=tag, label=label, path=path, default=bool(stream.get("default"))))
    return tracks


def image_subtitle_notices(subtitle_streams) -> list[str]:
    """One sentence for the editor per picture subtitle stream, which the pipeline cannot turn into text."""
    notices = []
    for stream in subtitle_streams or ():
        if stream.get("codec") in IMAGE_SUBTITLE_CODECS:
            _tag, label = stream_language(stream, "")
            which = f"（{label}）" if label and not LANGUAGE_TAG.fullmatch(label) else ""
            notices.append(
                _("视频内嵌的图像字幕%(which)s无法转成文字，未随视频发布；如需字幕，请上传 SRT 或 WebVTT 文件")
                % {"which": which}
            )
    return notices


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
