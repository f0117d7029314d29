"""Reading the descriptor set: services, REST bindings, access rules, request shapes, path patterns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devstack.config import REPO_ROOT
from edge import descriptor, templates


@pytest.fixture(scope="module")
def desc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return descriptor.build(REPO_ROOT, tmp_path_factory.mktemp("desc") / "gx.binpb")


@pytest.mark.parametrize(
    ("template", "matches", "misses"),
    [
        (
            "/v1/users/{user_id}",
            ["/v1/users/abc", "/v1/users/me"],
            ["/v1/users/a/b", "/v1/users/", "/v1/usersX/a"],
        ),
        ("/v1/users:register", ["/v1/users:register"], ["/v1/users/register", "/v1/usersXregister"]),
        (
            "/v1/users/{user_id}/kyc:submit",
            ["/v1/users/u1/kyc:submit"],
            ["/v1/users/u1/kyc:approve", "/v1/users/u1/kyc"],
        ),
        (
            "/v1/{name=partners/*}/licenses",
            ["/v1/partners/p1/licenses"],
            ["/v1/partners/licenses", "/v1/x/p1/licenses"],
        ),
        ("/v1/files/{path=**}", ["/v1/files/a/b/c"], ["/v1/files/"]),
        ("/.well-known/jwks.json", ["/.well-known/jwks.json"], ["/.well-known/jwksXjson"]),
    ],
)
def test_template_regex_matches_exactly_the_bound_paths(
    template: str, matches: list[str], misses: list[str]
) -> None:
    pattern = re.compile(templates.template_regex(template))
    assert all(pattern.match(p) for p in matches)
    assert not any(pattern.match(p) for p in misses)


def test_template_lua_pattern_escapes_lua_magic_characters() -> None:
    assert templates.template_lua_pattern("/v1/users/{user_id}:set-roles") == "^/v1/users/[^/]+:set%-roles$"
    assert templates.template_lua_pattern("/.well-known/jwks.json") == "^/%.well%-known/jwks%.json$"


def test_identity_service_is_read_with_its_public_methods(desc: Path) -> None:
    services = {s.name: s for s in descriptor.read_services(desc)}
    identity = services["gx.identity.v1.IdentityService"]
    assert identity.domain == "identity"
    methods = {m.grpc_path.rsplit("/", 1)[1]: m for m in identity.methods}
    assert methods["Login"].public and methods["GetJwks"].public and methods["RegisterUser"].public
    assert not methods["GetUser"].public and not methods["ApproveKyc"].public
    assert methods["GetJwks"].http_rules == (descriptor.HttpRule("GET", "/.well-known/jwks.json", ""),)
    assert methods["UpdateUser"].http_rules[0].body == "user"
    assert methods["Login"].input_type == "gx.identity.v1.LoginRequest"
    # Only gx.<domain>.vN services are listed: no google.* or grpc.* ones.
    assert all(name.startswith("gx.") for name in services)


def test_message_shapes_accept_both_json_and_proto_names(desc: Path) -> None:
    shapes = descriptor.message_shapes(desc)
    register = shapes["gx.identity.v1.RegisterUserRequest"]
    assert {"displayName", "display_name", "email", "password"} <= set(register)
    kyc = shapes["gx.identity.v1.SubmitKycRequest"]
    assert kyc["documents"].message == "gx.identity.v1.KycDocument"
    # Well-known types are opaque: their JSON form is not an object of their fields.
    assert shapes["gx.identity.v1.User"]["createTime"].message is None
