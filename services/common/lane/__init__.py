"""The edge lane: unary gRPC calls over a thin HTTP/2 server on an asyncio Protocol.

grpc.aio hands every completion from its poller thread to the event loop (a wake-up, a future, a
task switch, the GIL); for the unary calls Envoy sends, that transport cost more than the whole
call chain. The lane reads frames straight from an asyncio Protocol and runs the SAME wrapped
handlers (rpc.WrappingServer.unary_methods), so logging, metrics, errors, auth and validation are
the chain's, not a copy. Modules: `frames` (wire pieces, HPACK literals), `context` (the call
context), `connection` (the HTTP/2 protocol), `server` (`UnaryLane`).
"""

from services.common.lane.context import LaneContext
from services.common.lane.server import UnaryLane

__all__ = ["LaneContext", "UnaryLane"]
