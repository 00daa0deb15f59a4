"""Public-screen renditions: the filter graph per layout and fill, encoder settings, and a few real 1080p runs."""

import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from media_pipeline.errors import BadInputError
from media_pipeline.ffmpeg.probe import probe_file
from media_pipeline.steps import screens
from media_pipeline.steps.contract import CaptionTrack, StepContext
from media_pipeline.steps.profiles import SCREEN_LANDSCAPE, SCREEN_PORTRAIT, SCREEN_PORTRAIT_ROTATED
from media_pipeline.steps.screens import (
    caption_style,
    focal_crop,
    loop_fade_timing,
    picture_size,
    screen_command,
)
from media_pipeline.synthetic.media import make_clip

SOURCE, OUT = Path("/in/source.mp4"), Path("/out/screen.mp4")


def _args(make_probe, profile=SCREEN_PORTRAIT, *, captions=None, fill="blur", focal_x=0.5, **probe_changes):
    probe = make_probe(**probe_changes)
    return screen_command(
        profile=profile, probe=probe, source=SOURCE, out_path=OUT, captions=captions, fill=fill, focal_x=focal_x
    )


def _value(args, flag):
    return args[args.index(flag) + 1]


def _graph(args) -> str:
    return _value(args, "-filter_complex")


# --- Pure: layouts ---------------------------------------------------------------------------------------


def test_landscape_layout_fits_and_pads_a_4_3_source(make_probe):
    """A 4:3 source on a landscape screen is scaled to 1440×1080 and pillarboxed to 1920×1080, square pixels."""
    graph = _graph(_args(make_probe, SCREEN_LANDSCAPE, width=640, height=480))
    assert "scale=1440:1080" in graph and "pad=1920:1080:(ow-iw)/2:(oh-ih)/2" in graph
    assert "setsar=1" in graph and "transpose" not in graph and "crop" not in graph and "gblur" not in graph


def test_landscape_layout_ignores_the_portrait_fill(make_probe):
    """Fill only matters for a portrait frame: a landscape screen fits the source even when "crop" is asked."""
    graph = _graph(_args(make_probe, SCREEN_LANDSCAPE, fill="crop"))
    assert "scale=1920:1080" in graph and "crop" not in graph


def test_portrait_source_in_portrait_frame_is_fitted_whatever_the_fill(make_probe):
    """A 720×1280 phone video fills the 1080×1920 frame by fitting; neither crop nor blur is used."""
    for fill in ("crop", "blur"):
        graph = _graph(_args(make_probe, fill=fill, width=720, height=1280))
        assert "scale=1080:1920" in graph and "pad=1080:1920" in graph
        assert "gblur" not in graph and "crop=" not in graph


def test_portrait_crop_cuts_a_9_16_window_at_the_focal_point(make_probe):
    """1920×1080 cropped for portrait at focal 0.5: a 608×1080 window centred (x=656), scaled to 1080×1920."""
    graph = _graph(_args(make_probe, fill="crop", focal_x=0.5))
    assert "crop=608:1080:656:0" in graph and "scale=1080:1920" in graph
    assert "gblur" not in graph and "overlay=eof_action=repeat:x" not in graph


def test_focal_crop_is_clamped_inside_the_frame():
    """Focal points at (or beyond) the edges give a window against that edge, never outside the picture."""
    assert focal_crop(width=1920, height=1080, box_width=1080, box_height=1920, focal_x=0.0) == (608, 1080, 0)
    assert focal_crop(width=1920, height=1080, box_width=1080, box_height=1920, focal_x=1.0) == (608, 1080, 1312)
    assert focal_crop(width=1920, height=1080, box_width=1080, box_height=1920, focal_x=-2) == (608, 1080, 0)
    assert focal_crop(width=1920, height=1080, box_width=1080, box_height=1920, focal_x=7) == (608, 1080, 1312)
    assert focal_crop(width=1920, height=1080, box_width=1080, box_height=1920, focal_x=0.25) == (608, 1080, 176)


def test_portrait_blur_sets_the_fitted_picture_on_a_blurred_darkened_copy(make_probe):
    """Blur: split; background covers the frame (small, blurred, darker, scaled up); foreground fitted; centred."""
    graph = _graph(_args(make_probe, fill="blur"))
    assert "split=2" in graph
    assert "scale=854:480" in graph and "crop=270:480" in graph  # quarter-size cover for the background
    assert "gblur=sigma=12" in graph and "eq=brightness=-0.12" in graph
    assert "scale=1080:1920" in graph  # background back to full size
    assert "scale=1080:606" in graph  # foreground fitted to the width
    assert "overlay=eof_action=repeat:x=(W-w)/2:y=(H-h)/2" in graph


