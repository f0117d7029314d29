"""A stand-in identity backend for testing the Envoy edge itself (routing, error mapping, JWT checks).

It implements a few IdentityService RPCs with fixed behaviour the edge tests can assert on; it is
not the identity service and knows nothing of its rules. Real gRPC, real health and reflection.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent import futures
from dataclasses import dataclass

import grpc
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from google.api import httpbody_pb2
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status
from gx.identity.v1 import identity_pb2, identity_service_pb2, identity_service_pb2_grpc
from gx.type.v1 import command_pb2, operation_pb2
from gx.wallet.v1 import wallet_pb2, wallet_service_pb2, wallet_service_pb2_grpc

MISSING_USER_ID = "00000000-0000-4000-8000-000000000404"
# The rows of the fixed history page, as many as bench/wallet_bench.py seeds per user.
HISTORY_PAGE_ROWS = 20
_SERVICE = "gx.identity.v1.IdentityService"


@dataclass
class SigningKey:
    """An ES256 key with its JWKS entry, to mint tokens the edge must accept or refuse."""

    kid: str
    private: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        """Make a fresh P-256 key with a random kid."""
        return cls(kid=uuid.uuid4().hex[:16], private=ec.generate_private_key(ec.SECP256R1()))

    def jwk(self) -> dict[str, str]:
        """The public key as a JWK."""
        data = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        return {**data, "kid": self.kid, "use": "sig", "alg": "ES256"}

    def token(
        self, *, issuer: str = "gx-identity", audience: str = "gx-api", ttl: int = 300, sub: str = "u1"
    ) -> str:
        """Sign an access token with the claims the edge checks."""
        now = int(time.time())
        claims = {
            "sub": sub,
            "iss": issuer,
            "aud": audience,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.private, algorithm="ES256", headers={"kid": self.kid})


class _Identity(identity_service_pb2_grpc.IdentityServiceServicer):
    def __init__(self, key: SigningKey) -> None:
        self._key = key

    def GetJwks(self, request, context):
        body = json.dumps({"keys": [self._key.jwk()]}).encode()
        return httpbody_pb2.HttpBody(content_type="application/json", data=body)

    def RegisterUser(self, request, context):
        metadata = dict(context.invocation_metadata())
        user = identity_pb2.User(
            user_id=str(uuid.uuid4()),
            email=request.email,
            # Echo what arrived as metadata so tests can see headers crossing the edge.
            display_name=f"{request.display_name}|{metadata.get('idempotency-key', '')}",
        )
        return identity_service_pb2.RegisterUserResponse(user=user)

    def GetUser(self, request, context):
        if request.user_id == MISSING_USER_ID:
            info = error_details_pb2.ErrorInfo(
                reason="USER_NOT_FOUND", domain="identity.gx", metadata={"userId": request.user_id}
            )
            detail = any_pb2.Any()
            detail.Pack(info)
            context.abort_with_status(
                rpc_status.to_status(
                    status_pb2.Status(code=code_pb2.NOT_FOUND, message="user not found", details=[detail])
                )
            )
        metadata = dict(context.invocation_metadata())
        forwarded = metadata.get("authorization", "")
        return identity_service_pb2.GetUserResponse(
            user=identity_pb2.User(user_id=request.user_id, email="edge@test", display_name=forwarded[:7])
        )

    def ApproveKyc(self, request, context):
        context.send_initial_metadata((("x-http-status", "202"),))
        return operation_pb2.Operation(
            name=f"operations/{request.request_id}",
            state=operation_pb2.OPERATION_STATE_PENDING,
            command_type=command_pb2.COMMAND_TYPE_CREATE_USER,
        )


def history_page(rows: int = HISTORY_PAGE_ROWS) -> wallet_service_pb2.ListTransactionsResponse:
    """A page of history as the wallet answers it for a user `bench/wallet_bench.py` seeded: `rows`
    RECEIVED entries of 1 GX from "someone", remark "seed", block 2, a second apart, no operation.

    The page ceiling (`bench interleaved`) serves it, so Envoy transcodes the same fields and
    lengths as for the real read; that benchmark checks the two JSON bodies match in shape.
    """
    wallet_id = str(uuid.uuid4())
    now_us = time.time_ns() // 1000
    page = wallet_service_pb2.ListTransactionsResponse()
    for i in range(1, rows + 1):
        fabric_tx_id = f"seed-{wallet_id}-{i}"
        entry = page.transactions.add(
            tx_id=f"{fabric_tx_id}:0",
            wallet_id=wallet_id,
            type=wallet_pb2.TRANSACTION_TYPE_RECEIVED,
            amount_qirat=1_000_000,
            counterparty="someone",
            remark="seed",
            block_number=2,
            fabric_tx_id=fabric_tx_id,
        )
        stamp = now_us - i * 1_000_000
        entry.time.seconds, entry.time.nanos = stamp // 1_000_000, stamp % 1_000_000 * 1000
    return page


class _WalletPage(wallet_service_pb2_grpc.WalletServiceServicer):
    """ListTransactions answering one fixed page; every other wallet method is UNIMPLEMENTED."""

    def __init__(self) -> None:
        self._page = history_page()

    def ListTransactions(self, request, context):
        return self._page


class EdgeBackend:
    """The stand-in server on a free port; `start()` then `stop()`."""

    def __init__(self, key: SigningKey | None = None) -> None:
        self.key = key or SigningKey.generate()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        identity_service_pb2_grpc.add_IdentityServiceServicer_to_server(_Identity(self.key), self._server)
        # For the page ceiling: an edge that also routes the wallet domain here gets a fixed page.
        wallet_service_pb2_grpc.add_WalletServiceServicer_to_server(_WalletPage(), self._server)
        self._health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        reflection.enable_server_reflection(
            (_SERVICE, health.SERVICE_NAME, reflection.SERVICE_NAME),
            self._server,
        )
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    def start(self) -> None:
        """Start serving and report SERVING."""
        self._server.start()
        self._health.set("", health_pb2.HealthCheckResponse.SERVING)
        self._health.set(_SERVICE, health_pb2.HealthCheckResponse.SERVING)

    def stop(self) -> None:
        """Stop at once."""
        self._server.stop(0).wait(5)


def _serve() -> None:
    """Run the stand-in as its own process (benchmarks): prints its port, then the JWKS key's token, until SIGTERM."""
    import signal
    import sys
    import threading

    backend = EdgeBackend()
    backend.start()
    print(backend.port, flush=True)
    print(backend.key.token(ttl=3600), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    backend.stop()
    sys.exit(0)


if __name__ == "__main__":
    _serve()
