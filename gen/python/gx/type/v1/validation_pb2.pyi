from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor
FIELD_FIELD_NUMBER: _ClassVar[int]
field: _descriptor.FieldDescriptor

class FieldRules(_message.Message):
    __slots__ = ("uuid", "min_len", "max_len", "pattern", "email", "gt", "gte", "lte", "min_items", "max_items", "enum_defined")
    UUID_FIELD_NUMBER: _ClassVar[int]
    MIN_LEN_FIELD_NUMBER: _ClassVar[int]
    MAX_LEN_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    GT_FIELD_NUMBER: _ClassVar[int]
    GTE_FIELD_NUMBER: _ClassVar[int]
    LTE_FIELD_NUMBER: _ClassVar[int]
    MIN_ITEMS_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    ENUM_DEFINED_FIELD_NUMBER: _ClassVar[int]
    uuid: bool
    min_len: int
    max_len: int
    pattern: str
    email: bool
    gt: int
    gte: int
    lte: int
    min_items: int
    max_items: int
    enum_defined: bool
    def __init__(self, uuid: bool = ..., min_len: _Optional[int] = ..., max_len: _Optional[int] = ..., pattern: _Optional[str] = ..., email: bool = ..., gt: _Optional[int] = ..., gte: _Optional[int] = ..., lte: _Optional[int] = ..., min_items: _Optional[int] = ..., max_items: _Optional[int] = ..., enum_defined: bool = ...) -> None: ...
