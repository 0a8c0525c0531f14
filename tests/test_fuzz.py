"""Schemathesis over every operation of the real app, over HTTP, against the real index and model.

Each operation gets the schema's examples, the coverage phase's boundary cases
(lengths 0/1/500/501, k 0/1/50/51, every mode, missing and extra fields) and a
bounded number of generated bodies, valid and invalid. Every answer must be
below 500 and exactly what /openapi.json says: a documented status, its content
type, its body schema, its headers. Bounded: MAX_EXAMPLES per operation and
phase, no Hypothesis deadline (the machine may be shared), no example database.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = 100
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "database": "none"},
        "phases": {"stateful": {"enabled": False}},
        "request-timeout": 120,
    }
)


def _document() -> dict:
    """The app's OpenAPI document; building it needs no index, so it can drive test collection."""
    from qa.api.server import create_app
    from qa.settings import Settings

    return create_app(Settings()).openapi()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


def test_the_live_server_serves_the_document_fuzzed(server_url):
    import httpx

    assert httpx.get(f"{server_url}/openapi.json", timeout=60).json() == DOCUMENT


@schema.parametrize()
def test_every_operation_answers_as_documented(case, server_url):
    case.call_and_validate(base_url=server_url, checks=CHECKS)


# The write routes need the token and a corpus of their own: a copy of the seeds, fewer generated
# cases (a valid body costs a build), and every answer still below 500 and as documented (202 jobs too).
WRITE_EXAMPLES = 25
WRITES = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "generation": {"max-examples": WRITE_EXAMPLES, "mode": "all", "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "request-timeout": 120,
        }
    ),
).include(path_regex="^/api/(documents/|jobs/)")


@pytest.fixture(scope="module")
def writable_url(tmp_path_factory, embedder):
    from tests.write_load import write_server

    with write_server(tmp_path_factory.mktemp("fuzz-writes"), embedder) as server:
        yield server.url


@WRITES.parametrize()
def test_every_write_operation_answers_as_documented_with_the_token(case, writable_url):
    from tests.write_load import AUTH

    case.call_and_validate(base_url=writable_url, checks=CHECKS, headers=AUTH)
