"""Static files as production serves them: collectstatic with the hashed, compressed storage, then whitenoise.

The rest of the suite renders pages with plain static names (cms/settings/test.py) so it needs no collectstatic;
this module runs the real one once, into its own folder, and proves what a phone on a weak network gets.
"""

import gzip
import re
from pathlib import Path

import brotli
import pytest
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import Client, override_settings

ROOT = Path(settings.BASE_DIR)
PRODUCTION_STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "cms.project.static_files.StaticStorage"}}
STATIC_TAG = re.compile(r"""{%\s*static\s+['"]([^'"]+)['"]""")
YEAR_OR_MORE = re.compile(r"max-age=(\d+)")


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """collectstatic into a fresh folder with the production storage, in force for the module's tests."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=root, STORAGES=PRODUCTION_STORAGES):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root


def fetch(path: str, encoding: str = ""):
    headers = {"HTTP_ACCEPT_ENCODING": encoding} if encoding else {}
    return Client().get(path, **headers)  # a new client loads whitenoise with this module's STATIC_ROOT


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_hashed_asset_comes_compressed_with_a_years_cache(collected):
    """The site's stylesheet has a hashed URL; with br it comes as brotli, with gzip as gzip, each decoding to the
    very file, cached for a year as immutable; without either it comes plain."""
    url = staticfiles_storage.url("css/site.css")
    assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", url)
    original = (ROOT / "static" / "css" / "site.css").read_bytes()

    as_brotli = fetch(url, "gzip, deflate, br")
    assert as_brotli.status_code == 200 and as_brotli["Content-Encoding"] == "br"
    assert brotli.decompress(body(as_brotli)) == original
    assert "immutable" in as_brotli["Cache-Control"]
    assert int(YEAR_OR_MORE.search(as_brotli["Cache-Control"]).group(1)) >= 365 * 24 * 3600
    assert "Accept-Encoding" in as_brotli["Vary"]

    as_gzip = fetch(url, "gzip")
    assert as_gzip["Content-Encoding"] == "gzip" and gzip.decompress(body(as_gzip)) == original

    plain = fetch(url)
    assert not plain.has_header("Content-Encoding") and body(plain) == original


def test_the_player_and_reader_libraries_are_hashed_and_compressed(collected):
    """hls.js, pdf.js and its worker, foliate-js have hashed names; brotli shrinks each to a third or less."""
    for name in (
        "vendor/hls.js/hls.min.js",
        "vendor/pdfjs-dist/legacy/build/pdf.min.mjs",
        "vendor/pdfjs-dist/legacy/build/pdf.worker.min.mjs",
        "vendor/foliate-js/view.js",
        "js/player.js",
    ):
        url = staticfiles_storage.url(name)
        assert url != settings.STATIC_URL + name, name
        response = fetch(url, "br")
        assert response["Content-Encoding"] == "br", name
        assert int(response["Content-Length"]) * 3 <= Path(collected, name).stat().st_size, name
        assert "immutable" in response["Cache-Control"], name


def test_plain_names_are_served_with_a_short_cache(collected):
    """pdf.js asks for its character maps and fonts by plain name: they are there, cached for a minute only (a
    new version must not be shadowed for a year), and a revalidation answers 304."""
    url = settings.STATIC_URL + "vendor/pdfjs-dist/cmaps/UniGB-UCS2-H.bcmap"
    response = fetch(url)
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]
    assert int(YEAR_OR_MORE.search(response["Cache-Control"]).group(1)) <= 3600
    again = Client().get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_only_the_files_the_site_loads_are_collected(collected):
    """Of the npm packages only what pages load is collected: no other hls.js builds, no pdf.js viewer, modern build
    or scripting engine, no foliate-js demo or tests (they made collectstatic take minutes)."""
    vendor = Path(collected, "vendor")
    names = {path.relative_to(vendor).as_posix() for path in vendor.rglob("*") if path.is_file()}
    assert "hls.js/hls.min.js" in names and "pdfjs-dist/legacy/build/pdf.worker.min.mjs" in names
    assert "foliate-js/vendor/zip.js" in names and "pdfjs-dist/wasm/openjpeg.wasm" in names
    assert not [name for name in names if name.startswith(("hls.js/hls.light", "hls.js/hls.js", "hls.js/hls-demo"))]
    assert not [name for name in names if name.startswith(("pdfjs-dist/web/", "pdfjs-dist/build/", "pdfjs-dist/types"))]
    assert not [
        name for name in names if "quickjs" in name or name.startswith(("foliate-js/tests", "foliate-js/reader"))
    ]
    assert sum((vendor / name).stat().st_size for name in names) < 40 * 1024**2


def test_every_static_name_in_the_templates_is_in_the_manifest(collected):
    """A template naming a static file that collectstatic does not have would be a server error in production
    (the manifest storage refuses unknown names): every {% static %} name in our templates resolves to a hashed
    name, folders (pdf.js's cmaps/) stay as they are."""
    names = set()
    for app in ("cms", "library", "courses", "search", "media_pipeline"):
        for template in (ROOT / app).rglob("templates/**/*.html"):
            names |= set(STATIC_TAG.findall(template.read_text(encoding="utf-8")))
    assert "vendor/hls.js/hls.min.js" in names and "css/site.css" in names
    for name in sorted(names):
        url = staticfiles_storage.url(name)
        if name.endswith("/"):
            assert url == settings.STATIC_URL + name
        else:
            assert re.search(r"\.[0-9a-f]{12}\.", url), name


def test_a_page_links_hashed_names(collected, db):
    """The sign-in page, rendered by the production storage, links the hashed stylesheet and icons."""
    html = Client().get("/login/").content.decode()
    assert re.search(r'href="/static/css/site\.[0-9a-f]{12}\.css"', html)
    assert re.search(r'href="/static/favicon\.[0-9a-f]{12}\.svg"', html)
