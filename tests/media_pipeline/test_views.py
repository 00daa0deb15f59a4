"""Playlist delivery: stored relative URIs rewritten to our views and storage URLs; job status JSON."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from media_pipeline.models import MediaAsset, Rendition, TranscodeJob

pytestmark = pytest.mark.django_db

MASTER = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS="avc1.64001e,mp4a.40.2"\n360p/index.m3u8\n'
VARIANT = '#EXTM3U\n#EXT-X-MAP:URI="init_0.mp4"\n#EXTINF:4.000000,\nseg_00000.m4s\n#EXT-X-ENDLIST\n'


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


def test_variant_points_segments_and_init_at_storage(client, rendition):
    """Segment and EXT-X-MAP URIs become default_storage.url(...) (/media/… locally, presigned on S3)."""
    response = client.get(reverse("media_pipeline:hls_variant", args=[rendition.pk, "360p"]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    base = rendition.path.rsplit("/", 1)[0] + "/360p"
    text = response.content.decode()
    assert f'#EXT-X-MAP:URI="{default_storage.url(base + "/init_0.mp4")}"' in text
    assert default_storage.url(base + "/seg_00000.m4s") in text.splitlines()


def test_unknown_variant_and_access_check_give_404(client, rendition, settings):
    """A variant that is not stored is 404; so is any rendition the access seam refuses."""
    assert client.get(reverse("media_pipeline:hls_variant", args=[rendition.pk, "9999p"])).status_code == 404
    settings.MEDIA_PLAYBACK_ACCESS_CHECK = "tests.media_pipeline.test_views.deny_all"
    assert client.get(reverse("media_pipeline:hls_master", args=[rendition.pk])).status_code == 404


def deny_all(*, user, asset):
    return False


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
