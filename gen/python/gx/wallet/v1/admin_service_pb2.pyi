from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import field_info_pb2 as _field_info_pb2
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

class BootstrapSystemRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class CountryShare(_message.Message):
    __slots__ = ("country_code", "population_share_bps", "name")
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    POPULATION_SHARE_BPS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    country_code: str
    population_share_bps: int
    name: str
    def __init__(self, country_code: _Optional[str] = ..., population_share_bps: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...

class InitializeCountriesRequest(_message.Message):
    __slots__ = ("request_id", "countries")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTRIES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    countries: _containers.RepeatedCompositeFieldContainer[CountryShare]
    def __init__(self, request_id: _Optional[str] = ..., countries: _Optional[_Iterable[_Union[CountryShare, _Mapping]]] = ...) -> None: ...

class UpdateSystemParameterRequest(_message.Message):
    __slots__ = ("name", "request_id", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    value: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class PauseSystemRequest(_message.Message):
    __slots__ = ("request_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ResumeSystemRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class AppointAdminRequest(_message.Message):
    __slots__ = ("request_id", "user_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    user_id: str
    def __init__(self, request_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class ActivateTreasuryRequest(_message.Message):
    __slots__ = ("country_code", "request_id")
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    country_code: str
    request_id: str
    def __init__(self, country_code: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DistributeGenesisRequest(_message.Message):
    __slots__ = ("user_id", "request_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    request_id: str
    def __init__(self, user_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class FreezeWalletRequest(_message.Message):
    __slots__ = ("wallet_id", "request_id", "reason")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    request_id: str
    reason: str
    def __init__(self, wallet_id: _Optional[str] = ..., request_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class UnfreezeWalletRequest(_message.Message):
    __slots__ = ("wallet_id", "request_id")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    request_id: str
    def __init__(self, wallet_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetSystemStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSystemStatusResponse(_message.Message):
    __slots__ = ("system_status",)
    SYSTEM_STATUS_FIELD_NUMBER: _ClassVar[int]
    system_status: _wallet_pb2.SystemStatus
    def __init__(self, system_status: _Optional[_Union[_wallet_pb2.SystemStatus, _Mapping]] = ...) -> None: ...

class ListCountriesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCountriesResponse(_message.Message):
    __slots__ = ("countries", "next_page_token")
    COUNTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    countries: _containers.RepeatedCompositeFieldContainer[_wallet_pb2.Country]
    next_page_token: str
    def __init__(self, countries: _Optional[_Iterable[_Union[_wallet_pb2.Country, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetTreasuryRequest(_message.Message):
    __slots__ = ("country_code",)
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    country_code: str
    def __init__(self, country_code: _Optional[str] = ...) -> None: ...

class GetTreasuryResponse(_message.Message):
    __slots__ = ("treasury",)
    TREASURY_FIELD_NUMBER: _ClassVar[int]
    treasury: _wallet_pb2.Treasury
    def __init__(self, treasury: _Optional[_Union[_wallet_pb2.Treasury, _Mapping]] = ...) -> None: ...
