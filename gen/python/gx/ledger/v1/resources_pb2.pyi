from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AccountType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_TYPE_UNSPECIFIED: _ClassVar[AccountType]
    ACCOUNT_TYPE_USER: _ClassVar[AccountType]
    ACCOUNT_TYPE_ORGANIZATION: _ClassVar[AccountType]
    ACCOUNT_TYPE_SYSTEM_POOL: _ClassVar[AccountType]
    ACCOUNT_TYPE_TREASURY: _ClassVar[AccountType]

class UserStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USER_STATUS_UNSPECIFIED: _ClassVar[UserStatus]
    USER_STATUS_ACTIVE: _ClassVar[UserStatus]

class OrganizationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORGANIZATION_TYPE_UNSPECIFIED: _ClassVar[OrganizationType]
    ORGANIZATION_TYPE_BUSINESS: _ClassVar[OrganizationType]
    ORGANIZATION_TYPE_NGO: _ClassVar[OrganizationType]
    ORGANIZATION_TYPE_GOVERNMENT: _ClassVar[OrganizationType]

class OrganizationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORGANIZATION_STATUS_UNSPECIFIED: _ClassVar[OrganizationStatus]
    ORGANIZATION_STATUS_PENDING_ENDORSEMENT: _ClassVar[OrganizationStatus]
    ORGANIZATION_STATUS_ENDORSED: _ClassVar[OrganizationStatus]
    ORGANIZATION_STATUS_ACTIVE: _ClassVar[OrganizationStatus]

class MultisigTxStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MULTISIG_TX_STATUS_UNSPECIFIED: _ClassVar[MultisigTxStatus]
    MULTISIG_TX_STATUS_PENDING: _ClassVar[MultisigTxStatus]
    MULTISIG_TX_STATUS_APPROVED: _ClassVar[MultisigTxStatus]
    MULTISIG_TX_STATUS_EXECUTED: _ClassVar[MultisigTxStatus]

class LoanStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOAN_STATUS_UNSPECIFIED: _ClassVar[LoanStatus]
    LOAN_STATUS_PENDING_APPROVAL: _ClassVar[LoanStatus]
    LOAN_STATUS_ACTIVE: _ClassVar[LoanStatus]
    LOAN_STATUS_REPAID: _ClassVar[LoanStatus]

class ProposalStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROPOSAL_STATUS_UNSPECIFIED: _ClassVar[ProposalStatus]
    PROPOSAL_STATUS_ACTIVE: _ClassVar[ProposalStatus]
    PROPOSAL_STATUS_EXECUTED: _ClassVar[ProposalStatus]
    PROPOSAL_STATUS_REJECTED: _ClassVar[ProposalStatus]

class TransferCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSFER_CATEGORY_UNSPECIFIED: _ClassVar[TransferCategory]
    TRANSFER_CATEGORY_EXEMPT: _ClassVar[TransferCategory]
    TRANSFER_CATEGORY_P2P_LOCAL: _ClassVar[TransferCategory]
    TRANSFER_CATEGORY_P2P_CROSS_BORDER: _ClassVar[TransferCategory]
    TRANSFER_CATEGORY_MERCHANT_LOCAL: _ClassVar[TransferCategory]
    TRANSFER_CATEGORY_MERCHANT_CROSS_BORDER: _ClassVar[TransferCategory]
    TRANSFER_CATEGORY_GOVERNMENT_LOCAL: _ClassVar[TransferCategory]
    TRANSFER_CATEGORY_GOVERNMENT_CROSS_BORDER: _ClassVar[TransferCategory]
    TRANSFER_CATEGORY_B2B_LOCAL: _ClassVar[TransferCategory]
    TRANSFER_CATEGORY_B2B_CROSS_BORDER: _ClassVar[TransferCategory]
