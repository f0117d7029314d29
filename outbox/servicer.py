"""gx.ops.v1.OutboxAdminService: proto in, `outbox.admin` use case, proto out."""

from __future__ import annotations

from datetime import datetime

import grpc
from google.protobuf import timestamp_pb2
from gx.ops.v1 import outbox_pb2, outbox_service_pb2, outbox_service_pb2_grpc
from gx.type.v1 import operation_pb2

from outbox.admin import CommandView, OutboxAdmin
from services.common import command_types


def _ts(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def command_to_proto(view: CommandView) -> outbox_pb2.OutboxCommand:
    """The operator's view of one command."""
    message = outbox_pb2.OutboxCommand(
        command_id=str(view.id),
        tenant=view.tenant,
        command_type=command_types.value_or_unspecified(view.command_type),
        request_id=view.request_id,
        status=operation_pb2.OperationState.Value(f"OPERATION_STATE_{view.status}"),
        payload_json=view.payload_json,
        attempts=view.attempts,
        lease_owner=view.lease_owner or "",
        fabric_tx_id=view.tx_id or "",
        block_number=view.block_number or 0,
        validation_code=view.validation_code or "",
        error_code=view.error_code or "",
        error_message=view.error_message or "",
        result_json=view.result_json or "",
        retry_of_command_id=str(view.retry_of) if view.retry_of else "",
        projected=bool(view.projected),
        exclusive_keys=list(view.exclusive_keys or []),
        shared_keys=list(view.shared_keys or []),
        depends_on_command_id=str(view.depends_on) if view.depends_on else "",
        blocked_by_command_id=str(view.blocked_by) if view.blocked_by else "",
    )
    for field, value in (
        ("next_attempt_time", view.next_attempt_at),
        ("lease_expire_time", view.lease_expires_at),
        ("create_time", view.created_at),
        ("update_time", view.updated_at),
    ):
        stamp = _ts(value)
        if stamp is not None:
            getattr(message, field).CopyFrom(stamp)
    return message


def _status_name(value: int) -> str | None:
    if value == operation_pb2.OPERATION_STATE_UNSPECIFIED:
        return None
    return str(operation_pb2.OperationState.Name(value)).removeprefix("OPERATION_STATE_")


class OutboxAdminServicer(outbox_service_pb2_grpc.OutboxAdminServiceServicer):
    """Thin adapter; access (admins only) and validation come from the protos via the runtime's interceptors."""

    def __init__(self, admin: OutboxAdmin, operation_of: object = None) -> None:
        self._admin = admin
        self._operation_of = operation_of

    async def ListOutboxCommands(
        self, request: outbox_service_pb2.ListOutboxCommandsRequest, context: grpc.aio.ServicerContext
    ) -> outbox_service_pb2.ListOutboxCommandsResponse:
        views, token = await self._admin.list(
            _status_name(request.status), request.page_size, request.page_token
        )
        return outbox_service_pb2.ListOutboxCommandsResponse(
            commands=[command_to_proto(v) for v in views], next_page_token=token
        )

    async def GetOutboxCommand(
        self, request: outbox_service_pb2.GetOutboxCommandRequest, context: grpc.aio.ServicerContext
    ) -> outbox_service_pb2.GetOutboxCommandResponse:
        return outbox_service_pb2.GetOutboxCommandResponse(
            command=command_to_proto(await self._admin.get(request.command_id))
        )

    async def RetryOutboxCommand(
        self, request: outbox_service_pb2.RetryOutboxCommandRequest, context: grpc.aio.ServicerContext
    ) -> outbox_service_pb2.RetryOutboxCommandResponse:
        view = await self._admin.retry(request.command_id, request.request_id, force=request.force)
        response = outbox_service_pb2.RetryOutboxCommandResponse(command=command_to_proto(view))
        if callable(self._operation_of):
            operation = await self._operation_of(str(view.id))
            if operation is not None:
                response.operation.CopyFrom(operation)
        return response

    async def CancelOutboxCommand(
        self, request: outbox_service_pb2.CancelOutboxCommandRequest, context: grpc.aio.ServicerContext
    ) -> outbox_service_pb2.CancelOutboxCommandResponse:
        view = await self._admin.cancel(request.command_id, request.reason)
        return outbox_service_pb2.CancelOutboxCommandResponse(command=command_to_proto(view))
