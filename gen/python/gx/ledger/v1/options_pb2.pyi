from google.protobuf import descriptor_pb2 as _descriptor_pb2
from gx.type.v1 import command_pb2 as _command_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LockMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOCK_MODE_UNSPECIFIED: _ClassVar[LockMode]
    LOCK_MODE_SHARED: _ClassVar[LockMode]
    LOCK_MODE_EXCLUSIVE: _ClassVar[LockMode]

class OrderingAggregate(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDERING_AGGREGATE_UNSPECIFIED: _ClassVar[OrderingAggregate]
    ORDERING_AGGREGATE_ACCOUNT: _ClassVar[OrderingAggregate]
    ORDERING_AGGREGATE_ORGANIZATION: _ClassVar[OrderingAggregate]
    ORDERING_AGGREGATE_MULTISIG_TX: _ClassVar[OrderingAggregate]
    ORDERING_AGGREGATE_LOAN: _ClassVar[OrderingAggregate]
    ORDERING_AGGREGATE_PROPOSAL: _ClassVar[OrderingAggregate]
    ORDERING_AGGREGATE_COUNTRY: _ClassVar[OrderingAggregate]
LOCK_MODE_UNSPECIFIED: LockMode
LOCK_MODE_SHARED: LockMode
LOCK_MODE_EXCLUSIVE: LockMode
ORDERING_AGGREGATE_UNSPECIFIED: OrderingAggregate
ORDERING_AGGREGATE_ACCOUNT: OrderingAggregate
ORDERING_AGGREGATE_ORGANIZATION: OrderingAggregate
ORDERING_AGGREGATE_MULTISIG_TX: OrderingAggregate
ORDERING_AGGREGATE_LOAN: OrderingAggregate
ORDERING_AGGREGATE_PROPOSAL: OrderingAggregate
ORDERING_AGGREGATE_COUNTRY: OrderingAggregate
COMMAND_FIELD_NUMBER: _ClassVar[int]
command: _descriptor.FieldDescriptor
QUERY_FIELD_NUMBER: _ClassVar[int]
query: _descriptor.FieldDescriptor
ORDERING_FIELD_NUMBER: _ClassVar[int]
ordering: _descriptor.FieldDescriptor

class CommandOptions(_message.Message):
    __slots__ = ("type", "contract", "function", "submitter_role", "system_lock", "creates")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    SUBMITTER_ROLE_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_LOCK_FIELD_NUMBER: _ClassVar[int]
    CREATES_FIELD_NUMBER: _ClassVar[int]
    type: _command_pb2.CommandType
    contract: str
    function: str
    submitter_role: str
    system_lock: LockMode
    creates: OrderingAggregate
    def __init__(self, type: _Optional[_Union[_command_pb2.CommandType, str]] = ..., contract: _Optional[str] = ..., function: _Optional[str] = ..., submitter_role: _Optional[str] = ..., system_lock: _Optional[_Union[LockMode, str]] = ..., creates: _Optional[_Union[OrderingAggregate, str]] = ...) -> None: ...

class OrderingKey(_message.Message):
    __slots__ = ("aggregate", "mode")
    AGGREGATE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    aggregate: OrderingAggregate
    mode: LockMode
    def __init__(self, aggregate: _Optional[_Union[OrderingAggregate, str]] = ..., mode: _Optional[_Union[LockMode, str]] = ...) -> None: ...

class QueryOptions(_message.Message):
    __slots__ = ("contract", "function")
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    contract: str
    function: str
    def __init__(self, contract: _Optional[str] = ..., function: _Optional[str] = ...) -> None: ...
