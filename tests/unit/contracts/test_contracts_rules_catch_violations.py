"""The convention checks are not vacuous: each one reports a proto that breaks its rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.contracts.contract_rules import (
    ALL_CHECKS,
    PROTOS,
    Contracts,
    check_access,
    check_money_fields,
    check_request_ids,
    compile_descriptor_set,
    load,
)

# One file that breaks every convention at least once.
_BAD_PROTO = """
syntax = "proto3";

package gx.bad.v1;

import "google/api/annotations.proto";
import "google/api/field_behavior.proto";
import "gx/type/v1/access.proto";
import "gx/type/v1/operation.proto";

service BadService {
  rpc DoThing(Thing) returns (gx.type.v1.Operation);

  // Lists things.
  rpc ListThings(ListThingsRequest) returns (ListThingsResponse) {
    option (google.api.http) = {get: "/things"};
    option (gx.type.v1.access) = {};
  }

  // Deletes a thing.
  rpc DeleteThing(DeleteThingRequest) returns (DeleteThingResponse) {
    option (google.api.http) = {post: "/v1/things/{thing_id}:delete"};
    option (gx.type.v1.access) = {public: true};
  }

  // Deletes a thing again, on the same route.
  rpc DeleteThingAgain(DeleteThingRequest) returns (DeleteThingResponse) {
    option (google.api.http) = {
      post: "/v1/things/{name}:delete"
      body: "nothing"
    };
    option (gx.type.v1.access) = {public: true};
  }
}

// A thing.
message Thing {
  // Output only. A price.
  double price = 1 [(google.api.field_behavior) = OUTPUT_ONLY];
  // Output only. A fee.
  int32 fee_qirat = 2 [(google.api.field_behavior) = OUTPUT_ONLY];
  // An enum that should not be nested.
  enum Inner {
    // Nothing.
    INNER_UNSPECIFIED = 0;
  }
  // lower case and no stop
  string name = 3;
  // Output only. A balance without its unit.
  int64 balance = 4 [(google.api.field_behavior) = OUTPUT_ONLY];
}

// Lists things.
message ListThingsRequest {
  // Optional. An amount with no positivity rule.
  int64 amount_qirat = 1 [(google.api.field_behavior) = OPTIONAL];
}

// One page of things.
message ListThingsResponse {}

// Deletes a thing.
message DeleteThingRequest {
  // Optional. A request id with the wrong mirror and no uuid rule.
  string request_id = 1 [(google.api.field_behavior) = REQUIRED];
}

// Nothing.
message DeleteThingResponse {}

// A colour without prefixes.
enum Color {
  // Red.
  RED = 0;
}
"""


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> Contracts:
    """The model of the deliberately broken proto."""
    root = tmp_path_factory.mktemp("bad")
    target = root / "gx" / "bad" / "v1" / "bad.proto"
    target.parent.mkdir(parents=True)
    target.write_text(_BAD_PROTO)
    data = compile_descriptor_set([root, PROTOS], ["gx/bad/v1/bad.proto"], root / "bad.binpb")
    return load(data, only={"gx/bad/v1/bad.proto"})


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_each_check_reports_the_broken_proto(bad: Contracts, check: Callable[[Contracts], list[str]]) -> None:
    assert check(bad) != []


def test_violations_name_the_offending_element(bad: Contracts) -> None:
    assert "gx.bad.v1.BadService.DoThing: no (gx.type.v1.access) option" in check_access(bad)
    assert any("ListThings: access rule admits nobody" in v for v in check_access(bad))
    assert "gx.bad.v1.BadService.DoThing: mutating RPC without request_id" in check_request_ids(bad)
    assert any("DeleteThing: request_id lacks" in v for v in check_request_ids(bad))
    money = check_money_fields(bad)
    assert any(v.startswith(".gx.bad.v1.Thing.fee_qirat:") for v in money)
    assert any(v.startswith(".gx.bad.v1.Thing.balance:") for v in money)


def test_the_bad_proto_lives_only_in_a_temp_dir(bad: Contracts) -> None:
    assert not Path(PROTOS / "gx" / "bad").exists()
