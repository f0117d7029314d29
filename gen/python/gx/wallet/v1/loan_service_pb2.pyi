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

class ApplyForLoanRequest(_message.Message):
    __slots__ = ("request_id", "amount_qirat", "collateral_hash")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    COLLATERAL_HASH_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    amount_qirat: int
    collateral_hash: str
    def __init__(self, request_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., collateral_hash: _Optional[str] = ...) -> None: ...

class ApproveLoanRequest(_message.Message):
    __slots__ = ("loan_id", "request_id")
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    request_id: str
    def __init__(self, loan_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RepayLoanRequest(_message.Message):
    __slots__ = ("loan_id", "request_id", "amount_qirat")
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    request_id: str
    amount_qirat: int
    def __init__(self, loan_id: _Optional[str] = ..., request_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ...) -> None: ...

class GetLoanRequest(_message.Message):
    __slots__ = ("loan_id",)
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    def __init__(self, loan_id: _Optional[str] = ...) -> None: ...

class GetLoanResponse(_message.Message):
    __slots__ = ("loan",)
    LOAN_FIELD_NUMBER: _ClassVar[int]
    loan: _wallet_pb2.Loan
    def __init__(self, loan: _Optional[_Union[_wallet_pb2.Loan, _Mapping]] = ...) -> None: ...

class ListLoansRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "state", "borrower_user_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    BORROWER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    state: _wallet_pb2.LoanState
    borrower_user_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[_wallet_pb2.LoanState, str]] = ..., borrower_user_id: _Optional[str] = ...) -> None: ...

class ListLoansResponse(_message.Message):
    __slots__ = ("loans", "next_page_token")
    LOANS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    loans: _containers.RepeatedCompositeFieldContainer[_wallet_pb2.Loan]
    next_page_token: str
    def __init__(self, loans: _Optional[_Iterable[_Union[_wallet_pb2.Loan, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetTrustScoreRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class GetTrustScoreResponse(_message.Message):
    __slots__ = ("user_id", "trust_score", "min_score_for_loan", "loan_eligible", "initial_score", "per_repaid_loan", "max_score", "repaid_loans_to_minimum", "rules")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TRUST_SCORE_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FOR_LOAN_FIELD_NUMBER: _ClassVar[int]
    LOAN_ELIGIBLE_FIELD_NUMBER: _ClassVar[int]
    INITIAL_SCORE_FIELD_NUMBER: _ClassVar[int]
    PER_REPAID_LOAN_FIELD_NUMBER: _ClassVar[int]
    MAX_SCORE_FIELD_NUMBER: _ClassVar[int]
    REPAID_LOANS_TO_MINIMUM_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    trust_score: int
    min_score_for_loan: int
    loan_eligible: bool
    initial_score: int
    per_repaid_loan: int
    max_score: int
    repaid_loans_to_minimum: int
    rules: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user_id: _Optional[str] = ..., trust_score: _Optional[int] = ..., min_score_for_loan: _Optional[int] = ..., loan_eligible: bool = ..., initial_score: _Optional[int] = ..., per_repaid_loan: _Optional[int] = ..., max_score: _Optional[int] = ..., repaid_loans_to_minimum: _Optional[int] = ..., rules: _Optional[_Iterable[str]] = ...) -> None: ...
