from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from gx.ops.v1 import outbox_pb2 as _outbox_pb2
from gx.type.v1 import access_pb2 as _access_pb2
from gx.type.v1 import operation_pb2 as _operation_pb2
from gx.type.v1 import validation_pb2 as _validation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListOutboxCommandsRequest(_message.Message):
    __slots__ = ("status", "page_size", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: _operation_pb2.OperationState
    page_size: int
    page_token: str
    def __init__(self, status: _Optional[_Union[_operation_pb2.OperationState, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOutboxCommandsResponse(_message.Message):
    __slots__ = ("commands", "next_page_token")
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    commands: _containers.RepeatedCompositeFieldContainer[_outbox_pb2.OutboxCommand]
    next_page_token: str
    def __init__(self, commands: _Optional[_Iterable[_Union[_outbox_pb2.OutboxCommand, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetOutboxCommandRequest(_message.Message):
    __slots__ = ("command_id",)
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    def __init__(self, command_id: _Optional[str] = ...) -> None: ...

class GetOutboxCommandResponse(_message.Message):
    __slots__ = ("command",)
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    command: _outbox_pb2.OutboxCommand
    def __init__(self, command: _Optional[_Union[_outbox_pb2.OutboxCommand, _Mapping]] = ...) -> None: ...

class RetryOutboxCommandRequest(_message.Message):
    __slots__ = ("command_id", "request_id", "force")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    request_id: str
    force: bool
    def __init__(self, command_id: _Optional[str] = ..., request_id: _Optional[str] = ..., force: bool = ...) -> None: ...

class RetryOutboxCommandResponse(_message.Message):
    __slots__ = ("command", "operation")
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    command: _outbox_pb2.OutboxCommand
    operation: _operation_pb2.Operation
    def __init__(self, command: _Optional[_Union[_outbox_pb2.OutboxCommand, _Mapping]] = ..., operation: _Optional[_Union[_operation_pb2.Operation, _Mapping]] = ...) -> None: ...

class CancelOutboxCommandRequest(_message.Message):
    __slots__ = ("command_id", "request_id", "reason")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    request_id: str
    reason: str
    def __init__(self, command_id: _Optional[str] = ..., request_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelOutboxCommandResponse(_message.Message):
    __slots__ = ("command",)
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    command: _outbox_pb2.OutboxCommand
    def __init__(self, command: _Optional[_Union[_outbox_pb2.OutboxCommand, _Mapping]] = ...) -> None: ...
