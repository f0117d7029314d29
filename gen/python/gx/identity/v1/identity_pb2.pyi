from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from gx.type.v1 import access_pb2 as _access_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USER_STATE_UNSPECIFIED: _ClassVar[UserState]
    USER_STATE_REGISTERED: _ClassVar[UserState]
    USER_STATE_KYC_PENDING: _ClassVar[UserState]
    USER_STATE_APPROVED_PENDING_ONCHAIN: _ClassVar[UserState]
    USER_STATE_ACTIVE: _ClassVar[UserState]
    USER_STATE_FROZEN: _ClassVar[UserState]
    USER_STATE_REJECTED: _ClassVar[UserState]

class KycState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KYC_STATE_UNSPECIFIED: _ClassVar[KycState]
    KYC_STATE_PENDING: _ClassVar[KycState]
    KYC_STATE_APPROVED: _ClassVar[KycState]
    KYC_STATE_REJECTED: _ClassVar[KycState]

class KycDocumentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KYC_DOCUMENT_TYPE_UNSPECIFIED: _ClassVar[KycDocumentType]
    KYC_DOCUMENT_TYPE_PASSPORT: _ClassVar[KycDocumentType]
    KYC_DOCUMENT_TYPE_NATIONAL_ID: _ClassVar[KycDocumentType]
    KYC_DOCUMENT_TYPE_DRIVING_LICENSE: _ClassVar[KycDocumentType]
    KYC_DOCUMENT_TYPE_PROOF_OF_ADDRESS: _ClassVar[KycDocumentType]
    KYC_DOCUMENT_TYPE_SELFIE: _ClassVar[KycDocumentType]
USER_STATE_UNSPECIFIED: UserState
USER_STATE_REGISTERED: UserState
USER_STATE_KYC_PENDING: UserState
USER_STATE_APPROVED_PENDING_ONCHAIN: UserState
USER_STATE_ACTIVE: UserState
USER_STATE_FROZEN: UserState
USER_STATE_REJECTED: UserState
KYC_STATE_UNSPECIFIED: KycState
KYC_STATE_PENDING: KycState
KYC_STATE_APPROVED: KycState
KYC_STATE_REJECTED: KycState
KYC_DOCUMENT_TYPE_UNSPECIFIED: KycDocumentType
KYC_DOCUMENT_TYPE_PASSPORT: KycDocumentType
KYC_DOCUMENT_TYPE_NATIONAL_ID: KycDocumentType
KYC_DOCUMENT_TYPE_DRIVING_LICENSE: KycDocumentType
KYC_DOCUMENT_TYPE_PROOF_OF_ADDRESS: KycDocumentType
KYC_DOCUMENT_TYPE_SELFIE: KycDocumentType

class User(_message.Message):
    __slots__ = ("user_id", "email", "display_name", "country_code", "roles", "state", "create_time", "update_time", "email_verified", "notification_settings")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_SETTINGS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    email: str
    display_name: str
    country_code: str
    roles: _containers.RepeatedScalarFieldContainer[_access_pb2.Role]
    state: UserState
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    email_verified: bool
    notification_settings: NotificationSettings
    def __init__(self, user_id: _Optional[str] = ..., email: _Optional[str] = ..., display_name: _Optional[str] = ..., country_code: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[_access_pb2.Role, str]]] = ..., state: _Optional[_Union[UserState, str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., email_verified: bool = ..., notification_settings: _Optional[_Union[NotificationSettings, _Mapping]] = ...) -> None: ...

class NotificationSettings(_message.Message):
    __slots__ = ("money_received_email",)
    MONEY_RECEIVED_EMAIL_FIELD_NUMBER: _ClassVar[int]
    money_received_email: bool
    def __init__(self, money_received_email: bool = ...) -> None: ...

class KycDocument(_message.Message):
    __slots__ = ("type", "sha256")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    type: KycDocumentType
    sha256: str
    def __init__(self, type: _Optional[_Union[KycDocumentType, str]] = ..., sha256: _Optional[str] = ...) -> None: ...

class KycSubmission(_message.Message):
    __slots__ = ("submission_id", "user_id", "state", "first_name", "last_name", "date_of_birth", "nationality", "documents", "rejection_reason", "reviewer_user_id", "submit_time", "review_time", "operation")
    SUBMISSION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    NATIONALITY_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    REJECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    REVIEW_TIME_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    submission_id: str
    user_id: str
    state: KycState
    first_name: str
    last_name: str
    date_of_birth: str
    nationality: str
    documents: _containers.RepeatedCompositeFieldContainer[KycDocument]
    rejection_reason: str
    reviewer_user_id: str
    submit_time: _timestamp_pb2.Timestamp
    review_time: _timestamp_pb2.Timestamp
    operation: str
    def __init__(self, submission_id: _Optional[str] = ..., user_id: _Optional[str] = ..., state: _Optional[_Union[KycState, str]] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., date_of_birth: _Optional[str] = ..., nationality: _Optional[str] = ..., documents: _Optional[_Iterable[_Union[KycDocument, _Mapping]]] = ..., rejection_reason: _Optional[str] = ..., reviewer_user_id: _Optional[str] = ..., submit_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., review_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., operation: _Optional[str] = ...) -> None: ...

class WalletSummary(_message.Message):
    __slots__ = ("wallet_id", "balance_qirat", "frozen", "frozen_reason", "trust_score", "update_time")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_QIRAT_FIELD_NUMBER: _ClassVar[int]
    FROZEN_FIELD_NUMBER: _ClassVar[int]
    FROZEN_REASON_FIELD_NUMBER: _ClassVar[int]
    TRUST_SCORE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    balance_qirat: int
    frozen: bool
    frozen_reason: str
    trust_score: int
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, wallet_id: _Optional[str] = ..., balance_qirat: _Optional[int] = ..., frozen: bool = ..., frozen_reason: _Optional[str] = ..., trust_score: _Optional[int] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AuditEvent(_message.Message):
    __slots__ = ("event_id", "create_time", "service", "action", "actor", "subject", "address", "request_id", "trace_id", "details")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    create_time: _timestamp_pb2.Timestamp
    service: str
    action: str
    actor: str
    subject: str
    address: str
    request_id: str
    trace_id: str
    details: _struct_pb2.Struct
    def __init__(self, event_id: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., service: _Optional[str] = ..., action: _Optional[str] = ..., actor: _Optional[str] = ..., subject: _Optional[str] = ..., address: _Optional[str] = ..., request_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
