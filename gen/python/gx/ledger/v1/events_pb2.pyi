from google.protobuf import timestamp_pb2 as _timestamp_pb2
from gx.ledger.v1 import resources_pb2 as _resources_pb2
from gx.type.v1 import command_pb2 as _command_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LedgerEvents(_message.Message):
    __slots__ = ("events", "request_id", "command_type", "function", "time", "replayed", "replay_of_tx_id")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMAND_TYPE_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    REPLAY_OF_TX_ID_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[LedgerEvent]
    request_id: str
    command_type: _command_pb2.CommandType
    function: str
    time: _timestamp_pb2.Timestamp
    replayed: bool
    replay_of_tx_id: str
    def __init__(self, events: _Optional[_Iterable[_Union[LedgerEvent, _Mapping]]] = ..., request_id: _Optional[str] = ..., command_type: _Optional[_Union[_command_pb2.CommandType, str]] = ..., function: _Optional[str] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., replayed: bool = ..., replay_of_tx_id: _Optional[str] = ...) -> None: ...

class LedgerEvent(_message.Message):
    __slots__ = ("system_bootstrapped", "country_initialized", "user_created", "genesis_distributed", "genesis_skipped", "transfer_completed", "fee_collected", "wallet_frozen", "wallet_unfrozen", "organization_proposed", "membership_endorsed", "organization_activated", "auth_rule_defined", "multisig_tx_initiated", "multisig_tx_approved", "multisig_tx_executed", "loan_applied", "loan_approved", "loan_repaid", "proposal_submitted", "vote_cast", "proposal_executed", "system_parameter_updated", "system_paused", "system_resumed", "admin_appointed", "treasury_activated", "velocity_tax_applied", "auth_rule_removed")
    SYSTEM_BOOTSTRAPPED_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_INITIALIZED_FIELD_NUMBER: _ClassVar[int]
    USER_CREATED_FIELD_NUMBER: _ClassVar[int]
    GENESIS_DISTRIBUTED_FIELD_NUMBER: _ClassVar[int]
    GENESIS_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    FEE_COLLECTED_FIELD_NUMBER: _ClassVar[int]
    WALLET_FROZEN_FIELD_NUMBER: _ClassVar[int]
    WALLET_UNFROZEN_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_PROPOSED_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIP_ENDORSED_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ACTIVATED_FIELD_NUMBER: _ClassVar[int]
    AUTH_RULE_DEFINED_FIELD_NUMBER: _ClassVar[int]
    MULTISIG_TX_INITIATED_FIELD_NUMBER: _ClassVar[int]
    MULTISIG_TX_APPROVED_FIELD_NUMBER: _ClassVar[int]
    MULTISIG_TX_EXECUTED_FIELD_NUMBER: _ClassVar[int]
    LOAN_APPLIED_FIELD_NUMBER: _ClassVar[int]
    LOAN_APPROVED_FIELD_NUMBER: _ClassVar[int]
    LOAN_REPAID_FIELD_NUMBER: _ClassVar[int]
    PROPOSAL_SUBMITTED_FIELD_NUMBER: _ClassVar[int]
    VOTE_CAST_FIELD_NUMBER: _ClassVar[int]
    PROPOSAL_EXECUTED_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_PARAMETER_UPDATED_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_PAUSED_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_RESUMED_FIELD_NUMBER: _ClassVar[int]
    ADMIN_APPOINTED_FIELD_NUMBER: _ClassVar[int]
    TREASURY_ACTIVATED_FIELD_NUMBER: _ClassVar[int]
    VELOCITY_TAX_APPLIED_FIELD_NUMBER: _ClassVar[int]
    AUTH_RULE_REMOVED_FIELD_NUMBER: _ClassVar[int]
    system_bootstrapped: SystemBootstrapped
    country_initialized: CountryInitialized
    user_created: UserCreated
    genesis_distributed: GenesisDistributed
    genesis_skipped: GenesisSkipped
    transfer_completed: TransferCompleted
    fee_collected: FeeCollected
    wallet_frozen: WalletFrozen
    wallet_unfrozen: WalletUnfrozen
    organization_proposed: OrganizationProposed
    membership_endorsed: MembershipEndorsed
    organization_activated: OrganizationActivated
    auth_rule_defined: AuthRuleDefined
    multisig_tx_initiated: MultisigTxInitiated
    multisig_tx_approved: MultisigTxApproved
    multisig_tx_executed: MultisigTxExecuted
    loan_applied: LoanApplied
    loan_approved: LoanApproved
    loan_repaid: LoanRepaid
    proposal_submitted: ProposalSubmitted
    vote_cast: VoteCast
    proposal_executed: ProposalExecuted
    system_parameter_updated: SystemParameterUpdated
    system_paused: SystemPaused
    system_resumed: SystemResumed
    admin_appointed: AdminAppointed
    treasury_activated: TreasuryActivated
    velocity_tax_applied: VelocityTaxApplied
    auth_rule_removed: AuthRuleRemoved
    def __init__(self, system_bootstrapped: _Optional[_Union[SystemBootstrapped, _Mapping]] = ..., country_initialized: _Optional[_Union[CountryInitialized, _Mapping]] = ..., user_created: _Optional[_Union[UserCreated, _Mapping]] = ..., genesis_distributed: _Optional[_Union[GenesisDistributed, _Mapping]] = ..., genesis_skipped: _Optional[_Union[GenesisSkipped, _Mapping]] = ..., transfer_completed: _Optional[_Union[TransferCompleted, _Mapping]] = ..., fee_collected: _Optional[_Union[FeeCollected, _Mapping]] = ..., wallet_frozen: _Optional[_Union[WalletFrozen, _Mapping]] = ..., wallet_unfrozen: _Optional[_Union[WalletUnfrozen, _Mapping]] = ..., organization_proposed: _Optional[_Union[OrganizationProposed, _Mapping]] = ..., membership_endorsed: _Optional[_Union[MembershipEndorsed, _Mapping]] = ..., organization_activated: _Optional[_Union[OrganizationActivated, _Mapping]] = ..., auth_rule_defined: _Optional[_Union[AuthRuleDefined, _Mapping]] = ..., multisig_tx_initiated: _Optional[_Union[MultisigTxInitiated, _Mapping]] = ..., multisig_tx_approved: _Optional[_Union[MultisigTxApproved, _Mapping]] = ..., multisig_tx_executed: _Optional[_Union[MultisigTxExecuted, _Mapping]] = ..., loan_applied: _Optional[_Union[LoanApplied, _Mapping]] = ..., loan_approved: _Optional[_Union[LoanApproved, _Mapping]] = ..., loan_repaid: _Optional[_Union[LoanRepaid, _Mapping]] = ..., proposal_submitted: _Optional[_Union[ProposalSubmitted, _Mapping]] = ..., vote_cast: _Optional[_Union[VoteCast, _Mapping]] = ..., proposal_executed: _Optional[_Union[ProposalExecuted, _Mapping]] = ..., system_parameter_updated: _Optional[_Union[SystemParameterUpdated, _Mapping]] = ..., system_paused: _Optional[_Union[SystemPaused, _Mapping]] = ..., system_resumed: _Optional[_Union[SystemResumed, _Mapping]] = ..., admin_appointed: _Optional[_Union[AdminAppointed, _Mapping]] = ..., treasury_activated: _Optional[_Union[TreasuryActivated, _Mapping]] = ..., velocity_tax_applied: _Optional[_Union[VelocityTaxApplied, _Mapping]] = ..., auth_rule_removed: _Optional[_Union[AuthRuleRemoved, _Mapping]] = ...) -> None: ...

