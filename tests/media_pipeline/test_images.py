"""Poster, cards and sprite: the commands and plans they are built from, and real runs on tiny clips."""

import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image, ImageStat

from media_pipeline.ffmpeg.probe import probe_file
from media_pipeline.steps import images
from media_pipeline.steps.contract import StepContext
from media_pipeline.steps.images import (
    PosterAttempt,
    cards_command,
    cards_meta,
    poster_attempts,
    poster_command,
    sprite_command,
    sprite_plan,
    sprite_vtt,
)
from media_pipeline.steps.profiles import CARDS, POSTER, SPRITE
from media_pipeline.synthetic.media import make_clip

SOURCE = Path("/in/source.mp4")
OPENING = PosterAttempt(0.0, skip_dark=True)


def _value(args, flag):
    return args[args.index(flag) + 1]


def _poster_args(probe, attempt=OPENING):
    return poster_command(profile=POSTER, probe=probe, source=SOURCE, out_path=Path("/out/p.jpg"), attempt=attempt)


# --- Pure: poster ----------------------------------------------------------------------------------------


def test_poster_drops_black_frames_before_thumbnail_chooses(make_probe):
    """The first 10 s are read; blackframe marks each frame's dark share, metadata drops ≥98 %, thumbnail picks."""
    args = _poster_args(make_probe())
    graph = _value(args, "-filter_complex")
    assert _value(args, "-t") == "10.000" and "-ss" not in args
    assert "blackframe=amount=0:threshold=32" in graph
    assert "metadata=function=less:key=lavfi.blackframe.pblack:mode=select:value=98" in graph
    assert graph.index("metadata=") < graph.index("thumbnail=50")
    assert "scale=1280:720" in graph and "setsar=1" in graph
    assert _value(args, "-frames:v") == "1" and _value(args, "-q:v") == "3" and args[-2] == "/out/p.jpg"


def test_poster_last_resort_keeps_dark_frames(make_probe):
    """Without skip_dark (a dark programme must still get a poster) the black check is left out."""
    graph = _value(_poster_args(make_probe(), PosterAttempt(0.0, skip_dark=False)), "-filter_complex")
    assert "blackframe" not in graph and "thumbnail=50" in graph


def test_poster_attempts_look_in_the_middle_of_long_sources(make_probe):
    """Short source: opening, then opening without the check. Long source: the middle is tried in between."""
    assert poster_attempts(profile=POSTER, probe=make_probe(duration=8.0)) == [
        PosterAttempt(0.0, True),
        PosterAttempt(0.0, False),
    ]
    assert poster_attempts(profile=POSTER, probe=make_probe(duration=60.0)) == [
        PosterAttempt(0.0, True),
        PosterAttempt(25.0, True),
        PosterAttempt(0.0, False),
    ]
    middle = _poster_args(make_probe(duration=60.0), PosterAttempt(25.0, True))
    assert _value(middle, "-ss") == "25.000" and _value(middle, "-t") == "10.000"


def test_poster_of_a_short_or_small_source(make_probe):
    """A 3 s source is read for 3 s; a 320×180 source is never enlarged; a portrait one stays portrait."""
    args = _poster_args(make_probe(duration=3.0, width=320, height=180))
    assert _value(args, "-t") == "3.000" and "scale=320:180" in _value(args, "-filter_complex")
    assert "scale=404:720" in _value(_poster_args(make_probe(width=1080, height=1920)), "-filter_complex")


def test_still_image_is_its_own_poster(make_probe):
    """A still picture: one attempt, no time limit, no black check."""
    still = make_probe(is_still=True, duration=0.0, fps=0.0, width=800, height=600)
    [attempt] = poster_attempts(profile=POSTER, probe=still)
    args = _poster_args(still, attempt)
    assert "-t" not in args and "blackframe" not in _value(args, "-filter_complex")
    assert "scale=960:720" not in _value(args, "-filter_complex")  # 800×600 is inside 1280×720: kept
    assert "scale=800:600" in _value(args, "-filter_complex")


# --- Pure: cards -----------------------------------------------------------------------------------------


