from google.protobuf import descriptor_pb2 as _descriptor_pb2
from gx.type.v1 import command_pb2 as _command_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
COMMAND_FIELD_NUMBER: _ClassVar[int]
command: _descriptor.FieldDescriptor
QUERY_FIELD_NUMBER: _ClassVar[int]
query: _descriptor.FieldDescriptor

class CommandOptions(_message.Message):
    __slots__ = ("type", "contract", "function", "submitter_role")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    SUBMITTER_ROLE_FIELD_NUMBER: _ClassVar[int]
    type: _command_pb2.CommandType
    contract: str
    function: str
    submitter_role: str
    def __init__(self, type: _Optional[_Union[_command_pb2.CommandType, str]] = ..., contract: _Optional[str] = ..., function: _Optional[str] = ..., submitter_role: _Optional[str] = ...) -> None: ...

class QueryOptions(_message.Message):
    __slots__ = ("contract", "function")
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    contract: str
    function: str
    def __init__(self, contract: _Optional[str] = ..., function: _Optional[str] = ...) -> None: ...
