"""Property-based fuzzing of the JSON API from its own OpenAPI schema (/api/v1/openapi.json), issue 11.

Schemathesis reads the schema django-ninja publishes and generates requests for every operation, valid and
invalid, sent in-process through Django's WSGI application as an anonymous app and as a member with a bearer
token (cms/api_auth.py). Checked on every response: no server error (a 500 is an unhandled exception, and its
text must never reach an app). Where the schema describes its responses honestly, the responses must also match
it (status code, content type, body). A second test sweeps the integer bounds of every integer parameter the
schema declares (the 64-bit edges a database cannot store), since random generation rarely lands on them.

Bounded: a few dozen examples per operation and caller; the file runs in about a minute on two cores.
"""

import json

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from wagtail.models import Site

from cms.api_auth import api_token_for
from cms.models import OrgUnit
from cms.services import member_create, org_unit_create
from library.models import LibraryItem, LibraryPage

from .matrix import COUNTS

pytestmark = pytest.mark.django_db
EXAMPLES = 15
# Honest-schema checks, on top of not_a_server_error. Schema bugs they found are listed in issue 11's report.
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]


def _world() -> dict:
    """A unit tree, the library page and items at every access setting, so generated ids hit real rows."""
    province = org_unit_create(parent=None, name="山东省", code="fz-sd", level=OrgUnit.Level.PROVINCE)
    county = org_unit_create(parent=province, name="邹平市", code="fz-zp", level=OrgUnit.Level.COUNTY)
    root = Site.objects.get(is_default_site=True).root_page
    root.add_child(instance=LibraryPage(title="数字图书馆", slug="library"))
    for access in LibraryItem.Access.values:
        series = LibraryItem.objects.create(
            kind="audio", role="series", title=f"系列{access}", owning_unit=county, access=access, access_unit=county
        )
        LibraryItem.objects.create(kind="audio", role="episode", title="单集", parent=series, owning_unit=county)
        LibraryItem.objects.create(
            kind="ebook",
            title=f"书{access}",
            owning_unit=province,
            access=access,
            access_unit=county,
            download="readers",
        )
    member = member_create(username="fuzz-member", password="pw-123456", real_name="党员", org_unit=county)
    return {"member": member}


@pytest.fixture
def api_schema(db):
    """The schema as the running app serves it, loaded through the WSGI app (the same one gunicorn runs). As
    Django's test client does, the WSGI handler must not close the test's database connection after each
    request (the rows of the test transaction would be gone)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def member_headers(db) -> dict:
    """A member's bearer token, as the apps send it (no cookies)."""
    return {"Authorization": f"Bearer {api_token_for(_world()['member'])}"}


@pytest.fixture
def anonymous_headers(db) -> dict:
    _world()
    return {}


@pytest.fixture(params=["anonymous_headers", "member_headers"])
def caller(request) -> dict:
    return request.getfixturevalue(request.param)


def _fuzz(schema, headers: dict) -> tuple[list[str], set[str]]:
    """Positive and negative cases for every operation. Returns (server errors, one line per operation × mode
    whose shrunk example fails; schema mismatches, one line per operation and kind of mismatch). Server errors fail
    the test; mismatches are where the schema is not honest yet (issue 16) and are printed for that issue."""
    failures, mismatches = [], set()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _runner(operation, mode, headers, mismatches)()
            except BaseException as error:  # FailureGroup is an exception group: report every one
                if isinstance(error, KeyboardInterrupt | SystemExit):
                    raise
                failures.append(f"{operation.label} [{mode.value}]: {str(error).strip()[:1500]}")
    return failures, mismatches


def _runner(operation, mode, headers: dict, mismatches: set[str]):
    """A hypothesis test over one operation's generated cases: server errors raise, mismatches are collected."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(case):
        COUNTS["api fuzz requests"] += 1
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])
        try:
            case.validate_response(response, checks=CONFORMANCE)
        except FailureGroup as mismatch:  # recorded, not raised
            title = str(mismatch).split("- ", 1)[-1].splitlines()[0]
            mismatches.add(f"{operation.label} [{response.status_code}]: {title}")

    return run


def _conclude(failures: list[str], mismatches: set[str]) -> None:
    COUNTS["api schema mismatches"] += len(mismatches)
    print("schema mismatches (for issue 16):\n" + "\n".join(sorted(mismatches)))
    assert not failures, "\n\n".join(failures)


def test_api_fuzzed_as_anonymous_never_errors_and_answers_as_described(api_schema, anonymous_headers):
    """Every operation, generated from the OpenAPI schema (valid and invalid input), for an anonymous app: never a
    server error. Responses that do not match the declared status codes, content types or bodies are listed."""
    _conclude(*_fuzz(api_schema, anonymous_headers))


def test_api_fuzzed_as_member_never_errors_and_answers_as_described(api_schema, member_headers):
    """The same for a member's bearer token: the member routes (progress, favourites, history) are reached too."""
    _conclude(*_fuzz(api_schema, member_headers))


def _integer_parameters(document: dict):
    """(method, path, location, name) of every integer query and path parameter the schema declares."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter.get("schema", {}).get("type") == "integer":
                    yield method, path, parameter["in"], parameter["name"]


EDGES = [2**63, 2**63 - 1, -(2**63) - 1, -1, 0, 10**30]


def test_integer_parameters_at_64_bit_edges_never_500(client, caller):
    """Every integer parameter in the schema, at and past the 64-bit edges (``?unit=9223372036854775808``): a
    422 or a 404, never a 500. The parameters come from the schema, so a new one is swept as soon as it exists."""
    document = client.get("/api/v1/openapi.json").json()
    app = Client(headers=caller)
    errors = []
    for method, path, location, name in _integer_parameters(document):
        for value in EDGES:
            url = path.replace("{" + name + "}", str(value)) if location == "path" else path
            url = url.replace("{item_id}", "1")
            query = {name: value} if location == "query" else {}
            response = app.generic(
                method.upper(), url + _query(query), data=json.dumps({}), content_type="application/json"
            )
            COUNTS["api fuzz requests"] += 1
            if response.status_code >= 500:
                errors.append(f"{method.upper()} {url}{_query(query)} → {response.status_code}")
    assert not errors, "server errors:\n" + "\n".join(errors)


def _query(params: dict) -> str:
    return ("?" + "&".join(f"{key}={value}" for key, value in params.items())) if params else ""
