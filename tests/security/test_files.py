"""Stored files by any spelling of their path, Wagtail documents, and "download: none" (issue 11, items 1, 2, 5).

On local disk (the embedded default) ``/media/`` is deny-by-default: only Wagtail's image folders are served
unsigned; every other stored file needs a signature bound to its exact name and to every parameter that changes
the response. A path that changes under percent-decoding or normalisation is refused before anything is decided.
These tests go through the Django test client, through raw HTTP against a live server (the path sent as-is, like
``curl --path-as-is``), and through generated paths (hypothesis).
"""

import http.client
import time
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test.testcases import _MediaFilesHandler
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cms.models import LighthouseDocument, OrgUnit
from cms.services import member_create
from library.models import LibraryItem
from library.site.links import asset_download_url, asset_master_url
from library.site.readers import document_context
from media_pipeline.models import MediaAsset
from media_pipeline.storage import sign_name

from .matrix import COUNTS

pytestmark = pytest.mark.django_db  # a 404 asks Wagtail's redirects table


@pytest.fixture(autouse=True)
def _on_local_disk(local_media):
    """These files live on local disk behind ``/media/``, whatever `make test` configured (S3 links are presigned
    by boto3 and checked by S3 itself: test_s3_links_are_presigned_with_their_disposition)."""


# Files of a unit-only item: its master, a playlist and a segment of its HLS rendition, its captions; an e-book's
# Wagtail document. Each holds a marker, so a test can tell whether its bytes came back.
PROTECTED = {
    "uploads/2026/01/lesson.mp4": b"MASTER-SECRET",
    "renditions/7/9/hls/master.m3u8": b"#EXTM3U PLAYLIST-SECRET",
    "renditions/7/9/hls/360p/seg_00000.m4s": b"SEGMENT-SECRET",
    "captions/2026/01/zh.vtt": b"WEBVTT CAPTION-SECRET",
    "documents/handbook.pdf": b"%PDF-1.4 DOCUMENT-SECRET",
}
PUBLIC = {"original_images/logo.png": b"PUBLIC-IMAGE"}
TARGETS = ["uploads/2026/01/lesson.mp4", "renditions/7/9/hls/master.m3u8", "renditions/7/9/hls/360p/seg_00000.m4s"]


def _store(files: dict[str, bytes]) -> None:
    for name, data in files.items():
        assert default_storage.save(name, ContentFile(data)) == name


@pytest.fixture
def stored():
    """The files on local disk (every test has its own MEDIA_ROOT)."""
    _store({**PROTECTED, **PUBLIC})


@pytest.fixture
def unit_only_item(stored):
    """A video open only to one county's members, whose master and renditions are the files above."""
    county = OrgUnit.add_root(name="邹平市", code="zouping", level="county")
    asset = MediaAsset.objects.create(file=TARGETS[0], original_name="lesson.mp4", kind=MediaAsset.Kind.VIDEO)
    return LibraryItem.objects.create(
        owning_unit=county, kind="video", title="内部微课", access="unit", access_unit=county, media_asset=asset
    )


def _signed_query(name: str) -> str:
    expires, signature = sign_name(name)
    return "?" + urlencode({"e": expires, "s": signature})


def _body(response) -> bytes:
    if response.status_code not in (200, 206):
        return b""
    return b"".join(response.streaming_content) if response.streaming else response.content


def spellings(name: str) -> list[str]:
    """The same file by other spellings of its path: dot-segments, doubled or encoded slashes, backslashes,
    encoded dots, double encoding, NUL and trailing dots, through a public prefix or straight at it."""
    first, rest = name.split("/", 1)
    return [
        f"/media//{name}",
        f"/media/./{name}",
        f"/media/{first}/./{rest}",
        f"/media/{first}//{rest}",
        f"/media/documents/../{name}",
        f"/media/images/../{name}",
        f"/media/original_images/../{name}",
        f"/media/images/x/../../{name}",
        f"/media/%2F{name}",
        f"/media/%2e/{name}",
        f"/media/images/%2e%2e/{name}",
        f"/media/images/.%2e/{name}",
        f"/media/images%2F..%2F{name}",
        f"/media/images/..%2F{name}",
        f"/media/images/%252e%252e/{name}",
        f"/media/images/%5C..%5C{name}",
        f"/media/images/..\\{name}",
        f"/media/{quote(name, safe='')}",
        f"/media/{first}%2F{rest}",
        f"/media/{name}%00",
        f"/media/{name}.",
        f"/media/{name}/",
    ]