def test_only_the_rotated_layout_turns_the_picture(make_probe):
    """portrait_rotated composes a 1080×1920 picture and turns it clockwise into 1920×1080; others never turn."""
    assert picture_size(SCREEN_PORTRAIT_ROTATED) == (1080, 1920)
    rotated = _graph(_args(make_probe, SCREEN_PORTRAIT_ROTATED, fill="crop"))
    assert "crop=608:1080:656:0" in rotated and "scale=1080:1920" in rotated
    assert rotated.index("transpose=clock") > rotated.index("scale=1080:1920")
    assert "transpose" not in _graph(_args(make_probe, SCREEN_PORTRAIT))
    assert "transpose" not in _graph(_args(make_probe, SCREEN_LANDSCAPE))


def test_anamorphic_source_is_cropped_in_square_pixels(make_probe):
    """A source probed at its displayed 1024×576 is first scaled to exactly that (square pixels), then cropped."""
    graph = _graph(_args(make_probe, fill="crop", width=1024, height=576))
    assert graph.index("scale=1024:576") < graph.index("crop=324:576:350:0")


# --- Pure: captions, loop, timing, encoder ---------------------------------------------------------------


def test_captions_burn_in_with_a_cjk_font_before_the_turn(make_probe):
    """Captions: the subtitles filter with Noto Sans CJK SC, applied to the upright picture, before transpose."""
    graph = _graph(_args(make_probe, SCREEN_PORTRAIT_ROTATED, captions=Path("/in/caps.srt")))
    assert "subtitles=filename=/in/caps.srt" in graph
    assert "Noto Sans CJK SC" in graph and "FontSize" in graph
    assert graph.index("subtitles=") < graph.index("transpose=clock")
    assert "subtitles" not in _graph(_args(make_probe))


def test_caption_path_is_escaped_for_the_filter_graph(make_probe):
    """A path with a space, colon, quote, comma and brackets is escaped at both filter-graph levels."""
    graph = _graph(_args(make_probe, captions=Path("/in/my caps: 'v2', [final].srt")))
    # Level 1 (option value) escapes ":" and "'"; level 2 (graph) escapes "\\", "'", ",", "[", "]".
    assert r"filename=/in/my caps\\: \\\'v2\\\'\, \[final\].srt:force_style=" in graph


def test_caption_size_keeps_the_same_pixels_in_landscape_and_portrait():
    """FontSize scales with the frame's height in libass: a portrait frame gets a smaller number, same glyphs."""
    assert "FontSize=26" in caption_style(picture_width=1920, picture_height=1080)
    assert "FontSize=15" in caption_style(picture_width=1080, picture_height=1920)


def test_loop_fade_ends_exactly_on_the_first_frame():
    """2 s at 25 fps, 0.5 s fade: 12 frames fade, starting after frame 37, fully the first frame on frame 49."""
    start, length = loop_fade_timing(duration=2.0, frame_rate=25, fade_seconds=0.5)
    assert start == pytest.approx(37 / 25) and length == pytest.approx(12 / 25)
    assert start * 25 + length * 25 == pytest.approx(49)  # the last frame's index
    assert loop_fade_timing(duration=0.08, frame_rate=25, fade_seconds=0.5) is None


def test_loop_fade_overlays_a_still_of_frame_zero(make_probe):
    """The graph takes frame 0, repeats it, fades its alpha in over the tail, and stops with the clip."""
    graph = _graph(_args(make_probe, duration=2.0))
    assert "trim=end_frame=1" in graph and "tpad=stop=-1:stop_mode=clone" in graph
    assert "fade=alpha=1:duration=0.480:start_time=1.480:type=in" in graph
    assert "shortest=1" in graph


def test_deinterlace_only_interlaced_sources(make_probe):
    """bwdif (one frame per frame) runs before the fps filter only when the probe says interlaced."""
    graph = _graph(_args(make_probe, interlaced=True))
    assert graph.index("bwdif=mode=send_frame") < graph.index("fps=25")
    assert "bwdif" not in _graph(_args(make_probe))