class SystemBootstrapped(_message.Message):
    __slots__ = ("total_supply_qirat", "pools", "parameters")
    TOTAL_SUPPLY_QIRAT_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    total_supply_qirat: int
    pools: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Account]
    parameters: _containers.RepeatedCompositeFieldContainer[_resources_pb2.SystemParameter]
    def __init__(self, total_supply_qirat: _Optional[int] = ..., pools: _Optional[_Iterable[_Union[_resources_pb2.Account, _Mapping]]] = ..., parameters: _Optional[_Iterable[_Union[_resources_pb2.SystemParameter, _Mapping]]] = ...) -> None: ...

class CountryInitialized(_message.Message):
    __slots__ = ("country_code", "name", "share_bps", "treasury_account_id")
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHARE_BPS_FIELD_NUMBER: _ClassVar[int]
    TREASURY_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    country_code: str
    name: str
    share_bps: int
    treasury_account_id: str
    def __init__(self, country_code: _Optional[str] = ..., name: _Optional[str] = ..., share_bps: _Optional[int] = ..., treasury_account_id: _Optional[str] = ...) -> None: ...

class UserCreated(_message.Message):
    __slots__ = ("user_id", "country_code", "date_of_birth", "trust_score")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    TRUST_SCORE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    country_code: str
    date_of_birth: str
    trust_score: int
    def __init__(self, user_id: _Optional[str] = ..., country_code: _Optional[str] = ..., date_of_birth: _Optional[str] = ..., trust_score: _Optional[int] = ...) -> None: ...