def test_cards_are_centre_crops_of_the_poster_in_one_run():
    """One input, split in two, each scaled to cover its 16:9 size and centre-cropped, two JPEG outputs."""
    args = cards_command(profile=CARDS, poster=Path("/out/poster/poster.jpg"), out_dir=Path("/out/cards"))
    graph = _value(args, "-filter_complex")
    assert args.count("-i") == 1 and "split=2" in graph
    assert "scale=480:270:force_original_aspect_ratio=increase" in graph and "crop=480:270" in graph
    assert "scale=960:540:force_original_aspect_ratio=increase" in graph and "crop=960:540" in graph
    assert "/out/cards/phone.jpg" in args and "/out/cards/tv.jpg" in args


def test_cards_meta_names_every_size():
    """A template finds each card by size name: path and pixel size."""
    assert cards_meta(profile=CARDS) == {
        "sizes": {
            "phone": {"path": "cards/phone.jpg", "width": 480, "height": 270},
            "tv": {"path": "cards/tv.jpg", "width": 960, "height": 540},
        }
    }


# --- Pure: sprite ----------------------------------------------------------------------------------------


def test_sprite_plan_for_short_and_long_sources(make_probe):
    """10 s: every 2 s, 5 tiles in one row. 1 h: every 36 s, 100 tiles, 10×10. Portrait tiles are tall."""
    short = sprite_plan(profile=SPRITE, probe=make_probe(duration=10.0))
    assert (short.interval, short.count, short.columns, short.rows) == (2.0, 5, 5, 1)
    assert (short.tile_width, short.tile_height) == (160, 90)
    long = sprite_plan(profile=SPRITE, probe=make_probe(duration=3600.0))
    assert (long.interval, long.count, long.columns, long.rows) == (36.0, 100, 10, 10)
    odd = sprite_plan(profile=SPRITE, probe=make_probe(duration=25.0))
    assert (odd.count, odd.columns, odd.rows) == (13, 10, 2)  # the last, shorter part gets a tile too
    assert sprite_plan(profile=SPRITE, probe=make_probe(width=1080, height=1920)).tile_height == 284


def test_sprite_command_tiles_exactly_the_planned_thumbnails(make_probe):
    """fps=1/interval, tiles of 160×90, padded/cut to the planned count, one 10×2 sheet, one JPEG."""
    args = sprite_command(profile=SPRITE, probe=make_probe(duration=25.0), source=SOURCE, out_path=Path("/o/s.jpg"))
    graph = _value(args, "-filter_complex")
    assert "fps=1/2:eof_action=pass" in graph and "scale=160:90" in graph
    assert "tpad=stop=13:stop_mode=clone" in graph and "trim=end_frame=13" in graph and "tile=10x2" in graph
    assert _value(args, "-frames:v") == "1" and _value(args, "-q:v") == "5" and "-skip_frame" not in args


def test_long_sources_decode_keyframes_only_for_the_sprite(make_probe):
    """With thumbnails 36 s apart only keyframes are decoded (skip_frame nokey on the input)."""
    args = sprite_command(profile=SPRITE, probe=make_probe(duration=3600.0), source=SOURCE, out_path=Path("/o/s.jpg"))
    assert _value(args, "-skip_frame") == "nokey" and args.index("-skip_frame") < args.index("-i")
    assert "fps=1/36" in _value(args, "-filter_complex")


def test_sprite_vtt_cues_point_into_the_sheet():
    """One cue per tile, row by row; the last cue ends at the duration; hours are written out."""
    vtt = sprite_vtt(count=12, interval=2.0, duration=23.5, tile_w=160, tile_h=90, columns=10, image_name="s.jpg")
    blocks = vtt.strip().split("\n\n")
    assert blocks[0] == "WEBVTT" and len(blocks) == 13
    assert blocks[1] == "00:00:00.000 --> 00:00:02.000\ns.jpg#xywh=0,0,160,90"
    assert blocks[10] == "00:00:18.000 --> 00:00:20.000\ns.jpg#xywh=1440,0,160,90"
    assert blocks[11] == "00:00:20.000 --> 00:00:22.000\ns.jpg#xywh=0,90,160,90"
    assert blocks[12] == "00:00:22.000 --> 00:00:23.500\ns.jpg#xywh=160,90,160,90"
    long = sprite_vtt(count=100, interval=36.0, duration=3600.0, tile_w=160, tile_h=90, columns=10, image_name="x")
    assert "00:59:24.000 --> 01:00:00.000\nx#xywh=1440,810,160,90" in long


