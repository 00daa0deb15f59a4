"""Synthetic media made from ffmpeg's own test sources: demo content, tests and benchmarks download nothing.

``make_clip`` writes an ordinary clip. ``make_corpus_clip`` writes one of ``CORPUS_KINDS``: every awkward kind
of input the pipeline must handle (rotated phone video, variable frame rate, interlaced, 10-bit 4:2:2, HDR
phone video (PQ and HLG), odd sizes, anamorphic pixels, surround, several audio tracks, stills, masters far
too loud or too quiet) plus the broken files it must refuse.
All are tiny (a second or two, small frames) so a test session can make them all in a few seconds.
"""

import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


def make_clip(
    path: Path,
    *,
    size: str = "640x360",
    seconds: float = 4,
    rate: int = 25,
    pattern: str = "testsrc2",
    video: bool = True,
    audio: bool = True,
    tone_hz: int = 440,
) -> Path:
    """Write an H.264/AAC MP4 (or an AAC-only .m4a when video=False) of test pattern and tone."""
    args = [settings.FFMPEG_BINARY, "-v", "error", "-y"]
    if video:
        args += ["-f", "lavfi", "-i", f"{pattern}=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=48000:duration={seconds}"]
    if video:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac", "-shortest"]
    subprocess.run([*args, str(path)], check=True)
    return path


# --- The corpus ------------------------------------------------------------------------------------------

X264 = ("-c:v", "libx264", "-preset", "ultrafast")
AAC = ("-c:a", "aac")


def _picture(*, size: str = "320x180", seconds: float = 2, rate: int = 25, source: str = "testsrc2") -> str:
    # testsrc2 rounds its size down to even numbers; "testsrc" keeps odd ones.
    return f"{source}=size={size}:rate={rate}:duration={seconds:g}"


def _tone(*, seconds: float = 2, hz: int = 440, sample_rate: int = 48_000) -> str:
    return f"sine=frequency={hz}:sample_rate={sample_rate}:duration={seconds:g}"


@dataclass(frozen=True)
class _Recipe:
    """lavfi sources in, output options, and the muxer (set explicitly, so any file name works)."""

    sources: tuple[str, ...]
    options: tuple[str, ...]
    muxer: str = "mp4"
    rotate: int = 0  # written by a stream-copy remux: ffmpeg 5.1 drops the rotate tag when it encodes


_VIDEO_AND_TONE = (_picture(), _tone())


def _cover_art_recipe(codecs: tuple[str, ...], muxer: str) -> "_Recipe":
    sources = (_tone(sample_rate=44_100), _picture(size="300x300", seconds=1, rate=1))
    options = ("-map", "0:a", "-map", "1:v", *codecs, "-disposition:v:0", "attached_pic")
    return _Recipe(sources, options, muxer=muxer)


_H264_AAC = (*X264, "-pix_fmt", "yuv420p", *AAC)