# --- Item 1: path tricks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TARGETS)
def test_no_spelling_of_a_protected_path_is_served_unsigned(client, unit_only_item, name):
    """Every other spelling of a unit-only item's master, playlist or segment path is the same 404 as a file
    that does not exist, unsigned and even with the real name's valid signature: nothing is served by a path
    that changes under decoding or normalisation."""
    for raw in spellings(name):
        # The test client decodes before Django sees the path (so does runserver): a spelling that decodes to the
        # signed name itself is refused only where the server passes the raw path on (the RAW_URI test below).
        signed = [_signed_query(name)] if unquote(raw) != f"/media/{name}" else []
        for query in ("", *signed):
            response = client.get(raw + query)
            assert response.status_code == 404, (raw, query)
            assert PROTECTED[name] not in _body(response), raw


@pytest.mark.parametrize("name", [*TARGETS, "captions/2026/01/zh.vtt", "documents/handbook.pdf"])
def test_protected_files_need_a_signature_for_exactly_their_name(client, stored, name):
    """The canonical spelling is served with its own signature only: unsigned, another name's signature, an
    altered signature or an expired one all give 404."""
    assert client.get(f"/media/{name}").status_code == 404
    assert client.get(f"/media/{name}{_signed_query('renditions/7/9/hls/other.m3u8')}").status_code == 404
    assert client.get(f"/media/{name}{_signed_query(name).replace('&s=', '&s=x')}").status_code == 404
    expired, signature = sign_name(name, now=0)
    assert client.get(f"/media/{name}?e={expired}&s={signature}").status_code == 404
    served = client.get(f"/media/{name}{_signed_query(name)}")
    assert served.status_code == 200 and _body(served) == PROTECTED[name]


def test_unknown_folders_are_denied_by_default(client, stored):
    """Only Wagtail's image folders are public: a file in any other folder (a new one too) needs a signature."""
    _store({"exports/members.csv": b"SECRET-EXPORT"})
    assert client.get("/media/exports/members.csv").status_code == 404
    assert client.get(f"/media/exports/members.csv{_signed_query('exports/members.csv')}").status_code == 200
    assert _body(client.get("/media/original_images/logo.png")) == PUBLIC["original_images/logo.png"]


def test_raw_request_uri_must_be_the_canonical_spelling(client, stored):
    """Behind gunicorn (RAW_URI) the undecoded path decides: ``lesson%2Emp4`` decodes to the signed name, but
    a path that changes under percent-decoding is refused even with that name's valid signature."""
    name = TARGETS[0]
    query = _signed_query(name)
    assert client.get(f"/media/{name}{query}", RAW_URI=f"/media/{name}{query}").status_code == 200
    absolute = f"http://testserver/media/{name}{query}"  # an absolute-form request-target
    assert client.get(f"/media/{name}{query}", RAW_URI=absolute).status_code == 200
    assert client.get(f"/media/{name}{query}", REQUEST_URI=f"/media//{name}{query}").status_code == 404  # uwsgi
    for raw in ("/media/uploads/2026/01/lesson%2Emp4", "/media/uploads%2F2026/01/lesson.mp4", f"/media/./{name}"):
        assert client.get(f"/media/{name}{query}", RAW_URI=raw + query).status_code == 404, raw
    # Names outside ASCII travel percent-encoded, as storage.url() writes them; that spelling is the canonical one.
    _store({"uploads/2026/01/党员手册.pdf": b"%PDF-1.4 CHINESE-SECRET"})
    chinese = "uploads/2026/01/党员手册.pdf"
    signed = default_storage.url(chinese)
    assert "%E5%85%9A" in signed
    assert client.get(signed, RAW_URI=signed).status_code == 200
    assert client.get(signed, RAW_URI=signed.replace("%E5%85%9A", "%e5%85%9a")).status_code == 404