def test_encoder_settings_for_signage_players(make_probe):
    """H.264 High 4.0 yuv420p, CFR 25, closed 2 s GOP by time, profile bitrates, no audio, faststart MP4."""
    args = _args(make_probe, fps=29.97)
    assert "fps=25" in _graph(args) and _value(args, "-r") == "25" and _value(args, "-fps_mode") == "cfr"
    assert _value(args, "-c:v") == "libx264" and _value(args, "-profile:v") == "high"
    assert _value(args, "-level:v") == "4.0" and _value(args, "-pix_fmt") == "yuv420p"
    assert _value(args, "-g") == "50" and _value(args, "-keyint_min") == "50"
    assert _value(args, "-force_key_frames") == "expr:gte(t,n_forced*2)"
    assert _value(args, "-sc_threshold") == "0" and _value(args, "-flags") == "+cgop"
    assert _value(args, "-b:v") == "6000000" and _value(args, "-maxrate") == "8000000"
    assert _value(args, "-bufsize") == "12000000"
    assert "-an" in args and "-c:a" not in args and "0:a" not in _graph(args)
    assert _value(args, "-movflags") == "+faststart" and _value(args, "-f") == "mp4"
    assert args[-2:] == [str(OUT), "-y"] and _value(args, "-progress") == "pipe:1"


def test_unknown_fill_is_refused(make_probe):
    """A fill other than crop/blur is a programming error in the command builder."""
    with pytest.raises(ValueError):
        _args(make_probe, fill="stretch")


def test_produce_refuses_audio_only_and_bad_options(make_probe, tmp_path):
    """Audio-only sources, an unknown fill or a non-numeric focal point raise BadInputError before ffmpeg runs."""
    audio = make_probe(has_video=False, width=0, height=0)
    ctx = StepContext(source=SOURCE, probe=audio, out_dir=tmp_path, work_dir=tmp_path)
    with pytest.raises(BadInputError):
        screens.produce(ctx, SCREEN_PORTRAIT)
    for options in ({"portrait_fill": "stretch"}, {"focal_x": "left"}):
        ctx = StepContext(source=SOURCE, probe=make_probe(), out_dir=tmp_path, work_dir=tmp_path, options=options)
        with pytest.raises(BadInputError):
            screens.produce(ctx, SCREEN_PORTRAIT)


# --- Real runs (1080p encodes are slow on shared cores: 2 s sources, 3 encodes) --------------------------


@pytest.fixture(scope="module")
def screen_source(tmp_path_factory) -> Path:
    """2 s, 320×180, 25 fps testsrc2 with a tone: the audio must not reach the screen file."""
    return make_clip(tmp_path_factory.mktemp("screens") / "source.mp4", size="320x180", seconds=2, audio=True)


@pytest.fixture(scope="module")
def caption_file(tmp_path_factory) -> Path:
    """An SRT with Chinese text, in a folder whose name needs escaping (space, colon, quote)."""
    folder = tmp_path_factory.mktemp("screens") / "my caps: 'v2'"
    folder.mkdir()
    path = folder / "字幕 1.srt"
    path.write_text("1\n00:00:00,000 --> 00:00:02,000\n灯塔学习 公共屏幕字幕\n", encoding="utf-8")
    return path


def _produce(source: Path, out_dir: Path, profile, *, captions: Path | None = None, options=None):
    probe = probe_file(source)
    tracks = (CaptionTrack(language="zh-Hans", label="中文", path=captions),) if captions else ()
    ctx = StepContext(
        source=source, probe=probe, out_dir=out_dir, work_dir=out_dir, captions=tracks, options=options or {}
    )
    [output] = screens.produce(ctx, profile)
    return output, out_dir / output.path


def _streams(path: Path) -> list[dict]:
    args = ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-print_format", "json", str(path)]
    return json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)["streams"]


def _frames(path: Path, *, width: int, height: int, select: str | None = None) -> list[Image.Image]:
    """Decoded frames as small greyscale Pillow images (all of them, or those `select` picks)."""
    chain = f"{select}," if select else ""
    args = ["ffmpeg", "-v", "error", "-i", str(path), "-vf", f"{chain}scale={width}:{height},format=gray"]
    raw = subprocess.run([*args, "-fps_mode", "passthrough", "-f", "rawvideo", "-"], capture_output=True, check=True)
    size = width * height
    return [Image.frombytes("L", (width, height), raw.stdout[i : i + size]) for i in range(0, len(raw.stdout), size)]