class GenesisDistributed(_message.Message):
    __slots__ = ("user_id", "country_code", "phase", "user_qirat", "user_balance_qirat", "treasury_account_id", "treasury_qirat", "treasury_balance_qirat", "user_pool_balance_qirat", "govt_pool_balance_qirat", "user_velocity_timer_start_time", "user_credit", "treasury_credit")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    USER_QIRAT_FIELD_NUMBER: _ClassVar[int]
    USER_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TREASURY_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TREASURY_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TREASURY_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    USER_POOL_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    GOVT_POOL_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    USER_VELOCITY_TIMER_START_TIME_FIELD_NUMBER: _ClassVar[int]
    USER_CREDIT_FIELD_NUMBER: _ClassVar[int]
    TREASURY_CREDIT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    country_code: str
    phase: int
    user_qirat: int
    user_balance_qirat: int
    treasury_account_id: str
    treasury_qirat: int
    treasury_balance_qirat: int
    user_pool_balance_qirat: int
    govt_pool_balance_qirat: int
    user_velocity_timer_start_time: _timestamp_pb2.Timestamp
    user_credit: AccruedCredit
    treasury_credit: AccruedCredit
    def __init__(self, user_id: _Optional[str] = ..., country_code: _Optional[str] = ..., phase: _Optional[int] = ..., user_qirat: _Optional[int] = ..., user_balance_qirat: _Optional[int] = ..., treasury_account_id: _Optional[str] = ..., treasury_qirat: _Optional[int] = ..., treasury_balance_qirat: _Optional[int] = ..., user_pool_balance_qirat: _Optional[int] = ..., govt_pool_balance_qirat: _Optional[int] = ..., user_velocity_timer_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., user_credit: _Optional[_Union[AccruedCredit, _Mapping]] = ..., treasury_credit: _Optional[_Union[AccruedCredit, _Mapping]] = ...) -> None: ...