ACCOUNT_TYPE_UNSPECIFIED: AccountType
ACCOUNT_TYPE_USER: AccountType
ACCOUNT_TYPE_ORGANIZATION: AccountType
ACCOUNT_TYPE_SYSTEM_POOL: AccountType
ACCOUNT_TYPE_TREASURY: AccountType
USER_STATUS_UNSPECIFIED: UserStatus
USER_STATUS_ACTIVE: UserStatus
ORGANIZATION_TYPE_UNSPECIFIED: OrganizationType
ORGANIZATION_TYPE_BUSINESS: OrganizationType
ORGANIZATION_TYPE_NGO: OrganizationType
ORGANIZATION_TYPE_GOVERNMENT: OrganizationType
ORGANIZATION_STATUS_UNSPECIFIED: OrganizationStatus
ORGANIZATION_STATUS_PENDING_ENDORSEMENT: OrganizationStatus
ORGANIZATION_STATUS_ENDORSED: OrganizationStatus
ORGANIZATION_STATUS_ACTIVE: OrganizationStatus
MULTISIG_TX_STATUS_UNSPECIFIED: MultisigTxStatus
MULTISIG_TX_STATUS_PENDING: MultisigTxStatus
MULTISIG_TX_STATUS_APPROVED: MultisigTxStatus
MULTISIG_TX_STATUS_EXECUTED: MultisigTxStatus
LOAN_STATUS_UNSPECIFIED: LoanStatus
LOAN_STATUS_PENDING_APPROVAL: LoanStatus
LOAN_STATUS_ACTIVE: LoanStatus
LOAN_STATUS_REPAID: LoanStatus
PROPOSAL_STATUS_UNSPECIFIED: ProposalStatus
PROPOSAL_STATUS_ACTIVE: ProposalStatus
PROPOSAL_STATUS_EXECUTED: ProposalStatus
PROPOSAL_STATUS_REJECTED: ProposalStatus
TRANSFER_CATEGORY_UNSPECIFIED: TransferCategory
TRANSFER_CATEGORY_EXEMPT: TransferCategory
TRANSFER_CATEGORY_P2P_LOCAL: TransferCategory
TRANSFER_CATEGORY_P2P_CROSS_BORDER: TransferCategory
TRANSFER_CATEGORY_MERCHANT_LOCAL: TransferCategory
TRANSFER_CATEGORY_MERCHANT_CROSS_BORDER: TransferCategory
TRANSFER_CATEGORY_GOVERNMENT_LOCAL: TransferCategory
TRANSFER_CATEGORY_GOVERNMENT_CROSS_BORDER: TransferCategory
TRANSFER_CATEGORY_B2B_LOCAL: TransferCategory
TRANSFER_CATEGORY_B2B_CROSS_BORDER: TransferCategory

