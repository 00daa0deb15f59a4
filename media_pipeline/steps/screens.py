"""Public screens (subway, bus, lobby): a muted, looping 25 fps MP4 in a landscape, portrait or turned frame.

The graph, in order: deinterlace (bwdif, when the probe says interlaced) → constant 25 fps → layout (fit, focal
crop or blurred fill) → burned-in captions → loop fade (the last moments fade to the first frame, so the
player's jump from end to start is invisible) → turn 90° clockwise for a portrait screen fed a landscape
signal. No audio track at all: screens are muted, and some players refuse files whose audio they cannot use.

Sizes are computed here from the probe's *displayed* shape and given to ``scale`` explicitly: scale's own
``force_original_aspect_ratio`` works on stored pixels and would stretch anamorphic (DV, PAL 16:9) video.
"""

import math
from pathlib import Path

import ffmpeg
from django.utils.translation import gettext as _

from ..errors import BadInputError
from ..ffmpeg.colour import apply_filters, output_tags, sdr_filters
from ..ffmpeg.commands import GLOBAL_ARGS
from ..ffmpeg.encoders import X264, constant_rate_options, encoder_in_force
from ..ffmpeg.probe import ProbeResult
from ..ffmpeg.runner import check_run, run_ffmpeg
from .contract import Output, StepContext
from .profiles import ScreenProfile

FILL_CROP = "crop"
FILL_BLUR = "blur"
FILL_FIT = "fit"  # not an editor's choice: what a source gets when it already has the frame's shape
FILLS = (FILL_CROP, FILL_BLUR)

# A Noto CJK face (Debian: fonts-noto-cjk) so Chinese captions never come out as empty boxes.
CAPTION_FONT = "Noto Sans CJK SC"
# libass draws SRT/WebVTT with ffmpeg's default ASS header (script height PlayResY = 288), so FontSize is in
# 1/288ths of the picture height. 26 on a 1080-line landscape frame gives ~70 px Chinese characters,
# readable from several metres; a portrait frame gets the same pixel size (FontSize 15 of 1920 lines), so a
# 1080 px wide line still holds ~14 characters.
CAPTION_FONT_SIZE = 26
CAPTION_OUTLINE = 2  # a dark edge keeps white text readable on any picture

# Blurred fill: the background is blurred at a quarter of the frame size and scaled up; a strong blur at
# full 1080×1920 costs several times more CPU for a picture that is meant to be shapeless anyway.
BLUR_SHRINK = 4
BLUR_SIGMA = 12  # at quarter size: like sigma ≈ 50 at full size
BLUR_BRIGHTNESS = -0.12  # a little darker, so the sharp picture in front stands out


def picture_size(profile: ScreenProfile) -> tuple[int, int]:
    """The picture as composed, before any turn: a turned-portrait screen composes a portrait picture."""
    if profile.layout == "portrait_rotated":
        return profile.height, profile.width
    return profile.width, profile.height


def fit_size(*, width: int, height: int, box_width: int, box_height: int) -> tuple[int, int]:
    """Largest even size of the source's shape inside the box; small sources are enlarged to fill it."""
    scale = min(box_width / width, box_height / height)
    return min(box_width, _even(width * scale)), min(box_height, _even(height * scale))


def cover_size(*, width: int, height: int, box_width: int, box_height: int) -> tuple[int, int]:
    """Smallest even size of the source's shape that covers the whole box (to be cropped to it)."""
    scale = max(box_width / width, box_height / height)
    return max(box_width, _even_up(width * scale)), max(box_height, _even_up(height * scale))


def focal_crop(*, width: int, height: int, box_width: int, box_height: int, focal_x: float) -> tuple[int, int, int]:
    """The full-height window of the box's shape whose centre is at ``focal_x`` (0..1) of the source width.

    Returns (crop width, crop height, x). The window is kept inside the frame: a focal point near an edge
    gives a window against that edge rather than black at its side.
    """
    crop_width = min(width, round(height * box_width / box_height))
    focal = min(1.0, max(0.0, focal_x))
    x = round(focal * width - crop_width / 2)
    return crop_width, height, min(width - crop_width, max(0, x))


def effective_fill(*, profile: ScreenProfile, probe: ProbeResult, fill: str) -> str:
    """Crop and blur only apply to a landscape source in a portrait picture; everything else is fitted."""
    if profile.layout == "landscape" or probe.width <= probe.height:
        return FILL_FIT
    return fill


def caption_style(*, picture_width: int, picture_height: int) -> str:
    """libass ``force_style``: the CJK font, and a size that keeps glyphs the same in pixels in any frame."""
    size = round(CAPTION_FONT_SIZE * min(picture_width, picture_height) / picture_height)
    return f"FontName={CAPTION_FONT},FontSize={size},Outline={CAPTION_OUTLINE},Shadow=0"


