"""Pictures of a video: the poster, the 16:9 cards cut from it, and the seek-preview sprite with its WebVTT.

- Poster: the ``thumbnail`` filter picks the most typical frame of the first seconds, after frames that are
  almost all black have been dropped (``blackframe`` measures, ``metadata`` drops), so a programme that
  opens on black still gets a picture. If nothing is left (a long black or very dark opening), the middle
  of the programme is tried, and finally the opening without the black check (a night scene is a picture).
- Cards: the poster centre-cropped to each fixed 16:9 size, in one ffmpeg run. ONE rendition (a job holds
  one rendition per profile) with every size in ``meta["sizes"]``: a template picks ``sizes.tv.path``.
- Sprite: one sheet of evenly spaced thumbnails plus a WebVTT track whose cues point into it with
  ``#xywh=`` fragments, which players (video.js, Shaka, JW) show while seeking.

Still-image sources get a poster and cards (the picture itself), no sprite. Audio with cover art (an MP3's,
M4A's or FLAC's attached picture) gets its poster and cards from that picture; other audio gets nothing.
"""

import math
from dataclasses import dataclass, replace
from pathlib import Path

import ffmpeg
from django.utils.translation import gettext as _

from ..errors import BadInputError
from ..ffmpeg.colour import apply_filters, sdr_filters
from ..ffmpeg.commands import GLOBAL_ARGS
from ..ffmpeg.ladder import fit_within
from ..ffmpeg.probe import ProbeResult
from ..ffmpeg.runner import ProgressCallback, check_run, run_ffmpeg
from .contract import Output, StepContext
from .profiles import POSTER, CardProfile, PosterProfile, SpriteProfile

# blackframe: a pixel is "dark" at luma ≤ 32 (8-bit; video black is 16); a frame with at least this share
# of dark pixels is treated as black and never offered to `thumbnail`.
DARK_PIXEL_LUMA = 32
DARK_FRAME_PERCENT = 98
# Above this spacing, the sprite decodes keyframes only: a long programme's thumbnails are a minute apart,
# and decoding every frame of an hour of video to keep one in 900 would take minutes.
SPRITE_KEYFRAMES_FROM_SECONDS = 10.0
SPRITE_IMAGE = "sprite.jpg"
SPRITE_VTT = "sprite.vtt"


# --- Poster ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PosterAttempt:
    start: float  # seconds into the source
    skip_dark: bool  # drop nearly black frames before `thumbnail` chooses


def poster_attempts(*, profile: PosterProfile, probe: ProbeResult) -> list[PosterAttempt]:
    """Where to look for a poster, in order, until one gives a frame (pure)."""
    if probe.is_still:
        return [PosterAttempt(0.0, skip_dark=False)]  # the picture is the poster, dark or not
    attempts = [PosterAttempt(0.0, skip_dark=True)]
    if probe.duration > 2 * profile.scan_seconds:
        # A black opening longer than the scan window: the middle of a programme is rarely black.
        attempts.append(PosterAttempt(round((probe.duration - profile.scan_seconds) / 2, 3), skip_dark=True))
    attempts.append(PosterAttempt(0.0, skip_dark=False))
    return attempts


def poster_size(*, profile: PosterProfile, probe: ProbeResult) -> tuple[int, int]:
    """Even, square-pixel size of the source's displayed shape within the profile's box, never enlarged."""
    return fit_within(probe.width, probe.height, profile.max_width, profile.max_height)


