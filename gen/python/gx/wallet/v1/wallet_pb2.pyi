from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TransactionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSACTION_TYPE_UNSPECIFIED: _ClassVar[TransactionType]
    TRANSACTION_TYPE_SENT: _ClassVar[TransactionType]
    TRANSACTION_TYPE_RECEIVED: _ClassVar[TransactionType]
    TRANSACTION_TYPE_FEE: _ClassVar[TransactionType]
    TRANSACTION_TYPE_GENESIS: _ClassVar[TransactionType]
    TRANSACTION_TYPE_TAX: _ClassVar[TransactionType]
    TRANSACTION_TYPE_LOAN_DISBURSEMENT: _ClassVar[TransactionType]
    TRANSACTION_TYPE_LOAN_REPAYMENT: _ClassVar[TransactionType]
    TRANSACTION_TYPE_ORG_TRANSFER: _ClassVar[TransactionType]

class OrganizationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORGANIZATION_TYPE_UNSPECIFIED: _ClassVar[OrganizationType]
    ORGANIZATION_TYPE_BUSINESS: _ClassVar[OrganizationType]
    ORGANIZATION_TYPE_NGO: _ClassVar[OrganizationType]
    ORGANIZATION_TYPE_GOVERNMENT: _ClassVar[OrganizationType]

class OrganizationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORGANIZATION_STATE_UNSPECIFIED: _ClassVar[OrganizationState]
    ORGANIZATION_STATE_PROPOSED: _ClassVar[OrganizationState]
    ORGANIZATION_STATE_ACTIVE: _ClassVar[OrganizationState]

class MultisigTransactionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MULTISIG_TRANSACTION_STATE_UNSPECIFIED: _ClassVar[MultisigTransactionState]
    MULTISIG_TRANSACTION_STATE_PENDING: _ClassVar[MultisigTransactionState]
    MULTISIG_TRANSACTION_STATE_APPROVED: _ClassVar[MultisigTransactionState]
    MULTISIG_TRANSACTION_STATE_EXECUTED: _ClassVar[MultisigTransactionState]
    MULTISIG_TRANSACTION_STATE_FAILED: _ClassVar[MultisigTransactionState]

class MultisigTransactionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MULTISIG_TRANSACTION_KIND_UNSPECIFIED: _ClassVar[MultisigTransactionKind]
    MULTISIG_TRANSACTION_KIND_PAYMENT: _ClassVar[MultisigTransactionKind]
    MULTISIG_TRANSACTION_KIND_RULE_CHANGE: _ClassVar[MultisigTransactionKind]

class LoanState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOAN_STATE_UNSPECIFIED: _ClassVar[LoanState]
    LOAN_STATE_PENDING_APPROVAL: _ClassVar[LoanState]
    LOAN_STATE_ACTIVE: _ClassVar[LoanState]
    LOAN_STATE_REPAID: _ClassVar[LoanState]

class ProposalState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROPOSAL_STATE_UNSPECIFIED: _ClassVar[ProposalState]
    PROPOSAL_STATE_OPEN: _ClassVar[ProposalState]
    PROPOSAL_STATE_EXECUTED: _ClassVar[ProposalState]
    PROPOSAL_STATE_REJECTED: _ClassVar[ProposalState]

class TreasuryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TREASURY_STATE_UNSPECIFIED: _ClassVar[TreasuryState]
    TREASURY_STATE_LOCKED: _ClassVar[TreasuryState]
    TREASURY_STATE_ACTIVE: _ClassVar[TreasuryState]
