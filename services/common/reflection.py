"""Server reflection for the whole mesh, so `grpcurl EDGE list/describe` sees every gx service.

Reflection is one gRPC service name (`grpc.reflection.v1alpha.ServerReflection`), so the edge
can route it to one process only; that process must therefore answer for every gx service,
not just its own. The contracts are the same everywhere (one generated package, the same
descriptors the edge transcodes with), so it loads every generated gx service module and
lists them all. The edge routes each listed service's calls to the process that serves it.
Only the process the edge sends reflection to (identity) uses this; the others keep
reflecting exactly what they serve, so grpcurl against one of them directly stays truthful.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import grpc
from grpc_reflection.v1alpha import reflection_pb2_grpc
from grpc_reflection.v1alpha.reflection import aio

# The generated packages of our contracts (gen/python/gx/<domain>/v1/*_pb2.py).
_ROOT: Final = "gx"


def mesh_service_names() -> list[str]:
    """Import every generated gx `*_pb2` module and return the full names of their services, sorted.

    Importing registers each file (and its imports) in the default descriptor pool, which the
    reflection servicer answers from.
    """
    root = importlib.import_module(_ROOT)
    names: set[str] = set()
    # The generated packages have no __init__.py (namespace packages), which pkgutil cannot walk.
    for base in (Path(p) for p in root.__path__):
        for path in sorted(base.rglob("*_pb2.py")):
            module = importlib.import_module(".".join((_ROOT, *path.relative_to(base).with_suffix("").parts)))
            names.update(s.full_name for s in module.DESCRIPTOR.services_by_name.values())
    return sorted(names)


class _ReflectionServicer(aio.ReflectionServicer):  # type: ignore[misc]
    """grpcio-reflection's servicer, able to find the file of a method too.

    `grpcurl describe Service.Method` asks for the file containing the method's name; the upb
    descriptor pool finds types and fields by name but not methods, so the stock servicer
    answered NOT_FOUND. A method's file is its service's.
    """

    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        answer = super()._file_containing_symbol(request, fully_qualified_name)
        if answer.HasField("file_descriptor_response"):
            return answer
        service, _, method = fully_qualified_name.rpartition(".")
        try:
            found = self._pool.FindServiceByName(service)
        except KeyError:
            return answer
        if method in found.methods_by_name:
            return super()._file_containing_symbol(request, service)
        return answer


def enable_reflection(service_names: Sequence[str], server: grpc.aio.Server) -> None:
    """Serve `grpc.reflection.v1alpha.ServerReflection` for `service_names` on an aio server."""
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(_ReflectionServicer(service_names), server)
