"""Playlist delivery: stored relative URIs rewritten to our views and storage URLs; job status JSON."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import m3u8
import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from media_pipeline.models import MediaAsset, Rendition, TranscodeJob
from media_pipeline.selectors import playback_token, playback_token_query, playback_token_valid

pytestmark = pytest.mark.django_db

MASTER = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS="avc1.64001e,mp4a.40.2"\n360p/index.m3u8\n'
VARIANT = '#EXTM3U\n#EXT-X-MAP:URI="init_0.mp4"\n#EXTINF:4.000000,\nseg_00000.m4s\n#EXT-X-ENDLIST\n'


def _unsigned(text: str) -> str:
    """A playlist line (or storage URL) without its signatures: the URLs' expiry is the playlist's length plus a
    margin, to the second on S3 (`test_segment_urls_live_for_the_playlist_plus_the_margin` checks it), so lines
    are compared by what they point at."""
    return re.sub(r"\?[^\"\s]*", "", text)


def _unsigned_lines(response) -> list[str]:
    return [_unsigned(line) for line in response.content.decode().splitlines()]


@pytest.fixture
def rendition():
    asset = MediaAsset.objects.create(file="uploads/x.mp4", original_name="x.mp4")
    job = TranscodeJob.objects.create(asset=asset, state=TranscodeJob.State.DONE, progress=1.0)
    prefix = f"renditions/{asset.pk}/{job.pk}/hls"
    default_storage.save(f"{prefix}/master.m3u8", ContentFile(MASTER.encode()))
    default_storage.save(f"{prefix}/360p/index.m3u8", ContentFile(VARIANT.encode()))
    return Rendition.objects.create(asset=asset, job=job, profile="hls_web", kind="hls", path=f"{prefix}/master.m3u8")


def test_master_points_variants_at_our_view(client, rendition):
    """The master's variant URI becomes our variant view URL; served uncached as an HLS playlist."""
    response = client.get(reverse("media_pipeline:hls_master", args=[rendition.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.apple.mpegurl"
    assert "no-store" in response["Cache-Control"]
    variant_url = reverse("media_pipeline:hls_variant", args=[rendition.pk, "360p"])
    assert response.content.decode().splitlines()[-1] == variant_url


def test_variant_points_segments_and_init_at_storage(client, rendition, settings):
    """Segment and EXT-X-MAP URIs become default_storage.url(...) (/media/… locally, presigned on S3)."""
    response = client.get(reverse("media_pipeline:hls_variant", args=[rendition.pk, "360p"]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    base = rendition.path.rsplit("/", 1)[0] + "/360p"
    lines = _unsigned_lines(response)
    assert f'#EXT-X-MAP:URI="{_unsigned(default_storage.url(base + "/init_0.mp4"))}"' in lines
    assert _unsigned(default_storage.url(base + "/seg_00000.m4s")) in lines


def test_segment_urls_live_for_the_playlist_plus_the_margin(client, rendition, settings):
    """A lecture played through never outlives its segment URLs, and they do expire soon after (issue 16):
    lifetime = the playlist's duration (4 s here) + MEDIA_PLAYBACK_URL_MARGIN_SECONDS, rounded up by at most itself."""
    settings.MEDIA_PLAYBACK_URL_MARGIN_SECONDS = 6
    before = time.time()
    text = client.get(reverse("media_pipeline:hls_variant", args=[rendition.pk, "360p"])).content.decode()
    queries = [parse_qs(urlsplit(line).query) for line in text.splitlines() if not line.startswith("#")]
    expiries = {int((query.get("e") or query["Expires"])[0]) for query in queries}  # local disk, or S3 presigned
    assert len(expiries) == 1
    assert int(before) + 10 <= expiries.pop() <= time.time() + 20  # S3 counts whole seconds


AUDIO_MASTER = (
    '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360\n360p/index.m3u8\n'
    '#EXT-X-STREAM-INF:BANDWIDTH=70000,CODECS="mp4a.40.2"\naudio/index.m3u8\n'
    '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,CODECS="avc1.64001e",URI="360p/iframes.m3u8"\n'
)


def test_audio_only_master_for_the_data_saving_choice(client, rendition):
    """?rungs=audio (the player's 仅声音（省流量）) gives the master with its audio-only variant alone, still through
    our access-checked views; a master without one answers 404."""
    url = reverse("media_pipeline:hls_master", args=[rendition.pk])
    assert client.get(url + "?rungs=audio").status_code == 404  # the fixture's master has video only
    default_storage.delete(rendition.path)
    default_storage.save(rendition.path, ContentFile(AUDIO_MASTER.encode()))
    playlist = m3u8.loads(client.get(url + "?rungs=audio").content.decode())
    assert [variant.uri for variant in playlist.playlists] == [
        reverse("media_pipeline:hls_variant", args=[rendition.pk, "audio"])
    ]
    assert not playlist.iframe_playlists
    assert len(m3u8.loads(client.get(url).content.decode()).playlists) == 2  # the whole ladder otherwise


def test_unknown_variant_and_access_check_give_404(client, rendition, settings):
    """A variant that is not stored is 404; so is any rendition the access seam refuses."""
    assert client.get(reverse("media_pipeline:hls_variant", args=[rendition.pk, "9999p"])).status_code == 404
    settings.MEDIA_PLAYBACK_ACCESS_CHECK = "tests.media_pipeline.test_views.deny_all"
    assert client.get(reverse("media_pipeline:hls_master", args=[rendition.pk])).status_code == 404


def deny_all(*, user, asset):
    return False


MASTER_WITH_EXTRAS = (
    "#EXTM3U\n"
    '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="中文",LANGUAGE="zh-Hans",DEFAULT=YES,AUTOSELECT=YES,'
    'URI="../captions/zh-Hans/index.m3u8"\n'
    '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="逃逸",LANGUAGE="xx",URI="../../../9/captions/xx/index.m3u8"\n'
    '#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS="avc1.64001e,mp4a.40.2",SUBTITLES="subs"\n360p/index.m3u8\n'
    '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=300000,CODECS="avc1.64001e",RESOLUTION=640x360,URI="360p/iframes.m3u8"\n'
)
IFRAMES = (
    '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-I-FRAMES-ONLY\n#EXT-X-MAP:URI="init_0.mp4"\n'
    "#EXTINF:2.000000,\n#EXT-X-BYTERANGE:5934@128\nseg_00000.m4s\n"
    "#EXTINF:2.000000,\n#EXT-X-BYTERANGE:36186@128\nseg_00000.m4s\n#EXT-X-ENDLIST\n"
)
SUBTITLE_PLAYLIST = "#EXTM3U\n#EXTINF:6.000000,\nsub_00000.vtt\n#EXTINF:2.000000,\nsub_00001.vtt\n#EXT-X-ENDLIST\n"


def _store(name: str, text: str) -> None:
    # Test databases reuse ids, so a file from an earlier test may sit at the same name: replace it.
    if default_storage.exists(name):
        default_storage.delete(name)
    assert default_storage.save(name, ContentFile(text.encode())) == name


@pytest.fixture
def rendition_with_extras(rendition):
    """The same HLS rendition with a subtitle track and an I-frame playlist stored beside it."""
    prefix = rendition.path.rsplit("/", 2)[0]
    _store(rendition.path, MASTER_WITH_EXTRAS)
    _store(f"{prefix}/hls/360p/iframes.m3u8", IFRAMES)
    _store(f"{prefix}/captions/zh-Hans/index.m3u8", SUBTITLE_PLAYLIST)
    return rendition


def test_master_points_subtitles_and_iframes_at_our_views(client, rendition_with_extras):
    """EXT-X-MEDIA and EXT-X-I-FRAME-STREAM-INF URIs become our subs/iframes view URLs."""
    pk = rendition_with_extras.pk
    text = client.get(reverse("media_pipeline:hls_master", args=[pk])).content.decode()
    master = m3u8.loads(text)
    assert master.media[0].uri == reverse("media_pipeline:hls_subtitles", args=[pk, "zh-Hans"])
    assert master.media[0].uri.endswith(f"hls/{pk}/subs/zh-Hans.m3u8")
    assert master.iframe_playlists[0].uri == reverse("media_pipeline:hls_iframes", args=[pk, "360p"])
    assert "../" not in text  # no stored relative URI reaches the player


def test_iframe_playlist_keeps_byte_ranges_and_points_at_storage(client, rendition_with_extras):
    """Byte ranges stay; the segment (named twice) and the init map become storage URLs; never cached."""
    pk = rendition_with_extras.pk
    response = client.get(reverse("media_pipeline:hls_iframes", args=[pk, "360p"]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "application/vnd.apple.mpegurl"
    base = rendition_with_extras.path.rsplit("/", 1)[0] + "/360p"
    lines = _unsigned_lines(response)
    assert lines.count(_unsigned(default_storage.url(base + "/seg_00000.m4s"))) == 2
    assert "#EXT-X-BYTERANGE:5934@128" in lines and "#EXT-X-BYTERANGE:36186@128" in lines
    assert f'#EXT-X-MAP:URI="{_unsigned(default_storage.url(base + "/init_0.mp4"))}"' in lines


TV_MASTER = (
    '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=5000000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1920x1080\n'
    "1080p/index.m3u8\n"
    '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=900000,CODECS="avc1.640028",RESOLUTION=1920x1080,URI="1080p/iframes.m3u8"\n'
)
TV_IFRAMES = (
    '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-I-FRAMES-ONLY\n#EXT-X-MAP:URI="iframes.mp4",BYTERANGE="805@0"\n'
    "#EXTINF:1.000000,\n#EXT-X-BYTERANGE:41000@805\niframes.mp4\n"
    "#EXTINF:1.000000,\n#EXT-X-BYTERANGE:39000@41805\niframes.mp4\n#EXT-X-ENDLIST\n"
)


def test_tv_hls_iframe_playlist_is_delivered_through_the_same_checked_views(client, rendition, settings):
    """The TV edition's HLS (its own rendition, master under tv_1080p/hls/) names its I-frame playlist through
    our view; the playlist keeps the init map's and the entries' byte ranges on the storage URL of iframes.mp4;
    a refused user gets 404 for both."""
    prefix = rendition.path.rsplit("/", 2)[0] + "/tv_1080p/hls"
    _store(f"{prefix}/master.m3u8", TV_MASTER)
    _store(f"{prefix}/1080p/iframes.m3u8", TV_IFRAMES)
    tv = Rendition.objects.create(
        asset=rendition.asset, job=rendition.job, profile="tv_1080p_hls", kind="hls", path=f"{prefix}/master.m3u8"
    )
    master = m3u8.loads(client.get(reverse("media_pipeline:hls_master", args=[tv.pk])).content.decode())
    iframe_url = reverse("media_pipeline:hls_iframes", args=[tv.pk, "1080p"])
    assert master.iframe_playlists[0].uri == iframe_url
    response = client.get(iframe_url)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    lines = _unsigned_lines(response)
    media_url = _unsigned(default_storage.url(f"{prefix}/1080p/iframes.mp4"))
    assert f'#EXT-X-MAP:URI="{media_url}",BYTERANGE="805@0"' in lines
    assert lines.count(media_url) == 2 and "#EXT-X-BYTERANGE:39000@41805" in lines
    settings.MEDIA_PLAYBACK_ACCESS_CHECK = "tests.media_pipeline.test_views.deny_all"
    assert client.get(iframe_url).status_code == 404
    assert client.get(reverse("media_pipeline:hls_master", args=[tv.pk])).status_code == 404


def test_subtitle_playlist_points_segments_at_storage(client, rendition_with_extras):
    """The subtitle playlist the master names is served with its WebVTT segments at storage URLs."""
    pk = rendition_with_extras.pk
    response = client.get(reverse("media_pipeline:hls_subtitles", args=[pk, "zh-Hans"]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    base = rendition_with_extras.path.rsplit("/", 2)[0] + "/captions/zh-Hans"
    assert _unsigned(default_storage.url(base + "/sub_00001.vtt")) in _unsigned_lines(response)


def test_subtitles_outside_the_master_or_the_job_are_404(client, rendition_with_extras, settings):
    """A language the master does not name, a URI climbing out of the job's folder, or a refused user → 404."""
    pk = rendition_with_extras.pk
    assert client.get(reverse("media_pipeline:hls_subtitles", args=[pk, "fr"])).status_code == 404
    assert client.get(reverse("media_pipeline:hls_subtitles", args=[pk, "xx"])).status_code == 404
    assert client.get(reverse("media_pipeline:hls_iframes", args=[pk, "720p"])).status_code == 404
    settings.MEDIA_PLAYBACK_ACCESS_CHECK = "tests.media_pipeline.test_views.deny_all"
    assert client.get(reverse("media_pipeline:hls_subtitles", args=[pk, "zh-Hans"])).status_code == 404
    assert client.get(reverse("media_pipeline:hls_iframes", args=[pk, "360p"])).status_code == 404


def test_segment_names_with_paths_are_refused(client, rendition_with_extras):
    """A stored playlist naming ``../`` is not followed: the playlist is refused."""
    prefix = rendition_with_extras.path.rsplit("/", 2)[0]
    _store(f"{prefix}/captions/zh-Hans/index.m3u8", "#EXTM3U\n#EXTINF:6,\n../../secret.vtt\n")
    url = reverse("media_pipeline:hls_subtitles", args=[rendition_with_extras.pk, "zh-Hans"])
    assert client.get(url).status_code == 404


def test_job_status_json_for_admins_only(client, rendition):
    """The admin page polls state, progress and error; anonymous users get 403."""
    url = reverse("media_pipeline:job_status", args=[rendition.job_id])
    assert client.get(url).status_code == 403
    admin = get_user_model().objects.create_superuser(username="admin", email="a@example.com", password="pw")
    client.force_login(admin)
    data = client.get(url).json()
    assert data["state"] == "done" and data["progress"] == 1.0 and data["error"] == ""


def test_admin_lists_transcode_jobs(client, rendition):
    """The read-only Wagtail listing 转码任务 shows jobs and offers no add button."""
    admin = get_user_model().objects.create_superuser(username="admin", email="a@example.com", password="pw")
    client.force_login(admin)
    response = client.get(reverse("transcode_jobs:index"))
    assert response.status_code == 200
    assert "x.mp4" in response.content.decode()
    assert reverse("transcode_jobs:index") + "new/" not in response.content.decode()


def test_playback_token_stands_in_for_the_session(client, rendition_with_extras, settings):
    """With the access seam refusing the (anonymous) user, a valid token still plays the whole HLS tree: the master
    hands the token on to its variant, subtitle and I-frame playlists, and each of those opens with it."""
    settings.MEDIA_PLAYBACK_ACCESS_CHECK = "tests.media_pipeline.test_views.deny_all"
    pk = rendition_with_extras.pk
    query = playback_token_query(asset_id=rendition_with_extras.asset_id)
    response = client.get(f"{reverse('media_pipeline:hls_master', args=[pk])}?{query}")
    assert response.status_code == 200
    master = m3u8.loads(response.content.decode())
    nested = [master.playlists[0].uri, master.media[0].uri, master.iframe_playlists[0].uri]
    assert nested[0] == f"{reverse('media_pipeline:hls_variant', args=[pk, '360p'])}?{query}"
    for url in nested:
        assert url.endswith(f"?{query}") and client.get(url).status_code == 200, url
        assert client.get(url.split("?")[0]).status_code == 404


def test_tampered_expired_or_foreign_tokens_are_404(client, rendition_with_extras, settings):
    """A changed signature, a changed expiry, a token past its expiry or one for another asset opens nothing."""
    settings.MEDIA_PLAYBACK_ACCESS_CHECK = "tests.media_pipeline.test_views.deny_all"
    asset_id = rendition_with_extras.asset_id
    url = reverse("media_pipeline:hls_master", args=[rendition_with_extras.pk])
    token = playback_token(asset_id=asset_id)
    assert client.get(url, token).status_code == 200
    assert client.get(url, token | {"t": token["t"][:-1] + ("A" if token["t"][-1] != "A" else "B")}).status_code == 404
    assert client.get(url, token | {"e": str(int(token["e"]) + 600)}).status_code == 404
    assert client.get(url, playback_token(asset_id=asset_id, now=time.time() - 3 * 3600)).status_code == 404
    assert client.get(url, playback_token(asset_id=asset_id + 1)).status_code == 404
    assert not playback_token_valid(asset_id=asset_id, expires="soon", token=token["t"])


@pytest.mark.parametrize("rule", ["", None], ids=["empty", "missing"])
def test_access_seams_fail_closed_without_a_rule(settings, client, local_media, rule):
    """A deployment whose settings lost (or emptied) MEDIA_PLAYBACK_ACCESS_CHECK or MEDIA_IMAGE_PUBLIC_CHECK refuses:
    nothing plays to anyone (it used to play everything), and local disk serves no image file without a signature
    (it used to serve every one); a signed link to the image still works."""
    from django.contrib.auth.models import AnonymousUser

    from media_pipeline.delivery.access import image_file_public, playback_allowed
    from media_pipeline.storage import signed_url

    for setting in ("MEDIA_PLAYBACK_ACCESS_CHECK", "MEDIA_IMAGE_PUBLIC_CHECK"):
        if rule is None:
            delattr(settings, setting)
        else:
            setattr(settings, setting, rule)
    assert playback_allowed(user=AnonymousUser(), asset=MediaAsset()) is False
    name = default_storage.save("original_images/logo.png", ContentFile(b"IMAGE"))
    assert image_file_public(name=name) is False
    assert client.get(default_storage.url(name)).status_code == 404
    assert b"".join(client.get(signed_url(default_storage, name)).streaming_content) == b"IMAGE"