TRANSACTION_TYPE_UNSPECIFIED: TransactionType
TRANSACTION_TYPE_SENT: TransactionType
TRANSACTION_TYPE_RECEIVED: TransactionType
TRANSACTION_TYPE_FEE: TransactionType
TRANSACTION_TYPE_GENESIS: TransactionType
TRANSACTION_TYPE_TAX: TransactionType
TRANSACTION_TYPE_LOAN_DISBURSEMENT: TransactionType
TRANSACTION_TYPE_LOAN_REPAYMENT: TransactionType
TRANSACTION_TYPE_ORG_TRANSFER: TransactionType
ORGANIZATION_TYPE_UNSPECIFIED: OrganizationType
ORGANIZATION_TYPE_BUSINESS: OrganizationType
ORGANIZATION_TYPE_NGO: OrganizationType
ORGANIZATION_TYPE_GOVERNMENT: OrganizationType
ORGANIZATION_STATE_UNSPECIFIED: OrganizationState
ORGANIZATION_STATE_PROPOSED: OrganizationState
ORGANIZATION_STATE_ACTIVE: OrganizationState
MULTISIG_TRANSACTION_STATE_UNSPECIFIED: MultisigTransactionState
MULTISIG_TRANSACTION_STATE_PENDING: MultisigTransactionState
MULTISIG_TRANSACTION_STATE_APPROVED: MultisigTransactionState
MULTISIG_TRANSACTION_STATE_EXECUTED: MultisigTransactionState
MULTISIG_TRANSACTION_STATE_FAILED: MultisigTransactionState
MULTISIG_TRANSACTION_KIND_UNSPECIFIED: MultisigTransactionKind
MULTISIG_TRANSACTION_KIND_PAYMENT: MultisigTransactionKind
MULTISIG_TRANSACTION_KIND_RULE_CHANGE: MultisigTransactionKind
LOAN_STATE_UNSPECIFIED: LoanState
LOAN_STATE_PENDING_APPROVAL: LoanState
LOAN_STATE_ACTIVE: LoanState
LOAN_STATE_REPAID: LoanState
PROPOSAL_STATE_UNSPECIFIED: ProposalState
PROPOSAL_STATE_OPEN: ProposalState
PROPOSAL_STATE_EXECUTED: ProposalState
PROPOSAL_STATE_REJECTED: ProposalState
TREASURY_STATE_UNSPECIFIED: TreasuryState
TREASURY_STATE_LOCKED: TreasuryState
TREASURY_STATE_ACTIVE: TreasuryState

class Wallet(_message.Message):
    __slots__ = ("wallet_id", "user_id", "balance_qirat", "frozen", "frozen_reason", "country_code", "genesis_received", "block_number", "create_time", "update_time")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    FROZEN_FIELD_NUMBER: _ClassVar[int]
    FROZEN_REASON_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    GENESIS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    BLOCK_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    user_id: str
    balance_qirat: int
    frozen: bool
    frozen_reason: str
    country_code: str
    genesis_received: bool
    block_number: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, wallet_id: _Optional[str] = ..., user_id: _Optional[str] = ..., balance_qirat: _Optional[int] = ..., frozen: bool = ..., frozen_reason: _Optional[str] = ..., country_code: _Optional[str] = ..., genesis_received: bool = ..., block_number: _Optional[int] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Transaction(_message.Message):
    __slots__ = ("tx_id", "wallet_id", "type", "amount_qirat", "fee_qirat", "counterparty", "remark", "block_number", "fabric_tx_id", "time", "operation")
    TX_ID_FIELD_NUMBER: _ClassVar[int]
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    FEE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    BLOCK_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FABRIC_TX_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    tx_id: str
    wallet_id: str
    type: TransactionType
    amount_qirat: int
    fee_qirat: int
    counterparty: str
    remark: str
    block_number: int
    fabric_tx_id: str
    time: _timestamp_pb2.Timestamp
    operation: str
    def __init__(self, tx_id: _Optional[str] = ..., wallet_id: _Optional[str] = ..., type: _Optional[_Union[TransactionType, str]] = ..., amount_qirat: _Optional[int] = ..., fee_qirat: _Optional[int] = ..., counterparty: _Optional[str] = ..., remark: _Optional[str] = ..., block_number: _Optional[int] = ..., fabric_tx_id: _Optional[str] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., operation: _Optional[str] = ...) -> None: ...