@pytest.fixture
def live_media(monkeypatch, transactional_db, django_db_serialized_rollback):
    """Django's live server answers /media/ itself (whole files, no checks): turn that off so our view answers,
    as it does in production. Serialized rollback keeps Wagtail's root page for the tests after this one."""
    monkeypatch.setattr(_MediaFilesHandler, "_should_handle", lambda self, path: False)


def _raw_get(live_server, raw: str) -> tuple[int, bytes]:
    """GET with the path exactly as given: http.client neither normalises nor re-encodes it."""
    address = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("GET", raw)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_path_tricks_over_raw_http(live_server, live_media, stored):
    """Over real HTTP (``curl --path-as-is``), no spelling of a master, playlist or segment path returns its
    bytes; the signed canonical URL does."""
    for name in TARGETS:
        for raw in spellings(name):
            if any(ord(char) <= 32 for char in raw) or "%00" in raw:
                continue  # not sendable as an HTTP request-target; the test client covers NUL
            status, body = _raw_get(live_server, raw)
            assert status == 404 and PROTECTED[name] not in body, (raw, status)
        status, body = _raw_get(live_server, f"/media/{name}{_signed_query(name)}")
        assert (status, body) == (200, PROTECTED[name])


# --- Item 2: Wagtail documents ---------------------------------------------------------------------------------


@pytest.fixture
def county():
    return OrgUnit.add_root(name="邹平市", code="zouping", level="county")


def _document(name: str, data: bytes) -> LighthouseDocument:
    return LighthouseDocument.objects.create(title=name, file=ContentFile(data, name=name))


def test_document_files_have_no_stable_public_url(client, county):
    """An e-book's document under /media/documents/ is a 404 without a signature, for anyone; the guarded
    /documents/<id>/<name> route stays the way in (login first for anonymous, 404 for a member without the
    download right)."""
    document = _document("handbook.pdf", b"%PDF-1.4 DOCUMENT-SECRET")
    LibraryItem.objects.create(
        owning_unit=county, kind="ebook", title="党员手册", access="members", download="none", document=document
    )
    assert document.file.name.startswith("documents/")
    assert client.get(f"/media/{document.file.name}").status_code == 404
    member = member_create(username="dangyuan", password="pw-123456", real_name="党员甲", org_unit=county)
    client.force_login(member)
    assert client.get(f"/media/{document.file.name}").status_code == 404
    assert client.get(document.url).status_code == 404  # may read, may not download


def test_documents_are_streamed_by_the_guarded_view_never_redirected(client, county, settings):
    """Wagtail is told to serve documents itself: it never redirects to the storage URL (on S3 that would be a
    presigned link anyone could pass on), and the hook decides before a byte goes out."""
    assert settings.WAGTAILDOCS_SERVE_METHOD == "serve_view"
    document = _document("guide.pdf", b"%PDF-1.4 PUBLIC-GUIDE")
    LibraryItem.objects.create(owning_unit=county, kind="ebook", title="指南", download="readers", document=document)
    response = client.get(document.url)
    assert response.status_code == 200 and _body(response) == b"%PDF-1.4 PUBLIC-GUIDE"


# --- Item 5: "download: none" --------------------------------------------------------------------------------


@pytest.fixture
def ebook(county):
    """A public PDF e-book whose download setting is "none" (reading only)."""
    name = default_storage.save("uploads/2026/01/book.pdf", ContentFile(b"%PDF-1.4 BOOK-BYTES"))
    asset = MediaAsset.objects.create(file=name, original_name="book.pdf", kind=MediaAsset.Kind.DOCUMENT)
    return LibraryItem.objects.create(owning_unit=county, kind="ebook", title="学习读本", media_asset=asset)


def test_read_link_gives_no_master_without_the_download_right(client, ebook, county):
    """A reader without the download right ("download: none") never gets the master's bytes: the read link is 404
    with or without parameters, for visitors and members alike, and what the item page embeds has no URL of the
    master (the page reader gets the pipeline's page images instead; tests/library/test_readers.py renders it).
    Before the fix the read link redirected anyone who may read to the signed master."""
    member = member_create(username="reader", password="pw-123456", real_name="读者", org_unit=county)
    for who in (None, member):
        if who is not None:
            client.force_login(who)
        for query in ("", "?dl=book.pdf", "?response-content-disposition=attachment", "?download=1"):
            response = client.get(f"/library-files/items/{ebook.pk}/read/{query}")
            assert response.status_code == 404 and b"BOOK-BYTES" not in _body(response), query
        reader = document_context(item=ebook, user=who or AnonymousUser())  # what the item page embeds
        assert reader["source"] == "pages" and reader["url"] == "" and reader["read_url"] == ""


