from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import field_info_pb2 as _field_info_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from gx.type.v1 import access_pb2 as _access_pb2
from gx.type.v1 import command_pb2 as _command_pb2
from gx.type.v1 import operation_pb2 as _operation_pb2
from gx.type.v1 import validation_pb2 as _validation_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

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
