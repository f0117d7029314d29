"""An async client for the Hyperledger Fabric Gateway API (endorse, submit, commit status, events)."""

from fabric_client.breaker import BreakerState, CircuitBreaker
from fabric_client.errors import (
    ChaincodeEventsError,
    CommitError,
    CommitStatusError,
    EndorseError,
    ErrorDetail,
    EvaluateError,
    FabricError,
    GatewayError,
    SubmitError,
)
from fabric_client.events import ChaincodeEvent, ChaincodeEventStream, Checkpoint
from fabric_client.gateway import (
    Contract,
    Gateway,
    Keepalive,
    Network,
    Proposal,
    Timeouts,
    TlsOptions,
    open_channel,
)
from fabric_client.identity import Identity, Signer, load_msp_identity
from fabric_client.retry import FailureKind, RetryPolicy, classify, retry_call
from fabric_client.settings import FabricSettings, connect_from_settings
from fabric_client.transaction import CommitStatus, Transaction

__all__ = [
    "BreakerState",
    "ChaincodeEvent",
    "ChaincodeEventStream",
    "ChaincodeEventsError",
    "Checkpoint",
    "CircuitBreaker",
    "CommitError",
    "CommitStatus",
    "CommitStatusError",
    "Contract",
    "EndorseError",
    "ErrorDetail",
    "EvaluateError",
    "FabricError",
    "FabricSettings",
    "FailureKind",
    "Gateway",
    "GatewayError",
    "Identity",
    "Keepalive",
    "Network",
    "Proposal",
    "RetryPolicy",
    "Signer",
    "SubmitError",
    "Timeouts",
    "TlsOptions",
    "Transaction",
    "classify",
    "connect_from_settings",
    "load_msp_identity",
    "open_channel",
    "retry_call",
]
