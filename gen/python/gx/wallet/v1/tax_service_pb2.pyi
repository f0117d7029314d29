from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import field_info_pb2 as _field_info_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from gx.type.v1 import access_pb2 as _access_pb2
from gx.type.v1 import command_pb2 as _command_pb2
from gx.type.v1 import operation_pb2 as _operation_pb2
from gx.type.v1 import validation_pb2 as _validation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PreviewVelocityTaxRequest(_message.Message):
    __slots__ = ("wallet_id",)
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    def __init__(self, wallet_id: _Optional[str] = ...) -> None: ...

class PreviewVelocityTaxResponse(_message.Message):
    __slots__ = ("taxable", "balance_qirat", "taxable_balance_qirat", "tax_qirat", "treasury_share_qirat", "charity_share_qirat", "rate_bps", "holding_start_time", "taxable_time")
    TAXABLE_FIELD_NUMBER: _ClassVar[int]
    BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TAXABLE_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TAX_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TREASURY_SHARE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    CHARITY_SHARE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    RATE_BPS_FIELD_NUMBER: _ClassVar[int]
    HOLDING_START_TIME_FIELD_NUMBER: _ClassVar[int]
    TAXABLE_TIME_FIELD_NUMBER: _ClassVar[int]
    taxable: bool
    balance_qirat: int
    taxable_balance_qirat: int
    tax_qirat: int
    treasury_share_qirat: int
    charity_share_qirat: int
    rate_bps: int
    holding_start_time: _timestamp_pb2.Timestamp
    taxable_time: _timestamp_pb2.Timestamp
    def __init__(self, taxable: bool = ..., balance_qirat: _Optional[int] = ..., taxable_balance_qirat: _Optional[int] = ..., tax_qirat: _Optional[int] = ..., treasury_share_qirat: _Optional[int] = ..., charity_share_qirat: _Optional[int] = ..., rate_bps: _Optional[int] = ..., holding_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., taxable_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ApplyVelocityTaxRequest(_message.Message):
    __slots__ = ("wallet_id", "request_id")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    request_id: str
    def __init__(self, wallet_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class VelocityTaxDue(_message.Message):
    __slots__ = ("wallet_id", "balance_qirat", "tax_qirat", "holding_start_time", "due_time")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TAX_QIRAT_FIELD_NUMBER: _ClassVar[int]
    HOLDING_START_TIME_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    balance_qirat: int
    tax_qirat: int
    holding_start_time: _timestamp_pb2.Timestamp
    due_time: _timestamp_pb2.Timestamp
    def __init__(self, wallet_id: _Optional[str] = ..., balance_qirat: _Optional[int] = ..., tax_qirat: _Optional[int] = ..., holding_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., due_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListVelocityTaxDueRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListVelocityTaxDueResponse(_message.Message):
    __slots__ = ("wallets", "next_page_token")
    WALLETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    wallets: _containers.RepeatedCompositeFieldContainer[VelocityTaxDue]
    next_page_token: str
    def __init__(self, wallets: _Optional[_Iterable[_Union[VelocityTaxDue, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SweepVelocityTaxRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class SweepVelocityTaxResponse(_message.Message):
    __slots__ = ("operations", "already_recorded_count")
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    ALREADY_RECORDED_COUNT_FIELD_NUMBER: _ClassVar[int]
    operations: _containers.RepeatedCompositeFieldContainer[_operation_pb2.Operation]
    already_recorded_count: int
    def __init__(self, operations: _Optional[_Iterable[_Union[_operation_pb2.Operation, _Mapping]]] = ..., already_recorded_count: _Optional[int] = ...) -> None: ...
