"""gRPC tests of the runtime's server factory: auth, validation, errors, health, reflection, metrics, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import time

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from services.common import errors
from services.common.server import run_server
from tests.grpc.common.jwt_helpers import Signer, unsigned_token
from tests.grpc.common.runtime_harness import Running, settings
from tests.grpc.common.runtime_test_proto import COLOR_RED, SERVICE, EchoRequest

VALID = {"email": "a@example.com", "color": COLOR_RED}


def _meta(token: str | None = None, **extra: str) -> list[tuple[str, str]]:
    meta = [(k.replace("_", "-"), v) for k, v in extra.items()]
    if token is not None:
        meta.append(("authorization", f"Bearer {token}"))
    return meta


async def _error(
    coro,
) -> tuple[grpc.StatusCode, error_details_pb2.ErrorInfo | None, error_details_pb2.BadRequest | None, str]:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await coro
    call = err.value
    status = rpc_status.from_call(call)
    info, bad = errors.details_of(status) if status is not None else (None, None)
    return call.code(), info, bad, call.details() or ""


async def test_authenticated_call_reaches_handler_with_principal(running: Running) -> None:
    token = running.signer.token(sub="u-1", roles=["USER", "PARTNER"])
    reply = await running.call("Echo")(EchoRequest(**VALID), metadata=_meta(token, x_request_id="req-123"))
    assert reply.user_id == "u-1"
    assert list(reply.roles) == ["PARTNER", "USER"]
    assert reply.message == "req-123"  # the request id from metadata reached the handler's context


async def test_request_id_is_generated_when_missing_or_unsafe(running: Running) -> None:
    token = running.signer.token()
    a = await running.call("Echo")(EchoRequest(**VALID), metadata=_meta(token))
    b = await running.call("Echo")(
        EchoRequest(**VALID), metadata=_meta(token, x_request_id="bad id with spaces" + "x" * 200)
    )
    assert len(a.message) == 32 and len(b.message) == 32 and a.message != b.message


async def test_missing_token_is_unauthenticated_with_error_info(running: Running) -> None:
    code, info, _, _ = await _error(running.call("Echo")(EchoRequest(**VALID)))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert info is not None and (info.reason, info.domain) == ("TOKEN_MISSING", "runtimetest.gx")
    assert running.behaviour.calls == 0


@pytest.mark.parametrize("kind", ["expired", "forged", "alg-none", "wrong-aud", "garbage"])
async def test_bad_tokens_are_unauthenticated(running: Running, kind: str) -> None:
    now = int(time.time())
    token = {
        "expired": lambda: running.signer.token(iat=now - 2000, exp=now - 1000),
        "forged": lambda: Signer("k1").token(roles=["SUPER_ADMIN"]),
        "alg-none": lambda: unsigned_token("k1"),
        "wrong-aud": lambda: running.signer.token(aud="other"),
        "garbage": lambda: "garbage",
    }[kind]()
    code, info, _, _ = await _error(running.call("Echo")(EchoRequest(**VALID), metadata=_meta(token)))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert info is not None and info.reason == ("TOKEN_EXPIRED" if kind == "expired" else "TOKEN_INVALID")
    assert running.behaviour.calls == 0


async def test_role_rule_refuses_users_and_admits_admins(running: Running) -> None:
    code, info, _, _ = await _error(
        running.call("AdminEcho")(EchoRequest(**VALID), metadata=_meta(running.signer.token(roles=["USER"])))
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert info is not None and info.reason == "ROLE_REQUIRED"
    assert info.metadata["required_roles"] == "ADMIN,SUPER_ADMIN"
    for role in ("ADMIN", "SUPER_ADMIN"):
        reply = await running.call("AdminEcho")(
            EchoRequest(**VALID), metadata=_meta(running.signer.token(sub=role, roles=[role]))
        )
        assert reply.user_id == role


async def test_public_method_needs_no_token_and_ignores_a_bad_one(running: Running) -> None:
    reply = await running.call("PublicEcho")(EchoRequest(**VALID))
    assert reply.user_id == ""
    reply = await running.call("PublicEcho")(EchoRequest(**VALID), metadata=_meta("garbage"))
    assert reply.user_id == ""
    reply = await running.call("PublicEcho")(
        EchoRequest(**VALID), metadata=_meta(running.signer.token(sub="known"))
    )
    assert reply.user_id == "known"


async def test_invalid_request_lists_every_violation_before_the_handler(running: Running) -> None:
    request = EchoRequest(name="x", amount=-1, request_id="nope")
    code, info, bad, _ = await _error(running.call("PublicEcho")(request))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert info is not None and info.reason == "INVALID_FIELDS"
    assert bad is not None
    assert {v.field for v in bad.field_violations} == {"request_id", "email", "name", "amount", "color"}
    assert running.behaviour.calls == 0


async def test_authentication_runs_before_validation(running: Running) -> None:
    code, _, _, _ = await _error(running.call("Echo")(EchoRequest()))
    assert code == grpc.StatusCode.UNAUTHENTICATED


async def test_idempotency_key_metadata_fills_an_empty_request_id(running: Running) -> None:
    key = "123e4567-e89b-12d3-a456-426614174000"
    reply = await running.call("PublicEcho")(EchoRequest(**VALID), metadata=_meta(idempotency_key=key))
    assert reply.request_id == key
    # An explicit request_id wins over the header.
    other = "223e4567-e89b-12d3-a456-426614174000"
    reply = await running.call("PublicEcho")(
        EchoRequest(request_id=other, **VALID), metadata=_meta(idempotency_key=key)
    )
    assert reply.request_id == other
    # The header value is validated like the field.
    code, _, bad, _ = await _error(
        running.call("PublicEcho")(EchoRequest(**VALID), metadata=_meta(idempotency_key="x"))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad is not None and [v.field for v in bad.field_violations] == ["request_id"]


async def test_domain_error_becomes_rich_status(running: Running) -> None:
    code, info, _, details = await _error(
        running.call("PublicEcho")(EchoRequest(mode="not_found", name="ab", **VALID))
    )
    assert code == grpc.StatusCode.NOT_FOUND
    assert details == "no such thing"
    assert info is not None
    assert (info.reason, info.domain, dict(info.metadata)) == (
        "THING_NOT_FOUND",
        "runtimetest.gx",
        {"thing": "ab"},
    )


async def test_unexpected_exception_is_internal_without_internals(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("ERROR", logger="gx.rpc"):
        code, info, _, details = await _error(running.call("PublicEcho")(EchoRequest(mode="boom", **VALID)))
    assert code == grpc.StatusCode.INTERNAL
    assert details == "internal error"
    assert info is not None and info.reason == "INTERNAL"
    assert "hunter2" not in str(info)
    # ...but the cause is logged on the server.
    assert any("hunter2" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


async def test_server_stream_and_error_mid_stream(running: Running) -> None:
    items = [r.message async for r in running.stream("StreamEcho")(EchoRequest(**VALID))]
    assert items == ["0", "1", "2"]
    got: list[str] = []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for r in running.stream("StreamEcho")(EchoRequest(mode="boom", **VALID)):
            got.append(r.message)
    assert got == ["0", "1"]
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    info, _ = errors.details_of(rpc_status.from_call(err.value))
    assert info is not None and info.reason == "STREAM_GONE"


async def test_health_reports_dependency_checks(running: Running) -> None:
    stub = health_pb2_grpc.HealthStub(running.channel)
    for service in ("", SERVICE):
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    running.behaviour.healthy = False
    for _ in range(200):
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=SERVICE))
        if reply.status == health_pb2.HealthCheckResponse.NOT_SERVING:
            break
        await asyncio.sleep(0.02)
    assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
    assert "dependency" in running.gx.health.failing
    running.behaviour.healthy = True
    await running.gx.health.check_once()
    reply = await stub.Check(health_pb2.HealthCheckRequest(service=""))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_services_without_a_token(running: Running) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(running.channel)

    async def requests():
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    names = set()
    async for reply in stub.ServerReflectionInfo(requests()):
        names |= {s.name for s in reply.list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names


async def _http_get(port: int, path: str) -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.decode().partition("\r\n\r\n")
    return int(head.split()[1]), body


async def test_metrics_count_calls_by_code_and_are_served_over_http(running: Running) -> None:
    token = running.signer.token()
    await running.call("Echo")(EchoRequest(**VALID), metadata=_meta(token))
    await _error(running.call("Echo")(EchoRequest(**VALID)))
    labels = {"grpc_type": "unary", "grpc_service": SERVICE, "grpc_method": "Echo"}
    get = running.registry.get_sample_value
    # The client can see a status a moment before the server's interceptor has finished its
    # bookkeeping for that call, so wait (bounded) for the count, then check every figure exactly.
    for _ in range(100):
        if get("grpc_server_handling_seconds_count", labels) == 2:
            break
        await asyncio.sleep(0.02)
    assert get("grpc_server_started_total", labels) == 2
    assert get("grpc_server_handled_total", {**labels, "grpc_code": "OK"}) == 1
    assert get("grpc_server_handled_total", {**labels, "grpc_code": "UNAUTHENTICATED"}) == 1
    assert get("grpc_server_handling_seconds_count", labels) == 2

    port = running.gx.metrics_port
    assert port
    status, body = await _http_get(port, "/metrics")
    assert status == 200
    assert (
        f'grpc_server_handled_total{{grpc_code="OK",grpc_method="Echo",grpc_service="{SERVICE}",grpc_type="unary"}} 1.0'
        in body
    )
    assert (await _http_get(port, "/healthz"))[0] == 200
    assert (await _http_get(port, "/readyz"))[0] == 200
    assert (await _http_get(port, "/nope"))[0] == 404
    running.behaviour.healthy = False
    await running.gx.health.check_once()
    assert (await _http_get(port, "/readyz"))[0] == 503


async def test_graceful_stop_drains_in_flight_calls_and_goes_not_serving(running: Running) -> None:
    slow = asyncio.ensure_future(running.call("PublicEcho")(EchoRequest(mode="slow", **VALID)))
    await asyncio.wait_for(running.behaviour.started.wait(), 10)
    stopping = asyncio.ensure_future(running.gx.stop(grace=10))
    await asyncio.sleep(0.2)
    assert not running.gx.health.ready
    assert not stopping.done()  # waiting for the in-flight call
    running.behaviour.release.set()
    reply = await asyncio.wait_for(slow, 10)
    assert reply.request_id == ""
    await asyncio.wait_for(stopping, 10)
    with pytest.raises(grpc.aio.AioRpcError):
        await running.call("PublicEcho")(EchoRequest(**VALID), timeout=1)


async def test_run_server_stops_on_signal_event_and_closes_resources_in_reverse() -> None:
    closed: list[str] = []
    stop = asyncio.Event()
    ports: list[int] = []

    async def build(stack: contextlib.AsyncExitStack):
        from services.common.server import create_server

        async def close(name: str) -> None:
            closed.append(name)

        stack.push_async_callback(close, "engine")
        stack.push_async_callback(close, "redis")
        from prometheus_client import CollectorRegistry

        gx = create_server(settings(), [], {}, registry=CollectorRegistry())
        ports.append(gx.port)
        return gx

    task = asyncio.ensure_future(run_server(settings(), build, stop=stop))
    for _ in range(100):
        if ports:
            break
        await asyncio.sleep(0.02)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{ports[0]}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), wait_for_ready=True, timeout=5
        )
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    stop.set()
    await asyncio.wait_for(task, 10)
    assert closed == ["redis", "engine"]


async def test_taken_port_is_a_clear_error_and_run_server_exits_without_traceback(running: Running) -> None:
    from prometheus_client import CollectorRegistry

    from services.common.server import create_server

    taken = settings(listen=running.gx.address)
    with pytest.raises(OSError, match="in use or unavailable"):
        create_server(taken, [], registry=CollectorRegistry())

    async def build(stack: contextlib.AsyncExitStack):
        return create_server(taken, [], registry=CollectorRegistry())

    with pytest.raises(SystemExit) as err:
        await run_server(taken, build)
    assert err.value.code == 2


async def test_a_started_server_keeps_start_up_objects_out_of_later_collections() -> None:
    import gc

    from prometheus_client import CollectorRegistry

    from services.common.server import create_server

    stop = asyncio.Event()
    ports: list[int] = []
    threshold = gc.get_threshold()
    gc.unfreeze()

    async def build(stack: contextlib.AsyncExitStack):
        gx = create_server(settings(), [], {}, registry=CollectorRegistry())
        ports.append(gx.port)
        return gx

    task = asyncio.ensure_future(run_server(settings(), build, stop=stop))
    try:
        for _ in range(500):
            if gc.get_freeze_count():
                break
            await asyncio.sleep(0.02)
        assert ports
        # What start-up built is frozen: a full collection walks none of it.
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold() == threshold
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        gc.unfreeze()
        gc.set_threshold(*threshold)
