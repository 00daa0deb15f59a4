"""HDR masters (PQ, HLG; BT.2020 10-bit) become SDR BT.709 in every 8-bit output, and say so.

The pure parts are tested by their arguments; one tiny real encode per transfer measures the tone-mapped picture
against the SDR picture it was made from (signalstats: mean luma YAVG, mean saturation SATAVG).
"""

import subprocess
from pathlib import Path

import ffmpeg
import pytest
from django.conf import settings

from media_pipeline.ffmpeg.colour import SourceColour, apply_filters, sdr_filters
from media_pipeline.ffmpeg.commands import hls_ladder_command
from media_pipeline.ffmpeg.ladder import Variant
from media_pipeline.ffmpeg.probe import ffprobe_json, parse_probe, probe_file
from media_pipeline.ffmpeg.runner import check_run, run_ffmpeg
from media_pipeline.jobs.verify import BT709_TAGS, compare_facts, verify_hls, video_facts
from media_pipeline.steps.images import PosterAttempt, poster_command, sprite_command
from media_pipeline.steps.master_playlist import MASTER_NAME, write_master
from media_pipeline.steps.profiles import HLS_WEB, POSTER, SCREEN_PORTRAIT, SPRITE, TV_1080P
from media_pipeline.steps.screens import screen_command
from media_pipeline.steps.tv import tv_mp4_command
from media_pipeline.synthetic.media import CORPUS_SUFFIXES, SDR_PICTURE, SDR_REFERENCE, make_corpus_clip

SOURCE = Path("/in/source.mp4")
PQ = {"colour_transfer": "smpte2084", "colour_primaries": "bt2020", "colour_space": "bt2020nc", "bit_depth": 10}
HLG = {**PQ, "colour_transfer": "arib-std-b67"}
# Measured with the corpus clips (75 % bars, 320×180, x265 CRF 4 → x264 at 400 kb/s), see docs/media-pipeline.md:
# luma +0.3 % (PQ) / −0.1 % (HLG), saturation −3.9 % / −3.4 %. Most of the saturation is lost to 4:2:0 chroma
# resampled in the HDR signal and again in the SDR one (uncompressed, the same round trip loses 3.6 % / 2.9 %).
LUMA_TOLERANCE = 0.03
SATURATION_TOLERANCE = 0.06


def _value(args, flag):
    return args[args.index(flag) + 1]


# --- The filters, from the probe --------------------------------------------------------------------------


def test_sdr_bt709_and_untagged_sources_get_no_colour_filters():
    """An SDR BT.709 source, and one that states nothing, is left exactly as before: no zscale, no tonemap."""
    assert sdr_filters(SourceColour(transfer="bt709", primaries="bt709", matrix="bt709")) == []
    assert sdr_filters(SourceColour()) == []


@pytest.mark.parametrize("transfer", ["smpte2084", "arib-std-b67"])
def test_hdr_source_is_tone_mapped_from_reference_white(transfer):
    """PQ and HLG: linear light with 203 cd/m² (BT.2408 reference white) as 1.0, BT.2020 → BT.709 primaries,
    mobius from 0.8 up to the assumed 1000 cd/m² peak (1000/203), then BT.709 limited 4:2:0."""
    filters = sdr_filters(SourceColour(transfer=transfer, primaries="bt2020", matrix="bt2020nc", range="tv"))
    names = [name for name, _options in filters]
    assert names == ["zscale", "format", "zscale", "tonemap", "zscale", "format"]
    assert filters[0][1] == {
        "tin": transfer,
        "pin": "bt2020",
        "min": "2020_ncl",
        "rin": "tv",
        "transfer": "linear",
        "npl": "203",
        "filter": "spline36",
    }
    assert filters[2][1] == {"primaries": "bt709"}
    assert filters[3][1] == {"tonemap": "mobius", "param": "0.8", "desat": "0", "peak": "4.926"}
    assert filters[4][1]["transfer"] == "bt709" and filters[4][1]["matrix"] == "bt709"
    assert filters[5][1] == {"pix_fmts": "yuv420p"}


def test_stated_peak_sets_the_roll_off():
    """A source that states MaxCLL (here 4000 cd/m²) is rolled off to its own peak, not the assumed 1000."""
    [*_head, (_name, tonemap), _zscale, _format] = sdr_filters(SourceColour(transfer="smpte2084", peak_nits=4000))
    assert tonemap["peak"] == "19.7"


def test_wide_gamut_sdr_source_gets_a_gamut_conversion_only():
    """BT.2020 primaries with an SDR transfer: one zscale to BT.709, no tone curve."""
    filters = sdr_filters(SourceColour(transfer="bt2020-10", primaries="bt2020", matrix="bt2020nc"))
    assert [name for name, _options in filters] == ["zscale", "format"]
    assert filters[0][1]["primaries"] == "bt709" and filters[0][1]["tin"] == "bt2020-10"