class Account(_message.Message):
    __slots__ = ("account_id", "type", "country_code", "balance_qirat", "frozen", "velocity_timer_start_time", "create_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    FROZEN_FIELD_NUMBER: _ClassVar[int]
    VELOCITY_TIMER_START_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    type: AccountType
    country_code: str
    balance_qirat: int
    frozen: bool
    velocity_timer_start_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., type: _Optional[_Union[AccountType, str]] = ..., country_code: _Optional[str] = ..., balance_qirat: _Optional[int] = ..., frozen: bool = ..., velocity_timer_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class User(_message.Message):
    __slots__ = ("user_id", "country_code", "date_of_birth", "status", "trust_score", "genesis_done", "genesis_qirat", "admin", "create_time")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRUST_SCORE_FIELD_NUMBER: _ClassVar[int]
    GENESIS_DONE_FIELD_NUMBER: _ClassVar[int]
    GENESIS_QIRAT_FIELD_NUMBER: _ClassVar[int]
    ADMIN_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    country_code: str
    date_of_birth: str
    status: UserStatus
    trust_score: int
    genesis_done: bool
    genesis_qirat: int
    admin: bool
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., country_code: _Optional[str] = ..., date_of_birth: _Optional[str] = ..., status: _Optional[_Union[UserStatus, str]] = ..., trust_score: _Optional[int] = ..., genesis_done: bool = ..., genesis_qirat: _Optional[int] = ..., admin: bool = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Country(_message.Message):
    __slots__ = ("country_code", "name", "share_bps", "genesis_phase", "phase_users", "genesis_users", "treasury_account_id", "treasury_active", "user_count")
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHARE_BPS_FIELD_NUMBER: _ClassVar[int]
    GENESIS_PHASE_FIELD_NUMBER: _ClassVar[int]
    PHASE_USERS_FIELD_NUMBER: _ClassVar[int]
    GENESIS_USERS_FIELD_NUMBER: _ClassVar[int]
    TREASURY_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TREASURY_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    USER_COUNT_FIELD_NUMBER: _ClassVar[int]
    country_code: str
    name: str
    share_bps: int
    genesis_phase: int
    phase_users: int
    genesis_users: int
    treasury_account_id: str
    treasury_active: bool
    user_count: int
    def __init__(self, country_code: _Optional[str] = ..., name: _Optional[str] = ..., share_bps: _Optional[int] = ..., genesis_phase: _Optional[int] = ..., phase_users: _Optional[int] = ..., genesis_users: _Optional[int] = ..., treasury_account_id: _Optional[str] = ..., treasury_active: bool = ..., user_count: _Optional[int] = ...) -> None: ...

class AuthRule(_message.Message):
    __slots__ = ("amount_threshold_qirat", "required_approvals", "approver_ids")
    AMOUNT_THRESHOLD_QIRAT_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_APPROVALS_FIELD_NUMBER: _ClassVar[int]
    APPROVER_IDS_FIELD_NUMBER: _ClassVar[int]
    amount_threshold_qirat: int
    required_approvals: int
    approver_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, amount_threshold_qirat: _Optional[int] = ..., required_approvals: _Optional[int] = ..., approver_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class Organization(_message.Message):
    __slots__ = ("organization_id", "name", "type", "country_code", "stakeholder_ids", "endorser_ids", "status", "auth_rules", "create_time")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    STAKEHOLDER_IDS_FIELD_NUMBER: _ClassVar[int]
    ENDORSER_IDS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AUTH_RULES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    name: str
    type: OrganizationType
    country_code: str
    stakeholder_ids: _containers.RepeatedScalarFieldContainer[str]
    endorser_ids: _containers.RepeatedScalarFieldContainer[str]
    status: OrganizationStatus
    auth_rules: _containers.RepeatedCompositeFieldContainer[AuthRule]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, organization_id: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[_Union[OrganizationType, str]] = ..., country_code: _Optional[str] = ..., stakeholder_ids: _Optional[_Iterable[str]] = ..., endorser_ids: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[OrganizationStatus, str]] = ..., auth_rules: _Optional[_Iterable[_Union[AuthRule, _Mapping]]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MultisigTx(_message.Message):
    __slots__ = ("multisig_tx_id", "organization_id", "to_account_id", "amount_qirat", "remark", "initiator_id", "required_approvals", "approver_ids", "approval_ids", "status", "create_time", "rule_change")
    MULTISIG_TX_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_ID_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_APPROVALS_FIELD_NUMBER: _ClassVar[int]
    APPROVER_IDS_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_IDS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RULE_CHANGE_FIELD_NUMBER: _ClassVar[int]
    multisig_tx_id: str
    organization_id: str
    to_account_id: str
    amount_qirat: int
    remark: str
    initiator_id: str
    required_approvals: int
    approver_ids: _containers.RepeatedScalarFieldContainer[str]
    approval_ids: _containers.RepeatedScalarFieldContainer[str]
    status: MultisigTxStatus
    create_time: _timestamp_pb2.Timestamp
    rule_change: AuthRuleChange
    def __init__(self, multisig_tx_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., remark: _Optional[str] = ..., initiator_id: _Optional[str] = ..., required_approvals: _Optional[int] = ..., approver_ids: _Optional[_Iterable[str]] = ..., approval_ids: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[MultisigTxStatus, str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., rule_change: _Optional[_Union[AuthRuleChange, _Mapping]] = ...) -> None: ...

class AuthRuleChange(_message.Message):
    __slots__ = ("set_rule", "remove_threshold_qirat")
    SET_RULE_FIELD_NUMBER: _ClassVar[int]
    REMOVE_THRESHOLD_QIRAT_FIELD_NUMBER: _ClassVar[int]
    set_rule: AuthRule
    remove_threshold_qirat: int
    def __init__(self, set_rule: _Optional[_Union[AuthRule, _Mapping]] = ..., remove_threshold_qirat: _Optional[int] = ...) -> None: ...

class Loan(_message.Message):
    __slots__ = ("loan_id", "borrower_id", "amount_qirat", "outstanding_qirat", "collateral_hash", "purpose", "status", "approver_id", "create_time", "approve_time")
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    BORROWER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_QIRAT_FIELD_NUMBER: _ClassVar[int]
    COLLATERAL_HASH_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    APPROVER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    APPROVE_TIME_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    borrower_id: str
    amount_qirat: int
    outstanding_qirat: int
    collateral_hash: str
    purpose: str
    status: LoanStatus
    approver_id: str
    create_time: _timestamp_pb2.Timestamp
    approve_time: _timestamp_pb2.Timestamp
    def __init__(self, loan_id: _Optional[str] = ..., borrower_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., outstanding_qirat: _Optional[int] = ..., collateral_hash: _Optional[str] = ..., purpose: _Optional[str] = ..., status: _Optional[_Union[LoanStatus, str]] = ..., approver_id: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., approve_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Proposal(_message.Message):
    __slots__ = ("proposal_id", "parameter", "value", "title", "description", "proposer_id", "votes_for", "votes_against", "status", "create_time", "voting_end_time")
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROPOSER_ID_FIELD_NUMBER: _ClassVar[int]
    VOTES_FOR_FIELD_NUMBER: _ClassVar[int]
    VOTES_AGAINST_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    VOTING_END_TIME_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    parameter: str
    value: int
    title: str
    description: str
    proposer_id: str
    votes_for: int
    votes_against: int
    status: ProposalStatus
    create_time: _timestamp_pb2.Timestamp
    voting_end_time: _timestamp_pb2.Timestamp
    def __init__(self, proposal_id: _Optional[str] = ..., parameter: _Optional[str] = ..., value: _Optional[int] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., proposer_id: _Optional[str] = ..., votes_for: _Optional[int] = ..., votes_against: _Optional[int] = ..., status: _Optional[_Union[ProposalStatus, str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., voting_end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SystemParameter(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: int
    def __init__(self, name: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...

class SystemStatus(_message.Message):
    __slots__ = ("bootstrapped", "paused", "pause_reason", "total_supply_qirat", "country_count", "total_share_bps", "user_count", "pools", "parameters")
    BOOTSTRAPPED_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    PAUSE_REASON_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SUPPLY_QIRAT_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SHARE_BPS_FIELD_NUMBER: _ClassVar[int]
    USER_COUNT_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    bootstrapped: bool
    paused: bool
    pause_reason: str
    total_supply_qirat: int
    country_count: int
    total_share_bps: int
    user_count: int
    pools: _containers.RepeatedCompositeFieldContainer[Account]
    parameters: _containers.RepeatedCompositeFieldContainer[SystemParameter]
    def __init__(self, bootstrapped: bool = ..., paused: bool = ..., pause_reason: _Optional[str] = ..., total_supply_qirat: _Optional[int] = ..., country_count: _Optional[int] = ..., total_share_bps: _Optional[int] = ..., user_count: _Optional[int] = ..., pools: _Optional[_Iterable[_Union[Account, _Mapping]]] = ..., parameters: _Optional[_Iterable[_Union[SystemParameter, _Mapping]]] = ...) -> None: ...