def poster_command(
    *, profile: PosterProfile, probe: ProbeResult, source: Path, out_path: Path, attempt: PosterAttempt
) -> list[str]:
    """One JPEG: the most representative (non-black, when asked) frame of ``scan_seconds`` from the start."""
    input_options = {}
    if attempt.start > 0:
        input_options["ss"] = f"{attempt.start:.3f}"
    if not probe.is_still:
        input_options["t"] = f"{scan_length(profile=profile, probe=probe, start=attempt.start):.3f}"
    # HDR → SDR first: the dark-frame test's luma threshold and the JPEG are SDR measures.
    picture = apply_filters(ffmpeg.input(str(source), **input_options)["v:0"], sdr_filters(probe.colour))
    if attempt.skip_dark:
        # amount=0: every frame gets its dark-pixel percentage; `metadata` keeps the frames below the limit.
        picture = picture.filter("blackframe", amount=0, threshold=DARK_PIXEL_LUMA).filter(
            "metadata", mode="select", key="lavfi.blackframe.pblack", value=DARK_FRAME_PERCENT, function="less"
        )
    width, height = poster_size(profile=profile, probe=probe)
    picture = picture.filter("thumbnail", profile.scan_frames).filter("scale", width, height).filter("setsar", 1)
    output = ffmpeg.output(picture, str(out_path), **{"frames:v": 1, "q:v": profile.quality, "update": 1})
    return [*GLOBAL_ARGS, *output.overwrite_output().get_args()]


def scan_length(*, profile: PosterProfile, probe: ProbeResult, start: float) -> float:
    """Seconds read from ``start``: the scan window, cut at the end of the source."""
    if probe.duration <= 0:
        return profile.scan_seconds
    return max(0.1, min(profile.scan_seconds, probe.duration - start))


def make_poster(
    *, profile: PosterProfile, probe: ProbeResult, source: Path, out_path: Path, on_progress: ProgressCallback
) -> None:
    """Run the attempts until one writes a picture; BadInputError if even the last one wrote nothing."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    attempts = poster_attempts(profile=profile, probe=probe)
    for index, attempt in enumerate(attempts):
        out_path.unlink(missing_ok=True)  # a picture left by an earlier run must not pass for this one
        args = poster_command(profile=profile, probe=probe, source=source, out_path=out_path, attempt=attempt)
        progress = _part(on_progress, index / len(attempts), (index + 1) / len(attempts))
        scan = scan_length(profile=profile, probe=probe, start=attempt.start)
        # ffmpeg ends happily with no frame when every frame was dropped: "no file" means "try the next".
        check_run(run_ffmpeg(args, duration=scan, on_progress=progress))
        if out_path.exists() and out_path.stat().st_size > 0:
            return
    # Even the attempt that accepts any frame got none: the video stream does not decode. Retrying will not help.
    raise BadInputError(_("无法从视频中取出封面图，请检查视频画面后重新上传"), _("没有解码出任何画面"))


def _poster_output(profile: PosterProfile, probe: ProbeResult, relative: str) -> Output:
    width, height = poster_size(profile=profile, probe=probe)
    return Output(profile=profile.name, kind=profile.kind, path=relative, width=width, height=height)


def produce_poster(ctx: StepContext, profile: PosterProfile) -> list[Output]:
    relative = f"{profile.name}/poster.jpg"
    make_poster(
        profile=profile,
        probe=ctx.probe,
        source=ctx.source,
        out_path=ctx.out_dir / relative,
        on_progress=ctx.on_progress,
    )
    return [_poster_output(profile, ctx.probe, relative)]


# --- Cards -----------------------------------------------------------------------------------------------


def cards_command(*, profile: CardProfile, poster: Path, out_dir: Path) -> list[str]:
    """Every card size from the poster in one run: scale to cover the card, then crop its centre."""
    picture = ffmpeg.input(str(poster))["v:0"]
    branches = picture.filter_multi_output("split") if len(profile.sizes) > 1 else None
    outputs = []
    for index, size in enumerate(profile.sizes):
        branch = branches[index] if branches is not None else picture
        card = (
            # The poster has square pixels, so scale's own aspect handling is exact here.
            branch.filter("scale", size.width, size.height, force_original_aspect_ratio="increase")
            .filter("crop", size.width, size.height)
            .filter("setsar", 1)
        )
        outputs.append(card.output(str(out_dir / f"{size.name}.jpg"), **{"frames:v": 1, "q:v": profile.quality}))
    return [*GLOBAL_ARGS, *ffmpeg.merge_outputs(*outputs).overwrite_output().get_args()]


def cards_meta(*, profile: CardProfile) -> dict:
    """``{"sizes": {"phone": {"path": "cards/phone.jpg", "width": 480, "height": 270}, …}}`` (pure)."""
    return {
        "sizes": {
            size.name: {"path": f"{profile.name}/{size.name}.jpg", "width": size.width, "height": size.height}
            for size in profile.sizes
        }
    }


def produce_cards(ctx: StepContext, profile: CardProfile) -> list[Output]:
    """Cut from the poster step's picture when it ran first in this job; otherwise make one in scratch space."""
    poster = ctx.out_dir / POSTER.name / "poster.jpg"
    if not poster.exists():
        poster = ctx.work_dir / "cards-poster.jpg"
        make_poster(
            profile=POSTER,
            probe=ctx.probe,
            source=ctx.source,
            out_path=poster,
            on_progress=_part(ctx.on_progress, 0.0, 0.9),
        )
    out_dir = ctx.out_dir / profile.name
    out_dir.mkdir(parents=True, exist_ok=True)
    args = cards_command(profile=profile, poster=poster, out_dir=out_dir)
    # duration 0: a still has no timeline, so progress is just "done" (1.0) when ffmpeg ends.
    check_run(run_ffmpeg(args, duration=0.0, on_progress=_part(ctx.on_progress, 0.9, 1.0)))
    meta = cards_meta(profile=profile)
    first = profile.sizes[0]
    return [
        Output(
            profile=profile.name,
            kind=profile.kind,
            path=meta["sizes"][first.name]["path"],
            files=tuple(entry["path"] for entry in meta["sizes"].values()),
            width=first.width,
            height=first.height,
            meta=meta,
        )
    ]


