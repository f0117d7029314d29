"""The five ``gateway.Gateway`` RPCs, with the gRPC codes, messages and ErrorDetails real Fabric gives.

Message texts follow Fabric's internal/pkg/gateway (research/fabric.md §2.8); clients branch on the codes
and read the details, so both must match.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import grpc

from devnet import endorser as endorser_mod
from devnet import signatures
from devnet._protos import common_pb2, gateway_pb2, gateway_pb2_grpc, proposal_pb2
from devnet.endorser import Endorser, UnpackedProposal, ValidationError
from devnet.errors import GatewayError
from devnet.events import CommitNotifier, chaincode_events
from devnet.ledger import LedgerStore
from devnet.metrics import DevnetMetrics
from devnet.msp import READER_ROLES, WRITER_ROLES, IdentityError, Msp
from devnet.orderer import Orderer
from devnet.shim_peer import ExecutionError

_LOG = logging.getLogger(__name__)
_C = grpc.StatusCode


# The base is Any to mypy: fabric_protos ships no stubs (devnet/_protos.py).
class GatewayService(gateway_pb2_grpc.GatewayServicer):  # type: ignore[misc]
    """Fabric's Gateway service for one org, one peer, one channel.

    Args:
        channel_id: The only channel served.
        msp: The org MSP.
        endorser: The peer's endorser.
        orderer: The ordering service Submit hands envelopes to.
        store: The channel ledger.
        notifier: Commit notifications.
        address: The peer's address as named in ErrorDetails (``peer0.<domain>:<port>``).
        metrics: Where RPC outcomes and latencies are counted.
        sig_cache: Remembers creator signatures checked at Submit so the committer checks each only once.
    """

    def __init__(
        self,
        *,
        channel_id: str,
        msp: Msp,
        endorser: Endorser,
        orderer: Orderer,
        store: LedgerStore,
        notifier: CommitNotifier,
        address: str,
        metrics: DevnetMetrics,
        sig_cache: signatures.SignatureCache,
    ) -> None:
        self._channel_id = channel_id
        self._msp = msp
        self._endorser = endorser
        self._orderer = orderer
        self._store = store
        self._notifier = notifier
        self._address = address
        self._metrics = metrics
        self._sig_cache = sig_cache

    async def _abort(self, context: grpc.aio.ServicerContext, method: str, err: GatewayError) -> None:
        self._metrics.requests.labels(method, err.code.name).inc()
        _LOG.info("%s failed: %s %s", method, err.code.name, err.message)
        await context.abort_with_status(err.to_status(self._address, self._msp.msp_id))

    def _ok(self, method: str) -> None:
        self._metrics.requests.labels(method, "OK").inc()

    # -- shared checks ------------------------------------------------------------------------------
    @staticmethod
    def _unpack(signed: proposal_pb2.SignedProposal) -> UnpackedProposal:
        if not signed.proposal_bytes:
            raise GatewayError(_C.INVALID_ARGUMENT, "a signed proposal is required")
        try:
            return endorser_mod.unpack(signed)
        except endorser_mod.ProposalError as exc:
            raise GatewayError(_C.INVALID_ARGUMENT, f"failed to unpack transaction proposal: {exc}") from exc

    def _check_channel(self, channel_id: str) -> None:
        if channel_id != self._channel_id:
            raise GatewayError(
                _C.UNAVAILABLE,
                f"failed to get config for channel [{channel_id}]: channel {channel_id} not found",
            )

    def _check_signed(self, request: bytes, signature: bytes, identity: bytes, roles: frozenset[str]) -> None:
        try:
            creator = self._msp.deserialize(identity)
            creator.verify(signature, request)
        except (IdentityError, signatures.SignatureError) as exc:
            raise GatewayError(
                _C.PERMISSION_DENIED, f"failed evaluating policy on signed data: {exc}"
            ) from exc
        if creator.role not in roles:
            raise GatewayError(
                _C.PERMISSION_DENIED,
                "implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires 1 "
                "of the 'Readers' sub-policies to be satisfied",
            )

    # -- RPCs ---------------------------------------------------------------------------------------
    async def Evaluate(
        self, request: gateway_pb2.EvaluateRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.EvaluateResponse:
        """Run a proposal on the chaincode and return its response; nothing is ordered or committed."""
        started = time.perf_counter()
        try:
            up = self._unpack(request.proposed_transaction)
            self._check_channel(up.channel_id)
            others = [org for org in request.target_organizations if org != self._msp.msp_id]
            if up.chaincode_name not in self._endorser.chaincodes or others:
                raise GatewayError(
                    _C.FAILED_PRECONDITION,
                    f"no peers available to evaluate chaincode "
                    f"{up.chaincode_name} in channel {up.channel_id}",
                )
            try:
                self._endorser.validate(up)
            except ValidationError as exc:
                raise GatewayError(
                    _C.FAILED_PRECONDITION, f"evaluate call to endorser returned error: {exc}", [str(exc)]
                ) from exc
            try:
                result, _ = await self._endorser.simulate(up)
            except ExecutionError as exc:
                raise GatewayError(
                    _C.ABORTED,
                    "failed to evaluate transaction, see attached details for more info",
                    [f"error in simulation: {exc}"],
                ) from exc
            response = result.response
            if endorser_mod.is_error(response):
                text = f"chaincode response {response.status}, {response.message}"
                raise GatewayError(_C.UNKNOWN, f"evaluate call to endorser returned error: {text}", [text])
        except GatewayError as err:
            await self._abort(context, "Evaluate", err)
            raise AssertionError("unreachable") from None
        finally:
            self._metrics.endorse_seconds.labels("Evaluate").observe(time.perf_counter() - started)
        self._ok("Evaluate")
        return gateway_pb2.EvaluateResponse(result=response)

    async def Endorse(
        self, request: gateway_pb2.EndorseRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.EndorseResponse:
        """Validate, simulate and endorse a proposal; return the unsigned transaction envelope."""
        started = time.perf_counter()
        try:
            up = self._unpack(request.proposed_transaction)
            self._check_channel(up.channel_id)
            if up.chaincode_name not in self._endorser.chaincodes:
                raise GatewayError(
                    _C.FAILED_PRECONDITION,
                    "no combination of peers can be derived which satisfy the endorsement policy: "
                    f"No metadata was found for chaincode {up.chaincode_name} in channel {up.channel_id}",
                )
            others = [org for org in request.endorsing_organizations if org != self._msp.msp_id]
            if others:
                raise GatewayError(
                    _C.UNAVAILABLE, f"failed to find any endorsing peers for org(s): {', '.join(others)}"
                )
            failed = "failed to endorse transaction, see attached details for more info"
            try:
                self._endorser.validate(up)
            except ValidationError as exc:
                raise GatewayError(_C.ABORTED, failed, [str(exc)]) from exc
            try:
                result, simulator = await self._endorser.simulate(up)
            except ExecutionError as exc:
                raise GatewayError(_C.ABORTED, failed, [f"error in simulation: {exc}"]) from exc
            if endorser_mod.is_error(result.response):
                raise GatewayError(
                    _C.ABORTED,
                    failed,
                    [f"chaincode response {result.response.status}, {result.response.message}"],
                )
            prepared = self._endorser.prepare_transaction(up, result, simulator)
        except GatewayError as err:
            await self._abort(context, "Endorse", err)
            raise AssertionError("unreachable") from None
        finally:
            self._metrics.endorse_seconds.labels("Endorse").observe(time.perf_counter() - started)
        self._ok("Endorse")
        return gateway_pb2.EndorseResponse(prepared_transaction=prepared)

    async def Submit(
        self, request: gateway_pb2.SubmitRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.SubmitResponse:
        """Hand a client-signed envelope to the orderer; success means accepted, not committed."""
        try:
            if not request.HasField("prepared_transaction"):
                raise GatewayError(_C.INVALID_ARGUMENT, "a prepared transaction is required")
            envelope = request.prepared_transaction
            if not envelope.signature:
                raise GatewayError(_C.INVALID_ARGUMENT, "prepared transaction must be signed")
            self._check_channel(request.channel_id)
            self._broadcast_checks(envelope)
            try:
                self._orderer.enqueue(envelope.SerializeToString())
            except RuntimeError as exc:
                raise GatewayError(
                    _C.UNAVAILABLE, "no orderers could successfully process transaction", [str(exc)]
                ) from exc
        except GatewayError as err:
            await self._abort(context, "Submit", err)
            raise AssertionError("unreachable") from None
        self._ok("Submit")
        return gateway_pb2.SubmitResponse()

    def _broadcast_checks(self, envelope: common_pb2.Envelope) -> None:
        """The orderer's message filters: well-formed, for this channel, signed by a channel writer."""

        def refused(status: str, info: str) -> GatewayError:
            return GatewayError(
                _C.ABORTED,
                f"received unsuccessful response from orderer: status={status}, info={info}",
                [f"status={status}, info={info}"],
            )

        try:
            payload = common_pb2.Payload.FromString(envelope.payload)
            chdr = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
            shdr = common_pb2.SignatureHeader.FromString(payload.header.signature_header)
        except Exception as exc:
            raise refused("BAD_REQUEST", f"bad payload: {exc}") from exc
        if chdr.channel_id != self._channel_id:
            raise refused("NOT_FOUND", f"channel {chdr.channel_id} not found")
        try:
            creator = self._msp.deserialize(shdr.creator)
            if creator.role not in WRITER_ROLES:
                raise IdentityError("not a writer")
            self._sig_cache.verify(creator.public_key, shdr.creator, envelope.signature, envelope.payload)
        except (IdentityError, signatures.SignatureError) as exc:
            raise refused(
                "FORBIDDEN",
                "implicit policy evaluation failed - 0 sub-policies were satisfied, but this "
                "policy requires 1 of the 'Writers' sub-policies to be satisfied",
            ) from exc

    async def CommitStatus(
        self, request: gateway_pb2.SignedCommitStatusRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.CommitStatusResponse:
        """Return a transaction's validation code and block, waiting until it is committed."""
        try:
            try:
                req = gateway_pb2.CommitStatusRequest.FromString(request.request)
            except Exception as exc:
                raise GatewayError(_C.INVALID_ARGUMENT, f"failed to unmarshal request: {exc}") from exc
            if not req.identity:
                raise GatewayError(_C.INVALID_ARGUMENT, "no identity provided")
            if not req.channel_id:
                raise GatewayError(_C.INVALID_ARGUMENT, "no channel ID provided")
            if not req.transaction_id:
                raise GatewayError(_C.INVALID_ARGUMENT, "transaction ID should not be empty")
            if req.channel_id != self._channel_id:
                raise GatewayError(_C.NOT_FOUND, f"channel {req.channel_id} not found")
            self._check_signed(request.request, request.signature, req.identity, READER_ROLES)
        except GatewayError as err:
            await self._abort(context, "CommitStatus", err)
            raise AssertionError("unreachable") from None
        future = self._notifier.watch(req.transaction_id)
        try:
            location = self._store.tx_location(req.transaction_id)
            if location is None:
                location = await future
        finally:
            self._notifier.unwatch(req.transaction_id, future)
        self._ok("CommitStatus")
        return gateway_pb2.CommitStatusResponse(result=location.code, block_number=location.block)

    async def ChaincodeEvents(
        self,
        request: gateway_pb2.SignedChaincodeEventsRequest,
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[gateway_pb2.ChaincodeEventsResponse]:
        """Stream a chaincode's events block by block from the requested start, until cancelled."""
        try:
            try:
                req = gateway_pb2.ChaincodeEventsRequest.FromString(request.request)
            except Exception as exc:
                raise GatewayError(_C.INVALID_ARGUMENT, f"failed to unmarshal request: {exc}") from exc
            if not req.identity:
                raise GatewayError(_C.INVALID_ARGUMENT, "no identity provided")
            if not req.channel_id:
                raise GatewayError(_C.INVALID_ARGUMENT, "no channel ID provided")
            if not req.chaincode_id:
                raise GatewayError(_C.INVALID_ARGUMENT, "no chaincode ID provided")
            if req.channel_id != self._channel_id:
                raise GatewayError(_C.NOT_FOUND, f"channel {req.channel_id} not found")
            self._check_signed(request.request, request.signature, req.identity, READER_ROLES)
            kind = req.start_position.WhichOneof("Type") if req.HasField("start_position") else None
            if kind in (None, "next_commit"):
                start = self._store.height
            elif kind == "specified":
                start = req.start_position.specified.number
            else:
                raise GatewayError(
                    _C.INVALID_ARGUMENT,
                    f"invalid start position type: *orderer.SeekPosition_{kind.capitalize()}",
                )
        except GatewayError as err:
            await self._abort(context, "ChaincodeEvents", err)
            return
        self._ok("ChaincodeEvents")
        async for number, events in chaincode_events(
            self._store, self._notifier, req.chaincode_id, start, req.after_transaction_id
        ):
            yield gateway_pb2.ChaincodeEventsResponse(events=events, block_number=number)
