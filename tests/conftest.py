"""Fixtures shared by every test app."""

import pytest

from tests import factories
from tests.proof import COUNTS


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Each test writes local files into its own folder (S3 runs use the bucket instead)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_WORK_DIR = tmp_path / "work"


@pytest.fixture
def demo():
    """The whole demo structure (the 16 cities' tree, roles, section pages, editors) as `make run` shows it, without
    its library: for tests about the demo itself or that walk the site. A test that needs a few units, editors or
    items builds them with tests/factories.py (the fixtures below), in a fraction of the time."""
    from django.core.management import call_command

    call_command("load_demo", "--no-media")


@pytest.fixture
def unit(db):
    """山东省 (``shandong``) alone: the unit a test's items belong to."""
    return factories.province()


@pytest.fixture
def unit_tree(db):
    """山东省 → 滨州市 → 邹平市 and 山东省 → 临沂市 → 沂南县, by code (the demo's codes): units above, below and beside
    each other."""
    return factories.unit_tree()


@pytest.fixture
def editors(unit_tree):
    """The demo's editors of that tree, by username: sheng_editor, binzhou_editor, zouping_editor, yinan_editor."""
    return factories.demo_editors(unit_tree)


@pytest.fixture
def library_page(db):
    """The library's page under the site's root, so items have URLs."""
    return factories.library_page()


@pytest.fixture
def local_media(settings):
    """Files on local disk behind signed URLs (the embedded default), whatever `make test` configured, for tests
    that follow a signed link through the test client to the bytes or probe /media/ paths. The same links on S3
    are presigned URLs (tests/media_pipeline/test_storage.py)."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "media_pipeline.storage.SignedFileSystemStorage"}}


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (remembered page URLs, sign-in throttles): tests stay independent."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _chinese_after_each_test():
    """A request in English leaves its thread's language active (Django's middleware activates, nothing deactivates
    after the response), so the next test on the same worker would read English messages: back to the default."""
    from django.utils import translation

    yield
    translation.deactivate()


def pytest_sessionfinish(session):
    """In a pytest-xdist worker: hand this worker's proof figures to the controller (pytest_testnodedown)."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["proof_counts"] = dict(COUNTS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """In pytest-xdist's controller: add up each worker's figures as it finishes."""
    COUNTS.update(getattr(node, "workeroutput", {}).get("proof_counts", {}))


def pytest_terminal_summary(terminalreporter):
    """The closing note of issue 11 quotes these numbers: cells checked, requests fuzzed, leaks found."""
    if COUNTS:
        terminalreporter.section("security proof")
        for name, count in sorted(COUNTS.items()):
            terminalreporter.write_line(f"{name}: {count}")