def loop_fade_timing(*, duration: float, frame_rate: int, fade_seconds: float) -> tuple[float, float] | None:
    """(start, length) of the fade to the first frame, timed so the LAST frame is the first frame exactly.

    The fade covers the last ``fade_seconds`` worth of frames (at most half the clip); None when the clip
    is too short to fade at all.
    """
    frames = round(duration * frame_rate)
    fade_frames = min(round(fade_seconds * frame_rate), frames // 2)
    if fade_frames < 2:
        return None
    # Opacity is 0 on the frame before the fade and reaches 1 on the last frame (frames - 1).
    start = (frames - fade_frames - 1) / frame_rate
    return start, fade_frames / frame_rate


def screen_command(
    *,
    profile: ScreenProfile,
    probe: ProbeResult,
    source: Path,
    out_path: Path,
    captions: Path | None,
    fill: str,
    focal_x: float,
    encoder: str = X264,
) -> list[str]:
    """The whole screen rendition in one ffmpeg run: picture graph, H.264 High 4.0 CFR 25, no audio, moov first.

    ``encoder``: "libx264" or "h264_nvenc" (see ``ffmpeg/encoders.py``).
    """
    if fill not in FILLS:
        raise ValueError(f"unknown portrait fill {fill!r}; expected one of {FILLS}")
    video = _normalised(ffmpeg.input(str(source))["v:0"], profile, probe)
    width, height = picture_size(profile)
    video = _layout(video, probe, width, height, effective_fill(profile=profile, probe=probe, fill=fill), focal_x)
    if captions is not None:
        # Burned before the turn, so the words read upright on the screen mounted on its side.
        # ffmpeg-python escapes the path for both filter-graph levels (":", "'", ",", "[", … in names).
        video = video.filter(
            "subtitles", filename=str(captions), force_style=caption_style(picture_width=width, picture_height=height)
        )
    timing = loop_fade_timing(
        duration=probe.duration, frame_rate=profile.frame_rate, fade_seconds=profile.loop_fade_seconds
    )
    if timing is not None:
        video = _fade_to_first_frame(video, *timing)
    if profile.layout == "portrait_rotated":
        video = video.filter("transpose", "clock")
    video = video.filter("format", profile.pixel_format)
    options = {**_encoder_options(profile, encoder), **output_tags(probe.colour)}
    output = ffmpeg.output(video, str(out_path), **options)
    return [*GLOBAL_ARGS, *output.overwrite_output().get_args()]


def _normalised(video, profile: ScreenProfile, probe: ProbeResult):
    if probe.interlaced:
        # One output frame per input frame (send_frame): the fps filter sets the rate anyway.
        video = video.filter("bwdif", mode="send_frame")
    # Constant 25 fps on a timeline starting at 0: the loop fade is timed from 0, whatever the source's start.
    video = video.filter("fps", profile.frame_rate).filter("setpts", "PTS-STARTPTS")
    # HDR → SDR BT.709 before the blur, the captions and the fade (all made for SDR pictures).
    return apply_filters(video, sdr_filters(probe.colour))


def _layout(video, probe: ProbeResult, width: int, height: int, fill: str, focal_x: float):
    if fill == FILL_CROP:
        return _focal_cropped(video, probe, width, height, focal_x)
    if fill == FILL_BLUR:
        background, foreground = _split(video)
        return ffmpeg.overlay(
            _blurred_background(background, probe, width, height),
            _fitted(foreground, probe, width, height),
            x="(W-w)/2",
            y="(H-h)/2",
        )
    fitted = _fitted(video, probe, width, height)
    return fitted.filter("pad", width, height, "(ow-iw)/2", "(oh-ih)/2", color="black")


def _fitted(video, probe: ProbeResult, width: int, height: int):
    fit_w, fit_h = fit_size(width=probe.width, height=probe.height, box_width=width, box_height=height)
    return video.filter("scale", fit_w, fit_h).filter("setsar", 1)


def _focal_cropped(video, probe: ProbeResult, width: int, height: int, focal_x: float):
    crop_w, crop_h, x = focal_crop(
        width=probe.width, height=probe.height, box_width=width, box_height=height, focal_x=focal_x
    )
    # Square pixels at the displayed size first (a pass-through for most sources), so the crop window is
    # measured in the same pixels as the probe's width.
    square = video.filter("scale", probe.width, probe.height).filter("setsar", 1)
    return square.filter("crop", crop_w, crop_h, x, 0).filter("scale", width, height).filter("setsar", 1)


def _blurred_background(video, probe: ProbeResult, width: int, height: int):
    small_w, small_h = _even(width / BLUR_SHRINK), _even(height / BLUR_SHRINK)
    cover_w, cover_h = cover_size(width=probe.width, height=probe.height, box_width=small_w, box_height=small_h)
    return (
        video.filter("scale", cover_w, cover_h)
        .filter("crop", small_w, small_h)  # centred by default
        .filter("gblur", sigma=BLUR_SIGMA)
        .filter("eq", brightness=BLUR_BRIGHTNESS)
        .filter("scale", width, height)
        .filter("setsar", 1)
    )


def _fade_to_first_frame(video, start: float, length: float):
    """Lay a still of frame 0 over the clip, its opacity rising from 0 to 1 over the last frames."""
    main, first = _split(video)
    still = (
        first.trim(end_frame=1)
        .filter("tpad", stop=-1, stop_mode="clone")  # frame 0 repeated at the clip's rate, endlessly
        .filter("format", "yuva420p")
        .filter("fade", type="in", start_time=f"{start:.3f}", duration=f"{length:.3f}", alpha=1)
    )
    # shortest: the endless still stops with the clip, so the duration stays the source's.
    return ffmpeg.overlay(main, still, shortest=1)


def _split(video):
    branches = video.filter_multi_output("split")
    return branches[0], branches[1]


def _encoder_options(profile: ScreenProfile, encoder: str) -> dict:
    options = {
        "pix_fmt": profile.pixel_format,
        "b:v": profile.video_bitrate,
        "maxrate": profile.maxrate,
        "bufsize": profile.bufsize,
        # Signage players want exactly the display's rate: constant 25 fps, every frame timed.
        "r": profile.frame_rate,
        "fps_mode": "cfr",
        "an": None,  # no audio track at all
        "sn": None,
        "dn": None,
        "f": "mp4",
        "movflags": "+faststart",  # index first: players start before the whole file is read
    }
    # Closed 2 s GOPs forced by time, no scene-cut keyframes: players that seek or restart mid-file
    # (and the loop back to 0) always land on a keyframe.
    options.update(constant_rate_options(encoder=encoder, profile=profile))
    return options


def out_relative_path(profile: ScreenProfile) -> str:
    return f"{profile.name}/{profile.name}.mp4"


def produce(ctx: StepContext, profile: ScreenProfile) -> list[Output]:
    """Encode the screen rendition under ``out_dir/<profile>/``; captions are the first track, if any."""
    probe = ctx.probe
    if not probe.has_video:
        raise BadInputError(_("纯音频文件不能生成公共屏幕版，请上传视频"), _("未找到视频流"))
    if probe.is_still:
        raise BadInputError(_("静态图片不能生成公共屏幕循环视频，请上传视频"), _("源文件只有一帧画面"))
    # An option left empty in the admin means "the default", not an error.
    fill = _option_fill(ctx.options.get("portrait_fill") or profile.portrait_fill)
    focal = ctx.options.get("focal_x")
    focal_x = _option_focal_x(0.5 if focal is None else focal)
    captions = ctx.captions[0].path if ctx.captions and profile.burn_captions else None
    relative = out_relative_path(profile)
    out_path = ctx.out_dir / relative
    out_path.parent.mkdir(parents=True, exist_ok=True)
    args = screen_command(
        profile=profile,
        probe=probe,
        source=ctx.source,
        out_path=out_path,
        captions=captions,
        fill=fill,
        focal_x=focal_x,
        encoder=encoder_in_force(),
    )
    check_run(run_ffmpeg(args, duration=probe.duration, on_progress=ctx.on_progress))
    used_fill = effective_fill(profile=profile, probe=probe, fill=fill)
    meta = {"layout": profile.layout, "fill": used_fill, "captions_burned": captions is not None}
    if used_fill == FILL_CROP:
        meta["focal_x"] = focal_x
    return [
        Output(
            profile=profile.name,
            kind=profile.kind,
            path=relative,
            width=profile.width,
            height=profile.height,
            bandwidth=profile.maxrate,
            duration=probe.duration,
            meta=meta,
        )
    ]


def _option_fill(value) -> str:
    if value not in FILLS:
        raise BadInputError(_("竖屏填充方式无效，请选择裁切或模糊背景"), str(value))
    return value


def _option_focal_x(value) -> float:
    try:
        focal = float(value)
    except (TypeError, ValueError) as exc:
        raise BadInputError(_("画面焦点位置无效，请填 0 到 1 之间的数"), str(value)) from exc
    if math.isnan(focal):
        raise BadInputError(_("画面焦点位置无效，请填 0 到 1 之间的数"), str(value))
    return min(1.0, max(0.0, focal))


def _even(value: float) -> int:
    # Round down, so a fitted picture never exceeds the frame it must fit in.
    return max(2, int(value + 1e-6) // 2 * 2)


def _even_up(value: float) -> int:
    # Round up, so a covering picture is never a pixel short of the box it must cover.
    whole = math.ceil(value - 1e-6)
    return max(2, whole + whole % 2)