class Organization(_message.Message):
    __slots__ = ("org_id", "name", "type", "state", "stakeholder_user_ids", "endorser_user_ids", "auth_rules", "balance_qirat", "create_time", "activate_time")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STAKEHOLDER_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    ENDORSER_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    AUTH_RULES_FIELD_NUMBER: _ClassVar[int]
    BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTIVATE_TIME_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    name: str
    type: OrganizationType
    state: OrganizationState
    stakeholder_user_ids: _containers.RepeatedScalarFieldContainer[str]
    endorser_user_ids: _containers.RepeatedScalarFieldContainer[str]
    auth_rules: _containers.RepeatedCompositeFieldContainer[AuthRule]
    balance_qirat: int
    create_time: _timestamp_pb2.Timestamp
    activate_time: _timestamp_pb2.Timestamp
    def __init__(self, org_id: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[_Union[OrganizationType, str]] = ..., state: _Optional[_Union[OrganizationState, str]] = ..., stakeholder_user_ids: _Optional[_Iterable[str]] = ..., endorser_user_ids: _Optional[_Iterable[str]] = ..., auth_rules: _Optional[_Iterable[_Union[AuthRule, _Mapping]]] = ..., balance_qirat: _Optional[int] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., activate_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AuthRule(_message.Message):
    __slots__ = ("rule_id", "amount_threshold_qirat", "required_approvers", "approver_user_ids")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_THRESHOLD_QIRAT_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_APPROVERS_FIELD_NUMBER: _ClassVar[int]
    APPROVER_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    amount_threshold_qirat: int
    required_approvers: int
    approver_user_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, rule_id: _Optional[str] = ..., amount_threshold_qirat: _Optional[int] = ..., required_approvers: _Optional[int] = ..., approver_user_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class MultisigTransaction(_message.Message):
    __slots__ = ("multisig_transaction_id", "org_id", "initiator_user_id", "to_user_id", "amount_qirat", "remark", "state", "required_approvers", "approver_user_ids", "failure_reason", "create_time", "execute_time", "kind", "rule_change")
    MULTISIG_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    TO_USER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_APPROVERS_FIELD_NUMBER: _ClassVar[int]
    APPROVER_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXECUTE_TIME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RULE_CHANGE_FIELD_NUMBER: _ClassVar[int]
    multisig_transaction_id: str
    org_id: str
    initiator_user_id: str
    to_user_id: str
    amount_qirat: int
    remark: str
    state: MultisigTransactionState
    required_approvers: int
    approver_user_ids: _containers.RepeatedScalarFieldContainer[str]
    failure_reason: str
    create_time: _timestamp_pb2.Timestamp
    execute_time: _timestamp_pb2.Timestamp
    kind: MultisigTransactionKind
    rule_change: AuthRuleChange
    def __init__(self, multisig_transaction_id: _Optional[str] = ..., org_id: _Optional[str] = ..., initiator_user_id: _Optional[str] = ..., to_user_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., remark: _Optional[str] = ..., state: _Optional[_Union[MultisigTransactionState, str]] = ..., required_approvers: _Optional[int] = ..., approver_user_ids: _Optional[_Iterable[str]] = ..., failure_reason: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., execute_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[MultisigTransactionKind, str]] = ..., rule_change: _Optional[_Union[AuthRuleChange, _Mapping]] = ...) -> None: ...

class AuthRuleChange(_message.Message):
    __slots__ = ("remove", "rule")
    REMOVE_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    remove: bool
    rule: AuthRule
    def __init__(self, remove: bool = ..., rule: _Optional[_Union[AuthRule, _Mapping]] = ...) -> None: ...