_RECIPES: dict[str, _Recipe] = {
    # A phone held upright: a landscape-coded frame with a 90° display matrix, shown as 180×320.
    "portrait_rotated": _Recipe((_picture(seconds=1), _tone(seconds=1)), _H264_AAC, rotate=90),
    # 25 fps for a second, then every third frame: avg_frame_rate (≈16.8) differs from r_frame_rate (25).
    "vfr": _Recipe(_VIDEO_AND_TONE, ("-vf", "select='lt(t,1)+not(mod(n,3))'", "-fps_mode", "vfr", *_H264_AAC)),
    # Interlaced H.264, top field first, coded as fields (field_order "tt").
    "interlaced": _Recipe(
        (_picture(size="320x240", seconds=1), _tone(seconds=1)),
        ("-vf", "setfield=tff", "-flags", "+ildct+ilme", "-field_order", "tt", *_H264_AAC),
    ),
    # Camera/edit-suite master: 10-bit 4:2:2 (x264 "High 4:2:2" profile).
    "yuv422p10": _Recipe((_picture(seconds=1),), (*X264, "-pix_fmt", "yuv422p10le")),
    "no_audio": _Recipe((_picture(seconds=1),), (*X264, "-pix_fmt", "yuv420p")),
    # Two audio tracks (e.g. two languages) of different rates: the first is the one used.
    "multi_audio": _Recipe(
        (_picture(seconds=1), _tone(seconds=1), _tone(seconds=1, hz=880, sample_rate=44_100)),
        ("-map", "0:v", "-map", "1:a", "-map", "2:a", *_H264_AAC),
    ),
    # Three languages, the default flag on the SECOND (Chinese) track, as a broadcaster's MKV: English 440 Hz
    # stereo, Chinese 660 Hz (the main track), Cantonese 880 Hz mono 44.1 kHz titled "粤语原声". The tones tell
    # the tracks apart in an output (``astats``' zero-crossing rate is 2 × frequency / sample rate).
    "audio_languages": _Recipe(
        (
            _picture(size="160x90", seconds=2),
            _tone(seconds=2),
            _tone(seconds=2, hz=660),
            _tone(seconds=2, hz=880, sample_rate=44_100),
        ),
        ("-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:a", *_H264_AAC, "-ac:a:0", "2", "-ac:a:2", "1")
        + ("-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=chi", "-metadata:s:a:2", "language=yue")
        + ("-metadata:s:a:2", "title=粤语原声", "-disposition:a:0", "0", "-disposition:a:1", "default")
        + ("-disposition:a:2", "0"),
        muxer="matroska",
    ),
    # 5.1 surround AAC (6 channels) from noise, so every channel has content.
    "surround_51": _Recipe(
        (_picture(seconds=1), "anoisesrc=sample_rate=48000:amplitude=0.2:duration=1"), (*_H264_AAC, "-ac", "6")
    ),
    # Telephone-grade sound: 8 kHz mono.
    "mono_8k": _Recipe((_picture(seconds=1), _tone(seconds=1, sample_rate=8000)), (*_H264_AAC, "-ac", "1")),
    "one_second": _Recipe((_picture(seconds=1), _tone(seconds=1)), (*_H264_AAC, "-shortest")),
    # Long but cheap: 30 s at 160×90.
    "long_lowres": _Recipe((_picture(size="160x90", seconds=30), _tone(seconds=30)), _H264_AAC),
    # Odd sizes cannot be 4:2:0 H.264; MPEG-4 Part 2 takes them (so does a screen recorder's output).
    "odd_size": _Recipe(
        (_picture(size="1281x721", seconds=0.5, source="testsrc"), _tone(seconds=0.5)), ("-c:v", "mpeg4", *AAC)
    ),
    # PAL 16:9 anamorphic: 720×576 stored, sample aspect ratio 16:11, displayed ≈1047×576.
    "non_square": _Recipe(
        (_picture(size="720x576", seconds=0.5), _tone(seconds=0.5)), ("-vf", "setsar=16/11", *_H264_AAC)
    ),
    "audio_only_m4a": _Recipe((_tone(),), AAC, muxer="ipod"),
    "audio_only_mp3": _Recipe((_tone(sample_rate=44_100),), ("-c:a", "libmp3lame", "-b:a", "64k"), muxer="mp3"),
    "still_image": _Recipe((_picture(),), ("-frames:v", "1", "-update", "1", "-c:v", "png"), muxer="image2"),
    "still_jpeg": _Recipe((_picture(),), ("-frames:v", "1", "-update", "1", "-c:v", "mjpeg"), muxer="image2"),
    # A 5.1 master mixed far too hot: tone plus noise 28 dB up in 32-bit float, so the samples go well past full
    # scale and it measures about +6 LUFS, +10 dBTP once downmixed (loudnorm accepts nothing above 0 LUFS).
    "loud_51": _Recipe(
        (_tone(), "anoisesrc=color=pink:sample_rate=48000:amplitude=0.1:duration=2"),
        ("-filter_complex", "[0][1]amix=normalize=0,volume=28dB,aformat=channel_layouts=5.1", "-c:a", "pcm_f32le"),
        muxer="wav",
    ),
    # Driven into hard clipping at 16-bit full scale: a square-ish wave whose true peak passes 0 dBTP.
    "clipped": _Recipe(
        (_tone(hz=220),),
        ("-af", "volume=30dB,aformat=sample_fmts=s16:channel_layouts=stereo", "-c:a", "pcm_s16le"),
        muxer="wav",
    ),
    # Near-silent (a room tone recorded with the gain down): pink noise at about −65 LUFS, far under every target.
    "near_silent": _Recipe(
        ("anoisesrc=color=pink:sample_rate=48000:amplitude=0.003:duration=2",),
        ("-af", "aformat=channel_layouts=stereo", *AAC),
        muxer="ipod",
    ),
    # An edit whose sound starts 1.5 s after the picture: 3 s of video, 1.5 s of tone timestamped from 1.5 s.
    "late_audio": _Recipe(
        (_picture(seconds=3), _tone(seconds=1.5)),
        ("-filter_complex", "[1]asetpts=PTS+1.5/TB[late]", "-map", "0:v", "-map", "[late]", *_H264_AAC),
    ),
    # A phone's variable-rate clip whose picture stops before its sound: 30 fps thinned to every other frame
    # after 1 s (average ≈ 22.9 fps), 2 s of picture over 3 s of sound.
    "vfr_short_video": _Recipe(
        (_picture(seconds=2, rate=30), _tone(seconds=3)),
        ("-vf", "select='lt(t,1)+not(mod(n,2))'", "-fps_mode", "vfr", *_H264_AAC),
    ),
    # Telephone speech: 8 kHz mono, 300–3000 Hz, bursts with pauses; AAC spends far less than its nominal rate.
    "speech_narrowband": _Recipe(
        ("anoisesrc=color=pink:sample_rate=8000:amplitude=0.3:duration=3",),
        ("-af", "lowpass=3000,highpass=300,volume=eval=frame:volume='lt(mod(t,1),0.3)'", "-ac", "1", *AAC),
        muxer="ipod",
    ),
    # Audio with cover art (an attached picture): a 300×300 JPEG in an MP3's ID3 tag, an M4A's covr, a FLAC's
    # PICTURE block (PNG). ffprobe lists it as a video stream with the attached_pic disposition.
    "mp3_cover_art": _cover_art_recipe(
        ("-c:a", "libmp3lame", "-b:a", "64k", "-c:v", "mjpeg", "-id3v2_version", "3"), "mp3"
    ),
    "m4a_cover_art": _cover_art_recipe((*AAC, "-c:v", "mjpeg"), "ipod"),
    "flac_cover_art": _cover_art_recipe(("-c:a", "flac", "-c:v", "png"), "flac"),
}
# HDR phone masters (HLG as iPhones and Pixels record, PQ as HDR10 phones do): BT.2020, 10-bit HEVC, tagged.
# Made from an SDR picture (``SDR_PICTURE`` through ``SDR_REFERENCE``) by the inverse of the pipeline's mapping:
# SDR white becomes BT.2408 reference white (203 cd/m²) in the HDR signal. Tone-mapped back, the picture must
# match the SDR one (mean luma and saturation): the tests compare against ``SDR_PICTURE``/``SDR_REFERENCE``.
# 75 % colour bars: big flat patches of legal colours, so the measure is about colour, not about edges.
SDR_PICTURE = _picture(seconds=1, source="pal75bars")
# The lavfi picture as an SDR BT.709 camera would give it: the source's RGB coded with the BT.709 matrix, tagged.
SDR_REFERENCE = (
    "format=gbrp,scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
    "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv"
)
HDR_TRANSFERS = {"hdr_pq": "smpte2084", "hdr_hlg": "arib-std-b67"}