# --- Sprite ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpritePlan:
    interval: float  # seconds between thumbnails
    count: int  # thumbnails on the sheet
    columns: int
    rows: int
    tile_width: int
    tile_height: int


def sprite_plan(*, profile: SpriteProfile, probe: ProbeResult) -> SpritePlan:
    """Thumbnails every ``max(min_interval, duration / max_tiles)`` seconds on one sheet (pure)."""
    interval = max(profile.min_interval_seconds, probe.duration / profile.max_tiles)
    count = max(1, min(profile.max_tiles, math.ceil(probe.duration / interval - 1e-6)))
    columns = min(profile.columns, count)
    # Height follows the displayed shape (even, for the JPEG's 4:2:0 chroma); portrait video gets tall tiles.
    tile_height = max(2, round(profile.tile_width * probe.height / probe.width / 2) * 2)
    return SpritePlan(interval, count, columns, math.ceil(count / columns), profile.tile_width, tile_height)


def sprite_command(*, profile: SpriteProfile, probe: ProbeResult, source: Path, out_path: Path) -> list[str]:
    """One ffmpeg run: a frame every ``interval`` seconds, scaled and tiled into a single JPEG sheet."""
    plan = sprite_plan(profile=profile, probe=probe)
    input_options = {"skip_frame": "nokey"} if plan.interval >= SPRITE_KEYFRAMES_FROM_SECONDS else {}
    # eof_action=pass: a last part shorter than the interval still gets its thumbnail (ceil, not round).
    sampled = ffmpeg.input(str(source), **input_options)["v:0"].filter("fps", f"1/{plan.interval:g}", eof_action="pass")
    sheet = (
        # HDR → SDR on the sampled frames only.
        apply_filters(sampled, sdr_filters(probe.colour))
        # Explicit size from the displayed shape: the VTT's coordinates are computed from the same numbers.
        .filter("scale", plan.tile_width, plan.tile_height)
        .filter("setsar", 1)
        # Exactly `count` tiles whatever the stream's real length (audio longer or shorter than the picture):
        # the last thumbnail is repeated if frames run out, extra ones are cut, so every cue has its tile.
        .filter("tpad", stop=plan.count, stop_mode="clone")
        .trim(end_frame=plan.count)
        .filter("tile", f"{plan.columns}x{plan.rows}")
    )
    output = ffmpeg.output(sheet, str(out_path), **{"frames:v": 1, "q:v": profile.quality, "update": 1})
    return [*GLOBAL_ARGS, *output.overwrite_output().get_args()]