def test_sprite_vtt_is_valid_webvtt(tmp_path):
    """webvtt-py (the project's WebVTT library) reads the track back with every cue and its text."""
    import webvtt

    path = tmp_path / "s.vtt"
    path.write_text(sprite_vtt(count=3, interval=2.0, duration=5.0, tile_w=160, tile_h=90, columns=10, image_name="a"))
    cues = webvtt.read(str(path))
    assert [(c.start, c.end, c.text) for c in cues] == [
        ("00:00:00.000", "00:00:02.000", "a#xywh=0,0,160,90"),
        ("00:00:02.000", "00:00:04.000", "a#xywh=160,0,160,90"),
        ("00:00:04.000", "00:00:05.000", "a#xywh=320,0,160,90"),
    ]


def test_audio_only_gets_no_pictures_and_stills_no_sprite(make_probe, tmp_path):
    """No picture in an audio file: [] for all three profiles. A still gets no sprite. No ffmpeg runs."""
    audio = make_probe(has_video=False, width=0, height=0)
    ctx = StepContext(source=SOURCE, probe=audio, out_dir=tmp_path, work_dir=tmp_path)
    assert [images.produce(ctx, profile) for profile in (POSTER, CARDS, SPRITE)] == [[], [], []]
    still = make_probe(is_still=True, duration=0.0, fps=0.0)
    assert images.produce(StepContext(source=SOURCE, probe=still, out_dir=tmp_path, work_dir=tmp_path), SPRITE) == []


# --- Real runs on tiny clips -----------------------------------------------------------------------------


