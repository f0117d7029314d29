from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from gx.type.v1 import command_pb2 as _command_pb2
from gx.type.v1 import operation_pb2 as _operation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OutboxCommand(_message.Message):
    __slots__ = ("command_id", "tenant", "command_type", "request_id", "status", "payload_json", "attempts", "next_attempt_time", "lease_owner", "lease_expire_time", "fabric_tx_id", "block_number", "validation_code", "error_code", "error_message", "result_json", "create_time", "update_time", "retry_of_command_id", "projected", "exclusive_keys", "shared_keys", "depends_on_command_id", "blocked_by_command_id")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    COMMAND_TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    LEASE_OWNER_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    FABRIC_TX_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCK_NUMBER_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RETRY_OF_COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_FIELD_NUMBER: _ClassVar[int]
    EXCLUSIVE_KEYS_FIELD_NUMBER: _ClassVar[int]
    SHARED_KEYS_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_BY_COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    tenant: str
    command_type: _command_pb2.CommandType
    request_id: str
    status: _operation_pb2.OperationState
    payload_json: str
    attempts: int
    next_attempt_time: _timestamp_pb2.Timestamp
    lease_owner: str
    lease_expire_time: _timestamp_pb2.Timestamp
    fabric_tx_id: str
    block_number: int
    validation_code: str
    error_code: str
    error_message: str
    result_json: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    retry_of_command_id: str
    projected: bool
    exclusive_keys: _containers.RepeatedScalarFieldContainer[str]
    shared_keys: _containers.RepeatedScalarFieldContainer[str]
    depends_on_command_id: str
    blocked_by_command_id: str
    def __init__(self, command_id: _Optional[str] = ..., tenant: _Optional[str] = ..., command_type: _Optional[_Union[_command_pb2.CommandType, str]] = ..., request_id: _Optional[str] = ..., status: _Optional[_Union[_operation_pb2.OperationState, str]] = ..., payload_json: _Optional[str] = ..., attempts: _Optional[int] = ..., next_attempt_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., lease_owner: _Optional[str] = ..., lease_expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., fabric_tx_id: _Optional[str] = ..., block_number: _Optional[int] = ..., validation_code: _Optional[str] = ..., error_code: _Optional[str] = ..., error_message: _Optional[str] = ..., result_json: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., retry_of_command_id: _Optional[str] = ..., projected: bool = ..., exclusive_keys: _Optional[_Iterable[str]] = ..., shared_keys: _Optional[_Iterable[str]] = ..., depends_on_command_id: _Optional[str] = ..., blocked_by_command_id: _Optional[str] = ...) -> None: ...