def sprite_vtt(
    *, count: int, interval: float, duration: float, tile_w: int, tile_h: int, columns: int, image_name: str
) -> str:
    """WebVTT with one cue per thumbnail, left to right then top to bottom; the last cue ends at ``duration``."""
    lines = ["WEBVTT", ""]
    for index in range(count):
        start = index * interval
        end = duration if index == count - 1 else min(duration, (index + 1) * interval)
        x, y = (index % columns) * tile_w, (index // columns) * tile_h
        lines += [
            f"{_vtt_time(start)} --> {_vtt_time(max(end, start))}",
            f"{image_name}#xywh={x},{y},{tile_w},{tile_h}",
            "",
        ]
    return "\n".join(lines)


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def produce_sprite(ctx: StepContext, profile: SpriteProfile) -> list[Output]:
    if ctx.probe.is_still:
        return []  # nothing to seek in
    plan = sprite_plan(profile=profile, probe=ctx.probe)
    out_dir = ctx.out_dir / profile.name
    out_dir.mkdir(parents=True, exist_ok=True)
    args = sprite_command(profile=profile, probe=ctx.probe, source=ctx.source, out_path=out_dir / SPRITE_IMAGE)
    check_run(run_ffmpeg(args, duration=ctx.probe.duration, on_progress=ctx.on_progress))
    vtt = sprite_vtt(
        count=plan.count,
        interval=plan.interval,
        duration=ctx.probe.duration,
        tile_w=plan.tile_width,
        tile_h=plan.tile_height,
        columns=plan.columns,
        image_name=SPRITE_IMAGE,  # relative to the VTT, so the pair works wherever storage puts them
    )
    (out_dir / SPRITE_VTT).write_text(vtt, encoding="utf-8")
    image, track = f"{profile.name}/{SPRITE_IMAGE}", f"{profile.name}/{SPRITE_VTT}"
    return [
        Output(
            profile=profile.name,
            kind=profile.kind,
            path=track,
            files=(track, image),
            width=plan.columns * plan.tile_width,
            height=plan.rows * plan.tile_height,
            duration=ctx.probe.duration,
            meta={"image": image, "interval": plan.interval, "tile": [plan.tile_width, plan.tile_height]},
        )
    ]


# --- The step --------------------------------------------------------------------------------------------


def cover_art_probe(probe: ProbeResult) -> ProbeResult:
    """An audio source's attached picture seen as a still image of its own size, for the poster and cards."""
    return replace(probe, width=probe.cover_width, height=probe.cover_height, is_still=True, duration=0.0)


def produce(ctx: StepContext, profile: PosterProfile | CardProfile | SpriteProfile) -> list[Output]:
    """Poster, cards or sprite, by the profile's type; audio without cover art has no picture to take."""
    if not ctx.probe.has_video:
        if not ctx.probe.has_cover_art or isinstance(profile, SpriteProfile):
            return []
        # ffmpeg maps the attached picture as the input's only video stream ("v:0"): one frame, the cover.
        ctx = replace(ctx, probe=cover_art_probe(ctx.probe))
    if isinstance(profile, PosterProfile):
        return produce_poster(ctx, profile)
    if isinstance(profile, CardProfile):
        return produce_cards(ctx, profile)
    if isinstance(profile, SpriteProfile):
        return produce_sprite(ctx, profile)
    raise TypeError(f"images.produce cannot make {type(profile).__name__}")


def _part(on_progress: ProgressCallback, start: float, end: float) -> ProgressCallback:
    """Map one command's 0..1 onto [start, end] of the step's progress (and pass "stop" back)."""
    return lambda fraction: on_progress(start + (end - start) * fraction)
