"""Fixtures for search tests: library items in the province (tests/factories.py), and the embedded engine by
default."""

import socket

import pytest

from search.engines.embedded import EmbeddedEngine
from search.registry import SearchDocument
from tests.factories import EbookFactory


@pytest.fixture
def embedded(settings):
    """No engine configured: the embedded index answers (whatever `make test` exported)."""
    settings.SEARCH_URL = ""
    return settings


@pytest.fixture(params=["fulltext", "generic"])
def engine(request, embedded, monkeypatch):
    """The embedded engine on this database's full-text index, and on the generic path any other database gets (run
    here on the same database, so both paths must give the same answers)."""
    if request.param == "generic":
        monkeypatch.setattr("search.engines.embedded._dialect", lambda: None)
    return EmbeddedEngine()


def document(key, title, **fields) -> SearchDocument:
    """A search document ``test:<key>`` (an e-book at /d/<key>/ unless told otherwise) for the engine tests."""
    fields.setdefault("kind", "ebook")
    fields.setdefault("url", f"/d/{key}/")
    return SearchDocument(doc_id=f"test:{key}", title=title, **fields)


@pytest.fixture
def make_item(unit):
    """An e-book of the province (``unit``, tests/conftest.py) with this title: ``make_item("红楼梦", body=…)``."""

    def make(title, **fields):
        return EbookFactory(title=title, owning_unit=unit, **fields)

    return make


@pytest.fixture
def closed_port_url():
    """A URL on which nothing listens: a real connection-refused fault, not a mock."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def drain():
    from search.services import search_outbox_drain_all

    return search_outbox_drain_all