class GenesisSkipped(_message.Message):
    __slots__ = ("user_id", "reason")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    reason: str
    def __init__(self, user_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class TransferCompleted(_message.Message):
    __slots__ = ("transfer_id", "from_account_id", "to_account_id", "amount_qirat", "fee_qirat", "fee_bps", "category", "remark", "from_balance_qirat", "to_balance_qirat", "multisig_tx_id", "from_velocity_timer_start_time", "to_velocity_timer_start_time", "to_credit")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    FEE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    FEE_BPS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    FROM_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TO_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    MULTISIG_TX_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_VELOCITY_TIMER_START_TIME_FIELD_NUMBER: _ClassVar[int]
    TO_VELOCITY_TIMER_START_TIME_FIELD_NUMBER: _ClassVar[int]
    TO_CREDIT_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    from_account_id: str
    to_account_id: str
    amount_qirat: int
    fee_qirat: int
    fee_bps: int
    category: _resources_pb2.TransferCategory
    remark: str
    from_balance_qirat: int
    to_balance_qirat: int
    multisig_tx_id: str
    from_velocity_timer_start_time: _timestamp_pb2.Timestamp
    to_velocity_timer_start_time: _timestamp_pb2.Timestamp
    to_credit: AccruedCredit
    def __init__(self, transfer_id: _Optional[str] = ..., from_account_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., fee_qirat: _Optional[int] = ..., fee_bps: _Optional[int] = ..., category: _Optional[_Union[_resources_pb2.TransferCategory, str]] = ..., remark: _Optional[str] = ..., from_balance_qirat: _Optional[int] = ..., to_balance_qirat: _Optional[int] = ..., multisig_tx_id: _Optional[str] = ..., from_velocity_timer_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., to_velocity_timer_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., to_credit: _Optional[_Union[AccruedCredit, _Mapping]] = ...) -> None: ...

class FeeCollected(_message.Message):
    __slots__ = ("transfer_id", "payer_account_id", "fee_qirat", "collector_account_id")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    FEE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    COLLECTOR_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    payer_account_id: str
    fee_qirat: int
    collector_account_id: str
    def __init__(self, transfer_id: _Optional[str] = ..., payer_account_id: _Optional[str] = ..., fee_qirat: _Optional[int] = ..., collector_account_id: _Optional[str] = ...) -> None: ...

class WalletFrozen(_message.Message):
    __slots__ = ("account_id", "reason", "velocity_timer_start_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    VELOCITY_TIMER_START_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reason: str
    velocity_timer_start_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., reason: _Optional[str] = ..., velocity_timer_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WalletUnfrozen(_message.Message):
    __slots__ = ("account_id", "reason", "velocity_timer_start_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    VELOCITY_TIMER_START_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reason: str
    velocity_timer_start_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., reason: _Optional[str] = ..., velocity_timer_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrganizationProposed(_message.Message):
    __slots__ = ("organization",)
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    organization: _resources_pb2.Organization
    def __init__(self, organization: _Optional[_Union[_resources_pb2.Organization, _Mapping]] = ...) -> None: ...

class MembershipEndorsed(_message.Message):
    __slots__ = ("organization_id", "stakeholder_id", "status")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    STAKEHOLDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    stakeholder_id: str
    status: _resources_pb2.OrganizationStatus
    def __init__(self, organization_id: _Optional[str] = ..., stakeholder_id: _Optional[str] = ..., status: _Optional[_Union[_resources_pb2.OrganizationStatus, str]] = ...) -> None: ...

class OrganizationActivated(_message.Message):
    __slots__ = ("organization_id", "account")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    account: _resources_pb2.Account
    def __init__(self, organization_id: _Optional[str] = ..., account: _Optional[_Union[_resources_pb2.Account, _Mapping]] = ...) -> None: ...

class AuthRuleDefined(_message.Message):
    __slots__ = ("organization_id", "rule", "defined_by", "multisig_tx_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    DEFINED_BY_FIELD_NUMBER: _ClassVar[int]
    MULTISIG_TX_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    rule: _resources_pb2.AuthRule
    defined_by: str
    multisig_tx_id: str
    def __init__(self, organization_id: _Optional[str] = ..., rule: _Optional[_Union[_resources_pb2.AuthRule, _Mapping]] = ..., defined_by: _Optional[str] = ..., multisig_tx_id: _Optional[str] = ...) -> None: ...

class AuthRuleRemoved(_message.Message):
    __slots__ = ("organization_id", "amount_threshold_qirat", "removed_by", "multisig_tx_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_THRESHOLD_QIRAT_FIELD_NUMBER: _ClassVar[int]
    REMOVED_BY_FIELD_NUMBER: _ClassVar[int]
    MULTISIG_TX_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    amount_threshold_qirat: int
    removed_by: str
    multisig_tx_id: str
    def __init__(self, organization_id: _Optional[str] = ..., amount_threshold_qirat: _Optional[int] = ..., removed_by: _Optional[str] = ..., multisig_tx_id: _Optional[str] = ...) -> None: ...

class MultisigTxInitiated(_message.Message):
    __slots__ = ("multisig_tx",)
    MULTISIG_TX_FIELD_NUMBER: _ClassVar[int]
    multisig_tx: _resources_pb2.MultisigTx
    def __init__(self, multisig_tx: _Optional[_Union[_resources_pb2.MultisigTx, _Mapping]] = ...) -> None: ...

class MultisigTxApproved(_message.Message):
    __slots__ = ("multisig_tx_id", "approver_id", "approvals", "required_approvals", "status")
    MULTISIG_TX_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVER_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVALS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_APPROVALS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    multisig_tx_id: str
    approver_id: str
    approvals: int
    required_approvals: int
    status: _resources_pb2.MultisigTxStatus
    def __init__(self, multisig_tx_id: _Optional[str] = ..., approver_id: _Optional[str] = ..., approvals: _Optional[int] = ..., required_approvals: _Optional[int] = ..., status: _Optional[_Union[_resources_pb2.MultisigTxStatus, str]] = ...) -> None: ...

class MultisigTxExecuted(_message.Message):
    __slots__ = ("multisig_tx_id", "organization_id", "transfer_id")
    MULTISIG_TX_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    multisig_tx_id: str
    organization_id: str
    transfer_id: str
    def __init__(self, multisig_tx_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., transfer_id: _Optional[str] = ...) -> None: ...

class LoanApplied(_message.Message):
    __slots__ = ("loan",)
    LOAN_FIELD_NUMBER: _ClassVar[int]
    loan: _resources_pb2.Loan
    def __init__(self, loan: _Optional[_Union[_resources_pb2.Loan, _Mapping]] = ...) -> None: ...

class LoanApproved(_message.Message):
    __slots__ = ("loan_id", "borrower_id", "approver_id", "amount_qirat", "borrower_balance_qirat", "pool_balance_qirat", "borrower_velocity_timer_start_time", "borrower_credit")
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    BORROWER_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    BORROWER_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    POOL_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    BORROWER_VELOCITY_TIMER_START_TIME_FIELD_NUMBER: _ClassVar[int]
    BORROWER_CREDIT_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    borrower_id: str
    approver_id: str
    amount_qirat: int
    borrower_balance_qirat: int
    pool_balance_qirat: int
    borrower_velocity_timer_start_time: _timestamp_pb2.Timestamp
    borrower_credit: AccruedCredit
    def __init__(self, loan_id: _Optional[str] = ..., borrower_id: _Optional[str] = ..., approver_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., borrower_balance_qirat: _Optional[int] = ..., pool_balance_qirat: _Optional[int] = ..., borrower_velocity_timer_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., borrower_credit: _Optional[_Union[AccruedCredit, _Mapping]] = ...) -> None: ...

class LoanRepaid(_message.Message):
    __slots__ = ("loan_id", "borrower_id", "amount_qirat", "outstanding_qirat", "status", "borrower_balance_qirat", "pool_balance_qirat", "trust_score", "borrower_velocity_timer_start_time", "pool_credit")
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    BORROWER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_QIRAT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BORROWER_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    POOL_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TRUST_SCORE_FIELD_NUMBER: _ClassVar[int]
    BORROWER_VELOCITY_TIMER_START_TIME_FIELD_NUMBER: _ClassVar[int]
    POOL_CREDIT_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    borrower_id: str
    amount_qirat: int
    outstanding_qirat: int
    status: _resources_pb2.LoanStatus
    borrower_balance_qirat: int
    pool_balance_qirat: int
    trust_score: int
    borrower_velocity_timer_start_time: _timestamp_pb2.Timestamp
    pool_credit: AccruedCredit
    def __init__(self, loan_id: _Optional[str] = ..., borrower_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., outstanding_qirat: _Optional[int] = ..., status: _Optional[_Union[_resources_pb2.LoanStatus, str]] = ..., borrower_balance_qirat: _Optional[int] = ..., pool_balance_qirat: _Optional[int] = ..., trust_score: _Optional[int] = ..., borrower_velocity_timer_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., pool_credit: _Optional[_Union[AccruedCredit, _Mapping]] = ...) -> None: ...

class ProposalSubmitted(_message.Message):
    __slots__ = ("proposal",)
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    proposal: _resources_pb2.Proposal
    def __init__(self, proposal: _Optional[_Union[_resources_pb2.Proposal, _Mapping]] = ...) -> None: ...

class VoteCast(_message.Message):
    __slots__ = ("proposal_id", "voter_id", "support", "votes_for", "votes_against")
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    VOTER_ID_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_FIELD_NUMBER: _ClassVar[int]
    VOTES_FOR_FIELD_NUMBER: _ClassVar[int]
    VOTES_AGAINST_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    voter_id: str
    support: bool
    votes_for: int
    votes_against: int
    def __init__(self, proposal_id: _Optional[str] = ..., voter_id: _Optional[str] = ..., support: bool = ..., votes_for: _Optional[int] = ..., votes_against: _Optional[int] = ...) -> None: ...

class ProposalExecuted(_message.Message):
    __slots__ = ("proposal_id", "status", "votes_for", "votes_against")
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VOTES_FOR_FIELD_NUMBER: _ClassVar[int]
    VOTES_AGAINST_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    status: _resources_pb2.ProposalStatus
    votes_for: int
    votes_against: int
    def __init__(self, proposal_id: _Optional[str] = ..., status: _Optional[_Union[_resources_pb2.ProposalStatus, str]] = ..., votes_for: _Optional[int] = ..., votes_against: _Optional[int] = ...) -> None: ...

class SystemParameterUpdated(_message.Message):
    __slots__ = ("parameter", "value", "previous_value", "proposal_id")
    PARAMETER_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VALUE_FIELD_NUMBER: _ClassVar[int]
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    parameter: str
    value: int
    previous_value: int
    proposal_id: str
    def __init__(self, parameter: _Optional[str] = ..., value: _Optional[int] = ..., previous_value: _Optional[int] = ..., proposal_id: _Optional[str] = ...) -> None: ...

class SystemPaused(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class SystemResumed(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AdminAppointed(_message.Message):
    __slots__ = ("user_id", "appointed_by")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    APPOINTED_BY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    appointed_by: str
    def __init__(self, user_id: _Optional[str] = ..., appointed_by: _Optional[str] = ...) -> None: ...

class TreasuryActivated(_message.Message):
    __slots__ = ("country_code", "treasury_account_id")
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    TREASURY_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    country_code: str
    treasury_account_id: str
    def __init__(self, country_code: _Optional[str] = ..., treasury_account_id: _Optional[str] = ...) -> None: ...

class VelocityTaxApplied(_message.Message):
    __slots__ = ("account_id", "tax_qirat", "rate_bps", "balance_qirat", "treasury_account_id", "treasury_qirat", "treasury_balance_qirat", "charity_qirat", "charity_balance_qirat", "velocity_timer_start_time", "treasury_credit", "charity_credit")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TAX_QIRAT_FIELD_NUMBER: _ClassVar[int]
    RATE_BPS_FIELD_NUMBER: _ClassVar[int]
    BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TREASURY_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TREASURY_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TREASURY_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    CHARITY_QIRAT_FIELD_NUMBER: _ClassVar[int]
    CHARITY_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    VELOCITY_TIMER_START_TIME_FIELD_NUMBER: _ClassVar[int]
    TREASURY_CREDIT_FIELD_NUMBER: _ClassVar[int]
    CHARITY_CREDIT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    tax_qirat: int
    rate_bps: int
    balance_qirat: int
    treasury_account_id: str
    treasury_qirat: int
    treasury_balance_qirat: int
    charity_qirat: int
    charity_balance_qirat: int
    velocity_timer_start_time: _timestamp_pb2.Timestamp
    treasury_credit: AccruedCredit
    charity_credit: AccruedCredit
    def __init__(self, account_id: _Optional[str] = ..., tax_qirat: _Optional[int] = ..., rate_bps: _Optional[int] = ..., balance_qirat: _Optional[int] = ..., treasury_account_id: _Optional[str] = ..., treasury_qirat: _Optional[int] = ..., treasury_balance_qirat: _Optional[int] = ..., charity_qirat: _Optional[int] = ..., charity_balance_qirat: _Optional[int] = ..., velocity_timer_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., treasury_credit: _Optional[_Union[AccruedCredit, _Mapping]] = ..., charity_credit: _Optional[_Union[AccruedCredit, _Mapping]] = ...) -> None: ...

class AccruedCredit(_message.Message):
    __slots__ = ("amount_qirat", "velocity_timer", "velocity_tax_threshold_qirat")
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    VELOCITY_TIMER_FIELD_NUMBER: _ClassVar[int]
    VELOCITY_TAX_THRESHOLD_QIRAT_FIELD_NUMBER: _ClassVar[int]
    amount_qirat: int
    velocity_timer: bool
    velocity_tax_threshold_qirat: int
    def __init__(self, amount_qirat: _Optional[int] = ..., velocity_timer: bool = ..., velocity_tax_threshold_qirat: _Optional[int] = ...) -> None: ...
