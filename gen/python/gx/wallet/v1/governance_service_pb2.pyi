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

class SubmitProposalRequest(_message.Message):
    __slots__ = ("request_id", "parameter", "new_value")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_FIELD_NUMBER: _ClassVar[int]
    NEW_VALUE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    parameter: str
    new_value: str
    def __init__(self, request_id: _Optional[str] = ..., parameter: _Optional[str] = ..., new_value: _Optional[str] = ...) -> None: ...

class CastVoteRequest(_message.Message):
    __slots__ = ("proposal_id", "request_id", "support")
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    request_id: str
    support: bool
    def __init__(self, proposal_id: _Optional[str] = ..., request_id: _Optional[str] = ..., support: bool = ...) -> None: ...

class ExecuteProposalRequest(_message.Message):
    __slots__ = ("proposal_id", "request_id")
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    request_id: str
    def __init__(self, proposal_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetProposalRequest(_message.Message):
    __slots__ = ("proposal_id",)
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    def __init__(self, proposal_id: _Optional[str] = ...) -> None: ...

class GetProposalResponse(_message.Message):
    __slots__ = ("proposal", "my_vote")
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    MY_VOTE_FIELD_NUMBER: _ClassVar[int]
    proposal: _wallet_pb2.Proposal
    my_vote: _wallet_pb2.Vote
    def __init__(self, proposal: _Optional[_Union[_wallet_pb2.Proposal, _Mapping]] = ..., my_vote: _Optional[_Union[_wallet_pb2.Vote, _Mapping]] = ...) -> None: ...

class ListProposalsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "state")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    state: _wallet_pb2.ProposalState
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[_wallet_pb2.ProposalState, str]] = ...) -> None: ...

class ListProposalsResponse(_message.Message):
    __slots__ = ("proposals", "next_page_token")
    PROPOSALS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    proposals: _containers.RepeatedCompositeFieldContainer[_wallet_pb2.Proposal]
    next_page_token: str
    def __init__(self, proposals: _Optional[_Iterable[_Union[_wallet_pb2.Proposal, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListVotesRequest(_message.Message):
    __slots__ = ("proposal_id", "page_size", "page_token")
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    page_size: int
    page_token: str
    def __init__(self, proposal_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListVotesResponse(_message.Message):
    __slots__ = ("votes", "next_page_token")
    VOTES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    votes: _containers.RepeatedCompositeFieldContainer[_wallet_pb2.Vote]
    next_page_token: str
    def __init__(self, votes: _Optional[_Iterable[_Union[_wallet_pb2.Vote, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