class Loan(_message.Message):
    __slots__ = ("loan_id", "borrower_user_id", "amount_qirat", "outstanding_qirat", "collateral_hash", "state", "approver_user_id", "create_time", "approve_time", "repay_time")
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    BORROWER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_QIRAT_FIELD_NUMBER: _ClassVar[int]
    COLLATERAL_HASH_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    APPROVER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    APPROVE_TIME_FIELD_NUMBER: _ClassVar[int]
    REPAY_TIME_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    borrower_user_id: str
    amount_qirat: int
    outstanding_qirat: int
    collateral_hash: str
    state: LoanState
    approver_user_id: str
    create_time: _timestamp_pb2.Timestamp
    approve_time: _timestamp_pb2.Timestamp
    repay_time: _timestamp_pb2.Timestamp
    def __init__(self, loan_id: _Optional[str] = ..., borrower_user_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., outstanding_qirat: _Optional[int] = ..., collateral_hash: _Optional[str] = ..., state: _Optional[_Union[LoanState, str]] = ..., approver_user_id: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., approve_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., repay_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Proposal(_message.Message):
    __slots__ = ("proposal_id", "proposer_user_id", "parameter", "new_value", "state", "votes_for", "votes_against", "voting_end_time", "create_time", "close_time")
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    PROPOSER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_FIELD_NUMBER: _ClassVar[int]
    NEW_VALUE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    VOTES_FOR_FIELD_NUMBER: _ClassVar[int]
    VOTES_AGAINST_FIELD_NUMBER: _ClassVar[int]
    VOTING_END_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    proposer_user_id: str
    parameter: str
    new_value: str
    state: ProposalState
    votes_for: int
    votes_against: int
    voting_end_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    close_time: _timestamp_pb2.Timestamp
    def __init__(self, proposal_id: _Optional[str] = ..., proposer_user_id: _Optional[str] = ..., parameter: _Optional[str] = ..., new_value: _Optional[str] = ..., state: _Optional[_Union[ProposalState, str]] = ..., votes_for: _Optional[int] = ..., votes_against: _Optional[int] = ..., voting_end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., close_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Vote(_message.Message):
    __slots__ = ("proposal_id", "voter_user_id", "support", "time")
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    VOTER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    voter_user_id: str
    support: bool
    time: _timestamp_pb2.Timestamp
    def __init__(self, proposal_id: _Optional[str] = ..., voter_user_id: _Optional[str] = ..., support: bool = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SystemParameter(_message.Message):
    __slots__ = ("name", "value", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Pool(_message.Message):
    __slots__ = ("account_id", "balance_qirat")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    balance_qirat: int
    def __init__(self, account_id: _Optional[str] = ..., balance_qirat: _Optional[int] = ...) -> None: ...

class SystemStatus(_message.Message):
    __slots__ = ("bootstrapped", "paused", "pause_reason", "parameters", "total_supply_qirat", "circulating_supply_qirat", "pools", "country_count", "user_count", "block_number", "update_time")
    BOOTSTRAPPED_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    PAUSE_REASON_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SUPPLY_QIRAT_FIELD_NUMBER: _ClassVar[int]
    CIRCULATING_SUPPLY_QIRAT_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    USER_COUNT_FIELD_NUMBER: _ClassVar[int]
    BLOCK_NUMBER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    bootstrapped: bool
    paused: bool
    pause_reason: str
    parameters: _containers.RepeatedCompositeFieldContainer[SystemParameter]
    total_supply_qirat: int
    circulating_supply_qirat: int
    pools: _containers.RepeatedCompositeFieldContainer[Pool]
    country_count: int
    user_count: int
    block_number: int
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, bootstrapped: bool = ..., paused: bool = ..., pause_reason: _Optional[str] = ..., parameters: _Optional[_Iterable[_Union[SystemParameter, _Mapping]]] = ..., total_supply_qirat: _Optional[int] = ..., circulating_supply_qirat: _Optional[int] = ..., pools: _Optional[_Iterable[_Union[Pool, _Mapping]]] = ..., country_count: _Optional[int] = ..., user_count: _Optional[int] = ..., block_number: _Optional[int] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Treasury(_message.Message):
    __slots__ = ("country_code", "account_id", "balance_qirat", "state", "activate_time")
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ACTIVATE_TIME_FIELD_NUMBER: _ClassVar[int]
    country_code: str
    account_id: str
    balance_qirat: int
    state: TreasuryState
    activate_time: _timestamp_pb2.Timestamp
    def __init__(self, country_code: _Optional[str] = ..., account_id: _Optional[str] = ..., balance_qirat: _Optional[int] = ..., state: _Optional[_Union[TreasuryState, str]] = ..., activate_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Country(_message.Message):
    __slots__ = ("country_code", "name", "population_share_bps", "genesis_user_count", "genesis_phase", "treasury_state")
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    POPULATION_SHARE_BPS_FIELD_NUMBER: _ClassVar[int]
    GENESIS_USER_COUNT_FIELD_NUMBER: _ClassVar[int]
    GENESIS_PHASE_FIELD_NUMBER: _ClassVar[int]
    TREASURY_STATE_FIELD_NUMBER: _ClassVar[int]
    country_code: str
    name: str
    population_share_bps: int
    genesis_user_count: int
    genesis_phase: int
    treasury_state: TreasuryState
    def __init__(self, country_code: _Optional[str] = ..., name: _Optional[str] = ..., population_share_bps: _Optional[int] = ..., genesis_user_count: _Optional[int] = ..., genesis_phase: _Optional[int] = ..., treasury_state: _Optional[_Union[TreasuryState, str]] = ...) -> None: ...
