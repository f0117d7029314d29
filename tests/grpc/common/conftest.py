"""A real in-process GX server (the runtime's factory) around a test service, on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from prometheus_client import CollectorRegistry

from services.common import auth
from services.common.server import create_server
from tests.grpc.common.jwt_helpers import AUDIENCE, ISSUER, Signer
from tests.grpc.common.runtime_harness import Behaviour, Running, binding, settings


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    signer = Signer("k1")
    behaviour = Behaviour()
    registry = CollectorRegistry()

    async def dependency() -> bool:
        return behaviour.healthy

    verifier = auth.TokenVerifier(
        auth.StaticKeySource({signer.kid: signer.public_key}), issuer=ISSUER, audience=AUDIENCE
    )
    gx = create_server(
        settings(), [binding(behaviour)], {"dependency": dependency}, verifier=verifier, registry=registry
    )
    await gx.start()
    channel = grpc.aio.insecure_channel(gx.address)
    try:
        yield Running(gx, channel, signer, behaviour, registry)
    finally:
        behaviour.release.set()
        await channel.close()
        await gx.stop(0)
