"""The Fabric protobuf modules devnet uses, typed as Any for the type checker.

``hyperledger-fabric-protos`` ships no ``.pyi`` stubs, so mypy would flag every message class; importing
the modules once here keeps that noise out of the other modules without turning checks off there.
"""

from __future__ import annotations

import importlib
from typing import Any

chaincode_event_pb2: Any = importlib.import_module("fabric_protos.peer.chaincode_event_pb2")
chaincode_pb2: Any = importlib.import_module("fabric_protos.peer.chaincode_pb2")
chaincode_shim_pb2: Any = importlib.import_module("fabric_protos.peer.chaincode_shim_pb2")
chaincode_shim_pb2_grpc: Any = importlib.import_module("fabric_protos.peer.chaincode_shim_pb2_grpc")
common_pb2: Any = importlib.import_module("fabric_protos.common.common_pb2")
configtx_pb2: Any = importlib.import_module("fabric_protos.common.configtx_pb2")
gateway_pb2: Any = importlib.import_module("fabric_protos.gateway.gateway_pb2")
gateway_pb2_grpc: Any = importlib.import_module("fabric_protos.gateway.gateway_pb2_grpc")
identities_pb2: Any = importlib.import_module("fabric_protos.msp.identities_pb2")
kv_query_result_pb2: Any = importlib.import_module("fabric_protos.ledger.queryresult.kv_query_result_pb2")
kv_rwset_pb2: Any = importlib.import_module("fabric_protos.ledger.rwset.kvrwset.kv_rwset_pb2")
proposal_pb2: Any = importlib.import_module("fabric_protos.peer.proposal_pb2")
proposal_response_pb2: Any = importlib.import_module("fabric_protos.peer.proposal_response_pb2")
rwset_pb2: Any = importlib.import_module("fabric_protos.ledger.rwset.rwset_pb2")
transaction_pb2: Any = importlib.import_module("fabric_protos.peer.transaction_pb2")