def test_probe_reads_colour_depth_and_peak_from_recorded_json():
    """ffprobe's colour words, the bit depth from the pixel format, MaxCLL before the mastering display's peak."""
    stream = {
        "codec_type": "video",
        "codec_name": "hevc",
        "width": 1920,
        "height": 1080,
        "pix_fmt": "yuv420p10le",
        "color_range": "tv",
        "color_space": "bt2020nc",
        "color_transfer": "smpte2084",
        "color_primaries": "bt2020",
        "avg_frame_rate": "30/1",
        "side_data_list": [
            {"side_data_type": "Mastering display metadata", "max_luminance": "10000000/10000"},
            {"side_data_type": "Content light level metadata", "max_content": 1600, "max_average": 400},
        ],
    }
    probe = parse_probe({"streams": [stream], "format": {"duration": "2.0", "format_name": "mov"}})
    assert (probe.colour_transfer, probe.colour_primaries, probe.colour_space) == ("smpte2084", "bt2020", "bt2020nc")
    assert (probe.bit_depth, probe.peak_nits, probe.colour.is_hdr) == (10, 1600.0, True)
    without_cll = {**stream, "side_data_list": stream["side_data_list"][:1], "color_transfer": "unknown"}
    probe = parse_probe({"streams": [without_cll], "format": {"duration": "2.0"}})
    assert (probe.peak_nits, probe.colour_transfer, probe.colour.is_hdr) == (1000.0, "", False)


# --- Every 8-bit output's command, from the probe ---------------------------------------------------------


def test_ladder_tone_maps_once_before_the_split_and_tags_bt709(make_probe):
    """The web ladder converts the HLG picture once (before split) and states BT.709 on its H.264 rungs."""
    args = hls_ladder_command(profile=HLS_WEB, probe=make_probe(**HLG), source=SOURCE, out_dir=Path("/out"))
    graph = _value(args, "-filter_complex")
    assert graph.count("]tonemap=") == 1 and graph.index("]tonemap=") < graph.index("]split=")
    assert (_value(args, "-colorspace"), _value(args, "-color_primaries"), _value(args, "-color_trc")) == (
        "bt709",
        "bt709",
        "bt709",
    )


def test_sdr_ladder_is_unchanged(make_probe):
    """An SDR source's ladder has no colour filter and no colour tags added (an SD source's BT.601 stays true)."""
    args = hls_ladder_command(profile=HLS_WEB, probe=make_probe(), source=SOURCE, out_dir=Path("/out"))
    assert "zscale" not in " ".join(args) and "-color_trc" not in args


def test_tv_edition_tone_maps_instead_of_relabelling(make_probe):
    """The TV file used to carry BT.709 tags over PQ pixels: the graph now tone-maps before scaling."""
    args = tv_mp4_command(
        profile=TV_1080P, probe=make_probe(**PQ), source=SOURCE, out_path=Path("/o.mp4"), loudness=None
    )
    graph = _value(args, "-filter_complex")
    assert graph.index("]tonemap=") < graph.index("]scale=")
    assert _value(args, "-color_trc") == "bt709"


def test_screens_poster_and_sprite_are_tone_mapped(make_probe):
    """Public screens, the poster (before the dark-frame test) and the sprite (after sampling) all tone-map."""
    probe = make_probe(**PQ)
    screen = screen_command(
        profile=SCREEN_PORTRAIT,
        probe=probe,
        source=SOURCE,
        out_path=Path("/s.mp4"),
        captions=None,
        fill="blur",
        focal_x=0.5,
    )
    assert "tonemap=" in _value(screen, "-filter_complex") and _value(screen, "-colorspace") == "bt709"
    poster = _value(
        poster_command(
            profile=POSTER, probe=probe, source=SOURCE, out_path=Path("/p.jpg"), attempt=PosterAttempt(0.0, True)
        ),
        "-filter_complex",
    )
    assert poster.index("]tonemap=") < poster.index("]blackframe=")
    sprite = _value(
        sprite_command(profile=SPRITE, probe=probe, source=SOURCE, out_path=Path("/x.jpg")), "-filter_complex"
    )
    assert sprite.index("]fps=") < sprite.index("]tonemap=") < sprite.index("]tile=")


# --- Verification -----------------------------------------------------------------------------------------


def test_verify_refuses_8_bit_h264_that_still_says_pq():
    """What the old ladder wrote (8-bit H.264 keeping BT.2020/PQ tags) fails the "sdr" and "colour" checks."""
    stream = {
        "codec_type": "video",
        "codec_name": "h264",
        "pix_fmt": "yuv420p",
        "color_space": "bt2020nc",
        "color_transfer": "smpte2084",
        "color_primaries": "bt2020",
    }
    facts = video_facts({"streams": [stream], "format": {"duration": "1.0"}})
    assert len(compare_facts({"sdr": True, "colour": BT709_TAGS}, facts, duration_tolerance=0)) == 2
    fixed = video_facts(
        {"streams": [stream | {"color_space": "bt709", "color_transfer": "bt709", "color_primaries": "bt709"}]}
    )
    assert compare_facts({"sdr": True, "colour": BT709_TAGS}, fixed, duration_tolerance=0) == []


# --- Real encodes: the picture against its SDR original ---------------------------------------------------