def test_read_link_is_inline_private_and_short_lived(client, ebook):
    """For who may download, the read link serves the bytes the reader needs (with ranges), inline, never stored by
    caches, for minutes rather than an hour."""
    LibraryItem.objects.filter(pk=ebook.pk).update(download="readers")
    response = client.get(f"/library-files/items/{ebook.pk}/read/")
    assert response.status_code == 302
    location = response["Location"]
    assert int(parse_qs(urlsplit(location).query)["e"][0]) - time.time() <= 30 * 60
    served = client.get(location)
    assert served.status_code == 200 and served["Content-Disposition"].startswith("inline")
    assert "no-store" in served["Cache-Control"] and "private" in served["Cache-Control"]
    ranged = client.get(location, HTTP_RANGE="bytes=0-4")
    assert ranged.status_code == 206 and _body(ranged) == b"%PDF-"
    assert ranged["Content-Disposition"].startswith("inline") and "no-store" in ranged["Cache-Control"]


def test_unsigned_parameters_never_turn_a_read_link_into_a_download(client, ebook):
    """``dl=`` or a Content-Disposition parameter added to a signed read link is not obeyed: the link is
    refused (altered) or served inline, never as an attachment."""
    LibraryItem.objects.filter(pk=ebook.pk).update(download="readers")
    location = client.get(f"/library-files/items/{ebook.pk}/read/")["Location"]
    for extra in ("&dl=book.pdf", "&response-content-disposition=attachment", "&response-cache-control=public"):
        response = client.get(location + extra)
        assert "attachment" not in response.get("Content-Disposition", ""), extra
        assert response.status_code == 404 or "no-store" in response["Cache-Control"], extra
    stripped = location.split("&response-", 1)[0]  # the reader's parameters dropped: no longer what was signed
    assert client.get(stripped + "&dl=book.pdf").status_code == 404


def test_download_link_signs_its_file_name(client, ebook):
    """A download link carries the attachment disposition and its file name inside the signature: changing or
    dropping them gives 404, as does the item's download route while the item allows no downloads."""
    assert client.get(f"/library-files/items/{ebook.pk}/download/").status_code == 404
    LibraryItem.objects.filter(pk=ebook.pk).update(download="readers")
    location = client.get(f"/library-files/items/{ebook.pk}/download/")["Location"]
    served = client.get(location)
    assert served.status_code == 200 and served["Content-Disposition"].startswith("attachment")
    path, query = location.split("?", 1)
    params = {key: values[0] for key, values in parse_qs(query).items()}
    disposition = params["response-content-disposition"]
    assert "filename" in disposition
    altered = {**params, "response-content-disposition": 'attachment; filename="x.html"'}
    assert client.get(f"{path}?{urlencode(altered)}").status_code == 404
    dropped = {key: value for key, value in params.items() if key != "response-content-disposition"}
    assert client.get(f"{path}?{urlencode(dropped)}").status_code == 404
    rendition = f"/media/renditions/7/9/hls/360p/seg_00000.m4s{_signed_query('renditions/7/9/hls/360p/seg_00000.m4s')}"
    assert client.get(rendition + "&" + urlencode({"response-content-disposition": disposition})).status_code == 404


