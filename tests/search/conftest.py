"""Fixtures for search tests: library items in an org unit, and the embedded engine by default."""

import socket

import pytest
from django.utils import timezone

from cms.models import OrgUnit
from library.models import LibraryItem


@pytest.fixture
def embedded(settings):
    """No engine configured: the embedded index answers (whatever `make test` exported)."""
    settings.SEARCH_URL = ""
    return settings


@pytest.fixture
def unit(db):
    return OrgUnit.add_root(name="山东省", code="sd", level="province")


@pytest.fixture
def make_item(unit):
    def make(title, **fields):
        fields.setdefault("kind", LibraryItem.Kind.EBOOK)
        fields.setdefault("published_at", timezone.now())
        return LibraryItem.objects.create(title=title, owning_unit=unit, **fields)

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