def _difference(a: Image.Image, b: Image.Image) -> float:
    return ImageStat.Stat(ImageChops.difference(a, b)).mean[0]


def _assert_screen_file(path: Path, width: int, height: int, duration: float) -> None:
    [video] = _streams(path)  # one stream: no audio track at all
    assert video["codec_type"] == "video" and video["codec_name"] == "h264" and video["profile"] == "High"
    assert (video["width"], video["height"]) == (width, height) and video["level"] == 40
    assert video["r_frame_rate"] == "25/1" and video["avg_frame_rate"] == "25/1"
    assert video["pix_fmt"] == "yuv420p" and video.get("sample_aspect_ratio", "1:1") in {"1:1", "N/A"}
    assert abs(float(video["duration"]) - duration) <= 0.04 + 1e-6  # within a frame


@pytest.fixture(scope="module")
def landscape_pair(screen_source, caption_file, tmp_path_factory):
    """The landscape rendition with and without burned captions (two encodes, shared by the tests below)."""
    with_captions = _produce(screen_source, tmp_path_factory.mktemp("with"), SCREEN_LANDSCAPE, captions=caption_file)
    without = _produce(screen_source, tmp_path_factory.mktemp("without"), SCREEN_LANDSCAPE)
    return with_captions, without


def test_landscape_rendition_is_a_muted_1080p25_h264_high_file(landscape_pair):
    """Real encode: 1920×1080 H.264 High 4.0 at 25/1 fps, no audio stream, duration = the source's 2 s."""
    (output, path), _ = landscape_pair
    _assert_screen_file(path, 1920, 1080, 2.0)
    assert output.path == "screen_landscape/screen_landscape.mp4" and output.kind == "mp4"
    assert (output.width, output.height) == (1920, 1080)
    assert output.meta == {"layout": "landscape", "fill": "fit", "captions_burned": True}


def test_burned_captions_change_the_caption_area_only(landscape_pair):
    """The same frame with and without captions differs in the bottom band (the words), not at the top."""
    (_, with_path), (without_output, without_path) = landscape_pair
    assert without_output.meta["captions_burned"] is False
    select = "select=eq(n\\,25)"  # 1 s in: the caption is on screen, the loop fade has not begun
    [captioned] = _frames(with_path, width=192, height=108, select=select)
    [plain] = _frames(without_path, width=192, height=108, select=select)
    bottom, top = (0, 86, 192, 108), (0, 0, 192, 22)
    assert _difference(captioned.crop(bottom), plain.crop(bottom)) > 5
    assert _difference(captioned.crop(top), plain.crop(top)) < 1


def test_loop_ends_on_its_first_frame(landscape_pair, screen_source):
    """The last frame is (nearly) the first: far closer than the source's own last and first frames are."""
    _, (_, path) = landscape_pair
    frames = _frames(path, width=64, height=36)
    source = _frames(screen_source, width=64, height=36)
    assert len(frames) == 50
    assert _difference(frames[-1], frames[0]) < 1.5
    assert _difference(source[-1], source[0]) > 5 * max(_difference(frames[-1], frames[0]), 1.0)
    # The fade is a transition, not a jump: the frame before it has not started blending yet.
    assert _difference(frames[36], source[36]) < 3


def test_rotated_portrait_crop_with_captions(screen_source, caption_file, tmp_path):
    """Real encode: a focal crop at the right edge, captioned, turned into a 1920×1080 frame; no audio."""
    output, path = _produce(
        screen_source,
        tmp_path,
        SCREEN_PORTRAIT_ROTATED,
        captions=caption_file,
        options={"portrait_fill": "crop", "focal_x": 1.0},
    )
    _assert_screen_file(path, 1920, 1080, 2.0)
    assert output.meta == {"layout": "portrait_rotated", "fill": "crop", "captions_burned": True, "focal_x": 1.0}


def test_portrait_blur_from_a_landscape_source(screen_source, tmp_path):
    """Real encode: the default blur fill makes a 1080×1920 portrait file the length of the source."""
    output, path = _produce(screen_source, tmp_path, SCREEN_PORTRAIT)
    _assert_screen_file(path, 1080, 1920, 2.0)
    assert output.meta == {"layout": "portrait", "fill": "blur", "captions_burned": False}
    [frame] = _frames(path, width=54, height=96, select="select=eq(n\\,25)")
    # Above the fitted picture is blurred picture, not black bars.
    assert ImageStat.Stat(frame.crop((0, 0, 54, 20))).mean[0] > 30