def _lavfi(path: Path, graph: str) -> Path:
    args = [settings.FFMPEG_BINARY, "-v", "error", "-y", "-f", "lavfi", "-i", graph]
    subprocess.run([*args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("image-clips")


@pytest.fixture(scope="module")
def black_start(clips) -> Path:
    """3 s of black, then 1 s of testsrc2 (320×180, 25 fps): the first 50 frames are all black."""
    graph = "color=black:size=320x180:rate=25:duration=3[b];testsrc2=size=320x180:rate=25:duration=1[t];[b][t]concat"
    return _lavfi(clips / "black_start.mp4", graph)


@pytest.fixture(scope="module")
def all_black(clips) -> Path:
    """1 s of nothing but black."""
    return _lavfi(clips / "black.mp4", "color=black:size=320x180:rate=25:duration=1")


def _ctx(source: Path, out_dir: Path) -> StepContext:
    return StepContext(source=source, probe=probe_file(source), out_dir=out_dir, work_dir=out_dir)


def _luma(path: Path) -> float:
    with Image.open(path) as image:
        return ImageStat.Stat(image.convert("L")).mean[0]


def test_black_opening_does_not_give_a_black_poster(black_start, tmp_path):
    """Real run: `thumbnail` alone picks a black frame from this clip; with black frames dropped it does not."""
    probe = probe_file(black_start)
    plain = tmp_path / "plain.jpg"
    attempt = PosterAttempt(0.0, skip_dark=False)
    args = poster_command(profile=POSTER, probe=probe, source=black_start, out_path=plain, attempt=attempt)
    subprocess.run([settings.FFMPEG_BINARY, *args], check=True, capture_output=True)
    assert _luma(plain) < 25  # the naive choice is black: the test clip does what it should

    [output] = images.produce(_ctx(black_start, tmp_path), POSTER)
    assert output.path == "poster/poster.jpg" and output.kind == "poster"
    assert (output.width, output.height) == (320, 180)
    with Image.open(tmp_path / output.path) as poster:
        assert poster.format == "JPEG" and poster.size == (320, 180)
    assert _luma(tmp_path / output.path) > 60


def test_an_all_black_source_still_gets_a_poster(all_black, tmp_path):
    """Real run: when every frame is black the last attempt (no black check) still writes a picture."""
    [output] = images.produce(_ctx(all_black, tmp_path), POSTER)
    assert (tmp_path / output.path).stat().st_size > 0 and _luma(tmp_path / output.path) < 25


def test_cards_from_the_poster(black_start, tmp_path):
    """Real run: after the poster step, one cards rendition with a 480×270 and a 960×540 JPEG."""
    ctx = _ctx(black_start, tmp_path)
    images.produce(ctx, POSTER)
    [output] = images.produce(ctx, CARDS)
    assert output.profile == "cards" and output.kind == "image" and output.path == "cards/phone.jpg"
    assert output.files == ("cards/phone.jpg", "cards/tv.jpg") and output.meta == cards_meta(profile=CARDS)
    for name, size in (("phone", (480, 270)), ("tv", (960, 540))):
        with Image.open(tmp_path / "cards" / f"{name}.jpg") as card:
            assert card.format == "JPEG" and card.size == size
        assert _luma(tmp_path / "cards" / f"{name}.jpg") > 60  # cut from the non-black poster


def test_cards_without_a_poster_step_make_their_own(black_start, tmp_path):
    """Real run: cards alone (poster not run in this job) still come from a non-black picture."""
    work = tmp_path / "work"
    work.mkdir()
    ctx = StepContext(source=black_start, probe=probe_file(black_start), out_dir=tmp_path / "out", work_dir=work)
    [output] = images.produce(ctx, CARDS)
    assert _luma(ctx.out_dir / output.path) > 60 and not (ctx.out_dir / "poster").exists()


def test_sprite_sheet_and_track(clips, tmp_path):
    """Real run: a 4.5 s clip gives 3 thumbnails (0, 2, 4 s) on a 480×90 sheet and a 3-cue WebVTT track."""
    source = make_clip(clips / "sprite.mp4", size="320x180", seconds=4.5, audio=False)
    [output] = images.produce(_ctx(source, tmp_path), SPRITE)
    assert output.kind == "sprite" and output.path == "sprite/sprite.vtt"
    assert output.files == ("sprite/sprite.vtt", "sprite/sprite.jpg")
    assert output.meta == {"image": "sprite/sprite.jpg", "interval": 2.0, "tile": [160, 90]}
    with Image.open(tmp_path / "sprite" / "sprite.jpg") as sheet:
        assert sheet.format == "JPEG" and sheet.size == (480, 90)
        tiles = [sheet.crop((x, 0, x + 160, 90)).convert("L") for x in (0, 160, 320)]
    assert all(ImageStat.Stat(tile).mean[0] > 40 for tile in tiles)  # every cell holds a picture
    vtt = (tmp_path / "sprite" / "sprite.vtt").read_text()
    assert vtt.count("-->") == 3 and "00:00:02.000 --> 00:00:04.000\nsprite.jpg#xywh=160,0,160,90" in vtt
    # The last cue runs from 4 s to the end of the file (4.5 s plus the container's rounding).
    assert "\n00:00:04.000 --> 00:00:04.5" in vtt and vtt.endswith("sprite.jpg#xywh=320,0,160,90\n")


def test_still_picture_gets_a_poster(clips, tmp_path, make_probe):
    """Real run: a PNG is its own poster, scaled to fit, even if it is dark."""
    png = clips / "still.png"
    args = [settings.FFMPEG_BINARY, "-v", "error", "-y", "-f", "lavfi", "-i", "color=0x101010:size=1600x1200"]
    subprocess.run([*args, "-frames:v", "1", str(png)], check=True)
    probe = make_probe(is_still=True, duration=0.0, fps=0.0, width=1600, height=1200, has_audio=False)
    ctx = StepContext(source=png, probe=probe, out_dir=tmp_path, work_dir=tmp_path)
    [output] = images.produce(ctx, POSTER)
    with Image.open(tmp_path / output.path) as poster:
        assert poster.size == (960, 720)
