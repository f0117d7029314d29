from gx.ledger.v1 import options_pb2 as _options_pb2
from gx.ledger.v1 import resources_pb2 as _resources_pb2
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

class BootstrapSystemResult(_message.Message):
    __slots__ = ("total_supply_qirat", "pools")
    TOTAL_SUPPLY_QIRAT_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    total_supply_qirat: int
    pools: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Account]
    def __init__(self, total_supply_qirat: _Optional[int] = ..., pools: _Optional[_Iterable[_Union[_resources_pb2.Account, _Mapping]]] = ...) -> None: ...

class InitializeCountriesRequest(_message.Message):
    __slots__ = ("countries", "request_id")
    COUNTRIES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    countries: _containers.RepeatedCompositeFieldContainer[CountryShare]
    request_id: str
    def __init__(self, countries: _Optional[_Iterable[_Union[CountryShare, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class InitializeCountriesResult(_message.Message):
    __slots__ = ("country_count", "total_share_bps")
    COUNTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SHARE_BPS_FIELD_NUMBER: _ClassVar[int]
    country_count: int
    total_share_bps: int
    def __init__(self, country_count: _Optional[int] = ..., total_share_bps: _Optional[int] = ...) -> None: ...

class CreateUserRequest(_message.Message):
    __slots__ = ("user_id", "country_code", "date_of_birth", "request_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    country_code: str
    date_of_birth: str
    request_id: str
    def __init__(self, user_id: _Optional[str] = ..., country_code: _Optional[str] = ..., date_of_birth: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateUserResult(_message.Message):
    __slots__ = ("user", "account", "genesis")
    USER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    GENESIS_FIELD_NUMBER: _ClassVar[int]
    user: _resources_pb2.User
    account: _resources_pb2.Account
    genesis: GenesisOutcome
    def __init__(self, user: _Optional[_Union[_resources_pb2.User, _Mapping]] = ..., account: _Optional[_Union[_resources_pb2.Account, _Mapping]] = ..., genesis: _Optional[_Union[GenesisOutcome, _Mapping]] = ...) -> None: ...

class DistributeGenesisRequest(_message.Message):
    __slots__ = ("user_id", "request_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    request_id: str
    def __init__(self, user_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DistributeGenesisResult(_message.Message):
    __slots__ = ("user", "genesis")
    USER_FIELD_NUMBER: _ClassVar[int]
    GENESIS_FIELD_NUMBER: _ClassVar[int]
    user: _resources_pb2.User
    genesis: GenesisOutcome
    def __init__(self, user: _Optional[_Union[_resources_pb2.User, _Mapping]] = ..., genesis: _Optional[_Union[GenesisOutcome, _Mapping]] = ...) -> None: ...

class TransferTokensRequest(_message.Message):
    __slots__ = ("from_account_id", "to_account_id", "amount_qirat", "remark", "request_id")
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    from_account_id: str
    to_account_id: str
    amount_qirat: int
    remark: str
    request_id: str
    def __init__(self, from_account_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., remark: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class TransferTokensResult(_message.Message):
    __slots__ = ("transfer_id", "amount_qirat", "fee_qirat", "fee_bps", "category", "from_balance_qirat", "to_balance_qirat")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    FEE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    FEE_BPS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    FROM_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TO_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    amount_qirat: int
    fee_qirat: int
    fee_bps: int
    category: _resources_pb2.TransferCategory
    from_balance_qirat: int
    to_balance_qirat: int
    def __init__(self, transfer_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., fee_qirat: _Optional[int] = ..., fee_bps: _Optional[int] = ..., category: _Optional[_Union[_resources_pb2.TransferCategory, str]] = ..., from_balance_qirat: _Optional[int] = ..., to_balance_qirat: _Optional[int] = ...) -> None: ...

class FreezeWalletRequest(_message.Message):
    __slots__ = ("account_id", "reason", "request_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reason: str
    request_id: str
    def __init__(self, account_id: _Optional[str] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class FreezeWalletResult(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: _resources_pb2.Account
    def __init__(self, account: _Optional[_Union[_resources_pb2.Account, _Mapping]] = ...) -> None: ...

class UnfreezeWalletRequest(_message.Message):
    __slots__ = ("account_id", "reason", "request_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reason: str
    request_id: str
    def __init__(self, account_id: _Optional[str] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class UnfreezeWalletResult(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: _resources_pb2.Account
    def __init__(self, account: _Optional[_Union[_resources_pb2.Account, _Mapping]] = ...) -> None: ...

class ProposeOrganizationRequest(_message.Message):
    __slots__ = ("organization_id", "name", "type", "country_code", "stakeholder_ids", "proposer_id", "request_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    STAKEHOLDER_IDS_FIELD_NUMBER: _ClassVar[int]
    PROPOSER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    name: str
    type: _resources_pb2.OrganizationType
    country_code: str
    stakeholder_ids: _containers.RepeatedScalarFieldContainer[str]
    proposer_id: str
    request_id: str
    def __init__(self, organization_id: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[_Union[_resources_pb2.OrganizationType, str]] = ..., country_code: _Optional[str] = ..., stakeholder_ids: _Optional[_Iterable[str]] = ..., proposer_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ProposeOrganizationResult(_message.Message):
    __slots__ = ("organization",)
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    organization: _resources_pb2.Organization
    def __init__(self, organization: _Optional[_Union[_resources_pb2.Organization, _Mapping]] = ...) -> None: ...

class ProposeGovernmentOrganizationRequest(_message.Message):
    __slots__ = ("organization_id", "name", "country_code", "stakeholder_ids", "proposer_id", "request_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    STAKEHOLDER_IDS_FIELD_NUMBER: _ClassVar[int]
    PROPOSER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    name: str
    country_code: str
    stakeholder_ids: _containers.RepeatedScalarFieldContainer[str]
    proposer_id: str
    request_id: str
    def __init__(self, organization_id: _Optional[str] = ..., name: _Optional[str] = ..., country_code: _Optional[str] = ..., stakeholder_ids: _Optional[_Iterable[str]] = ..., proposer_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ProposeGovernmentOrganizationResult(_message.Message):
    __slots__ = ("organization",)
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    organization: _resources_pb2.Organization
    def __init__(self, organization: _Optional[_Union[_resources_pb2.Organization, _Mapping]] = ...) -> None: ...

class EndorseMembershipRequest(_message.Message):
    __slots__ = ("organization_id", "stakeholder_id", "request_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    STAKEHOLDER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    stakeholder_id: str
    request_id: str
    def __init__(self, organization_id: _Optional[str] = ..., stakeholder_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class EndorseMembershipResult(_message.Message):
    __slots__ = ("organization",)
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    organization: _resources_pb2.Organization
    def __init__(self, organization: _Optional[_Union[_resources_pb2.Organization, _Mapping]] = ...) -> None: ...

class ActivateOrganizationRequest(_message.Message):
    __slots__ = ("organization_id", "request_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    request_id: str
    def __init__(self, organization_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ActivateOrganizationResult(_message.Message):
    __slots__ = ("organization", "account")
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    organization: _resources_pb2.Organization
    account: _resources_pb2.Account
    def __init__(self, organization: _Optional[_Union[_resources_pb2.Organization, _Mapping]] = ..., account: _Optional[_Union[_resources_pb2.Account, _Mapping]] = ...) -> None: ...

class DefineAuthRuleRequest(_message.Message):
    __slots__ = ("organization_id", "rule", "defined_by", "request_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    DEFINED_BY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    rule: _resources_pb2.AuthRule
    defined_by: str
    request_id: str
    def __init__(self, organization_id: _Optional[str] = ..., rule: _Optional[_Union[_resources_pb2.AuthRule, _Mapping]] = ..., defined_by: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DefineAuthRuleResult(_message.Message):
    __slots__ = ("organization", "multisig_tx")
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    MULTISIG_TX_FIELD_NUMBER: _ClassVar[int]
    organization: _resources_pb2.Organization
    multisig_tx: _resources_pb2.MultisigTx
    def __init__(self, organization: _Optional[_Union[_resources_pb2.Organization, _Mapping]] = ..., multisig_tx: _Optional[_Union[_resources_pb2.MultisigTx, _Mapping]] = ...) -> None: ...

class RemoveAuthRuleRequest(_message.Message):
    __slots__ = ("organization_id", "amount_threshold_qirat", "removed_by", "request_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_THRESHOLD_QIRAT_FIELD_NUMBER: _ClassVar[int]
    REMOVED_BY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    amount_threshold_qirat: int
    removed_by: str
    request_id: str
    def __init__(self, organization_id: _Optional[str] = ..., amount_threshold_qirat: _Optional[int] = ..., removed_by: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RemoveAuthRuleResult(_message.Message):
    __slots__ = ("organization", "multisig_tx")
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    MULTISIG_TX_FIELD_NUMBER: _ClassVar[int]
    organization: _resources_pb2.Organization
    multisig_tx: _resources_pb2.MultisigTx
    def __init__(self, organization: _Optional[_Union[_resources_pb2.Organization, _Mapping]] = ..., multisig_tx: _Optional[_Union[_resources_pb2.MultisigTx, _Mapping]] = ...) -> None: ...

class InitiateMultisigTxRequest(_message.Message):
    __slots__ = ("organization_id", "to_account_id", "amount_qirat", "remark", "initiator_id", "request_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    to_account_id: str
    amount_qirat: int
    remark: str
    initiator_id: str
    request_id: str
    def __init__(self, organization_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., remark: _Optional[str] = ..., initiator_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class InitiateMultisigTxResult(_message.Message):
    __slots__ = ("multisig_tx", "transfer")
    MULTISIG_TX_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    multisig_tx: _resources_pb2.MultisigTx
    transfer: TransferTokensResult
    def __init__(self, multisig_tx: _Optional[_Union[_resources_pb2.MultisigTx, _Mapping]] = ..., transfer: _Optional[_Union[TransferTokensResult, _Mapping]] = ...) -> None: ...

class ApproveMultisigTxRequest(_message.Message):
    __slots__ = ("multisig_tx_id", "approver_id", "request_id")
    MULTISIG_TX_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    multisig_tx_id: str
    approver_id: str
    request_id: str
    def __init__(self, multisig_tx_id: _Optional[str] = ..., approver_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ApproveMultisigTxResult(_message.Message):
    __slots__ = ("multisig_tx", "transfer")
    MULTISIG_TX_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    multisig_tx: _resources_pb2.MultisigTx
    transfer: TransferTokensResult
    def __init__(self, multisig_tx: _Optional[_Union[_resources_pb2.MultisigTx, _Mapping]] = ..., transfer: _Optional[_Union[TransferTokensResult, _Mapping]] = ...) -> None: ...

class ExecuteMultisigTxRequest(_message.Message):
    __slots__ = ("multisig_tx_id", "request_id")
    MULTISIG_TX_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    multisig_tx_id: str
    request_id: str
    def __init__(self, multisig_tx_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ExecuteMultisigTxResult(_message.Message):
    __slots__ = ("multisig_tx", "transfer")
    MULTISIG_TX_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    multisig_tx: _resources_pb2.MultisigTx
    transfer: TransferTokensResult
    def __init__(self, multisig_tx: _Optional[_Union[_resources_pb2.MultisigTx, _Mapping]] = ..., transfer: _Optional[_Union[TransferTokensResult, _Mapping]] = ...) -> None: ...

class ApplyForLoanRequest(_message.Message):
    __slots__ = ("borrower_id", "amount_qirat", "collateral_hash", "purpose", "request_id")
    BORROWER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    COLLATERAL_HASH_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    borrower_id: str
    amount_qirat: int
    collateral_hash: str
    purpose: str
    request_id: str
    def __init__(self, borrower_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., collateral_hash: _Optional[str] = ..., purpose: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ApplyForLoanResult(_message.Message):
    __slots__ = ("loan",)
    LOAN_FIELD_NUMBER: _ClassVar[int]
    loan: _resources_pb2.Loan
    def __init__(self, loan: _Optional[_Union[_resources_pb2.Loan, _Mapping]] = ...) -> None: ...

class ApproveLoanRequest(_message.Message):
    __slots__ = ("loan_id", "approver_id", "request_id")
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    approver_id: str
    request_id: str
    def __init__(self, loan_id: _Optional[str] = ..., approver_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ApproveLoanResult(_message.Message):
    __slots__ = ("loan", "borrower_balance_qirat")
    LOAN_FIELD_NUMBER: _ClassVar[int]
    BORROWER_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    loan: _resources_pb2.Loan
    borrower_balance_qirat: int
    def __init__(self, loan: _Optional[_Union[_resources_pb2.Loan, _Mapping]] = ..., borrower_balance_qirat: _Optional[int] = ...) -> None: ...

class RepayLoanRequest(_message.Message):
    __slots__ = ("loan_id", "amount_qirat", "request_id")
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_QIRAT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    amount_qirat: int
    request_id: str
    def __init__(self, loan_id: _Optional[str] = ..., amount_qirat: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class RepayLoanResult(_message.Message):
    __slots__ = ("loan", "borrower_balance_qirat")
    LOAN_FIELD_NUMBER: _ClassVar[int]
    BORROWER_BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    loan: _resources_pb2.Loan
    borrower_balance_qirat: int
    def __init__(self, loan: _Optional[_Union[_resources_pb2.Loan, _Mapping]] = ..., borrower_balance_qirat: _Optional[int] = ...) -> None: ...

class SubmitProposalRequest(_message.Message):
    __slots__ = ("parameter", "value", "title", "description", "proposer_id", "request_id")
    PARAMETER_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROPOSER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parameter: str
    value: int
    title: str
    description: str
    proposer_id: str
    request_id: str
    def __init__(self, parameter: _Optional[str] = ..., value: _Optional[int] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., proposer_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class SubmitProposalResult(_message.Message):
    __slots__ = ("proposal",)
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    proposal: _resources_pb2.Proposal
    def __init__(self, proposal: _Optional[_Union[_resources_pb2.Proposal, _Mapping]] = ...) -> None: ...

class CastVoteRequest(_message.Message):
    __slots__ = ("proposal_id", "voter_id", "support", "request_id")
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    VOTER_ID_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    voter_id: str
    support: bool
    request_id: str
    def __init__(self, proposal_id: _Optional[str] = ..., voter_id: _Optional[str] = ..., support: bool = ..., request_id: _Optional[str] = ...) -> None: ...

class CastVoteResult(_message.Message):
    __slots__ = ("proposal",)
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    proposal: _resources_pb2.Proposal
    def __init__(self, proposal: _Optional[_Union[_resources_pb2.Proposal, _Mapping]] = ...) -> None: ...

class ExecuteProposalRequest(_message.Message):
    __slots__ = ("proposal_id", "request_id")
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    request_id: str
    def __init__(self, proposal_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ExecuteProposalResult(_message.Message):
    __slots__ = ("proposal",)
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    proposal: _resources_pb2.Proposal
    def __init__(self, proposal: _Optional[_Union[_resources_pb2.Proposal, _Mapping]] = ...) -> None: ...

class UpdateSystemParameterRequest(_message.Message):
    __slots__ = ("parameter", "value", "request_id")
    PARAMETER_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parameter: str
    value: int
    request_id: str
    def __init__(self, parameter: _Optional[str] = ..., value: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpdateSystemParameterResult(_message.Message):
    __slots__ = ("parameter", "previous_value")
    PARAMETER_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VALUE_FIELD_NUMBER: _ClassVar[int]
    parameter: _resources_pb2.SystemParameter
    previous_value: int
    def __init__(self, parameter: _Optional[_Union[_resources_pb2.SystemParameter, _Mapping]] = ..., previous_value: _Optional[int] = ...) -> None: ...

class PauseSystemRequest(_message.Message):
    __slots__ = ("reason", "request_id")
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    reason: str
    request_id: str
    def __init__(self, reason: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class PauseSystemResult(_message.Message):
    __slots__ = ("paused", "reason")
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    paused: bool
    reason: str
    def __init__(self, paused: bool = ..., reason: _Optional[str] = ...) -> None: ...

class ResumeSystemRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class ResumeSystemResult(_message.Message):
    __slots__ = ("paused",)
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    paused: bool
    def __init__(self, paused: bool = ...) -> None: ...

class AppointAdminRequest(_message.Message):
    __slots__ = ("user_id", "appointed_by", "request_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    APPOINTED_BY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    appointed_by: str
    request_id: str
    def __init__(self, user_id: _Optional[str] = ..., appointed_by: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class AppointAdminResult(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: _resources_pb2.User
    def __init__(self, user: _Optional[_Union[_resources_pb2.User, _Mapping]] = ...) -> None: ...

class ActivateTreasuryRequest(_message.Message):
    __slots__ = ("country_code", "request_id")
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    country_code: str
    request_id: str
    def __init__(self, country_code: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ActivateTreasuryResult(_message.Message):
    __slots__ = ("country", "account")
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    country: _resources_pb2.Country
    account: _resources_pb2.Account
    def __init__(self, country: _Optional[_Union[_resources_pb2.Country, _Mapping]] = ..., account: _Optional[_Union[_resources_pb2.Account, _Mapping]] = ...) -> None: ...

class ApplyVelocityTaxRequest(_message.Message):
    __slots__ = ("account_id", "request_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    request_id: str
    def __init__(self, account_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ApplyVelocityTaxResult(_message.Message):
    __slots__ = ("taxed", "skip_reason", "tax_qirat", "treasury_qirat", "charity_qirat", "balance_qirat")
    TAXED_FIELD_NUMBER: _ClassVar[int]
    SKIP_REASON_FIELD_NUMBER: _ClassVar[int]
    TAX_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TREASURY_QIRAT_FIELD_NUMBER: _ClassVar[int]
    CHARITY_QIRAT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    taxed: bool
    skip_reason: str
    tax_qirat: int
    treasury_qirat: int
    charity_qirat: int
    balance_qirat: int
    def __init__(self, taxed: bool = ..., skip_reason: _Optional[str] = ..., tax_qirat: _Optional[int] = ..., treasury_qirat: _Optional[int] = ..., charity_qirat: _Optional[int] = ..., balance_qirat: _Optional[int] = ...) -> None: ...

class CountryShare(_message.Message):
    __slots__ = ("country_code", "name", "share_bps")
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHARE_BPS_FIELD_NUMBER: _ClassVar[int]
    country_code: str
    name: str
    share_bps: int
    def __init__(self, country_code: _Optional[str] = ..., name: _Optional[str] = ..., share_bps: _Optional[int] = ...) -> None: ...

class GenesisOutcome(_message.Message):
    __slots__ = ("paid", "phase", "user_qirat", "treasury_qirat", "treasury_account_id", "skip_reason")
    PAID_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    USER_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TREASURY_QIRAT_FIELD_NUMBER: _ClassVar[int]
    TREASURY_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SKIP_REASON_FIELD_NUMBER: _ClassVar[int]
    paid: bool
    phase: int
    user_qirat: int
    treasury_qirat: int
    treasury_account_id: str
    skip_reason: str
    def __init__(self, paid: bool = ..., phase: _Optional[int] = ..., user_qirat: _Optional[int] = ..., treasury_qirat: _Optional[int] = ..., treasury_account_id: _Optional[str] = ..., skip_reason: _Optional[str] = ...) -> None: ...
