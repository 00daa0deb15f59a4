"""Every kind of input the issue lists, through the whole engine (analysis → groups → checks → publish):
each is converted, or refused with a clear Chinese reason; none crashes a worker or leaves a job running."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from media_pipeline.models import MediaAsset, TranscodeJob
from media_pipeline.selectors import renditions_by_profile
from media_pipeline.services import caption_attach, media_asset_create, transcode_job_run
from media_pipeline.synthetic.documents import chinese_epub, chinese_pdf, encrypted_pdf
from media_pipeline.synthetic.media import CORPUS_SUFFIXES, make_clip, make_corpus_clip

pytestmark = pytest.mark.django_db
State = TranscodeJob.State
QUICK = ["ladder", "images"]  # enough to prove the input is read right; the full set runs where it matters
FULL = ["ladder", "tv", "audio_edition", "images"]

GOOD = {
    "portrait_rotated": FULL,
    "vfr": QUICK,
    "interlaced": FULL,
    "yuv422p10": QUICK,
    "no_audio": QUICK,
    "multi_audio": QUICK,
    "surround_51": ["audio_edition"],
    "mono_8k": ["audio_edition"],
    "one_second": FULL,
    "long_lowres": ["ladder"],
    "odd_size": QUICK,
    "non_square": QUICK,
    "audio_only_m4a": FULL,
    "audio_only_mp3": ["ladder"],
    "still_image": FULL,
}


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("corpus")


def _corpus(corpus_dir, kind):
    path = corpus_dir / f"{kind}{CORPUS_SUFFIXES[kind]}"
    return path if path.exists() else make_corpus_clip(kind, path)


def _upload(path, groups, name=None):
    with path.open("rb") as handle:
        return media_asset_create(file=File(handle, name=name or path.name), options={"only_groups": groups})


def _run_all(asset):
    while job := TranscodeJob.objects.filter(asset=asset, state=State.QUEUED).order_by("pk").first():
        transcode_job_run(job_id=job.pk, worker_id="w1")
    asset.refresh_from_db()
    assert not TranscodeJob.objects.filter(asset=asset, state__in=TranscodeJob.ACTIVE_STATES).exists()
    return asset


@pytest.mark.parametrize("kind", GOOD)
def test_awkward_input_is_converted(kind, corpus_dir):
    """The input ends ready, with a rendition for every group it was given that applies to its kind."""
    asset = _run_all(_upload(_corpus(corpus_dir, kind), GOOD[kind]))
    assert asset.state == MediaAsset.State.READY, asset.state_error
    profiles = set(renditions_by_profile(asset=asset))
    expected = {
        "ladder": {"hls_web"},
        "tv": {"tv_1080p", "tv_1080p_hls"},
        "audio_edition": {"audio_m4a", "audio_mp3"},
        "images": {"poster", "cards"},
    }
    wanted = set().union(*(expected[group] for group in GOOD[kind]))
    if asset.kind == "audio":
        wanted -= {"tv_1080p", "tv_1080p_hls", "poster", "cards"}
    if asset.kind == "image":
        wanted = {"poster", "cards"}
    if not asset.probe.get("has_audio"):
        wanted -= {"audio_m4a", "audio_mp3"}
    assert wanted <= profiles


@pytest.mark.parametrize("kind", ["mp3_cover_art", "m4a_cover_art", "flac_cover_art"])
def test_cover_art_becomes_the_poster(kind, corpus_dir):
    """An MP3, M4A or FLAC with an attached picture gets the images group: a 300×300 poster (the cover) and the
    16:9 cards cut from it, no sprite (before: audio never got the images group, the cover was thrown away)."""
    asset = _run_all(_upload(_corpus(corpus_dir, kind), ["images"]))
    assert (asset.kind, asset.state) == ("audio", MediaAsset.State.READY), asset.state_error
    renditions = renditions_by_profile(asset=asset)
    assert (renditions["poster"].width, renditions["poster"].height) == (300, 300)
    assert "cards" in renditions and "sprite" not in renditions


def test_audio_without_cover_art_gets_no_picture_job(corpus_dir):
    """Plain audio has no picture to take: no images job is started at all."""
    asset = _run_all(_upload(_corpus(corpus_dir, "audio_only_m4a"), ["images"]))
    assert list(TranscodeJob.objects.filter(asset=asset).values_list("group", flat=True)) == ["analyse"]


def test_rotated_phone_video_stays_portrait_and_tv_is_pillarboxed(corpus_dir):
    """Rotation metadata is honoured: portrait web rungs; the TV copy is 1920×1080 with the picture inside."""
    asset = _run_all(_upload(_corpus(corpus_dir, "portrait_rotated"), ["ladder", "tv"]))
    renditions = renditions_by_profile(asset=asset)
    assert renditions["hls_web"].height > renditions["hls_web"].width
    assert (renditions["tv_1080p"].width, renditions["tv_1080p"].height) == (1920, 1080)


def test_mono_8k_audio_edition_is_mono_at_minus_19(corpus_dir):
    """8 kHz mono speech becomes a mono audio edition normalised to the mono target."""
    asset = _run_all(_upload(_corpus(corpus_dir, "mono_8k"), ["audio_edition"]))
    m4a = renditions_by_profile(asset=asset)["audio_m4a"]
    assert m4a.meta["channels"] == 1 and m4a.meta["loudness_target"] == -19.0


@pytest.mark.parametrize("kind", ["truncated", "truncated_faststart", "text_as_mp4"])
def test_broken_file_is_refused_with_a_reason(kind, corpus_dir):
    """A cut-off (index last, or index first and half the data) or fake file fails once, in the analysis, with
    a Chinese reason; no group job is started, so no encode is spent on it."""
    asset = _run_all(_upload(_corpus(corpus_dir, kind), FULL))
    assert asset.state == MediaAsset.State.FAILED
    assert "文件" in asset.state_error
    if kind.startswith("truncated"):
        assert asset.state_error == "文件不完整，请重新上传"
    assert list(TranscodeJob.objects.filter(asset=asset).values_list("group", flat=True)) == ["analyse"]


def test_zero_byte_file_is_refused_at_upload(corpus_dir):
    """An empty file never becomes an asset."""
    with pytest.raises(ValidationError, match="文件为空"):
        _upload(_corpus(corpus_dir, "zero_byte"), FULL)


def test_pdf_becomes_pages_text_and_cover(tmp_path):
    """A PDF is recognised by its bytes and goes to the light document job: pages, text and a cover."""
    path = tmp_path / "book.pdf"
    path.write_bytes(chinese_pdf())
    asset = _run_all(_upload(path, ["document"]))
    assert (asset.kind, asset.state) == ("document", MediaAsset.State.READY), asset.state_error
    renditions = renditions_by_profile(asset=asset)
    assert renditions["document"].meta["page_count"] == 3
    with default_storage.open(renditions["document_text"].path) as text:
        assert "灯塔" in text.read().decode()
    assert TranscodeJob.objects.get(asset=asset, group="document").state == State.DONE


def test_epub_becomes_text_and_cover(tmp_path):
    """An EPUB gives its text and metadata."""
    asset = _run_all(_upload(chinese_epub(tmp_path / "book.epub"), ["document"]))
    assert asset.state == MediaAsset.State.READY, asset.state_error
    assert {"document", "document_text"} <= set(renditions_by_profile(asset=asset))


def test_password_protected_pdf_is_refused(tmp_path):
    """An encrypted PDF fails with the reason an editor can act on."""
    path = tmp_path / "secret.pdf"
    path.write_bytes(encrypted_pdf())
    asset = _run_all(_upload(path, ["document"]))
    assert asset.state == MediaAsset.State.FAILED and "密码" in asset.state_error


def test_captions_become_subtitle_renditions_in_the_master(tmp_path):
    """An SRT attached to the upload becomes a WebVTT subtitle rendition the web master names."""
    clip = make_clip(tmp_path / "talk.mp4", size="320x180", seconds=3)
    asset = _upload(clip, ["ladder"])
    srt = "1\n00:00:00,500 --> 00:00:02,000\n不忘初心\n".encode("gbk")
    caption_attach(asset=asset, file=ContentFile(srt, name="talk.srt"))
    asset = _run_all(asset)
    assert asset.state == MediaAsset.State.READY, asset.state_error
    renditions = renditions_by_profile(asset=asset)
    with default_storage.open(renditions["hls_web"].path) as master:
        assert "TYPE=SUBTITLES" in master.read().decode()
    folder = renditions["captions_zh-Hans"].path.rsplit("/", 1)[0]
    with default_storage.open(f"{folder}/captions.vtt") as vtt:
        assert "不忘初心" in vtt.read().decode()  # GBK in, UTF-8 WebVTT out


def test_public_screens_when_the_item_asks(tmp_path):
    """An item marked for public screens gets landscape, portrait (cropped at its focal point) and rotated
    portrait MP4s, muted, with its captions burned in."""
    clip = make_clip(tmp_path / "screen.mp4", size="320x180", seconds=2)
    with clip.open("rb") as handle:
        asset = media_asset_create(
            file=File(handle, name="screen.mp4"),
            options={"only_groups": ["screens"], "groups": ["screens"], "portrait_fill": "crop", "focal_x": 0.3},
        )
    caption_attach(asset=asset, file=ContentFile("1\n00:00:00,000 --> 00:00:02,000\n灯塔\n".encode(), name="c.srt"))
    asset = _run_all(asset)
    assert asset.state == MediaAsset.State.READY, asset.state_error
    renditions = renditions_by_profile(asset=asset)
    sizes = {name: (r.width, r.height) for name, r in renditions.items()}
    assert sizes == {
        "screen_landscape": (1920, 1080),
        "screen_portrait": (1080, 1920),
        "screen_portrait_rotated": (1920, 1080),
    }
    portrait = renditions["screen_portrait"].meta
    assert portrait["fill"] == "crop" and portrait["focal_x"] == 0.3 and portrait["captions_burned"] is True
    with default_storage.open(renditions["screen_portrait"].path) as stored:  # the screens' players check it
        assert portrait["sha256"] == hashlib.sha256(stored.read()).hexdigest()