def test_s3_links_are_presigned_with_their_disposition(settings):
    """On S3 the presigned URL covers the response parameters: the read link asks for inline and no-store,
    the download link for an attachment with its name (boto3 signs them; nothing is sent to S3 here)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "media_pipeline.storage.MediaS3Storage",
            "OPTIONS": {
                "bucket_name": "lighthouse-test",
                "endpoint_url": "http://127.0.0.1:9",
                "access_key": "test",
                "secret_key": "test-secret",
                "region_name": "us-east-1",
                "querystring_auth": True,
            },
        },
    }
    asset = MediaAsset(file="uploads/2026/01/book.pdf", original_name="book.pdf")
    read = parse_qs(urlsplit(asset_master_url(asset)).query)
    assert read["response-content-disposition"] == ["inline"]
    assert "no-store" in read["response-cache-control"][0]
    lifetime = int(read["X-Amz-Expires"][0]) if "X-Amz-Expires" in read else int(read["Expires"][0]) - time.time()
    assert lifetime <= 30 * 60
    download = parse_qs(urlsplit(asset_download_url(asset, filename="学习读本.pdf")).query)
    assert download["response-content-disposition"][0].startswith("attachment")
    assert {"X-Amz-Signature", "Signature"} & set(download)  # SigV4 or SigV2 query authentication


# --- Generated paths ------------------------------------------------------------------------------------------

REAL_SEGMENTS = sorted({part for name in [*PROTECTED, *PUBLIC] for part in name.split("/")} | {"images", "work"})
TRICKS = [
    "",
    ".",
    "..",
    "...",
    "%2e",
    "%2E",
    "%2e%2e",
    ".%2e",
    "%2e.",
    "%252e%252e",
    "%2F",
    "%2f",
    "%5C",
    "\\",
    "%00",
    "\x00",
    "\x01",
    "\x7f",
    "\u202e",
    "\u200b",
    "%E2%80%AE",
    "%",
    "%zz",
    "%c0%ae",
    "%c0%af",
    " ",
    "~",
    "UPLOADS",
    "灯塔",
    "%E7%81%AF",
    "\ufeff",
    "..\\",
    "./",
    ".;",
    ";",
    "%3B",
]
SEPARATORS = ["/", "/", "/", "//", "/./", "/../", "%2F", "%2f", "\\", "%5C", "%252F"]
segment = st.one_of(st.sampled_from(REAL_SEGMENTS), st.sampled_from(TRICKS), st.text(max_size=4))


@st.composite
def media_paths(draw) -> str:
    """A path under /media/: a real name with tricks inserted, or pieces of real names and tricks."""
    if draw(st.booleans()):
        parts = draw(st.sampled_from(sorted(PROTECTED))).split("/")
        at = draw(st.integers(0, len(parts)))
        parts[at:at] = draw(st.lists(segment, max_size=3))
    else:
        parts = draw(st.lists(segment, min_size=1, max_size=7))
    path = parts[0]
    for part in parts[1:]:
        path += draw(st.sampled_from(SEPARATORS)) + part
    return "/media/" + draw(st.sampled_from(["", "", "/", "./", "../", "%2F"])) + path


def _safe_for_client(path: str) -> str:
    # "?" and "#" would start a query or fragment in the test client: send them encoded, as a client must.
    return path.replace("?", "%3F").replace("#", "%23")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=media_paths(), signed_for=st.sampled_from([None, *sorted(PROTECTED)]))
@example(path="/media/images/../uploads/2026/01/lesson.mp4", signed_for=None)
@example(path="/media//renditions/7/9/hls/master.m3u8", signed_for="renditions/7/9/hls/master.m3u8")
@example(path="/media/documents/handbook.pdf", signed_for=None)
@example(path="/media/renditions/7/9/hls/360p%2Fseg_00000.m4s", signed_for="renditions/7/9/hls/360p/seg_00000.m4s")
def test_generated_media_paths_never_500_and_never_leak(client, stored, path, signed_for):
    """Whatever path and signature come in: never a 500 (an exception fails the test client), and a protected
    file's bytes only for its exact canonical path with a valid signature for exactly that name."""
    path = _safe_for_client(path)
    query = _signed_query(signed_for) if signed_for else ""
    response = client.get(path + query)
    COUNTS["media path fuzz requests"] += 1
    assert response.status_code in (200, 206, 304, 404), response.status_code
    body = _body(response)
    # The server sees the path percent-decoded, as every WSGI server passes PATH_INFO (PEP 3333): "360p%2Fseg"
    # is the canonical name spelled with an escaped slash, which its signature holder may fetch either way.
    seen = unquote(path)
    for name, data in PROTECTED.items():
        if data in body:
            assert seen == f"/media/{name}" and signed_for == name, (path, signed_for)
