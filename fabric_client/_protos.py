"""The Fabric protobuf modules, typed as Any for the type checker.

``hyperledger-fabric-protos`` ships ``py.typed`` but no ``.pyi`` stubs, so mypy sees none of the
generated message classes and would flag every use; importing them here once keeps that noise out of
the rest of the package without disabling checks there.
"""

from __future__ import annotations

import importlib
from typing import Any

ab_pb2: Any = importlib.import_module("fabric_protos.orderer.ab_pb2")
chaincode_event_pb2: Any = importlib.import_module("fabric_protos.peer.chaincode_event_pb2")
chaincode_pb2: Any = importlib.import_module("fabric_protos.peer.chaincode_pb2")
common_pb2: Any = importlib.import_module("fabric_protos.common.common_pb2")
gateway_pb2: Any = importlib.import_module("fabric_protos.gateway.gateway_pb2")
gateway_pb2_grpc: Any = importlib.import_module("fabric_protos.gateway.gateway_pb2_grpc")
identities_pb2: Any = importlib.import_module("fabric_protos.msp.identities_pb2")
proposal_pb2: Any = importlib.import_module("fabric_protos.peer.proposal_pb2")
proposal_response_pb2: Any = importlib.import_module("fabric_protos.peer.proposal_response_pb2")
transaction_pb2: Any = importlib.import_module("fabric_protos.peer.transaction_pb2")