def _hdr_recipe(transfer: str) -> _Recipe:
    to_hdr = (
        f"{SDR_REFERENCE},zscale=t=linear:npl=203,format=gbrpf32le,"
        f"zscale=p=bt2020:t={transfer}:m=bt2020nc:r=tv:npl=203,format=yuv420p10le"
    )
    tags = f"log-level=error:colorprim=bt2020:transfer={transfer}:colormatrix=bt2020nc"
    # CRF 4: a phone records HDR at high rates; x265 at CRF 16 alone costs 2 % of the saturation (CRF 28: more).
    hevc = ("-c:v", "libx265", "-preset", "ultrafast", "-crf", "4", "-x265-params", tags, "-tag:v", "hvc1")
    colour = ("-colorspace", "bt2020nc", "-color_primaries", "bt2020", "-color_trc", transfer)
    return _Recipe((SDR_PICTURE, _tone(seconds=1)), ("-vf", to_hdr, *hevc, *colour, *AAC, "-shortest"))


_RECIPES.update({kind: _hdr_recipe(transfer) for kind, transfer in HDR_TRANSFERS.items()})

# The kinds whose loudness is the point: each must come out of every loudness target within tolerance.
LOUDNESS_KINDS = ("loud_51", "clipped", "near_silent")

# Masters with subtitle streams inside: an MKV with a Chinese SRT and an English ASS stream, an MP4 with mov_text.
SUBTITLE_KINDS = ("mkv_subtitles", "mp4_mov_text")
_SUBTITLE_SRT = (
    "1\n00:00:00,100 --> 00:00:00,900\n学习贯彻党的二十大精神\n\n2\n00:00:01,000 --> 00:00:01,400\n第二条字幕\n"
)


