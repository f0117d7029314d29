from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PartnerState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARTNER_STATE_UNSPECIFIED: _ClassVar[PartnerState]
    PARTNER_STATE_PENDING: _ClassVar[PartnerState]
    PARTNER_STATE_ACTIVE: _ClassVar[PartnerState]
    PARTNER_STATE_SUSPENDED: _ClassVar[PartnerState]

class LicenseTier(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LICENSE_TIER_UNSPECIFIED: _ClassVar[LicenseTier]
    LICENSE_TIER_FREE: _ClassVar[LicenseTier]
    LICENSE_TIER_BASIC: _ClassVar[LicenseTier]
    LICENSE_TIER_PREMIUM: _ClassVar[LicenseTier]
    LICENSE_TIER_ENTERPRISE: _ClassVar[LicenseTier]

class LicenseState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LICENSE_STATE_UNSPECIFIED: _ClassVar[LicenseState]
    LICENSE_STATE_ACTIVE: _ClassVar[LicenseState]
    LICENSE_STATE_SUSPENDED: _ClassVar[LicenseState]
    LICENSE_STATE_EXPIRED: _ClassVar[LicenseState]

class ApiKeyEnvironment(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    API_KEY_ENVIRONMENT_UNSPECIFIED: _ClassVar[ApiKeyEnvironment]
    API_KEY_ENVIRONMENT_LIVE: _ClassVar[ApiKeyEnvironment]
    API_KEY_ENVIRONMENT_TEST: _ClassVar[ApiKeyEnvironment]

class ApiKeyState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    API_KEY_STATE_UNSPECIFIED: _ClassVar[ApiKeyState]
    API_KEY_STATE_ACTIVE: _ClassVar[ApiKeyState]
    API_KEY_STATE_ROTATING: _ClassVar[ApiKeyState]
    API_KEY_STATE_REVOKED: _ClassVar[ApiKeyState]

class UsageGranularity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USAGE_GRANULARITY_UNSPECIFIED: _ClassVar[UsageGranularity]
    USAGE_GRANULARITY_HOUR: _ClassVar[UsageGranularity]
    USAGE_GRANULARITY_DAY: _ClassVar[UsageGranularity]

class WebhookEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEBHOOK_EVENT_TYPE_UNSPECIFIED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_OPERATION_COMMITTED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_OPERATION_FAILED: _ClassVar[WebhookEventType]

class WebhookEndpointState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEBHOOK_ENDPOINT_STATE_UNSPECIFIED: _ClassVar[WebhookEndpointState]
    WEBHOOK_ENDPOINT_STATE_ENABLED: _ClassVar[WebhookEndpointState]
    WEBHOOK_ENDPOINT_STATE_DISABLED: _ClassVar[WebhookEndpointState]

class WebhookDeliveryStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEBHOOK_DELIVERY_STATUS_UNSPECIFIED: _ClassVar[WebhookDeliveryStatus]
    WEBHOOK_DELIVERY_STATUS_PENDING: _ClassVar[WebhookDeliveryStatus]
    WEBHOOK_DELIVERY_STATUS_SUCCEEDED: _ClassVar[WebhookDeliveryStatus]
    WEBHOOK_DELIVERY_STATUS_FAILED: _ClassVar[WebhookDeliveryStatus]
PARTNER_STATE_UNSPECIFIED: PartnerState
PARTNER_STATE_PENDING: PartnerState
PARTNER_STATE_ACTIVE: PartnerState
PARTNER_STATE_SUSPENDED: PartnerState
LICENSE_TIER_UNSPECIFIED: LicenseTier
LICENSE_TIER_FREE: LicenseTier
LICENSE_TIER_BASIC: LicenseTier
LICENSE_TIER_PREMIUM: LicenseTier
LICENSE_TIER_ENTERPRISE: LicenseTier
LICENSE_STATE_UNSPECIFIED: LicenseState
LICENSE_STATE_ACTIVE: LicenseState
LICENSE_STATE_SUSPENDED: LicenseState
LICENSE_STATE_EXPIRED: LicenseState
API_KEY_ENVIRONMENT_UNSPECIFIED: ApiKeyEnvironment
API_KEY_ENVIRONMENT_LIVE: ApiKeyEnvironment
API_KEY_ENVIRONMENT_TEST: ApiKeyEnvironment
API_KEY_STATE_UNSPECIFIED: ApiKeyState
API_KEY_STATE_ACTIVE: ApiKeyState
API_KEY_STATE_ROTATING: ApiKeyState
API_KEY_STATE_REVOKED: ApiKeyState
USAGE_GRANULARITY_UNSPECIFIED: UsageGranularity
USAGE_GRANULARITY_HOUR: UsageGranularity
USAGE_GRANULARITY_DAY: UsageGranularity
WEBHOOK_EVENT_TYPE_UNSPECIFIED: WebhookEventType
WEBHOOK_EVENT_TYPE_OPERATION_COMMITTED: WebhookEventType
WEBHOOK_EVENT_TYPE_OPERATION_FAILED: WebhookEventType
WEBHOOK_ENDPOINT_STATE_UNSPECIFIED: WebhookEndpointState
WEBHOOK_ENDPOINT_STATE_ENABLED: WebhookEndpointState
WEBHOOK_ENDPOINT_STATE_DISABLED: WebhookEndpointState
WEBHOOK_DELIVERY_STATUS_UNSPECIFIED: WebhookDeliveryStatus
WEBHOOK_DELIVERY_STATUS_PENDING: WebhookDeliveryStatus
WEBHOOK_DELIVERY_STATUS_SUCCEEDED: WebhookDeliveryStatus
WEBHOOK_DELIVERY_STATUS_FAILED: WebhookDeliveryStatus

class Partner(_message.Message):
    __slots__ = ("partner_id", "name", "email", "contact_person", "country_code", "state", "owner_user_id", "suspend_reason", "create_time", "update_time")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    CONTACT_PERSON_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    SUSPEND_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    name: str
    email: str
    contact_person: str
    country_code: str
    state: PartnerState
    owner_user_id: str
    suspend_reason: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, partner_id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., contact_person: _Optional[str] = ..., country_code: _Optional[str] = ..., state: _Optional[_Union[PartnerState, str]] = ..., owner_user_id: _Optional[str] = ..., suspend_reason: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class License(_message.Message):
    __slots__ = ("license_id", "partner_id", "tier", "state", "quota_per_minute", "expire_time", "suspend_reason", "create_time", "update_time")
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    QUOTA_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    SUSPEND_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    license_id: str
    partner_id: str
    tier: LicenseTier
    state: LicenseState
    quota_per_minute: int
    expire_time: _timestamp_pb2.Timestamp
    suspend_reason: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, license_id: _Optional[str] = ..., partner_id: _Optional[str] = ..., tier: _Optional[_Union[LicenseTier, str]] = ..., state: _Optional[_Union[LicenseState, str]] = ..., quota_per_minute: _Optional[int] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., suspend_reason: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ApiKey(_message.Message):
    __slots__ = ("key_id", "partner_id", "license_id", "environment", "display_prefix", "display_name", "state", "replaced_by_key_id", "create_time", "expire_time", "revoke_time", "last_used_time")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_PREFIX_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REPLACED_BY_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    REVOKE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_TIME_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    partner_id: str
    license_id: str
    environment: ApiKeyEnvironment
    display_prefix: str
    display_name: str
    state: ApiKeyState
    replaced_by_key_id: str
    create_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    revoke_time: _timestamp_pb2.Timestamp
    last_used_time: _timestamp_pb2.Timestamp
    def __init__(self, key_id: _Optional[str] = ..., partner_id: _Optional[str] = ..., license_id: _Optional[str] = ..., environment: _Optional[_Union[ApiKeyEnvironment, str]] = ..., display_prefix: _Optional[str] = ..., display_name: _Optional[str] = ..., state: _Optional[_Union[ApiKeyState, str]] = ..., replaced_by_key_id: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., revoke_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_used_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UsageBucket(_message.Message):
    __slots__ = ("start_time", "request_count", "error_count", "throttled_count")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    THROTTLED_COUNT_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    request_count: int
    error_count: int
    throttled_count: int
    def __init__(self, start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., request_count: _Optional[int] = ..., error_count: _Optional[int] = ..., throttled_count: _Optional[int] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ("license_id", "start_time", "end_time", "request_count", "error_count", "throttled_count", "byte_count", "granularity", "buckets")
    LICENSE_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    THROTTLED_COUNT_FIELD_NUMBER: _ClassVar[int]
    BYTE_COUNT_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    license_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    request_count: int
    error_count: int
    throttled_count: int
    byte_count: int
    granularity: UsageGranularity
    buckets: _containers.RepeatedCompositeFieldContainer[UsageBucket]
    def __init__(self, license_id: _Optional[str] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., request_count: _Optional[int] = ..., error_count: _Optional[int] = ..., throttled_count: _Optional[int] = ..., byte_count: _Optional[int] = ..., granularity: _Optional[_Union[UsageGranularity, str]] = ..., buckets: _Optional[_Iterable[_Union[UsageBucket, _Mapping]]] = ...) -> None: ...

class WebhookEndpoint(_message.Message):
    __slots__ = ("endpoint_id", "partner_id", "url", "event_types", "description", "state", "secret_prefix", "create_time", "update_time", "previous_secret_expire_time")
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SECRET_PREFIX_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_SECRET_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    endpoint_id: str
    partner_id: str
    url: str
    event_types: _containers.RepeatedScalarFieldContainer[WebhookEventType]
    description: str
    state: WebhookEndpointState
    secret_prefix: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    previous_secret_expire_time: _timestamp_pb2.Timestamp
    def __init__(self, endpoint_id: _Optional[str] = ..., partner_id: _Optional[str] = ..., url: _Optional[str] = ..., event_types: _Optional[_Iterable[_Union[WebhookEventType, str]]] = ..., description: _Optional[str] = ..., state: _Optional[_Union[WebhookEndpointState, str]] = ..., secret_prefix: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., previous_secret_expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WebhookDelivery(_message.Message):
    __slots__ = ("delivery_id", "endpoint_id", "event_id", "event_type", "operation", "status", "attempt_count", "last_response_status", "last_response_body", "next_attempt_time", "create_time", "update_time")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_RESPONSE_STATUS_FIELD_NUMBER: _ClassVar[int]
    LAST_RESPONSE_BODY_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    endpoint_id: str
    event_id: str
    event_type: WebhookEventType
    operation: str
    status: WebhookDeliveryStatus
    attempt_count: int
    last_response_status: int
    last_response_body: str
    next_attempt_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, delivery_id: _Optional[str] = ..., endpoint_id: _Optional[str] = ..., event_id: _Optional[str] = ..., event_type: _Optional[_Union[WebhookEventType, str]] = ..., operation: _Optional[str] = ..., status: _Optional[_Union[WebhookDeliveryStatus, str]] = ..., attempt_count: _Optional[int] = ..., last_response_status: _Optional[int] = ..., last_response_body: _Optional[str] = ..., next_attempt_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
