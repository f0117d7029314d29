"""A tiny key/value chaincode on fabric_contract_api, run as a service, for devnet and client tests.

Run it as Fabric runs an external chaincode (CCaaS)::

    CHAINCODE_SERVER_ADDRESS=127.0.0.1:PORT CHAINCODE_ID=kv:1.0 python tests/support/kv_chaincode.py

It applies the chaincode helper's event fix (``chaincode/shim_fix.py``) when that module exists, unless
``KV_SHIM_FIX=0`` is set: the stock fabric-chaincode-python 2.5.4 shim drops chaincode events, and the
devnet must show that defect rather than hide it, so tests can run this chaincode both ways.

Functions (all arguments are strings, as on the wire):
    Put(key, value), Get(key), Delete(key), PutThenGet(key, value) (shows there is no read-your-own-write),
    SetBalance(account, amount), Transfer(src, dst, amount) (reads then writes: MVCC tests),
    Balance(account), Count(start, end) (range scan: phantom tests), Page(start, end, page_size, bookmark),
    History(key), RichQuery(query) (CouchDB only: a LevelDB peer refuses), EmitEvent(name, payload),
    Fail(status, message) (answers with that chaincode status), Sleep(millis), Role() (the caller's ``gxc_role`` attribute),
    Creator() (the caller's MSP id).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from fabric_chaincode_python.fabric_contract_api import Contract, ContractChaincode, TransactionContext
from fabric_protos.peer import proposal_response_pb2

_BALANCE_PREFIX = "balance~"


def _text(raw: Any) -> str:
    """Decode a state value (bytes or None) to text; a missing key reads as empty."""
    if not raw:
        return ""
    return bytes(raw).decode("utf-8")


class KvContract(Contract):
    """Key/value operations exercising each shim request a devnet must serve."""

    def __init__(self) -> None:
        super().__init__()
        # The first contract added is the default one, so callers send plain "Put", "Get", ...
        self.Name = "kv"

    async def Put(self, ctx: TransactionContext, key: str, value: str) -> None:
        """Write ``value`` under ``key``."""
        await ctx.get_stub().put_state(key, value.encode("utf-8"))

    async def Get(self, ctx: TransactionContext, key: str) -> str:
        """Return the value under ``key`` ("" when missing: the read is still recorded)."""
        return _text(await ctx.get_stub().get_state(key))

    async def Delete(self, ctx: TransactionContext, key: str) -> None:
        """Delete ``key``."""
        await ctx.get_stub().delete_state(key)

    async def PutThenGet(self, ctx: TransactionContext, key: str, value: str) -> str:
        """Write then read ``key``; Fabric returns the committed value, not the one just written."""
        stub = ctx.get_stub()
        await stub.put_state(key, value.encode("utf-8"))
        return _text(await stub.get_state(key))

    async def SetBalance(self, ctx: TransactionContext, account: str, amount: str) -> None:
        """Set an integer balance (blind write: no read)."""
        await ctx.get_stub().put_state(_BALANCE_PREFIX + account, str(int(amount)).encode("utf-8"))

    async def Balance(self, ctx: TransactionContext, account: str) -> str:
        """Return an integer balance ("0" when the account does not exist)."""
        return str(int(_text(await ctx.get_stub().get_state(_BALANCE_PREFIX + account)) or 0))

    async def Transfer(self, ctx: TransactionContext, src: str, dst: str, amount: str) -> str:
        """Move ``amount`` from ``src`` to ``dst``: two reads, then two writes; refuses an overdraft."""
        stub = ctx.get_stub()
        value = int(amount)
        src_balance = int(_text(await stub.get_state(_BALANCE_PREFIX + src)) or 0)
        dst_balance = int(_text(await stub.get_state(_BALANCE_PREFIX + dst)) or 0)
        if value <= 0 or src_balance < value:
            raise ValueError(f"insufficient funds: {src} has {src_balance}, needs {value}")
        await stub.put_state(_BALANCE_PREFIX + src, str(src_balance - value).encode("utf-8"))
        await stub.put_state(_BALANCE_PREFIX + dst, str(dst_balance + value).encode("utf-8"))
        return str(src_balance - value)

    async def Count(self, ctx: TransactionContext, start: str, end: str) -> str:
        """Count the keys in [start, end) and record the count under ``count~<start>`` (a phantom-read target)."""
        stub = ctx.get_stub()
        count = 0
        async for _ in await stub.get_state_by_range(start, end):
            count += 1
        await stub.put_state(f"count~{start}", str(count).encode("utf-8"))
        return str(count)

    async def Page(self, ctx: TransactionContext, start: str, end: str, page_size: str, bookmark: str) -> str:
        """Return one page of [start, end) as JSON ``{"keys": [...], "bookmark": "..."}``."""
        iterator = await ctx.get_stub().get_state_by_range_with_pagination(
            start, end, int(page_size), bookmark
        )
        keys = [kv.key async for kv in iterator]
        return json.dumps({"keys": keys, "bookmark": getattr(iterator, "bookmark", "")})

    async def History(self, ctx: TransactionContext, key: str) -> str:
        """Return the key's history as JSON, newest first as Fabric 2.x returns it: ``[{"tx_id", "value", "is_delete"}]``."""
        out = []
        async for mod in await ctx.get_stub().get_history_for_key(key):
            out.append({"tx_id": mod.tx_id, "value": _text(mod.value), "is_delete": bool(mod.is_delete)})
        return json.dumps(out)

    async def RichQuery(self, ctx: TransactionContext, query: str) -> str:
        """Run a CouchDB query; a LevelDB peer (and devnet) answers with an error."""
        return json.dumps([kv.key async for kv in await ctx.get_stub().get_query_result(query)])

    async def EmitEvent(self, ctx: TransactionContext, name: str, payload: str) -> None:
        """Set a chaincode event (only reaches the peer with the shim fix applied)."""
        ctx.get_stub().set_event(name, payload.encode("utf-8"))

    async def Sleep(self, ctx: TransactionContext, millis: str) -> None:
        """Take ``millis`` ms (execute-timeout and in-flight duplicate tests)."""
        import asyncio

        await asyncio.sleep(int(millis) / 1000)

    async def Role(self, ctx: TransactionContext) -> str:
        """Return the caller's ``gxc_role`` certificate attribute, or "".

        Read from the certificate here: fabric-chaincode-python 2.5.4's ``ClientIdentity.get_attribute``
        never parses the Fabric CA attribute extension and always answers None.
        """
        from cryptography import x509

        cert = x509.load_pem_x509_certificate(ctx.get_client_identity().get_x509())
        try:
            ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1"))
        except x509.ExtensionNotFound:
            return ""
        raw = ext.value.value if isinstance(ext.value, x509.UnrecognizedExtension) else b"{}"
        return str(json.loads(raw).get("attrs", {}).get("gxc_role", ""))

    async def Creator(self, ctx: TransactionContext) -> str:
        """Return the caller's MSP id."""
        return ctx.get_client_identity().get_mspid()


