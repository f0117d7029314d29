"""The API behaves as its OpenAPI document says: schemathesis against the real Envoy edge.

Cases generated from the document the edge serves (gen/openapi/openapi.json) go to the real edge
and services, anonymously and with a real user's access token, a bounded number per operation.
Every answer must be no 5xx, conform to the document (status, content type, headers, body schema)
and, when it is an error, be the JSON error shape: google.rpc.Status with an ErrorInfo whose reason
is UPPER_SNAKE.

The module runs its own stack: generated sign-ups, logins and partner applications spend the
per-address budgets of the edge (one address for every test), which other modules sharing the
session stack must keep.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import CheckContext
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from edge.openapi import DOCUMENT
from tests.support.stack import EdgeStack, running_edge_stack

pytestmark = pytest.mark.e2e

# Generated cases per operation and caller (81 operations, two callers): enough to cross every
# operation's validation with odd inputs, small enough to keep the module within about a minute.
EXAMPLES = 3
PASSWORD = "Schemathesis pass 2026!"
_REASON = re.compile(r"^[A-Z][A-Z0-9_]*$")


@pytest.fixture(scope="module")
def stack() -> Iterator[EdgeStack]:
    with running_edge_stack() as running:
        yield running


@pytest.fixture(scope="module")
def user_token(stack: EdgeStack) -> str:
    email = f"st-{uuid.uuid4().hex[:8]}@example.com"
    with httpx.Client(base_url=stack.rest_url, timeout=30) as client:
        made = client.post(
            "/v1/users:register",
            json={"email": email, "password": PASSWORD, "displayName": "Schema", "countryCode": "LK"},
        )
        assert made.status_code == 200, made.text
        login = client.post("/v1/auth:login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        return str(login.json()["accessToken"])


def error_shape(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """An error answer is google.rpc.Status JSON with an ErrorInfo carrying an UPPER_SNAKE reason."""
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict), f"error body is not an object: {response.text[:300]}"
    assert isinstance(body.get("code"), int) and body["code"] > 0, f"no gRPC code: {response.text[:300]}"
    assert isinstance(body.get("message"), str), f"no message: {response.text[:300]}"
    infos = [d for d in body.get("details", []) if str(d.get("@type", "")).endswith("google.rpc.ErrorInfo")]
    assert infos, f"no google.rpc.ErrorInfo in {response.text[:300]}"
    reasons = [str(i.get("reason", "")) for i in infos if i.get("domain")]
    assert len(reasons) == len(infos) and all(_REASON.match(r) for r in reasons), response.text[:300]
    return True


CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    error_shape,
]
_SETTINGS = settings(
    max_examples=EXAMPLES,
    phases=[Phase.explicit, Phase.generate],
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)

# The committed document, which the edge serves byte for byte (tests/e2e/test_edge_openapi.py);
# loaded at collection so each operation is its own test.
schema = schemathesis.openapi.from_path(DOCUMENT)


@schema.parametrize()
@_SETTINGS
def test_anonymous_callers_get_what_the_document_says(case: schemathesis.Case, stack: EdgeStack) -> None:
    case.call_and_validate(base_url=stack.rest_url, checks=CHECKS, timeout=30)


@schema.exclude(method="POST", path="/v1/auth:logout").parametrize()
@_SETTINGS
def test_a_signed_in_user_gets_what_the_document_says(
    case: schemathesis.Case, stack: EdgeStack, user_token: str
) -> None:
    # Logging out would revoke the token the remaining cases use; the anonymous run covers it.
    headers = {"authorization": f"Bearer {user_token}"}
    case.call_and_validate(base_url=stack.rest_url, headers=headers, checks=CHECKS, timeout=30)


def test_the_error_check_refuses_a_bare_status() -> None:
    # The check must be able to fail: a Status without ErrorInfo, as gRPC core sends for its own errors.
    bare = httpx.Response(500, json={"code": 13, "message": "Illegal header key", "details": []})
    with pytest.raises(AssertionError, match="ErrorInfo"):
        error_shape(None, bare, None)  # type: ignore[arg-type]
    shaped = httpx.Response(
        400,
        json={
            "code": 3,
            "message": "bad",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "BAD", "domain": "x.gx"}
            ],
        },
    )
    assert error_shape(None, shaped, None) is True  # type: ignore[arg-type]


# What schemathesis found, each pinned down on its own.


def test_a_header_name_grpc_cannot_carry_is_dropped_not_a_500(stack: EdgeStack) -> None:
    # HTTP allows "|" in a header name, gRPC metadata does not: the service's gRPC core failed the
    # transcoded call with INTERNAL ("Illegal header key"), a 500 without ErrorInfo. (The JWKS is
    # a transcoded call to identity with no per-address budget the generated cases could spend.)
    answer = httpx.get(f"{stack.rest_url}/.well-known/jwks.json", headers={"x-o|dd": "1"}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["keys"]
    refused = httpx.get(f"{stack.rest_url}/v1/users/me", headers={"x-o|dd": "1"}, timeout=30)
    assert refused.status_code == 401
    error_shape(None, refused, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "kept"),
    [(b"\xb6", "\ufffd"), (b'{"email":"\xed\xa0\x80"', "\ufffd"), ("{é".encode(), "é")],
    ids=["stray-byte", "surrogate", "valid-utf8"],
)
def test_an_error_quoting_a_body_that_is_not_utf8_is_still_utf8_json(
    stack: EdgeStack, user_token: str, body: bytes, kept: str
) -> None:
    # The transcoder's message echoes the body; the edge wrote those bytes into the JSON as they were.
    answer = httpx.post(
        f"{stack.rest_url}/v1/proposals",
        content=body,
        headers={"content-type": "application/json", "authorization": f"Bearer {user_token}"},
        timeout=30,
    )
    assert answer.status_code == 400
    decoded = answer.content.decode("utf-8")  # strict: raises on a stray byte
    assert kept in answer.json()["message"], decoded
    error_shape(None, answer, None)  # type: ignore[arg-type]
