"""What storage is told about rendition files: content types and cache lifetimes (S3 object headers)."""

import os
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages

from media_pipeline.storage import IMMUTABLE, SHORT, MediaS3Storage, object_parameters, sign_name, signature_valid


def test_playlists_are_short_lived_and_segments_immutable():
    """Playlists: the HLS MIME type, cached a minute; segments and files under renditions/: a year, immutable."""
    assert object_parameters("renditions/1/2/hls_web/master.m3u8") == {
        "ContentType": "application/vnd.apple.mpegurl",
        "CacheControl": SHORT,
    }
    assert object_parameters("renditions/1/2/hls_web/720p/seg_00001.m4s") == {
        "ContentType": "video/iso.segment",
        "CacheControl": IMMUTABLE,
    }
    assert object_parameters("renditions/1/2/captions/zh-Hans/sub_00000.vtt")["ContentType"].startswith("text/vtt")
    assert object_parameters("renditions/1/2/audio_mp3/audio_mp3.mp3")["ContentType"] == "audio/mpeg"


def test_a_bucket_folder_keeps_the_rules():
    """With S3_LOCATION (a folder of the bucket) the key S3 is given starts with the folder; renditions are still
    renditions: the same content type and cache lifetime."""
    storage = MediaS3Storage(bucket_name="b", location="site-b", access_key="k", secret_key="s")
    params = storage.get_object_parameters("site-b/renditions/1/2/hls_web/master.m3u8")
    assert (params["ContentType"], params["CacheControl"]) == ("application/vnd.apple.mpegurl", SHORT)
    assert "CacheControl" not in storage.get_object_parameters("site-b/uploads/2026/11/abc.mp4")


def test_uploads_are_not_marked_cacheable():
    """Masters are private originals: a content type, no public cache lifetime."""
    assert "CacheControl" not in object_parameters("uploads/2026/11/abc.mp4")


@pytest.mark.services
@pytest.mark.skipif(not os.environ.get("S3_BUCKET"), reason="needs the S3 server `make test` starts")
def test_s3_objects_carry_the_headers():
    """On the real S3 API the stored objects have the type and Cache-Control set (multipart or not)."""
    assert isinstance(storages["default"], MediaS3Storage)
    prefix = f"renditions/test-{uuid.uuid4().hex[:8]}"
    playlist = default_storage.save(f"{prefix}/master.m3u8", ContentFile(b"#EXTM3U\n"))
    segment = default_storage.save(f"{prefix}/seg_00000.m4s", ContentFile(b"\0" * (9 * 1024 * 1024)))
    try:
        head = default_storage.connection.meta.client.head_object
        bucket = default_storage.bucket_name
        key = default_storage._normalize_name  # the name inside S3_LOCATION's folder, as django-storages keys it
        playlist_head = head(Bucket=bucket, Key=key(playlist))
        segment_head = head(Bucket=bucket, Key=key(segment))
        assert (playlist_head["ContentType"], playlist_head["CacheControl"]) == ("application/vnd.apple.mpegurl", SHORT)
        assert (segment_head["ContentType"], segment_head["CacheControl"]) == ("video/iso.segment", IMMUTABLE)
        assert "-" in segment_head["ETag"]  # 9 MiB went up as a multipart upload (ETag "<md5>-<parts>")
    finally:
        default_storage.delete(playlist)
        default_storage.delete(segment)


@pytest.mark.django_db
def test_local_rendition_urls_are_signed_and_checked(client, local_media):
    """On local disk a rendition is served only through its signed URL; unsigned, tampered or expired
    links get 404, and the response carries the right type and a private cache lifetime."""
    name = default_storage.save("renditions/1/2/hls_web/360p/seg_00000.m4s", ContentFile(b"segment"))
    url = default_storage.url(name)
    assert "?e=" in url and "&s=" in url
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"segment"
    assert response["Content-Type"] == "video/iso.segment" and response["Cache-Control"].startswith("private")
    assert client.get(f"/media/{name}").status_code == 404
    assert client.get(url.replace("&s=", "&s=x")).status_code == 404
    other = default_storage.save("renditions/1/3/master.m3u8", ContentFile(b"#EXTM3U"))
    assert client.get(url.replace(name, other)).status_code == 404  # a signature is for one name only


def test_expired_signature_is_refused():
    """A signature stops working after its expiry."""
    expires, signature = sign_name("renditions/1/2/x.mp4", now=0)
    assert not signature_valid("renditions/1/2/x.mp4", str(expires), signature)
    expires, signature = sign_name("renditions/1/2/x.mp4")
    assert signature_valid("renditions/1/2/x.mp4", str(expires), signature)


@pytest.mark.django_db
def test_public_media_needs_no_signature(client, local_media):
    """Wagtail's images keep plain URLs; its documents do not (they are served by /documents/<id>/ after the
    library's check, tests/security/test_files.py)."""
    name = default_storage.save("original_images/logo.png", ContentFile(b"\x89PNG"))
    assert "?" not in default_storage.url(name)
    assert client.get(f"/media/{name}").status_code == 200
    document = default_storage.save("documents/handbook.pdf", ContentFile(b"%PDF-1.4"))
    assert "?e=" in default_storage.url(document)
    assert client.get(f"/media/{document}").status_code == 404


@pytest.mark.django_db
def test_local_media_answers_byte_ranges(client, local_media):
    """Players seek with Range: a signed local file answers 206 with the asked bytes, 416 past the end."""
    data = bytes(range(256)) * 4
    name = default_storage.save("renditions/1/2/tv_1080p/tv_1080p.mp4", ContentFile(data))
    url = default_storage.url(name)
    whole = client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert b"".join(part.streaming_content) == data[100:200] and part["Content-Type"] == "video/mp4"
    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == data[-10:]
    assert client.get(url, HTTP_RANGE=f"bytes={len(data)}-").status_code == 416
    assert client.get(url, HTTP_RANGE="bytes=0-1,4-5").status_code == 200  # several ranges: the whole file


def test_range_header_parsing():
    """Open-ended, suffix and clipped ranges; empty or unsatisfiable ones are refused."""
    from media_pipeline.delivery.ranges import parse_range

    assert parse_range("bytes=0-", 10) == (0, 9)
    assert parse_range("bytes=5-100", 10) == (5, 9)
    assert parse_range("bytes=-3", 10) == (7, 9)
    assert parse_range("bytes=10-", 10) is None and parse_range("bytes=-", 10) is None
    assert parse_range("bytes=0-1,4-5", 10) is None
