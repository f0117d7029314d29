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

class ProposeOrganizationRequest(_message.Message):
    __slots__ = ("request_id", "name", "type", "stakeholder_user_ids")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STAKEHOLDER_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    type: _wallet_pb2.OrganizationType
    stakeholder_user_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[_Union[_wallet_pb2.OrganizationType, str]] = ..., stakeholder_user_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ProposeGovernmentOrganizationRequest(_message.Message):
    __slots__ = ("request_id", "name", "stakeholder_user_ids")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STAKEHOLDER_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    stakeholder_user_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ..., stakeholder_user_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class EndorseMembershipRequest(_message.Message):
    __slots__ = ("org_id", "request_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    request_id: str
    def __init__(self, org_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ActivateOrganizationRequest(_message.Message):
    __slots__ = ("org_id", "request_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    request_id: str
    def __init__(self, org_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DefineAuthRuleRequest(_message.Message):
    __slots__ = ("org_id", "request_id", "amount_threshold_qirat", "required_approvers", "approver_user_ids")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_THRESHOLD_QIRAT_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_APPROVERS_FIELD_NUMBER: _ClassVar[int]
    APPROVER_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    request_id: str
    amount_threshold_qirat: int
    required_approvers: int
    approver_user_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, org_id: _Optional[str] = ..., request_id: _Optional[str] = ..., amount_threshold_qirat: _Optional[int] = ..., required_approvers: _Optional[int] = ..., approver_user_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveAuthRuleRequest(_message.Message):
    __slots__ = ("org_id", "request_id", "amount_threshold_qirat")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_THRESHOLD_QIRAT_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    request_id: str
    amount_threshold_qirat: int
    def __init__(self, org_id: _Optional[str] = ..., request_id: _Optional[str] = ..., amount_threshold_qirat: _Optional[int] = ...) -> None: ...

class InitiateMultisigTransactionRequest(_message.Message):
    __slots__ = ("org_id", "request_id", "to_user_id", "amount_qirat", "remark")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TO_USER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    request_id: str
    to_user_id: str
    amount_qirat: int
    remark: str
    def __init__(self, org_id: _Optional[str] = ..., request_id: _Optional[str] = ..., to_user_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., remark: _Optional[str] = ...) -> None: ...

class ApproveMultisigTransactionRequest(_message.Message):
    __slots__ = ("org_id", "multisig_transaction_id", "request_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    MULTISIG_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    multisig_transaction_id: str
    request_id: str
    def __init__(self, org_id: _Optional[str] = ..., multisig_transaction_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ExecuteMultisigTransactionRequest(_message.Message):
    __slots__ = ("org_id", "multisig_transaction_id", "request_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    MULTISIG_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    multisig_transaction_id: str
    request_id: str
    def __init__(self, org_id: _Optional[str] = ..., multisig_transaction_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetOrganizationRequest(_message.Message):
    __slots__ = ("org_id",)
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    def __init__(self, org_id: _Optional[str] = ...) -> None: ...

class GetOrganizationResponse(_message.Message):
    __slots__ = ("organization",)
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    organization: _wallet_pb2.Organization
    def __init__(self, organization: _Optional[_Union[_wallet_pb2.Organization, _Mapping]] = ...) -> None: ...

class ListOrganizationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "state")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    state: _wallet_pb2.OrganizationState
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[_wallet_pb2.OrganizationState, str]] = ...) -> None: ...

class ListOrganizationsResponse(_message.Message):
    __slots__ = ("organizations", "next_page_token")
    ORGANIZATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    organizations: _containers.RepeatedCompositeFieldContainer[_wallet_pb2.Organization]
    next_page_token: str
    def __init__(self, organizations: _Optional[_Iterable[_Union[_wallet_pb2.Organization, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetMultisigTransactionRequest(_message.Message):
    __slots__ = ("org_id", "multisig_transaction_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    MULTISIG_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    multisig_transaction_id: str
    def __init__(self, org_id: _Optional[str] = ..., multisig_transaction_id: _Optional[str] = ...) -> None: ...

class GetMultisigTransactionResponse(_message.Message):
    __slots__ = ("multisig_transaction",)
    MULTISIG_TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    multisig_transaction: _wallet_pb2.MultisigTransaction
    def __init__(self, multisig_transaction: _Optional[_Union[_wallet_pb2.MultisigTransaction, _Mapping]] = ...) -> None: ...

class ListMultisigTransactionsRequest(_message.Message):
    __slots__ = ("org_id", "page_size", "page_token", "state")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    page_size: int
    page_token: str
    state: _wallet_pb2.MultisigTransactionState
    def __init__(self, org_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[_wallet_pb2.MultisigTransactionState, str]] = ...) -> None: ...

class ListMultisigTransactionsResponse(_message.Message):
    __slots__ = ("multisig_transactions", "next_page_token")
    MULTISIG_TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    multisig_transactions: _containers.RepeatedCompositeFieldContainer[_wallet_pb2.MultisigTransaction]
    next_page_token: str
    def __init__(self, multisig_transactions: _Optional[_Iterable[_Union[_wallet_pb2.MultisigTransaction, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
