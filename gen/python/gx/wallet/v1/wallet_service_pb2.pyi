from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import field_info_pb2 as _field_info_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from gx.type.v1 import access_pb2 as _access_pb2
from gx.type.v1 import command_pb2 as _command_pb2
from gx.type.v1 import operation_pb2 as _operation_pb2
from gx.type.v1 import validation_pb2 as _validation_pb2
from gx.wallet.v1 import wallet_pb2 as _wallet_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetWalletRequest(_message.Message):
    __slots__ = ("wallet_id",)
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    def __init__(self, wallet_id: _Optional[str] = ...) -> None: ...

class GetWalletResponse(_message.Message):
    __slots__ = ("wallet",)
    WALLET_FIELD_NUMBER: _ClassVar[int]
    wallet: _wallet_pb2.Wallet
    def __init__(self, wallet: _Optional[_Union[_wallet_pb2.Wallet, _Mapping]] = ...) -> None: ...

class ListTransactionsRequest(_message.Message):
    __slots__ = ("wallet_id", "page_size", "page_token", "types", "start_time", "end_time")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    page_size: int
    page_token: str
    types: _containers.RepeatedScalarFieldContainer[_wallet_pb2.TransactionType]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, wallet_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., types: _Optional[_Iterable[_Union[_wallet_pb2.TransactionType, str]]] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListTransactionsResponse(_message.Message):
    __slots__ = ("transactions", "next_page_token")
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    transactions: _containers.RepeatedCompositeFieldContainer[_wallet_pb2.Transaction]
    next_page_token: str
    def __init__(self, transactions: _Optional[_Iterable[_Union[_wallet_pb2.Transaction, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PreviewTransferRequest(_message.Message):
    __slots__ = ("wallet_id", "to_user_id", "to_wallet_id", "amount_qirat")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    TO_USER_ID_FIELD_NUMBER: _ClassVar[int]
    TO_WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    to_user_id: str
    to_wallet_id: str
    amount_qirat: int
    def __init__(self, wallet_id: _Optional[str] = ..., to_user_id: _Optional[str] = ..., to_wallet_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ...) -> None: ...

class PreviewTransferResponse(_message.Message):
    __slots__ = ("fee_qirat", "total_qirat", "net_qirat", "fee_bps", "cross_border", "balance_qirat")
    FEE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_QIRAT_FIELD_NUMBER: _ClassVar[int]
    NET_QIRAT_FIELD_NUMBER: _ClassVar[int]
    FEE_BPS_FIELD_NUMBER: _ClassVar[int]
    CROSS_BORDER_FIELD_NUMBER: _ClassVar[int]
    BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    fee_qirat: int
    total_qirat: int
    net_qirat: int
    fee_bps: int
    cross_border: bool
    balance_qirat: int
    def __init__(self, fee_qirat: _Optional[int] = ..., total_qirat: _Optional[int] = ..., net_qirat: _Optional[int] = ..., fee_bps: _Optional[int] = ..., cross_border: bool = ..., balance_qirat: _Optional[int] = ...) -> None: ...

class TransferRequest(_message.Message):
    __slots__ = ("wallet_id", "request_id", "to_user_id", "to_wallet_id", "amount_qirat", "remark")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TO_USER_ID_FIELD_NUMBER: _ClassVar[int]
    TO_WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    request_id: str
    to_user_id: str
    to_wallet_id: str
    amount_qirat: int
    remark: str
    def __init__(self, wallet_id: _Optional[str] = ..., request_id: _Optional[str] = ..., to_user_id: _Optional[str] = ..., to_wallet_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., remark: _Optional[str] = ...) -> None: ...

class GetOperationRequest(_message.Message):
    __slots__ = ("operation_id",)
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    operation_id: str
    def __init__(self, operation_id: _Optional[str] = ...) -> None: ...

class WaitOperationRequest(_message.Message):
    __slots__ = ("operation_id", "timeout")
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    operation_id: str
    timeout: _duration_pb2.Duration
    def __init__(self, operation_id: _Optional[str] = ..., timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...
