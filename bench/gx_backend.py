"""A no-op IdentityService.GetUser behind the GX server factory (on grpc.aio or on the lane), or bare grpc.aio.

`bench/edge_bench.py` runs it as its own process and measures its CPU per call, so the figures
are what every GX server pays on every unary call outside its handler: the interceptor chain
(request context and its log line, metrics, errors, auth with a real ES256 token, validation,
client address), grpc.aio itself and the event loop. The handler answers a fixed message.
`--server gx-lane` serves the same wrapped handlers on the lane (services.common.lane) instead of
grpc.aio, and prints the lane's port.

    python bench/gx_backend.py --server gx|gx-lane|bare [--loop uvloop|asyncio] [--profile FILE]
        [--gc settled|default] [--grpc-option NAME=VALUE ...]

It prints its port and an access token (one line each), then serves until SIGTERM. With
`--profile`, cProfile runs over the whole serving time and its stats are written at exit.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import signal
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "gen" / "python")]

import grpc  # noqa: E402
from gx.identity.v1 import identity_pb2, identity_service_pb2, identity_service_pb2_grpc  # noqa: E402

_ISSUER = "gx-identity"
_AUDIENCE = "gx-api"


class _Identity(identity_service_pb2_grpc.IdentityServiceServicer):
    def __init__(self, gx: bool, jwks: bytes) -> None:
        self._gx = gx
        self._jwks = jwks

    async def GetJwks(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        # What Envoy's JWT filter fetches when the backend stands behind the edge.
        from google.api import httpbody_pb2

        return httpbody_pb2.HttpBody(content_type="application/json", data=self._jwks)

    async def GetUser(
        self, request: identity_service_pb2.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> identity_service_pb2.GetUserResponse:
        user_id = request.user_id
        if self._gx:
            from services.common.auth import require_principal

            user_id = require_principal().user_id
        return identity_service_pb2.GetUserResponse(user=identity_pb2.User(user_id=user_id, email="bench@gx"))


def _token_and_verifier() -> tuple[str, Any, bytes]:
    import json
    import time
    import uuid

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    from services.common.auth import StaticKeySource, TokenVerifier

    key = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "roles": ["USER"],
        "iss": _ISSUER,
        "aud": _AUDIENCE,
        "iat": now,
        "exp": now + 3600,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "bench"})
    verifier = TokenVerifier(StaticKeySource({"bench": key.public_key()}), issuer=_ISSUER, audience=_AUDIENCE)
    jwk = {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key())), "kid": "bench", "alg": "ES256"}
    return token, verifier, json.dumps({"keys": [{**jwk, "use": "sig"}]}).encode()


async def _serve(kind: str, options: list[tuple[str, Any]], settle_gc: bool) -> None:
    token, verifier, jwks = _token_and_verifier()
    servicer = _Identity(gx=kind != "bare", jwks=jwks)
    lane: Any = None
    if kind != "bare":
        from services.common.client_address import ClientAddressInterceptor
        from services.common.server import ServiceBinding, bind, create_server
        from services.common.settings import ServiceSettings

        binding = bind(identity_service_pb2_grpc.add_IdentityServiceServicer_to_server, servicer)
        wrapping: list[Any] = []

        def add(server: Any) -> None:
            wrapping.append(server)  # the factory's WrappingServer: its wrapped handlers feed the lane
            binding.add(server)

        gx = create_server(
            ServiceSettings(service_name="bench", listen="127.0.0.1:0"),
            [ServiceBinding(binding.name, add)],
            verifier=verifier,
            extra_interceptors=[ClientAddressInterceptor()],
            options=options,
        )
        server, port = gx.server, gx.port
        if kind == "gx-lane":
            from services.common.lane import UnaryLane

            lane = UnaryLane(wrapping[0].unary_methods, max_message_bytes=4 * 1024 * 1024)
            port = await lane.start("127.0.0.1:0")
    else:
        server = grpc.aio.server(options=options)
        identity_service_pb2_grpc.add_IdentityServiceServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    if kind != "bare" and settle_gc:
        # As `run_server` does for every service once it is up.
        from services.common.server import settle_garbage_collector

        settle_garbage_collector()
    print(port, flush=True)
    print(token, flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    if lane is not None:
        await lane.stop(0)
    await server.stop(0)


def _option(text: str) -> tuple[str, Any]:
    name, _, value = text.partition("=")
    return (name, int(value)) if value.lstrip("-").isdigit() else (name, value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gx_backend", description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("gx", "gx-lane", "bare"), default="gx")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="asyncio")
    parser.add_argument("--profile", help="write cProfile stats here at exit")
    parser.add_argument(
        "--gc",
        choices=("settled", "default"),
        default="settled",
        help="gx: the garbage collector as a started service has it (settled) or CPython's default",
    )
    parser.add_argument(
        "--grpc-option", action="append", default=[], metavar="NAME=VALUE", help="a grpc server option"
    )
    args = parser.parse_args(argv)
    options = [_option(text) for text in args.grpc_option]
    if args.server != "bare":
        from services.common.logging import configure_logging

        # The per-call INFO line is part of the cost: it is written, to /dev/null.
        configure_logging("INFO", "bench", stream=open(os.devnull, "w"))
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    try:
        if args.loop == "uvloop":
            import uvloop

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(_serve(args.server, options, args.gc == "settled"))
        else:
            asyncio.run(_serve(args.server, options, args.gc == "settled"))
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
