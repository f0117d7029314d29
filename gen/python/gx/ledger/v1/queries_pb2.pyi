from gx.ledger.v1 import options_pb2 as _options_pb2
from gx.ledger.v1 import resources_pb2 as _resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetBalanceRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class GetBalanceResult(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: _resources_pb2.Account
    def __init__(self, account: _Optional[_Union[_resources_pb2.Account, _Mapping]] = ...) -> None: ...

class ListAccountsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAccountsResult(_message.Message):
    __slots__ = ("accounts", "next_page_token")
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Account]
    next_page_token: str
    def __init__(self, accounts: _Optional[_Iterable[_Union[_resources_pb2.Account, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetUserRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class GetUserResult(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: _resources_pb2.User
    def __init__(self, user: _Optional[_Union[_resources_pb2.User, _Mapping]] = ...) -> None: ...

class GetCountryRequest(_message.Message):
    __slots__ = ("country_code",)
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    country_code: str
    def __init__(self, country_code: _Optional[str] = ...) -> None: ...

class GetCountryResult(_message.Message):
    __slots__ = ("country",)
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    country: _resources_pb2.Country
    def __init__(self, country: _Optional[_Union[_resources_pb2.Country, _Mapping]] = ...) -> None: ...

class ListCountriesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCountriesResult(_message.Message):
    __slots__ = ("countries",)
    COUNTRIES_FIELD_NUMBER: _ClassVar[int]
    countries: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Country]
    def __init__(self, countries: _Optional[_Iterable[_Union[_resources_pb2.Country, _Mapping]]] = ...) -> None: ...

class GetOrganizationRequest(_message.Message):
    __slots__ = ("organization_id",)
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    def __init__(self, organization_id: _Optional[str] = ...) -> None: ...

class GetOrganizationResult(_message.Message):
    __slots__ = ("organization", "account")
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    organization: _resources_pb2.Organization
    account: _resources_pb2.Account
    def __init__(self, organization: _Optional[_Union[_resources_pb2.Organization, _Mapping]] = ..., account: _Optional[_Union[_resources_pb2.Account, _Mapping]] = ...) -> None: ...

class GetMultisigTxRequest(_message.Message):
    __slots__ = ("multisig_tx_id",)
    MULTISIG_TX_ID_FIELD_NUMBER: _ClassVar[int]
    multisig_tx_id: str
    def __init__(self, multisig_tx_id: _Optional[str] = ...) -> None: ...

class GetMultisigTxResult(_message.Message):
    __slots__ = ("multisig_tx",)
    MULTISIG_TX_FIELD_NUMBER: _ClassVar[int]
    multisig_tx: _resources_pb2.MultisigTx
    def __init__(self, multisig_tx: _Optional[_Union[_resources_pb2.MultisigTx, _Mapping]] = ...) -> None: ...

class GetLoanRequest(_message.Message):
    __slots__ = ("loan_id",)
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    def __init__(self, loan_id: _Optional[str] = ...) -> None: ...

class GetLoanResult(_message.Message):
    __slots__ = ("loan",)
    LOAN_FIELD_NUMBER: _ClassVar[int]
    loan: _resources_pb2.Loan
    def __init__(self, loan: _Optional[_Union[_resources_pb2.Loan, _Mapping]] = ...) -> None: ...

class ListLoansRequest(_message.Message):
    __slots__ = ("borrower_id",)
    BORROWER_ID_FIELD_NUMBER: _ClassVar[int]
    borrower_id: str
    def __init__(self, borrower_id: _Optional[str] = ...) -> None: ...

class ListLoansResult(_message.Message):
    __slots__ = ("loans",)
    LOANS_FIELD_NUMBER: _ClassVar[int]
    loans: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Loan]
    def __init__(self, loans: _Optional[_Iterable[_Union[_resources_pb2.Loan, _Mapping]]] = ...) -> None: ...

class GetProposalRequest(_message.Message):
    __slots__ = ("proposal_id",)
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    def __init__(self, proposal_id: _Optional[str] = ...) -> None: ...

class GetProposalResult(_message.Message):
    __slots__ = ("proposal",)
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    proposal: _resources_pb2.Proposal
    def __init__(self, proposal: _Optional[_Union[_resources_pb2.Proposal, _Mapping]] = ...) -> None: ...

class GetSystemStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSystemStatusResult(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: _resources_pb2.SystemStatus
    def __init__(self, status: _Optional[_Union[_resources_pb2.SystemStatus, _Mapping]] = ...) -> None: ...

class GetRequestRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class GetRequestResult(_message.Message):
    __slots__ = ("function", "result_json", "tx_id")
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    TX_ID_FIELD_NUMBER: _ClassVar[int]
    function: str
    result_json: str
    tx_id: str
    def __init__(self, function: _Optional[str] = ..., result_json: _Optional[str] = ..., tx_id: _Optional[str] = ...) -> None: ...