def _make_with_subtitles(kind: str, path: Path) -> Path:
    srt = path.with_name(f"{path.stem}.srt")
    srt.write_text(_SUBTITLE_SRT, encoding="utf-8")
    inputs = ["-f", "lavfi", "-i", _picture(size="160x90", seconds=1.5), "-f", "lavfi", "-i", _tone(seconds=1.5)]
    try:
        if kind == "mkv_subtitles":
            streams = ["-i", str(srt), "-i", str(srt), "-map", "0:v", "-map", "1:a", "-map", "2:s", "-map", "3:s"]
            codecs = [
                "-c:s:0",
                "srt",
                "-c:s:1",
                "ass",
                "-metadata:s:s:0",
                "language=chi",
                "-metadata:s:s:1",
                "language=eng",
            ]
            return _run([*inputs, *streams, *_H264_AAC, *codecs], path, "matroska")
        streams = ["-i", str(srt), "-map", "0:v", "-map", "1:a", "-map", "2:s"]
        return _run([*inputs, *streams, *_H264_AAC, "-c:s", "mov_text", "-metadata:s:s:0", "language=chi"], path, "mp4")
    finally:
        srt.unlink(missing_ok=True)


# Inputs that must be refused with a clear message; made from bytes, not by ffmpeg.
BAD_KINDS = ("truncated", "truncated_faststart", "zero_byte", "text_as_mp4")
CORPUS_KINDS = (*_RECIPES, *SUBTITLE_KINDS, *BAD_KINDS)
# A natural file name ending per kind (the muxer is explicit, so this is for people and for MIME guessing).
CORPUS_SUFFIXES = {
    **dict.fromkeys(CORPUS_KINDS, ".mp4"),
    "portrait_rotated": ".mov",
    "audio_only_m4a": ".m4a",
    "audio_only_mp3": ".mp3",
    "still_image": ".png",
    "still_jpeg": ".jpg",
    "loud_51": ".wav",
    "clipped": ".wav",
    "near_silent": ".m4a",
    "speech_narrowband": ".m4a",
    "mp3_cover_art": ".mp3",
    "m4a_cover_art": ".m4a",
    "flac_cover_art": ".flac",
    "mkv_subtitles": ".mkv",
    "audio_languages": ".mkv",
}


def make_corpus_clip(kind: str, path: Path) -> Path:
    """Write the corpus file of ``kind`` (one of ``CORPUS_KINDS``) to ``path`` and return ``path``."""
    if kind in BAD_KINDS:
        return _make_bad(kind, path)
    if kind in SUBTITLE_KINDS:
        return _make_with_subtitles(kind, path)
    try:
        recipe = _RECIPES[kind]
    except KeyError:
        raise ValueError(f"unknown corpus kind {kind!r}; choose from {', '.join(CORPUS_KINDS)}") from None
    if not recipe.rotate:
        return _encode(recipe, path)
    plain = path.with_name(f"{path.stem}.unrotated{path.suffix or '.mp4'}")
    try:
        _encode(recipe, plain)
        _run(["-i", str(plain), "-map", "0", "-c", "copy", "-metadata:s:v:0", f"rotate={recipe.rotate}"], path, "mov")
    finally:
        plain.unlink(missing_ok=True)
    return path


def _encode(recipe: _Recipe, path: Path) -> Path:
    inputs = [arg for source in recipe.sources for arg in ("-f", "lavfi", "-i", source)]
    return _run([*inputs, *recipe.options], path, recipe.muxer)


def _run(args: list[str], path: Path, muxer: str) -> Path:
    binary = settings.FFMPEG_BINARY
    subprocess.run([binary, "-v", "error", "-y", *args, "-f", muxer, str(path)], check=True, stdin=subprocess.DEVNULL)
    return path


def _make_bad(kind: str, path: Path) -> Path:
    if kind == "zero_byte":
        path.write_bytes(b"")
    elif kind == "text_as_mp4":
        path.write_text("这不是视频，是一份会议纪要。\n" * 20, encoding="utf-8")
    elif kind == "truncated_faststart":
        # An interrupted upload of a web-ready MP4: the index (moov) comes first and survives, declaring 2 s,
        # but the media data stops halfway. ffprobe alone accepts it.
        recipe = _Recipe(_VIDEO_AND_TONE, (*_H264_AAC, "-movflags", "+faststart"))
        whole = _encode(recipe, path.with_name(f"{path.stem}.whole.mp4"))
        path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
        whole.unlink()
    else:
        # An interrupted upload: the first half of an MP4 whose index (moov) is written at the end.
        whole = _encode(_RECIPES["one_second"], path.with_name(f"{path.stem}.whole.mp4"))
        path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
        whole.unlink()
    return path
