"""A bare Gateway client for wire tests, on raw gRPC stubs and tests/devnet/txbuild (not fabric_client)."""

from __future__ import annotations

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from google.rpc import status_pb2

from tests.devnet.txbuild import Signer, sign_envelope, signed_proposal


class Wire:
    def __init__(
        self, address: str, signer: Signer, channel: str = "gxchannel", chaincode: str = "gx"
    ) -> None:
        self.channel_obj = grpc.aio.insecure_channel(address)
        self.stub = gateway_pb2_grpc.GatewayStub(self.channel_obj)
        self.signer = signer
        self.channel = channel
        self.chaincode = chaincode

    async def close(self) -> None:
        await self.channel_obj.close()

    async def evaluate(
        self, *args: str, chaincode: str | None = None, **kw: object
    ) -> gateway_pb2.EvaluateResponse:
        txid, sp = signed_proposal(self.signer, chaincode or self.chaincode, *args, channel=self.channel)
        return await self.stub.Evaluate(
            gateway_pb2.EvaluateRequest(
                transaction_id=txid, channel_id=self.channel, proposed_transaction=sp, **kw
            ),
            timeout=30,
        )

    async def endorse(
        self, *args: str, chaincode: str | None = None, **kw: object
    ) -> tuple[str, common_pb2.Envelope]:
        txid, sp = signed_proposal(self.signer, chaincode or self.chaincode, *args, channel=self.channel)
        reply = await self.stub.Endorse(
            gateway_pb2.EndorseRequest(
                transaction_id=txid, channel_id=self.channel, proposed_transaction=sp, **kw
            ),
            timeout=30,
        )
        return txid, reply.prepared_transaction

    async def submit_envelope(self, txid: str, signed: bytes) -> None:
        await self.stub.Submit(
            gateway_pb2.SubmitRequest(
                transaction_id=txid,
                channel_id=self.channel,
                prepared_transaction=common_pb2.Envelope.FromString(signed),
            ),
            timeout=30,
        )

    async def status(self, txid: str, timeout: float = 30) -> gateway_pb2.CommitStatusResponse:  # noqa: ASYNC109
        req = gateway_pb2.CommitStatusRequest(
            transaction_id=txid, channel_id=self.channel, identity=self.signer.creator
        ).SerializeToString()
        return await self.stub.CommitStatus(
            gateway_pb2.SignedCommitStatusRequest(request=req, signature=self.signer.sign(req)),
            timeout=timeout,
        )

    async def submit(self, *args: str) -> tuple[str, bytes, gateway_pb2.CommitStatusResponse]:
        txid, prepared = await self.endorse(*args)
        signed = sign_envelope(self.signer, prepared)
        await self.submit_envelope(txid, signed)
        return txid, signed, await self.status(txid)

    def events(self, start: int | None = None, after: str = "", kind: str | None = None):  # type: ignore[no-untyped-def]
        req = gateway_pb2.ChaincodeEventsRequest(
            channel_id=self.channel,
            chaincode_id=self.chaincode,
            identity=self.signer.creator,
            after_transaction_id=after,
        )
        if start is not None:
            req.start_position.specified.number = start
        if kind == "oldest":
            req.start_position.oldest.SetInParent()
        raw = req.SerializeToString()
        return self.stub.ChaincodeEvents(
            gateway_pb2.SignedChaincodeEventsRequest(request=raw, signature=self.signer.sign(raw))
        )


def details(err: grpc.aio.AioRpcError) -> list[gateway_pb2.ErrorDetail]:
    """The gateway.ErrorDetail entries of an RPC error (from grpc-status-details-bin)."""
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            out = []
            for any_detail in status.details:
                detail = gateway_pb2.ErrorDetail()
                assert any_detail.Unpack(detail)
                out.append(detail)
            return out
    return []