def picture_means(source: str, *, lavfi: bool = False, filters: str = "") -> tuple[float, float]:
    """Mean YAVG and SATAVG over all frames, in 8-bit units (signalstats)."""
    chain = ",".join(part for part in (filters, "signalstats", "metadata=print:file=-") if part)
    args = [settings.FFMPEG_BINARY, "-v", "error", *(["-f", "lavfi"] if lavfi else []), "-i", source]
    done = subprocess.run([*args, "-vf", chain, "-f", "null", "-"], capture_output=True, text=True, check=True)
    values: dict[str, list[float]] = {"YAVG": [], "SATAVG": []}
    for line in done.stdout.splitlines():
        key, _sep, number = line.partition("=")
        name = key.rsplit(".", 1)[-1]
        if name in values:
            values[name].append(float(number))
    return sum(values["YAVG"]) / len(values["YAVG"]), sum(values["SATAVG"]) / len(values["SATAVG"])


@pytest.fixture(scope="module")
def sdr_means():
    return picture_means(SDR_PICTURE, lavfi=True, filters=SDR_REFERENCE)


@pytest.mark.parametrize(("kind", "transfer"), [("hdr_pq", "smpte2084"), ("hdr_hlg", "arib-std-b67")])
def test_hdr_master_comes_out_as_its_sdr_picture(tmp_path, sdr_means, kind, transfer):
    """A real ladder rung from the PQ / HLG master: 8-bit H.264 tagged BT.709, master says VIDEO-RANGE=SDR,
    verification passes, and mean luma and saturation match the SDR original (before, 8-bit with the PQ pixels
    kept: luma −10 %, saturation −73 %; HLG: saturation −55 %)."""
    source = make_corpus_clip(kind, tmp_path / f"{kind}{CORPUS_SUFFIXES[kind]}")
    probe = probe_file(source)
    assert (probe.colour_transfer, probe.colour_primaries, probe.bit_depth) == (transfer, "bt2020", 10)
    rung = Variant("180p", 320, 180, 400_000, 0)
    out = tmp_path / "hls"
    args = hls_ladder_command(profile=HLS_WEB, probe=probe, source=source, out_dir=out, variants=[rung])
    check_run(run_ffmpeg(args, duration=probe.duration))
    write_master(out, [rung], frame_rate=probe.fps)
    assert "VIDEO-RANGE=SDR" in (out / MASTER_NAME).read_text()
    verify_hls(master_path=out / MASTER_NAME, expect_duration=probe.duration, colour=BT709_TAGS)
    stream = ffprobe_json(out / "180p" / "index.m3u8")["streams"][0]
    assert (stream["pix_fmt"], stream["color_transfer"], stream["color_primaries"]) == ("yuv420p", "bt709", "bt709")
    luma, saturation = picture_means(str(out / "180p" / "index.m3u8"))
    want_luma, want_saturation = sdr_means
    print(f"{kind}: YAVG {luma:.2f} vs {want_luma:.2f}, SATAVG {saturation:.2f} vs {want_saturation:.2f}")
    assert luma == pytest.approx(want_luma, rel=LUMA_TOLERANCE)
    assert saturation == pytest.approx(want_saturation, rel=SATURATION_TOLERANCE)


def pq_code(nits: float) -> int:
    """The 10-bit limited-range PQ luma code of a grey of ``nits`` cd/m² (SMPTE ST 2084)."""
    m1, m2, c1, c2, c3 = 0.1593017578125, 78.84375, 0.8359375, 18.8515625, 18.6875
    y = (nits / 10_000) ** m1
    return round(64 + 876 * ((c1 + c2 * y) / (1 + c3 * y)) ** m2)


def test_highlights_are_rolled_off_not_clipped():
    """Greys of 100, 203 (reference white), 400 and 1000 cd/m²: 100 is untouched SDR grey, the rest rise to white
    step by step (a hard clip at reference white would make the last three one white), the peak at SDR white."""
    lumas = []
    for nits in (100, 203, 400, 1000):
        grey = (
            ffmpeg.input("color=black:s=64x64:d=0.04", f="lavfi")
            .filter("format", "yuv420p10le")
            .filter("geq", lum=str(pq_code(nits)), cb="512", cr="512")
            .filter("setparams", color_trc="smpte2084", color_primaries="bt2020", colorspace="bt2020nc", range="tv")
        )
        graph = apply_filters(grey, sdr_filters(SourceColour(transfer="smpte2084", primaries="bt2020")))
        args = graph.filter("signalstats").filter("metadata", mode="print", file="-").output("-", f="null").get_args()
        done = subprocess.run(
            [settings.FFMPEG_BINARY, "-v", "error", *args], capture_output=True, text=True, check=True
        )
        lumas.append(float(next(line for line in done.stdout.splitlines() if ".YAVG=" in line).split("=")[1]))
    # Measured 179, 226, 233, 235. 100 cd/m² is SDR grey 0.49 of white: 16 + 219 × 0.49^(1/2.4) ≈ 179.
    assert lumas[0] == pytest.approx(179, abs=2)
    assert lumas[0] < lumas[1] < lumas[2] < lumas[3] == 235
