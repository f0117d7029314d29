"""Assembles the GX chaincode: the domain contracts, bare-name routing and business status codes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from fabric_chaincode_python.fabric_contract_api import ContractChaincode

from chaincode.contracts.admin import AdminContract
from chaincode.contracts.base import ROLE_MSPS_ATTR, rejection_of
from chaincode.contracts.governance import GovernanceContract
from chaincode.contracts.identity import IdentityContract
from chaincode.contracts.loan import LoanContract
from chaincode.contracts.organization import OrganizationContract
from chaincode.contracts.tax import TaxContract
from chaincode.contracts.token import TokenContract

if TYPE_CHECKING:  # prometheus_client stays an optional dependency of the chaincode
    from chaincode.metrics import InvocationMetrics

# Messages the contract API gives when it cannot bind the arguments to a function.
_ARGUMENT_ERRORS = ("incorrect number of params", "error managing parameter")

CONTRACTS = (
    AdminContract,
    IdentityContract,
    TokenContract,
    OrganizationContract,
    LoanContract,
    GovernanceContract,
    TaxContract,
)


class GxChaincode(ContractChaincode):  # type: ignore[misc]  # the shim ships no type information
    """The contract-API chaincode with three additions.

    - A bare function name ("TransferTokens") reaches the contract that defines it, so clients
      need not know the namespace; "token:TransferTokens" works too. Names are unique across
      the GX contracts (checked at build time).
    - A business rejection answers with its own 4xx status (400 rule, 403 role, 404 missing)
      instead of the contract API's blanket 500, so a client can tell a rejection (do not
      retry) from a chaincode fault.
    - ``role_msps``: when set, only certificates of these MSPs carry `gxc_role`.
    - ``metrics``: when set, every invocation is counted and timed (`chaincode.metrics`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[str, str] = {}
        self.role_msps: frozenset[str] | None = None
        self.metrics: InvocationMetrics | None = None

    async def invoke(self, stub: Any) -> Any:
        if self.metrics is None:
            return await self._invoke(stub)
        started = time.perf_counter()
        status = 500  # an exception out of the contract API is a fault
        try:
            response = await self._invoke(stub)
            status = response.status
            return response
        finally:
            self.metrics.observe(_requested_function(stub), status, time.perf_counter() - started)

    async def _invoke(self, stub: Any) -> Any:
        setattr(stub, ROLE_MSPS_ATTR, self.role_msps)
        response = await super().invoke(stub)
        rejection = rejection_of(stub)
        if rejection is not None and response.status >= 400:
            response.status = rejection.status
        elif response.status >= 400 and response.message.startswith(_ARGUMENT_ERRORS):
            # The contract API refused the arguments before any GX code ran (wrong count or type):
            # a bad request, not a chaincode fault.
            response.status = 400
            response.message = f"INVALID_ARGUMENT: {response.message}"
        return response

    def _get_namespace_function_and_params(self, stub: Any) -> tuple[str, str, list[str]]:
        namespace, function, params = super()._get_namespace_function_and_params(stub)
        try:
            raw, _ = stub.get_function_and_parameters()
        except Exception:  # the base class already turned this into an empty name
            raw = ""
        if ":" not in raw and function in self.routes:
            namespace = self.routes[function]
        return namespace, function, params


def _requested_function(stub: Any) -> str:
    try:
        function, _ = stub.get_function_and_parameters()
    except Exception:  # a malformed proposal: counted, under the unknown label
        return ""
    return str(function)


def build_chaincode(role_msps: frozenset[str] | None = None) -> GxChaincode:
    """Create the GX chaincode with every contract registered.

    Args:
        role_msps: MSP ids whose certificates may carry `gxc_role`; None trusts every MSP on the
            channel (fine for a single-org network such as the devnet).

    Raises:
        ValueError: Two contracts define the same function name.
    """
    contracts = [cls() for cls in CONTRACTS]
    chaincode: GxChaincode = GxChaincode.new_chaincode(*contracts)
    chaincode.role_msps = role_msps
    for contract in contracts:
        for name in chaincode._contracts[contract.Name].functions:
            if name in chaincode.routes:
                raise ValueError(
                    f"function {name} is defined by {chaincode.routes[name]} and {contract.Name}"
                )
            chaincode.routes[name] = contract.Name
    _skip_string_validation(chaincode)
    return chaincode


def _skip_string_validation(chaincode: GxChaincode) -> None:
    """Drop the contract API's per-call jsonschema check of `{"type": "string"}` arguments and results.

    Every GX function takes one string and returns one (proto JSON, which `chaincode.codec` decodes
    and checks strictly); the contract API converts the argument to `str` before it validates, so
    the check cannot fail, yet it cost about a fifth of a transfer's CPU. The published metadata
    (the schemas) is unchanged; only the compiled validators go.
    """
    metadata = getattr(chaincode, "_metadata", None)  # absent in another shim version: keep its checks
    for contract in getattr(metadata, "contracts", {}).values():
        for transaction in contract.transactions:
            for parameter in transaction.parameters or ():
                if parameter.schema == {"type": "string"}:
                    parameter.compiled_schema = None
            returns = transaction.returns
            if returns is not None and returns.schema == {"type": "string"}:
                returns.compiled_schema = None