class KvChaincode(ContractChaincode):
    """The contract chaincode plus ``Fail(status, message)``, which the contract API cannot express.

    The contract API turns every error into status 500; tests of the gateway's error shapes also need
    other statuses (4xx rejects, 3xx still endorses), so Fail answers with a raw shim Response.
    """

    async def invoke(self, stub: Any) -> Any:
        function, params = stub.get_function_and_parameters()
        args = [function, *params]
        if args and args[0] == "Fail":
            status = int(args[1]) if len(args) > 1 else 500
            message = args[2] if len(args) > 2 else "failed on request"
            return proposal_response_pb2.Response(status=status, message=message, payload=message.encode())
        return await super().invoke(stub)


def _apply_shim_fix() -> tuple[str, bool]:
    """Apply chaincode/shim_fix.py when present and wanted.

    Returns:
        What was done (for the log line), and whether stream writes are now serialised by it.
    """
    if os.environ.get("KV_SHIM_FIX", "1") == "0":
        return "disabled by KV_SHIM_FIX=0", False
    root = Path(__file__).resolve().parents[2]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        from chaincode import shim_fix
    except ImportError:
        return "chaincode/shim_fix.py not present", False
    report = shim_fix.apply()
    return repr(report), bool(getattr(report, "writes_patched", False))


class _SerialWrites:
    """Wraps the shim's stream context so that only one write is in flight at a time.

    fabric-chaincode-python 2.5.4 runs each transaction in its own task and every task calls
    ``context.write`` directly; two concurrent transactions then fail with gRPC's
    GRPC_CALL_ERROR_TOO_MANY_OPERATIONS (a peer sends transactions concurrently, as Fabric does). The Go
    shim serialises sends with a mutex; this does the same.
    """

    def __init__(self, context: Any) -> None:
        self._context = context
        self._lock: Any = None

    async def write(self, message: Any) -> None:
        import asyncio

        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            await self._context.write(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def _serialise_stream_writes() -> str:
    """Patch the shim handler so concurrent transactions do not write to the stream at once."""
    if os.environ.get("KV_SERIAL_WRITES", "1") == "0":
        return "disabled by KV_SERIAL_WRITES=0"
    from fabric_chaincode_python.fabric_shim import handler as handler_mod

    original = handler_mod.Handler.chat_with_peer
    if getattr(original, "_kv_serial", False):
        return "already applied"

    async def chat_with_peer(self: Any, stream: Any, context: Any) -> Any:
        return await original(self, stream, _SerialWrites(context))

    chat_with_peer._kv_serial = True  # type: ignore[attr-defined]
    handler_mod.Handler.chat_with_peer = chat_with_peer  # type: ignore[method-assign]
    return "applied"


def main() -> None:
    """Start the chaincode server; the address and id come from the CCaaS environment variables."""
    import logging

    fix, writes_fixed = _apply_shim_fix()
    # Without the chaincode package's fix (stock-shim runs show the event defect), concurrent
    # transactions would still crash the stream; serialise writes here so only the event defect shows.
    serial = "done by shim_fix" if writes_fixed else _serialise_stream_writes()
    # The shim logs every message (the whole proposal at INFO, "Look out!" at WARNING) on the "asyncio"
    # logger; under load that is a third of its CPU time, so the test chaincode logs errors only by default.
    logging.getLogger().setLevel(os.environ.get("KV_LOG_LEVEL", "ERROR"))
    from fabric_chaincode_python.fabric_shim.logging import LOGGER

    LOGGER.setLevel(os.environ.get("KV_LOG_LEVEL", "ERROR"))
    print(json.dumps({"msg": "kv chaincode starting", "shim_fix": fix, "serial_writes": serial}), flush=True)
    KvChaincode.new_chaincode(KvContract()).start()


if __name__ == "__main__":
    main()
